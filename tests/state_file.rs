//! The state file: `downloaded` counts saved on SIGUSR1 and at shutdown, restored at start
//! (`tracker.statefile`, `-l`); a corrupt file is reported and ignored.

mod common;

use common::{http_get, urlencode, Server, TempDir};
use std::path::Path;
use std::time::{Duration, Instant};

fn complete(server: &Server, hash: u8, port: u16) {
    let path = format!(
        "/announce?info_hash={}&port={port}&left=0&event=completed",
        urlencode(&[hash; 20])
    );
    assert_eq!(http_get(server.tcp_v4(), &path).0, 200);
}

fn downloaded(server: &Server, hash: u8) -> Option<u64> {
    let body = http_get(
        server.tcp_v4(),
        &format!("/scrape?info_hash={}", urlencode(&[hash; 20])),
    )
    .2;
    let text = String::from_utf8_lossy(&body).to_string();
    let at = text.find("10:downloadedi")? + "10:downloadedi".len();
    text[at..].split('e').next()?.parse().ok()
}

fn wait_for_file(path: &Path) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} not written", path.display());
}

#[test]
fn counts_survive_a_restart() {
    let dir = TempDir::new("state");
    let state = dir.path().join("trackseed.state");
    let config = format!(
        "listen.tcp 127.0.0.1:0\ntracker.statefile {}\n",
        state.display()
    );
    let mut server = Server::start(&config);
    complete(&server, 1, 1000);
    complete(&server, 1, 1001);
    complete(&server, 2, 1000);
    server.signal("USR1");
    let text = wait_for_file(&state);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains(&format!("{}:", "01".repeat(20).to_uppercase())),
        "{text}"
    );
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
    let again = Server::start(&config);
    let log = again.start_log.join("\n");
    assert!(log.contains("restored 2 torrents"), "{log}");
    assert_eq!(downloaded(&again, 1), Some(2));
    assert_eq!(downloaded(&again, 2), Some(1));
}

#[test]
fn a_corrupt_state_file_is_reported_and_ignored() {
    let dir = TempDir::new("state");
    let state = dir.path().join("bad.state");
    let good = format!("{}:0:7\n", "AB".repeat(20));
    std::fs::write(&state, format!("garbage\n{good}{}:0:", "CD".repeat(19))).unwrap();
    let server =
        Server::start_with_args("listen.tcp 127.0.0.1:0\n", &["-l", state.to_str().unwrap()]);
    let log = server.start_log.join("\n");
    assert!(log.contains("restored 1 torrents"), "{log}");
    assert!(
        log.contains("2 lines ignored, the first at line 1"),
        "{log}"
    );
    assert_eq!(downloaded(&server, 0xab), Some(7));
    // -l only loads: nothing is written back.
    drop(server);
    assert!(std::fs::read_to_string(&state)
        .unwrap()
        .starts_with("garbage"));
}
