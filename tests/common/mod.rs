//! Test harness: starts the real `trackseed` binary on loopback ephemeral ports and hands back
//! the addresses it bound, read from its start-up log (`trackseed: listening tcp ADDR`,
//! `trackseed: listening udp ADDR`, then `trackseed: ready`).
//!
//! `TRACKSEED_BIN` overrides the binary (default: the one cargo built for this test run) and
//! `TRACKSEED_RUNNER` prefixes it with an emulator, e.g. `qemu-mips-static -cpu 24Kc`, so the
//! same tests drive a cross-built binary.
#![allow(dead_code)]

pub mod clients;
pub mod mktorrent;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to print `ready` (qemu-user is slow to start).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Read/write timeout for every test socket.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Server {
    child: Option<Child>,
    pub tcp: Vec<SocketAddr>,
    pub udp: Vec<SocketAddr>,
    /// Lines the server wrote to stderr after `ready` (collected by a reader thread).
    log_rx: mpsc::Receiver<String>,
    pub start_log: Vec<String>,
    pub dir: TempDir,
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "trackseed-test-{}-{}-{}",
            tag,
            std::process::id(),
            n
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn binary() -> PathBuf {
    match std::env::var_os("TRACKSEED_BIN") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_BIN_EXE_trackseed")),
    }
}

/// The command that runs trackseed: the binary, behind `TRACKSEED_RUNNER` when set.
pub fn command() -> Command {
    let bin = binary();
    match std::env::var("TRACKSEED_RUNNER") {
        Ok(runner) if !runner.trim().is_empty() => {
            let mut parts = runner.split_whitespace();
            let mut cmd = Command::new(parts.next().expect("runner is not empty"));
            cmd.args(parts);
            cmd.arg(bin);
            cmd
        }
        _ => Command::new(bin),
    }
}

impl Server {
    /// Starts trackseed with `config` written to a file and passed with `-f`.
    pub fn start(config: &str) -> Server {
        Server::start_with_args(config, &[])
    }

    pub fn start_with_args(config: &str, extra: &[&str]) -> Server {
        Server::try_start(config, extra).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts the server; on failure returns what it printed.
    pub fn try_start(config: &str, extra: &[&str]) -> Result<Server, String> {
        let dir = TempDir::new("srv");
        let conf = dir.path().join("trackseed.conf");
        std::fs::write(&conf, config).expect("write config");
        let mut cmd = command();
        cmd.arg("-f").arg(&conf).args(extra);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("spawn trackseed: {e}"))?;
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, rx) = mpsc::channel();
        spawn_reader(stderr, tx);
        let deadline = Instant::now() + START_TIMEOUT;
        let mut start_log = Vec::new();
        let (mut tcp, mut udp) = (Vec::new(), Vec::new());
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(a) = line.strip_prefix("trackseed: listening tcp ") {
                        tcp.push(a.trim().parse().expect("tcp addr"));
                    } else if let Some(a) = line.strip_prefix("trackseed: listening udp ") {
                        udp.push(a.trim().parse().expect("udp addr"));
                    }
                    let ready = line.trim() == "trackseed: ready";
                    start_log.push(line);
                    if ready {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    return Err(format!(
                        "trackseed did not become ready (exit {status:?}); it printed:\n{}",
                        start_log.join("\n")
                    ));
                }
            }
        }
        Ok(Server {
            child: Some(child),
            tcp,
            udp,
            log_rx: rx,
            start_log,
            dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -{sig} failed");
    }

    /// Waits up to `timeout` for the server to exit and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().expect("running");
        while Instant::now() < deadline {
            if let Some(st) = child.try_wait().expect("try_wait") {
                self.child = None;
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stderr lines printed since start-up (drains what has arrived).
    pub fn log_lines(&self) -> Vec<String> {
        self.log_rx.try_iter().collect()
    }

    pub fn tcp_v4(&self) -> SocketAddr {
        *self
            .tcp
            .iter()
            .find(|a| a.is_ipv4())
            .expect("a v4 tcp listener")
    }
    pub fn udp_v4(&self) -> SocketAddr {
        *self
            .udp
            .iter()
            .find(|a| a.is_ipv4())
            .expect("a v4 udp listener")
    }
    pub fn tcp_v6(&self) -> SocketAddr {
        *self
            .tcp
            .iter()
            .find(|a| a.is_ipv6())
            .expect("a v6 tcp listener")
    }
    pub fn udp_v6(&self) -> SocketAddr {
        *self
            .udp
            .iter()
            .find(|a| a.is_ipv6())
            .expect("a v6 udp listener")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_reader(stderr: ChildStderr, tx: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(stderr);
        let mut line = String::new();
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if std::env::var_os("TRACKSEED_TEST_VERBOSE").is_some() {
                        eprint!("[server] {line}");
                    }
                    if tx.send(line.trim_end().to_string()).is_err() {
                        break;
                    }
                }
            }
        }
    });
}

/// Runs trackseed with `args` to completion (bounded) and returns (exit code, stdout, stderr).
pub fn run_cli(args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = command();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn trackseed");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            let mut out = String::new();
            let mut err = String::new();
            child
                .stdout
                .take()
                .expect("piped")
                .read_to_string(&mut out)
                .ok();
            child
                .stderr
                .take()
                .expect("piped")
                .read_to_string(&mut err)
                .ok();
            return (st.code(), out, err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("trackseed {args:?} did not exit within {START_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One HTTP/1.0 GET on a fresh connection; returns (status code, headers, body).
pub fn http_get(addr: SocketAddr, target: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    write!(s, "GET {target} HTTP/1.0\r\nHost: test\r\n\r\n").expect("send request");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read response");
    split_response(&buf)
}

/// Splits a complete HTTP response into (status, header text, body).
pub fn split_response(buf: &[u8]) -> (u16, String, Vec<u8>) {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(buf)));
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .expect("status")
        .parse()
        .expect("status code");
    (status, head, buf[end + 4..].to_vec())
}

/// Percent-encodes every byte (what clients do for info_hash and peer_id).
pub fn urlencode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// A UDP socket bound to the loopback of `server`'s family, with timeouts set.
pub fn udp_client(server: SocketAddr) -> UdpSocket {
    let bind = if server.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let s = UdpSocket::bind(bind).expect("bind udp client");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.connect(server).expect("connect udp");
    s
}

/// A port free for TCP and UDP on every address now: a site binds `[::]:PORT` for both and
/// cannot be given port 0 (the port is in its announce URLs).
pub fn free_site_port() -> u16 {
    for _ in 0..20 {
        let l = std::net::TcpListener::bind("[::]:0")
            .or_else(|_| std::net::TcpListener::bind("127.0.0.1:0"));
        let port = l
            .expect("bind a probe listener")
            .local_addr()
            .unwrap()
            .port();
        let udp = UdpSocket::bind(("::", port)).or_else(|_| UdpSocket::bind(("127.0.0.1", port)));
        if udp.is_ok() {
            return port;
        }
    }
    panic!("no free port in 20 tries");
}
