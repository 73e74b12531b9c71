//! The daemon process: a pid file held with a lock, detaching from the terminal, and signalling
//! the running daemon (`trackseed start|stop|restart|status`).
//!
//! The lock is a `flock(2)` on the pid file. It belongs to the open file description, so it is
//! held as long as the daemon keeps the file open — it survives `fork` (the child shares the
//! description) and vanishes when the process dies, however it dies. A second `open` of the same
//! path gets a new description, so a second [`PidFile::acquire`] fails even within one process.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often, and how long apart, a busy lock or a not-yet-written pid is looked at again before
/// giving up: `status` holds the lock for a moment, and a starting daemon writes its pid just
/// after taking it.
const RETRIES: u32 = 10;
const RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Why [`PidFile::acquire`] failed.
#[derive(Debug)]
pub enum PidFileError {
    /// Another process holds the lock: an instance is running. `pid` is the one written in the
    /// file (`None` if it holds none yet, or garbage).
    Running { pid: Option<u32> },
    /// The file could not be opened, locked or written.
    Io { path: PathBuf, source: io::Error },
}

impl fmt::Display for PidFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PidFileError::Running { pid: Some(pid) } => {
                write!(f, "already running (pid {pid})")
            }
            PidFileError::Running { pid: None } => f.write_str("already running"),
            PidFileError::Io { path, source } => {
                write!(f, "pid file {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for PidFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PidFileError::Running { .. } => None,
            PidFileError::Io { source, .. } => Some(source),
        }
    }
}

/// A locked pid file, held for the life of the process. Dropping it removes the file if the
/// path still names the file this process locked.
#[derive(Debug)]
pub struct PidFile {
    file: File,
    path: PathBuf,
}

impl PidFile {
    /// Opens or creates `path` (mode 0644), takes its lock without waiting and writes our pid.
    /// Call [`PidFile::write_pid`] again after [`daemonize`]: the daemon has another pid.
    pub fn acquire(path: &Path) -> Result<PidFile, PidFileError> {
        let io_err = |source| PidFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .open(path)
                .map_err(io_err)?;
            if !lock_retrying(&file, libc::LOCK_EX).map_err(io_err)? {
                return Err(PidFileError::Running {
                    pid: read_pid_retrying(&file),
                });
            }
            // The previous holder may have removed the file between our open and our lock; then
            // we hold a lock on an unlinked file, and must start over on the new path.
            if !still_names(path, &file) {
                continue;
            }
            let mut pid_file = PidFile {
                file,
                path: path.to_path_buf(),
            };
            pid_file.write_pid().map_err(io_err)?;
            return Ok(pid_file);
        }
    }

    /// Replaces the file's content with this process's pid and a newline.
    pub fn write_pid(&mut self) -> io::Result<()> {
        let text = format!("{}\n", std::process::id());
        // Written over the old content, then cut to length: once a pid has been written, a
        // reader always finds a whole first line (never an empty file).
        self.file.write_all_at(text.as_bytes(), 0)?;
        self.file.set_len(text.len() as u64)
    }

    /// The path this pid file was acquired at.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if still_names(&self.path, &self.file) {
            let _ = std::fs::remove_file(&self.path);
        }
        // Closing `file` releases the lock.
    }
}

/// The pid of the running instance: the pid written in `path` if some process holds its lock,
/// `None` if nobody does (or the file is missing or unreadable, or holds no pid). Never creates,
/// changes or deletes the file. The probe takes a shared lock for a moment; a concurrent
/// [`PidFile::acquire`] retries past it.
pub fn read_running(path: &Path) -> Option<u32> {
    let file = File::open(path).ok()?;
    match lock_retrying(&file, libc::LOCK_SH) {
        // We got the lock: nobody runs. Closing the file releases it.
        Ok(true) => None,
        Ok(false) => read_pid_retrying(&file),
        Err(_) => None,
    }
}

/// Tries `flock(operation | LOCK_NB)` a few times, briefly apart; `Ok(false)`: another open
/// file description holds a conflicting lock.
fn lock_retrying(file: &File, operation: libc::c_int) -> io::Result<bool> {
    let mut tries = 0;
    loop {
        // SAFETY: the descriptor is open for the life of `file`; flock only takes integers.
        let rc = unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EWOULDBLOCK) if tries < RETRIES => {
                tries += 1;
                std::thread::sleep(RETRY_PAUSE);
            }
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(e),
        }
    }
}

/// The pid in the locked `file`, waiting briefly for a starting daemon to write it.
fn read_pid_retrying(file: &File) -> Option<u32> {
    for attempt in 0..RETRIES {
        if attempt > 0 {
            std::thread::sleep(RETRY_PAUSE);
        }
        let mut buf = [0u8; 32];
        let n = file.read_at(&mut buf, 0).ok()?;
        if let Some(pid) = std::str::from_utf8(&buf[..n]).ok().and_then(parse_pid) {
            return Some(pid);
        }
    }
    None
}

/// The pid on the first line of a pid file.
fn parse_pid(text: &str) -> Option<u32> {
    let pid: u32 = text.lines().next()?.trim().parse().ok()?;
    to_pid(pid).map(|_| pid)
}

/// True if `path` still names the same file (device and inode) as the open `file`.
fn still_names(path: &Path, file: &File) -> bool {
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(p), Ok(f)) => p.dev() == f.dev() && p.ino() == f.ino(),
        _ => false,
    }
}

/// Detaches from the terminal: fork, `setsid`, fork again (so the daemon is no session leader
/// and can never acquire a controlling terminal), `umask(0o022)` (files the daemon creates get
/// predictable modes, whatever the shell's umask), and stdin, stdout and stderr redirected to
/// `/dev/null`. The working directory is left alone: [`crate::sys::privileges`] handles it.
///
/// Returns `Ok(())` only in the daemon. The calling process waits until the daemon is detached,
/// then exits with status 0 (`_exit`: no destructors, so a [`PidFile`] held across the call is
/// neither unlocked nor removed — the daemon shares its lock); if a step after the first fork
/// fails, the calling process gets the `Err` instead (its stderr is still the terminal), and the
/// other processes exit. Call it before starting threads: only the calling thread survives a
/// fork. Flush buffered output first (stdout is not flushed here, to take no lock across fork). [`daemonize_then`] also runs a last step (writing the pid) before the caller exits.
pub fn daemonize() -> io::Result<()> {
    daemonize_then(|| Ok(()))
}

/// [`daemonize`], then `ready` in the daemon, before the calling process exits: an error from
/// it is returned in the calling process (whose stderr is still the terminal) and the daemon
/// exits. `daemonize_then(|| pid_file.write_pid())` makes `trackseed start` return only once
/// the pid file names the daemon, so a `status` or `stop` right after sees the right pid.
pub fn daemonize_then(ready: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    super::check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })
        .map_err(|e| super::step("pipe", e))?;
    let [read_fd, write_fd] = fds;
    let child = match fork() {
        Ok(pid) => pid,
        Err(e) => {
            close(read_fd);
            close(write_fd);
            return Err(super::step("fork", e));
        }
    };
    if child == 0 {
        close(read_fd);
        detach(write_fd);
        if let Err(e) = ready() {
            fail(write_fd, STEP_READY, e);
        }
        write_all(write_fd, &[STEP_DONE]);
        close(write_fd);
        return Ok(());
    }
    close(write_fd);
    let outcome = read_outcome(read_fd);
    close(read_fd);
    let mut status = 0;
    // SAFETY: `child` is our child (it exits right after the second fork); `status` is valid
    // for writes. Reaping it leaves no zombie behind.
    unsafe { libc::waitpid(child, &mut status, 0) };
    match outcome {
        // SAFETY: ends the calling process at once, as a daemon's parent does.
        Ok(()) => unsafe { libc::_exit(0) },
        Err(e) => Err(e),
    }
}

/// In the first child: setsid, second fork, umask, /dev/null. Returns only in the daemon; on
/// failure reports the error on `report` and exits.
fn detach(report: libc::c_int) {
    // SAFETY: setsid has no preconditions; the first child is no process group leader.
    if unsafe { libc::setsid() } < 0 {
        fail(report, STEP_SETSID, io::Error::last_os_error());
    }
    match fork() {
        Err(e) => fail(report, STEP_FORK, e),
        Ok(0) => {}
        // SAFETY: the session leader's work is done; exit without destructors.
        Ok(_) => unsafe { libc::_exit(0) },
    }
    // SAFETY: umask only swaps an integer and cannot fail.
    unsafe { libc::umask(0o022) };
    if let Err(e) = to_dev_null() {
        fail(report, STEP_DEV_NULL, e);
    }
}

/// Report pipe: success is the single byte `STEP_DONE`; a failure is the failed step's number,
/// the errno (4 bytes, native order, 0 if none) and the error's text.
const STEP_DONE: u8 = 0;
const STEP_SETSID: u8 = 1;
const STEP_FORK: u8 = 2;
const STEP_DEV_NULL: u8 = 3;
const STEP_READY: u8 = 4;
/// Longest report read; shorter than `PIPE_BUF`, so it is written at once.
const REPORT_MAX: usize = 512;

/// Reports the failed `step` on `report`, then exits.
fn fail(report: libc::c_int, step: u8, e: io::Error) -> ! {
    let mut msg = Vec::with_capacity(REPORT_MAX);
    msg.push(step);
    msg.extend_from_slice(&e.raw_os_error().unwrap_or(0).to_ne_bytes());
    if e.raw_os_error().is_none() {
        let text = e.to_string();
        let mut end = text.len().min(REPORT_MAX - msg.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        msg.extend_from_slice(&text.as_bytes()[..end]);
    }
    write_all(report, &msg);
    // SAFETY: ends this process without running the caller's destructors a second time.
    unsafe { libc::_exit(1) }
}

/// Waits for the daemon's report on the pipe (see `STEP_DONE`).
fn read_outcome(fd: libc::c_int) -> io::Result<()> {
    let mut msg = [0u8; REPORT_MAX];
    let mut got = 0;
    while got < msg.len() {
        // SAFETY: the range `got..` of `msg` is valid for writes of that many bytes.
        let n = unsafe { libc::read(fd, msg[got..].as_mut_ptr().cast(), msg.len() - got) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(super::step("waiting for the daemon", e));
        }
        if n == 0 {
            break;
        }
        got += n as usize;
        if msg[0] == STEP_DONE {
            return Ok(());
        }
    }
    if got < 5 {
        return Err(io::Error::other(
            "the daemon process exited before it was ready",
        ));
    }
    let errno = i32::from_ne_bytes([msg[1], msg[2], msg[3], msg[4]]);
    let what = match msg[0] {
        STEP_SETSID => "setsid",
        STEP_FORK => "second fork",
        STEP_DEV_NULL => "redirecting stdin/stdout/stderr to /dev/null",
        _ => "daemon start-up",
    };
    let e = if errno != 0 {
        io::Error::from_raw_os_error(errno)
    } else {
        io::Error::other(String::from_utf8_lossy(&msg[5..got]).into_owned())
    };
    Err(super::step(what, e))
}

fn to_dev_null() -> io::Result<()> {
    // SAFETY: the literal is NUL-terminated; open returns a new descriptor or -1.
    let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    for target in 0..=2 {
        // SAFETY: `fd` is open; dup2 replaces `target` atomically (or leaves it if equal).
        if fd != target && unsafe { libc::dup2(fd, target) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    if fd > 2 {
        close(fd);
    }
    Ok(())
}

fn fork() -> io::Result<libc::pid_t> {
    // SAFETY: the child continues only in this module's single-threaded detach path (the
    // caller is told to daemonize before starting threads) or exits with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(pid)
    }
}

fn write_all(fd: libc::c_int, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for reads of its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

fn close(fd: libc::c_int) {
    // SAFETY: `fd` is a descriptor this module opened and no longer uses.
    unsafe { libc::close(fd) };
}

/// Sends `sig` to process `pid`. Pid 0 and pids beyond `i32::MAX` (which `kill` would take as
/// process groups) are refused with `InvalidInput`.
pub fn send_signal(pid: u32, sig: i32) -> io::Result<()> {
    let pid = to_pid(pid)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("invalid pid {pid}")))?;
    // SAFETY: kill takes plain integers; `pid` > 0 names one process.
    super::check(unsafe { libc::kill(pid, sig) })
}

/// True if process `pid` exists (`kill(pid, 0)`; a process of another user counts, and so does
/// a zombie not yet reaped by its parent).
pub fn is_alive(pid: u32) -> bool {
    let Some(pid) = to_pid(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn to_pid(pid: u32) -> Option<libc::pid_t> {
    libc::pid_t::try_from(pid).ok().filter(|&p| p > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Instant;

    fn temp_path(tag: &str) -> PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        std::env::temp_dir().join(format!(
            "trackseed-daemon-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
    }

    fn wait_for(path: &Path) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(text) = std::fs::read_to_string(path) {
                return Some(text);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    #[test]
    fn second_acquire_in_the_same_process_reports_running() {
        let path = temp_path("twice");
        let me = std::process::id();
        let held = PidFile::acquire(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{me}\n"));
        match PidFile::acquire(&path) {
            Err(PidFileError::Running { pid }) => assert_eq!(pid, Some(me)),
            other => panic!("expected Running, got {other:?}"),
        }
        assert_eq!(read_running(&path), Some(me));
        assert_eq!(held.path(), path);
        drop(held);
        assert!(!path.exists(), "drop removes the pid file");
        assert_eq!(read_running(&path), None);
    }

    #[test]
    fn stale_file_without_a_lock_is_not_running() {
        let path = temp_path("stale");
        std::fs::write(&path, "1234567890\n").unwrap();
        assert_eq!(read_running(&path), None);
        assert!(path.exists(), "read_running leaves a file it does not own");
        let held = PidFile::acquire(&path).unwrap();
        let me = std::process::id();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{me}\n"));
        drop(held);
        assert!(!path.exists());
    }

    #[test]
    fn drop_leaves_a_file_that_replaced_ours() {
        let path = temp_path("replaced");
        let held = PidFile::acquire(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "42\n").unwrap();
        drop(held);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "42\n");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn missing_file_and_bad_directory() {
        assert_eq!(read_running(&temp_path("missing")), None);
        let e = PidFile::acquire(Path::new("/nonexistent-trackseed-dir/x.pid")).unwrap_err();
        assert!(matches!(e, PidFileError::Io { .. }), "{e:?}");
        assert!(
            e.to_string().contains("/nonexistent-trackseed-dir/x.pid"),
            "{e}"
        );
    }

    #[test]
    fn parses_only_a_positive_pid_on_the_first_line() {
        assert_eq!(parse_pid("123\n"), Some(123));
        assert_eq!(parse_pid(" 123 \nrest"), Some(123));
        assert_eq!(parse_pid(""), None);
        assert_eq!(parse_pid("0\n"), None);
        assert_eq!(parse_pid("-5\n"), None);
        assert_eq!(parse_pid("4294967295\n"), None);
        assert_eq!(parse_pid("abc"), None);
    }

    #[test]
    fn lock_held_by_another_process_until_it_dies() {
        let path = temp_path("other");
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the child only takes the pid file, reports and sleeps until killed.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            let held = PidFile::acquire(&path);
            write_all(fds[1], &[u8::from(held.is_ok())]);
            loop {
                // SAFETY: pause only waits for a signal.
                unsafe { libc::pause() };
            }
        }
        close(fds[1]);
        let mut byte = [0u8; 1];
        // SAFETY: `byte` is valid for one byte.
        let n = unsafe { libc::read(fds[0], byte.as_mut_ptr().cast(), 1) };
        close(fds[0]);
        assert_eq!((n, byte[0]), (1, 1), "child took the pid file");
        let child_pid = child as u32;
        assert!(is_alive(child_pid));
        assert_eq!(read_running(&path), Some(child_pid));
        match PidFile::acquire(&path) {
            Err(PidFileError::Running { pid }) => assert_eq!(pid, Some(child_pid)),
            other => panic!("expected Running, got {other:?}"),
        }
        send_signal(child_pid, libc::SIGKILL).unwrap();
        assert_eq!(crate::sys::forked::wait_exit_code(child), -libc::SIGKILL);
        assert!(!is_alive(child_pid));
        // Killed: the file stays, but its lock went with the process.
        assert!(path.exists());
        assert_eq!(read_running(&path), None);
        let held = PidFile::acquire(&path).unwrap();
        drop(held);
        assert!(!path.exists());
    }

    #[test]
    fn liveness_and_signal_arguments() {
        assert!(is_alive(std::process::id()));
        assert!(!is_alive(0));
        assert!(!is_alive(u32::MAX));
        let e = send_signal(0, libc::SIGTERM).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(send_signal(u32::MAX, libc::SIGTERM).is_err());
        send_signal(std::process::id(), 0).unwrap();
    }

    #[test]
    fn daemonize_detaches_and_runs_the_ready_step_first() {
        let marker = temp_path("marker");
        let ready = temp_path("ready");
        let cwd = std::env::current_dir().unwrap();
        let code = crate::sys::forked::in_child(|| {
            // Only the daemon returns; this process exits 0 inside once `ready` has run.
            if daemonize_then(|| std::fs::write(&ready, "")).is_err() {
                return 1;
            }
            // SAFETY: plain getters; umask is set back to the value it reports.
            let (pid, sid, mask) = unsafe {
                let mask = libc::umask(0);
                libc::umask(mask);
                (libc::getpid(), libc::getsid(0), mask)
            };
            let stdin = std::fs::read_link("/proc/self/fd/0").unwrap_or_default();
            let here = std::env::current_dir().unwrap_or_default();
            let text = format!(
                "{pid}\n{sid}\n{}\n{mask:o}\n{}\n",
                stdin.display(),
                here.display()
            );
            let tmp = marker.with_extension("tmp");
            if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, &marker).is_ok() {
                0
            } else {
                1
            }
        });
        assert_eq!(code, 0, "the calling process exits 0");
        assert!(
            ready.exists(),
            "the ready step ran before the caller exited"
        );
        std::fs::remove_file(&ready).unwrap();
        let text = wait_for(&marker).expect("the daemon wrote its marker");
        std::fs::remove_file(&marker).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let pid: i32 = lines[0].parse().unwrap();
        let sid: i32 = lines[1].parse().unwrap();
        // SAFETY: getsid has no preconditions.
        let our_sid = unsafe { libc::getsid(0) };
        assert_ne!(sid, our_sid, "new session");
        assert_ne!(sid, pid, "not the session leader");
        assert_eq!(lines[2], "/dev/null");
        assert_eq!(lines[3], "22");
        assert_eq!(Path::new(lines[4]), cwd, "working directory unchanged");
    }

    #[test]
    fn daemonize_reports_a_failed_ready_step_to_the_caller() {
        let code = crate::sys::forked::in_child(|| {
            match daemonize_then(|| Err(io::Error::other("no pid file today"))) {
                Err(e) if e.to_string().contains("no pid file today") => 0,
                Err(_) => 2,
                // The daemon: it must not get here.
                Ok(()) => 3,
            }
        });
        assert_eq!(code, 0);
    }
}
