//! `trackseed start | status | restart | stop`: a daemon with a locked pid file; a second start
//! refuses; privileges dropped after binding.

mod common;

use common::{http_get, run_cli, TempDir};
use std::net::TcpListener;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn start_status_double_start_restart_stop() {
    let dir = TempDir::new("daemon");
    let port = free_port();
    let conf = dir.path().join("trackseed.conf");
    std::fs::write(&conf, format!("listen.tcp 127.0.0.1:{port}\n")).unwrap();
    let f = conf.to_str().unwrap();
    let (code, _, err) = run_cli(&["-f", f, "start"]);
    assert_eq!(code, Some(0), "{err}");
    let pidfile = dir.path().join("trackseed.pid");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    assert_eq!(http_get(addr, "/stats").0, 200, "the daemon serves");
    let (code, out, _) = run_cli(&["-f", f, "status"]);
    assert_eq!(code, Some(0));
    assert!(out.contains(&format!("running (pid {pid}")), "{out}");
    let (code, _, err) = run_cli(&["-f", f, "start"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("already running") && err.contains(&pid.to_string()),
        "{err}"
    );
    let (code, out, _) = run_cli(&["-f", f, "restart"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("reloading"), "{out}");
    assert_eq!(
        http_get(addr, "/stats").0,
        200,
        "still serving after SIGHUP"
    );
    let (code, out, _) = run_cli(&["-f", f, "stop"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("stopped"), "{out}");
    let start = Instant::now();
    while pidfile.exists() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pidfile.exists(), "the pid file goes with the daemon");
    let (code, out, _) = run_cli(&["-f", f, "status"]);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("not running"));
    let (code, _, err) = run_cli(&["-f", f, "restart"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not running"), "{err}");
}

#[test]
fn a_taken_port_fails_start_on_the_terminal() {
    let dir = TempDir::new("daemon");
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let conf = dir.path().join("trackseed.conf");
    std::fs::write(&conf, format!("listen.tcp 127.0.0.1:{port}\n")).unwrap();
    let (code, _, err) = run_cli(&["-f", conf.to_str().unwrap(), "start"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot listen on tcp"), "{err}");
}

#[test]
fn privileges_are_dropped_after_binding() {
    // Needs root to switch users; as another user, -u to oneself is the only allowed change.
    let is_root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if !is_root {
        return;
    }
    let dir = TempDir::new("daemon");
    let server = common::Server::start_with_args(
        "listen.tcp 127.0.0.1:0\n",
        &["-u", "nobody", "-d", dir.path().to_str().unwrap()],
    );
    let log = server.start_log.join("\n");
    assert!(
        log.contains("chrooted to") && log.contains("running as nobody"),
        "{log}"
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(!uid.split_whitespace().skip(1).any(|u| u == "0"), "{uid}");
    assert_eq!(
        http_get(
            server.tcp_v4(),
            &format!("/announce?info_hash={}&port=1", common::urlencode(&[9; 20]))
        )
        .0,
        200
    );
}
