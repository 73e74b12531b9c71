//! Starting, probing and stopping the servers under test. A [`Server`] is a guard: dropping it
//! stops the process (SIGTERM, then SIGKILL) and removes its temporary directory, so every
//! exit path of the bench, errors and panics included, kills its children.

use crate::wire;
use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Ports the bench picks from: below the ephemeral range (32768 and up), so restarts never
/// meet sockets of earlier runs in TIME_WAIT on a port the kernel handed to a client.
pub const PORTS: std::ops::Range<u16> = 20_000..30_000;

#[derive(Clone, Debug)]
pub enum Kind {
    /// trackseed's release binary.
    Trackseed(PathBuf),
    /// Debian's opentracker (whitelist-only build).
    Opentracker(PathBuf),
    /// The do-nothing responder: this very executable with `--serve-null ADDR`.
    Null(PathBuf),
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Trackseed(_) => "trackseed",
            Kind::Opentracker(_) => "opentracker",
            Kind::Null(_) => "ceiling",
        }
    }
}

/// A running server.
pub struct Server {
    pub name: &'static str,
    pub addr: SocketAddr,
    child: Option<Child>,
    dir: PathBuf,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    /// The server's log (its stdout and stderr), for error messages.
    pub fn log_tail(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(self.dir.join("log")) {
            let _ = f.read_to_string(&mut s);
        }
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }

    /// Errors if the process has exited.
    pub fn check_alive(&mut self) -> io::Result<()> {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait()? {
                return Err(io::Error::other(format!(
                    "{} exited ({status}); its log ends with:\n{}",
                    self.name,
                    self.log_tail()
                )));
            }
        }
        Ok(())
    }

    /// Stops the process: SIGTERM, up to 2 s, then SIGKILL; always reaped.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child, Duration::from_secs(2));
        }
    }
}

/// Stops `child`: SIGTERM, `grace` to exit, then SIGKILL; always reaped.
pub fn stop_child(mut child: Child, grace: Duration) {
    if let Ok(None) = child.try_wait() {
        crate::sys::signal(child.id(), libc::SIGTERM);
        let t = Instant::now();
        while t.elapsed() < grace {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
    }
    let _ = child.wait();
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

static DIRS: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the system's temporary directory, mode 0755 (opentracker, as
/// nobody, must read it after its chroot).
fn temp_dir() -> io::Result<PathBuf> {
    let n = DIRS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("trackseed-bench-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
    Ok(dir)
}

/// Hands out free ports from [`PORTS`], never the same twice in one invocation.
pub struct PortPicker {
    used: HashSet<u16>,
    next: u16,
}

impl Default for PortPicker {
    fn default() -> Self {
        Self::new()
    }
}

impl PortPicker {
    pub fn new() -> PortPicker {
        let spread = PORTS.end - PORTS.start;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64);
        let seed = std::process::id() as u64 ^ nanos;
        PortPicker {
            used: HashSet::new(),
            next: PORTS.start + (seed.wrapping_mul(2_654_435_761) % spread as u64) as u16,
        }
    }

    /// A port where both TCP and UDP bind on 127.0.0.1 right now.
    pub fn pick(&mut self) -> io::Result<u16> {
        for _ in PORTS {
            let p = self.next;
            self.next = if p + 1 >= PORTS.end {
                PORTS.start
            } else {
                p + 1
            };
            if self.used.contains(&p) {
                continue;
            }
            let a = SocketAddrV4::new(Ipv4Addr::LOCALHOST, p);
            let free = std::net::TcpListener::bind(a).is_ok() && UdpSocket::bind(a).is_ok();
            if free {
                self.used.insert(p);
                return Ok(p);
            }
        }
        Err(io::Error::other(format!("no free port in {PORTS:?}")))
    }

    /// A port free as [`PortPicker::pick`] sees it and also on `[::]`, where trackseed binds a
    /// site's listener.
    pub fn pick_site(&mut self) -> io::Result<u16> {
        for _ in 0..50 {
            let p = self.pick()?;
            let any = SocketAddr::from((Ipv6Addr::UNSPECIFIED, p));
            if std::net::TcpListener::bind(any).is_ok() && UdpSocket::bind(any).is_ok() {
                return Ok(p);
            }
        }
        Err(io::Error::other("no port free on [::] for the site"))
    }
}

/// Starts `kind` on 127.0.0.1:`port` knowing `torrents` info hashes, on CPU `cpu` if given,
/// and waits until it answers a UDP announce and accepts TCP (at most 10 s).
pub fn start(kind: &Kind, port: u16, torrents: u32, cpu: Option<usize>) -> io::Result<Server> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let dir = temp_dir()?;
    let log = fs::File::create(dir.join("log"))?;
    // opentracker started as root: it runs as nobody. Dropped here, before exec, when nobody
    // can reach the directory: then the parent-death signal survives. Otherwise opentracker's
    // own -u (chroot, then setuid), which clears that signal.
    let mut run_as = None;
    let mut cmd = match kind {
        Kind::Trackseed(bin) => {
            let conf = dir.join("trackseed.conf");
            fs::write(
                &conf,
                format!(
                    "listen.tcp_udp {addr}\n\
                     tracker.max_torrents 20000\n\
                     tracker.max_peers 2000000\n\
                     http.max_connections 4096\n"
                ),
            )?;
            let mut c = Command::new(bin);
            c.arg("-f").arg(&conf);
            c
        }
        Kind::Opentracker(bin) => {
            let list = dir.join("whitelist.txt");
            let mut text = String::with_capacity(41 * torrents as usize);
            for i in 0..torrents {
                text.push_str(&wire::hex(&wire::info_hash(i)));
                text.push('\n');
            }
            fs::write(&list, text)?;
            fs::set_permissions(&list, fs::Permissions::from_mode(0o644))?;
            let mut c = Command::new(bin);
            let p = port.to_string();
            c.args(["-i", "127.0.0.1", "-p", &p, "-P", &p])
                .arg("-d")
                .arg(&dir);
            if crate::sys::is_root() {
                match crate::sys::user_ids("nobody") {
                    Some(ids) if world_traversable(&dir) => run_as = Some(ids),
                    // It chroots to the directory, then drops to nobody; the whitelist path
                    // is relative to the new root.
                    _ => {
                        c.args(["-u", "nobody"]);
                    }
                }
            }
            c.args(["-w", "whitelist.txt"]);
            c
        }
        Kind::Null(exe) => {
            let mut c = Command::new(exe);
            c.arg("--serve-null").arg(addr.to_string());
            c
        }
    };
    cmd.current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if let Some((uid, gid)) = run_as {
        crate::sys::run_as(&mut cmd, uid, gid);
    }
    crate::sys::kill_with_parent(&mut cmd);
    if let Some(cpu) = cpu {
        crate::sys::pin_child(&mut cmd, cpu);
    }
    let child = cmd
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start {}: {e}", kind.name())))?;
    let mut server = Server {
        name: kind.name(),
        addr,
        child: Some(child),
        dir,
    };
    wait_ready(&mut server, torrents, Duration::from_secs(10))?;
    Ok(server)
}

/// Waits until `server` answers a UDP announce (event stopped, so nothing is stored; for
/// opentracker this also says the whitelist is loaded) and accepts a TCP connection.
fn wait_ready(server: &mut Server, torrents: u32, limit: Duration) -> io::Result<()> {
    let start = Instant::now();
    let sock = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 0))?;
    sock.connect(server.addr)?;
    sock.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut buf = [0u8; 2048];
    let mut connection_id = None;
    let mut udp_ok = false;
    let mut n = 0u32;
    while start.elapsed() < limit {
        crate::stop::check()?;
        server.check_alive()?;
        n += 1;
        let tid = 0x7000_0000 | n;
        match connection_id {
            None => {
                let _ = sock.send(&wire::connect_packet(tid));
            }
            Some(id) => {
                let mut a = wire::announce_template(id, 0, wire::EVENT_STOPPED);
                // The last torrent: opentracker loads its whitelist in order.
                let hash = wire::info_hash(torrents.saturating_sub(1));
                wire::patch_announce(&mut a, tid, &hash, false, 9_999);
                let _ = sock.send(&a);
            }
        }
        let until = Instant::now() + Duration::from_millis(100);
        while Instant::now() < until {
            let Ok(len) = sock.recv(&mut buf) else {
                continue;
            };
            match wire::reply_head(&buf[..len]) {
                Some((wire::ACTION_CONNECT, t)) if t == tid && len >= 16 => {
                    connection_id = Some(buf[8..16].try_into().expect("8 bytes"));
                    break;
                }
                Some((wire::ACTION_ANNOUNCE, t)) if t == tid => {
                    udp_ok = true;
                    break;
                }
                _ => {}
            }
        }
        if udp_ok && TcpStream::connect_timeout(&server.addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if connection_id.is_none() || !udp_ok {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "{} did not answer on {} within {limit:?}; its log ends with:\n{}",
            server.name,
            server.addr,
            server.log_tail()
        ),
    ))
}

/// Whether every directory from `/` down to `dir` lets others through (mode o+x).
fn world_traversable(dir: &Path) -> bool {
    dir.ancestors()
        .all(|d| fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// Size in bytes of a file.
pub fn file_size(path: &Path) -> io::Result<u64> {
    Ok(fs::metadata(path)?.len())
}

/// The first executable named `name` on PATH, else in /usr/bin and /usr/sbin.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}
