//! Every `unsafe` system call of the bench, each wrapped in a safe function.

use std::io;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Datagrams one batched call moves at most.
pub const BATCH: usize = 32;

pub(crate) fn install_stop_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe; the
        // sigaction struct is zeroed and then filled as the system call expects.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = crate::stop::on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// Receives up to `bufs.len()` (at most [`BATCH`]) datagrams on the connected, nonblocking
/// socket `fd` in one call; `lens[i]` gets each length. Ok(0) when none is waiting.
pub fn recv_batch<const N: usize>(
    fd: RawFd,
    bufs: &mut [[u8; N]],
    lens: &mut [usize],
) -> io::Result<usize> {
    let n = bufs.len().min(lens.len()).min(BATCH);
    // SAFETY: zeroed msghdr/iovec are valid "empty" values; every iovec points into a buffer
    // of `bufs` that outlives the call, with its true length.
    unsafe {
        let mut iov: [libc::iovec; BATCH] = std::mem::zeroed();
        let mut msgs: [libc::mmsghdr; BATCH] = std::mem::zeroed();
        for i in 0..n {
            iov[i].iov_base = bufs[i].as_mut_ptr().cast();
            iov[i].iov_len = N;
            msgs[i].msg_hdr.msg_iov = &mut iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        let got = libc::recvmmsg(
            fd,
            msgs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        );
        if got < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(0),
                _ => Err(e),
            };
        }
        for i in 0..got as usize {
            lens[i] = msgs[i].msg_len as usize;
        }
        Ok(got as usize)
    }
}

/// Sends `bufs[i][..len]` for every `i` (at most [`BATCH`]) on the connected, nonblocking
/// socket `fd` in one call. Returns how many went out (0 when the socket buffer is full).
pub fn send_batch<const N: usize>(fd: RawFd, bufs: &[[u8; N]], len: usize) -> io::Result<usize> {
    let n = bufs.len().min(BATCH);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: as in recv_batch; the buffers are only read by the kernel.
    unsafe {
        let mut iov: [libc::iovec; BATCH] = std::mem::zeroed();
        let mut msgs: [libc::mmsghdr; BATCH] = std::mem::zeroed();
        for i in 0..n {
            iov[i].iov_base = bufs[i].as_ptr() as *mut libc::c_void;
            iov[i].iov_len = len.min(N);
            msgs[i].msg_hdr.msg_iov = &mut iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        let sent = libc::sendmmsg(fd, msgs.as_mut_ptr(), n as libc::c_uint, libc::MSG_DONTWAIT);
        if sent < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(0),
                _ => Err(e),
            };
        }
        Ok(sent as usize)
    }
}

/// CPU time (user + system) this process used so far, in seconds.
pub fn self_cpu_secs() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time of the calling thread so far (`getrusage(RUSAGE_THREAD)`): (user, system) seconds.
pub fn thread_cpu_secs() -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

/// Clock ticks per second, the unit of `/proc/PID/stat` CPU times.
pub fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Whether the bench runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// (machine, kernel release) from uname(2).
pub fn uname() -> (String, String) {
    // SAFETY: uname fills the zeroed struct; its fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return ("?".into(), "?".into());
        }
        let s = |f: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(f.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        (s(&u.machine), s(&u.release))
    }
}

/// Makes the child killed when the bench dies, even by SIGKILL (the kernel's parent-death
/// signal). A child that changes its user id afterwards (opentracker dropping root) loses it;
/// the guards in `servers` still kill it on every other exit path.
pub fn kill_with_parent(cmd: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec only async-signal-safe calls: prctl and getppid.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(io::Error::other("the bench exited during the start"));
            }
            Ok(())
        });
    }
}

/// Sends `sig` to process `pid`.
pub fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill has no memory effects; pid is one of our children, not yet reaped.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// Restricts the calling process (pid 0) or `pid` to CPU `cpu`. Threads created later inherit it.
pub fn pin(pid: u32, cpu: usize) -> io::Result<()> {
    // SAFETY: the CPU set is a plain bitmask zeroed and filled by the libc macros.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(
            pid as libc::pid_t,
            std::mem::size_of::<libc::cpu_set_t>(),
            &set,
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// CPUs this process may run on, in order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills the zeroed set; CPU_ISSET only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// If `wanted` and two CPUs or more are allowed: pins this process to the first CPU and gives
/// it and the second (for the other side), with "`us` pinned to CPU A, `them` to CPU B" for
/// the report; otherwise `None` and "not pinned".
pub fn pin_pair(
    wanted: bool,
    us: &str,
    them: &str,
) -> io::Result<(Option<(usize, usize)>, String)> {
    let cpus = allowed_cpus();
    if !wanted || cpus.len() < 2 {
        return Ok((None, "not pinned".into()));
    }
    pin(0, cpus[0])?;
    Ok((
        Some((cpus[0], cpus[1])),
        format!("{us} pinned to CPU {}, {them} to CPU {}", cpus[0], cpus[1]),
    ))
}

/// Makes the child start restricted to CPU `cpu` (inherited by every thread it creates).
pub fn pin_child(cmd: &mut Command, cpu: usize) {
    // SAFETY: only sched_setaffinity (a system call) runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || pin(0, cpu));
    }
}

/// (uid, gid) of user `name`, looked up in the parent (getpwnam is not safe after fork).
pub fn user_ids(name: &str) -> Option<(u32, u32)> {
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: getpwnam returns null or a pointer to a static record, read at once.
    unsafe {
        let pw = libc::getpwnam(cname.as_ptr());
        if pw.is_null() {
            return None;
        }
        Some(((*pw).pw_uid, (*pw).pw_gid))
    }
}

/// Makes the child drop root for `uid`/`gid` before it executes. Register it before
/// [`kill_with_parent`]: a parent-death signal set before a change of user id is cleared.
pub fn run_as(cmd: &mut Command, uid: u32, gid: u32) {
    // SAFETY: only setgroups, setgid and setuid (system calls) run between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Flushes every file system's dirty data to disk (sync(2)), as before dropping the caches.
pub fn sync() {
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// What statfs(2) says about the file system holding `path`.
#[derive(Clone, Copy, Debug)]
pub struct FsInfo {
    /// tmpfs (or ramfs): its files live in the page cache, which cannot drop them.
    pub in_memory: bool,
    /// Bytes an unprivileged user may still write.
    pub available: u64,
}

/// statfs(2) of the file system holding `path`.
#[allow(clippy::unnecessary_cast)] // the field types differ between libcs and architectures
pub fn fs_info(path: &std::path::Path) -> io::Result<FsInfo> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))?;
    // SAFETY: statfs fills the zeroed struct; `c` is NUL-terminated and outlives the call.
    let s = unsafe {
        let mut s: libc::statfs = std::mem::zeroed();
        if libc::statfs(c.as_ptr(), &mut s) != 0 {
            return Err(io::Error::last_os_error());
        }
        s
    };
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let kind = s.f_type as i64;
    Ok(FsInfo {
        in_memory: kind == TMPFS_MAGIC || kind == RAMFS_MAGIC,
        available: (s.f_bavail as u64).saturating_mul(s.f_bsize as u64),
    })
}
