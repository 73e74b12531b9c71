//! The binary's command line, start-up errors and signals.

mod common;

use common::{run_cli, Server, TempDir};
use std::time::Duration;

#[test]
fn help_and_version() {
    let (code, out, _) = run_cli(&["--help"]);
    assert_eq!(code, Some(0));
    for flag in [
        "-f", "-i", "-p", "-P", "-d", "-u", "-w", "-b", "-A", "-r", "-l", "-v", "-h",
    ] {
        assert!(out.contains(flag), "--help mentions {flag}:\n{out}");
    }
    let (code, out2, _) = run_cli(&["-h"]);
    assert_eq!((code, out2), (Some(0), out));
    let (code, out, _) = run_cli(&["-v"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("trackseed "), "{out}");
}

#[test]
fn config_errors_name_file_and_line_and_exit_2() {
    let dir = TempDir::new("cli");
    let conf = dir.path().join("bad.conf");
    std::fs::write(
        &conf,
        "listen.tcp 127.0.0.1:0\n# fine\ntracker.max_peers lots\n",
    )
    .unwrap();
    let (code, _, err) = run_cli(&["-f", conf.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("bad.conf:3:") && err.contains("tracker.max_peers"),
        "{err}"
    );
    std::fs::write(&conf, "tracker.frobnicate 1\n").unwrap();
    let (code, _, err) = run_cli(&["-f", conf.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(":1:") && err.contains("tracker.frobnicate"),
        "{err}"
    );
    let (code, _, err) = run_cli(&["-f", dir.path().join("missing.conf").to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("missing.conf"), "{err}");
}

#[test]
fn unknown_and_not_yet_supported_flags_are_refused() {
    let (code, _, err) = run_cli(&["-Z"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("-Z"), "{err}");
    let (code, _, err) = run_cli(&["-s", "9696"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not yet supported"), "-s: {err}");
}

#[test]
fn a_taken_port_is_a_clear_start_up_error() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let p = port.to_string();
    let (code, _, err) = run_cli(&["-i", "127.0.0.1", "-p", &p]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!("cannot listen on tcp 127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn command_line_listens_add_to_the_file() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port();
    drop(udp);
    let server = Server::start_with_args(
        "listen.tcp 127.0.0.1:0\n",
        &["-i", "127.0.0.1", "-P", &port.to_string()],
    );
    assert_eq!(server.tcp.len(), 1);
    assert_eq!(
        server.udp,
        vec![format!("127.0.0.1:{port}").parse().unwrap()]
    );
}

#[test]
fn opentracker_conf_keys_start_with_warnings() {
    let server = Server::start(
        "listen.tcp_udp 127.0.0.1:0\naccess.whitelist /nonexistent-dir/whitelist.txt\nlivesync.cluster.listen 10.0.0.1\n",
    );
    let log = server.start_log.join("\n");
    assert!(
        log.contains("cannot read access list /nonexistent-dir/whitelist.txt"),
        "{log}"
    );
    assert!(log.contains("no torrent is served"), "{log}");
    assert!(log.contains("livesync.cluster.listen"), "{log}");
}

#[test]
fn sigterm_and_sigint_exit_cleanly() {
    for sig in ["TERM", "INT"] {
        let mut server = Server::start("listen.tcp_udp 127.0.0.1:0\n");
        server.signal(sig);
        assert_eq!(
            server.wait_exit(Duration::from_secs(5)),
            Some(0),
            "SIG{sig}"
        );
    }
}

#[test]
fn sighup_is_survived() {
    let mut server = Server::start("listen.tcp_udp 127.0.0.1:0\n");
    server.signal("HUP");
    std::thread::sleep(Duration::from_millis(200));
    let (status, _, _) = common::http_get(server.tcp_v4(), "/scrape");
    assert_eq!(status, 200);
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
}
