//! BEP 15 over real sockets: the binary on loopback, IPv4 and IPv6.

mod common;

use common::{udp_client, Server};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

const CONFIG: &str = "listen.tcp_udp 127.0.0.1:0\nlisten.tcp_udp [::1]:0\n";
const MAGIC: u64 = 0x0417_2710_1980;

fn exchange(s: &UdpSocket, packet: &[u8]) -> Vec<u8> {
    s.send(packet).expect("send");
    let mut buf = [0u8; 2048];
    let n = s.recv(&mut buf).expect("reply within the timeout");
    buf[..n].to_vec()
}

fn connect(s: &UdpSocket) -> [u8; 8] {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&MAGIC.to_be_bytes());
    p[12..16].copy_from_slice(&0x1234u32.to_be_bytes());
    let r = exchange(s, &p);
    assert_eq!(r.len(), 16);
    assert_eq!(&r[..8], &[0, 0, 0, 0, 0, 0, 0x12, 0x34]);
    r[8..16].try_into().unwrap()
}

fn announce(cid: [u8; 8], hash: u8, left: u64, event: u32, port: u16, numwant: i32) -> Vec<u8> {
    let mut p = vec![0u8; 98];
    p[..8].copy_from_slice(&cid);
    p[8..12].copy_from_slice(&1u32.to_be_bytes());
    p[12..16].copy_from_slice(&0xabcdu32.to_be_bytes());
    p[16..36].fill(hash);
    p[36..56].fill(b'P');
    p[64..72].copy_from_slice(&left.to_be_bytes());
    p[80..84].copy_from_slice(&event.to_be_bytes());
    p[92..96].copy_from_slice(&numwant.to_be_bytes());
    p[96..98].copy_from_slice(&port.to_be_bytes());
    p
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

fn scrape(cid: [u8; 8], hashes: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 16];
    p[..8].copy_from_slice(&cid);
    p[8..12].copy_from_slice(&2u32.to_be_bytes());
    p[12..16].copy_from_slice(&7u32.to_be_bytes());
    for h in hashes {
        p.extend_from_slice(&[*h; 20]);
    }
    p
}

#[test]
fn announce_and_scrape_over_ipv4_and_ipv6() {
    let server = Server::start(CONFIG);
    for (addr, h) in [(server.udp_v4(), 1u8), (server.udp_v6(), 11u8)] {
        let a = udp_client(addr);
        let b = udp_client(addr);
        let ca = connect(&a);
        let r = exchange(&a, &announce(ca, h, 0, 2, 6881, -1));
        assert_eq!(be32(&r[0..]), 1, "announce action");
        assert_eq!(be32(&r[4..]), 0xabcd, "transaction id echoed");
        assert!(
            (1620..=1979).contains(&be32(&r[8..])),
            "interval ~1800 randomised"
        );
        assert_eq!(
            (be32(&r[12..]), be32(&r[16..])),
            (0, 1),
            "0 leechers, 1 seeder"
        );
        assert_eq!(r.len(), 20, "a peer is never sent itself");
        let cb = connect(&b);
        let r = exchange(&b, &announce(cb, h, 100, 2, 6882, 50));
        let entry = if addr.is_ipv4() { 6 } else { 18 };
        assert_eq!(
            r.len(),
            20 + entry,
            "the seeder, in the family of the requester"
        );
        let ip_len = entry - 2;
        let loopback: Vec<u8> = match addr {
            std::net::SocketAddr::V4(_) => vec![127, 0, 0, 1],
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.octets().to_vec(),
        };
        assert_eq!(&r[20..20 + ip_len], &loopback[..]);
        assert_eq!(
            &r[20 + ip_len..],
            &6881u16.to_be_bytes(),
            "the announced port"
        );
        // Completed, then scrape: 2 seeders, 1 download; an unknown hash gives zeros.
        exchange(&b, &announce(cb, h, 0, 1, 6882, 50));
        let r = exchange(&b, &scrape(cb, &[h, 2]));
        assert_eq!(r.len(), 8 + 24);
        assert_eq!(be32(&r[0..]), 2);
        assert_eq!((be32(&r[8..]), be32(&r[12..]), be32(&r[16..])), (2, 1, 0));
        assert_eq!(&r[20..32], &[0; 12]);
        // Stopped: the peer leaves the swarm.
        exchange(&a, &announce(ca, h, 0, 3, 6881, -1));
        let r = exchange(&b, &scrape(cb, &[h]));
        assert_eq!(be32(&r[8..]), 1);
    }
}

#[test]
fn garbage_is_ignored_and_bad_connection_ids_get_short_errors() {
    let server = Server::start(CONFIG);
    let s = udp_client(server.udp_v4());
    // Garbage and truncated packets of every length up to 120: no reply at all.
    for len in 0..120usize {
        let junk: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
        s.send(&junk).unwrap();
    }
    let mut connect_truncated = MAGIC.to_be_bytes().to_vec();
    connect_truncated.extend_from_slice(&[0, 0, 0]);
    s.send(&connect_truncated).unwrap();
    let cid = connect(&s); // the first reply to arrive is the connect's: nothing else answered
    let bogus = announce([9; 8], 1, 0, 2, 6881, -1);
    let r = exchange(&s, &bogus);
    assert_eq!(be32(&r), 3, "error action");
    assert!(r.len() <= bogus.len(), "never larger than the request");
    assert!(String::from_utf8_lossy(&r[8..]).contains("Connection ID"));
    let r = exchange(&s, &announce(cid, 1, 0, 2, 6881, -1));
    assert_eq!(be32(&r), 1, "still serving after all that");
    // Truncated announce with a valid id: dropped.
    s.send(&announce(cid, 1, 0, 2, 6881, -1)[..97]).unwrap();
    let r = exchange(&s, &scrape(cid, &[1]));
    assert_eq!(be32(&r), 2);
}

#[test]
fn bep41_options_are_tolerated() {
    let server = Server::start(CONFIG);
    let s = udp_client(server.udp_v4());
    let cid = connect(&s);
    let mut p = announce(cid, 5, 0, 2, 6881, -1);
    p.extend_from_slice(&[2, 9]);
    p.extend_from_slice(b"/announce");
    p.extend_from_slice(&[1, 2, 200, 0]); // NOP, then an option claiming more than is there
    let r = exchange(&s, &p);
    assert_eq!(be32(&r), 1);
}

#[test]
fn full_tables_answer_with_an_error_and_keep_serving() {
    let server =
        Server::start("listen.udp 127.0.0.1:0\ntracker.max_torrents 2\ntracker.max_peers 3\n");
    let s = udp_client(server.udp_v4());
    let cid = connect(&s);
    assert_eq!(be32(&exchange(&s, &announce(cid, 1, 0, 2, 1, -1))), 1);
    assert_eq!(be32(&exchange(&s, &announce(cid, 2, 0, 2, 1, -1))), 1);
    let r = exchange(&s, &announce(cid, 3, 0, 2, 1, -1));
    assert_eq!(be32(&r), 3);
    assert!(
        String::from_utf8_lossy(&r[8..]).contains("max_torrents"),
        "{r:?}"
    );
    assert_eq!(be32(&exchange(&s, &announce(cid, 1, 0, 2, 2, -1))), 1);
    let r = exchange(&s, &announce(cid, 1, 0, 2, 3, -1));
    assert_eq!(be32(&r), 3, "fourth peer refused");
    assert!(String::from_utf8_lossy(&r[8..]).contains("max_peers"));
    let r = exchange(&s, &announce(cid, 1, 0, 0, 2, -1));
    assert_eq!(be32(&r), 1, "existing peers keep announcing");
}

#[test]
fn peers_expire_after_the_interval() {
    // interval 2 s: slots of 1 s, a silent peer is gone after 3 to 4 s.
    let server = Server::start("listen.udp 127.0.0.1:0\ntracker.interval 2\n");
    let s = udp_client(server.udp_v4());
    let cid = connect(&s);
    exchange(&s, &announce(cid, 1, 10, 2, 1, -1));
    let r = exchange(&s, &scrape(cid, &[1]));
    assert_eq!(be32(&r[16..]), 1, "one leecher");
    let start = Instant::now();
    let mut gone = None;
    while start.elapsed() < Duration::from_secs(8) {
        std::thread::sleep(Duration::from_millis(250));
        let r = exchange(&s, &scrape(cid, &[1]));
        if be32(&r[16..]) == 0 {
            gone = Some(start.elapsed());
            break;
        }
    }
    let gone = gone.expect("the peer expired");
    assert!(
        gone >= Duration::from_millis(2000),
        "not before 1.5 intervals: {gone:?}"
    );
}
