//! Signals through a self-pipe: the handler writes the signal number as one byte into a
//! non-blocking pipe whose read end the reactor polls like any socket, so signals are handled
//! between events, never inside the handler.

use mio::unix::pipe;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, Ordering};

/// Write end of the pipe, for the handler (-1 until installed).
static PIPE_FD: AtomicI32 = AtomicI32::new(-1);

/// What the signals that arrived ask the loop to do (several may be pending at once).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    /// SIGINT or SIGTERM: stop cleanly.
    pub terminate: bool,
    /// SIGHUP: reload the config and the access list.
    pub reload: bool,
    /// SIGUSR1: save the state file now.
    pub dump: bool,
}

extern "C" fn on_signal(signum: libc::c_int) {
    let fd = PIPE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = signum as u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is one valid byte on this stack. A
        // full pipe (EAGAIN) loses only a duplicate wake-up, which is harmless.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// The read end of the signal pipe; register it with the poll.
pub struct SignalPipe {
    pub receiver: pipe::Receiver,
    _sender: pipe::Sender,
}

impl SignalPipe {
    /// Creates the pipe and installs handlers for SIGINT, SIGTERM and SIGHUP; ignores SIGPIPE.
    pub fn install() -> io::Result<SignalPipe> {
        let (sender, receiver) = pipe::new()?;
        PIPE_FD.store(sender.as_raw_fd(), Ordering::Relaxed);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGUSR1] {
            set_handler(
                sig,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            )?;
        }
        set_handler(libc::SIGPIPE, libc::SIG_IGN)?;
        Ok(SignalPipe {
            receiver,
            _sender: sender,
        })
    }

    /// Drains the pipe and returns what the signals in it ask for.
    pub fn drain(&mut self) -> Pending {
        let mut buf = [0u8; 64];
        let mut out = Pending::default();
        loop {
            match self.receiver.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    for &b in &buf[..n] {
                        match i32::from(b) {
                            libc::SIGHUP => out.reload = true,
                            libc::SIGUSR1 => out.dump = true,
                            _ => out.terminate = true,
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        out
    }
}

fn set_handler(sig: libc::c_int, handler: libc::sighandler_t) -> io::Result<()> {
    // SAFETY: `sigaction` is plain old data; zeroed is a valid empty mask and no flags. The
    // handler only calls async-signal-safe functions.
    let rc = unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut())
    };
    super::check(rc)
}
