//! Announce and scrape logic, whatever the transport (opentracker's `trackerlogic.c`): the
//! front ends [`udp`] and [`http`] turn request bytes into calls here and write the answers.

pub mod conn_id;
pub mod http;
pub mod index_page;
pub mod stats_page;
pub mod udp;

use crate::access::{AccessList, Mode};
use crate::clock::Secs;
use crate::config::Config;
use crate::ids::InfoHash;
use crate::publish::catalog::Catalog;
use crate::stats::Stats;
use crate::swarm::{Announce, Counts, Refusal, Swarms, TorrentRef};

/// Failure reason for a torrent the access list does not allow (opentracker's words).
pub const REASON_NOT_AUTHORIZED: &str =
    "Requested download is not authorized for use with this tracker.";
/// Failure reason when the torrent table is full.
pub const REASON_TORRENTS_FULL: &str =
    "tracker full: too many torrents (tracker.max_torrents), try again later";
/// Failure reason when the peer table is full.
pub const REASON_PEERS_FULL: &str =
    "tracker full: too many peers (tracker.max_peers), try again later";

/// Whether torrent `h` is tracked: the access list decides, except that a whitelist also admits
/// published torrents, and with sites but no list only published torrents are tracked (unless
/// `publish.open_tracker`), as ezt's tracker ran with `--allowed_dir`. A blacklist wins over
/// publication.
pub fn admits(access: &AccessList, catalog: &Catalog, h: &InfoHash) -> bool {
    match access.mode() {
        Mode::Whitelist => access.allows(h) || catalog.is_published(h),
        Mode::Blacklist => access.allows(h),
        Mode::Open => !catalog.only_published || catalog.is_published(h),
    }
}

pub struct Tracker {
    pub swarms: Swarms,
    pub stats: Stats,
    /// The configuration the tracker was started with (policy values the front ends read).
    pub config: Config,
    /// Which torrents are served (open until the reactor loads a list).
    pub access: AccessList,
    /// What the sites publish (the publisher writes it; published torrents are admitted).
    pub catalog: Catalog,
    /// Whether the last (re)load of the access list worked, and when (Unix seconds); set by
    /// the reactor, shown by /metrics.
    pub access_reload: Option<(bool, u64)>,
    /// HTTP connections open now (set by the reactor; `/stats?mode=busy`).
    pub open_connections: u64,
    /// A number fixed for the process's life (`/stats?mode=everything`).
    pub tracker_id: u32,
    /// Where a /stats or /metrics body is rendered before its head is written.
    stats_scratch: Box<[u8]>,
    rng: u32,
    /// Scratch for one scrape request's hashes (capacity `scrape_max`; never grows).
    scrape_hashes: Vec<InfoHash>,
    /// Scratch for one answer's compact peers, per family (`numwant_max` entries each).
    peers4: Box<[u8]>,
    peers6: Box<[u8]>,
}

impl Tracker {
    /// Reserves every table from the configured capacities.
    pub fn new(config: &Config) -> std::io::Result<Tracker> {
        let seed = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), 0u8) as u32;
        Ok(Tracker {
            swarms: Swarms::new(config.max_torrents, config.max_peers, config.interval_secs)?,
            stats: Stats::default(),
            rng: seed | 1,
            scrape_hashes: Vec::with_capacity(config.scrape_max as usize),
            peers4: vec![0u8; config.numwant_max as usize * 6].into_boxed_slice(),
            peers6: vec![0u8; config.numwant_max as usize * 18].into_boxed_slice(),
            config: config.clone(),
            access: AccessList::open(),
            catalog: Catalog::default(),
            access_reload: None,
            open_connections: 0,
            tracker_id: seed >> 1,
            stats_scratch: vec![0u8; crate::stats::MAX_BODY_LEN].into_boxed_slice(),
        })
    }

    /// A fast pseudo-random number (xorshift32): peer sampling and interval jitter need no more.
    pub fn random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// The interval to announce, randomised by ±10% as opentracker does (1620–1979 s for 1800) so
    /// clients started together drift apart.
    pub fn interval(&mut self) -> u32 {
        let i = self.config.interval_secs;
        i - i / 10 + self.random() % (i / 5).max(1)
    }

    /// Peers to return: what the client asked (or the default), capped by config and by `fit`.
    pub fn numwant(&self, asked: Option<u32>, fit: usize) -> usize {
        let n = asked
            .unwrap_or(self.config.numwant_default)
            .min(self.config.numwant_max);
        (n as usize).min(fit)
    }

    /// Stores an announce and counts the outcome. On refusal, the failure reason for the client.
    pub fn announce(
        &mut self,
        a: &Announce,
        now: Secs,
    ) -> Result<(Option<TorrentRef>, Counts), &'static str> {
        if !admits(&self.access, &self.catalog, &a.info_hash) {
            return Err(REASON_NOT_AUTHORIZED);
        }
        match self.swarms.announce(a, now) {
            Ok(r) => {
                if let Some(age) = self.swarms.last_renew_age_secs {
                    self.stats.record_renew(age / 60);
                }
                if a.event == crate::swarm::Event::Completed {
                    self.stats.completed += 1;
                }
                Ok(r)
            }
            Err(Refusal::TorrentTableFull) => {
                self.stats.refused_torrent_table_full += 1;
                Err(REASON_TORRENTS_FULL)
            }
            Err(Refusal::PeerTableFull) => {
                self.stats.refused_peer_table_full += 1;
                Err(REASON_PEERS_FULL)
            }
        }
    }

    /// Counters of a served torrent; `None` for one unknown or not allowed (left out of
    /// scrapes, as opentracker does).
    pub fn scrape(&mut self, info_hash: &InfoHash, now: Secs) -> Option<Counts> {
        if !admits(&self.access, &self.catalog, info_hash) {
            return None;
        }
        self.swarms.scrape(info_hash, now)
    }
}
