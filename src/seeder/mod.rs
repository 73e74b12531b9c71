//! The seeder: every published torrent is seeded from this process's one event loop.
//!
//! - [`torrents`]: the seeded torrents, loaded from the publisher's `.torrent` files.
//! - [`peer`]: one peer connection (handshakes, messages, uploads by `sendfile`).
//! - [`files`]: the open files, an LRU with a cap (`seed.max_open_files`) that also notices a
//!   file changed since it was hashed; [`rate`]: token buckets for the upload limits.
//! - [`Seeder`] (this module): the listening sockets, the connection slots, following the
//!   catalog, registering our address in our own tracker's swarms, connecting out to their
//!   leechers (Transmission ignores tracker peers on 127.0.0.0/8, and peers behind NAT can
//!   only be reached by dialing them), and choosing whom to upload to.
//!
//! # Capacity
//! The torrent table (`seed.max_torrents`) and the connection slots with their buffers
//! (`seed.max_connections` × [`peer::IN_LEN`] + [`peer::OUT_LEN`], one zeroed allocation) are
//! reserved at start. A full table logs and seeds no more; a full set of slots refuses
//! connections.
//!
//! # Where peers come from
//! Our own tracker's swarms: [`Seeder::tick`] registers our address as a seed of every seeded
//! torrent there (every half interval) and dials the other peers it lists. Torrents whose
//! trackers are elsewhere (cross-seeding, a later issue) need an announce client: it will be
//! one more source of addresses for the same dialling step (`discover` takes (torrent, address)
//! pairs and does not care where they came from), and it must announce a private torrent
//! (BEP 27) only to the trackers in its own `.torrent`. There is no DHT and no peer exchange,
//! so private torrents need nothing more.
//!
//! # Whom to upload to
//! `seed.upload_slots` interested peers are unchoked, plus one. Every [`ROTATE_EVERY`], when
//! others wait, the peer unchoked longest is choked and the one waiting longest unchoked
//! (round-robin, so every leecher gets its turn; a seed has no download rate to reward).

pub mod files;
pub mod peer;
pub mod rate;
pub mod torrents;

use crate::clock::Secs;
use crate::config::{Config, Site, DEFAULT_SEED_PORT};
use crate::ids::{InfoHash, PeerAddr};
use crate::publish::catalog::Catalog;
use crate::publish::{self, signature};
use crate::swarm::{Announce, Event, Swarms};
use crate::sys::sendfile::Sender;
use crate::sys::zeroed::Zeroed;
use files::OpenFiles;
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};
use peer::{PeerConn, Phase, Shared, Step};
use rate::Bucket;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};
use torrents::{SeedTorrent, Torrents};

/// How often the unchoked peers rotate when others wait.
pub const ROTATE_EVERY: Duration = Duration::from_secs(10);
/// How often the swarms are looked at for leechers to connect to.
const DISCOVER_EVERY: Duration = Duration::from_secs(2);
/// Leechers connected to per torrent per look.
const DIAL_PER_TORRENT: usize = 8;
/// A peer that could not be reached is not dialled again for this long.
const DIAL_BACKOFF: Duration = Duration::from_secs(60);
/// A peer found to be a seed is not dialled again for this long.
const SEED_BACKOFF: Duration = Duration::from_secs(600);
/// Addresses remembered for the backoff.
const MAX_BACKOFF: usize = 256;
/// Connection slots kept for incoming connections (outgoing ones take the rest).
const RESERVED_INCOMING: usize = 4;
/// Burst of the upload buckets: 64 KiB or a quarter second of the rate, whichever is more.
fn burst(rate: u32) -> u32 {
    (rate / 4).max(64 * 1024)
}

/// Counters for /stats and /metrics.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeedStats {
    pub uploaded: u64,
    pub blocks: u64,
    pub rejected: u64,
    pub accepted: u64,
    pub dialled: u64,
    pub refused_full: u64,
    pub closed_protocol: u64,
}

pub struct Seeder {
    torrents: Torrents,
    /// Per torrent slot: its rate bucket, and when it was last registered in the tracker.
    buckets: Vec<Bucket>,
    registered: Vec<Option<Secs>>,
    conns: Vec<Option<PeerConn>>,
    free: Vec<usize>,
    /// Slot i's receive buffer, then its send buffer.
    bufs: Zeroed<u8>,
    listeners: Vec<TcpListener>,
    listen_base: usize,
    conn_base: usize,
    files: OpenFiles,
    sender: Sender,
    global: Bucket,
    peer_id: [u8; 20],
    client: String,
    listen_port: u16,
    /// The address peers are told to dial, when configured or derivable.
    announce_ip: Option<IpAddr>,
    listen_ip: Option<IpAddr>,
    upload_slots: usize,
    /// The catalog generation last followed.
    seen_generation: Option<u64>,
    /// Torrents that failed to load, with the generation they failed at (logged once).
    failed: Vec<InfoHash>,
    /// Connections to drive again at the next turn, and the list [`Seeder::turn`] drives them
    /// from (kept to reuse its allocation).
    pending: Vec<usize>,
    driving: Vec<usize>,
    next_rotate: Instant,
    next_discover: Instant,
    backoff: Vec<(SocketAddr, Instant)>,
    /// Sites whose files were found changed while serving (the publisher rescans them).
    pub changed_sites: Vec<usize>,
    interval_secs: u32,
    warned_no_address: bool,
    pub stats: SeedStats,
}

/// A random peer id: `-TS0100-` and 12 random bytes.
fn make_peer_id() -> [u8; 20] {
    let mut id = *b"-TS0100-000000000000";
    let mut x = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), 1u8);
    for b in &mut id[8..] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = b'0' + (x % 62) as u8;
        *b = match *b {
            c @ b'0'..=b'9' => c,
            c => b'a' + (c - b'0' - 10) % 26,
        };
    }
    id
}

impl Seeder {
    /// Binds the peer-wire listeners; `None` when seeding is off or there is nothing to seed.
    pub fn bind(
        config: &Config,
        listen_base: usize,
        conn_base: usize,
    ) -> Result<Option<Seeder>, crate::error::Error> {
        if !config.seed_enabled || config.sites.is_empty() {
            return Ok(None);
        }
        let wanted = if config.seed_listens.is_empty() {
            vec![SocketAddr::new(
                Ipv6Addr::UNSPECIFIED.into(),
                DEFAULT_SEED_PORT,
            )]
        } else {
            config.seed_listens.clone()
        };
        let mut listeners = Vec::new();
        for addr in &wanted {
            let l = crate::listeners::bind_tcp(*addr)?;
            crate::log!(
                "listening peer-wire {}",
                l.local_addr().map_or(*addr, |a| a)
            );
            listeners.push(l);
        }
        let bound = listeners[0].local_addr().ok();
        let listen_port = bound.map_or(DEFAULT_SEED_PORT, |a| a.port());
        let listen_ip = wanted
            .iter()
            .map(|a| a.ip())
            .find(|ip| !ip.is_unspecified());
        let max = config.seed_max_connections as usize;
        let slots = config.seed_max_torrents as usize;
        let now = Instant::now();
        let rate = config.seed_max_upload_rate_kib.saturating_mul(1024);
        let mut conns = Vec::with_capacity(max);
        conns.resize_with(max, || None);
        Ok(Some(Seeder {
            torrents: Torrents::new(config.seed_max_torrents),
            buckets: (0..slots).map(|_| Bucket::new(0, 0, now)).collect(),
            registered: vec![None; slots],
            conns,
            free: (0..max).rev().collect(),
            bufs: Zeroed::new(max * (peer::IN_LEN + peer::OUT_LEN)).map_err(|source| {
                crate::error::Error::Io {
                    what: "reserve the peer connection buffers",
                    source,
                }
            })?,
            listeners,
            listen_base,
            conn_base,
            files: OpenFiles::new(config.seed_max_open_files as usize, files::RECHECK),
            sender: Sender::new(16 * 1024),
            global: Bucket::new(rate, burst(rate), now),
            peer_id: make_peer_id(),
            client: format!("trackseed {}", env!("CARGO_PKG_VERSION")),
            listen_port,
            announce_ip: config.seed_announce_ip,
            listen_ip,
            upload_slots: config.seed_upload_slots as usize,
            seen_generation: None,
            failed: Vec::new(),
            pending: Vec::with_capacity(max),
            driving: Vec::with_capacity(max),
            next_rotate: now + ROTATE_EVERY,
            next_discover: now,
            backoff: Vec::new(),
            changed_sites: Vec::new(),
            interval_secs: config.interval_secs,
            warned_no_address: false,
            stats: SeedStats::default(),
        }))
    }

    /// Registers the listeners with the poll.
    pub fn register(&mut self, registry: &Registry) -> io::Result<()> {
        for (i, l) in self.listeners.iter_mut().enumerate() {
            registry.register(l, Token(self.listen_base + i), Interest::READABLE)?;
        }
        Ok(())
    }

    /// Applies a reloaded config: upload rate and slots, the announce address.
    pub fn reconfigure(&mut self, config: &Config) {
        let rate = config.seed_max_upload_rate_kib.saturating_mul(1024);
        self.global.set_rate(rate, burst(rate), Instant::now());
        self.upload_slots = config.seed_upload_slots as usize;
        self.announce_ip = config.seed_announce_ip;
    }

    pub fn torrent_count(&self) -> usize {
        self.torrents.len()
    }

    pub fn connection_count(&self) -> usize {
        self.conns.len() - self.free.len()
    }

    /// Whether `token` is one of ours.
    pub fn owns(&self, token: Token) -> bool {
        let t = token.0;
        (self.listen_base..self.listen_base + self.listeners.len()).contains(&t)
            || (self.conn_base..self.conn_base + self.conns.len()).contains(&t)
    }

    /// How soon the loop must come back: at once with connections pending, when tokens are
    /// back for throttled ones; `None` when only events matter.
    pub fn due_in(&self) -> Option<Duration> {
        if !self.pending.is_empty() {
            return Some(Duration::ZERO);
        }
        let throttled = self.conns.iter().flatten().any(|c| c.throttled);
        throttled.then(|| self.global.wait(16 * 1024).max(Duration::from_millis(1)))
    }

    /// A readiness event on one of our tokens.
    pub fn on_event(&mut self, token: Token, registry: &Registry) {
        let t = token.0;
        if let Some(i) = t
            .checked_sub(self.listen_base)
            .filter(|&i| i < self.listeners.len())
        {
            self.accept_all(i, registry);
        } else if let Some(i) = t
            .checked_sub(self.conn_base)
            .filter(|&i| i < self.conns.len())
        {
            self.drive(i);
        }
    }

    /// Drives the connections left pending or throttled.
    pub fn turn(&mut self) {
        // Swapped with a second list kept for it: no allocation per turn of the loop.
        let mut again = std::mem::take(&mut self.driving);
        std::mem::swap(&mut again, &mut self.pending);
        for &i in &again {
            self.drive(i);
        }
        again.clear();
        self.driving = again;
        if self.global.allow(1, Instant::now()) > 0 {
            for i in 0..self.conns.len() {
                if self.conns[i].as_ref().is_some_and(|c| c.throttled) {
                    self.drive(i);
                }
            }
        }
    }

    fn accept_all(&mut self, i: usize, registry: &Registry) {
        for _ in 0..256 {
            let (stream, addr) = match self.listeners[i].accept() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            self.stats.accepted += 1;
            if self.torrents.is_empty() {
                continue; // Nothing to seed yet: close it.
            }
            let conn = PeerConn::incoming(stream, addr, Instant::now());
            if !self.add(conn, registry) {
                self.stats.refused_full += 1;
            }
        }
    }

    /// Puts a connection in a free slot and registers it; false (closing it) when full.
    fn add(&mut self, mut conn: PeerConn, registry: &Registry) -> bool {
        let Some(i) = self.free.pop() else {
            return false;
        };
        let token = Token(self.conn_base + i);
        if registry
            .register(
                &mut conn.stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            )
            .is_err()
        {
            self.free.push(i);
            return false;
        }
        self.conns[i] = Some(conn);
        self.pending.push(i);
        true
    }

    fn close(&mut self, i: usize, why: &str) {
        if let Some(c) = self.conns[i].take() {
            // Closing the descriptor takes it out of the epoll set.
            self.free.push(i);
            if !matches!(
                why,
                "peer closed" | "idle" | "connect failed" | "a seed (nothing to give it)"
            ) {
                self.stats.closed_protocol += 1;
            }
            if c.outgoing && c.phase != Phase::Active {
                self.remember_failed(c.addr, DIAL_BACKOFF);
            } else if c.outgoing && why == "a seed (nothing to give it)" {
                self.remember_failed(c.addr, SEED_BACKOFF);
            }
        }
    }

    fn remember_failed(&mut self, addr: SocketAddr, wait: Duration) {
        let until = Instant::now() + wait;
        if let Some(b) = self.backoff.iter_mut().find(|b| b.0 == addr) {
            b.1 = until;
        } else if self.backoff.len() < MAX_BACKOFF {
            self.backoff.push((addr, until));
        }
    }

    /// Drives connection `i` and acts on the outcome.
    fn drive(&mut self, i: usize) {
        let stride = peer::IN_LEN + peer::OUT_LEN;
        let Some(c) = self.conns[i].as_mut() else {
            return;
        };
        let buf = &mut self.bufs[i * stride..(i + 1) * stride];
        let (inbuf, outbuf) = buf.split_at_mut(peer::IN_LEN);
        let mut changed = Vec::new();
        let mut sh = Shared {
            torrents: &self.torrents,
            files: &mut self.files,
            sender: &mut self.sender,
            global: &mut self.global,
            buckets: &mut self.buckets,
            peer_id: &self.peer_id,
            listen_port: self.listen_port,
            client: &self.client,
            now: Instant::now(),
            changed: &mut changed,
            interest_changed: false,
            uploaded: 0,
            blocks: 0,
            rejected: 0,
        };
        let step = c.drive(inbuf, outbuf, &mut sh);
        let interest_changed = sh.interest_changed;
        self.stats.uploaded += sh.uploaded;
        self.stats.blocks += sh.blocks;
        self.stats.rejected += sh.rejected;
        match step {
            Step::Wait => {}
            Step::Again => {
                if !self.pending.contains(&i) {
                    self.pending.push(i);
                }
            }
            Step::Close(why) => self.close(i, why),
        }
        for slot in changed {
            self.withdraw(
                slot,
                "a file changed on disk; it is seeded again once re-hashed",
            );
        }
        if interest_changed {
            self.rechoke(false);
        }
    }

    /// Stops seeding torrent `slot`: its connections close, its files too.
    fn withdraw(&mut self, slot: u32, why: &str) {
        let Some(t) = self.torrents.remove(slot) else {
            return;
        };
        crate::log!("seed: {} no longer seeded: {why}", t.name);
        if why.starts_with("a file changed") {
            self.changed_sites.push(t.site);
            // Not loaded again until the publisher has hashed it anew.
            self.failed.push(t.info_hash);
        }
        self.files.forget_torrent(slot);
        self.registered[slot as usize] = None;
        for i in 0..self.conns.len() {
            if self.conns[i]
                .as_ref()
                .is_some_and(|c| c.torrent.map(|t| t.0) == Some(slot))
            {
                self.close(i, "torrent withdrawn");
            }
        }
    }

    /// Chooses whom to upload to (see the module documentation). `rotate`: also move the
    /// round-robin on.
    fn rechoke(&mut self, rotate: bool) {
        let stride = peer::IN_LEN + peer::OUT_LEN;
        let now = Instant::now();
        let max_unchoked = self.upload_slots + 1;
        let mut unchoked = Vec::new();
        let mut waiting = Vec::new();
        for (i, c) in self.conns.iter().enumerate() {
            let Some(c) = c else { continue };
            if c.phase != Phase::Active {
                continue;
            }
            match (c.am_choking, c.interested) {
                (false, false) => unchoked.push((i, c.unchoked_at, false)),
                (false, true) => unchoked.push((i, c.unchoked_at, true)),
                (true, true) => waiting.push((i, c.unchoked_at)),
                (true, false) => {}
            }
        }
        let set =
            |i: usize, choke: bool, conns: &mut Vec<Option<PeerConn>>, bufs: &mut Zeroed<u8>| {
                if let Some(c) = conns[i].as_mut() {
                    let outbuf = &mut bufs[i * stride + peer::IN_LEN..(i + 1) * stride];
                    c.set_choking(choke, outbuf, now);
                }
            };
        // Peers no longer interested free their slot.
        let mut count = 0;
        for &(i, _, interested) in &unchoked {
            if interested {
                count += 1;
            } else {
                set(i, true, &mut self.conns, &mut self.bufs);
                self.pending.push(i);
            }
        }
        let mut still: Vec<(usize, Instant)> = unchoked
            .iter()
            .filter(|u| u.2)
            .map(|u| (u.0, u.1))
            .collect();
        still.sort_by_key(|u| u.1);
        waiting.sort_by_key(|w| w.1);
        let mut waiting = waiting.into_iter();
        // Free slots go to those waiting longest.
        while count < max_unchoked {
            let Some((i, _)) = waiting.next() else { break };
            set(i, false, &mut self.conns, &mut self.bufs);
            self.pending.push(i);
            count += 1;
        }
        if rotate {
            // The one unchoked longest makes room for the one waiting longest.
            let turns = (self.upload_slots / 2).max(1);
            for (&(out, _), (inn, _)) in still.iter().zip(waiting).take(turns) {
                set(out, true, &mut self.conns, &mut self.bufs);
                set(inn, false, &mut self.conns, &mut self.bufs);
                self.pending.push(out);
                self.pending.push(inn);
            }
        }
    }

    /// Once a second: follows the catalog, registers our address, dials leechers, rotates the
    /// upload slots, closes silent connections.
    pub fn tick(&mut self, catalog: &Catalog, swarms: &mut Swarms, registry: &Registry, now: Secs) {
        self.follow(catalog, swarms, now);
        let instant = Instant::now();
        for i in 0..self.conns.len() {
            if let Some(why) = self.conns[i].as_ref().and_then(|c| c.timed_out(instant)) {
                self.close(i, why);
            }
        }
        self.backoff.retain(|b| b.1 > instant);
        self.register_all(catalog, swarms, now);
        if instant >= self.next_discover {
            self.next_discover = instant + DISCOVER_EVERY;
            self.discover(catalog, swarms, registry, now);
        }
        if instant >= self.next_rotate {
            self.next_rotate = instant + ROTATE_EVERY;
            self.rechoke(true);
        }
        // Keep-alives and anything left over.
        for i in 0..self.conns.len() {
            if self.conns[i].is_some() && !self.pending.contains(&i) {
                self.pending.push(i);
            }
        }
    }

    /// Seeds what the catalog publishes, and only that (nothing to do when the catalog did not
    /// change since the last call: cheap enough for every turn of the loop).
    pub fn follow(&mut self, catalog: &Catalog, swarms: &mut Swarms, now: Secs) {
        if self.seen_generation == Some(catalog.generation) {
            return;
        }
        self.seen_generation = Some(catalog.generation);
        let gone: Vec<u32> = self
            .torrents
            .iter()
            .filter(|(_, t)| !catalog.is_published(&t.info_hash))
            .map(|(s, _)| s)
            .collect();
        for slot in gone {
            if let Some(t) = self.torrents.get(slot) {
                let hash = t.info_hash;
                if let Some(peer) = self.peer_addr_for(catalog.sites.get(t.site).map(|s| &s.site)) {
                    let bye = Announce {
                        info_hash: hash,
                        peer,
                        is_seeder: true,
                        event: Event::Stopped,
                    };
                    let _ = swarms.announce(&bye, now);
                }
            }
            self.withdraw(slot, "no longer published");
        }
        self.failed.retain(|h| catalog.is_published(h));
        for (si, sc) in catalog.sites.iter().enumerate() {
            for e in &sc.entries {
                let Some(p) = e.published() else { continue };
                if self.torrents.find(&p.info_hash).is_some() || self.failed.contains(&p.info_hash)
                {
                    continue;
                }
                let root = sc.site.file_dir.join(&e.name);
                let loaded = SeedTorrent::load(&sc.torrent_path(&e.name), &root, &p.info_hash, si)
                    .and_then(|t| {
                        // The files must still be what the publisher hashed.
                        let layout = crate::metainfo::scan(&root)?;
                        let info = sc.site.file_dir.join(format!("{}.info", e.name));
                        let now_sig = signature::observe(&root, &layout, Some(&info))?.sig;
                        if now_sig != e.sig {
                            return Err(io::Error::other("changed since it was hashed"));
                        }
                        Ok(t)
                    });
                let mut t = match loaded {
                    Ok(t) => t,
                    Err(err) => {
                        crate::log!("seed: cannot seed {}: {err}", e.name);
                        self.failed.push(p.info_hash);
                        continue;
                    }
                };
                let settings = publish::read_settings(&sc.site, &e.name);
                t.max_upload_rate = settings.max_upload_rate.unwrap_or(0);
                let name = t.name.clone();
                let rate = t.max_upload_rate;
                match self.torrents.insert(t) {
                    Ok(slot) => {
                        let b = &mut self.buckets[slot as usize];
                        b.set_rate(rate, burst(rate), Instant::now());
                        crate::log!("seed: seeding {name}");
                    }
                    Err(_) => {
                        crate::log!(
                            "seed: cannot seed {name}: seed.max_torrents ({}) reached",
                            self.buckets.len()
                        );
                        self.failed.push(p.info_hash);
                    }
                }
            }
        }
    }

    /// The address peers should dial for torrents of `site`: `seed.announce_ip`, else the
    /// site's servername when it is an address, else a specific `seed.listen` address.
    fn peer_addr_for(&self, site: Option<&Site>) -> Option<PeerAddr> {
        let from_site = site.and_then(|s| {
            s.server_name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        });
        let ip = self.announce_ip.or(from_site).or(self.listen_ip)?;
        Some(PeerAddr::new(ip, self.listen_port))
    }

    /// Registers our address as a seed of every torrent due (every half interval).
    fn register_all(&mut self, catalog: &Catalog, swarms: &mut Swarms, now: Secs) {
        let every = (self.interval_secs / 2).max(1);
        let due: Vec<(u32, InfoHash, usize)> = self
            .torrents
            .iter()
            .filter(|(s, _)| {
                self.registered[*s as usize].is_none_or(|at| now.0.saturating_sub(at.0) >= every)
            })
            .map(|(s, t)| (s, t.info_hash, t.site))
            .collect();
        for (slot, hash, site) in due {
            let Some(peer) = self.peer_addr_for(catalog.sites.get(site).map(|s| &s.site)) else {
                if !self.warned_no_address {
                    self.warned_no_address = true;
                    crate::log!(
                        "seed: cannot tell peers where to connect (servername is not an \
                         address and seed.listen is a wildcard): set seed.announce_ip; \
                         the seeder only dials leechers and takes incoming connections"
                    );
                }
                continue;
            };
            let me = Announce {
                info_hash: hash,
                peer,
                is_seeder: true,
                event: Event::None,
            };
            if swarms.announce(&me, now).is_ok() {
                self.registered[slot as usize] = Some(now);
            }
        }
    }

    /// Connects to leechers of our torrents found in our own tracker's swarms.
    fn discover(&mut self, catalog: &Catalog, swarms: &mut Swarms, registry: &Registry, now: Secs) {
        let mut targets: Vec<(u32, InfoHash, SocketAddr)> = Vec::new();
        for (slot, t) in self.torrents.iter() {
            let Some(counts) = swarms.scrape(&t.info_hash, now) else {
                continue;
            };
            // Our own registration is one seed. Other "seeds" are dialled too: a client that
            // has only a magnet link announces left=0 before it knows the torrent's size (aria2
            // does), so the tracker lists it as a seed; real seeds close at once and are left
            // alone for a while (SEED_BACKOFF).
            if counts.leechers == 0 && counts.seeders <= 1 {
                continue;
            }
            let site = catalog.sites.get(t.site).map(|s| &s.site);
            let me = self.peer_addr_for(site).unwrap_or(PeerAddr::V4([0; 6]));
            let announce = Announce {
                info_hash: t.info_hash,
                peer: me,
                is_seeder: true,
                event: Event::None,
            };
            let Ok((Some(tref), _)) = swarms.announce(&announce, now) else {
                continue;
            };
            for is_v6 in [false, true] {
                swarms.select(tref, is_v6, &me, false, DIAL_PER_TORRENT, &mut |bytes| {
                    if let Some(addr) = compact_to_socket(bytes) {
                        targets.push((slot, t.info_hash, addr));
                    }
                });
            }
        }
        let instant = Instant::now();
        for (slot, hash, addr) in targets {
            if self.free.len() <= RESERVED_INCOMING {
                break;
            }
            let connected = self.conns.iter().flatten().any(|c| {
                (c.addr == addr || c.listen_addr == Some(addr))
                    && c.torrent.map(|t| t.1) == Some(hash)
            });
            if connected || self.backoff.iter().any(|b| b.0 == addr) {
                continue;
            }
            let Ok(stream) = TcpStream::connect(addr) else {
                self.remember_failed(addr, DIAL_BACKOFF);
                continue;
            };
            // As accepted connections (they inherit it from the listener): with MSG_MORE
            // headers, sendfile costs least with Nagle off (docs/BENCHMARKS.md, "Uploads").
            let _ = stream.set_nodelay(true);
            let i = match self.free.last() {
                Some(&i) => i,
                None => break,
            };
            let stride = peer::IN_LEN + peer::OUT_LEN;
            let outbuf = &mut self.bufs[i * stride + peer::IN_LEN..(i + 1) * stride];
            let conn = PeerConn::outgoing(stream, addr, slot, hash, &self.peer_id, outbuf, instant);
            if self.add(conn, registry) {
                self.stats.dialled += 1;
            }
        }
    }
}

/// A compact peer (6 or 18 bytes) as a socket address.
fn compact_to_socket(b: &[u8]) -> Option<SocketAddr> {
    match b.len() {
        6 => {
            let ip = std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            Some(SocketAddr::new(ip.into(), u16::from_be_bytes([b[4], b[5]])))
        }
        18 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[..16]);
            Some(SocketAddr::new(
                Ipv6Addr::from(a).into(),
                u16::from_be_bytes([b[16], b[17]]),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ids_are_azureus_style() {
        let id = make_peer_id();
        assert!(id.starts_with(b"-TS0100-"));
        assert!(id[8..].iter().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(make_peer_id(), id);
    }

    #[test]
    fn compact_addresses() {
        assert_eq!(
            compact_to_socket(&[127, 0, 0, 1, 0x1a, 0xe1]),
            Some("127.0.0.1:6881".parse().unwrap())
        );
        let mut v6 = [0u8; 18];
        v6[15] = 1;
        v6[16] = 0x1a;
        v6[17] = 0xe1;
        assert_eq!(compact_to_socket(&v6), Some("[::1]:6881".parse().unwrap()));
        assert_eq!(compact_to_socket(&[1, 2, 3]), None);
    }
}
