//! One measured run: warm up, mark the CPU clocks, load for a fixed time, mark again, stop
//! sending and drain what is still in flight.

use crate::procfs::{self, CpuMark};
use std::io;
use std::time::{Duration, Instant};

/// Request counters of a load generator.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// Requests sent (for one connection per request: connections attempted).
    pub sent: u64,
    /// Good answers (an announce answer; HTTP 200 without a failure reason).
    pub answered: u64,
    /// Answers that were errors (UDP action 3, HTTP failure or other status).
    pub errors: u64,
    /// Requests given up after the timeout.
    pub timeouts: u64,
    /// HTTP connections opened again (keep-alive refused by the server, or lost).
    pub reconnects: u64,
}

impl Counts {
    pub fn minus(&self, o: &Counts) -> Counts {
        Counts {
            sent: self.sent - o.sent,
            answered: self.answered - o.answered,
            errors: self.errors - o.errors,
            timeouts: self.timeouts - o.timeouts,
            reconnects: self.reconnects - o.reconnects,
        }
    }

    pub fn plus(&self, o: &Counts) -> Counts {
        Counts {
            sent: self.sent + o.sent,
            answered: self.answered + o.answered,
            errors: self.errors + o.errors,
            timeouts: self.timeouts + o.timeouts,
            reconnects: self.reconnects + o.reconnects,
        }
    }

    /// Requests sent that got no answer at all.
    pub fn unanswered(&self) -> u64 {
        self.sent.saturating_sub(self.answered + self.errors)
    }
}

/// A load generator as the measuring loop drives it.
pub trait Engine {
    /// Fills every slot: the load starts.
    fn start(&mut self) -> io::Result<()>;
    /// Waits at most `wait` for answers, handles them and sends what follows.
    fn turn(&mut self, wait: Duration) -> io::Result<()>;
    /// Stops sending new requests; answers still count.
    fn stop_sending(&mut self);
    /// Requests sent and not yet answered or given up.
    fn in_flight(&self) -> usize;
    fn counts(&self) -> Counts;
}

/// How long each part of a run lasts.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub warmup: Duration,
    pub duration: Duration,
    pub drain: Duration,
}

/// What one run measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunResult {
    /// Wall seconds of the measured window.
    pub wall: f64,
    /// Server CPU seconds in the window (all its threads, user + system).
    pub server_cpu: f64,
    /// The bench's own CPU seconds in the window.
    pub own_cpu: f64,
    /// Counters of the window.
    pub window: Counts,
    /// Counters of the whole run (warm-up, window and drain).
    pub total: Counts,
}

impl RunResult {
    /// Two runs as one (rounds of the same server).
    pub fn plus(&self, o: &RunResult) -> RunResult {
        RunResult {
            wall: self.wall + o.wall,
            server_cpu: self.server_cpu + o.server_cpu,
            own_cpu: self.own_cpu + o.own_cpu,
            window: self.window.plus(&o.window),
            total: self.total.plus(&o.total),
        }
    }

    pub fn answered_per_sec(&self) -> f64 {
        self.window.answered as f64 / self.wall
    }
    pub fn answered_per_cpu_sec(&self) -> f64 {
        if self.server_cpu > 0.0 {
            self.window.answered as f64 / self.server_cpu
        } else {
            0.0
        }
    }
    /// Share of the run's requests that got no answer.
    pub fn unanswered_share(&self) -> f64 {
        if self.total.sent == 0 {
            0.0
        } else {
            self.total.unanswered() as f64 / self.total.sent as f64
        }
    }
}

const TURN: Duration = Duration::from_millis(5);

/// Runs `engine` against the server `pid` on `schedule`.
pub fn measure(engine: &mut impl Engine, pid: u32, schedule: &Schedule) -> io::Result<RunResult> {
    engine.start()?;
    let t0 = Instant::now();
    while t0.elapsed() < schedule.warmup {
        crate::stop::check()?;
        engine.turn(TURN)?;
    }
    let c0 = engine.counts();
    let m0 = CpuMark::take(pid)?;
    while m0.at.elapsed() < schedule.duration {
        crate::stop::check()?;
        engine.turn(TURN)?;
    }
    let c1 = engine.counts();
    let m1 = CpuMark::take(pid)?;
    engine.stop_sending();
    let t2 = Instant::now();
    while engine.in_flight() > 0 && t2.elapsed() < schedule.drain {
        crate::stop::check()?;
        engine.turn(TURN)?;
    }
    let (wall, server_cpu, own_cpu) = procfs::between(&m0, &m1);
    Ok(RunResult {
        wall,
        server_cpu,
        own_cpu,
        window: c1.minus(&c0),
        total: engine.counts(),
    })
}
