//! Where messages for the operator go: stderr in the foreground (procd and the terminal collect
//! it), syslog for the daemon (`trackseed start`, whose stderr is /dev/null).

use crate::sys::syslog::{self, Facility, Priority};
use std::sync::atomic::{AtomicBool, Ordering};

static TO_SYSLOG: AtomicBool = AtomicBool::new(false);

/// From now on, messages go to syslog with `facility`.
pub fn to_syslog(facility: Facility) {
    syslog::open(c"trackseed", facility);
    TO_SYSLOG.store(true, Ordering::Relaxed);
}

/// Writes one message (use the [`log!`](crate::log!) macro).
pub fn line(args: std::fmt::Arguments<'_>) {
    if TO_SYSLOG.load(Ordering::Relaxed) {
        syslog::log(Priority::Info, &args.to_string());
    } else {
        eprintln!("trackseed: {args}");
    }
}

/// Logs a message for the operator, `format!`-style.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::line(format_args!($($arg)*))
    };
}
