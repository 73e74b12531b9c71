use super::*;
use crate::config::Config;

fn tracker() -> Tracker {
    Tracker::new(&Config::default()).unwrap()
}

const HASH: &str = "%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11";

fn get(t: &mut Tracker, target: &str, from: &str) -> (String, Vec<u8>, After) {
    let mut buf = vec![0u8; out_capacity(200, 64)];
    let mut out = Out::new(&mut buf);
    let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
    let after = handle(
        t,
        req.as_bytes(),
        from.parse().unwrap(),
        6969,
        Secs(1),
        &mut out,
    );
    let w = out.written().to_vec();
    let end = w.windows(4).position(|x| x == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&w[..end]).to_string();
    let body = w[end + 4..].to_vec();
    if let Some(l) = head.lines().find_map(|l| l.strip_prefix("Content-Length:")) {
        assert_eq!(
            l.trim().parse::<usize>().unwrap(),
            body.len(),
            "length matches body"
        );
    }
    (head, body, after)
}

#[test]
fn announce_answers_in_opentracker_shape() {
    let mut t = tracker();
    let q = format!("/announce?info_hash={HASH}&port=6881&left=0");
    let (head, body, after) = get(&mut t, &q, "10.0.0.1:5000");
    assert!(head.starts_with("HTTP/1.1 200 OK"));
    assert_eq!(after, After::KeepAlive);
    let s = String::from_utf8_lossy(&body);
    // BEP 24's `external ip` sits between opentracker's keys, in bencode's key order.
    assert!(
        body.starts_with(b"d8:completei1e10:downloadedi0e11:external ip4:\x0a\x00\x00\x0110:incompletei0e8:intervali"),
        "{s}"
    );
    assert!(s.ends_with("5:peers0:e"), "{s}");
    let q = format!("/announce?info_hash={HASH}&port=7000&left=10");
    let (_, body, _) = get(&mut t, &q, "[::ffff:10.0.0.2]:5000");
    assert!(
        body.ends_with(b"5:peers6:\x0a\x00\x00\x01\x1a\xe1e"),
        "{:?}",
        String::from_utf8_lossy(&body)
    );
    // A v6 leecher sees the v4 seeder in `peers`, and the v4 leecher nowhere else.
    let q = format!("/announce?info_hash={HASH}&port=7001&left=10&compact=0");
    let (_, body, _) = get(&mut t, &q, "[2001:db8::5]:1");
    let s = String::from_utf8_lossy(&body);
    assert!(s.contains("5:peersld2:ip"), "{s}");
    assert!(s.contains("d2:ip8:10.0.0.14:porti6881ee"), "{s}");
    assert!(s.contains("d2:ip8:10.0.0.24:porti7000ee"), "{s}");
    assert!(s.ends_with("eee"), "{s}");
}

#[test]
fn lenient_paths_scrape_and_errors() {
    let mut t = tracker();
    get(
        &mut t,
        &format!("/a?info_hash={HASH}&port=1&left=0"),
        "10.0.0.1:1",
    );
    let (_, body, _) = get(
        &mut t,
        &format!("//scrape.php?info_hash={HASH}"),
        "10.0.0.1:1",
    );
    let mut want = b"d5:filesd20:".to_vec();
    want.extend_from_slice(&[0x11; 20]);
    want.extend_from_slice(b"d8:completei1e10:downloadedi0e10:incompletei0eeee");
    assert_eq!(body, want);
    let (head, body, _) = get(&mut t, "/announce?port=1", "10.0.0.1:1");
    assert!(head.starts_with("HTTP/1.1 200"));
    assert!(body.starts_with(b"d14:failure reason80:Your client forgot"));
    let (head, _, _) = get(&mut t, &format!("/announce?info_hash={HASH}"), "10.0.0.1:1");
    assert!(head.starts_with("HTTP/1.1 400"), "port missing");
    let (head, _, _) = get(&mut t, "/nothing", "10.0.0.1:1");
    assert!(head.starts_with("HTTP/1.1 404"));
    let (head, _, _) = get(&mut t, "/scrape?x=1", "10.0.0.1:1");
    assert!(head.starts_with("HTTP/1.1 400"));
    let (_, _, after) = get(&mut t, "/scrape", "10.0.0.1:1");
    assert_eq!(
        after,
        After::Stream {
            what: Streamed::FullScrape,
            next: 0
        }
    );
    assert_eq!(
        t.stats.http_errors, 4,
        "missing hash, missing port, 404, bad scrape"
    );
}

#[test]
fn full_scrape_streams_every_torrent_in_small_pieces() {
    let mut t = tracker();
    for i in 0..50u8 {
        let hash: String = (0..20).map(|_| format!("%{i:02X}")).collect();
        get(
            &mut t,
            &format!("/announce?info_hash={hash}&port=1&left=1"),
            "10.0.0.1:1",
        );
    }
    let mut body = b"d5:filesd".to_vec();
    let mut next = 0;
    let mut rounds = 0;
    loop {
        let mut buf = [0u8; 200];
        let mut out = Out::new(&mut buf);
        let done = stream_more(&mut t, Streamed::FullScrape, &mut next, Secs(1), &mut out);
        body.extend_from_slice(out.written());
        rounds += 1;
        if done {
            break;
        }
        assert!(rounds < 100);
    }
    assert!(rounds > 10, "streamed in pieces");
    assert_eq!(body.len(), 9 + 50 * (23 + 47) + 2);
    assert!(body.ends_with(b"eeee"));
}

#[test]
fn split_want_gives_each_family_a_quarter() {
    assert_eq!(split_want(50, 10, 10), (10, 10));
    assert_eq!(split_want(50, 100, 0), (50, 0));
    assert_eq!(split_want(40, 1000, 10), (30, 10));
    assert_eq!(split_want(40, 1000, 1000), (20, 20));
    assert_eq!(split_want(40, 1000, 20), (30, 10));
}

#[test]
fn ip_parameters_only_count_when_enabled() {
    let mut t = tracker();
    let q = format!("/announce?info_hash={HASH}&port=1&left=0&ip=10.9.9.9");
    get(&mut t, &q, "10.0.0.1:1");
    let (_, body, _) = get(
        &mut t,
        &format!("/announce?info_hash={HASH}&port=2&left=5"),
        "10.0.0.2:1",
    );
    assert!(
        body.ends_with(b"5:peers6:\x0a\x00\x00\x01\x00\x01e"),
        "source address used"
    );
    let config = Config {
        ip_from_query: true,
        ..Config::default()
    };
    let mut t = Tracker::new(&config).unwrap();
    get(&mut t, &q, "10.0.0.1:1");
    let (_, body, _) = get(
        &mut t,
        &format!("/announce?info_hash={HASH}&port=2&left=5"),
        "10.0.0.2:1",
    );
    assert!(
        body.ends_with(b"5:peers6:\x0a\x09\x09\x09\x00\x01e"),
        "ip parameter used"
    );
}

#[test]
fn forwarded_for_only_from_trusted_proxies() {
    let config = Config {
        proxy_nets: vec![crate::config::parse_net("10.9.0.0/16").unwrap()],
        ..Config::default()
    };
    let mut t = Tracker::new(&config).unwrap();
    let mut buf = vec![0u8; out_capacity(200, 64)];
    let q = format!("GET /announce?info_hash={HASH}&port=1&left=0 HTTP/1.1\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n");
    let mut out = Out::new(&mut buf);
    handle(
        &mut t,
        q.as_bytes(),
        "10.9.0.1:80".parse().unwrap(),
        6969,
        Secs(1),
        &mut out,
    );
    assert!(
        out.written()
            .windows(17)
            .any(|w| w == b"external ip4:\xc0\x00\x02\x07"),
        "proxied client"
    );
    let mut out = Out::new(&mut buf);
    handle(
        &mut t,
        q.as_bytes(),
        "10.8.0.1:80".parse().unwrap(),
        6969,
        Secs(1),
        &mut out,
    );
    assert!(
        out.written()
            .windows(17)
            .any(|w| w == b"external ip4:\x0a\x08\x00\x01"),
        "untrusted: the source"
    );
}
