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

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{http_get, urlencode, Server, TempDir};

/// Budget for one whole test: tracker start, torrent creation, seeding, download, checks.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);
/// Size of the shared file: not a multiple of any piece size, so the last piece is short.
const FILE_SIZE: usize = 2 * 1024 * 1024 + 12_345;
/// Transmission paces its uploads (and unchokes a new peer only at its next 10-second rechoke),
/// so it gets a smaller file to keep the test short.
const FILE_SIZE_TRANSMISSION: usize = 1024 * 1024 + 12_345;
/// Pause between two scrapes while waiting for the seeder to be tracked.
const POLL: Duration = Duration::from_millis(100);
/// Peer ports for aria2c and Transmission are picked at random in this range (aria2c has no
/// "any free port" setting), after checking that they are free.
const PORT_RANGE: std::ops::Range<u16> = 20_000..30_000;
/// Candidate ports handed to one aria2c option; it takes the first one it can bind.
const PORT_CANDIDATES: usize = 6;
/// How long the output of an exited process may take to reach the end of its pipes.
const EXIT_DRAIN: Duration = Duration::from_secs(2);
/// Lines of a client's log shown when a test fails.
const LOG_TAIL: usize = 60;

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

#[derive(Clone, Copy, Debug, PartialEq)]
enum Proto {
    Http,
    Udp,
}

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
        Seeder::Transmission => start_transmission_seeder(work.path(), &torrent, &seed_dir),
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

/// Options every aria2c here gets: no config file, loopback only, no peer source but the
/// tracker, a log file, and an exit when this test process goes away.
fn aria2_command(work: &Path, role: &str, proto: Proto) -> (Command, PathBuf) {
    let log = work.join(format!("aria2-{role}.log"));
    let mut cmd = Command::new("aria2c");
    cmd.arg("--no-conf")
        .arg("--interface=127.0.0.1")
        .arg("--disable-ipv6=true")
        .arg(format!("--listen-port={}", free_ports(false)))
        .arg("--bt-enable-lpd=false")
        .arg("--enable-peer-exchange=false")
        .arg("--enable-dht6=false")
        .arg("--bt-tracker-connect-timeout=5")
        .arg("--bt-tracker-timeout=10")
        .arg("--file-allocation=none")
        .arg("--summary-interval=0")
        .arg("--console-log-level=warn")
        .arg(format!("--log={}", log.display()))
        .arg("--log-level=info")
        .arg(format!("--stop-with-process={}", std::process::id()));
    match proto {
        Proto::Http => {
            cmd.arg("--enable-dht=false");
        }
        Proto::Udp => {
            // aria2c sends UDP tracker requests from its DHT socket: no DHT, no UDP tracker.
            // The routing table starts empty (own file, no entry point), so DHT finds no peer.
            cmd.arg("--enable-dht=true")
                .arg(format!("--dht-listen-port={}", free_ports(true)))
                .arg(format!(
                    "--dht-file-path={}",
                    work.join(format!("dht-{role}.dat")).display()
                ));
        }
    }
    (cmd, log)
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

/// transmission-daemon in the foreground with its own config dir, RPC off, peers on loopback
/// only, and the torrent dropped in its watch dir (read at start-up; the data is verified, then
/// seeded).
fn start_transmission_seeder(work: &Path, torrent: &Path, seed_dir: &Path) -> Proc {
    let config = mkdir(work, "transmission");
    let watch = mkdir(work, "transmission-watch");
    std::fs::copy(
        torrent,
        watch.join(torrent.file_name().expect("torrent name")),
    )
    .expect("copy torrent to watch dir");
    let peer_port = free_port(true);
    let settings = format!(
        "{{\n\
         \"rpc-enabled\": false,\n\
         \"dht-enabled\": false,\n\
         \"lpd-enabled\": false,\n\
         \"pex-enabled\": false,\n\
         \"utp-enabled\": false,\n\
         \"port-forwarding-enabled\": false,\n\
         \"peer-port\": {peer_port},\n\
         \"peer-port-random-on-start\": false,\n\
         \"bind-address-ipv4\": \"127.0.0.1\",\n\
         \"bind-address-ipv6\": \"::1\",\n\
         \"download-dir\": {},\n\
         \"incomplete-dir-enabled\": false,\n\
         \"watch-dir\": {},\n\
         \"watch-dir-enabled\": true,\n\
         \"ratio-limit-enabled\": false,\n\
         \"idle-seeding-limit-enabled\": false,\n\
         \"blocklist-enabled\": false,\n\
         \"message-level\": 2\n\
         }}\n",
        json_string(seed_dir),
        json_string(&watch),
    );
    std::fs::write(config.join("settings.json"), settings).expect("write settings.json");
    let mut cmd = Command::new("transmission-daemon");
    cmd.arg("--foreground")
        .arg("--config-dir")
        .arg(&config)
        .arg("--log-info");
    Proc::spawn("transmission-daemon seeder", &mut cmd)
}

// ---------------------------------------------------------------------------------------------
// Tools and failure reports

/// Fails unless `program args` runs, naming the Debian package to install.
fn require_program(program: &str, args: &[&str], what: &str, package: &str) {
    let ok = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{what} is missing: `{program} {}` does not run. Install it with:\n    \
         sudo apt-get install -y {package}\n(or run tests/deps.sh)",
        args.join(" ")
    );
}

/// A python3 that can import libtorrent: the first `python3` on PATH, else Debian's own (a
/// PATH may put a python built elsewhere, without Debian's dist-packages, first).
fn python_with_libtorrent() -> String {
    for python in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(python)
            .args(["-c", "import libtorrent"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return python.to_string();
        }
    }
    panic!(
        "python3 with libtorrent is missing: `python3 -c 'import libtorrent'` fails. \
         Install it with:\n    sudo apt-get install -y python3 python3-libtorrent\n\
         (or run tests/deps.sh)"
    );
}

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
// Child processes

/// A child process with its stdout and stderr read line by line; killed when dropped.
struct Proc {
    name: String,
    child: Child,
    /// Held open: the libtorrent script stops when it closes.
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<String>,
    lines: Vec<String>,
    /// A log file the client writes, shown (its tail) in failure reports.
    log: Option<PathBuf>,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command) -> Proc {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name} ({cmd:?}): {e}"));
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout piped");
        let err = child.stderr.take().expect("stderr piped");
        read_lines(out, tx.clone());
        read_lines(err, tx);
        Proc {
            name: name.to_string(),
            stdin: child.stdin.take(),
            child,
            rx,
            lines: Vec::new(),
            log: None,
        }
    }

    fn drain(&mut self) {
        self.lines.extend(self.rx.try_iter());
    }

    /// Waits until the process prints a line starting with `prefix` and returns it.
    fn wait_line(&mut self, prefix: &str, deadline: Instant) -> Result<String, String> {
        let mut seen = 0;
        loop {
            self.drain();
            if let Some(l) = self.lines[seen..].iter().find(|l| l.starts_with(prefix)) {
                return Ok(l.clone());
            }
            seen = self.lines.len();
            if let Some(st) = self.try_exit() {
                // The line may have been printed just before the exit and still be in a pipe.
                self.drain_after_exit();
                if let Some(l) = self.lines[seen..].iter().find(|l| l.starts_with(prefix)) {
                    return Ok(l.clone());
                }
                let transcript = self.transcript();
                return Err(format!(
                    "{} exited ({st}) without printing {prefix:?}\n{transcript}",
                    self.name
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let transcript = self.transcript();
                return Err(format!(
                    "{} did not print {prefix:?} in time\n{transcript}",
                    self.name
                ));
            }
            if let Ok(l) = self.rx.recv_timeout(left.min(POLL)) {
                self.lines.push(l);
            }
        }
    }

    fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits for the process to exit by itself before `deadline`.
    fn wait_exit(&mut self, deadline: Instant) -> Result<ExitStatus, String> {
        loop {
            if let Some(st) = self.try_exit() {
                self.drain_after_exit();
                return Ok(st);
            }
            if Instant::now() > deadline {
                return Err(format!("{} still running at the test deadline", self.name));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// After exit: collects every line up to the end of both pipes (the reader threads hang up
    /// there), waiting at most `EXIT_DRAIN` in case something else still holds a pipe open.
    fn drain_after_exit(&mut self) {
        let until = Instant::now() + EXIT_DRAIN;
        while let Ok(l) = self
            .rx
            .recv_timeout(until.saturating_duration_since(Instant::now()))
        {
            self.lines.push(l);
        }
    }

    /// Everything the process printed so far, and the tail of its log file.
    fn transcript(&mut self) -> String {
        self.drain();
        let mut out = format!("--- {} output ---\n", self.name);
        let skip = self.lines.len().saturating_sub(LOG_TAIL * 2);
        for l in &self.lines[skip..] {
            out += l;
            out.push('\n');
        }
        if let Some(log) = &self.log {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let skip = lines.len().saturating_sub(LOG_TAIL);
            out += &format!("--- {} log (last {LOG_TAIL} lines) ---\n", self.name);
            for l in &lines[skip..] {
                out += l;
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_lines<R: Read + Send + 'static>(r: R, tx: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
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

// ---------------------------------------------------------------------------------------------
// Small helpers

fn mkdir(parent: &Path, name: &str) -> PathBuf {
    let p = parent.join(name);
    std::fs::create_dir_all(&p).expect("create dir");
    p
}

/// A random value without a dependency: std seeds every `RandomState` from the OS.
fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}

/// `n` pseudo-random bytes (xorshift64* from a random seed): fresh content every run.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut x = random_u64() | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// A random port in `PORT_RANGE` that 127.0.0.1 can bind for TCP (and UDP too when `udp`),
/// never the same twice in this process, so tests running in parallel do not pick the same
/// one. Another process may still take it before the client binds it (the range lies below
/// Linux's ephemeral ports, so that is unlikely); aria2c gets several.
fn free_port(udp: bool) -> u16 {
    use std::sync::Mutex;
    static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let span = u64::from(PORT_RANGE.end - PORT_RANGE.start);
    for _ in 0..1000 {
        let port = PORT_RANGE.start + (random_u64() % span) as u16;
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        if handed_out.contains(&port) {
            continue;
        }
        let tcp_ok = TcpListener::bind(("127.0.0.1", port)).is_ok();
        let udp_ok = !udp || UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if tcp_ok && udp_ok {
            handed_out.push(port);
            return port;
        }
    }
    panic!("no free port found in {PORT_RANGE:?}");
}

/// `PORT_CANDIDATES` distinct free ports as an aria2c port list (`p1,p2,...`).
fn free_ports(udp: bool) -> String {
    (0..PORT_CANDIDATES)
        .map(|_| free_port(udp).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_hex20(hex: &str) -> Option<[u8; 20]> {
    if hex.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `p` as a JSON string literal.
fn json_string(p: &Path) -> String {
    let mut out = String::from("\"");
    for c in p.display().to_string().chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            c if (c as u32) < 0x20 => out += &format!("\\u{:04x}", c as u32),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
