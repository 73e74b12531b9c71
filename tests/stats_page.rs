//! /stats (opentracker's MRTG modes and the rest) and /metrics over real sockets, and who may
//! read them.

mod common;

use common::{http_get, split_response, urlencode, Server, IO_TIMEOUT};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

fn announce(addr: SocketAddr, hash: u8, port: u16, left: u64) {
    let path = format!(
        "/announce?info_hash={}&port={port}&left={left}",
        urlencode(&[hash; 20])
    );
    assert_eq!(http_get(addr, &path).0, 200);
}

/// A GET from a chosen loopback source address.
fn get_from(source: &str, addr: SocketAddr, target: &str) -> (u16, String, Vec<u8>) {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let src: SocketAddr = format!("{source}:0").parse().unwrap();
    sock.bind(&src.into()).unwrap();
    sock.connect_timeout(&addr.into(), IO_TIMEOUT).unwrap();
    let mut s: TcpStream = sock.into();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    write!(s, "GET {target} HTTP/1.0\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    split_response(&buf)
}

#[test]
fn mrtg_modes_have_opentrackers_shape() {
    let server = Server::start("listen.tcp_udp 127.0.0.1:0\n");
    let addr = server.tcp_v4();
    announce(addr, 1, 1000, 0);
    announce(addr, 1, 1001, 5);
    announce(addr, 2, 1002, 5);
    let (status, head, body) = http_get(addr, "/stats");
    assert_eq!(status, 200);
    assert!(head.contains("Content-Type: text/plain"), "{head}");
    assert_eq!(
        body,
        b"3\n1\nopentracker serving 2 torrents\ntrackseed",
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (_, _, body) = http_get(addr, "/stats?mode=torr");
    assert_eq!(body, b"2\n0\nopentracker serving 2 torrents\ntrackseed");
    for mode in [
        "conn",
        "udp4",
        "tcp4",
        "scrp",
        "fscr",
        "completed",
        "syncs",
        "busy",
    ] {
        let (status, _, body) = http_get(addr, &format!("/stats?mode={mode}"));
        assert_eq!(status, 200, "{mode}");
        let text = String::from_utf8(body).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(
            lines.len(),
            4,
            "{mode}: four lines, no trailing newline: {text:?}"
        );
        assert!(
            lines[0].parse::<u64>().is_ok() && lines[1].parse::<u64>().is_ok(),
            "{mode}: {text:?}"
        );
        assert!(lines[2].ends_with(" hours)"), "{mode}: {text:?}");
    }
    let (_, _, body) = http_get(addr, "/stats?mode=tcp4");
    assert!(
        body.starts_with(b"14\n3\n"),
        "14 connections accepted (this one too), 3 of them announces: {:?}",
        String::from_utf8_lossy(&body)
    );
    let (_, _, body) = http_get(addr, "/stats?mode=version");
    assert!(body.starts_with(b"trackseed "));
    let (status, head, body) = http_get(addr, "/stats?mode=everything");
    assert_eq!(status, 200);
    assert!(head.contains("xml"), "{head}");
    assert!(body.starts_with(b"<?xml"));
    let (_, _, body) = http_get(addr, "/stats?mode=top10");
    assert!(
        String::from_utf8_lossy(&body).contains("\t2\t0101010101010101010101010101010101010101")
    );
    let (status, _, _) = http_get(addr, "/stats?mode=nonsense");
    assert_eq!(status, 400);
    let (status, _, _) = http_get(addr, &format!("/stats?info_hash={}", urlencode(&[1; 20])));
    assert_eq!(status, 400, "an announce sent to the stats URL");
}

#[test]
fn statedump_and_tpbs_stream_every_torrent() {
    let server = Server::start("listen.tcp 127.0.0.1:0\n");
    let addr = server.tcp_v4();
    for h in 1..=40u8 {
        announce(addr, h, 2000, u64::from(h % 2));
    }
    let (status, head, body) = http_get(addr, "/stats?mode=statedump");
    assert_eq!(status, 200);
    assert!(head.contains("Connection: close"));
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.lines().count(), 40);
    assert!(
        text.lines()
            .all(|l| l.len() > 42 && l.as_bytes()[40] == b':'),
        "{text}"
    );
    let (_, _, body) = http_get(addr, "/stats?mode=tpbs&format=txt");
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.lines().count(), 40);
    assert!(
        text.contains("0202020202020202020202020202020202020202:1:0\n"),
        "{text}"
    );
}

#[test]
fn metrics_in_prometheus_text() {
    let server = Server::start("listen.tcp 127.0.0.1:0\n");
    let addr = server.tcp_v4();
    announce(addr, 7, 3000, 0);
    let (status, head, body) = http_get(addr, "/metrics");
    assert_eq!(status, 200);
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("\ntrackseed_torrents 1\n"), "{text}");
    assert!(text.contains("\ntrackseed_peers 1\n"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("trackseed_resident_memory_bytes ")),
        "{text}"
    );
}

#[test]
fn only_allowed_networks_read_statistics() {
    // Default: loopback only (127.0.0.2 is loopback too).
    let open = Server::start("listen.tcp 127.0.0.1:0\n");
    assert_eq!(get_from("127.0.0.2", open.tcp_v4(), "/stats").0, 200);
    let server = Server::start("listen.tcp 127.0.0.1:0\naccess.stats 127.0.0.2\n");
    let addr = server.tcp_v4();
    assert_eq!(get_from("127.0.0.2", addr, "/stats").0, 200);
    assert_eq!(get_from("127.0.0.2", addr, "/metrics").0, 200);
    assert_eq!(get_from("127.0.0.1", addr, "/stats").0, 403);
    assert_eq!(get_from("127.0.0.1", addr, "/metrics").0, 403);
    // Announces are not restricted.
    let (status, _, _) = get_from(
        "127.0.0.1",
        addr,
        &format!("/announce?info_hash={}&port=1", urlencode(&[3; 20])),
    );
    assert_eq!(status, 200);
    let (_, _, body) = get_from("127.0.0.2", addr, "/stats?mode=herr");
    assert!(
        String::from_utf8_lossy(&body).contains("403 IP  2"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[test]
fn a_custom_stats_path() {
    let server = Server::start("listen.tcp 127.0.0.1:0\naccess.stats_path /admin/stats\n");
    assert_eq!(http_get(server.tcp_v4(), "/admin/stats?mode=peer").0, 200);
    assert_eq!(http_get(server.tcp_v4(), "/stats").0, 404);
}
