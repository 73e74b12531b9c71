//! Upload rate limits: a token bucket of bytes.
//!
//! The bucket holds up to `burst` tokens (bytes) and gains `rate` a second. A sender asks
//! [`Bucket::allow`] how much it may send now, sends at most that, and charges what actually
//! went with [`Bucket::take`]; when it got less than it wanted, [`Bucket::wait`] is how long
//! until the rest is there (the poll timeout). A rate of 0 is unlimited.
//!
//! Integer arithmetic only, in microseconds: a refill adds the whole tokens the elapsed time
//! is worth and moves the refill mark forward by exactly the time those tokens cost (rounded
//! up to the microsecond), so fractions of a token carry over to the next refill and frequent
//! small refills at low rates lose nothing; the rate is exact to one microsecond per refill.
//! Time spent with a full bucket earns nothing.

use std::time::{Duration, Instant};

const MICROS: u64 = 1_000_000;

/// A token bucket: `rate` bytes a second, at most `burst` at once.
#[derive(Clone, Copy, Debug)]
pub struct Bucket {
    /// Bytes per second; 0 is unlimited.
    rate: u32,
    /// Most tokens held (at least 1 when limited).
    burst: u32,
    tokens: u32,
    /// The time the tokens are counted up to.
    last: Instant,
}

impl Bucket {
    /// A full bucket: `rate` bytes a second (0: unlimited), holding at most `burst` (0: one
    /// second's worth, `rate`), counted from `now`.
    pub fn new(rate: u32, burst: u32, now: Instant) -> Bucket {
        let burst = effective_burst(rate, burst);
        Bucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Refills for the time up to `now` and returns how much of `want` may be sent now (all of
    /// it when unlimited). Nothing is charged: [`Bucket::take`] what was sent.
    pub fn allow(&mut self, want: u32, now: Instant) -> u32 {
        if self.rate == 0 {
            return want;
        }
        self.refill(now);
        want.min(self.tokens)
    }

    /// Charges `n` bytes sent (at most what the last [`Bucket::allow`] granted; more is
    /// forgiven, the bucket does not go below empty).
    pub fn take(&mut self, n: u32) {
        if self.rate != 0 {
            self.tokens = self.tokens.saturating_sub(n);
        }
    }

    /// How long after the last refill (the last [`Bucket::allow`]) `want` tokens are there:
    /// zero if they are, or unlimited. `want` above the burst waits for a full bucket. Late by
    /// less than one token's time, the fraction carried over: a poll timeout, never early.
    pub fn wait(&self, want: u32) -> Duration {
        let want = want.min(self.burst);
        if self.rate == 0 || want <= self.tokens {
            return Duration::ZERO;
        }
        Duration::from_micros(cost_us(want - self.tokens, self.rate))
    }

    /// A new rate (0: unlimited) and burst (0: one second's worth) from `now`: the time so far
    /// is counted at the old rate; tokens above the new burst are dropped. Leaving "unlimited"
    /// starts with a full bucket.
    pub fn set_rate(&mut self, rate: u32, burst: u32, now: Instant) {
        let was_unlimited = self.rate == 0;
        if !was_unlimited {
            self.refill(now);
        }
        self.rate = rate;
        self.burst = effective_burst(rate, burst);
        self.tokens = if was_unlimited {
            self.burst
        } else {
            self.tokens.min(self.burst)
        };
        self.last = now;
    }

    /// Bytes per second; 0 is unlimited.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Adds the whole tokens the time since `last` is worth, up to the burst.
    fn refill(&mut self, now: Instant) {
        let missing = self.burst - self.tokens;
        let elapsed =
            u64::try_from(now.saturating_duration_since(self.last).as_micros()).unwrap_or(u64::MAX);
        if missing == 0 || elapsed >= cost_us(missing, self.rate) {
            // Full: the time up to now earns nothing more.
            self.tokens = self.burst;
            self.last = now.max(self.last);
            return;
        }
        // elapsed < cost_us(missing) <= missing * 10^6 / rate + 1, so the product stays below
        // (2^32 - 1) * 10^6 + 2^32: no overflow.
        let earned = elapsed * u64::from(self.rate) / MICROS;
        if earned == 0 {
            return;
        }
        // earned < missing, so it fits; its cost is at most `elapsed`.
        let earned = earned as u32;
        self.tokens += earned;
        self.last += Duration::from_micros(cost_us(earned, self.rate));
    }
}

/// Microseconds `n` tokens take to come in at `rate` (> 0), rounded up.
fn cost_us(n: u32, rate: u32) -> u64 {
    (u64::from(n) * MICROS).div_ceil(u64::from(rate))
}

fn effective_burst(rate: u32, burst: u32) -> u32 {
    match (rate, burst) {
        (0, _) => 0,
        (r, 0) => r,
        (_, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// A sender that always wants `block` bytes, called every `step` from 0 to `secs` seconds
    /// (both included): bytes sent.
    fn simulate(rate: u32, burst: u32, block: u32, step: Duration, secs: u64) -> u64 {
        let t0 = Instant::now();
        let mut b = Bucket::new(rate, burst, t0);
        let mut now = t0;
        let mut sent = 0u64;
        while now <= t0 + Duration::from_secs(secs) {
            let g = b.allow(block, now);
            b.take(g);
            sent += u64::from(g);
            now += step;
        }
        sent
    }

    fn within_1_percent(got: u64, expected: u64) -> bool {
        got.abs_diff(expected) * 100 <= expected
    }

    #[test]
    fn steady_rate_within_one_percent_over_ten_seconds() {
        for (rate, burst, block, step) in [
            (100_000, 16_384, 16_384, MS),
            (1_000_000, 65_536, 16_384, Duration::from_micros(733)),
            (50_000_000, 1 << 20, 16_384, Duration::from_micros(97)),
            // Low rates polled far more often than a token comes in: the fractions carry over.
            (1_000, 16_384, 16_384, Duration::from_micros(100)),
            (333, 10, 1, Duration::from_micros(17)),
            (u32::MAX, u32::MAX, u32::MAX, Duration::from_millis(250)),
        ] {
            // The bucket starts full: the first burst comes on top of the rate.
            let expected = u64::from(rate) * 10 + u64::from(burst);
            let got = simulate(rate, burst, block, step, 10);
            assert!(
                within_1_percent(got, expected),
                "rate {rate}: {got} sent, {expected} expected"
            );
        }
    }

    #[test]
    fn burst_caps_what_idle_time_earns() {
        let t = Instant::now();
        let mut b = Bucket::new(1000, 5000, t);
        assert_eq!(b.allow(u32::MAX, t), 5000, "starts full");
        b.take(5000);
        assert_eq!(b.allow(10_000, t), 0);
        assert_eq!(b.allow(10_000, t + Duration::from_secs(2)), 2000);
        // A long idle spell fills the bucket, no more.
        let later = t + Duration::from_secs(3600);
        assert_eq!(b.allow(u32::MAX, later), 5000);
        // Time spent full earns nothing: empty it, and one second brings 1000.
        b.take(5000);
        assert_eq!(b.allow(u32::MAX, later + Duration::from_secs(1)), 1000);
        // Charging more than there is empties the bucket, no debt.
        b.take(u32::MAX);
        assert_eq!(b.allow(1, later + Duration::from_secs(1)), 0);
        // Burst 0 is one second's worth.
        let mut b = Bucket::new(700, 0, t);
        assert_eq!(b.allow(u32::MAX, t), 700);
        // A clock that goes nowhere (or an earlier instant) earns nothing.
        let mut b = Bucket::new(1000, 1000, t + Duration::from_secs(5));
        b.take(1000);
        assert_eq!(b.allow(1000, t), 0);
    }

    #[test]
    fn wait_is_when_the_tokens_are_there() {
        let t = Instant::now();
        let mut b = Bucket::new(1000, 4000, t);
        assert_eq!(b.wait(4000), Duration::ZERO);
        b.take(4000);
        assert_eq!(b.wait(1000), Duration::from_secs(1));
        assert_eq!(b.wait(3), Duration::from_millis(3));
        // More than the burst waits for a full bucket.
        assert_eq!(b.wait(1_000_000), Duration::from_secs(4));
        assert_eq!(b.allow(1000, t + b.wait(1000)), 1000);
        // At an awkward rate, waiting what it says is always enough.
        let mut b = Bucket::new(7, 100, t);
        b.take(100);
        let mut now = t;
        for want in [1, 3, 7, 50, 100] {
            now += b.wait(want);
            assert!(b.allow(want, now) >= want, "want {want}");
            b.take(want);
        }
    }

    #[test]
    fn unlimited() {
        let t = Instant::now();
        let mut b = Bucket::new(0, 16_384, t);
        for n in [0, 1, 16_384, u32::MAX] {
            assert_eq!(b.allow(n, t), n);
            b.take(n);
            assert_eq!(b.wait(n), Duration::ZERO);
        }
        assert_eq!(b.rate(), 0);
        assert_eq!(
            simulate(0, 0, 16_384, MS, 1),
            16_384 * 1001,
            "every request granted"
        );
    }

    #[test]
    fn set_rate() {
        let t = Instant::now();
        let mut b = Bucket::new(1000, 1000, t);
        b.take(1000);
        // Half a second at the old rate, then ten times faster.
        b.set_rate(10_000, 20_000, t + Duration::from_millis(500));
        assert_eq!(b.allow(u32::MAX, t + Duration::from_millis(500)), 500);
        assert_eq!(b.allow(u32::MAX, t + Duration::from_millis(600)), 1500);
        assert_eq!(b.rate(), 10_000);
        // A smaller burst drops what is above it.
        b.set_rate(10_000, 100, t + Duration::from_millis(600));
        assert_eq!(b.allow(u32::MAX, t + Duration::from_millis(600)), 100);
        // Unlimited, and back: a full bucket.
        b.set_rate(0, 0, t + Duration::from_secs(1));
        assert_eq!(b.allow(u32::MAX, t + Duration::from_secs(1)), u32::MAX);
        b.set_rate(2000, 0, t + Duration::from_secs(2));
        assert_eq!(b.allow(u32::MAX, t + Duration::from_secs(2)), 2000);
    }
}
