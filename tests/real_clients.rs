//! Interop with real BitTorrent clients from Debian: a seeder (python3-libtorrent, aria2c or
//! transmission-daemon) announces a random file to trackseed, aria2c learns the seeder from
//! trackseed (over HTTP or over UDP) and downloads the file, and the bytes are compared.
//!
//! Every client listens on 127.0.0.1 only, with DHT, local peer discovery, peer exchange and
//! port mapping off, so the tracker is the only way the downloader can find the seeder (aria2c
//! needs DHT switched on to use UDP trackers at all; it starts with an empty routing table and
//! no entry point, so DHT finds nothing). Before the download the test waits until trackseed's
//! scrape counts the seeder; after it, the scrape must still count the seeder, count aria2c's
//! `completed` event and no longer count aria2c, which announced `stopped`.
//!
//! Transmission only seeds: Transmission 3.00 takes loopback peers from a tracker ("Got 1 peers
//! from tracker") but never connects to them, so it cannot download here.
//!
//! The clients come from Debian (tests/deps.sh installs them). A missing one fails the test
//! with the `apt-get install` command that provides it.
//!
//! Every wait is bounded by one deadline per test, and every child process is killed on every
//! exit path by the guard that owns it (and stops by itself when this process goes away:
//! aria2c through --stop-with-process, the libtorrent script when its stdin closes).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::clients::{
    aria2_command, mkdir, parse_hex20, python_with_libtorrent, random_bytes, require_program,
    start_transmission, Proc, Proto, POLL,
};
use common::{http_get, urlencode, Server, TempDir};

/// Budget for one whole test: tracker start, torrent creation, seeding, download, checks.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);
/// Size of the shared file: not a multiple of any piece size, so the last piece is short.
const FILE_SIZE: usize = 2 * 1024 * 1024 + 12_345;
/// Transmission paces its uploads (and unchokes a new peer only at its next 10-second rechoke),
/// so it gets a smaller file to keep the test short.
const FILE_SIZE_TRANSMISSION: usize = 1024 * 1024 + 12_345;

/// trackseed for every test: HTTP and UDP on loopback, ports picked by the system.
const TRACKER_CONFIG: &str = "listen.tcp_udp 127.0.0.1:0\n";

/// The libtorrent side, run with python3 (Debian's python3-libtorrent is libtorrent-rasterbar
/// 2.0). `make DATA TORRENT TRACKER` writes a v1 .torrent for the file DATA that announces to
/// TRACKER and prints `INFOHASH <hex>`. `seed TORRENT SAVE_PATH SECONDS` seeds it from
/// SAVE_PATH on 127.0.0.1 (system-picked port), prints `LISTEN <port>`, `SEEDING` once the
/// data is checked, tracker and error alerts as `ALERT ...`, and runs until its stdin closes or
/// SECONDS pass.
const LIBTORRENT_PY: &str = r#"
import os, sys, threading, time
import libtorrent as lt

def make(data, torrent, tracker):
    fs = lt.file_storage()
    lt.add_files(fs, data)
    # v1 only: aria2c and Transmission 3 do not speak BitTorrent v2.
    t = lt.create_torrent(fs, 0, lt.create_torrent.v1_only)
    t.set_priv(False)
    t.add_tracker(tracker)
    t.set_creator("trackseed tests")
    lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(data)))
    buf = lt.bencode(t.generate())
    with open(torrent, "wb") as f:
        f.write(buf)
    ti = lt.torrent_info(lt.bdecode(buf))
    print("INFOHASH " + str(ti.info_hash()), flush=True)

def seed(torrent, save_path, seconds):
    cat = lt.alert.category_t
    s = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": cat.error_notification | cat.status_notification
            | cat.tracker_notification | cat.peer_notification,
    })
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(torrent)
    p.save_path = save_path
    # No resume data: libtorrent checks the files it finds, then seeds. Started right away.
    p.flags = (lt.torrent_flags.default_flags & ~lt.torrent_flags.paused
               & ~lt.torrent_flags.auto_managed) | lt.torrent_flags.disable_pex
    h = s.add_torrent(p)
    stop = threading.Event()
    def watch_stdin():
        sys.stdin.read()
        stop.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    deadline = time.monotonic() + seconds
    seeding = False
    while not stop.is_set() and time.monotonic() < deadline:
        for a in s.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert):
                print("LISTEN %d" % a.port, flush=True)
            print("ALERT %s: %s" % (type(a).__name__, a.message()), flush=True)
        if not seeding and h.status().is_seeding:
            seeding = True
            print("SEEDING", flush=True)
        stop.wait(0.05)

if sys.argv[1] == "make":
    make(sys.argv[2], sys.argv[3], sys.argv[4])
elif sys.argv[1] == "seed":
    seed(sys.argv[2], sys.argv[3], float(sys.argv[4]))
else:
    sys.exit("unknown mode " + sys.argv[1])
"#;

#[derive(Clone, Copy, Debug)]
enum Seeder {
    Libtorrent,
    Aria2,
    Transmission,
}

#[test]
fn aria2_downloads_from_libtorrent_over_http() {
    download(Seeder::Libtorrent, Proto::Http);
}

#[test]
fn aria2_downloads_from_libtorrent_over_udp() {
    download(Seeder::Libtorrent, Proto::Udp);
}

#[test]
fn aria2_downloads_from_aria2_over_http() {
    download(Seeder::Aria2, Proto::Http);
}

#[test]
fn aria2_downloads_from_aria2_over_udp() {
    download(Seeder::Aria2, Proto::Udp);
}

/// Transmission seeds; it cannot download on loopback (see the top of the file).
#[test]
fn aria2_downloads_from_transmission_over_http() {
    download(Seeder::Transmission, Proto::Http);
}

#[test]
fn aria2_downloads_from_transmission_over_udp() {
    download(Seeder::Transmission, Proto::Udp);
}

/// One scenario: trackseed, a torrent for a random file, `seeder` seeding it, aria2c
/// downloading it through the tracker URL of `proto`.
fn download(seeder: Seeder, proto: Proto) {
    let start = Instant::now();
    let deadline = start + TEST_TIMEOUT;
    // Progress lines: libtest shows them with a failure (or with --nocapture).
    let step = |what: &str| eprintln!("[{:5.1}s] {what}", start.elapsed().as_secs_f64());
    require_program(
        "aria2c",
        &["--version"],
        "aria2c (BitTorrent client)",
        "aria2",
    );
    let python = python_with_libtorrent();
    if let Seeder::Transmission = seeder {
        require_program(
            "transmission-daemon",
            &["--version"],
            "transmission-daemon",
            "transmission-daemon",
        );
    }

    let server = Server::start(TRACKER_CONFIG);
    let work = TempDir::new("real-clients");
    let seed_dir = mkdir(work.path(), "seed");
    let dl_dir = mkdir(work.path(), "download");
    let name = format!("payload-{seeder:?}-{proto:?}.bin").to_lowercase();
    let payload = random_bytes(match seeder {
        Seeder::Transmission => FILE_SIZE_TRANSMISSION,
        _ => FILE_SIZE,
    });
    let data = seed_dir.join(&name);
    std::fs::write(&data, &payload).expect("write payload");

    let tracker = match proto {
        Proto::Http => format!("http://127.0.0.1:{}/announce", server.tcp_v4().port()),
        Proto::Udp => format!("udp://127.0.0.1:{}/announce", server.udp_v4().port()),
    };
    let script = work.path().join("lt_helper.py");
    std::fs::write(&script, LIBTORRENT_PY).expect("write python script");
    let torrent = work.path().join(format!("{name}.torrent"));
    let info_hash = make_torrent(&python, &script, &data, &torrent, &tracker, deadline);

    step(&format!("torrent made, starting the {seeder:?} seeder"));
    let mut seed = match seeder {
        Seeder::Libtorrent => {
            start_libtorrent_seeder(&python, &script, &torrent, &seed_dir, deadline)
        }
        Seeder::Aria2 => start_aria2_seeder(work.path(), &torrent, &seed_dir, proto),
        Seeder::Transmission => start_transmission(work.path(), "seeder", &torrent, &seed_dir),
    };

    // The download only starts once trackseed counts the seeder, so the downloader's first
    // announce already returns it.
    loop {
        if scrape(&server, &info_hash).complete >= 1 {
            break;
        }
        if let Some(st) = seed.try_exit() {
            panic!(
                "{:?} seeder exited ({st}) before trackseed counted it\n{}",
                seeder,
                report(&server, &mut seed, None)
            );
        }
        if Instant::now() > deadline {
            panic!(
                "trackseed never counted the {:?} seeder on {tracker}\n{}",
                seeder,
                report(&server, &mut seed, None)
            );
        }
        std::thread::sleep(POLL);
    }

    step("trackseed counts the seeder, starting the aria2c download");
    let mut get = start_aria2_downloader(work.path(), &torrent, &dl_dir, proto);
    match get.wait_exit(deadline) {
        Ok(st) if st.success() => {}
        Ok(st) => panic!(
            "aria2c download over {proto:?} failed ({st})\n{}",
            report(&server, &mut seed, Some(&mut get))
        ),
        Err(e) => panic!(
            "aria2c download over {proto:?}: {e}\n{}",
            report(&server, &mut seed, Some(&mut get))
        ),
    }
    step("aria2c done, checking");
    let got = std::fs::read(dl_dir.join(&name)).unwrap_or_else(|e| {
        panic!(
            "aria2c exited 0 but its file is unreadable: {e}\n{}",
            report(&server, &mut seed, Some(&mut get))
        )
    });
    assert!(
        got == payload,
        "downloaded file differs from the seeded one ({} bytes vs {})\n{}",
        got.len(),
        payload.len(),
        report(&server, &mut seed, Some(&mut get))
    );

    // The seeder is still tracked, aria2c's `completed` announce was counted, and its
    // `stopped` announce (answered before aria2c exits) removed it again.
    let counts = scrape(&server, &info_hash);
    step(&format!("scrape after the download: {counts:?}"));
    assert!(
        counts.complete >= 1 && counts.downloaded >= 1 && counts.incomplete == 0,
        "after the download trackseed's scrape says {counts:?}: want complete >= 1 (the \
         seeder), downloaded >= 1 (aria2c's completed event) and incomplete 0\n{}",
        report(&server, &mut seed, Some(&mut get))
    );
}

// ---------------------------------------------------------------------------------------------
// The clients

/// Runs the python script's `make` mode and returns the info hash it printed.
fn make_torrent(
    python: &str,
    script: &Path,
    data: &Path,
    torrent: &Path,
    tracker: &str,
    deadline: Instant,
) -> [u8; 20] {
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg("make")
        .arg(data)
        .arg(torrent)
        .arg(tracker);
    let mut p = Proc::spawn("python3 make", &mut cmd);
    let line = p
        .wait_line("INFOHASH ", deadline)
        .unwrap_or_else(|e| panic!("creating the torrent: {e}"));
    match p.wait_exit(deadline) {
        Ok(st) if st.success() => {}
        other => panic!("python3 make: {other:?}\n{}", p.transcript()),
    }
    let hex = line["INFOHASH ".len()..].trim();
    parse_hex20(hex).unwrap_or_else(|| panic!("bad info hash {hex:?}"))
}

fn start_libtorrent_seeder(
    python: &str,
    script: &Path,
    torrent: &Path,
    seed_dir: &Path,
    deadline: Instant,
) -> Proc {
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg("seed")
        .arg(torrent)
        .arg(seed_dir)
        .arg((TEST_TIMEOUT.as_secs() + 30).to_string());
    let mut p = Proc::spawn("libtorrent seeder", &mut cmd);
    if let Err(e) = p.wait_line("SEEDING", deadline) {
        panic!("libtorrent never started seeding: {e}");
    }
    p
}

fn start_aria2_seeder(work: &Path, torrent: &Path, seed_dir: &Path, proto: Proto) -> Proc {
    let (mut cmd, log) = aria2_command(work, "seeder", proto);
    // -V checks the file against the torrent; ratio 0.0 seeds regardless of ratio, for up to
    // 5 minutes (the guard kills it long before).
    cmd.arg("-V")
        .arg("--seed-ratio=0.0")
        .arg("--seed-time=5")
        .arg(format!("--dir={}", seed_dir.display()))
        .arg(torrent);
    let mut p = Proc::spawn("aria2c seeder", &mut cmd);
    p.log = Some(log);
    p
}

fn start_aria2_downloader(work: &Path, torrent: &Path, dl_dir: &Path, proto: Proto) -> Proc {
    let (mut cmd, log) = aria2_command(work, "downloader", proto);
    // Seeds 1.8 s (0.03 min) after the download: with --seed-time=0 aria2c often stops in the
    // tick that completes the download and announces only `stopped`, never `completed`.
    cmd.arg("--seed-time=0.03")
        .arg("--bt-stop-timeout=60")
        .arg("--allow-overwrite=true")
        .arg(format!("--dir={}", dl_dir.display()))
        .arg(torrent);
    let mut p = Proc::spawn("aria2c downloader", &mut cmd);
    p.log = Some(log);
    p
}

// ---------------------------------------------------------------------------------------------
// Failure reports

/// What the tracker and the clients said, for a failure message.
fn report(server: &Server, seed: &mut Proc, get: Option<&mut Proc>) -> String {
    let mut out = String::new();
    out += &format!(
        "--- trackseed stderr ---\n{}\n{}\n",
        server.start_log.join("\n"),
        server.log_lines().join("\n")
    );
    out += &seed.transcript();
    if let Some(get) = get {
        out += &get.transcript();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tracker checks

/// One torrent's counts in a scrape (BEP 48).
#[derive(Debug, Default)]
struct Counts {
    complete: i64,
    downloaded: i64,
    incomplete: i64,
}

/// trackseed's HTTP scrape for `info_hash` (all zero when the torrent is not tracked).
fn scrape(server: &Server, info_hash: &[u8; 20]) -> Counts {
    let (status, head, body) = http_get(
        server.tcp_v4(),
        &format!("/scrape?info_hash={}", urlencode(info_hash)),
    );
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "scrape answered {head}\n{text:?}");
    let root = Bencode::parse(&body).unwrap_or_else(|| panic!("scrape is not bencode: {text:?}"));
    let Some(files) = root.get(b"files") else {
        panic!("scrape without files: {text:?}");
    };
    let Some(entry) = files.get(info_hash) else {
        return Counts::default();
    };
    let count = |key: &str| match entry.get(key.as_bytes()) {
        Some(Bencode::Int(n)) => *n,
        _ => panic!("scrape entry without {key}: {text:?}"),
    };
    Counts {
        complete: count("complete"),
        downloaded: count("downloaded"),
        incomplete: count("incomplete"),
    }
}

/// Just enough bencode to read a scrape.
#[derive(Debug)]
enum Bencode {
    Int(i64),
    Bytes(Vec<u8>),
    /// Items are parsed (to find the end) but not kept: a scrape has no list.
    List,
    Dict(Vec<(Vec<u8>, Bencode)>),
}

impl Bencode {
    /// The whole of `b` as one value.
    fn parse(b: &[u8]) -> Option<Bencode> {
        let mut at = 0;
        let v = Bencode::value(b, &mut at, 0)?;
        (at == b.len()).then_some(v)
    }

    fn value(b: &[u8], at: &mut usize, depth: usize) -> Option<Bencode> {
        if depth > 32 {
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
                let mut entries = Vec::new();
                while *b.get(*at)? != b'e' {
                    if dict {
                        let Bencode::Bytes(k) = Bencode::value(b, at, depth + 1)? else {
                            return None;
                        };
                        entries.push((k, Bencode::value(b, at, depth + 1)?));
                    } else {
                        Bencode::value(b, at, depth + 1)?;
                    }
                }
                *at += 1;
                Some(if dict {
                    Bencode::Dict(entries)
                } else {
                    Bencode::List
                })
            }
            b'0'..=b'9' => {
                let colon = *at + b[*at..].iter().position(|&c| c == b':')?;
                let len: usize = std::str::from_utf8(&b[*at..colon]).ok()?.parse().ok()?;
                let end = (colon + 1).checked_add(len)?;
                let bytes = b.get(colon + 1..end)?.to_vec();
                *at = end;
                Some(Bencode::Bytes(bytes))
            }
            _ => None,
        }
    }

    fn get(&self, key: &[u8]) -> Option<&Bencode> {
        match self {
            Bencode::Dict(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}
