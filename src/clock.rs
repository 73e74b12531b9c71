//! The one place that reads the OS clock. Everything else takes `now: Secs` as an argument.

use std::time::Instant;

/// Whole seconds since the process started. `u32` lasts 136 years and keeps tables small.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Secs(pub u32);

impl Secs {
    pub fn saturating_sub(self, other: Secs) -> u32 {
        self.0.saturating_sub(other.0)
    }
}

/// A monotonic clock anchored at start-up.
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    pub fn now(&self) -> Secs {
        let secs = self.start.elapsed().as_secs();
        Secs(u32::try_from(secs).unwrap_or(u32::MAX))
    }

    /// Milliseconds since start-up, for deadlines finer than a second.
    pub fn now_millis(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Wall-clock seconds since the Unix epoch (0 if the clock is before it): for state dumps and
/// reload times shown to the operator, never for expiry.
pub fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
