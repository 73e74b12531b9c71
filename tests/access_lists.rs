//! Access lists over real sockets: whitelist and blacklist, SIGHUP reloads (good and broken
//! lists), FIFO changes, and the start-up errors.

mod common;

use common::{http_get, run_cli, udp_client, urlencode, Server, TempDir};
use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};

const DENIED: &[u8] = b"Requested download is not authorized for use with this tracker.";

fn hex(h: &[u8; 20]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn announce(server: &Server, h: &[u8; 20]) -> Vec<u8> {
    let path = format!("/announce?info_hash={}&port=6881&left=0", urlencode(h));
    http_get(server.tcp_v4(), &path).2
}

fn is_denied(body: &[u8]) -> bool {
    body.windows(DENIED.len()).any(|w| w == DENIED)
}

fn scrape_lists(server: &Server, h: &[u8; 20]) -> bool {
    let body = http_get(
        server.tcp_v4(),
        &format!("/scrape?info_hash={}", urlencode(h)),
    )
    .2;
    body.windows(20).any(|w| w == h)
}

/// Polls `check` until it holds (bounded), for changes that take effect when the server gets
/// to them (signals, FIFOs).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    for _ in 0..200 {
        if check() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{what}: not within 5 s"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{what}: not after 200 tries");
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write list");
}

fn udp_announce(s: &UdpSocket, h: &[u8; 20]) -> Vec<u8> {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&0x0417_2710_1980u64.to_be_bytes());
    s.send(&p).unwrap();
    let mut buf = [0u8; 256];
    let n = s.recv(&mut buf).unwrap();
    assert_eq!(n, 16);
    let mut a = vec![0u8; 98];
    a[..8].copy_from_slice(&buf[8..16]);
    a[11] = 1;
    a[16..36].copy_from_slice(h);
    a[96..98].copy_from_slice(&6881u16.to_be_bytes());
    s.send(&a).unwrap();
    let n = s.recv(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn whitelist_serves_listed_torrents_only_and_reloads_on_sighup() {
    let dir = TempDir::new("acl");
    let list = dir.path().join("whitelist.txt");
    let (a, b) = ([0xaa; 20], [0xbb; 20]);
    write(&list, &format!("# allowed\n{}\nnot a hash\n", hex(&a)));
    let config = format!(
        "listen.tcp_udp 127.0.0.1:0\naccess.whitelist {}\n",
        list.display()
    );
    let mut server = Server::start(&config);
    let log = server.start_log.join("\n");
    assert!(
        log.contains("1 info hashes") && log.contains("first at line 3"),
        "{log}"
    );
    assert!(!is_denied(&announce(&server, &a)));
    assert!(is_denied(&announce(&server, &b)));
    assert!(scrape_lists(&server, &a) && !scrape_lists(&server, &b));
    // UDP: the same refusal as an error packet.
    let s = udp_client(server.udp_v4());
    let r = udp_announce(&s, &b);
    assert_eq!(&r[..4], &[0, 0, 0, 3]);
    assert!(r.ends_with(DENIED));
    assert_eq!(&udp_announce(&s, &a)[..4], &[0, 0, 0, 1]);
    // SIGHUP with a new list: b allowed, a refused; the swarm of a is not served any more.
    write(&list, &format!("{}\n", hex(&b)));
    server.signal("HUP");
    eventually("reload", || !is_denied(&announce(&server, &b)));
    assert!(is_denied(&announce(&server, &a)));
    assert!(!scrape_lists(&server, &a));
    // A broken reload (the file is gone) keeps the list in force.
    std::fs::remove_file(&list).unwrap();
    server.signal("HUP");
    eventually("reload failure logged", || {
        server
            .log_lines()
            .iter()
            .any(|l| l.contains("keeping the 1 hashes in force"))
    });
    assert!(!is_denied(&announce(&server, &b)));
    assert!(is_denied(&announce(&server, &a)));
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
}

#[test]
fn blacklist_refuses_listed_torrents() {
    let dir = TempDir::new("acl");
    let list = dir.path().join("blacklist.txt");
    let (a, b) = ([0x11; 20], [0x22; 20]);
    write(&list, &hex(&a));
    let server =
        Server::start_with_args("listen.tcp 127.0.0.1:0\n", &["-b", list.to_str().unwrap()]);
    assert!(is_denied(&announce(&server, &a)));
    assert!(!is_denied(&announce(&server, &b)));
}

#[test]
fn fifo_changes_take_effect_at_once_until_the_next_reload() {
    let dir = TempDir::new("acl");
    let list = dir.path().join("whitelist.txt");
    let (add, del) = (dir.path().join("add"), dir.path().join("delete"));
    let (a, b) = ([0x33; 20], [0x44; 20]);
    write(&list, &hex(&a));
    let config = format!(
        "listen.tcp 127.0.0.1:0\naccess.whitelist {}\naccess.fifo_add {}\naccess.fifo_delete {}\n",
        list.display(),
        add.display(),
        del.display()
    );
    let server = Server::start(&config);
    assert!(is_denied(&announce(&server, &b)));
    // Written in two pieces, as a slow writer might.
    let h = hex(&b);
    std::fs::write(&add, &h[..17]).unwrap();
    std::fs::write(&add, format!("{}\n", &h[17..])).unwrap();
    eventually("FIFO add", || !is_denied(&announce(&server, &b)));
    std::fs::write(&del, format!("{}\n", hex(&a))).unwrap();
    eventually("FIFO delete", || is_denied(&announce(&server, &a)));
    // A reload merges nothing: the file is the truth again.
    server.signal("HUP");
    eventually("reload flushes the changesets", || {
        is_denied(&announce(&server, &b))
    });
    assert!(!is_denied(&announce(&server, &a)));
}

#[test]
fn start_up_errors() {
    let (code, _, err) = run_cli(&["-w", "w.txt", "-f", "/nonexistent-config"]);
    assert_eq!(code, Some(2), "{err}");
    let dir = TempDir::new("acl");
    let conf = dir.path().join("c.conf");
    std::fs::write(&conf, "access.whitelist w\naccess.blacklist b\n").unwrap();
    let (code, _, err) = run_cli(&["-f", conf.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("choose one"), "{err}");
    let not_fifo = dir.path().join("plain");
    std::fs::write(&not_fifo, "").unwrap();
    std::fs::write(
        &conf,
        format!(
            "listen.tcp 127.0.0.1:0\naccess.whitelist w\naccess.fifo_add {}\n",
            not_fifo.display()
        ),
    )
    .unwrap();
    let (code, _, err) = run_cli(&["-f", conf.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("is not a FIFO"), "{err}");
}

/// A million-hash whitelist reloads in slices: announces are answered all along, and the new
/// list takes over once complete.
#[test]
fn a_million_hash_reload_does_not_stall_announces() {
    let dir = TempDir::new("acl");
    let list = dir.path().join("big.txt");
    let mut text = String::with_capacity(41 * 1_000_001);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..1_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text += &format!("{:016x}{:016x}{:08x}\n", x, x.rotate_left(21), x as u32);
    }
    let (a, b) = ([0x51; 20], [0x52; 20]);
    text += &format!("{}\n", hex(&a));
    std::fs::write(&list, &text).unwrap();
    let config = format!(
        "listen.tcp_udp 127.0.0.1:0\naccess.whitelist {}\n",
        list.display()
    );
    let server = Server::start(&config);
    assert!(server.start_log.join("\n").contains("1000001 info hashes"));
    text += &format!("{}\n", hex(&b));
    std::fs::write(&list, &text).unwrap();
    let s = udp_client(server.udp_v4());
    server.signal("HUP");
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut answered = 0;
    while is_denied(&announce(&server, &b)) {
        let t = Instant::now();
        assert_eq!(
            &udp_announce(&s, &a)[..4],
            &[0, 0, 0, 1],
            "served during the reload"
        );
        slowest = slowest.max(t.elapsed());
        answered += 1;
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "reload not done in 20 s"
        );
    }
    assert!(answered > 0, "the reload took some turns of the loop");
    let log = server.log_lines().join("\n");
    assert!(log.contains("1000002 info hashes"), "{log}");
    // Not a timing assertion: printed for the record (`cargo test -- --nocapture`).
    println!("1M-hash reload: {answered} UDP announces answered meanwhile, slowest {slowest:?}");
}
