//! Every torrent and peer the tracker knows, in tables sized once at start-up.
//!
//! # Layout
//! - `torrents`: one record a torrent (info hash, list heads, counters), reserved for
//!   `max_torrents` records; freed records are reused through a free list.
//! - `index`: open-addressed (linear probing) table of record numbers keyed by a keyed hash of
//!   the info hash, load factor at most 2/3, so a lookup is one or two probes and an attacker who
//!   picks info hashes cannot pick collisions.
//! - peers: per torrent and address family, `2 * SLOTS` chunk lists (see [`pool`]): one per
//!   (seeder or leecher, time slot of the last announce). IPv4 and IPv6 peers live in separate
//!   pools so IPv4 entries do not pay for IPv6 addresses.
//!
//! # Expiry
//! Time is cut into slots of half an announce interval. A peer sits in the list of the slot of
//! its last announce; when a torrent is touched (announce, scrape, or the incremental sweep) and
//! its newest slot is older than now, the lists of slots that fell out of the window are freed
//! whole. A peer therefore lives 1.5 to 2 intervals after its last announce (opentracker: 45
//! minutes for a 30-minute interval), and only expired peers are ever walked.
//!
//! # Bytes
//! An IPv4 peer costs 6.8 bytes in a full chunk (34 bytes for 5 compact addresses; an IPv6 one
//! 18.8). A torrent costs its 128-byte record (checked at compile time), an index slot (4 bytes
//! at a load of at most 2/3) and the unused part of the head chunk of each list in use. `make
//! bench` measures 8.2 bytes of RSS per peer at 1M peers over 10k torrents (opentracker 12.5).
//!
//! # Capacity
//! `max_torrents` records and `max_peers` peers (both families together). A new torrent or peer
//! beyond that is refused with [`Refusal`]; nothing live is evicted. Expired peers and empty
//! torrents free their slots. The chunk pools are sized so that `max_peers` peers always fit:
//! only a list's head chunk can be partly filled.

pub mod pool;

use crate::clock::Secs;
use crate::ids::{InfoHash, PeerAddr};
use crate::sys::zeroed::Zeroed;
use pool::{Family, Head, Pool, PEERS_PER_CHUNK, V4, V6};
use std::hash::{BuildHasher, RandomState};
use std::io;

/// Time slots a peer can be in: it expires once its slot is `SLOTS` slots old.
pub const SLOTS: usize = 4;
const LISTS: usize = 2 * SLOTS;
/// Torrents with no peers but with completions are kept this long (opentracker: 24 hours).
const KEEP_COMPLETED_SECS: u32 = 24 * 3600;

/// Why an announce was not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `max_torrents` torrents are tracked already.
    TorrentTableFull,
    /// `max_peers` peers are stored already.
    PeerTableFull,
}

/// What the client said it is doing (BEP 3 `event`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Event {
    #[default]
    None,
    Started,
    Completed,
    Stopped,
}

/// One announce, as the swarm sees it.
#[derive(Clone, Copy, Debug)]
pub struct Announce {
    pub info_hash: InfoHash,
    pub peer: PeerAddr,
    pub is_seeder: bool,
    pub event: Event,
}

/// Scrape counters of one torrent (both families).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub seeders: u32,
    pub leechers: u32,
    pub downloaded: u32,
}

/// A torrent record number, valid until the next call that may remove torrents (`sweep`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TorrentRef(u32);

/// Where the next peer selection of one family starts: (list, chunk + 1; 0 = none).
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    list: u8,
    chunk: u32,
}

#[derive(Clone, Copy, Debug)]
struct Torrent {
    info_hash: InfoHash,
    /// List heads of IPv4 peers: index `kind * SLOTS + slot % SLOTS`, kind 0 leecher, 1 seeder.
    heads4: [Head; LISTS],
    heads6: [Head; LISTS],
    /// Peers by `family * 2 + kind`.
    counts: [u32; 4],
    downloaded: u32,
    /// The time slot of the newest lists.
    slot: u32,
    cursors: [Cursor; 2],
    is_live: bool,
}

impl Torrent {
    fn new(info_hash: InfoHash, slot: u32) -> Torrent {
        Torrent {
            info_hash,
            heads4: [0; LISTS],
            heads6: [0; LISTS],
            counts: [0; 4],
            downloaded: 0,
            slot,
            cursors: [Cursor::default(); 2],
            is_live: true,
        }
    }

    fn peers(&self) -> u32 {
        self.counts.iter().sum()
    }

    fn scrape(&self) -> Counts {
        Counts {
            seeders: self.counts[1] + self.counts[3],
            leechers: self.counts[0] + self.counts[2],
            downloaded: self.downloaded,
        }
    }
}

pub struct Swarms {
    torrents: Vec<Torrent>,
    max_torrents: usize,
    free_torrents: Vec<u32>,
    index: Zeroed<u32>,
    index_mask: usize,
    hasher: RandomState,
    pool4: Pool<V4>,
    pool6: Pool<V6>,
    peers: u32,
    max_peers: u32,
    slot_secs: u32,
    sweep_at: usize,
    /// How long ago the peer of the last announce had announced before, in seconds (to the
    /// slot: a multiple of half an interval); `None` when it was new. For `/stats?mode=renew`.
    pub last_renew_age_secs: Option<u32>,
    rng: u32,
}

/// Bytes one torrent record costs (for the capacity documentation in `config`).
pub const TORRENT_RECORD_BYTES: usize = std::mem::size_of::<Torrent>();

impl Swarms {
    /// Reserves every table. `interval_secs` sets the expiry slot length (half of it). Fails
    /// when the system refuses the address space.
    pub fn new(max_torrents: u32, max_peers: u32, interval_secs: u32) -> io::Result<Swarms> {
        let max_torrents = max_torrents.max(1) as usize;
        let index_len = (max_torrents * 3 / 2 + 1).next_power_of_two();
        // Every chunk but a list's head is full, and only non-empty lists have a head.
        let peers = max_peers as usize;
        let chunks = peers.min(peers / PEERS_PER_CHUNK + 1 + max_torrents * LISTS);
        Ok(Swarms {
            torrents: Vec::with_capacity(max_torrents),
            max_torrents,
            free_torrents: Vec::with_capacity(max_torrents),
            index: Zeroed::new(index_len)?,
            index_mask: index_len - 1,
            hasher: RandomState::new(),
            pool4: Pool::with_capacity(chunks),
            pool6: Pool::with_capacity(chunks),
            peers: 0,
            max_peers,
            slot_secs: (interval_secs / 2).max(1),
            sweep_at: 0,
            last_renew_age_secs: None,
            rng: (std::hash::BuildHasher::hash_one(&RandomState::new(), 1u8) as u32) | 1,
        })
    }

    /// xorshift32: selection offsets need speed, not strength.
    fn random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// Torrents tracked.
    pub fn torrent_count(&self) -> usize {
        self.torrents.len() - self.free_torrents.len()
    }

    /// Seeders stored, both families (a walk over the torrent records: for statistics pages,
    /// not for the announce path).
    pub fn seeder_count(&self) -> u64 {
        self.torrents
            .iter()
            .filter(|t| t.is_live)
            .map(|t| u64::from(t.counts[1] + t.counts[3]))
            .sum()
    }

    /// Peers stored, both families.
    pub fn peer_count(&self) -> u32 {
        self.peers
    }

    fn slot_of(&self, now: Secs) -> u32 {
        now.0 / self.slot_secs
    }

    fn home(&self, info_hash: &InfoHash) -> usize {
        (self.hasher.hash_one(info_hash.0) as usize) & self.index_mask
    }

    fn lookup(&self, info_hash: &InfoHash) -> Option<usize> {
        let mut i = self.home(info_hash);
        loop {
            let v = self.index[i];
            if v == 0 {
                return None;
            }
            let t = (v - 1) as usize;
            if self.torrents[t].info_hash == *info_hash {
                return Some(t);
            }
            i = (i + 1) & self.index_mask;
        }
    }

    fn insert_torrent(&mut self, info_hash: InfoHash, slot: u32) -> Result<usize, Refusal> {
        let t = if let Some(t) = self.free_torrents.pop() {
            self.torrents[t as usize] = Torrent::new(info_hash, slot);
            t as usize
        } else if self.torrents.len() < self.max_torrents {
            self.torrents.push(Torrent::new(info_hash, slot));
            self.torrents.len() - 1
        } else {
            return Err(Refusal::TorrentTableFull);
        };
        let mut i = self.home(&info_hash);
        while self.index[i] != 0 {
            i = (i + 1) & self.index_mask;
        }
        self.index[i] = t as u32 + 1;
        Ok(t)
    }

    fn remove_torrent(&mut self, t: usize) {
        let info_hash = self.torrents[t].info_hash;
        let mut i = self.home(&info_hash);
        while self.index[i] != t as u32 + 1 {
            i = (i + 1) & self.index_mask;
        }
        // Backward-shift deletion keeps every probe sequence unbroken without tombstones.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & self.index_mask;
            let v = self.index[j];
            if v == 0 {
                break;
            }
            let home = self.home(&self.torrents[(v - 1) as usize].info_hash);
            // Move the entry at j into the hole unless its home lies cyclically in (hole, j].
            let dist_home = j.wrapping_sub(home) & self.index_mask;
            let dist_hole = j.wrapping_sub(hole) & self.index_mask;
            if dist_home >= dist_hole {
                self.index[hole] = v;
                hole = j;
            }
        }
        self.index[hole] = 0;
        let tor = &mut self.torrents[t];
        debug_assert_eq!(tor.peers(), 0, "only empty torrents are removed");
        tor.is_live = false;
        self.free_torrents.push(t as u32);
    }

    /// Drops the lists of every slot that fell out of the window since the torrent's newest slot.
    fn advance(&mut self, t: usize, now_slot: u32) {
        let tor = &mut self.torrents[t];
        let delta = now_slot.wrapping_sub(tor.slot);
        if delta == 0 || delta > u32::MAX / 2 {
            return;
        }
        for k in 1..=delta.min(SLOTS as u32) {
            let pos = (tor.slot.wrapping_add(k) as usize) % SLOTS;
            for kind in 0..2 {
                let list = kind * SLOTS + pos;
                let gone4 = self.pool4.clear(&mut tor.heads4[list]);
                let gone6 = self.pool6.clear(&mut tor.heads6[list]);
                tor.counts[kind] -= gone4;
                tor.counts[2 + kind] -= gone6;
                self.peers -= gone4 + gone6;
            }
        }
        tor.cursors = [Cursor::default(); 2];
        // An empty torrent keeps the slot it was last seen with peers, for `sweep`'s grace
        // period; `store` moves it to now before inserting.
        if tor.peers() > 0 {
            tor.slot = now_slot;
        }
    }

    /// Records an announce. Returns the torrent (for peer selection) and its counters after the
    /// announce; a `stopped` announce of an unknown torrent creates nothing and returns `None`.
    pub fn announce(
        &mut self,
        a: &Announce,
        now: Secs,
    ) -> Result<(Option<TorrentRef>, Counts), Refusal> {
        let now_slot = self.slot_of(now);
        let t = match self.lookup(&a.info_hash) {
            Some(t) => {
                self.advance(t, now_slot);
                t
            }
            None if a.event == Event::Stopped => return Ok((None, Counts::default())),
            None => {
                if self.peers >= self.max_peers {
                    return Err(Refusal::PeerTableFull);
                }
                self.insert_torrent(a.info_hash, now_slot)?
            }
        };
        let result = match a.peer {
            PeerAddr::V4(addr) => self.store(t, 0, &addr, a, now_slot),
            PeerAddr::V6(addr) => self.store(t, 1, &addr, a, now_slot),
        };
        let tor = &self.torrents[t];
        let counts = tor.scrape();
        if tor.peers() == 0 && tor.downloaded == 0 {
            self.remove_torrent(t);
            result?;
            return Ok((None, counts));
        }
        result?;
        Ok((Some(TorrentRef(t as u32)), counts))
    }

    fn pool_and_torrent(&mut self, t: usize, family: usize) -> (PoolRef<'_>, &mut Torrent) {
        let tor = &mut self.torrents[t];
        if family == 0 {
            (PoolRef::V4(&mut self.pool4), tor)
        } else {
            (PoolRef::V6(&mut self.pool6), tor)
        }
    }

    fn store(
        &mut self,
        t: usize,
        family: usize,
        addr: &[u8],
        a: &Announce,
        now_slot: u32,
    ) -> Result<(), Refusal> {
        let is_full = self.peers >= self.max_peers;
        self.last_renew_age_secs = None;
        let slot_secs = self.slot_secs;
        let (mut pool, tor) = self.pool_and_torrent(t, family);
        if tor.peers() == 0 {
            tor.slot = now_slot;
        }
        let heads = if family == 0 {
            &mut tor.heads4
        } else {
            &mut tor.heads6
        };
        let found = (0..LISTS).find_map(|l| pool.find(heads[l], addr).map(|p| (l, p)));
        let renew_age_secs = found.map(|(list, _)| {
            let age_slots = (now_slot as usize % SLOTS + SLOTS - list % SLOTS) % SLOTS;
            age_slots as u32 * slot_secs
        });
        let kind = usize::from(a.is_seeder);
        let target = kind * SLOTS + (now_slot as usize) % SLOTS;
        let mut delta: i64 = 0;
        if let Some((list, place)) = found {
            let was_seeder = list >= SLOTS;
            if a.event == Event::Completed && !was_seeder {
                tor.downloaded = tor.downloaded.saturating_add(1);
            }
            if a.event == Event::Stopped {
                let freed = pool.remove(&mut heads[list], place);
                forget_chunk(&mut tor.cursors[family], freed);
                tor.counts[family * 2 + usize::from(was_seeder)] -= 1;
                delta = -1;
            } else if list != target {
                let freed = pool.remove(&mut heads[list], place);
                forget_chunk(&mut tor.cursors[family], freed);
                tor.counts[family * 2 + usize::from(was_seeder)] -= 1;
                delta = -1;
                if pool.push(&mut heads[target], addr).is_some() {
                    tor.counts[family * 2 + kind] += 1;
                    delta = 0;
                }
            }
        } else if a.event != Event::Stopped {
            if is_full {
                return Err(Refusal::PeerTableFull);
            }
            if pool.push(&mut heads[target], addr).is_none() {
                return Err(Refusal::PeerTableFull);
            }
            tor.counts[family * 2 + kind] += 1;
            delta = 1;
            if a.event == Event::Completed {
                tor.downloaded = tor.downloaded.saturating_add(1);
            }
        }
        self.peers = (i64::from(self.peers) + delta) as u32;
        self.last_renew_age_secs = renew_age_secs;
        Ok(())
    }

    /// Restores a torrent's `downloaded` count from a state file (the larger of the stored and
    /// the restored count wins). A torrent without peers is kept 24 hours, as any completed one.
    pub fn restore(
        &mut self,
        info_hash: &InfoHash,
        downloaded: u32,
        now: Secs,
    ) -> Result<(), Refusal> {
        let t = match self.lookup(info_hash) {
            Some(t) => t,
            None => self.insert_torrent(*info_hash, self.slot_of(now))?,
        };
        let tor = &mut self.torrents[t];
        tor.downloaded = tor.downloaded.max(downloaded);
        Ok(())
    }

    /// Counters of a torrent, expired peers dropped first. `None` for an unknown torrent.
    pub fn scrape(&mut self, info_hash: &InfoHash, now: Secs) -> Option<Counts> {
        let t = self.lookup(info_hash)?;
        self.advance(t, self.slot_of(now));
        Some(self.torrents[t].scrape())
    }

    /// The live torrent at record number `from` or the next one after it, for full scrapes
    /// walked in pieces: returns its record number, info hash and counters.
    pub fn next_torrent(&mut self, from: usize, now: Secs) -> Option<(usize, InfoHash, Counts)> {
        let now_slot = self.slot_of(now);
        let t = (from..self.torrents.len()).find(|&t| self.torrents[t].is_live)?;
        self.advance(t, now_slot);
        let tor = &self.torrents[t];
        Some((t, tor.info_hash, tor.scrape()))
    }

    /// Peers of `family` (false: IPv4, true: IPv6) that `requester` may be given.
    pub fn available(&self, t: TorrentRef, is_v6: bool, requester_is_seeder: bool) -> u32 {
        let c = &self.torrents[t.0 as usize].counts;
        let f = usize::from(is_v6) * 2;
        if requester_is_seeder {
            c[f]
        } else {
            c[f] + c[f + 1]
        }
    }

    /// Hands up to `want` peers of one family to `emit` (compact bytes), never `requester`
    /// itself, leechers only to a seeder. When the swarm is larger than `want`, selection starts
    /// where the previous one stopped (at a random offset), so successive announces see
    /// different peers and no request walks more than the chunks it returns. Returns the number
    /// of peers emitted.
    pub fn select(
        &mut self,
        t: TorrentRef,
        is_v6: bool,
        requester: &PeerAddr,
        requester_is_seeder: bool,
        want: usize,
        emit: &mut dyn FnMut(&[u8]),
    ) -> usize {
        let random = self.random();
        let available = self.available(t, is_v6, requester_is_seeder) as usize;
        let tor = &mut self.torrents[t.0 as usize];
        let family = usize::from(is_v6);
        let (pool, heads) = if is_v6 {
            (PoolRef::V6(&mut self.pool6), &tor.heads6)
        } else {
            (PoolRef::V4(&mut self.pool4), &tor.heads4)
        };
        let lists: &[usize] = if requester_is_seeder {
            &[0, 1, 2, 3]
        } else {
            &[0, 1, 2, 3, 4, 5, 6, 7]
        };
        let skip = requester.bytes();
        let cursor = &mut tor.cursors[family];
        select_from(
            &pool, heads, lists, cursor, available, skip, want, random, emit,
        )
    }

    /// Incremental expiry: visits up to `budget` torrents from where the last sweep stopped,
    /// dropping expired peers and removing torrents left empty (kept 24 hours if completed).
    pub fn sweep(&mut self, now: Secs, budget: usize) {
        let now_slot = self.slot_of(now);
        let keep_slots = KEEP_COMPLETED_SECS / self.slot_secs;
        for _ in 0..budget.min(self.torrents.len()) {
            if self.sweep_at >= self.torrents.len() {
                self.sweep_at = 0;
            }
            let t = self.sweep_at;
            self.sweep_at += 1;
            if !self.torrents[t].is_live {
                continue;
            }
            self.advance(t, now_slot);
            let tor = &self.torrents[t];
            let idle_slots = now_slot.wrapping_sub(tor.slot);
            if tor.peers() == 0 && (tor.downloaded == 0 || idle_slots >= keep_slots) {
                self.remove_torrent(t);
            }
        }
    }

    /// How many torrents a sweep tick should visit so that each is visited about once a slot
    /// when ticks come every `tick_secs`.
    pub fn sweep_budget(&self, tick_secs: u32) -> usize {
        let per_slot = self.slot_secs.div_ceil(tick_secs.max(1)) as usize;
        self.torrents.len().div_ceil(per_slot.max(1)).max(64)
    }
}

fn forget_chunk(cursor: &mut Cursor, freed: Option<u32>) {
    if let Some(c) = freed {
        if cursor.chunk == c + 1 {
            *cursor = Cursor::default();
        }
    }
}

/// One pool, whichever family: lets selection and storage share code without generics
/// spreading through the table.
enum PoolRef<'a> {
    V4(&'a mut Pool<V4>),
    V6(&'a mut Pool<V6>),
}

impl PoolRef<'_> {
    fn find(&self, head: Head, addr: &[u8]) -> Option<pool::Place> {
        match self {
            PoolRef::V4(p) => p.find(head, addr),
            PoolRef::V6(p) => p.find(head, addr),
        }
    }
    fn remove(&mut self, head: &mut Head, place: pool::Place) -> Option<u32> {
        match self {
            PoolRef::V4(p) => p.remove(head, place),
            PoolRef::V6(p) => p.remove(head, place),
        }
    }
    fn push(&mut self, head: &mut Head, addr: &[u8]) -> Option<()> {
        match self {
            PoolRef::V4(p) => p.push(head, addr),
            PoolRef::V6(p) => p.push(head, addr),
        }
    }
    fn addrs(&self, chunk: u32) -> &[u8] {
        match self {
            PoolRef::V4(p) => p.addrs(chunk),
            PoolRef::V6(p) => p.addrs(chunk),
        }
    }
    fn next(&self, chunk: u32) -> Head {
        match self {
            PoolRef::V4(p) => p.next(chunk),
            PoolRef::V6(p) => p.next(chunk),
        }
    }
    fn len(&self) -> usize {
        match self {
            PoolRef::V4(_) => V4::LEN,
            PoolRef::V6(_) => V6::LEN,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn select_from(
    pool: &PoolRef<'_>,
    heads: &[Head; LISTS],
    lists: &[usize],
    cursor: &mut Cursor,
    available: usize,
    skip: &[u8],
    want: usize,
    random: u32,
    emit: &mut dyn FnMut(&[u8]),
) -> usize {
    let len = pool.len();
    let mut emitted = 0;
    if want == 0 || available == 0 {
        return 0;
    }
    let mut emit_chunk = |chunk: u32, from: usize, emitted: &mut usize| {
        for a in pool.addrs(chunk).chunks_exact(len).skip(from) {
            if *emitted == want {
                return;
            }
            if a != skip {
                emit(a);
                *emitted += 1;
            }
        }
    };
    // Small swarm (or nearly): everything, in list order.
    if available <= want + 1 {
        for &l in lists {
            let mut h = heads[l];
            while h != 0 && emitted < want {
                emit_chunk(h - 1, 0, &mut emitted);
                h = pool.next(h - 1);
            }
        }
        return emitted;
    }
    // Large swarm: continue from the cursor (or a random list), at a random offset.
    let mut li = lists
        .iter()
        .position(|&l| cursor.chunk != 0 && l == cursor.list as usize)
        .unwrap_or(random as usize % lists.len());
    let mut h = if cursor.chunk != 0 && lists[li] == cursor.list as usize {
        cursor.chunk
    } else {
        heads[lists[li]]
    };
    let mut from = (random >> 8) as usize % PEERS_PER_CHUNK;
    // Each step visits one chunk or moves to the next list: bounded by chunks + lists.
    let max_steps = available + 2 * lists.len() + 2;
    for _ in 0..max_steps {
        if emitted >= want {
            break;
        }
        if h == 0 {
            li = (li + 1) % lists.len();
            h = heads[lists[li]];
            continue;
        }
        emit_chunk(h - 1, from, &mut emitted);
        from = 0;
        h = pool.next(h - 1);
    }
    *cursor = Cursor {
        list: lists[li] as u8,
        chunk: h,
    };
    emitted
}

#[cfg(test)]
mod tests;
