//! The only module allowed `unsafe`: system calls that std and mio do not wrap.
#![allow(unsafe_code)]

pub mod daemon;
pub mod fifo;
pub mod inotify;
pub mod privileges;
pub mod readahead;
pub mod sendfile;
pub mod sha1;
pub mod signals;
pub mod socket;
pub mod syslog;
pub mod tty;
pub mod zeroed;

/// Resident set size of this process in bytes, from `/proc/self/statm`; `None` where it cannot
/// be read.
pub fn rss_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(page).ok().map(|p| pages * p)
}

/// Clock ticks per second (the unit of /proc's process times).
pub fn clock_ticks_per_sec() -> Option<u64> {
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(t).ok().filter(|&t| t > 0)
}

/// The result of a system call that returns 0 on success and -1 with `errno` on failure.
fn check(rc: libc::c_int) -> std::io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `e` with the failed step named in front ("chroot to /x: Permission denied").
fn step(what: &str, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Test helpers for code that changes the whole process (chroot, user, daemonizing): run it in
/// a forked child, so the test process keeps its root, privileges and working directory.
#[cfg(test)]
pub(crate) mod forked {
    use std::io;

    /// Runs `f` in a forked child and returns its exit code (a panic is 101).
    pub fn in_child(f: impl FnOnce() -> i32) -> i32 {
        // SAFETY: the child runs only `f` and then `_exit`s, never returning into the test
        // harness; it allocates, which glibc and musl make safe after fork.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
        if pid == 0 {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
            // SAFETY: ends the child without running the harness's destructors or atexit hooks.
            unsafe { libc::_exit(code) };
        }
        wait_exit_code(pid)
    }

    /// Waits for child `pid`: its exit code, or minus the signal that killed it.
    pub fn wait_exit_code(pid: libc::pid_t) -> i32 {
        let mut status = 0;
        // SAFETY: `pid` is our child; `status` is valid for writes.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(rc, pid, "waitpid: {}", io::Error::last_os_error());
        if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -libc::WTERMSIG(status)
        }
    }
}
