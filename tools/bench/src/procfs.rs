//! What `/proc` says about a process: CPU time (utime + stime of every thread, in clock ticks,
//! from `/proc/PID/stat`) and resident memory (`VmRSS` from `/proc/PID/status`).

use std::io;

/// CPU seconds (user + system, all threads) process `pid` used so far.
pub fn cpu_secs(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name is in parentheses and may hold spaces: fields count from the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| io::Error::other("malformed /proc/PID/stat"))?;
    // After ')': state is field 3, so utime (14) and stime (15) are the 12th and 13th here.
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let mut next = || -> io::Result<u64> {
        fields
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other("malformed /proc/PID/stat"))
    };
    let (utime, stime) = (next()?, next()?);
    Ok((utime + stime) as f64 / crate::sys::clock_ticks_per_sec())
}

/// Resident set size of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no VmRSS in /proc/{pid}/status")))
}

/// CPU time of a server and of the bench itself at one instant.
#[derive(Clone, Copy, Debug)]
pub struct CpuMark {
    pub at: std::time::Instant,
    pub server: f64,
    pub own: f64,
}

impl CpuMark {
    pub fn take(pid: u32) -> io::Result<CpuMark> {
        Ok(CpuMark {
            at: std::time::Instant::now(),
            server: cpu_secs(pid)?,
            own: crate::sys::self_cpu_secs(),
        })
    }
}

/// CPU used between two marks: (wall seconds, server CPU seconds, bench CPU seconds).
pub fn between(a: &CpuMark, b: &CpuMark) -> (f64, f64, f64) {
    (
        b.at.duration_since(a.at).as_secs_f64(),
        b.server - a.server,
        b.own - a.own,
    )
}
