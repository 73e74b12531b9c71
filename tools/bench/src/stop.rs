//! SIGINT, SIGTERM and SIGHUP set a flag instead of killing the bench, so that every loop ends
//! (they all check [`requested`]) and every child process is killed by its guard.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

pub(crate) extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// Installs the handlers.
pub fn install() {
    crate::sys::install_stop_handlers();
}

/// Whether a stop signal arrived.
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// An error for loops that end because of a stop signal.
pub fn interrupted() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Interrupted, "interrupted by a signal")
}

/// `Err(interrupted())` once a stop signal arrived.
pub fn check() -> std::io::Result<()> {
    if requested() {
        Err(interrupted())
    } else {
        Ok(())
    }
}
