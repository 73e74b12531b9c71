//! `bench seeding`: trackseed's seeder next to Debian's rtorrent and transmission-daemon, each
//! seeding the same page-cached file over loopback to python3-libtorrent (or aria2c), and the
//! memory of trackseed and transmission-daemon seeding 1, 100 and 1000 small torrents.
//!
//! # Uploads
//! trackseed publishes the file (a site whose file directory holds it, `publish.settle_secs 0`;
//! the hash cache beside the `.torrent` makes every later start re-hash nothing). Every run
//! starts one seeder afresh with the data complete and waits until it has verified it and
//! seeds; only one seeder runs at a time:
//! - **trackseed**: tracker and seeder in one process (`seed.listen` on 127.0.0.1); ready at
//!   `seed: seeding big.bin`.
//! - **rtorrent** (Debian's 0.9.8, headless: `rtorrent -n -o import=RC`, the RC file setting
//!   `system.daemon.set = true`, a fresh session directory, one port, no DHT, PEX or UDP
//!   trackers, and `load.start` of trackseed's `.torrent`); ready when its
//!   `event.download.hash_done` handler writes `hashed 1 HASH` to a file (1: complete).
//! - **transmission-daemon** (`--foreground`, a fresh config directory whose settings.json
//!   turns DHT, LPD, µTP, PEX and the upload limits off, RPC on 127.0.0.1, the `.torrent` in
//!   its watch directory); ready when `transmission-remote -l` shows it at 100% and Idle or
//!   Seeding.
//!
//! rtorrent and transmission-daemon announce to a trackseed started with the same site and
//! `seed.enabled no` (the same `.torrent`, the same info hash), so trackseed seeds nothing
//! then.
//!
//! The downloader is a Python script with Debian's python3-libtorrent: one libtorrent session
//! per download (its own loopback address and port, DHT, LSD, UPnP, NAT-PMP, µTP and PEX
//! off), the torrent added
//! without any tracker and the seeder as its only peer, so the sessions never learn of each
//! other and every byte comes from the seeder. With `--downloader aria2c` the single download
//! is aria2c's instead, from the `.torrent` with only trackseed's HTTP tracker (it then finds
//! the seeder through the tracker). The time is from the script's start of the transfer (the
//! torrent added) to libtorrent's `torrent_finished_alert` (aria2c: from its start to its
//! exit); the seeder's CPU is user + system time of all its threads from `/proc/PID/stat`
//! between the same two moments. The downloaded bytes are compared with the file.
//!
//! transmission-daemon unchokes a new peer only at its 10 s rechoke, caps every peer at about
//! 16 MB/s and stalled 7-10 s before the last block in every run seen, so a whole 1 GiB would
//! take 80 s per run; by default its downloads fetch only the first `--transmission-mib` MiB
//! (the pieces beyond get priority 0), in the first `--transmission-rounds` rounds. Its CPU
//! per GiB is per byte sent either way.
//!
//! # Memory
//! trackseed (tracker and seeder, the default capacities) with a site of N files of 1 KiB,
//! VmRSS from `/proc/PID/status` once all N are seeded (N `seed: seeding` lines) and a second
//! has passed; transmission-daemon with the same N `.torrent` files and data, once all are
//! verified (announcing to a trackseed with `seed.enabled no`; it sleeps 100 ms in every
//! torrent's verification, so its daemons for every N start together).
//!
//! # System calls
//! One more single download (256 MiB) each of trackseed and rtorrent under
//! `strace -c -f -p PID` (if strace is installed), not measured for speed: which calls move the
//! data, and how many per GiB.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use trackseed_bench::args::Flags;
use trackseed_bench::latency;
use trackseed_bench::procfs;
use trackseed_bench::report::{group, out, rate, Table};
use trackseed_bench::scratch::{self, Scratch};
use trackseed_bench::servers::{find_on_path, stop_child, PortPicker};
use trackseed_bench::stop;
use trackseed_bench::sys;

pub const USAGE: &str = "\
usage: bench seeding [OPTIONS]

Seeds one page-cached file over loopback with trackseed, rtorrent and transmission-daemon in
turn (one at a time, interleaved over rounds) to python3-libtorrent downloaders that get every
byte from the seeder, and prints MB/s and the seeder's CPU seconds per GiB sent, with one
downloader and with several at once; then the VmRSS of trackseed and transmission-daemon
seeding 1, 100 and 1000 small torrents, and strace -c counts of one download.
Missing Debian packages are installed when run as root with apt-get; otherwise the bench
prints the apt-get command and stops.

  --seeders LIST         comma-separated subset of trackseed,rtorrent,transmission
                         (default: all three)
  --downloader KIND      the single downloader: libtorrent (default) or aria2c; several
                         downloaders are always libtorrent sessions
  --size-mib N           size of the file seeded (default 1024)
  --rounds N             rounds of single downloads, every seeder once per round (default 3)
  --swarm N              downloaders at once in the second part; 0 skips it (default 4)
  --swarm-rounds N       rounds of that part (default 1)
  --transmission-mib N   transmission-daemon's downloads fetch only the first N MiB (its
                         peers are capped at about 16 MB/s); 0: the whole file (default 128)
  --transmission-rounds N
                         transmission-daemon takes part in the first N rounds of each part
                         only (default 1)
  --rss LIST             torrent counts of the memory part, comma-separated; 0 skips it
                         (default 1,100,1000)
  --rss-trackseed PATH   also measure this trackseed binary's memory (e.g. the static musl
                         build; repeatable)
  --settle SECS          wait after a seeder is ready before the download starts; its CPU
                         meanwhile is reported as idle CPU (default 1)
  --no-strace            skip the strace -c runs
  --timeout SECS         longest wait for one download or one start (default 300)
  --trackseed PATH       the trackseed binary (default: build the repository's release binary
                         with cargo and use target/release/trackseed)
  --no-build             use target/release/trackseed as it is
  --dir DIR              scratch directory (default: the system's temporary directory); it
                         needs the file's size plus the downloads' free
  --no-install           never run apt-get; fail with the command to run instead
  --no-pin               do not pin the downloaders and the seeder to one CPU each
  -h, --help             this text
";

/// The file seeded, in the site's file directory.
const FILE_NAME: &str = "big.bin";
/// trackseed's line once the file is seeded.
const SEEDING: &str = "trackseed: seed: seeding ";
/// Bytes downloaded in the strace runs (the counts are given per GiB).
const STRACE_BYTES: u64 = 256 << 20;
/// The site's nickname.
const NICK: &str = "bench";
/// Bytes in a GiB, the unit of the CPU figures.
const GIB: f64 = (1u64 << 30) as f64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seeder {
    Trackseed,
    Rtorrent,
    Transmission,
}

impl Seeder {
    pub fn name(self) -> &'static str {
        match self {
            Seeder::Trackseed => "trackseed",
            Seeder::Rtorrent => "rtorrent",
            Seeder::Transmission => "transmission",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Downloader {
    Libtorrent,
    Aria2c,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub seeders: Vec<Seeder>,
    pub downloader: Downloader,
    pub size: u64,
    pub rounds: u32,
    pub swarm: usize,
    pub swarm_rounds: u32,
    /// Bytes transmission-daemon's downloads fetch (0: all).
    pub transmission_bytes: u64,
    pub transmission_rounds: u32,
    pub rss: Vec<u32>,
    pub rss_bins: Vec<PathBuf>,
    pub strace: bool,
    pub settle: Duration,
    pub timeout: Duration,
    pub trackseed: Option<PathBuf>,
    pub no_build: bool,
    pub dir: PathBuf,
    pub install: bool,
    pub pin: bool,
}

/// Parses the arguments after `seeding`; `Ok(None)` for `--help`.
pub fn parse_args(argv: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options {
        seeders: vec![Seeder::Trackseed, Seeder::Rtorrent, Seeder::Transmission],
        downloader: Downloader::Libtorrent,
        size: 1 << 30,
        rounds: 3,
        swarm: 4,
        swarm_rounds: 1,
        transmission_bytes: 128 << 20,
        transmission_rounds: 1,
        rss: vec![1, 100, 1000],
        rss_bins: Vec::new(),
        strace: true,
        settle: Duration::from_secs(1),
        timeout: Duration::from_secs(300),
        trackseed: None,
        no_build: false,
        dir: std::env::temp_dir(),
        install: true,
        pin: true,
    };
    let mut f = Flags::new(argv);
    while let Some(flag) = f.next_flag() {
        match flag {
            "-h" | "--help" => return Ok(None),
            "--seeders" => {
                o.seeders = Vec::new();
                for s in f.value()?.split(',') {
                    o.seeders.push(match s {
                        "trackseed" => Seeder::Trackseed,
                        "rtorrent" => Seeder::Rtorrent,
                        "transmission" | "transmission-daemon" => Seeder::Transmission,
                        _ => {
                            return Err(format!(
                            "--seeders: unknown seeder {s:?} (trackseed, rtorrent, transmission)"
                        ))
                        }
                    });
                }
                o.seeders.sort_unstable();
                o.seeders.dedup();
            }
            "--downloader" => {
                o.downloader = match f.value()?.as_str() {
                    "libtorrent" => Downloader::Libtorrent,
                    "aria2c" | "aria2" => Downloader::Aria2c,
                    d => return Err(format!("--downloader: {d:?} is not libtorrent or aria2c")),
                }
            }
            "--size-mib" => o.size = f.num(1, 1 << 20)? << 20,
            "--rounds" => o.rounds = f.num(0, 100)? as u32,
            "--swarm" => o.swarm = f.num(0, 32)? as usize,
            "--swarm-rounds" => o.swarm_rounds = f.num(0, 100)? as u32,
            "--transmission-mib" => o.transmission_bytes = f.num(0, 1 << 20)? << 20,
            "--transmission-rounds" => o.transmission_rounds = f.num(0, 100)? as u32,
            "--rss" => {
                o.rss = f
                    .nums(0, 100_000)?
                    .into_iter()
                    .filter(|&n| n > 0)
                    .map(|n| n as u32)
                    .collect();
                o.rss.sort_unstable();
                o.rss.dedup();
            }
            "--rss-trackseed" => o.rss_bins.push(f.value()?.into()),
            "--no-strace" => o.strace = false,
            "--settle" => o.settle = f.secs(600)?,
            "--timeout" => o.timeout = Duration::from_secs(f.num(1, 3600)?),
            "--trackseed" => o.trackseed = Some(f.value()?.into()),
            "--no-build" => o.no_build = true,
            "--dir" => o.dir = f.value()?.into(),
            "--no-install" => o.install = false,
            "--no-pin" => o.pin = false,
            _ => return Err(format!("seeding: unknown option {flag:?} (see --help)")),
        }
    }
    if o.seeders.is_empty() {
        return Err("--seeders: none given".into());
    }
    let text = o.dir.display().to_string();
    if text.contains(|c: char| c.is_whitespace() || matches!(c, ',' | '"' | '\\' | '{' | '}')) {
        return Err(format!(
            "--dir {text:?}: rtorrent's config syntax needs a path without spaces, commas, \
             quotes, backslashes or braces"
        ));
    }
    Ok(Some(o))
}

fn progress(text: &str) {
    eprintln!("bench: seeding: {text}");
}

// ---------------------------------------------------------------------------------------------
// Debian packages

/// What one needed program is, and the Debian package that has it.
struct Need {
    what: &'static str,
    package: &'static str,
    present: fn() -> bool,
}

fn program(name: &str) -> bool {
    find_on_path(name).is_some()
}

/// The python3 that imports libtorrent: Debian's own first (a PATH may put another python3,
/// without Debian's dist-packages, first).
fn python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import libtorrent"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn needs(o: &Options) -> Vec<Need> {
    let mut v = Vec::new();
    let libtorrent = o.downloader == Downloader::Libtorrent || o.swarm > 0;
    if libtorrent {
        v.push(Need {
            what: "python3 with libtorrent",
            package: "python3-libtorrent",
            present: || python().is_some(),
        });
    }
    if o.downloader == Downloader::Aria2c && o.rounds > 0 {
        v.push(Need {
            what: "aria2c",
            package: "aria2",
            present: || program("aria2c"),
        });
    }
    if o.seeders.contains(&Seeder::Rtorrent) {
        v.push(Need {
            what: "rtorrent",
            package: "rtorrent",
            present: || program("rtorrent"),
        });
    }
    if o.seeders.contains(&Seeder::Transmission) {
        v.push(Need {
            what: "transmission-daemon",
            package: "transmission-daemon",
            present: || program("transmission-daemon"),
        });
        v.push(Need {
            what: "transmission-remote",
            package: "transmission-cli",
            present: || program("transmission-remote"),
        });
    }
    v
}

/// Installs what is missing (as root, with apt-get), or fails with the command to run. As
/// tests/deps.sh does, a policy-rc.d written for the install keeps the packages' services
/// (transmission-daemon's) from starting.
fn ensure_packages(o: &Options) -> io::Result<()> {
    let mut missing: Vec<&'static str> = needs(o)
        .into_iter()
        .filter(|n| !(n.present)())
        .map(|n| n.package)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    let apt = find_on_path("apt-get");
    if !o.install || !sys::is_root() || apt.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "missing Debian packages: {list}; install them with:\n  sudo apt-get install -y {list}"
            ),
        ));
    }
    progress(&format!("installing the missing packages: {list}"));
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let ours = !policy.exists();
    if ours {
        use std::os::unix::fs::PermissionsExt;
        fs::write(
            policy,
            "#!/bin/sh\n# written by bench seeding during its apt-get install: start no services\nexit 101\n",
        )?;
        fs::set_permissions(policy, fs::Permissions::from_mode(0o755))?;
    }
    let result = (|| {
        let status = Command::new("apt-get").arg("update").status()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "apt-get update failed ({status})"
            )));
        }
        let status = Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y"])
            .args(&missing)
            .status()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "apt-get install -y {list} failed ({status})"
            )));
        }
        Ok(())
    })();
    if ours {
        let _ = fs::remove_file(policy);
    }
    result?;
    let still: Vec<&'static str> = needs(o)
        .iter()
        .filter(|n| !(n.present)())
        .map(|n| n.what)
        .collect();
    if !still.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("still missing after apt-get install: {}", still.join(", ")),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Child processes

/// A child process whose stdout and stderr are read line by line; stopped (SIGTERM, then
/// SIGKILL) and reaped when dropped, and killed by the kernel if the bench dies.
struct Proc {
    name: String,
    child: Option<Child>,
    rx: mpsc::Receiver<(Instant, String)>,
    lines: Vec<(Instant, String)>,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command, cpu: Option<usize>) -> io::Result<Proc> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        sys::kill_with_parent(cmd);
        if let Some(cpu) = cpu {
            sys::pin_child(cmd, cpu);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {name}: {e}")))?;
        let (tx, rx) = mpsc::channel();
        read_lines(child.stdout.take().expect("piped"), tx.clone());
        read_lines(child.stderr.take().expect("piped"), tx);
        Ok(Proc {
            name: name.to_string(),
            child: Some(child),
            rx,
            lines: Vec::new(),
        })
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn pull(&mut self) {
        self.lines.extend(self.rx.try_iter());
    }

    /// The exit status, if it has exited.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    fn tail(&mut self, n: usize) -> String {
        self.pull();
        let skip = self.lines.len().saturating_sub(n);
        let text: Vec<String> = self.lines[skip..]
            .iter()
            .map(|(_, l)| format!("  {l}"))
            .collect();
        if text.is_empty() {
            "  (nothing)".into()
        } else {
            text.join("\n")
        }
    }

    /// An error naming the process, with the end of its output.
    fn fail(&mut self, what: &str) -> io::Error {
        // Lines printed just before an exit may still be in the pipes.
        std::thread::sleep(Duration::from_millis(100));
        let tail = self.tail(20);
        io::Error::other(format!(
            "{}: {what}; its output ends with:\n{tail}",
            self.name
        ))
    }

    /// Errors if the process has exited.
    fn check_alive(&mut self) -> io::Result<()> {
        match self.exited() {
            Some(st) => Err(self.fail(&format!("exited ({st})"))),
            None => Ok(()),
        }
    }

    /// Waits until a line from index `from` on satisfies `pred`; returns its index, time and
    /// text.
    fn wait_line(
        &mut self,
        from: usize,
        what: &str,
        deadline: Instant,
        pred: impl Fn(&str) -> bool,
    ) -> io::Result<(usize, Instant, String)> {
        let mut seen = from;
        loop {
            stop::check()?;
            self.pull();
            if let Some(i) = (seen..self.lines.len()).find(|&i| pred(&self.lines[i].1)) {
                return Ok((i, self.lines[i].0, self.lines[i].1.clone()));
            }
            seen = self.lines.len().max(from);
            if let Some(st) = self.exited() {
                std::thread::sleep(Duration::from_millis(100));
                self.pull();
                if let Some(i) = (seen..self.lines.len()).find(|&i| pred(&self.lines[i].1)) {
                    return Ok((i, self.lines[i].0, self.lines[i].1.clone()));
                }
                return Err(self.fail(&format!("exited ({st}) before {what}")));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.fail(&format!("timed out waiting for {what}")));
            }
            if let Ok(l) = self.rx.recv_timeout(left.min(Duration::from_millis(50))) {
                self.lines.push(l);
            }
        }
    }

    fn count(&mut self, pred: impl Fn(&str) -> bool) -> usize {
        self.pull();
        self.lines.iter().filter(|(_, l)| pred(l)).count()
    }

    /// Waits for the process to exit by itself.
    fn wait_exit(&mut self, deadline: Instant) -> io::Result<std::process::ExitStatus> {
        loop {
            stop::check()?;
            if let Some(st) = self.exited() {
                return Ok(st);
            }
            if Instant::now() > deadline {
                return Err(self.fail("still running at the deadline"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM, `grace` to exit, then SIGKILL; always reaped.
    fn stop_within(&mut self, grace: Duration) {
        if let Some(child) = self.child.take() {
            stop_child(child, grace);
        }
    }

    fn stop(&mut self) {
        self.stop_within(Duration::from_secs(3));
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read_lines<R: Read + Send + 'static>(r: R, tx: mpsc::Sender<(Instant, String)>) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                    if tx.send((Instant::now(), line)).is_err() {
                        return;
                    }
                }
            }
        }
    });
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
fn wait_listening(port: u16, deadline: Instant, p: &mut Proc) -> io::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        stop::check()?;
        p.check_alive()?;
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(p.fail(&format!("nothing listens on {addr}")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// The downloader

/// The libtorrent downloader, run with Debian's python3. Its one argument is JSON: `torrent`
/// (a .torrent path), `saves` (one download directory per session), `peer` (the seeder,
/// `127.0.0.1:PORT`), `want` (bytes to fetch from the start of the content, whole pieces; 0:
/// all) and `seconds` (a time limit). Session i: its own address, 127.0.0.(10 + i), for
/// listening and dialling (rtorrent and transmission-daemon take one connection per address),
/// no DHT, LSD, UPnP, NAT-PMP, µTP or PEX; the torrent without its trackers, the seeder its
/// only peer. Prints `WANT BYTES`, `START` once every torrent is added (time 0), `FIRST i
/// SECONDS` at session i's first verified piece, `DONE i SECONDS` at its
/// torrent_finished_alert, `PROGRESS i BYTES PEERS` every second, then `ALLDONE SECONDS` and
/// the payload each session received (`GOT i BYTES`), or `GAVEUP` and exits 1 at the time
/// limit.
const LIBTORRENT_PY: &str = r#"
import json, sys, time
import libtorrent as lt

cfg = json.loads(sys.argv[1])
cat = lt.alert.category_t
meta = lt.bdecode(open(cfg["torrent"], "rb").read())
for k in (b"announce", b"announce-list", b"url-list", b"httpseeds", b"nodes"):
    meta.pop(k, None)
host, port = cfg["peer"].rsplit(":", 1)
peer = (host, int(port))
ti = lt.torrent_info(meta)
plen, npieces, total = ti.piece_length(), ti.num_pieces(), ti.total_size()
want = int(cfg.get("want") or 0)
k = npieces if want <= 0 else min(npieces, (want + plen - 1) // plen)
print("WANT %d" % min(total, k * plen), flush=True)
sessions, handles = [], []
for i, save in enumerate(cfg["saves"]):
    # A loopback address of its own: rtorrent and transmission-daemon take one connection
    # per peer address.
    addr = "127.0.0.%d" % (10 + i)
    s = lt.session({
        "listen_interfaces": addr + ":0",
        "outgoing_interfaces": addr,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_incoming_utp": False, "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": cat.error_notification | cat.status_notification
            | cat.piece_progress_notification,
    })
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(meta)
    p.save_path = save
    p.flags = (lt.torrent_flags.default_flags & ~lt.torrent_flags.paused
               & ~lt.torrent_flags.auto_managed) | lt.torrent_flags.disable_pex
    p.peers = [peer]
    if k < npieces:
        p.piece_priorities = [4] * k + [0] * (npieces - k)
    sessions.append(s)
    handles.append(s.add_torrent(p))
t0 = time.monotonic()
print("START", flush=True)
n = len(sessions)
done = [None] * n
first = [None] * n
deadline = t0 + float(cfg["seconds"])
last_look = t0
while time.monotonic() < deadline and None in done:
    for i, s in enumerate(sessions):
        if done[i] is not None:
            continue
        s.wait_for_alert(5 if n == 1 else 1)
        for a in s.pop_alerts():
            if isinstance(a, lt.piece_finished_alert):
                if first[i] is None:
                    first[i] = time.monotonic() - t0
                    print("FIRST %d %.4f" % (i, first[i]), flush=True)
            elif isinstance(a, lt.torrent_finished_alert) and done[i] is None:
                done[i] = time.monotonic() - t0
                print("DONE %d %.4f" % (i, done[i]), flush=True)
            elif a.category() & cat.error_notification:
                print("ALERT %d %s: %s" % (i, type(a).__name__, a.message()), flush=True)
    now = time.monotonic()
    if now - last_look > 1:
        last_look = now
        for i, h in enumerate(handles):
            st = h.status()
            print("PROGRESS %d %d %d" % (i, st.total_wanted_done, st.num_peers), flush=True)
            if done[i] is None and st.num_peers == 0:
                h.connect_peer(peer)
if None in done:
    print("GAVEUP", flush=True)
    sys.exit(1)
end = time.monotonic() - t0
got = [h.status().total_payload_download for h in handles]
for s, h in zip(sessions, handles):
    s.remove_torrent(h)
handles = sessions = None
print("ALLDONE %.4f" % end, flush=True)
for i, g in enumerate(got):
    print("GOT %d %d" % (i, g), flush=True)
"#;

/// One download run's figures.
#[derive(Clone, Debug)]
struct Run {
    seeder: Seeder,
    round: u32,
    downloaders: usize,
    /// Content bytes each downloader fetched.
    want: u64,
    /// From the start of the transfer to the last downloader's end.
    secs: f64,
    /// Each downloader's time, and when it had its first piece.
    each: Vec<f64>,
    first: Vec<f64>,
    /// The seeder's CPU seconds over the same time.
    cpu: f64,
    /// The user-space part of it.
    user: f64,
    /// Its CPU seconds per second while it waited, seeding, before the download.
    idle: f64,
    /// Payload bytes the downloaders received in all (libtorrent's count; includes any
    /// block received twice).
    got: u64,
}

impl Run {
    fn sent(&self) -> u64 {
        self.want * self.downloaders as u64
    }
    fn mb_per_sec(&self) -> f64 {
        self.sent() as f64 / 1e6 / self.secs
    }
    /// The rate from the first verified piece of any downloader to the end (the seeder's
    /// start-up delays left out: transmission-daemon unchokes at its 10 s rechoke).
    fn mb_per_sec_sending(&self) -> f64 {
        let first = self.first.iter().copied().fold(f64::INFINITY, f64::min);
        if first.is_finite() && first < self.secs {
            self.sent() as f64 / 1e6 / (self.secs - first)
        } else {
            f64::NAN
        }
    }
    fn cpu_per_gib(&self) -> f64 {
        self.cpu * GIB / self.sent() as f64
    }
}

// ---------------------------------------------------------------------------------------------
// The bench

/// Everything a run needs.
struct Setup {
    bin: PathBuf,
    root: PathBuf,
    files: PathBuf,
    file: PathBuf,
    torrent: PathBuf,
    info_hash: String,
    /// Content length and the tracker URL of the .torrent.
    total: u64,
    http_tracker: String,
    seed_conf: PathBuf,
    tracker_conf: PathBuf,
    seed_port: u16,
    site_port: u16,
    ports: PortPicker,
    python: Option<&'static str>,
    /// The bench's and the downloaders' CPU, and the seeders'.
    bench_cpu: Option<usize>,
    seeder_cpu: Option<usize>,
    runs: u32,
}

/// Runs the bench with trackseed binary `bin` and prints the report; `command` is the command
/// line, for the report's head.
pub fn run(o: &Options, bin: &Path, command: &str) -> io::Result<()> {
    let started = Instant::now();
    ensure_packages(o)?;
    let (machine, load) = trackseed_bench::report::machine();
    let need = o.size * (1 + o.swarm.max(1) as u64) + (256 << 20);
    let fsi = scratch::room(&o.dir, need, "the file and the downloads need")?;
    let (cpus, pinning) = sys::pin_pair(o.pin, "bench and downloaders", "the seeder")?;
    let (bench_cpu, seeder_cpu) = (cpus.map(|c| c.0), cpus.map(|c| c.1));
    let python = python();
    let version = |cmd: &str, args: &[&str]| -> String {
        Command::new(cmd)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()
            .map(|o| {
                let mut s = String::from_utf8_lossy(&o.stdout).to_string();
                s.push_str(&String::from_utf8_lossy(&o.stderr));
                s.lines().next().unwrap_or("").trim().to_string()
            })
            .unwrap_or_else(|| "?".into())
    };
    let mut versions = Vec::new();
    if o.seeders.contains(&Seeder::Rtorrent) {
        versions.push(version("rtorrent", &["-h"]));
    }
    if o.seeders.contains(&Seeder::Transmission) {
        versions.push(version("transmission-daemon", &["--version"]));
    }
    if let Some(py) = python {
        versions.push(format!(
            "libtorrent {}",
            version(
                py,
                &["-c", "import libtorrent; print(libtorrent.__version__)"]
            )
        ));
    }
    if o.downloader == Downloader::Aria2c {
        versions.push(version("aria2c", &["--version"]));
    }
    out(&format!(
        "trackseed bench: seeding over loopback, {}\ncommand: {command}\nmachine: {machine}\n\
         load average at start: {load}\ntrackseed: {}\nothers: {}\n\
         file: {} MiB of pseudo-random bytes, read into the page cache before every run; \
         scratch directory {} ({}); {pinning}\n",
        trackseed_bench::report::utc_now(),
        bin.display(),
        versions.join("; "),
        group(o.size >> 20),
        o.dir.display(),
        if fsi.in_memory { "tmpfs" } else { "disk" },
    ));

    // The scratch tree, removed however the bench ends.
    let scratch = Scratch::dir(
        o.dir
            .join(format!("trackseed-seeding-{}", std::process::id())),
    )?;
    let mut setup = prepare(o, bin, &scratch.0, python, bench_cpu, seeder_cpu)?;

    let mut runs: Vec<Run> = Vec::new();
    let transfer = |s: Seeder| -> u64 {
        if s == Seeder::Transmission && o.transmission_bytes > 0 {
            o.transmission_bytes.min(o.size)
        } else {
            0
        }
    };
    let takes_part =
        |s: Seeder, round: u32| s != Seeder::Transmission || round <= o.transmission_rounds;
    // One measured run of `s` with `n` downloaders at once.
    let mut measure = |s: Seeder, round: u32, n: usize| -> io::Result<()> {
        let r = one_run(o, &mut setup, s, round, n, transfer(s), None)?;
        progress(&format!(
            "{}: {:.0} MB/s, {:.3} CPU s/GiB",
            s.name(),
            r.mb_per_sec(),
            r.cpu_per_gib()
        ));
        runs.push(r);
        Ok(())
    };
    for round in 1..=o.rounds {
        for &s in o.seeders.iter().filter(|s| takes_part(**s, round)) {
            progress(&format!(
                "round {round} of {}: {} seeds, one {} downloads",
                o.rounds,
                s.name(),
                match o.downloader {
                    Downloader::Libtorrent => "libtorrent session",
                    Downloader::Aria2c => "aria2c",
                }
            ));
            measure(s, round, 1)?;
        }
    }
    if o.swarm > 0 {
        for round in 1..=o.swarm_rounds {
            for &s in o.seeders.iter().filter(|s| takes_part(**s, round)) {
                progress(&format!(
                    "swarm round {round} of {}: {} seeds, {} libtorrent sessions download",
                    o.swarm_rounds,
                    s.name(),
                    o.swarm
                ));
                measure(s, round, o.swarm)?;
            }
        }
    }
    report_runs(o, &runs);

    // System calls: one more single download each, under strace.
    let strace = find_on_path("strace");
    if o.strace && o.rounds > 0 {
        let traced: Vec<Seeder> = o
            .seeders
            .iter()
            .copied()
            .filter(|s| *s != Seeder::Transmission)
            .collect();
        match &strace {
            None => out(
                "\n== system calls ==\nskipped: strace is not installed (apt-get install strace)\n",
            ),
            Some(_) if traced.is_empty() => {}
            Some(path) => {
                let mut counts = Vec::new();
                for s in traced {
                    progress(&format!(
                        "{} seeds one download under strace -c -f",
                        s.name()
                    ));
                    let file = setup.root.join(format!("strace-{}.txt", s.name()));
                    let want = o.size.min(STRACE_BYTES);
                    let r = one_run(o, &mut setup, s, 0, 1, want, Some((path.as_path(), &file)))?;
                    let text = fs::read_to_string(&file).unwrap_or_default();
                    counts.push((r, parse_strace(&text)));
                }
                report_strace(&counts);
            }
        }
    }

    if !o.rss.is_empty() {
        let rows = memory(o, &mut setup)?;
        report_memory(o, &rows);
    }
    out(&trackseed_bench::report::total_time(started));
    Ok(())
}

/// The site config: tracker and seeder (`seed` true) or tracker only.
fn site_conf(torrents: &Path, files: &Path, site_port: u16, seed_port: u16, seed: bool) -> String {
    let mut c = format!(
        "publish.settle_secs 0\nseed.listen 127.0.0.1:{seed_port}\nsite {NICK} {} {} 127.0.0.1 {site_port}\n",
        torrents.display(),
        files.display()
    );
    if !seed {
        c.push_str("seed.enabled no\n");
    }
    c
}

/// Writes the file, publishes it with trackseed (once: the hash cache serves every later
/// start) and reads the `.torrent`.
fn prepare(
    o: &Options,
    bin: &Path,
    root: &Path,
    python: Option<&'static str>,
    bench_cpu: Option<usize>,
    seeder_cpu: Option<usize>,
) -> io::Result<Setup> {
    let files = root.join("site/files");
    let torrents = root.join("site/torrents");
    fs::create_dir_all(&files)?;
    fs::create_dir_all(&torrents)?;
    let file = files.join(FILE_NAME);
    progress(&format!(
        "writing {} MiB of pseudo-random bytes to {}",
        group(o.size >> 20),
        file.display()
    ));
    scratch::write_random_file(&file, o.size)?;
    let mut ports = PortPicker::new();
    let site_port = ports.pick_site()?;
    let seed_port = ports.pick()?;
    let seed_conf = root.join("seed.conf");
    let tracker_conf = root.join("tracker.conf");
    fs::write(
        &seed_conf,
        site_conf(&torrents, &files, site_port, seed_port, true),
    )?;
    fs::write(
        &tracker_conf,
        site_conf(&torrents, &files, site_port, seed_port, false),
    )?;
    progress("trackseed publishes the file");
    let deadline = Instant::now() + o.timeout;
    let mut ts = start_trackseed(bin, &seed_conf, root, bench_cpu)?;
    let want = format!("{SEEDING}{FILE_NAME}");
    ts.wait_line(0, &format!("`{want}`"), deadline, |l| l == want)?;
    let (_, _, line) = ts.wait_line(0, "the `published` line", deadline, |l| {
        l.contains(&format!(": published {FILE_NAME} "))
    })?;
    progress(&line);
    ts.stop();
    let torrent = torrents.join(format!("{FILE_NAME}.torrent"));
    let bytes = fs::read(&torrent)?;
    let t = trackseed::metainfo::read::parse_torrent(&bytes)
        .map_err(|e| io::Error::other(format!("{}: {e}", torrent.display())))?;
    let info_hash: String = t.info_hash.0.iter().map(|b| format!("{b:02x}")).collect();
    let http_tracker = format!("http://127.0.0.1:{site_port}/announce");
    if !t.announce.iter().flatten().any(|u| *u == http_tracker) {
        return Err(io::Error::other(format!(
            "{http_tracker} is not among the .torrent's trackers {:?}",
            t.announce
        )));
    }
    Ok(Setup {
        bin: bin.to_path_buf(),
        root: root.to_path_buf(),
        files,
        file,
        torrent,
        info_hash,
        total: t.layout.total_length(),
        http_tracker,
        seed_conf,
        tracker_conf,
        seed_port,
        site_port,
        ports,
        python,
        bench_cpu,
        seeder_cpu,
        runs: 0,
    })
}

fn start_trackseed(bin: &Path, conf: &Path, dir: &Path, cpu: Option<usize>) -> io::Result<Proc> {
    let mut cmd = Command::new(bin);
    cmd.arg("-f").arg(conf).current_dir(dir);
    Proc::spawn("trackseed", &mut cmd, cpu)
}

/// A running seeder (and the tracker it announces to, for rtorrent and transmission-daemon).
struct Running {
    seeder: Proc,
    _tracker: Option<Proc>,
    /// Where downloaders connect.
    port: u16,
}

/// Starts `s` with the file complete and waits until it seeds.
fn start_seeder(o: &Options, st: &mut Setup, s: Seeder) -> io::Result<Running> {
    let deadline = Instant::now() + o.timeout;
    st.runs += 1;
    let dir = st.root.join(format!("{}-{}", s.name(), st.runs));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    if s == Seeder::Trackseed {
        let mut p = start_trackseed(&st.bin, &st.seed_conf, &dir, st.seeder_cpu)?;
        let want = format!("{SEEDING}{FILE_NAME}");
        p.wait_line(0, &format!("`{want}`"), deadline, |l| l == want)?;
        wait_listening(st.seed_port, deadline, &mut p)?;
        return Ok(Running {
            seeder: p,
            _tracker: None,
            port: st.seed_port,
        });
    }
    let mut tracker = start_trackseed(&st.bin, &st.tracker_conf, &dir, st.bench_cpu)?;
    tracker.wait_line(0, "`trackseed: ready`", deadline, |l| {
        l == "trackseed: ready"
    })?;
    let port = st.ports.pick()?;
    let p = match s {
        Seeder::Rtorrent => {
            let session = dir.join("session");
            fs::create_dir_all(&session)?;
            let events = dir.join("events");
            let rc = dir.join("rtorrent.rc");
            fs::write(
                &rc,
                format!(
                    "system.daemon.set = true\n\
                     directory.default.set = {files}\n\
                     session.path.set = {session}\n\
                     network.bind_address.set = 127.0.0.1\n\
                     network.port_range.set = {port}-{port}\n\
                     network.port_random.set = no\n\
                     dht.mode.set = disable\n\
                     protocol.pex.set = no\n\
                     trackers.use_udp.set = no\n\
                     throttle.global_up.max_rate.set = 0\n\
                     throttle.global_down.max_rate.set = 0\n\
                     method.set_key = event.download.hash_done, bench, \
                     \"execute.nothrow={{sh,-c,\\\"echo hashed $1 $2 >> {events}\\\",sh,$d.complete=,$d.hash=}}\"\n\
                     load.start = {torrent}\n",
                    files = st.files.display(),
                    session = session.display(),
                    events = events.display(),
                    torrent = st.torrent.display(),
                ),
            )?;
            let mut cmd = Command::new("rtorrent");
            cmd.arg("-n")
                .arg("-o")
                .arg(format!("import={}", rc.display()))
                .current_dir(&dir)
                .env("HOME", &dir)
                .env("TERM", "dumb");
            let mut p = Proc::spawn("rtorrent", &mut cmd, st.seeder_cpu)?;
            let want = format!("hashed 1 {}", st.info_hash.to_uppercase());
            loop {
                stop::check()?;
                p.check_alive()?;
                let text = fs::read_to_string(&events).unwrap_or_default();
                if text.lines().any(|l| l.trim() == want) {
                    break;
                }
                if let Some(l) = text.lines().find(|l| l.starts_with("hashed 0")) {
                    return Err(p.fail(&format!(
                        "rtorrent's hash check found the data incomplete ({l})"
                    )));
                }
                if Instant::now() > deadline {
                    return Err(p.fail(&format!(
                        "rtorrent did not finish checking the data (no `{want}` in {})",
                        events.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            wait_listening(port, deadline, &mut p)?;
            p
        }
        Seeder::Transmission => {
            let config = dir.join("config");
            let watch = dir.join("watch");
            fs::create_dir_all(&config)?;
            fs::create_dir_all(&watch)?;
            fs::copy(&st.torrent, watch.join(format!("{FILE_NAME}.torrent")))?;
            let rpc = st.ports.pick()?;
            let mut p = start_transmission(&config, &watch, &st.files, port, rpc, st.seeder_cpu)?;
            wait_transmission(&mut p, rpc, 1, deadline)?;
            wait_listening(port, deadline, &mut p)?;
            p
        }
        Seeder::Trackseed => unreachable!(),
    };
    Ok(Running {
        seeder: p,
        _tracker: Some(tracker),
        port,
    })
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// transmission-daemon in the foreground: a config dir with settings.json (no DHT, LPD, µTP,
/// PEX or port mapping, no speed or ratio limits, peers on 127.0.0.1:`port`, RPC on
/// 127.0.0.1:`rpc`), the torrents of `watch` loaded at start, their data in `data`.
fn start_transmission(
    config: &Path,
    watch: &Path,
    data: &Path,
    port: u16,
    rpc: u16,
    cpu: Option<usize>,
) -> io::Result<Proc> {
    let settings = format!(
        "{{\n\
         \"rpc-enabled\": true,\n\
         \"rpc-bind-address\": \"127.0.0.1\",\n\
         \"rpc-port\": {rpc},\n\
         \"rpc-authentication-required\": false,\n\
         \"rpc-whitelist-enabled\": false,\n\
         \"rpc-host-whitelist-enabled\": false,\n\
         \"dht-enabled\": false,\n\
         \"lpd-enabled\": false,\n\
         \"pex-enabled\": false,\n\
         \"utp-enabled\": false,\n\
         \"port-forwarding-enabled\": false,\n\
         \"peer-port\": {port},\n\
         \"peer-port-random-on-start\": false,\n\
         \"bind-address-ipv4\": \"127.0.0.1\",\n\
         \"bind-address-ipv6\": \"::1\",\n\
         \"download-dir\": {},\n\
         \"incomplete-dir-enabled\": false,\n\
         \"watch-dir\": {},\n\
         \"watch-dir-enabled\": true,\n\
         \"trash-original-torrent-files\": false,\n\
         \"speed-limit-up-enabled\": false,\n\
         \"speed-limit-down-enabled\": false,\n\
         \"alt-speed-enabled\": false,\n\
         \"ratio-limit-enabled\": false,\n\
         \"idle-seeding-limit-enabled\": false,\n\
         \"queue-stalled-enabled\": false,\n\
         \"seed-queue-enabled\": false,\n\
         \"blocklist-enabled\": false,\n\
         \"message-level\": 1\n\
         }}\n",
        json_string(&data.display().to_string()),
        json_string(&watch.display().to_string()),
    );
    fs::write(config.join("settings.json"), settings)?;
    let mut cmd = Command::new("transmission-daemon");
    cmd.arg("--foreground").arg("--config-dir").arg(config);
    Proc::spawn("transmission-daemon", &mut cmd, cpu)
}

/// Waits until transmission-daemon lists `n` torrents, every one at 100% and Idle or Seeding
/// (verified, started).
fn wait_transmission(p: &mut Proc, rpc: u16, n: usize, deadline: Instant) -> io::Result<()> {
    let host = format!("127.0.0.1:{rpc}");
    let mut last = String::new();
    loop {
        stop::check()?;
        p.check_alive()?;
        if let Ok(o) = Command::new("transmission-remote")
            .args([host.as_str(), "-l"])
            .stdin(Stdio::null())
            .output()
        {
            last = String::from_utf8_lossy(&o.stdout).to_string();
            let (rows, ready) = transmission_ready(&last);
            if o.status.success() && rows == n && ready == n {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            let (rows, ready) = transmission_ready(&last);
            return Err(p.fail(&format!(
                "transmission-daemon lists {rows} torrents, {ready} of them seeding, not {n} \
                 (transmission-remote -l said:\n{})",
                last.lines().take(12).collect::<Vec<_>>().join("\n")
            )));
        }
        std::thread::sleep(Duration::from_millis(if n > 10 { 500 } else { 100 }));
    }
}

/// (torrent rows, rows at 100% that are Idle or Seeding) of `transmission-remote -l`.
fn transmission_ready(list: &str) -> (usize, usize) {
    let (mut rows, mut ready) = (0, 0);
    for l in list.lines() {
        let t: Vec<&str> = l.split_whitespace().collect();
        let id = t.first().map_or("", |s| s.trim_end_matches('*'));
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        rows += 1;
        let idle = t.iter().any(|w| *w == "Idle" || *w == "Seeding");
        if t.get(1) == Some(&"100%") && idle && !t[0].ends_with('*') {
            ready += 1;
        }
    }
    (rows, ready)
}

/// One run: `s` seeds, `n` downloaders fetch `want` bytes each (0: all). With `trace`, the
/// seeder runs under `strace -c -f` writing to the file given.
fn one_run(
    o: &Options,
    st: &mut Setup,
    s: Seeder,
    round: u32,
    n: usize,
    want: u64,
    trace: Option<(&Path, &Path)>,
) -> io::Result<Run> {
    scratch::warm(&File::open(&st.file)?)?;
    let mut running = start_seeder(o, st, s)?;
    let pid = running.seeder.pid();
    // Start-up work (the end of a hash check, the first announce) out of the way.
    let idle0 = procfs::cpu_secs(pid)?;
    let t = Instant::now();
    while t.elapsed() < o.settle {
        stop::check()?;
        std::thread::sleep(Duration::from_millis(50).min(o.settle));
    }
    running.seeder.check_alive()?;
    let idle = (procfs::cpu_secs(pid)? - idle0) / t.elapsed().as_secs_f64();
    let dl_root = st.root.join("downloads");
    let _ = fs::remove_dir_all(&dl_root);
    let saves: Vec<PathBuf> = (0..n).map(|i| dl_root.join(i.to_string())).collect();
    for d in &saves {
        fs::create_dir_all(d)?;
    }
    let mut tracer = match trace {
        Some((strace, file)) => {
            let mut cmd = Command::new(strace);
            cmd.args(["-c", "-f", "-q", "-o"])
                .arg(file)
                .arg("-p")
                .arg(pid.to_string());
            let t = Proc::spawn("strace", &mut cmd, None)?;
            // strace stops the threads to attach; give it a moment.
            std::thread::sleep(Duration::from_millis(500));
            Some(t)
        }
        None => None,
    };
    let deadline = Instant::now() + o.timeout;
    let aria = o.downloader == Downloader::Aria2c && n == 1;
    let mut run = Run {
        seeder: s,
        round,
        downloaders: n,
        want: if want == 0 { st.total } else { want },
        secs: 0.0,
        each: Vec::new(),
        first: Vec::new(),
        cpu: 0.0,
        user: 0.0,
        idle,
        got: 0,
    };
    if aria {
        // aria2c finds the seeder through the tracker: wait until the tracker knows it.
        wait_seeder_announced(st, deadline, &mut running.seeder)?;
        run.want = st.total;
        let aria_log = st.root.join("aria2c.log");
        let _ = fs::remove_file(&aria_log);
        if std::env::var_os("BENCH_SEEDING_VERBOSE").is_some() {
            eprintln!("  aria2c's log: {}", aria_log.display());
        }
        let mut cmd = Command::new("aria2c");
        cmd.args([
            "--no-conf",
            "--interface=127.0.0.1",
            "--disable-ipv6=true",
            "--enable-dht=false",
            "--enable-dht6=false",
            "--bt-enable-lpd=false",
            "--enable-peer-exchange=false",
            "--bt-exclude-tracker=*",
            "--seed-time=0",
            "--file-allocation=none",
            "--summary-interval=0",
            "--console-log-level=warn",
            "--allow-overwrite=true",
        ])
        .arg(format!("--listen-port={}", st.ports.pick()?))
        .arg(format!("--bt-tracker={}", st.http_tracker))
        .arg(format!("--dir={}", saves[0].display()))
        .arg(format!("--log={}", aria_log.display()))
        .arg("--log-level=info")
        .arg(&st.torrent);
        let cpu0 = proc_cpu(pid)?;
        let t0 = Instant::now();
        let mut dl = Proc::spawn("aria2c", &mut cmd, st.bench_cpu)?;
        let status = dl.wait_exit(deadline).map_err(|e| {
            let log = fs::read_to_string(&aria_log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            io::Error::other(format!(
                "{e}\naria2c's log ends with:\n{}",
                lines[lines.len().saturating_sub(20)..].join("\n")
            ))
        })?;
        run.secs = t0.elapsed().as_secs_f64();
        let cpu1 = proc_cpu(pid)?;
        (run.cpu, run.user) = (cpu1.0 + cpu1.1 - cpu0.0 - cpu0.1, cpu1.0 - cpu0.0);
        if !status.success() {
            return Err(dl.fail(&format!("exited ({status})")));
        }
        run.each.push(run.secs);
        run.got = run.want;
    } else {
        let py = st.python.ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "no python3 imports libtorrent")
        })?;
        let script = st.root.join("lt_download.py");
        fs::write(&script, LIBTORRENT_PY)?;
        let cfg = format!(
            "{{\"torrent\": {}, \"saves\": [{}], \"peer\": \"127.0.0.1:{}\", \"want\": {want}, \"seconds\": {}}}",
            json_string(&st.torrent.display().to_string()),
            saves
                .iter()
                .map(|p| json_string(&p.display().to_string()))
                .collect::<Vec<_>>()
                .join(", "),
            running.port,
            o.timeout.as_secs()
        );
        let mut cmd = Command::new(py);
        cmd.arg(&script).arg(cfg);
        let mut dl = Proc::spawn("libtorrent downloader", &mut cmd, st.bench_cpu)?;
        let (_, _, w) = dl.wait_line(0, "WANT", deadline, |l| l.starts_with("WANT "))?;
        run.want = w[5..].trim().parse().unwrap_or(run.want);
        let (i, _, _) = dl.wait_line(0, "START", deadline, |l| l == "START")?;
        let cpu0 = proc_cpu(pid)?;
        let threads0 = thread_cpu(pid);
        let mut from = i + 1;
        while run.each.len() < n {
            let (j, _, line) = dl.wait_line(from, "DONE", deadline, |l| l.starts_with("DONE "))?;
            from = j + 1;
            if let Some(t) = line.split(' ').nth(2).and_then(|t| t.parse::<f64>().ok()) {
                run.each.push(t);
            }
            if run.each.len() == n {
                let cpu1 = proc_cpu(pid)?;
                (run.cpu, run.user) = (cpu1.0 + cpu1.1 - cpu0.0 - cpu0.1, cpu1.0 - cpu0.0);
                if std::env::var_os("BENCH_SEEDING_VERBOSE").is_some() {
                    for (tid, (name, secs)) in thread_cpu(pid) {
                        let before = threads0.get(&tid).map_or(0.0, |t| t.1);
                        eprintln!("  seeder thread {tid} {name}: {:.2} s", secs - before);
                    }
                }
            }
        }
        running.seeder.check_alive()?;
        let (j, _, _) = dl.wait_line(from, "ALLDONE", deadline, |l| l.starts_with("ALLDONE"))?;
        let status = dl.wait_exit(deadline)?;
        if !status.success() {
            return Err(dl.fail(&format!("exited ({status})")));
        }
        dl.pull();
        run.first = dl
            .lines
            .iter()
            .filter_map(|(_, l)| l.strip_prefix("FIRST "))
            .filter_map(|l| l.split(' ').nth(1)?.parse::<f64>().ok())
            .collect();
        if std::env::var_os("BENCH_SEEDING_VERBOSE").is_some() {
            for (_, l) in &dl.lines {
                eprintln!("  downloader: {l}");
            }
        }
        run.got = dl.lines[j..]
            .iter()
            .filter_map(|(_, l)| l.strip_prefix("GOT "))
            .filter_map(|l| l.split(' ').nth(1)?.parse::<u64>().ok())
            .sum();
        run.secs = run.each.iter().copied().fold(0.0, f64::max);
    }
    if let Some(t) = tracer.as_mut() {
        sys::signal(t.pid(), libc::SIGINT);
        t.wait_exit(Instant::now() + Duration::from_secs(10))?;
    }
    running.seeder.check_alive()?;
    drop(running);
    for d in &saves {
        compare(&d.join(FILE_NAME), &st.file, run.want)?;
    }
    let _ = fs::remove_dir_all(&dl_root);
    Ok(run)
}

/// (user, system) CPU seconds of all threads of process `pid` so far, from `/proc/PID/stat`
/// (counted from the last `)`: rtorrent's main thread is named `rtorrent main`, and a parser
/// that splits the line at spaces reads the wrong fields).
fn proc_cpu(pid: u32) -> io::Result<(f64, f64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let f: Vec<f64> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_ascii_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    match f[..] {
        [u, s] => Ok((
            u / sys::clock_ticks_per_sec(),
            s / sys::clock_ticks_per_sec(),
        )),
        _ => Err(io::Error::other(format!("malformed /proc/{pid}/stat"))),
    }
}

/// CPU seconds (user + system) of each thread of `pid`, with its name, by thread id.
fn thread_cpu(pid: u32) -> BTreeMap<u32, (String, f64)> {
    let mut m = BTreeMap::new();
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return m;
    };
    for e in dir.flatten() {
        let Some(tid) = e.file_name().to_str().and_then(|t| t.parse::<u32>().ok()) else {
            continue;
        };
        let name = fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        let stat = fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<f64> = rest
            .split_ascii_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|v| v.parse().ok())
            .collect();
        if f.len() == 2 {
            let secs = (f[0] + f[1]) / sys::clock_ticks_per_sec();
            m.insert(tid, (name.trim().to_string(), secs));
        }
    }
    m
}

/// Waits until an HTTP scrape of trackseed's tracker counts a seeder of the file.
fn wait_seeder_announced(st: &Setup, deadline: Instant, p: &mut Proc) -> io::Result<()> {
    let mut escaped = String::new();
    for i in (0..st.info_hash.len()).step_by(2) {
        escaped.push('%');
        escaped.push_str(&st.info_hash[i..i + 2]);
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, st.site_port));
    loop {
        stop::check()?;
        p.check_alive()?;
        let body = http_get(addr, &format!("/scrape?info_hash={escaped}")).unwrap_or_default();
        if let Some(at) = body.find("8:completei") {
            let n: String = body[at + 11..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if n.parse::<u32>().unwrap_or(0) > 0 {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(p.fail("the tracker never counted the seeder"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The body of an HTTP/1.0 GET (lossy UTF-8).
fn http_get(addr: SocketAddr, path: &str) -> io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).to_string();
    Ok(text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string()))
}

/// Checks that the first `len` bytes of `got` are those of `want`.
fn compare(got: &Path, want: &Path, len: u64) -> io::Result<()> {
    let mut a =
        File::open(got).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", got.display())))?;
    let mut b = File::open(want)?;
    let size = a.metadata()?.len();
    if size < len {
        return Err(io::Error::other(format!(
            "{} has {size} bytes, fewer than the {len} downloaded",
            got.display()
        )));
    }
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut off = 0u64;
    while off < len {
        let n = (len - off).min(x.len() as u64) as usize;
        a.read_exact(&mut x[..n])?;
        b.read_exact(&mut y[..n])?;
        if x[..n] != y[..n] {
            let at = x[..n].iter().zip(&y[..n]).position(|(p, q)| p != q);
            return Err(io::Error::other(format!(
                "{} differs from the seeded file at byte {}",
                got.display(),
                off + at.unwrap_or(0) as u64
            )));
        }
        off += n as u64;
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn report_runs(o: &Options, runs: &[Run]) {
    if runs.is_empty() {
        return;
    }
    out("\n== runs ==\n\n");
    let mut t = Table::new(&[
        "downloaders",
        "round",
        "seeder",
        "MB each",
        "seconds",
        "MB/s",
        "from 1st piece",
        "seeder CPU s",
        "CPU s/GiB (user + sys)",
        "first piece (s)",
        "idle CPU",
        "each downloader (s)",
    ]);
    for r in runs {
        t.row(vec![
            r.downloaders.to_string(),
            r.round.to_string(),
            r.seeder.name().into(),
            group((r.want as f64 / 1e6).round() as u64),
            format!("{:.2}", r.secs),
            group(r.mb_per_sec().round() as u64),
            rate(r.mb_per_sec_sending()),
            format!("{:.2}", r.cpu),
            format!(
                "{:.3} ({:.3} + {:.3})",
                r.cpu_per_gib(),
                r.user * GIB / r.sent() as f64,
                (r.cpu - r.user) * GIB / r.sent() as f64
            ),
            if r.first.is_empty() {
                "-".into()
            } else {
                format!("{:.2}", r.first.iter().copied().fold(0.0, f64::max))
            },
            trackseed_bench::report::percent(r.idle),
            r.each
                .iter()
                .map(|s| format!("{s:.2}"))
                .collect::<Vec<_>>()
                .join(" "),
        ]);
    }
    out(&t.render());
    for r in runs.iter().filter(|r| r.got > r.sent() + r.sent() / 100) {
        out(&format!(
            "note: {} round {} ({} downloaders): the downloaders received {} payload bytes for {} \
             wanted (blocks sent twice)\n",
            r.seeder.name(),
            r.round,
            r.downloaders,
            group(r.got),
            group(r.sent())
        ));
    }
    out(&format!(
        "\nMB/s: bytes sent to all downloaders / the time to the last one's end (10^6 bytes); \
         from 1st piece: the same from the first verified piece on; first piece: the latest \
         downloader's; CPU: the seeder's user + system time over the transfer; single downloads \
         by {}\n",
        match o.downloader {
            Downloader::Libtorrent => "one libtorrent session",
            Downloader::Aria2c => "aria2c (its start to its exit)",
        }
    ));
    out("\n== medians ==\n\n");
    let mut t = Table::new(&[
        "downloaders",
        "seeder",
        "runs",
        "MB/s",
        "from 1st piece",
        "CPU s/GiB",
        "user",
        "sys",
        "CPU s/GiB min-max",
    ]);
    let mut keys: Vec<(usize, Seeder)> = runs.iter().map(|r| (r.downloaders, r.seeder)).collect();
    keys.sort_unstable();
    keys.dedup();
    for (n, s) in keys {
        let rs: Vec<&Run> = runs
            .iter()
            .filter(|r| r.downloaders == n && r.seeder == s)
            .collect();
        let cpu: Vec<f64> = rs.iter().map(|r| r.cpu_per_gib()).collect();
        let lo = cpu.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = cpu.iter().copied().fold(0.0, f64::max);
        t.row(vec![
            n.to_string(),
            s.name().into(),
            rs.len().to_string(),
            group(median(rs.iter().map(|r| r.mb_per_sec()).collect()).round() as u64),
            rate(median(rs.iter().map(|r| r.mb_per_sec_sending()).collect())),
            format!("{:.3}", median(cpu)),
            format!(
                "{:.3}",
                median(rs.iter().map(|r| r.user * GIB / r.sent() as f64).collect())
            ),
            format!(
                "{:.3}",
                median(
                    rs.iter()
                        .map(|r| (r.cpu - r.user) * GIB / r.sent() as f64)
                        .collect()
                )
            ),
            format!("{lo:.3}-{hi:.3}"),
        ]);
    }
    out(&t.render());
    if o.transmission_bytes > 0 && o.seeders.contains(&Seeder::Transmission) {
        out(&format!(
            "\ntransmission's downloads fetched the first {} MiB only (--transmission-mib)\n",
            group(o.transmission_bytes.min(o.size) >> 20)
        ));
    }
    let single: Vec<f64> = runs
        .iter()
        .filter(|r| r.seeder == Seeder::Trackseed && r.downloaders == 1)
        .map(Run::cpu_per_gib)
        .collect();
    if !single.is_empty() {
        let m = median(single);
        out(&format!(
            "\ngoal: trackseed at most 0.2 CPU s per GiB uploaded: {m:.3} with one downloader, {}\n",
            if m <= 0.2 { "met" } else { "NOT met" }
        ));
    }
}

/// What `strace -c` counted: syscall → (calls, errors, seconds).
type Syscalls = BTreeMap<String, (u64, u64, f64)>;

/// `strace -c` lines: syscall → (calls, errors, seconds).
fn parse_strace(text: &str) -> Syscalls {
    let mut m = BTreeMap::new();
    for l in text.lines() {
        let t: Vec<&str> = l.split_whitespace().collect();
        if t.len() < 5 || t[0].starts_with('%') || t[0].starts_with('-') {
            continue;
        }
        let name = t[t.len() - 1];
        if name == "total" {
            continue;
        }
        let (Ok(secs), Ok(calls)) = (t[1].parse::<f64>(), t[3].parse::<u64>()) else {
            continue;
        };
        let errors = if t.len() >= 6 {
            t[4].parse().unwrap_or(0)
        } else {
            0
        };
        m.insert(name.to_string(), (calls, errors, secs));
    }
    m
}

fn report_strace(counts: &[(Run, Syscalls)]) {
    out("\n== system calls of one single download (strace -c -f -p PID, not timed) ==\n\n");
    let mut t = Table::new(&["seeder", "syscall", "calls", "per GiB sent", "errors"]);
    for (r, m) in counts {
        let mut v: Vec<(&String, &(u64, u64, f64))> = m.iter().collect();
        v.sort_by_key(|(_, c)| std::cmp::Reverse(c.0));
        let total: u64 = v.iter().map(|(_, c)| c.0).sum();
        for (name, (calls, errors, _)) in v.iter().take(10) {
            t.row(vec![
                r.seeder.name().into(),
                (*name).clone(),
                group(*calls),
                group((*calls as f64 * GIB / r.sent() as f64).round() as u64),
                group(*errors),
            ]);
        }
        t.row(vec![
            r.seeder.name().into(),
            "(all)".into(),
            group(total),
            group((total as f64 * GIB / r.sent() as f64).round() as u64),
            String::new(),
        ]);
    }
    out(&t.render());
}

/// One memory figure.
struct Mem {
    who: String,
    torrents: u32,
    rss_kib: u64,
    secs: f64,
}

/// trackseed (each binary) and transmission-daemon seeding N small torrents, for each N.
/// transmission-daemon sleeps 100 ms at the start of every torrent's verification, so 1000
/// torrents take 100 s: its daemons for every N start together, once trackseed has published
/// the torrents, and announce to one trackseed (tracker only) serving every N's site.
fn memory(o: &Options, st: &mut Setup) -> io::Result<Vec<Mem>> {
    let mut rows = Vec::new();
    let mut bins = vec![("trackseed".to_string(), st.bin.clone())];
    for b in &o.rss_bins {
        // Named by its last three components: TARGET/release/trackseed.
        let parts: Vec<String> = b
            .components()
            .rev()
            .take(3)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let name: Vec<&str> = parts.iter().rev().map(String::as_str).collect();
        bins.push((format!("trackseed {}", name.join("/")), b.clone()));
    }
    let dir = st.root.join("rss");
    let mut sites = String::new();
    let mut dirs = Vec::new();
    for &n in &o.rss {
        let files = dir.join(format!("files-{n}"));
        fs::create_dir_all(&files)?;
        let mut state = latency::seed();
        for i in 0..n {
            let mut b = vec![0u8; 1024];
            for c in b.chunks_exact_mut(8) {
                c.copy_from_slice(&latency::next(&mut state).to_ne_bytes());
            }
            fs::write(files.join(format!("f{i:05}.bin")), b)?;
        }
        // The first binary's torrents (and its site port) are the ones transmission gets.
        let mut first_site = String::new();
        for (k, (who, bin)) in bins.iter().enumerate() {
            progress(&format!("memory: {who} seeds {n} torrents"));
            let torrents = dir.join(format!("torrents-{n}-{k}"));
            fs::create_dir_all(&torrents)?;
            let site_port = st.ports.pick_site()?;
            let seed_port = st.ports.pick()?;
            let mut conf = site_conf(&torrents, &files, site_port, seed_port, true);
            if n > 1000 {
                conf.push_str(&format!("seed.max_torrents {n}\n"));
            }
            if k == 0 {
                first_site = format!(
                    "site n{n} {} {} 127.0.0.1 {site_port}\n",
                    torrents.display(),
                    files.display()
                );
            }
            let conf_path = dir.join(format!("seed-{n}-{k}.conf"));
            fs::write(&conf_path, conf)?;
            let t0 = Instant::now();
            let deadline = t0 + o.timeout;
            let mut p = start_trackseed(bin, &conf_path, &dir, st.seeder_cpu)?;
            loop {
                let seeded = p.count(|l| l.starts_with(SEEDING));
                if seeded >= n as usize {
                    break;
                }
                stop::check()?;
                p.check_alive()?;
                if Instant::now() > deadline {
                    return Err(p.fail(&format!("{seeded} of {n} torrents seeded at the deadline")));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let secs = t0.elapsed().as_secs_f64();
            std::thread::sleep(Duration::from_secs(1));
            p.check_alive()?;
            rows.push(Mem {
                who: who.clone(),
                torrents: n,
                rss_kib: procfs::rss_kib(p.pid())?,
                secs,
            });
            p.stop();
        }
        sites.push_str(&first_site);
        dirs.push((n, files, dir.join(format!("torrents-{n}-0"))));
    }
    if !o.seeders.contains(&Seeder::Transmission) {
        return Ok(rows);
    }
    let tracker_conf = dir.join("tracker.conf");
    fs::write(
        &tracker_conf,
        format!("publish.settle_secs 0\nseed.enabled no\ntracker.max_torrents 20000\n{sites}"),
    )?;
    let deadline = Instant::now() + o.timeout;
    let mut tracker = start_trackseed(&st.bin, &tracker_conf, &dir, st.bench_cpu)?;
    tracker.wait_line(0, "`trackseed: ready`", deadline, |l| {
        l == "trackseed: ready"
    })?;
    let mut daemons = Vec::new();
    for (n, files, torrents) in &dirs {
        progress(&format!("memory: transmission-daemon seeds {n} torrents"));
        let watch = dir.join(format!("watch-{n}"));
        let config = dir.join(format!("transmission-{n}"));
        fs::create_dir_all(&watch)?;
        fs::create_dir_all(&config)?;
        for e in fs::read_dir(torrents)? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "torrent") {
                fs::copy(&p, watch.join(p.file_name().expect("a name")))?;
            }
        }
        let (port, rpc) = (st.ports.pick()?, st.ports.pick()?);
        let p = start_transmission(&config, &watch, files, port, rpc, st.seeder_cpu)?;
        daemons.push((*n, p, rpc, Instant::now()));
    }
    for (n, mut p, rpc, t0) in daemons {
        wait_transmission(&mut p, rpc, n as usize, t0 + o.timeout)?;
        let secs = t0.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_secs(1));
        rows.push(Mem {
            who: "transmission-daemon".into(),
            torrents: n,
            rss_kib: procfs::rss_kib(p.pid())?,
            secs,
        });
        p.stop();
    }
    tracker.stop();
    let _ = fs::remove_dir_all(&dir);
    Ok(rows)
}

fn report_memory(o: &Options, rows: &[Mem]) {
    out(&format!(
        "\n== memory: seeding N torrents of 1 KiB (VmRSS 1 s after the last was seeded; counts {}) ==\n\n",
        o.rss.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    ));
    let mut t = Table::new(&[
        "process",
        "torrents",
        "VmRSS",
        "KiB per torrent over the smallest count",
        "ready after",
    ]);
    let mut whos: Vec<&str> = Vec::new();
    for r in rows {
        if !whos.contains(&r.who.as_str()) {
            whos.push(&r.who);
        }
    }
    for who in &whos {
        let mine: Vec<&Mem> = rows.iter().filter(|r| r.who == *who).collect();
        let base = mine.first().map(|m| (m.torrents, m.rss_kib));
        for m in &mine {
            let slope = match base {
                Some((bn, bk)) if m.torrents > bn => format!(
                    "{:.2}",
                    (m.rss_kib as f64 - bk as f64) / (m.torrents - bn) as f64
                ),
                _ => "-".into(),
            };
            t.row(vec![
                (*who).into(),
                group(m.torrents as u64),
                format!("{} KiB", group(m.rss_kib)),
                slope,
                format!("{:.1} s", m.secs),
            ]);
        }
    }
    out(&t.render());
    let at1000 = rows
        .iter()
        .filter(|r| r.who.starts_with("trackseed") && r.torrents == 1000)
        .map(|r| format!("{} {} KiB", r.who, group(r.rss_kib)))
        .collect::<Vec<_>>();
    if !at1000.is_empty() {
        out(&format!(
            "\ngoals: tracker + seeder with 1000 torrents at most 4 MB (3,906 KiB): {}; at most \
             1 KiB per additional torrent (the slope above)\n",
            at1000.join(", ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use trackseed_bench::args::split as args;

    #[test]
    fn parses_options() {
        let d = parse_args(&[]).unwrap().unwrap();
        assert_eq!(d.seeders.len(), 3);
        assert_eq!(
            (d.size, d.rounds, d.swarm, d.swarm_rounds),
            (1 << 30, 3, 4, 1)
        );
        assert_eq!(d.rss, [1, 100, 1000]);
        assert_eq!(d.transmission_bytes, 128 << 20);
        let o = parse_args(&args(
            "--seeders transmission,trackseed --downloader aria2c --size-mib 64 --rss 0 \
             --swarm 0 --rss-trackseed /x/ts --no-strace",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(o.seeders, [Seeder::Trackseed, Seeder::Transmission]);
        assert_eq!(o.downloader, Downloader::Aria2c);
        assert_eq!(o.size, 64 << 20);
        assert!(o.rss.is_empty() && o.swarm == 0 && !o.strace);
        assert_eq!(o.rss_bins, [PathBuf::from("/x/ts")]);
        assert!(parse_args(&args("--help")).unwrap().is_none());
        assert!(parse_args(&args("--seeders qbittorrent")).is_err());
        assert!(parse_args(&args("--dir /tmp/a,b")).is_err());
        assert!(parse_args(&args("--bogus")).is_err());
    }

    #[test]
    fn transmission_list() {
        let l = "    ID   Done       Have  ETA           Up    Down  Ratio  Status       Name\n\
                 \x20    1    98%    1.05 GB  Unknown      0.0     0.0    0.0  Verifying    big.bin\n\
                 \x20    2   100%    1.02 kB  Done         0.0     0.0    0.0  Idle         f1.bin\n\
                 \x20    3*  100%    1.02 kB  Done         0.0     0.0    0.0  Idle         f2.bin\n\
                 \x20    4   100%    1.02 kB  Done         0.0     0.0    0.0  Seeding      f3.bin\n\
                 Sum:             1.07 GB               0.0     0.0\n";
        assert_eq!(transmission_ready(l), (4, 2));
    }

    #[test]
    fn strace_summary() {
        let s = "% time     seconds  usecs/call     calls    errors syscall\n\
                 ------ ----------- ----------- --------- --------- ----------------\n\
                 \x2060.10    0.412345          16     24756           sendfile\n\
                 \x2030.00    0.200000           8     24759           sendto\n\
                 \x20 9.90    0.010000           3      2626      1300 recvfrom\n\
                 ------ ----------- ----------- --------- --------- ----------------\n\
                 100.00    0.622345          12     52141      1300 total\n";
        let m = parse_strace(s);
        assert_eq!(m.len(), 3);
        assert_eq!(m["sendfile"], (24756, 0, 0.412345));
        assert_eq!(m["recvfrom"].1, 1300);
    }

    #[test]
    fn json_strings() {
        assert_eq!(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
