//! Driving real BitTorrent clients from Debian in tests: child processes read line by line
//! and killed on drop ([`Proc`]), aria2c's common options, checks that the clients are
//! installed, free loopback ports for clients that cannot pick their own, random content.
//!
//! Used by tests/real_clients.rs (Debian's clients seed, trackseed tracks) and
//! tests/seeder_clients.rs (trackseed seeds, Debian's clients download).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Clients and tools

/// Pause between two looks at something awaited (a scrape, a client's output).
pub const POLL: Duration = Duration::from_millis(100);
/// Peer ports for aria2c and Transmission are picked at random in this range (aria2c has no
/// "any free port" setting), after checking that they are free.
pub const PORT_RANGE: std::ops::Range<u16> = 20_000..30_000;
/// Candidate ports handed to one aria2c option; it takes the first one it can bind.
pub const PORT_CANDIDATES: usize = 6;
/// How long the output of an exited process may take to reach the end of its pipes.
pub const EXIT_DRAIN: Duration = Duration::from_secs(2);
/// Lines of a client's log shown when a test fails.
pub const LOG_TAIL: usize = 60;

/// The tracker protocol a client announces with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Proto {
    Http,
    Udp,
}

/// Options every aria2c here gets: no config file, loopback only, no peer source but the
/// tracker, a log file, and an exit when this test process goes away.
pub fn aria2_command(work: &Path, role: &str, proto: Proto) -> (Command, PathBuf) {
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

/// transmission-daemon in the foreground with its own config dir, RPC off, no peer source but
/// the tracker, peers on loopback only, and the torrent dropped in its watch dir (read at
/// start-up; the data in `data_dir` is verified, then seeded, or downloaded there: a file
/// being downloaded is named `NAME.part` until it is complete). `role` names the process and
/// its directories under `work`.
pub fn start_transmission(work: &Path, role: &str, torrent: &Path, data_dir: &Path) -> Proc {
    let config = mkdir(work, &format!("transmission-{role}"));
    let watch = mkdir(work, &format!("transmission-{role}-watch"));
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
        json_string(data_dir),
        json_string(&watch),
    );
    std::fs::write(config.join("settings.json"), settings).expect("write settings.json");
    let mut cmd = Command::new("transmission-daemon");
    cmd.arg("--foreground")
        .arg("--config-dir")
        .arg(&config)
        .arg("--log-info");
    Proc::spawn(&format!("transmission-daemon {role}"), &mut cmd)
}

/// Fails unless `program args` runs, naming the Debian package to install.
pub fn require_program(program: &str, args: &[&str], what: &str, package: &str) {
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
pub fn python_with_libtorrent() -> String {
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

// ---------------------------------------------------------------------------------------------
// Child processes

/// A child process with its stdout and stderr read line by line; killed when dropped.
pub struct Proc {
    pub name: String,
    child: Child,
    /// Held open: the libtorrent script stops when it closes.
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<String>,
    /// Every line read so far (see [`Proc::drain`]).
    pub lines: Vec<String>,
    /// A log file the client writes, shown (its tail) in failure reports.
    pub log: Option<PathBuf>,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command) -> Proc {
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

    pub fn drain(&mut self) {
        self.lines.extend(self.rx.try_iter());
    }

    /// Waits until the process prints a line starting with `prefix` and returns it.
    pub fn wait_line(&mut self, prefix: &str, deadline: Instant) -> Result<String, String> {
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

    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits for the process to exit by itself before `deadline`.
    pub fn wait_exit(&mut self, deadline: Instant) -> Result<ExitStatus, String> {
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
    pub fn drain_after_exit(&mut self) {
        let until = Instant::now() + EXIT_DRAIN;
        while let Ok(l) = self
            .rx
            .recv_timeout(until.saturating_duration_since(Instant::now()))
        {
            self.lines.push(l);
        }
    }

    /// Everything the process printed so far, and the tail of its log file.
    pub fn transcript(&mut self) -> String {
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

pub fn read_lines<R: Read + Send + 'static>(r: R, tx: mpsc::Sender<String>) {
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
// Small helpers

pub fn mkdir(parent: &Path, name: &str) -> PathBuf {
    let p = parent.join(name);
    std::fs::create_dir_all(&p).expect("create dir");
    p
}

/// A random value without a dependency: std seeds every `RandomState` from the OS.
pub fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}

/// `n` pseudo-random bytes (xorshift64* from a random seed): fresh content every run.
pub fn random_bytes(n: usize) -> Vec<u8> {
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
pub fn free_port(udp: bool) -> u16 {
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
pub fn free_ports(udp: bool) -> String {
    (0..PORT_CANDIDATES)
        .map(|_| free_port(udp).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn parse_hex20(hex: &str) -> Option<[u8; 20]> {
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
pub fn json_string(p: &Path) -> String {
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
