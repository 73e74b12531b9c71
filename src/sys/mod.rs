//! The only module allowed `unsafe`: system calls that std and mio do not wrap.
#![allow(unsafe_code)]

pub mod daemon;
pub mod fifo;
pub mod privileges;
pub mod signals;
pub mod syslog;
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

/// `e` with the failed step named in front ("chroot to /x: Permission denied").
fn step(what: &str, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{what}: {e}"))
}
