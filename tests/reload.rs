//! SIGHUP re-reads the config file: listen addresses opened and closed, values applied, the
//! swarms kept; a broken file keeps the running config.

mod common;

use common::{http_get, urlencode, Server};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_log(server: &Server, needle: &str) -> Vec<String> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < Duration::from_secs(5) {
        seen.extend(server.log_lines());
        if seen.iter().any(|l| l.contains(needle)) {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no log line with {needle:?}; saw:\n{}", seen.join("\n"));
}

#[test]
fn sighup_applies_a_new_config_and_keeps_swarms() {
    let base = "listen.tcp_udp 127.0.0.1:0\n";
    let server = Server::start(base);
    let addr = server.tcp_v4();
    let hash = urlencode(&[5; 20]);
    assert_eq!(
        http_get(addr, &format!("/announce?info_hash={hash}&port=1&left=0")).0,
        200
    );
    assert_eq!(http_get(addr, "/").0, 404);
    let port = free_port();
    let conf = server.dir.path().join("trackseed.conf");
    std::fs::write(
        &conf,
        format!("{base}listen.tcp 127.0.0.1:{port}\ntracker.redirect_url http://example.org/\ntracker.max_peers 7\n"),
    )
    .unwrap();
    server.signal("HUP");
    let log = wait_for_log(&server, "config reloaded").join("\n");
    assert!(
        log.contains(&format!("listening tcp 127.0.0.1:{port}")),
        "{log}"
    );
    assert!(
        log.contains("tracker.max_peers changed; the new value takes effect at the next restart"),
        "{log}"
    );
    let (status, head, _) = http_get(addr, "/");
    assert_eq!(status, 302, "redirect applied");
    assert!(head.contains("Location: http://example.org/"));
    let new_addr = format!("127.0.0.1:{port}").parse().unwrap();
    let (_, _, body) = http_get(new_addr, &format!("/scrape?info_hash={hash}"));
    assert!(
        body.windows(12).any(|w| w == b"completei1e1"),
        "swarm kept: {:?}",
        String::from_utf8_lossy(&body)
    );
    // Removing the line closes the socket.
    std::fs::write(&conf, base).unwrap();
    server.signal("HUP");
    wait_for_log(&server, &format!("closing tcp 127.0.0.1:{port}"));
    assert!(TcpStream::connect(new_addr).is_err(), "closed");
    assert_eq!(http_get(addr, "/").0, 404, "redirect gone with the line");
}

#[test]
fn a_broken_config_keeps_the_running_one() {
    let server = Server::start("listen.tcp 127.0.0.1:0\ntracker.redirect_url http://a/\n");
    let conf = server.dir.path().join("trackseed.conf");
    std::fs::write(&conf, "listen.tcp 127.0.0.1:0\ntracker.frobnicate 1\n").unwrap();
    server.signal("HUP");
    let log = wait_for_log(&server, "keeping the running config").join("\n");
    assert!(log.contains("tracker.frobnicate"), "{log}");
    assert_eq!(
        http_get(server.tcp_v4(), "/").0,
        302,
        "old config still in force"
    );
}
