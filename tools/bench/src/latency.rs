//! Announce round-trip latency: one UDP client on 127.0.0.1, one announce in flight at a time,
//! each for an info hash drawn at random from a pool, timed from `send` to the matching answer.
//! What it measures is how long the tracker's single event loop takes to get to a datagram,
//! so a loop busy with something else (hashing a file) shows up as a longer round trip.
//!
//! The client connects (BEP 15) once and reuses its connection id; trackseed accepts an id for
//! 60 to 120 s, so [`Probe::needs_reconnect`] asks for a new one after 50 s. Connects are not
//! timed.

use crate::wire::{self, ANNOUNCE_LEN};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

/// A connection id older than this is renewed before the next announce.
pub const RECONNECT_AFTER: Duration = Duration::from_secs(50);
/// Port announced by the probe.
const PEER_PORT: u16 = 6881;
/// How long one blocking receive waits before the deadline is checked again.
const RECV_TICK: Duration = Duration::from_millis(50);

/// What became of one announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An announce answer after this long.
    Answered(Duration),
    /// An error answer (UDP action 3, say "torrent not published") after this long: still a
    /// full trip through the tracker's loop.
    Refused(Duration),
    /// No answer within the timeout.
    Lost,
}

/// The measuring client.
pub struct Probe {
    sock: UdpSocket,
    connection_id: Option<([u8; 8], Instant)>,
    template: [u8; ANNOUNCE_LEN],
    hashes: Vec<[u8; 20]>,
    rng: u64,
    tid: u32,
    buf: [u8; 2048],
}

impl Probe {
    /// A client of `server` from 127.0.0.1, announcing hashes from a pool of `pool` random
    /// ones (seeded by `seed`).
    pub fn new(server: SocketAddr, pool: usize, seed: u64) -> io::Result<Probe> {
        let sock = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))?;
        sock.connect(server)?;
        sock.set_read_timeout(Some(RECV_TICK))?;
        let mut rng = seed | 1;
        let hashes = (0..pool.max(1))
            .map(|_| {
                let mut h = [0u8; 20];
                for c in h.chunks_mut(8) {
                    let v = next(&mut rng).to_be_bytes();
                    c.copy_from_slice(&v[..c.len()]);
                }
                h
            })
            .collect();
        Ok(Probe {
            sock,
            connection_id: None,
            template: [0; ANNOUNCE_LEN],
            hashes,
            rng,
            tid: (seed as u32) & 0x00ff_ffff,
            buf: [0; 2048],
        })
    }

    /// Whether [`connect`](Self::connect) must run before the next announce.
    pub fn needs_reconnect(&self) -> bool {
        self.connection_id
            .is_none_or(|(_, at)| at.elapsed() >= RECONNECT_AFTER)
    }

    /// A BEP 15 connect, sent again every 100 ms until answered, for at most `limit`.
    /// `alive` runs between tries: its error (the tracker exited) ends the wait.
    pub fn connect(
        &mut self,
        limit: Duration,
        alive: &mut dyn FnMut() -> io::Result<()>,
    ) -> io::Result<()> {
        let start = Instant::now();
        while start.elapsed() < limit {
            crate::stop::check()?;
            alive()?;
            let tid = self.next_tid();
            let _ = self.sock.send(&wire::connect_packet(tid));
            let until = Instant::now() + Duration::from_millis(100);
            while Instant::now() < until {
                let Some(len) = self.recv()? else {
                    continue;
                };
                if wire::reply_head(&self.buf[..len]) == Some((wire::ACTION_CONNECT, tid))
                    && len >= 16
                {
                    let id: [u8; 8] = self.buf[8..16].try_into().expect("8 bytes");
                    self.connection_id = Some((id, Instant::now()));
                    self.template = wire::announce_template(id, -1, wire::EVENT_NONE);
                    return Ok(());
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer to a UDP connect within {limit:?}"),
        ))
    }

    /// One announce for a random hash of the pool, waiting at most `timeout` for its answer
    /// (answers to earlier, given-up announces are skipped).
    pub fn announce(&mut self, timeout: Duration) -> io::Result<Outcome> {
        let tid = self.next_tid();
        let pick = (next(&mut self.rng) % self.hashes.len() as u64) as usize;
        let hash = self.hashes[pick];
        wire::patch_announce(&mut self.template, tid, &hash, false, PEER_PORT);
        let sent = Instant::now();
        self.sock.send(&self.template)?;
        while sent.elapsed() < timeout {
            let Some(len) = self.recv()? else {
                continue;
            };
            let took = sent.elapsed();
            match wire::reply_head(&self.buf[..len]) {
                Some((wire::ACTION_ANNOUNCE, t)) if t == tid => return Ok(Outcome::Answered(took)),
                Some((wire::ACTION_ERROR, t)) if t == tid => return Ok(Outcome::Refused(took)),
                _ => {}
            }
        }
        Ok(Outcome::Lost)
    }

    fn next_tid(&mut self) -> u32 {
        self.tid = self.tid.wrapping_add(1);
        self.tid
    }

    /// One datagram, or `None` after [`RECV_TICK`] without one.
    fn recv(&mut self) -> io::Result<Option<usize>> {
        match self.sock.recv(&mut self.buf) {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            // ICMP port unreachable from an earlier send: the tracker is not (yet) there.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                std::thread::sleep(RECV_TICK.min(Duration::from_millis(10)));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// splitmix64.
pub fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seed for [`next`]: the time, and the process id.
pub fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ ((std::process::id() as u64) << 32)
}

/// Round trips of one phase, each with the time its announce was sent.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    list: Vec<(Instant, Outcome)>,
}

impl Samples {
    /// Records the outcome of an announce sent at `sent`.
    pub fn add(&mut self, sent: Instant, o: Outcome) {
        self.list.push((sent, o));
    }

    /// Percentiles of every round trip.
    pub fn summary(&self) -> Summary {
        self.summary_from(None)
    }

    /// Percentiles of the round trips sent at `from` or later (all of them for `None`).
    pub fn summary_from(&self, from: Option<Instant>) -> Summary {
        let mut nanos = Vec::with_capacity(self.list.len());
        let (mut refused, mut lost) = (0, 0);
        for (at, o) in &self.list {
            if from.is_some_and(|f| *at < f) {
                continue;
            }
            match o {
                Outcome::Answered(d) => nanos.push(d.as_nanos() as u64),
                Outcome::Refused(d) => {
                    nanos.push(d.as_nanos() as u64);
                    refused += 1;
                }
                Outcome::Lost => lost += 1,
            }
        }
        nanos.sort_unstable();
        let q = |per_mille| quantile(&nanos, per_mille).unwrap_or(0);
        Summary {
            count: nanos.len() as u64,
            p50: q(500),
            p90: q(900),
            p99: q(990),
            p999: q(999),
            max: nanos.last().copied().unwrap_or(0),
            refused,
            lost,
        }
    }
}

/// Percentiles of one phase, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Answers (refusals included).
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub refused: u64,
    pub lost: u64,
}

/// The nearest-rank quantile `per_mille`/1000 of ascending `sorted`: the smallest value with at
/// least that share of the values at or below it. `None` when empty.
pub fn quantile(sorted: &[u64], per_mille: u32) -> Option<u64> {
    let n = sorted.len() as u64;
    if n == 0 {
        return None;
    }
    let rank = (n * per_mille.min(1000) as u64).div_ceil(1000).clamp(1, n);
    sorted.get(rank as usize - 1).copied()
}

/// Nanoseconds as microseconds with one decimal, grouped ("12,345.6").
pub fn micros(nanos: u64) -> String {
    format!(
        "{}.{}",
        crate::report::group(nanos / 1000),
        (nanos % 1000) / 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        assert_eq!(quantile(&[], 500), None);
        assert_eq!(quantile(&[7], 999), Some(7));
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(quantile(&v, 500), Some(500));
        assert_eq!(quantile(&v, 900), Some(900));
        assert_eq!(quantile(&v, 999), Some(999));
        assert_eq!(quantile(&v, 1000), Some(1000));
        assert_eq!(quantile(&v, 0), Some(1));
        let v = [1, 2, 3, 4, 100];
        assert_eq!(quantile(&v, 500), Some(3));
        assert_eq!(quantile(&v, 990), Some(100));
    }

    #[test]
    fn samples_count_refusals_and_losses() {
        let mut s = Samples::default();
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        for (i, us) in [30, 10, 20].into_iter().enumerate() {
            s.add(at(i as u64), Outcome::Answered(Duration::from_micros(us)));
        }
        s.add(at(10), Outcome::Refused(Duration::from_micros(5_000)));
        s.add(at(11), Outcome::Lost);
        let m = s.summary();
        assert_eq!((m.count, m.refused, m.lost), (4, 1, 1));
        assert_eq!(m.p50, 20_000);
        assert_eq!(m.max, 5_000_000);
        assert_eq!(micros(m.max), "5,000.0");
        assert_eq!(micros(12_345), "12.3");
        let late = s.summary_from(Some(at(2)));
        assert_eq!((late.count, late.refused, late.lost), (2, 1, 1));
        assert_eq!(late.p50, 20_000);
        assert_eq!(s.summary_from(Some(at(20))), Summary::default());
    }
}
