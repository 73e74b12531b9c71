use super::*;
use crate::config::Config;
use crate::wire::udp::{ConnectionId, PROTOCOL_ID};

fn setup() -> (Tracker, ConnectionIds) {
    (
        Tracker::new(&Config::default()).unwrap(),
        ConnectionIds::new(),
    )
}

fn connect(t: &mut Tracker, ids: &ConnectionIds, from: SocketAddr) -> ConnectionId {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&PROTOCOL_ID.to_be_bytes());
    p[12..16].copy_from_slice(&77u32.to_be_bytes());
    let mut out = [0u8; MAX_REPLY_LEN];
    assert_eq!(handle(t, ids, &p, from, Secs(0), &mut out), 16);
    assert_eq!(&out[..8], &[0, 0, 0, 0, 0, 0, 0, 77]);
    ConnectionId(u64::from_be_bytes(out[8..16].try_into().unwrap()))
}

fn announce_packet(cid: ConnectionId, hash: u8, left: u64, event: u32, port: u16) -> Vec<u8> {
    let mut p = vec![0u8; 98];
    p[..8].copy_from_slice(&cid.0.to_be_bytes());
    p[8..12].copy_from_slice(&1u32.to_be_bytes());
    p[12..16].copy_from_slice(&5u32.to_be_bytes());
    p[16..36].fill(hash);
    p[64..72].copy_from_slice(&left.to_be_bytes());
    p[80..84].copy_from_slice(&event.to_be_bytes());
    p[92..96].copy_from_slice(&(-1i32).to_be_bytes());
    p[96..98].copy_from_slice(&port.to_be_bytes());
    p
}

#[test]
fn announce_returns_other_peers_of_the_same_family() {
    let (mut t, ids) = setup();
    let a: SocketAddr = "10.0.0.1:1000".parse().unwrap();
    let b: SocketAddr = "10.0.0.2:2000".parse().unwrap();
    let mut out = [0u8; MAX_REPLY_LEN];
    let ca = connect(&mut t, &ids, a);
    let n = handle(
        &mut t,
        &ids,
        &announce_packet(ca, 1, 0, 2, 6881),
        a,
        Secs(1),
        &mut out,
    );
    assert_eq!(n, 20, "alone: header only");
    let cb = connect(&mut t, &ids, b);
    let n = handle(
        &mut t,
        &ids,
        &announce_packet(cb, 1, 5, 2, 6882),
        b,
        Secs(1),
        &mut out,
    );
    assert_eq!(n, 26);
    assert_eq!(
        &out[12..20],
        &[0, 0, 0, 1, 0, 0, 0, 1],
        "1 leecher, 1 seeder"
    );
    assert_eq!(
        &out[20..26],
        &[10, 0, 0, 1, 0x1a, 0xe1],
        "source ip, announced port"
    );
}

#[test]
fn bad_connection_id_gets_a_short_error_and_garbage_gets_nothing() {
    let (mut t, ids) = setup();
    let a: SocketAddr = "10.0.0.1:1000".parse().unwrap();
    let mut out = [0u8; MAX_REPLY_LEN];
    let p = announce_packet(ConnectionId(42), 1, 0, 0, 6881);
    let n = handle(&mut t, &ids, &p, a, Secs(1), &mut out);
    assert!(n > 8 && n <= p.len());
    assert_eq!(&out[..4], &[0, 0, 0, 3]);
    assert_eq!(t.stats.udp_bad_connection_id, 1);
    // A connection id from another address is as bad.
    let other = connect(&mut t, &ids, "10.0.0.9:1".parse().unwrap());
    let p = announce_packet(other, 1, 0, 0, 6881);
    handle(&mut t, &ids, &p, a, Secs(1), &mut out);
    assert_eq!(t.stats.udp_bad_connection_id, 2);
    assert_eq!(t.swarms.peer_count(), 0);
    for len in 0..120 {
        let junk: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(handle(&mut t, &ids, &junk, a, Secs(1), &mut out), 0);
    }
    // A short scrape with a bad id: the error is cut to the request's length.
    let mut s = vec![0u8; 36];
    s[11] = 2;
    let n = handle(&mut t, &ids, &s, a, Secs(1), &mut out);
    assert!(n <= 36);
}

#[test]
fn reply_fits_one_datagram_and_scrape_counts() {
    let (mut t, ids) = setup();
    let mut out = [0u8; MAX_REPLY_LEN];
    for i in 0..300u32 {
        let from = SocketAddr::new(std::net::Ipv4Addr::from(0x0a01_0000 + i).into(), 1);
        let c = connect(&mut t, &ids, from);
        handle(
            &mut t,
            &ids,
            &announce_packet(c, 3, 1, 0, 1),
            from,
            Secs(1),
            &mut out,
        );
    }
    let from: SocketAddr = "10.9.9.9:1".parse().unwrap();
    let c = connect(&mut t, &ids, from);
    let mut p = announce_packet(c, 3, 1, 0, 1);
    p[92..96].copy_from_slice(&1000u32.to_be_bytes());
    let n = handle(&mut t, &ids, &p, from, Secs(1), &mut out);
    assert_eq!(n, 20 + 6 * 196, "capped to fit 1200 bytes");
    let v6: SocketAddr = "[2001:db8::1]:5".parse().unwrap();
    let c6 = connect(&mut t, &ids, v6);
    let n = handle(
        &mut t,
        &ids,
        &announce_packet(c6, 3, 1, 0, 9),
        v6,
        Secs(1),
        &mut out,
    );
    assert_eq!(n, 20, "an IPv6 client gets IPv6 peers only");
    let mut s = vec![0u8; 16 + 40];
    s[..8].copy_from_slice(&c.0.to_be_bytes());
    s[11] = 2;
    s[16..36].fill(3);
    s[36..56].fill(4);
    let n = handle(&mut t, &ids, &s, from, Secs(1), &mut out);
    assert_eq!(n, 8 + 24);
    assert_eq!(
        &out[8..20],
        &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 46],
        "0 seeds, 0 done, 302 leechers"
    );
    assert_eq!(&out[20..32], &[0; 12], "unknown torrent: zeros");
}

#[test]
fn interval_is_randomised_as_opentracker_does() {
    let (mut t, _) = setup();
    let (mut lo, mut hi) = (u32::MAX, 0);
    for _ in 0..20_000 {
        let i = t.interval();
        lo = lo.min(i);
        hi = hi.max(i);
    }
    assert_eq!((lo, hi), (1620, 1979));
}
