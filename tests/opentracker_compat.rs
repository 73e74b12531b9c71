//! Differential tests against the reference implementation: Debian's `opentracker` package and
//! trackseed run side by side on loopback, both are sent the same requests in the same order,
//! and their answers are compared. Compatibility is checked against the real program rather
//! than against our reading of its source.
//!
//! Debian builds opentracker whitelist-only, so each test starts it with a whitelist of the
//! test's (random) info hashes, chrooted (when run as root) to a temp dir holding that list.
//! Random hashes also make a request that reached some other opentracker fail loudly
//! ("not authorized") instead of silently mixing two swarms.
//!
//! Differences that are asserted as differences, each named where it is checked:
//! - self-exclusion: opentracker returns the requester in its own peer list, trackseed never;
//! - seeders get leechers only: trackseed gives a seeder no other seeders, opentracker does;
//! - `compact=0`: opentracker answers 400, trackseed a dictionary-model peer list;
//! - HTTP/1.1 keep-alive: opentracker closes after each answer, trackseed keeps the connection;
//! - multi-hash scrape: trackseed answers distinct hashes sorted (bencode dictionary order),
//!   opentracker in request order, repeats included;
//! - the `event=stopped` answer: opentracker's has no `downloaded` key (trackseed's may);
//! - the UDP error text: opentracker sends a trailing NUL after it (trackseed may not);
//! - BEP 24: trackseed's announce answers carry `external ip`, opentracker's do not.
//!
//! If opentracker is missing the tests fail and name the command that installs it.

mod common;

use common::clients::{random_bytes, random_u64};
use common::{http_get, udp_client, urlencode, Server, TempDir, IO_TIMEOUT};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const INSTALL: &str = "sudo apt-get install -y opentracker";
/// Fresh ports tried before giving up on starting a tracker.
const START_ATTEMPTS: usize = 5;
/// How long one opentracker start may take to answer on both TCP and UDP, and how often it is
/// asked meanwhile.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
const READY_POLLS: usize = 200;
/// opentracker's interval, and trackseed's: 1800 s - 180 + rand() % 360.
const INTERVAL_MIN: i64 = 1620;
const INTERVAL_MAX: i64 = 1979;
/// BEP 15 connect magic.
const MAGIC: u64 = 0x0417_2710_1980;
const CONNECTION_ID_MISMATCH: &[u8] = b"Connection ID missmatch.";

// ---------------------------------------------------------------------------------------------
// The reference: Debian's opentracker

/// A running opentracker, killed (and its directory removed) when dropped.
struct OpenTracker {
    child: Child,
    /// TCP and UDP both listen on this address.
    addr: SocketAddr,
    dir: TempDir,
}

impl Drop for OpenTracker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// opentracker on PATH, else in /usr/bin or /usr/sbin; fails with the install command.
fn opentracker_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("opentracker"))
        .find(|p| is_executable(p))
        .unwrap_or_else(|| {
            panic!(
                "opentracker, the reference these tests compare trackseed with, is not \
                 installed. Install it with:\n    {INSTALL}\n(or run tests/deps.sh)"
            )
        })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", p.display()));
}

/// A port that 127.0.0.1 can bind for both TCP and UDP right now, never the same twice in this
/// process, picked at random outside the kernel's ephemeral range. Not port 0: both trackers set
/// SO_REUSEADDR on their UDP sockets, and Linux may hand such a socket that binds port 0 a port
/// another SO_REUSEADDR socket holds (a trackseed of a test running in parallel, say), which
/// then takes part of its datagrams. opentracker also sets SO_REUSEPORT, so even two of them
/// can share a port without an error: `only_listener` checks each port after the start.
fn free_port() -> u16 {
    static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let range = outside_ephemeral_ports();
    let span = u64::from(range.end - range.start);
    for _ in 0..1000 {
        let port = range.start + (random_u64() % span) as u16;
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        if handed_out.contains(&port) {
            continue;
        }
        // std sets no SO_REUSEADDR on UDP sockets, so this fails on a port any socket holds.
        let tcp_ok = TcpListener::bind(("127.0.0.1", port)).is_ok();
        if tcp_ok && UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            handed_out.push(port);
            return port;
        }
    }
    panic!("no port in {range:?} free for both TCP and UDP on 127.0.0.1 in 1000 tries");
}

/// Ports the kernel never picks for a bind to port 0: below its ephemeral range (Linux's default
/// is 32768-60999), or above it when that leaves more room.
fn outside_ephemeral_ports() -> std::ops::Range<u16> {
    let (lo, hi) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| {
            let mut it = t.split_whitespace().map(|n| n.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999));
    let below = lo.saturating_sub(10000);
    let above = u16::MAX - hi;
    if below >= above && below > 0 {
        10000..lo
    } else if above > 0 {
        hi + 1..u16::MAX
    } else {
        10000..u16::MAX
    }
}

/// trackseed on a port from `free_port`, retried on fresh ports.
fn start_trackseed() -> Server {
    let mut failures = Vec::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port();
        let config = format!("listen.tcp_udp 127.0.0.1:{port}\n");
        match Server::try_start(&config, &[]).and_then(|s| only_listener(port).map(|()| s)) {
            Ok(server) => return server,
            Err(e) => failures.push(format!("port {port}: {e}")),
        }
    }
    panic!(
        "trackseed did not start in {START_ATTEMPTS} attempts:\n{}",
        failures.join("\n")
    );
}

impl OpenTracker {
    /// Starts opentracker with `whitelist` (which must hold `probe`) on a free port, retrying on
    /// fresh ports, and waits until it answers on TCP and UDP and has read its whitelist.
    fn start(whitelist: &[[u8; 20]], probe: &[u8; 20]) -> OpenTracker {
        assert!(whitelist.contains(probe));
        let bin = opentracker_binary();
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let dir = TempDir::new("opentracker");
            // Run as root it chroots to the directory and reads the list as `nobody`.
            set_mode(dir.path(), 0o755);
            let list = dir.path().join("whitelist.txt");
            let text: String = whitelist.iter().map(|h| hex(h) + "\n").collect();
            std::fs::write(&list, text).expect("write whitelist");
            set_mode(&list, 0o644);
            let log = std::fs::File::create(dir.path().join("stderr.txt")).expect("log file");
            let port = free_port();
            let child = Command::new(&bin)
                .args(["-i", "127.0.0.1", "-p", &port.to_string()])
                .args(["-P", &port.to_string(), "-u", "nobody"])
                .arg("-d")
                .arg(dir.path())
                // Relative: inside the chroot (or the working directory when not root).
                .args(["-w", "whitelist.txt"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            let mut ot = OpenTracker {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                dir,
            };
            match ot.wait_ready(probe) {
                Ok(()) => return ot,
                Err(e) => failures.push(format!(
                    "port {port}: {e}; it printed: {:?}",
                    std::fs::read_to_string(ot.dir.path().join("stderr.txt")).unwrap_or_default()
                )),
            }
        }
        panic!(
            "{} did not start in {START_ATTEMPTS} attempts:\n{}",
            bin.display(),
            failures.join("\n")
        );
    }

    fn wait_ready(&mut self, probe: &[u8; 20]) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let udp = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(|e| e.to_string())?;
        udp.connect(self.addr).map_err(|e| e.to_string())?;
        let (mut udp_ok, mut http_ok) = (false, false);
        let mut last = String::from("no answer yet");
        for _ in 0..READY_POLLS {
            if Instant::now() > deadline {
                break;
            }
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("exited: {status}"));
            }
            if !udp_ok {
                let _ = udp.send(&connect_packet(1));
                let mut buf = [0u8; 64];
                udp_ok = matches!(udp.recv(&mut buf), Ok(16));
            }
            if !http_ok {
                // A stopped announce: answered once the whitelist is loaded, and it leaves no
                // torrent behind (trackseed is sent the same one, see `Pair::start`).
                match try_http_get(self.addr, &announce_path(probe, 1, 0, "&event=stopped")) {
                    Some((200, body)) if body.starts_with(b"d8:complete") => http_ok = true,
                    Some((status, body)) => {
                        last = format!("HTTP {status} {}", body.escape_ascii());
                    }
                    None => {}
                }
            }
            if udp_ok && http_ok {
                return only_listener(self.addr.port());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "no answer within {READY_TIMEOUT:?} or {READY_POLLS} polls (udp {udp_ok}, http \
             {http_ok}; last: {last})"
        ))
    }
}

/// Fails when more than one socket listens on TCP `port` or is bound to UDP `port`: another
/// process sharing it through SO_REUSEPORT or (UDP) SO_REUSEADDR would get part of the
/// requests. Skipped where /proc/net is not readable.
fn only_listener(port: u16) -> Result<(), String> {
    for (table, state) in [("/proc/net/tcp", "0A"), ("/proc/net/udp", "07")] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        let suffix = format!(":{port:04X}");
        let n = text
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .filter(|f| f.len() > 3 && f[1].ends_with(&suffix) && f[3] == state)
            .count();
        if n > 1 {
            return Err(format!("{n} sockets share port {port} in {table}"));
        }
    }
    Ok(())
}

/// One HTTP/1.0 GET that never panics (for polling): (status, body), or None.
fn try_http_get(addr: SocketAddr, target: &str) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(1))).ok()?;
    write!(s, "GET {target} HTTP/1.0\r\nHost: test\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]);
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, buf[end + 4..].to_vec()))
}

// ---------------------------------------------------------------------------------------------
// The pair under comparison

struct Pair {
    ot: OpenTracker,
    ts: Server,
}

impl Pair {
    /// Both trackers, each sent the same stopped announce of `probe` (opentracker's readiness
    /// check), so they start from the same state.
    fn start(hashes: &Hashes) -> Pair {
        let mut whitelist = hashes.all.clone();
        whitelist.push(hashes.probe);
        let ot = OpenTracker::start(&whitelist, &hashes.probe);
        let ts = start_trackseed();
        let (status, body) = try_http_get(
            ts.tcp_v4(),
            &announce_path(&hashes.probe, 1, 0, "&event=stopped"),
        )
        .expect("trackseed answers");
        assert_eq!(status, 200, "{}", body.escape_ascii());
        Pair { ot, ts }
    }

    fn http(&self) -> (SocketAddr, SocketAddr) {
        (self.ot.addr, self.ts.tcp_v4())
    }

    fn udp(&self) -> (SocketAddr, SocketAddr) {
        (self.ot.addr, self.ts.udp_v4())
    }

    /// The same GET to both: ((status, body) from opentracker, (status, body) from trackseed).
    fn get(&self, target: &str) -> ((u16, Vec<u8>), (u16, Vec<u8>)) {
        let (ot, ts) = self.http();
        let (so, _, bo) = http_get(ot, target);
        let (st, _, bt) = http_get(ts, target);
        ((so, bo), (st, bt))
    }
}

/// The info hashes of one test: random, so every run (and every test) has its own.
struct Hashes {
    all: Vec<[u8; 20]>,
    probe: [u8; 20],
}

impl Hashes {
    fn new(n: usize) -> Hashes {
        let bytes = random_bytes(20 * (n + 1));
        let mut all: Vec<[u8; 20]> = bytes
            .chunks(20)
            .map(|c| c.try_into().expect("20 bytes"))
            .collect();
        let probe = all.pop().expect("n + 1 hashes");
        Hashes { all, probe }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Bencode

#[derive(Debug, Clone, PartialEq)]
enum Bencode {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Bencode>),
    Dict(Vec<(Vec<u8>, Bencode)>),
}

impl Bencode {
    /// Parses a whole body; panics (showing it) on anything else.
    fn parse(b: &[u8]) -> Bencode {
        let mut at = 0;
        match Bencode::value(b, &mut at, 0) {
            Some(v) if at == b.len() => v,
            _ => panic!("not one bencoded value: {}", b.escape_ascii()),
        }
    }

    fn value(b: &[u8], at: &mut usize, depth: usize) -> Option<Bencode> {
        if depth > 8 {
            return None;
        }
        match *b.get(*at)? {
            b'i' => {
                let end = *at + b[*at..].iter().position(|&c| c == b'e')?;
                let n = std::str::from_utf8(&b[*at + 1..end]).ok()?.parse().ok()?;
                *at = end + 1;
                Some(Bencode::Int(n))
            }
            b'l' | b'd' => {
                let dict = b[*at] == b'd';
                *at += 1;
                let (mut list, mut entries) = (Vec::new(), Vec::new());
                while *b.get(*at)? != b'e' {
                    if dict {
                        let Bencode::Bytes(key) = Bencode::value(b, at, depth + 1)? else {
                            return None;
                        };
                        entries.push((key, Bencode::value(b, at, depth + 1)?));
                    } else {
                        list.push(Bencode::value(b, at, depth + 1)?);
                    }
                }
                *at += 1;
                Some(if dict {
                    Bencode::Dict(entries)
                } else {
                    Bencode::List(list)
                })
            }
            b'0'..=b'9' => {
                let colon = *at + b[*at..].iter().position(|&c| c == b':')?;
                let len: usize = std::str::from_utf8(&b[*at..colon]).ok()?.parse().ok()?;
                let end = colon.checked_add(1 + len)?;
                let bytes = b.get(colon + 1..end)?.to_vec();
                *at = end;
                Some(Bencode::Bytes(bytes))
            }
            _ => None,
        }
    }

    fn entries(&self) -> &[(Vec<u8>, Bencode)] {
        match self {
            Bencode::Dict(e) => e,
            other => panic!("not a dictionary: {other:?}"),
        }
    }

    fn get(&self, key: &str) -> Option<&Bencode> {
        self.entries()
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }

    fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Bencode::Int(n) => Some(*n),
            other => panic!("{key} is not an integer: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// A peer id per port, so each simulated client has its own.
fn peer_id(port: u16) -> String {
    format!("-TS0001-{port:012}")
}

fn announce_path(hash: &[u8; 20], port: u16, left: u64, extra: &str) -> String {
    format!(
        "/announce?info_hash={}&peer_id={}&port={port}&uploaded=0&downloaded=0&left={left}\
         &compact=1{extra}",
        urlencode(hash),
        urlencode(peer_id(port).as_bytes())
    )
}

fn scrape_path(hashes: &[&[u8; 20]]) -> String {
    let q: Vec<String> = hashes
        .iter()
        .map(|h| format!("info_hash={}", urlencode(&h[..])))
        .collect();
    format!("/scrape?{}", q.join("&"))
}

/// An announce answer, decoded.
#[derive(Debug)]
struct HttpAnnounce {
    keys: Vec<String>,
    complete: i64,
    downloaded: Option<i64>,
    incomplete: i64,
    interval: i64,
    min_interval: i64,
    /// Ports of the compact IPv4 peers, sorted (every address is checked to be 127.0.0.1).
    peers: Vec<u16>,
}

fn http_announce(who: &str, status: u16, body: &[u8]) -> HttpAnnounce {
    assert_eq!(status, 200, "{who}: {}", body.escape_ascii());
    let b = Bencode::parse(body);
    let need = |k: &str| {
        b.int(k)
            .unwrap_or_else(|| panic!("{who}: no {k} in {}", body.escape_ascii()))
    };
    let peers = match b.get("peers") {
        Some(Bencode::Bytes(p)) => compact_ports(who, p),
        other => panic!("{who}: compact peers expected, got {other:?}"),
    };
    // Difference (deliberate): trackseed adds BEP 24's `external ip`, the requester's address
    // as raw bytes; opentracker has no such key. Checked here, then left out of the comparison.
    if who == "trackseed" {
        match b.get("external ip") {
            Some(Bencode::Bytes(ip)) => assert_eq!(ip, &[127, 0, 0, 1], "{who}: external ip"),
            other => panic!("{who}: `external ip` expected, got {other:?}"),
        }
    }
    HttpAnnounce {
        keys: b
            .entries()
            .iter()
            .map(|(k, _)| String::from_utf8_lossy(k).to_string())
            .filter(|k| k != "external ip")
            .collect(),
        complete: need("complete"),
        downloaded: b.int("downloaded"),
        incomplete: need("incomplete"),
        interval: need("interval"),
        min_interval: need("min interval"),
        peers,
    }
}

/// Ports of 6-byte compact IPv4 entries, sorted; each address must be 127.0.0.1.
fn compact_ports(who: &str, p: &[u8]) -> Vec<u16> {
    assert_eq!(p.len() % 6, 0, "{who}: compact peers of 6 bytes: {p:?}");
    let mut ports: Vec<u16> = p
        .chunks(6)
        .map(|e| {
            assert_eq!(&e[..4], &[127, 0, 0, 1], "{who}: peer address");
            u16::from_be_bytes([e[4], e[5]])
        })
        .collect();
    ports.sort_unstable();
    ports
}

fn check_interval(who: &str, interval: i64, min_interval: Option<i64>, max: i64) {
    assert!(
        (INTERVAL_MIN..=max).contains(&interval),
        "{who}: interval {interval} outside {INTERVAL_MIN}..={max}"
    );
    if let Some(min) = min_interval {
        assert_eq!(min, interval / 2, "{who}: min interval is interval/2");
    }
}

/// What trackseed should hand `me` given opentracker's peer list for the same announce.
fn expected_trackseed_peers(
    ot: &[u16],
    me: u16,
    me_seeding: bool,
    seeders: &[u16],
    ctx: &str,
) -> Vec<u16> {
    // Self-exclusion: opentracker returns the requester itself ("Does not yet check not to
    // return self"), trackseed never does.
    assert_eq!(
        ot.iter().filter(|&&p| p == me).count(),
        1,
        "opentracker returns the requester {me} in its own list once: {ot:?}: {ctx}"
    );
    ot.iter()
        .copied()
        .filter(|&p| p != me)
        // Seeders get leechers only: trackseed gives a seeder no other seeders (they have
        // nothing to trade), opentracker gives everyone everything.
        .filter(|p| !(me_seeding && seeders.contains(p)))
        .collect()
}

/// Compares one HTTP announce answered by both; returns opentracker's (complete, downloaded,
/// incomplete) after checking trackseed's are the same.
fn compare_http_announce(
    step: &str,
    ((so, bo), (st, bt)): ((u16, Vec<u8>), (u16, Vec<u8>)),
    me: u16,
    me_seeding: bool,
    seeders: &[u16],
) -> (i64, Option<i64>, i64) {
    let ctx = format!(
        "{step}\n  opentracker: {}\n  trackseed:   {}",
        bo.escape_ascii(),
        bt.escape_ascii()
    );
    let o = http_announce("opentracker", so, &bo);
    let t = http_announce("trackseed", st, &bt);
    assert_eq!(o.keys, t.keys, "same keys in the same order: {ctx}");
    assert_eq!(
        (o.complete, o.downloaded, o.incomplete),
        (t.complete, t.downloaded, t.incomplete),
        "same counts: {ctx}"
    );
    check_interval(
        "opentracker",
        o.interval,
        Some(o.min_interval),
        INTERVAL_MAX,
    );
    check_interval("trackseed", t.interval, Some(t.min_interval), INTERVAL_MAX);
    assert_eq!(
        t.peers,
        expected_trackseed_peers(&o.peers, me, me_seeding, seeders, &ctx),
        "peers: {ctx}"
    );
    (o.complete, o.downloaded, o.incomplete)
}

/// Reads one response with a Content-Length from a connection that may stay open.
fn read_one_response(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).expect("read response head");
        assert_eq!(
            n,
            1,
            "closed before the head ended: {}",
            head.escape_ascii()
        );
        head.push(byte[0]);
        assert!(head.len() < 4096, "head too long");
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length:"))
        .unwrap_or_else(|| panic!("no Content-Length in {head}"))
        .trim()
        .parse()
        .expect("Content-Length is a number");
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).expect("read body");
    (head, body)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

#[test]
fn http_announce_scrape_and_errors_match_opentracker() {
    let hashes = Hashes::new(4);
    let [h1, h2, unknown, stopped_only] = [0, 1, 2, 3].map(|i| hashes.all[i]);
    let pair = Pair::start(&hashes);

    // A stopped announce for a torrent nobody announced: same shape, and no torrent is left.
    let ((so, bo), (st, bt)) = pair.get(&announce_path(&stopped_only, 6880, 0, "&event=stopped"));
    compare_stopped("stopped, unknown torrent", (so, &bo), (st, &bt), (0, 0));

    // A seeder, then two leechers, on one torrent.
    let on_h1 = |port, left, extra| pair.get(&announce_path(&h1, port, left, extra));
    let a = compare_http_announce(
        "seeder A starts",
        on_h1(6881, 0, "&event=started"),
        6881,
        true,
        &[],
    );
    assert_eq!(a, (1, Some(0), 0));
    let b = compare_http_announce(
        "leecher B starts",
        on_h1(6882, 100, "&event=started"),
        6882,
        false,
        &[6881],
    );
    assert_eq!(b, (1, Some(0), 1));
    let c = compare_http_announce("leecher C", on_h1(6883, 50, ""), 6883, false, &[6881]);
    assert_eq!(c, (1, Some(0), 2));
    // B completes: downloaded counts it, and B is now a seeder.
    let b = compare_http_announce(
        "B completed",
        on_h1(6882, 0, "&event=completed"),
        6882,
        true,
        &[6881, 6882],
    );
    assert_eq!(b, (2, Some(1), 1));
    // A second torrent with one seeder.
    let d = compare_http_announce(
        "seeder D, second torrent",
        pair.get(&announce_path(&h2, 6884, 0, "")),
        6884,
        true,
        &[],
    );
    assert_eq!(d, (1, Some(0), 0));

    // Scrape of known and unknown hashes, asked in hash order: byte-identical, unknown ones
    // (and the one only ever stopped) left out.
    let mut asked = [h1, h2, unknown, stopped_only];
    asked.sort_unstable();
    let ((so, bo), (st, bt)) = pair.get(&scrape_path(&asked.each_ref()));
    assert_eq!((so, st), (200, 200));
    assert_eq!(
        bo.escape_ascii().to_string(),
        bt.escape_ascii().to_string(),
        "scrape, opentracker then trackseed"
    );
    let entry = |h: &[u8; 20], counts: &[u8]| [&b"20:"[..], h, counts].concat();
    let e1 = entry(&h1, b"d8:completei2e10:downloadedi1e10:incompletei1ee");
    let e2 = entry(&h2, b"d8:completei1e10:downloadedi0e10:incompletei0ee");
    let want = if h1 < h2 { [e1, e2] } else { [e2, e1] };
    assert_eq!(bo, [&b"d5:filesd"[..], &want.concat(), b"ee"].concat());
    // Multi-scrape order (deliberate, src/tracker/http.rs): trackseed answers distinct hashes
    // sorted, as bencode dictionary keys must be; opentracker echoes the request order,
    // duplicates included. The counts are the same.
    let (lo, hi) = if h1 < h2 { (h1, h2) } else { (h2, h1) };
    let ((_, bo), (_, bt)) = pair.get(&scrape_path(&[&hi, &lo, &unknown, &hi]));
    let keys = |b: &[u8]| -> Vec<(Vec<u8>, Bencode)> {
        Bencode::parse(b)
            .get("files")
            .expect("files")
            .entries()
            .to_vec()
    };
    let (ko, kt) = (keys(&bo), keys(&bt));
    let names = |k: &[(Vec<u8>, Bencode)]| k.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&ko),
        [hi.to_vec(), lo.to_vec(), hi.to_vec()],
        "opentracker"
    );
    assert_eq!(names(&kt), [lo.to_vec(), hi.to_vec()], "trackseed");
    assert_eq!(&ko[..2], &[kt[1].clone(), kt[0].clone()], "same counts");
    let ((so, bo), (st, bt)) = pair.get(&scrape_path(&[&unknown]));
    assert_eq!((so, &bo[..]), (200, &b"d5:filesdee"[..]), "opentracker");
    assert_eq!((st, &bt[..]), (200, &b"d5:filesdee"[..]), "trackseed");

    // B stops.
    let ((so, bo), (st, bt)) = pair.get(&announce_path(&h1, 6882, 0, "&event=stopped"));
    compare_stopped("B stopped", (so, &bo), (st, &bt), (1, 1));

    // No info_hash: the same failure text.
    let ((so, bo), (st, bt)) = pair.get(&format!(
        "/announce?peer_id={}&port=6885&left=0&compact=1",
        urlencode(peer_id(6885).as_bytes())
    ));
    assert_eq!(
        (so, bo.escape_ascii().to_string()),
        (st, bt.escape_ascii().to_string()),
        "missing info_hash"
    );
    assert_eq!(
        bo,
        b"d14:failure reason80:Your client forgot to send your torrent's info_hash. \
          Please upgrade your client.e"
    );

    // Full scrape (no Accept-Encoding sent, so no gzip): the same torrents and counts; the
    // order of the entries is each tracker's own.
    let ((so, bo), (st, bt)) = pair.get("/scrape");
    assert_eq!((so, st), (200, 200));
    let o = full_scrape("opentracker", &bo);
    let t = full_scrape("trackseed", &bt);
    assert_eq!(o, t, "full scrape");
    let counts = |h: &[u8; 20], c, d, i| (h.to_vec(), vec![c, d, i]);
    let mut want = vec![counts(&h1, 1, 1, 1), counts(&h2, 1, 0, 0)];
    want.sort();
    assert_eq!(o, want, "full scrape holds the two live torrents");
}

/// Compares stopped answers: same keys in the same order, 0 peers, same counts `(complete,
/// incomplete)`.
fn compare_stopped(step: &str, (so, bo): (u16, &[u8]), (st, bt): (u16, &[u8]), want: (i64, i64)) {
    let ctx = format!(
        "{step}\n  opentracker: {}\n  trackseed:   {}",
        bo.escape_ascii(),
        bt.escape_ascii()
    );
    let o = http_announce("opentracker", so, bo);
    let t = http_announce("trackseed", st, bt);
    // Difference (reported): opentracker's stopped answer has no `downloaded` key
    // (`d8:completei%de10:incompletei%de8:intervali%de12:min intervali%de5:peers0:e`);
    // trackseed's has one. Compared without it.
    assert_eq!(o.downloaded, None, "opentracker: {ctx}");
    let t_keys: Vec<&String> = t.keys.iter().filter(|k| *k != "downloaded").collect();
    assert_eq!(
        o.keys.iter().collect::<Vec<_>>(),
        t_keys,
        "same keys, in the same order: {ctx}"
    );
    assert_eq!((o.complete, o.incomplete), want, "opentracker: {ctx}");
    assert_eq!((t.complete, t.incomplete), want, "trackseed: {ctx}");
    assert!(o.peers.is_empty() && t.peers.is_empty(), "no peers: {ctx}");
    check_interval(
        "opentracker",
        o.interval,
        Some(o.min_interval),
        INTERVAL_MAX,
    );
    check_interval("trackseed", t.interval, Some(t.min_interval), INTERVAL_MAX);
}

/// A full scrape `d5:filesd<20-byte hash>d8:completei..e10:downloadedi..e10:incompletei..ee...ee`
/// as sorted (hash, [complete, downloaded, incomplete]).
fn full_scrape(who: &str, body: &[u8]) -> Vec<(Vec<u8>, Vec<i64>)> {
    assert!(
        body.starts_with(b"d5:filesd") && body.ends_with(b"ee"),
        "{who}: {}",
        body.escape_ascii()
    );
    let b = Bencode::parse(body);
    assert_eq!(b.entries().len(), 1, "{who}: only `files`");
    let files = b.get("files").expect("files");
    let mut out: Vec<(Vec<u8>, Vec<i64>)> = files
        .entries()
        .iter()
        .map(|(hash, v)| {
            assert_eq!(hash.len(), 20, "{who}: 20-byte keys");
            let keys: Vec<&[u8]> = v.entries().iter().map(|(k, _)| &k[..]).collect();
            assert_eq!(
                keys,
                [&b"complete"[..], b"downloaded", b"incomplete"],
                "{who}"
            );
            let n = |k| v.int(k).expect("count");
            (
                hash.clone(),
                vec![n("complete"), n("downloaded"), n("incomplete")],
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn http_deliberate_differences_from_opentracker() {
    let hashes = Hashes::new(1);
    let h = hashes.all[0];
    let pair = Pair::start(&hashes);
    let (ot, ts) = pair.http();
    let a = compare_http_announce(
        "seeder A",
        pair.get(&announce_path(&h, 6881, 0, "")),
        6881,
        true,
        &[],
    );
    assert_eq!(a, (1, Some(0), 0));

    // HTTP/1.1 keep-alive: opentracker closes the connection after its answer (its head still
    // says HTTP/1.1, without `Connection: close`); trackseed keeps it and answers again on it.
    let request = format!("GET {} HTTP/1.1\r\nHost: test\r\n\r\n", scrape_path(&[&h]));
    let mut o = connect(ot);
    o.write_all(request.as_bytes()).unwrap();
    let (o_head, o_body) = read_one_response(&mut o);
    assert!(o_head.starts_with("HTTP/1.1 200 "), "{o_head}");
    let mut rest = [0u8; 16];
    match o.read(&mut rest) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("opentracker closes after one answer, got {other:?}"),
    }
    let mut t = connect(ts);
    for round in 0..2 {
        t.write_all(request.as_bytes()).unwrap();
        let (t_head, t_body) = read_one_response(&mut t);
        assert!(t_head.starts_with("HTTP/1.1 200 "), "{t_head}");
        assert!(
            !t_head.contains("Connection: close"),
            "round {round}: {t_head}"
        );
        assert_eq!(
            t_body.escape_ascii().to_string(),
            o_body.escape_ascii().to_string(),
            "the answers themselves match (round {round})"
        );
    }

    // compact=0: opentracker refuses with 400 and does not add the peer; trackseed answers with
    // the dictionary model (BEP 3) and adds it.
    let ((so, bo), (st, bt)) =
        pair.get(&announce_path(&h, 6882, 10, "").replace("&compact=1", "&compact=0"));
    assert_eq!(
        (so, bo.escape_ascii().to_string()),
        (400, "<title>Invalid Request</title>\\n".to_string()),
        "opentracker, compact=0"
    );
    assert_eq!(st, 200, "trackseed, compact=0: {}", bt.escape_ascii());
    let t = Bencode::parse(&bt);
    assert_eq!(t.int("complete"), Some(1));
    assert_eq!(t.int("incomplete"), Some(1));
    let peer = |port| {
        Bencode::Dict(vec![
            (b"ip".to_vec(), Bencode::Bytes(b"127.0.0.1".to_vec())),
            (b"port".to_vec(), Bencode::Int(port)),
        ])
    };
    assert_eq!(
        t.get("peers"),
        Some(&Bencode::List(vec![peer(6881)])),
        "trackseed, compact=0: {}",
        bt.escape_ascii()
    );
    let ((_, bo), (_, bt)) = pair.get(&scrape_path(&[&h]));
    let counts = |b: &[u8]| full_scrape("scrape", b)[0].1.clone();
    assert_eq!(counts(&bo), [1, 0, 0], "opentracker did not add the peer");
    assert_eq!(counts(&bt), [1, 0, 1], "trackseed added the peer");
}

// ---------------------------------------------------------------------------------------------
// UDP

fn connect_packet(tid: u32) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&MAGIC.to_be_bytes());
    p[12..].copy_from_slice(&tid.to_be_bytes());
    p
}

fn exchange(s: &UdpSocket, packet: &[u8]) -> Vec<u8> {
    s.send(packet).expect("send");
    let mut buf = [0u8; 2048];
    let n = s.recv(&mut buf).expect("an answer within the timeout");
    buf[..n].to_vec()
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().expect("4 bytes"))
}

/// One simulated UDP client: a socket and connection id per tracker.
struct UdpPeer {
    ot: (UdpSocket, [u8; 8]),
    ts: (UdpSocket, [u8; 8]),
}

impl UdpPeer {
    fn new(pair: &Pair, tid: u32) -> UdpPeer {
        let (ot, ts) = pair.udp();
        let connect = |addr| {
            let s = udp_client(addr);
            let r = exchange(&s, &connect_packet(tid));
            assert_eq!(r.len(), 16, "connect answer: {r:?}");
            assert_eq!((be32(&r), be32(&r[4..])), (0, tid), "action 0, tid echoed");
            let cid: [u8; 8] = r[8..].try_into().unwrap();
            (s, cid)
        };
        let (o, t) = (connect(ot), connect(ts));
        UdpPeer { ot: o, ts: t }
    }

    /// The same request (built from each tracker's connection id) to both.
    fn both(&self, build: impl Fn([u8; 8]) -> Vec<u8>) -> (Vec<u8>, Vec<u8>) {
        (
            exchange(&self.ot.0, &build(self.ot.1)),
            exchange(&self.ts.0, &build(self.ts.1)),
        )
    }
}

fn udp_announce(
    cid: [u8; 8],
    tid: u32,
    hash: &[u8; 20],
    left: u64,
    event: u32,
    port: u16,
) -> Vec<u8> {
    let mut p = vec![0u8; 98];
    p[..8].copy_from_slice(&cid);
    p[8..12].copy_from_slice(&1u32.to_be_bytes());
    p[12..16].copy_from_slice(&tid.to_be_bytes());
    p[16..36].copy_from_slice(hash);
    p[36..56].copy_from_slice(peer_id(port).as_bytes());
    p[64..72].copy_from_slice(&left.to_be_bytes());
    p[80..84].copy_from_slice(&event.to_be_bytes());
    p[92..96].copy_from_slice(&(-1i32).to_be_bytes());
    p[96..98].copy_from_slice(&port.to_be_bytes());
    p
}

fn udp_scrape(cid: [u8; 8], tid: u32, hashes: &[&[u8; 20]]) -> Vec<u8> {
    let mut p = cid.to_vec();
    p.extend_from_slice(&2u32.to_be_bytes());
    p.extend_from_slice(&tid.to_be_bytes());
    for h in hashes {
        p.extend_from_slice(&h[..]);
    }
    p
}

/// Compares one UDP announce answer; returns opentracker's (leechers, seeders).
fn compare_udp_announce(
    step: &str,
    (o, t): (Vec<u8>, Vec<u8>),
    tid: u32,
    me: u16,
    me_seeding: bool,
    seeders: &[u16],
) -> (u32, u32) {
    let ctx = format!("{step}\n  opentracker: {o:?}\n  trackseed:   {t:?}");
    let max = [INTERVAL_MAX, INTERVAL_MAX];
    for ((who, r), max) in [("opentracker", &o), ("trackseed", &t)]
        .into_iter()
        .zip(max)
    {
        assert!(
            r.len() >= 20 && (r.len() - 20) % 6 == 0,
            "{who}: layout: {ctx}"
        );
        assert_eq!(
            (be32(r), be32(&r[4..])),
            (1, tid),
            "{who}: action, tid: {ctx}"
        );
        check_interval(who, i64::from(be32(&r[8..])), None, max);
    }
    assert_eq!(
        (be32(&o[12..]), be32(&o[16..])),
        (be32(&t[12..]), be32(&t[16..])),
        "same leechers and seeders: {ctx}"
    );
    assert_eq!(
        compact_ports("trackseed", &t[20..]),
        expected_trackseed_peers(
            &compact_ports("opentracker", &o[20..]),
            me,
            me_seeding,
            seeders,
            &ctx
        ),
        "peers: {ctx}"
    );
    (be32(&o[12..]), be32(&o[16..]))
}

#[test]
fn udp_connect_announce_scrape_and_errors_match_opentracker() {
    let hashes = Hashes::new(2);
    let [h, unknown] = [0, 1].map(|i| hashes.all[i]);
    let pair = Pair::start(&hashes);
    let (a, b, c) = (
        UdpPeer::new(&pair, 0x0a),
        UdpPeer::new(&pair, 0x0b),
        UdpPeer::new(&pair, 0x0c),
    );
    const STARTED: u32 = 2;
    const COMPLETED: u32 = 1;
    const STOPPED: u32 = 3;
    let r = a.both(|cid| udp_announce(cid, 101, &h, 0, STARTED, 6881));
    assert_eq!(
        compare_udp_announce("seeder A", r, 101, 6881, true, &[]),
        (0, 1)
    );
    let r = b.both(|cid| udp_announce(cid, 102, &h, 100, STARTED, 6882));
    assert_eq!(
        compare_udp_announce("leecher B", r, 102, 6882, false, &[6881]),
        (1, 1)
    );
    let r = c.both(|cid| udp_announce(cid, 103, &h, 50, 0, 6883));
    assert_eq!(
        compare_udp_announce("leecher C", r, 103, 6883, false, &[6881]),
        (2, 1)
    );
    let r = b.both(|cid| udp_announce(cid, 104, &h, 0, COMPLETED, 6882));
    assert_eq!(
        compare_udp_announce("B completed", r, 104, 6882, true, &[6881, 6882]),
        (1, 2)
    );

    // Scrape: byte-identical, unknown hashes as zeros.
    let (o, t) = c.both(|cid| udp_scrape(cid, 105, &[&h, &unknown, &h]));
    assert_eq!(o, t, "scrape");
    let mut want = vec![0, 0, 0, 2, 0, 0, 0, 105];
    for counts in [[2, 1, 1], [0, 0, 0], [2, 1, 1]] {
        for n in counts {
            want.extend_from_slice(&u32::to_be_bytes(n));
        }
    }
    assert_eq!(o, want, "scrape: seeders, completed, leechers per hash");

    // A wrong connection id (each tracker's own, inverted), for announce and for scrape: an
    // error (action 3) with the same text. Difference (reported): opentracker sends a NUL after
    // the text, trackseed does not; compared without it.
    let bad = |cid: [u8; 8]| cid.map(|b| !b);
    let errors = [
        a.both(|cid| udp_announce(bad(cid), 106, &h, 0, 0, 6881)),
        a.both(|cid| udp_scrape(bad(cid), 107, &[&h])),
    ];
    for ((o, t), tid) in errors.into_iter().zip([106, 107]) {
        for (who, r) in [("opentracker", &o), ("trackseed", &t)] {
            assert!(r.len() >= 8, "{who}: {r:?}");
            assert_eq!((be32(r), be32(&r[4..])), (3, tid), "{who}: error, tid");
            let text = r[8..].strip_suffix(b"\0").unwrap_or(&r[8..]);
            assert_eq!(
                text.escape_ascii().to_string(),
                CONNECTION_ID_MISMATCH.escape_ascii().to_string(),
                "{who}: error text"
            );
        }
    }

    // B stops: a 20-byte answer with the same counts, and it is gone from the scrape.
    let (o, t) = b.both(|cid| udp_announce(cid, 108, &h, 0, STOPPED, 6882));
    assert_eq!((o.len(), t.len()), (20, 20), "stopped: {o:?} {t:?}");
    assert_eq!((be32(&o), be32(&o[4..])), (1, 108));
    assert_eq!((be32(&t), be32(&t[4..])), (1, 108));
    assert_eq!((be32(&o[12..]), be32(&o[16..])), (1, 1), "opentracker");
    assert_eq!((be32(&t[12..]), be32(&t[16..])), (1, 1), "trackseed");
    let (o, t) = c.both(|cid| udp_scrape(cid, 109, &[&h]));
    assert_eq!(o, t, "scrape after stop");
    assert_eq!(&o[8..], &[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
}
