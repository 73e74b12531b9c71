//! BEP 3/23/7/48 over real TCP connections: the binary on loopback, IPv4 and IPv6.

mod common;

use common::{http_get, split_response, urlencode, Server, IO_TIMEOUT};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const CONFIG: &str = "listen.tcp_udp 127.0.0.1:0\nlisten.tcp_udp [::1]:0\n";

fn announce_path(hash: u8, port: u16, left: u64, extra: &str) -> String {
    format!(
        "/announce?info_hash={}&peer_id={}&port={port}&uploaded=0&downloaded=0&left={left}&compact=1{extra}",
        urlencode(&[hash; 20]),
        urlencode(b"-TS0001-abcdefghijkl")
    )
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

/// Reads one response with a Content-Length from a kept-alive connection.
fn read_response(s: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(
            s.read(&mut byte).expect("read head"),
            1,
            "closed early: {buf:?}"
        );
        buf.push(byte[0]);
        assert!(buf.len() < 4096);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length:"))
        .expect("content length")
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).expect("read body");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, body)
}

fn has(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn announce_scrape_on_both_families() {
    let server = Server::start(CONFIG);
    for (addr, h) in [(server.tcp_v4(), 1u8), (server.tcp_v6(), 2u8)] {
        let (status, head, body) = http_get(addr, &announce_path(h, 6881, 0, "&event=started"));
        assert_eq!(status, 200, "{head}");
        assert!(head.contains("Content-Type: text/plain"));
        let external: &[u8] = if addr.is_ipv4() {
            b"11:external ip4:\x7f\x00\x00\x01"
        } else {
            b"11:external ip16:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"
        };
        let want = [
            &b"d8:completei1e10:downloadedi0e"[..],
            external,
            b"10:incompletei0e8:intervali",
        ]
        .concat();
        assert!(
            body.starts_with(&want),
            "{:?}",
            String::from_utf8_lossy(&body)
        );
        assert!(
            body.ends_with(b"5:peers0:e"),
            "never itself: {:?}",
            String::from_utf8_lossy(&body)
        );
        let (_, _, body) = http_get(addr, &announce_path(h, 6882, 10, ""));
        let want: &[u8] = if addr.is_ipv4() {
            b"5:peers6:\x7f\x00\x00\x01\x1a\xe1e"
        } else {
            b"5:peers0:6:peers618:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x1a\xe1e"
        };
        assert!(body.ends_with(want), "{:?}", String::from_utf8_lossy(&body));
        let (status, _, body) =
            http_get(addr, &format!("/scrape?info_hash={}", urlencode(&[h; 20])));
        assert_eq!(status, 200);
        let mut want = b"d5:filesd20:".to_vec();
        want.extend_from_slice(&[h; 20]);
        want.extend_from_slice(b"d8:completei1e10:downloadedi0e10:incompletei1eeee");
        assert_eq!(body, want);
    }
}

#[test]
fn keep_alive_pipelining_and_http10_close() {
    let server = Server::start(CONFIG);
    let addr = server.tcp_v4();
    let mut s = connect(addr);
    let req = |p: &str| format!("GET {p} HTTP/1.1\r\nHost: t\r\n\r\n");
    // Two requests in one write (pipelined), then a third later on the same connection.
    let two = req(&announce_path(3, 1000, 5, "")) + &req(&announce_path(3, 1001, 5, ""));
    s.write_all(two.as_bytes()).unwrap();
    let (st1, h1, _) = read_response(&mut s);
    let (st2, _, b2) = read_response(&mut s);
    assert_eq!((st1, st2), (200, 200));
    assert!(!h1.contains("Connection: close"));
    assert!(has(&b2, b"10:incompletei2e"));
    s.write_all(
        req("/scrape?info_hash=%03%03%03%03%03%03%03%03%03%03%03%03%03%03%03%03%03%03%03%03")
            .as_bytes(),
    )
    .unwrap();
    let (st3, _, b3) = read_response(&mut s);
    assert_eq!(st3, 200);
    assert!(has(&b3, b"10:incompletei2e"));
    // HTTP/1.0: answered, then closed by the server.
    let mut s = connect(addr);
    write!(s, "GET {} HTTP/1.0\r\n\r\n", announce_path(3, 1002, 5, "")).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("server closes");
    let (status, head, _) = split_response(&all);
    assert_eq!(status, 200);
    assert!(head.contains("Connection: close"));
}

#[test]
fn bad_requests_get_4xx_and_the_server_keeps_serving() {
    let server = Server::start(CONFIG);
    let addr = server.tcp_v4();
    let cases: &[(&str, u16)] = &[
        ("POST /announce HTTP/1.1\r\n\r\n", 405),
        ("GET announce HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/9.9\r\n\r\n", 400),
        ("GET /nowhere HTTP/1.1\r\nConnection: close\r\n\r\n", 404),
        ("GET /announce?info_hash=short&port=1 HTTP/1.0\r\n\r\n", 400),
        ("GET /scrape?info_hash=%zz HTTP/1.0\r\n\r\n", 400),
        ("\r\n\r\n", 400),
    ];
    for (raw, want) in cases {
        let mut s = connect(addr);
        s.write_all(raw.as_bytes()).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let (status, _, _) = split_response(&buf);
        assert_eq!(status, *want, "{raw:?}");
    }
    // Missing info_hash: opentracker's failure text with 200.
    let (status, _, body) = http_get(addr, "/announce?port=1");
    assert_eq!(status, 200);
    assert!(body
        .starts_with(b"d14:failure reason80:Your client forgot to send your torrent's info_hash."));
    // Oversized header: 431 and closed.
    let mut s = connect(addr);
    let big = format!(
        "GET /announce HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(9000)
    );
    let _ = s.write_all(big.as_bytes());
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert_eq!(split_response(&buf).0, 431);
    let (status, _, _) = http_get(addr, &announce_path(9, 1, 0, ""));
    assert_eq!(status, 200, "still serving");
}

#[test]
fn compact_zero_and_full_scrape() {
    let server = Server::start(CONFIG);
    let addr = server.tcp_v4();
    http_get(addr, &announce_path(4, 7000, 0, ""));
    let (_, _, body) = http_get(addr, &announce_path(4, 7001, 9, "&compact=0"));
    assert!(
        has(&body, b"5:peersld2:ip9:127.0.0.14:porti7000eee"),
        "{:?}",
        String::from_utf8_lossy(&body)
    );
    http_get(addr, &announce_path(5, 7000, 0, ""));
    let (status, head, body) = http_get(addr, "/scrape");
    assert_eq!(status, 200);
    assert!(head.contains("Connection: close"));
    assert!(body.starts_with(b"d5:filesd20:") && body.ends_with(b"eee"));
    assert!(has(&body, &[4; 20]) && has(&body, &[5; 20]));
    let off = Server::start("listen.tcp 127.0.0.1:0\ntracker.fullscrape off\n");
    assert_eq!(http_get(off.tcp_v4(), "/scrape").0, 403);
}

#[test]
fn slow_and_idle_clients_do_not_stall_others_and_are_closed() {
    let server = Server::start("listen.tcp 127.0.0.1:0\nhttp.idle_timeout 1\n");
    let addr = server.tcp_v4();
    let mut slow = connect(addr);
    slow.write_all(b"GET /announce?info_hash=").unwrap();
    // Others are served while the slow one dawdles.
    for i in 0..20u16 {
        assert_eq!(http_get(addr, &announce_path(6, 2000 + i, 1, "")).0, 200);
    }
    // The idle one is closed within a few seconds.
    let start = Instant::now();
    let mut buf = [0u8; 16];
    let closed = loop {
        match slow.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => break false,
            Err(_) if start.elapsed() < Duration::from_secs(5) => continue,
            Err(_) => break false,
        }
    };
    assert!(closed, "idle connection closed");
}

#[test]
fn connection_cap_refuses_extra_connections_only() {
    let server = Server::start("listen.tcp 127.0.0.1:0\nhttp.max_connections 2\n");
    let addr = server.tcp_v4();
    let held: Vec<TcpStream> = (0..2).map(|_| connect(addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = connect(addr);
    let mut buf = Vec::new();
    let _ = extra.write_all(b"GET /announce HTTP/1.0\r\n\r\n");
    let n = extra.read_to_end(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "refused connection closed without an answer");
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        http_get(addr, &announce_path(7, 1, 0, "")).0,
        200,
        "slots freed"
    );
}

#[test]
fn redirect_for_the_root_path() {
    let server =
        Server::start("listen.tcp 127.0.0.1:0\ntracker.redirect_url https://example.org/\n");
    let (status, head, _) = http_get(server.tcp_v4(), "/");
    assert_eq!(status, 302);
    assert!(head.contains("Location: https://example.org/"));
}
