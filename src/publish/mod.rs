//! The publisher (ezt's job, in-process): every top-level file or folder of a site's file
//! directory gets a `.torrent` in its torrent directory, is tracked at once, and is listed on
//! the site's index page.
//!
//! - [`catalog`]: what is published, read by the tracker and the HTTP front end.
//! - [`Publisher`] (this module): scanning the file directories (at start, on SIGHUP, on
//!   inotify events, periodically), deciding what to hash, running the hashing job in slices,
//!   writing `.torrent` files and the hash cache.
//! - [`job`]: the hashing job; [`signature`]: how a change is noticed without reading content;
//!   [`cache`]: the hash cache that makes a restart re-hash nothing unchanged; [`info_file`]:
//!   ezt's `<file>.info` settings; [`torrent`]: building the `.torrent` bytes.
//!
//! # When an entry is hashed
//! An entry is hashed once its signature (sizes, names, times) has stayed the same for
//! `publish.settle_secs` *and* its newest file is at least that old, so a file still being
//! copied (even by `cp -p`, which sets an old time at the end) is not hashed half-way. If it
//! changed while being hashed, the result is dropped and it settles again.

pub mod cache;
pub mod catalog;
pub mod info_file;
pub mod job;
pub mod signature;
pub mod torrent;

use crate::clock::{self, Secs};
use crate::config::{Config, Site};
use crate::metainfo;
use crate::stats::Stats;
use crate::sys::inotify::{WatchId, Watcher};
use cache::CacheEntry;
use catalog::{Catalog, Entry, Published, SiteCatalog, State};
use job::{HashJob, Progress};
use signature::Observed;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Quiet time after an inotify event before the directory is looked at (a copy in progress
/// sends events continuously: they are taken together), and the longest wait in a burst.
const EVENT_QUIET: Duration = Duration::from_millis(200);
const EVENT_MAX_WAIT: Duration = Duration::from_secs(1);

/// Folders watched per site at most (each costs the kernel about 1 KiB; the default limit of
/// watches per user is 8192 on older kernels).
const MAX_WATCHED_DIRS: usize = 4096;

/// How often a long hashing job logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The hashing job and what it is for.
struct Running {
    site: usize,
    name: String,
    observed: Observed,
    settings: info_file::InfoSettings,
    job: HashJob,
    last_log: Instant,
}

/// Per-site bookkeeping beside the catalog.
struct SiteWork {
    /// Rescan at the next tick (an inotify event, SIGHUP).
    dirty: bool,
    /// Rescan when the monotonic clock reaches this (settling entries, periodic rescan).
    next_scan: Secs,
    /// The cache file as loaded when the site was added: consulted for entries not yet in the
    /// catalog, dropped after the first scan.
    loaded_cache: Vec<CacheEntry>,
    /// The last directory error logged, so a missing disk is reported once, not every scan.
    last_error: Option<String>,
    /// The device the file directory was on at the first scan (see [`same_device`]).
    file_dir_dev: Option<u64>,
    /// Names in the file directory refused as unsafe, already logged.
    refused_names: Vec<std::ffi::OsString>,
}

pub struct Publisher {
    settle_secs: u32,
    rescan_secs: u32,
    slice: Duration,
    work: Vec<SiteWork>,
    running: Option<Running>,
    /// Whether an entry may be queued (set when one is; cleared when none is found).
    maybe_queued: bool,
    watcher: Option<Watcher>,
    /// The first and the last inotify event not yet acted on.
    events: Option<(Instant, Instant)>,
    /// Which site each watch belongs to.
    watches: Vec<(WatchId, usize)>,
    /// Whether a failed watch (the inotify limit) was reported: once is enough.
    watch_error_logged: bool,
}

fn log_site(site: &Site, msg: std::fmt::Arguments<'_>) {
    crate::log!("publish {}: {msg}", site.nick);
}

/// `1.5 GB`-style sizes (decimal units) for log lines and the index page. 64-bit integer
/// arithmetic: float or 128-bit formatting would cost the router binary kilobytes.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut unit = 0;
    let mut scale = 1u64;
    while unit + 1 < UNITS.len() && n / scale >= 1000 {
        scale *= 1000;
        unit += 1;
    }
    if unit == 0 {
        return format!("{n} B");
    }
    let tenths = n.saturating_add(scale / 20) / (scale / 10);
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// Bytes per second over `elapsed`, as `12.3 MB/s`.
fn human_rate(bytes: u64, elapsed: Duration) -> String {
    let ms = u64::try_from(elapsed.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    let per_sec = bytes.saturating_mul(1000) / ms;
    format!("{}/s", human_size(per_sec))
}

impl Publisher {
    /// A publisher for `config`'s sites; nothing is scanned until [`Publisher::start`].
    pub fn new(config: &Config) -> Publisher {
        let watcher = if config.sites.is_empty() {
            None
        } else {
            match Watcher::new() {
                Ok(w) => Some(w),
                Err(e) => {
                    crate::log!(
                        "publish: no inotify ({e}); directories are rescanned every {} s",
                        config.rescan_secs
                    );
                    None
                }
            }
        };
        Publisher {
            settle_secs: config.settle_secs,
            rescan_secs: config.rescan_secs,
            slice: Duration::from_millis(u64::from(config.hash_slice_ms)),
            work: Vec::new(),
            running: None,
            maybe_queued: false,
            watcher,
            events: None,
            watch_error_logged: false,
            watches: Vec::new(),
        }
    }

    /// The inotify watcher, for the reactor to register.
    pub fn watcher(&mut self) -> Option<&mut Watcher> {
        self.watcher.as_mut()
    }

    /// Whether a hashing job is waiting for time: the loop should not sleep.
    pub fn has_work(&self) -> bool {
        self.running.is_some() || self.maybe_queued
    }

    /// Takes `config`'s sites into `catalog` and scans them (entries found in the hash cache are
    /// published at once; the others are queued).
    pub fn start(&mut self, catalog: &mut Catalog, config: &Config, now: Secs) {
        self.reconfigure(catalog, config, now);
    }

    /// Applies a (re)read config: sites removed or changed stop being published (their
    /// `.torrent` files stay), new ones are added, and every site is rescanned (SIGHUP and
    /// `trackseed restart` mean "check everything", as ezt's restart did).
    pub fn reconfigure(&mut self, catalog: &mut Catalog, config: &Config, now: Secs) {
        self.settle_secs = config.settle_secs;
        self.rescan_secs = config.rescan_secs;
        self.slice = Duration::from_millis(u64::from(config.hash_slice_ms));
        catalog.only_published = !config.sites.is_empty() && !config.open_tracker;
        // Sites that went away or changed: unpublish (in reverse so indices stay valid).
        for i in (0..catalog.sites.len()).rev() {
            if config.sites.contains(&catalog.sites[i].site) {
                continue;
            }
            let old = catalog.sites.remove(i);
            self.work.remove(i);
            for e in &old.entries {
                if let Some(p) = e.published() {
                    catalog.remove_hash(&p.info_hash);
                }
            }
            log_site(&old.site, format_args!("no longer published"));
            match &mut self.running {
                Some(r) if r.site == i => self.running = None,
                Some(r) if r.site > i => r.site -= 1,
                _ => {}
            }
        }
        for site in &config.sites {
            if catalog.sites.iter().any(|s| &s.site == site) {
                continue;
            }
            if let Err(e) = fs::create_dir_all(&site.torrent_dir) {
                log_site(
                    site,
                    format_args!("cannot create {}: {e}", site.torrent_dir.display()),
                );
            }
            let loaded_cache = cache::load(&site.torrent_dir).unwrap_or_else(|e| {
                log_site(
                    site,
                    format_args!("hash cache unreadable ({e}); hashing anew"),
                );
                Vec::new()
            });
            catalog.sites.push(SiteCatalog::new(site.clone()));
            self.work.push(SiteWork {
                dirty: true,
                next_scan: now,
                loaded_cache,
                last_error: None,
                file_dir_dev: None,
                refused_names: Vec::new(),
            });
        }
        // Failed entries get another chance, and every site is looked at now, on whatever device
        // its file directory is now (the operator asked for it).
        for (sc, w) in catalog.sites.iter_mut().zip(&mut self.work) {
            w.dirty = true;
            w.file_dir_dev = None;
            for e in &mut sc.entries {
                if matches!(e.state, State::Failed(_)) {
                    e.state = State::Settling { since: now };
                }
            }
        }
        self.rewatch(catalog, true);
        self.tick(catalog, now);
    }

    /// Reads the inotify events that arrived: their sites are rescanned at the next tick.
    pub fn on_watch_events(&mut self) {
        let Some(w) = &mut self.watcher else { return };
        let now = Instant::now();
        self.events = Some(self.events.map_or((now, now), |(first, _)| (first, now)));
        let (work, watches) = (&mut self.work, &mut self.watches);
        w.drain(&mut |ev| {
            let site = watches.iter().find(|(id, _)| *id == ev.watch).map(|w| w.1);
            match site {
                Some(i) if !ev.overflow => work[i].dirty = true,
                _ => work.iter_mut().for_each(|w| w.dirty = true),
            }
            if ev.gone {
                watches.retain(|(id, _)| *id != ev.watch);
            }
        });
    }

    /// Rescans site `site` at the next tick (the seeder found one of its files changed).
    pub fn rescan_soon(&mut self, site: usize) {
        if let Some(w) = self.work.get_mut(site) {
            w.dirty = true;
        }
    }

    /// How long the loop may sleep before [`Publisher::after_events`] has work: `None` when no
    /// inotify event waits.
    pub fn events_due_in(&self) -> Option<Duration> {
        let (first, last) = self.events?;
        let due = (last + EVENT_QUIET).min(first + EVENT_MAX_WAIT);
        Some(due.saturating_duration_since(Instant::now()))
    }

    /// Rescans the sites inotify reported on, once the events have gone quiet (a few hundred
    /// milliseconds: a new file is noticed at once, not at the next tick).
    pub fn after_events(&mut self, catalog: &mut Catalog, now: Secs) {
        if self.events_due_in() == Some(Duration::ZERO) {
            self.events = None;
            self.tick(catalog, now);
        }
    }

    /// Once a second: rescans the sites that are due.
    pub fn tick(&mut self, catalog: &mut Catalog, now: Secs) {
        for i in 0..catalog.sites.len() {
            if self.work[i].dirty || now.0 >= self.work[i].next_scan.0 {
                self.work[i].dirty = false;
                self.scan_site(catalog, i, now);
            }
        }
    }

    /// Watches each site's file directory and the folders below its entries (a file changing
    /// deep in a multi-file entry must be noticed too). Watching a watched directory again is
    /// harmless (the kernel returns the same watch), so after a scan only new folders are
    /// added and no event can slip between an unwatch and a watch; `fresh` (the sites changed)
    /// starts from nothing.
    fn rewatch(&mut self, catalog: &Catalog, fresh: bool) {
        let Some(w) = &mut self.watcher else { return };
        if fresh {
            w.unwatch_all();
            self.watches.clear();
        }
        for (i, sc) in catalog.sites.iter().enumerate() {
            let mut dirs = vec![sc.site.file_dir.clone()];
            for e in &sc.entries {
                let root = sc.site.file_dir.join(&e.name);
                if root.is_dir() {
                    collect_dirs(&root, &mut dirs, MAX_WATCHED_DIRS);
                }
            }
            for d in dirs {
                match w.watch(&d) {
                    Ok(id) => {
                        if !self.watches.iter().any(|(x, _)| *x == id) {
                            self.watches.push((id, i));
                        }
                    }
                    Err(e) => {
                        if !self.watch_error_logged {
                            self.watch_error_logged = true;
                            log_site(
                                &sc.site,
                                format_args!(
                                    "cannot watch {} ({e}); changes there are seen by the \
                                     rescan every {} s",
                                    d.display(),
                                    self.rescan_secs
                                ),
                            );
                        }
                        break;
                    }
                }
            }
        }
    }

    /// Looks at site `i`'s file directory and brings its catalog up to date.
    fn scan_site(&mut self, catalog: &mut Catalog, i: usize, now: Secs) {
        let site = catalog.sites[i].site.clone();
        let listed = same_device(&site.file_dir, &mut self.work[i].file_dir_dev)
            .and_then(|()| list_entries(&site, &mut self.work[i].refused_names));
        let names = match listed {
            Ok(n) => {
                self.work[i].last_error = None;
                n
            }
            Err(e) => {
                // Keep what is published: an unmounted disk must not unpublish everything (and
                // have it all hashed again when it comes back).
                let msg = format!("cannot read {}: {e}", site.file_dir.display());
                if self.work[i].last_error.as_ref() != Some(&msg) {
                    log_site(&site, format_args!("{msg}; will retry"));
                    self.work[i].last_error = Some(msg);
                }
                self.schedule(i, now, self.rescan_secs.max(10));
                return;
            }
        };
        let mut changed_cache = false;
        let mut structure_changed = false;
        let mut wake: Option<u32> = None;
        // Entries gone from the directory.
        let old = std::mem::take(&mut catalog.sites[i].entries);
        let mut kept = Vec::with_capacity(names.len());
        for e in old {
            if names.binary_search(&e.name).is_ok() {
                kept.push(e);
            } else {
                changed_cache |= self.unpublish(catalog, i, &e);
                log_site(&site, format_args!("removed {}", e.name));
                structure_changed = true;
            }
        }
        catalog.sites[i].entries = kept;
        let unix_now = clock::unix_secs();
        for name in &names {
            let root = site.file_dir.join(name);
            let looked = metainfo::scan(&root).and_then(|layout| {
                if layout.files.is_empty() {
                    // A torrent needs at least one file (clients refuse an empty `files`).
                    return Err(io::Error::other(
                        "a folder without files: nothing to publish",
                    ));
                }
                signature::observe(&root, &layout, Some(&info_path(&site, name)))
            });
            let pos = catalog.sites[i]
                .entries
                .binary_search_by(|e| e.name.as_str().cmp(name));
            let observed = match looked {
                Ok(o) => o,
                Err(e) => {
                    let why = e.to_string();
                    let entry = Entry {
                        name: name.clone(),
                        sig: Default::default(),
                        state: State::Failed(why.clone()),
                    };
                    match pos {
                        Ok(p) => {
                            let old = &catalog.sites[i].entries[p];
                            if old.state != entry.state {
                                let old = old.clone();
                                changed_cache |= self.unpublish(catalog, i, &old);
                                log_site(&site, format_args!("cannot publish {name}: {why}"));
                                catalog.sites[i].entries[p] = entry;
                            }
                        }
                        Err(p) => {
                            log_site(&site, format_args!("cannot publish {name}: {why}"));
                            catalog.sites[i].entries.insert(p, entry);
                        }
                    }
                    continue;
                }
            };
            let p = match pos {
                Ok(p) if catalog.sites[i].entries[p].sig == observed.sig => p,
                Ok(p) => {
                    // Changed (or failed before): the old torrent is void at once.
                    let old = catalog.sites[i].entries[p].clone();
                    if old.published().is_some() {
                        log_site(&site, format_args!("{name} changed; hashing it again"));
                    }
                    changed_cache |= self.unpublish(catalog, i, &old);
                    structure_changed = true; // maybe new folders in it
                    let e = &mut catalog.sites[i].entries[p];
                    e.sig = observed.sig;
                    e.state = State::Settling { since: now };
                    p
                }
                Err(p) => {
                    structure_changed = true;
                    let mut entry = Entry {
                        name: name.clone(),
                        sig: observed.sig,
                        state: State::Settling { since: now },
                    };
                    if let Some((published, rewritten)) =
                        self.adopt(&catalog.sites[i], i, name, &observed)
                    {
                        changed_cache |= rewritten;
                        catalog.add_hash(published.info_hash);
                        entry.state = State::Published(published);
                    }
                    catalog.sites[i].entries.insert(p, entry);
                    p
                }
            };
            if let State::Settling { since } = catalog.sites[i].entries[p].state {
                let still = now.0.saturating_sub(since.0);
                let age = unix_now.saturating_sub(observed.newest_mtime);
                let settle = u64::from(self.settle_secs);
                let wait = settle
                    .saturating_sub(u64::from(still))
                    .max(settle.saturating_sub(age));
                if wait == 0 {
                    catalog.sites[i].entries[p].state = State::Queued;
                } else {
                    let w = u32::try_from(wait).unwrap_or(u32::MAX);
                    wake = Some(wake.map_or(w, |x| x.min(w)));
                }
            }
        }
        self.work[i].loaded_cache = Vec::new();
        self.maybe_queued |= catalog.sites[i]
            .entries
            .iter()
            .any(|e| e.state == State::Queued);
        if changed_cache {
            self.save_cache(&catalog.sites[i]);
        }
        let periodic = if self.rescan_secs == 0 {
            u32::MAX
        } else {
            self.rescan_secs
        };
        self.schedule(i, now, wake.map_or(periodic, |w| w.min(periodic)));
        // A file directory that went away and came back (a disk remounted) lost its watch.
        let watched = self.watches.iter().any(|(_, s)| *s == i);
        if structure_changed || (!watched && self.watcher.is_some()) {
            self.rewatch(catalog, false);
        }
    }

    fn schedule(&mut self, i: usize, now: Secs, after: u32) {
        self.work[i].next_scan = Secs(now.0.saturating_add(after));
    }

    /// The cache's record of `name`, if it still describes the entry and its `.torrent` file:
    /// the entry is published again without hashing (the `.torrent` is rewritten when the
    /// site's announce URLs changed: then the second value is true).
    fn adopt(
        &self,
        sc: &SiteCatalog,
        i: usize,
        name: &str,
        observed: &Observed,
    ) -> Option<(Published, bool)> {
        let cached = self.work[i]
            .loaded_cache
            .iter()
            .find(|c| c.name == name && c.sig == observed.sig)?;
        let path = sc.torrent_path(name);
        let bytes = fs::read(&path).ok()?;
        let parsed = metainfo::read::parse_torrent(&bytes).ok()?;
        if parsed.info_hash != cached.info_hash || parsed.layout.name != name {
            return None;
        }
        let settings = read_settings(&sc.site, name);
        let wanted = torrent::announce_tiers(sc, &settings);
        if parsed.announce == wanted {
            let p = Published {
                info_hash: parsed.info_hash,
                torrent_len: bytes.len() as u64,
            };
            return Some((p, false));
        }
        let opts = torrent::options(sc, &settings);
        let rewritten = metainfo::create::torrent_file(&bytes[parsed.info.clone()], &opts);
        match cache::write_atomically(&path, &rewritten) {
            Ok(()) => {
                log_site(
                    &sc.site,
                    format_args!("{name}: announce URLs updated in {}", path.display()),
                );
                let p = Published {
                    info_hash: parsed.info_hash,
                    torrent_len: rewritten.len() as u64,
                };
                Some((p, true))
            }
            Err(e) => {
                log_site(
                    &sc.site,
                    format_args!("cannot write {}: {e}", path.display()),
                );
                None
            }
        }
    }

    /// Takes `entry` (of site `i`) out of publication: its hash leaves the published set, its
    /// `.torrent` is deleted, and a job hashing it is dropped. Returns whether the cache must be
    /// saved.
    fn unpublish(&mut self, catalog: &mut Catalog, i: usize, entry: &Entry) -> bool {
        if matches!(&self.running, Some(r) if r.site == i && r.name == entry.name) {
            self.running = None;
        }
        let Some(p) = entry.published() else {
            return false;
        };
        catalog.remove_hash(&p.info_hash);
        let path = catalog.sites[i].torrent_path(&entry.name);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => log_site(
                &catalog.sites[i].site,
                format_args!("cannot remove {}: {e}", path.display()),
            ),
        }
        true
    }

    fn save_cache(&self, sc: &SiteCatalog) {
        let entries: Vec<CacheEntry> = sc
            .entries
            .iter()
            .filter_map(|e| {
                e.published().map(|p| CacheEntry {
                    name: e.name.clone(),
                    sig: e.sig,
                    info_hash: p.info_hash,
                    torrent_len: p.torrent_len,
                })
            })
            .collect();
        if let Err(e) = cache::save(&sc.site.torrent_dir, entries.iter()) {
            log_site(&sc.site, format_args!("cannot save the hash cache: {e}"));
        }
    }

    /// Spends up to `publish.hash_slice_ms` hashing: starts the next queued entry when no job
    /// runs, finishes and publishes a job that is done.
    pub fn hash_step(&mut self, catalog: &mut Catalog, stats: &mut Stats) {
        if self.running.is_none() {
            self.start_next(catalog);
            if self.running.is_none() {
                self.maybe_queued = false;
            }
        }
        let Some(r) = &mut self.running else { return };
        let before = r.job.pieces_done();
        let progress = r.job.step(self.slice);
        stats.pieces_hashed += r.job.pieces_done().saturating_sub(before) as u64;
        let (site, done) = (r.site, r.job.done);
        let Some(entry) = entry_mut(catalog, site, &r.name) else {
            self.running = None;
            return;
        };
        match progress {
            Progress::Working => {
                entry.state = State::Hashing { done };
                if r.last_log.elapsed() >= PROGRESS_EVERY {
                    r.last_log = Instant::now();
                    let elapsed = r.job.started.elapsed();
                    let left = r.job.total - done;
                    let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
                    let eta = left.saturating_mul(ms) / done.max(1) / 1000;
                    log_site(
                        &catalog.sites[site].site,
                        format_args!(
                            "hashing {}: {}% of {}, {}, {} s left",
                            r.name,
                            done * 100 / r.job.total.max(1),
                            human_size(r.job.total),
                            human_rate(done, elapsed),
                            eta
                        ),
                    );
                }
            }
            Progress::Failed(e) => {
                // Most often the file changed under the job: look again after settling.
                entry.state = State::Settling { since: Secs(0) };
                entry.sig = Default::default();
                log_site(
                    &catalog.sites[site].site,
                    format_args!(
                        "hashing {} stopped: {e}; trying again once it is still",
                        r.name
                    ),
                );
                self.work[site].dirty = true;
                self.running = None;
            }
            Progress::Finished(pieces) => {
                if let Some(r) = self.running.take() {
                    self.finish(catalog, r, pieces);
                }
            }
        }
    }

    /// Publishes a finished job, unless its entry changed while it was hashed.
    fn finish(&mut self, catalog: &mut Catalog, r: Running, pieces: Vec<u8>) {
        let sc = &catalog.sites[r.site];
        let root = sc.site.file_dir.join(&r.name);
        let now_observed =
            signature::observe(&root, &r.job.layout, Some(&info_path(&sc.site, &r.name)));
        if now_observed.ok().map(|o| o.sig) != Some(r.observed.sig) {
            log_site(
                &sc.site,
                format_args!(
                    "{} changed while it was hashed; waiting for it to be still",
                    r.name
                ),
            );
            if let Some(e) = entry_mut(catalog, r.site, &r.name) {
                e.sig = Default::default();
                e.state = State::Settling { since: Secs(0) };
            }
            self.work[r.site].dirty = true;
            return;
        }
        let built = torrent::build(
            sc,
            &r.job.layout,
            r.job.piece_length(),
            &pieces,
            &r.settings,
        );
        let (info_hash, bytes) = match built {
            Ok(b) => b,
            Err(e) => {
                let why = format!("{e}");
                log_site(&sc.site, format_args!("cannot publish {}: {why}", r.name));
                if let Some(e) = entry_mut(catalog, r.site, &r.name) {
                    e.state = State::Failed(why);
                }
                return;
            }
        };
        let path = sc.torrent_path(&r.name);
        if let Err(e) = cache::write_atomically(&path, &bytes) {
            let why = format!("cannot write {}: {e}", path.display());
            log_site(&sc.site, format_args!("{why}"));
            if let Some(e) = entry_mut(catalog, r.site, &r.name) {
                e.state = State::Failed(why);
            }
            return;
        }
        let elapsed = r.job.started.elapsed();
        log_site(
            &sc.site,
            format_args!(
                "published {} {} ({}, {} pieces of {} KiB, hashed in {} ms, {})",
                r.name,
                info_hash,
                human_size(r.job.total),
                pieces.len() / 20,
                r.job.piece_length() / 1024,
                u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                human_rate(r.job.total, elapsed)
            ),
        );
        let published = Published {
            info_hash,
            torrent_len: bytes.len() as u64,
        };
        catalog.add_hash(info_hash);
        if let Some(e) = entry_mut(catalog, r.site, &r.name) {
            e.state = State::Published(published);
        }
        self.save_cache(&catalog.sites[r.site]);
    }

    /// Starts hashing the first queued entry, if any.
    fn start_next(&mut self, catalog: &mut Catalog) {
        for (i, sc) in catalog.sites.iter_mut().enumerate() {
            for entry in sc.entries.iter_mut().filter(|e| e.state == State::Queued) {
                let root = sc.site.file_dir.join(&entry.name);
                let info = info_path(&sc.site, &entry.name);
                let looked = metainfo::scan(&root).and_then(|layout| {
                    let o = signature::observe(&root, &layout, Some(&info))?;
                    Ok((layout, o))
                });
                let (layout, observed) = match looked {
                    Ok(x) if x.1.sig == entry.sig => x,
                    _ => {
                        // Changed since the scan: the next scan sees it settle again.
                        entry.state = State::Settling { since: Secs(0) };
                        entry.sig = Default::default();
                        self.work[i].dirty = true;
                        continue;
                    }
                };
                let settings = read_settings(&sc.site, &entry.name);
                let piece_length = settings
                    .piece_length
                    .unwrap_or_else(|| metainfo::piece_length_for(layout.total_length()));
                log_site(
                    &sc.site,
                    format_args!(
                        "hashing {} ({}, {} files, pieces of {} KiB)",
                        entry.name,
                        human_size(layout.total_length()),
                        layout.files.len(),
                        piece_length / 1024
                    ),
                );
                entry.state = State::Hashing { done: 0 };
                self.running = Some(Running {
                    site: i,
                    name: entry.name.clone(),
                    observed,
                    settings,
                    job: HashJob::new(root, layout, piece_length),
                    last_log: Instant::now(),
                });
                return;
            }
        }
    }
}

fn entry_mut<'a>(catalog: &'a mut Catalog, site: usize, name: &str) -> Option<&'a mut Entry> {
    let sc = catalog.sites.get_mut(site)?;
    let p = sc
        .entries
        .binary_search_by(|e| e.name.as_str().cmp(name))
        .ok()?;
    sc.entries.get_mut(p)
}

fn info_path(site: &Site, name: &str) -> PathBuf {
    site.file_dir.join(format!("{name}.info"))
}

/// The `.info` settings of entry `name`; problems are logged with file and line.
pub fn read_settings(site: &Site, name: &str) -> info_file::InfoSettings {
    let path = info_path(site, name);
    let text = match fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Default::default(),
        Err(e) => {
            log_site(
                site,
                format_args!("cannot read {}: {e}; ignored", path.display()),
            );
            return Default::default();
        }
    };
    let parsed = info_file::parse(&text);
    for p in &parsed.problems {
        log_site(
            site,
            format_args!("{}:{}: {}", path.display(), p.line, p.message),
        );
    }
    parsed.settings
}

/// The names in a site's file directory that are published: not dotfiles, not `*.info`, not
/// the torrent directory itself, UTF-8 and safe, sorted. A name refused for being unsafe is
/// logged the first time it is seen (`reported` remembers it), not at every rescan.
fn list_entries(site: &Site, reported: &mut Vec<std::ffi::OsString>) -> io::Result<Vec<String>> {
    let torrent_dir_id = dir_id(&site.torrent_dir);
    let mut names = Vec::new();
    let mut refused = Vec::new();
    for entry in fs::read_dir(&site.file_dir)? {
        let entry = entry?;
        let os = entry.file_name();
        let why = match os.to_str() {
            None => Some(metainfo::NameError::NotUtf8),
            Some(name) => metainfo::check_component(name).err(),
        };
        if let Some(why) = why {
            if !reported.contains(&os) {
                log_site(
                    site,
                    format_args!("{}: {why}; not published", entry.path().display()),
                );
            }
            refused.push(os);
            continue;
        }
        let name = os.to_str().unwrap_or_default();
        if name.starts_with('.') || name.ends_with(".info") {
            continue;
        }
        if torrent_dir_id.is_some() && dir_id(&entry.path()) == torrent_dir_id {
            continue;
        }
        names.push(name.to_owned());
    }
    // Forget names that went away, so one coming back is reported again.
    *reported = refused;
    names.sort();
    Ok(names)
}

/// Checks that `dir` is on the device it was on at the first look (recorded in `dev`). A USB
/// disk unmounted under a running trackseed leaves its mount point: an empty directory on the
/// root file system. Taking that for "every file was deleted" would unpublish everything and
/// hash it all again when the disk comes back; this makes it an error instead (published
/// torrents stay) until the disk is back or SIGHUP says the new place is right.
fn same_device(dir: &Path, dev: &mut Option<u64>) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let now = fs::metadata(dir)?.dev();
    match *dev {
        Some(was) if was != now => Err(io::Error::other(
            "it is on another device than at start (a disk unmounted?); nothing is unpublished \
             until it is back, or until SIGHUP",
        )),
        _ => {
            *dev = Some(now);
            Ok(())
        }
    }
}

/// (device, inode) of a directory, to recognise the torrent directory under another name.
fn dir_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(p).ok()?;
    m.is_dir().then(|| (m.dev(), m.ino()))
}

/// Every directory below `root` (itself included), at most `max`.
fn collect_dirs(root: &Path, out: &mut Vec<PathBuf>, max: usize) {
    if out.len() >= max {
        return;
    }
    out.push(root.to_path_buf());
    let Ok(rd) = fs::read_dir(root) else { return };
    for e in rd.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_dirs(&e.path(), out, max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_directory_on_another_device_is_an_error() {
        let mut dev = None;
        let tmp = std::env::temp_dir();
        assert!(same_device(&tmp, &mut dev).is_ok());
        assert!(same_device(&tmp, &mut dev).is_ok());
        // /proc stands for the mount point left behind: surely another device than tmp.
        let e = same_device(Path::new("/proc"), &mut dev).unwrap_err();
        assert!(e.to_string().contains("another device"), "{e}");
        assert!(same_device(&tmp, &mut dev).is_ok(), "back on its device");
        let mut fresh = None;
        assert!(same_device(Path::new("/proc"), &mut fresh).is_ok());
        assert!(same_device(Path::new("/nonexistent-dir"), &mut fresh).is_err());
    }

    #[test]
    fn sizes_and_rates() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1000), "1.0 kB");
        assert_eq!(human_size(1_049), "1.0 kB");
        assert_eq!(human_size(1_050), "1.1 kB");
        assert_eq!(human_size(3_000_000), "3.0 MB");
        assert_eq!(human_size(1 << 30), "1.1 GB");
        assert_eq!(human_size(u64::MAX), "18446744.0 TB");
        assert_eq!(
            human_rate(50_000_000, Duration::from_millis(500)),
            "100.0 MB/s"
        );
        assert_eq!(human_rate(5, Duration::ZERO), "5.0 kB/s");
    }
}
