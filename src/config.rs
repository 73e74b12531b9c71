//! Configuration: every capacity and policy knob, with its unit and default.
//!
//! The file format is opentracker's (`keyword value` per line, `#` comments), so an existing
//! opentracker.conf starts trackseed unchanged; trackseed's own keys sit beside opentracker's.
//! `config/trackseed.conf` is the embedded default and a test keeps it equal to
//! `Config::default()`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use crate::error::Error;

pub mod site;

pub use site::{Site, SiteError};

/// The port opentracker and trackseed use when none is given.
pub const DEFAULT_PORT: u16 = 6969;

/// One listening address and the protocols served on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    /// Address and port to bind; port 0 lets the system pick one.
    pub addr: SocketAddr,
    /// Serve the HTTP tracker (TCP) here.
    pub tcp: bool,
    /// Serve the UDP tracker (BEP 15) here.
    pub udp: bool,
}

/// Every setting of a running tracker. Built from `Config::default()`, then a config file
/// ([`load`] or [`embedded`]), then the command line (`cli::apply`); checked by
/// [`Config::validate`] before use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `listen.tcp_udp`, `listen.tcp`, `listen.udp`, `-p`, `-P`, and each `site` line's
    /// `[::]:PORT`. Empty means the implicit default: TCP and UDP on `[::]:6969`, dual-stack
    /// (IPv4 and IPv6).
    pub listens: Vec<Listen>,
    /// `tracker.max_torrents`: torrents tracked at once. Default 10000. About 140 bytes each (128-byte record, index slots).
    pub max_torrents: u32,
    /// `tracker.max_peers`: peers over all swarms, IPv4 and IPv6 together. Default 100000.
    pub max_peers: u32,
    /// `tracker.interval`: announce interval in seconds, randomised by ±10% per answer as
    /// opentracker does; peers expire after 1.5 to 2 intervals of silence. Default 1800.
    pub interval_secs: u32,
    /// `tracker.numwant_default`: peers returned when the client does not say. Default 50.
    pub numwant_default: u32,
    /// `tracker.numwant_max`: cap on peers returned per announce. Default 200.
    pub numwant_max: u32,
    /// `tracker.scrape_max`: info hashes answered per scrape request. Default 64.
    pub scrape_max: u32,
    /// `tracker.fullscrape`: answer `/scrape` without info_hash with every torrent. Default on.
    pub fullscrape: bool,
    /// `tracker.ip_from_query`: honour the announce's `ip`/`ipv4`/`ipv6` parameters. Default off
    /// (the source address of the request is used, as opentracker does).
    pub ip_from_query: bool,
    /// `http.max_connections`: open HTTP connections at once. Default 512. About 22 KiB of buffers each.
    pub http_max_connections: u32,
    /// `http.idle_timeout`: seconds an HTTP connection may stay silent. Default 30.
    pub http_idle_timeout_secs: u32,
    /// `tracker.redirect_url` / `-r`: where `GET /` is redirected (302). Default none (404).
    pub redirect_url: Option<String>,
    /// `access.stats_path`: the path of the stats page, without its leading `/`. Default `stats`.
    pub stats_path: String,
    /// `access.whitelist` / `-w`: only the torrents listed in this file are served. Default none.
    pub whitelist: Option<PathBuf>,
    /// `access.blacklist` / `-b`: the torrents listed in this file are refused. Default none.
    /// At most one of whitelist and blacklist.
    pub blacklist: Option<PathBuf>,
    /// `access.fifo_add`: a FIFO (created if missing) whose hashes join the list at once.
    pub fifo_add: Option<PathBuf>,
    /// `access.fifo_delete`: a FIFO whose hashes leave the list at once.
    pub fifo_delete: Option<PathBuf>,
    /// `access.stats` / `-A` (repeatable): networks allowed to read /stats and /metrics.
    /// Default none, meaning loopback only (127.0.0.0/8 and ::1).
    pub stats_nets: Vec<Net>,
    /// `access.proxy` (repeatable): reverse proxies whose `X-Forwarded-For` names the client.
    /// Default none: a peer's address is its connection's source address.
    pub proxy_nets: Vec<Net>,
    /// `tracker.statefile`: loaded at start (torrents' `downloaded` counts) and saved at clean
    /// shutdown, on SIGUSR1 and every `tracker.state_interval`. Default none.
    pub statefile: Option<PathBuf>,
    /// `tracker.state_interval`: seconds between periodic saves of the state file; 0 (the
    /// default) saves only at clean shutdown and on SIGUSR1, sparing a router's flash.
    pub state_interval_secs: u32,
    /// `-l FILE` (command line only): a state dump loaded at start, never written.
    pub load_state: Option<PathBuf>,
    /// `tracker.rootdir` / `-d`: after binding, chroot here (as root) or chdir (otherwise); the
    /// access lists, FIFOs and state file are then found inside it. Default none.
    pub rootdir: Option<PathBuf>,
    /// `tracker.user` / `-u`: the user to switch to after binding. Default none (stay).
    pub user: Option<String>,
    /// `tracker.pidfile`: the daemon's pid file (`trackseed start`). Default `trackseed.pid`
    /// beside the config file (in the working directory with the built-in config).
    pub pidfile: Option<PathBuf>,
    /// `log.facility`: the syslog facility the daemon logs to. Default `daemon`.
    pub log_facility: crate::sys::syslog::Facility,
    /// `site` (repeatable): the publisher's directory pairs, in file order; nicknames and ports
    /// are unique. Each site's listener (TCP and UDP on `[::]:PORT`, [`Site::listen`]) is also
    /// in `listens`, once. Default none. Sites may change on SIGHUP.
    pub sites: Vec<Site>,
    /// `publish.settle_secs`: a file is hashed only once nothing in it changed for this long.
    /// Default 10, 0 to 3600.
    pub settle_secs: u32,
    /// `publish.rescan_secs`: seconds between full rescans of the file directories, besides
    /// inotify; 0 turns them off. Default 300, at most 86400.
    pub rescan_secs: u32,
    /// `publish.hash_slice_ms`: milliseconds the event loop hashes per turn. Default 5, 1 to
    /// 1000.
    pub hash_slice_ms: u32,
    /// `publish.open_tracker`: with sites and no access list, `false` (the default) tracks only
    /// the published torrents (as ezt's tracker with `--allowed_dir`); `true` tracks every
    /// torrent.
    pub open_tracker: bool,
    /// `seed.enabled`: seed the published torrents. Default yes (it does nothing without a
    /// site).
    pub seed_enabled: bool,
    /// `seed.listen` (repeatable): the peer-wire listening addresses. Default `[::]:6881`
    /// (dual-stack) when none is given.
    pub seed_listens: Vec<SocketAddr>,
    /// `seed.announce_ip`: the address peers are told to dial (behind NAT: the public one).
    /// Default: the site's servername when it is an address, else the listening address.
    pub seed_announce_ip: Option<IpAddr>,
    /// `seed.max_torrents`: torrents seeded at most (a table reserved at start). Default 1000.
    pub seed_max_torrents: u32,
    /// `seed.max_connections`: peer connections at most. Default 64.
    pub seed_max_connections: u32,
    /// `seed.max_open_files`: files kept open for uploads at most. Default 16.
    pub seed_max_open_files: u32,
    /// `seed.max_upload_rate`: KiB/s for all uploads together; 0 = unlimited (default).
    pub seed_max_upload_rate_kib: u32,
    /// `seed.upload_slots`: peers unchoked at once (plus one optimistic slot). Default 4.
    pub seed_upload_slots: u32,
}

/// The peer-wire port used when no `seed.listen` is given.
pub const DEFAULT_SEED_PORT: u16 = 6881;

/// A network: an address and a prefix length (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    /// Whether `ip` lies in the network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr.to_canonical(), ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Parses `ip[/bits]`.
pub fn parse_net(text: &str) -> Result<Net, String> {
    let (ip, bits) = match text.split_once('/') {
        Some((ip, bits)) => (ip, Some(bits)),
        None => (text, None),
    };
    let addr: IpAddr = ip
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("`{text}` is not an address or network such as 10.0.0.0/8"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match bits {
        None => max,
        Some(b) => match b.parse::<u8>() {
            Ok(p) if p <= max => p,
            _ => return Err(format!("`{text}`: the prefix length must be 0 to {max}")),
        },
    };
    Ok(Net { addr, prefix })
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listens: Vec::new(),
            max_torrents: 10_000,
            max_peers: 100_000,
            interval_secs: 1800,
            numwant_default: 50,
            numwant_max: 200,
            scrape_max: 64,
            fullscrape: true,
            ip_from_query: false,
            http_max_connections: 512,
            http_idle_timeout_secs: 30,
            redirect_url: None,
            stats_path: "stats".to_string(),
            whitelist: None,
            blacklist: None,
            fifo_add: None,
            fifo_delete: None,
            stats_nets: Vec::new(),
            proxy_nets: Vec::new(),
            statefile: None,
            state_interval_secs: 0,
            load_state: None,
            rootdir: None,
            user: None,
            pidfile: None,
            log_facility: crate::sys::syslog::Facility::Daemon,
            sites: Vec::new(),
            settle_secs: 10,
            rescan_secs: 300,
            hash_slice_ms: 5,
            open_tracker: false,
            seed_enabled: true,
            seed_listens: Vec::new(),
            seed_announce_ip: None,
            seed_max_torrents: 1000,
            seed_max_connections: 64,
            seed_max_open_files: 16,
            seed_max_upload_rate_kib: 0,
            seed_upload_slots: 4,
        }
    }
}

/// The embedded default config: every key with its meaning, unit and default. It parses to
/// exactly `Config::default()` with no warnings (tested); `trackseed --print-config` prints it.
pub const EMBEDDED: &str = include_str!("../config/trackseed.conf");

/// The longest config line accepted, in bytes, not counting its line ending. opentracker reads
/// lines into a 512-byte buffer; longer lines are an error here rather than split silently.
pub const MAX_LINE_LEN: usize = 512;

/// Accepted `tracker.max_torrents`.
pub const MAX_TORRENTS_RANGE: RangeInclusive<u32> = 1..=16_000_000;
/// Accepted `tracker.max_peers`.
pub const MAX_PEERS_RANGE: RangeInclusive<u32> = 1..=100_000_000;
/// Accepted `tracker.interval`, in seconds (up to one day).
pub const INTERVAL_SECS_RANGE: RangeInclusive<u32> = 2..=86_400;
/// Accepted `tracker.scrape_max`.
pub const SCRAPE_MAX_RANGE: RangeInclusive<u32> = 1..=1000;
/// Accepted `http.max_connections`.
pub const HTTP_CONNECTIONS_RANGE: RangeInclusive<u32> = 1..=65_536;
/// Accepted `publish.settle_secs`, in seconds (up to one hour).
pub const SETTLE_SECS_RANGE: RangeInclusive<u32> = 0..=3600;
/// Accepted `publish.rescan_secs`, in seconds (0 is off; up to one day).
pub const RESCAN_SECS_RANGE: RangeInclusive<u32> = 0..=86_400;
/// Accepted `publish.hash_slice_ms`, in milliseconds.
pub const HASH_SLICE_MS_RANGE: RangeInclusive<u32> = 1..=1000;
/// Accepted `seed.max_torrents`.
pub const SEED_TORRENTS_RANGE: RangeInclusive<u32> = 1..=1_000_000;
/// Accepted `seed.max_connections`.
pub const SEED_CONNECTIONS_RANGE: RangeInclusive<u32> = 1..=65_536;
/// Accepted `seed.max_open_files`.
pub const SEED_OPEN_FILES_RANGE: RangeInclusive<u32> = 1..=4096;
/// Accepted `seed.upload_slots`.
pub const SEED_SLOTS_RANGE: RangeInclusive<u32> = 1..=1000;
/// Accepted `seed.max_upload_rate` in KiB/s (0 is unlimited; at most 4 GiB/s).
pub const SEED_RATE_RANGE: RangeInclusive<u32> = 0..=4_194_303;
/// Accepted `tracker.numwant_max` and `http.idle_timeout`: anything but 0.
const NOT_ZERO: RangeInclusive<u32> = 1..=u32::MAX;

/// A successfully parsed config file: the settings and the notes for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// `Config::default()` with every key of the file applied, in file order.
    pub config: Config,
    /// Accepted lines whose feature is not built yet, in file order.
    pub warnings: Vec<Warning>,
}

/// A line that was accepted but does nothing yet; the message says what that means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line number.
    pub line: usize,
    /// Names the key and what ignoring it means, e.g. that the tracker runs open.
    pub message: String,
}

/// The first wrong line of a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// Names the key and what was expected, e.g. "tracker.max_peers: expected a whole number,
    /// got `abc`".
    pub reason: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Parses a config file in opentracker's syntax.
///
/// One `keyword value` per line; leading and trailing whitespace is ignored, as are blank lines
/// and lines starting with `#`; a `#` after whitespace starts a trailing comment. Lines may end
/// in `\n` or `\r\n` and hold at most [`MAX_LINE_LEN`] bytes of UTF-8. Later lines override
/// earlier ones, except `listen.*` and `site`, which add up. The first wrong line is the error.
///
/// A `site` line's fields may be quoted (see [`site::split_fields`]); the site joins
/// `sites` and its listener joins `listens` unless an identical one is there already.
///
/// Never panics, whatever the bytes (a test truncates fixtures at every length).
pub fn parse(text: &[u8]) -> Result<Parsed, LineError> {
    let mut parsed = Parsed {
        config: Config::default(),
        warnings: Vec::new(),
    };
    for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        parse_line(raw, line, &mut parsed).map_err(|reason| LineError { line, reason })?;
    }
    Ok(parsed)
}

/// Reads and parses the config file at `path`.
pub fn load(path: &Path) -> Result<Parsed, Error> {
    let text = std::fs::read(path).map_err(|source| Error::ConfigRead {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).map_err(|e| Error::ConfigParse {
        path: path.to_path_buf(),
        line: e.line,
        reason: e.reason,
    })
}

/// The embedded default config, parsed: equal to `Config::default()`.
pub fn embedded() -> Config {
    parse(EMBEDDED.as_bytes())
        .expect("embedded config parses (tested)")
        .config
}

impl Config {
    /// Checks that every value is in range and consistent with the others; the error names
    /// the config key, its value and the accepted range.
    pub fn validate(&self) -> Result<(), Error> {
        in_range(
            "tracker.max_torrents",
            self.max_torrents,
            MAX_TORRENTS_RANGE,
        )?;
        in_range("tracker.max_peers", self.max_peers, MAX_PEERS_RANGE)?;
        in_range("tracker.interval", self.interval_secs, INTERVAL_SECS_RANGE)?;
        in_range("tracker.numwant_max", self.numwant_max, NOT_ZERO)?;
        in_range("tracker.scrape_max", self.scrape_max, SCRAPE_MAX_RANGE)?;
        in_range(
            "http.max_connections",
            self.http_max_connections,
            HTTP_CONNECTIONS_RANGE,
        )?;
        in_range("http.idle_timeout", self.http_idle_timeout_secs, NOT_ZERO)?;
        in_range("publish.settle_secs", self.settle_secs, SETTLE_SECS_RANGE)?;
        in_range("publish.rescan_secs", self.rescan_secs, RESCAN_SECS_RANGE)?;
        in_range(
            "publish.hash_slice_ms",
            self.hash_slice_ms,
            HASH_SLICE_MS_RANGE,
        )?;
        in_range(
            "seed.max_torrents",
            self.seed_max_torrents,
            SEED_TORRENTS_RANGE,
        )?;
        in_range(
            "seed.max_connections",
            self.seed_max_connections,
            SEED_CONNECTIONS_RANGE,
        )?;
        in_range(
            "seed.max_open_files",
            self.seed_max_open_files,
            SEED_OPEN_FILES_RANGE,
        )?;
        in_range(
            "seed.max_upload_rate",
            self.seed_max_upload_rate_kib,
            SEED_RATE_RANGE,
        )?;
        in_range(
            "seed.upload_slots",
            self.seed_upload_slots,
            SEED_SLOTS_RANGE,
        )?;
        for (i, s) in self.sites.iter().enumerate() {
            site::check(s)
                .and_then(|()| site::check_unique(s, &self.sites[..i]))
                .map_err(|e| Error::ConfigInvalid {
                    reason: format!("site {}: {e}", s.nick),
                })?;
        }
        if self.whitelist.is_some() && self.blacklist.is_some() {
            return Err(Error::ConfigInvalid {
                reason: "access.whitelist and access.blacklist are both set; choose one".into(),
            });
        }
        if (self.fifo_add.is_some() || self.fifo_delete.is_some())
            && self.whitelist.is_none()
            && self.blacklist.is_none()
        {
            return Err(Error::ConfigInvalid {
                reason: "access.fifo_add and access.fifo_delete change an access list: set \
                         access.whitelist or access.blacklist too"
                    .into(),
            });
        }
        if self.numwant_default > self.numwant_max {
            return Err(Error::ConfigInvalid {
                reason: format!(
                    "tracker.numwant_default ({}) is larger than tracker.numwant_max ({})",
                    self.numwant_default, self.numwant_max
                ),
            });
        }
        Ok(())
    }
}

/// `Ok` when `value` is in `range`; an upper end of `u32::MAX` means "no upper limit".
fn in_range(key: &str, value: u32, range: RangeInclusive<u32>) -> Result<(), Error> {
    if range.contains(&value) {
        return Ok(());
    }
    let (min, max) = range.into_inner();
    let reason = if max == u32::MAX {
        format!("{key} is {value}; it must be at least {min}")
    } else {
        format!("{key} is {value}; it must be from {min} to {max}")
    };
    Err(Error::ConfigInvalid { reason })
}

/// Applies one raw line (without its `\n`) to `parsed`; the error is the reason only.
fn parse_line(raw: &[u8], line: usize, parsed: &mut Parsed) -> Result<(), String> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.len() > MAX_LINE_LEN {
        return Err(format!(
            "line is {} bytes long; at most {MAX_LINE_LEN} are allowed",
            raw.len()
        ));
    }
    let text = std::str::from_utf8(raw).map_err(|_| "line is not valid UTF-8".to_string())?;
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(());
    }
    let (key, value) = match text.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((key, value)) => (key, value.trim()),
        None => (text, ""),
    };
    let spec = KEYS
        .iter()
        .find(|spec| spec.name == key)
        .ok_or_else(|| unknown_key(key))?;
    // A site line's fields may quote a `#`: its own splitter finds its comment.
    let value = match spec.kind {
        Kind::Site => value,
        _ => strip_comment(value),
    };
    if value.is_empty() {
        return Err(format!(
            "{key}: missing value, expected {}",
            spec.kind.expected()
        ));
    }
    if let Some(message) = spec.kind.apply(key, value, &mut parsed.config)? {
        parsed.warnings.push(Warning { line, message });
    }
    Ok(())
}

/// Cuts a whole-line `#` comment, or a trailing one that follows whitespace (so a `#` inside a
/// value, as in a URL fragment, stays). `text` is already trimmed.
fn strip_comment(text: &str) -> &str {
    if text.starts_with('#') {
        return "";
    }
    let bytes = text.as_bytes();
    let hash = (1..bytes.len()).find(|&i| bytes[i] == b'#' && bytes[i - 1].is_ascii_whitespace());
    match hash {
        Some(i) => text[..i].trim_end(),
        None => text,
    }
}

fn unknown_key(key: &str) -> String {
    format!("unknown key `{key}` (`trackseed --print-config` lists every key)")
}

/// How a key's value is read and where it goes.
enum Kind {
    /// `listen.*`: adds a [`Listen`] with these protocols.
    Listen { tcp: bool, udp: bool },
    /// A whole number stored in the field this function selects.
    Number(fn(&mut Config) -> &mut u32),
    /// `on`/`off` (or yes/no, true/false, 1/0) stored in the field this function selects.
    Switch(fn(&mut Config) -> &mut bool),
    /// `tracker.redirect_url`.
    RedirectUrl,
    /// `access.stats_path`.
    StatsPath,
    /// `access.stats`: adds a network.
    StatsNet,
    /// `access.proxy`: adds a network.
    ProxyNet,
    /// Free text stored in the field this function selects.
    Text(fn(&mut Config) -> &mut Option<String>),
    /// `log.facility`: a syslog facility name.
    Facility,
    /// A file path stored in the field this function selects.
    Path(fn(&mut Config) -> &mut Option<PathBuf>),
    /// `site`: adds a [`Site`] and its listener.
    Site,
    /// `seed.listen`: adds a peer-wire listening address.
    SeedListen,
    /// `seed.announce_ip`: an IP address.
    AnnounceIp,
    /// An opentracker key whose feature is not built: accepted with a warning (`note`).
    NotBuilt { numeric: bool, note: &'static str },
}

/// One config key.
struct KeySpec {
    name: &'static str,
    kind: Kind,
}

const fn key(name: &'static str, kind: Kind) -> KeySpec {
    KeySpec { name, kind }
}

const LIVESYNC_NOTE: &str =
    "live sync between trackers is not built yet; ignored: this tracker shares no peers";

/// Every key trackseed accepts, opentracker's and its own.
const KEYS: &[KeySpec] = &[
    key(
        "listen.tcp_udp",
        Kind::Listen {
            tcp: true,
            udp: true,
        },
    ),
    key(
        "listen.tcp",
        Kind::Listen {
            tcp: true,
            udp: false,
        },
    ),
    key(
        "listen.udp",
        Kind::Listen {
            tcp: false,
            udp: true,
        },
    ),
    key(
        "tracker.max_torrents",
        Kind::Number(|c| &mut c.max_torrents),
    ),
    key("tracker.max_peers", Kind::Number(|c| &mut c.max_peers)),
    key("tracker.interval", Kind::Number(|c| &mut c.interval_secs)),
    key(
        "tracker.numwant_default",
        Kind::Number(|c| &mut c.numwant_default),
    ),
    key("tracker.numwant_max", Kind::Number(|c| &mut c.numwant_max)),
    key("tracker.scrape_max", Kind::Number(|c| &mut c.scrape_max)),
    key("tracker.fullscrape", Kind::Switch(|c| &mut c.fullscrape)),
    key(
        "tracker.ip_from_query",
        Kind::Switch(|c| &mut c.ip_from_query),
    ),
    key(
        "http.max_connections",
        Kind::Number(|c| &mut c.http_max_connections),
    ),
    key(
        "http.idle_timeout",
        Kind::Number(|c| &mut c.http_idle_timeout_secs),
    ),
    key("tracker.redirect_url", Kind::RedirectUrl),
    key("access.stats_path", Kind::StatsPath),
    key(
        "listen.udp.workers",
        Kind::NotBuilt {
            numeric: true,
            note: "UDP worker threads are not built; trackseed serves UDP in its event loop; \
                   ignored",
        },
    ),
    key("tracker.statefile", Kind::Path(|c| &mut c.statefile)),
    key(
        "tracker.state_interval",
        Kind::Number(|c| &mut c.state_interval_secs),
    ),
    key("access.whitelist", Kind::Path(|c| &mut c.whitelist)),
    key("access.blacklist", Kind::Path(|c| &mut c.blacklist)),
    key("access.fifo_add", Kind::Path(|c| &mut c.fifo_add)),
    key("access.fifo_delete", Kind::Path(|c| &mut c.fifo_delete)),
    key("access.stats", Kind::StatsNet),
    key("access.proxy", Kind::ProxyNet),
    key(
        "livesync.cluster.listen",
        Kind::NotBuilt {
            numeric: false,
            note: LIVESYNC_NOTE,
        },
    ),
    key(
        "livesync.cluster.node_ip",
        Kind::NotBuilt {
            numeric: false,
            note: LIVESYNC_NOTE,
        },
    ),
    key(
        "batchsync.cluster.admin_ip",
        Kind::NotBuilt {
            numeric: false,
            note: "batch sync is not built (opentracker never implemented this key either); \
                   ignored",
        },
    ),
    key("tracker.rootdir", Kind::Path(|c| &mut c.rootdir)),
    key("tracker.user", Kind::Text(|c| &mut c.user)),
    key("tracker.pidfile", Kind::Path(|c| &mut c.pidfile)),
    key("log.facility", Kind::Facility),
    key("site", Kind::Site),
    key("publish.settle_secs", Kind::Number(|c| &mut c.settle_secs)),
    key("publish.rescan_secs", Kind::Number(|c| &mut c.rescan_secs)),
    key(
        "publish.hash_slice_ms",
        Kind::Number(|c| &mut c.hash_slice_ms),
    ),
    key(
        "publish.open_tracker",
        Kind::Switch(|c| &mut c.open_tracker),
    ),
    key("seed.enabled", Kind::Switch(|c| &mut c.seed_enabled)),
    key("seed.listen", Kind::SeedListen),
    key("seed.announce_ip", Kind::AnnounceIp),
    key(
        "seed.max_torrents",
        Kind::Number(|c| &mut c.seed_max_torrents),
    ),
    key(
        "seed.max_connections",
        Kind::Number(|c| &mut c.seed_max_connections),
    ),
    key(
        "seed.max_open_files",
        Kind::Number(|c| &mut c.seed_max_open_files),
    ),
    key(
        "seed.max_upload_rate",
        Kind::Number(|c| &mut c.seed_max_upload_rate_kib),
    ),
    key(
        "seed.upload_slots",
        Kind::Number(|c| &mut c.seed_upload_slots),
    ),
];

impl Kind {
    /// What a value of this kind looks like, for error messages.
    fn expected(&self) -> &'static str {
        match self {
            Kind::Listen { .. } => "an address such as `0.0.0.0:6969`, `[::]:6969` or `::`",
            Kind::Number(_) | Kind::NotBuilt { numeric: true, .. } => "a whole number",
            Kind::Switch(_) => "on or off",
            Kind::RedirectUrl => "a URL",
            Kind::StatsPath => "a URL path such as `stats`",
            Kind::Path(_) => "a file path",
            Kind::StatsNet | Kind::ProxyNet => "an address or network such as 192.168.1.0/24",
            Kind::Text(_) => "a value",
            Kind::Facility => "a syslog facility such as daemon, user or local0",
            Kind::Site => "NICK TORRENTDIR FILEDIR SERVERNAME PORT",
            Kind::SeedListen => "an address such as `[::]:6881` or `0.0.0.0:6881`",
            Kind::AnnounceIp => "an IPv4 or IPv6 address",
            Kind::NotBuilt { numeric: false, .. } => "a value",
        }
    }

    /// Stores `value` (non-empty) into `config`; returns the warning to give, if any.
    fn apply(&self, key: &str, value: &str, config: &mut Config) -> Result<Option<String>, String> {
        match self {
            Kind::Listen { tcp, udp } => {
                let addr = parse_listen_addr(value).map_err(|why| format!("{key}: {why}"))?;
                config.listens.push(Listen {
                    addr,
                    tcp: *tcp,
                    udp: *udp,
                });
            }
            Kind::Number(field) => *field(config) = parse_number(key, value)?,
            Kind::Switch(field) => *field(config) = parse_switch(key, value)?,
            Kind::RedirectUrl => config.redirect_url = Some(value.to_string()),
            Kind::StatsPath => config.stats_path = parse_stats_path(key, value)?,
            Kind::Path(field) => *field(config) = Some(PathBuf::from(value)),
            Kind::StatsNet => config
                .stats_nets
                .push(parse_net(value).map_err(|why| format!("{key}: {why}"))?),
            Kind::Text(field) => *field(config) = Some(value.to_string()),
            Kind::Facility => {
                config.log_facility =
                    crate::sys::syslog::Facility::parse(value).ok_or_else(|| {
                        format!(
                        "{key}: unknown facility `{value}` (daemon, user, local0 to local7, ...)"
                    )
                    })?
            }
            Kind::ProxyNet => config
                .proxy_nets
                .push(parse_net(value).map_err(|why| format!("{key}: {why}"))?),
            Kind::Site => add_site(key, value, config)?,
            Kind::SeedListen => {
                let mut addr = parse_listen_addr(value).map_err(|why| format!("{key}: {why}"))?;
                // A bare address (`::`, `[::]`, `0.0.0.0`) got the tracker's port: use ours.
                if value.parse::<SocketAddr>().is_err() {
                    addr.set_port(DEFAULT_SEED_PORT);
                }
                config.seed_listens.push(addr);
            }
            Kind::AnnounceIp => {
                let ip = value
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .map_err(|_| format!("{key}: expected an IP address, got `{value}`"))?;
                if ip.is_unspecified() {
                    return Err(format!("{key}: {value} is not an address peers can dial"));
                }
                config.seed_announce_ip = Some(ip);
            }
            Kind::NotBuilt { numeric, note } => {
                if *numeric {
                    parse_number(key, value)?;
                }
                return Ok(Some(format!("{key}: {note}")));
            }
        }
        Ok(None)
    }
}

/// Parses a `site` line's value and adds the site and its listener to `config`.
fn add_site(key: &str, value: &str, config: &mut Config) -> Result<(), String> {
    // Only a comment: as good as no value.
    if site::split_fields(value).is_ok_and(|fields| fields.is_empty()) {
        return Err(format!(
            "{key}: missing value, expected {}",
            Kind::Site.expected()
        ));
    }
    let new = site::parse_site(value)
        .and_then(|new| site::check_unique(&new, &config.sites).map(|()| new))
        .map_err(|e| format!("{key}: {e}"))?;
    let listen = new.listen();
    if !config.listens.contains(&listen) {
        config.listens.push(listen);
    }
    config.sites.push(new);
    Ok(())
}

/// A whole decimal number that fits in `u32`; no sign, no spaces.
fn parse_number(key: &str, value: &str) -> Result<u32, String> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{key}: expected a whole number, got `{value}`"));
    }
    value
        .parse()
        .map_err(|_| format!("{key}: `{value}` is too large (at most {})", u32::MAX))
}

fn parse_switch(key: &str, value: &str) -> Result<bool, String> {
    const ON: [&str; 4] = ["on", "yes", "true", "1"];
    const OFF: [&str; 4] = ["off", "no", "false", "0"];
    if ON.iter().any(|word| value.eq_ignore_ascii_case(word)) {
        Ok(true)
    } else if OFF.iter().any(|word| value.eq_ignore_ascii_case(word)) {
        Ok(false)
    } else {
        Err(format!("{key}: expected on or off, got `{value}`"))
    }
}

/// The stats path without one leading `/`, which opentracker also tolerates.
fn parse_stats_path(key: &str, value: &str) -> Result<String, String> {
    let path = value.strip_prefix('/').unwrap_or(value);
    if path.is_empty() {
        return Err(format!(
            "{key}: expected a URL path such as `stats`, got `{value}`"
        ));
    }
    Ok(path.to_string())
}

/// Parses a listen address: `1.2.3.4`, `1.2.3.4:80`, `::`, `[::1]`, `[::1]:80`. Without a port,
/// [`DEFAULT_PORT`]. A bare IPv6 address (no brackets) is all address. Port 0 is allowed: the
/// system picks one. The error is a reason without the key.
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{text}` lacks the `]` closing its IPv6 address"))?;
        let ip: Ipv6Addr = inner
            .parse()
            .map_err(|_| format!("`{inner}` is not an IPv6 address"))?;
        let port = match after {
            "" => DEFAULT_PORT,
            _ => match after.strip_prefix(':') {
                Some(port) => parse_port(port)?,
                None => return Err(format!("expected `:port` after `]`, got `{after}`")),
            },
        };
        return Ok(SocketAddr::new(IpAddr::V6(ip), port));
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, DEFAULT_PORT));
    }
    let bad_address = || {
        format!(
            "`{text}` is not an IP address with an optional port (such as `0.0.0.0:6969`, \
             `[::]:6969` or `::`)"
        )
    };
    let (host, port) = text.rsplit_once(':').ok_or_else(bad_address)?;
    let ip: Ipv4Addr = host.parse().map_err(|_| bad_address())?;
    Ok(SocketAddr::new(IpAddr::V4(ip), parse_port(port)?))
}

/// A decimal port, 0 to 65535.
pub fn parse_port(text: &str) -> Result<u16, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "expected a port number from 0 to 65535, got `{text}`"
        ));
    }
    text.parse()
        .map_err(|_| format!("port `{text}` is out of range (0 to 65535)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Parsed {
        parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn config(text: &str) -> Config {
        let parsed = ok(text);
        assert_eq!(parsed.warnings, [], "{text:?}");
        parsed.config
    }

    fn err(text: &str) -> LineError {
        match parse(text.as_bytes()) {
            Ok(parsed) => panic!("{text:?} should fail, parsed to {parsed:?}"),
            Err(e) => e,
        }
    }

    fn reason(text: &str) -> String {
        err(text).reason
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("test address")
    }

    fn listen(text: &str, tcp: bool, udp: bool) -> Listen {
        Listen {
            addr: addr(text),
            tcp,
            udp,
        }
    }

    /// opentracker.conf as Debian ships it: the upstream sample with the whitelist enabled.
    const DEBIAN_CONF: &str = "\
# opentracker config file
#

# I)   Address opentracker will listen on, using both, tcp AND udp family
#      (note, that port 6969 is implicit if ommitted).
#
listen.tcp_udp 0.0.0.0
# listen.tcp_udp 192.168.0.1:80
# listen.tcp_udp 10.0.0.5:6969
#   listen.tcp_udp [2001:1234::1]:80

# II)  If opentracker runs in a non-open mode, point it to files containing
#      all torrent hashes that it will serve (shell option -w)
#
access.whitelist /etc/opentracker/whitelist.txt
#
# IV)  Sometimes you might want to have statistics
#
#   access.stats 192.168.0.23
#   access.stats_path stats
";

    /// Fixtures for the never-panics sweep; the last one has multi-byte UTF-8 and CRLF.
    const SWEEP_FIXTURES: [&str; 4] = [
        DEBIAN_CONF,
        EMBEDDED,
        "listen.tcp [::1]:80\nlisten.udp 10.0.0.1:6969  # x\ntracker.fullscrape yes\n\
         tracker.interval 99999999999\naccess.stats_path /s\nlisten.udp.workers 4\n",
        "tracker.redirect_url http://räksmörgås.example/#top\r\n  # ünïcode\r\n\
         tracker.user nobody\r\n",
    ];

    #[test]
    fn embedded_is_the_default() {
        let parsed = ok(EMBEDDED);
        assert_eq!(parsed.warnings, []);
        assert_eq!(parsed.config, Config::default());
        assert_eq!(embedded(), Config::default());
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn embedded_mentions_every_key() {
        for spec in KEYS {
            let spaced = format!("{} ", spec.name);
            assert!(
                EMBEDDED.contains(&spaced),
                "{} is not documented in EMBEDDED",
                spec.name
            );
        }
    }

    #[test]
    fn seed_keys() {
        let c = config(
            "seed.listen ::\nseed.listen 0.0.0.0:7000\nseed.listen [::1]\n\
             seed.announce_ip 192.0.2.7\nseed.max_upload_rate 512\nseed.enabled no\n",
        );
        assert_eq!(
            c.seed_listens,
            [addr("[::]:6881"), addr("0.0.0.0:7000"), addr("[::1]:6881")]
        );
        assert_eq!(c.seed_announce_ip, Some("192.0.2.7".parse().unwrap()));
        assert_eq!(c.seed_max_upload_rate_kib, 512);
        assert!(!c.seed_enabled);
        assert_eq!(
            config("seed.announce_ip [2001:db8::1]\n").seed_announce_ip,
            Some("2001:db8::1".parse().unwrap())
        );
        assert!(reason("seed.announce_ip 0.0.0.0\n").contains("not an address peers can dial"));
        assert!(reason("seed.announce_ip router.lan\n").contains("expected an IP address"));
        assert!(reason("seed.listen nowhere\n").contains("seed.listen"));
        let c = Config {
            seed_max_connections: 0,
            ..Config::default()
        };
        assert!(c.validate().is_err());
        let c = Config {
            seed_upload_slots: 0,
            ..Config::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn empty_blank_and_comment_lines() {
        for text in [
            "",
            "\n",
            "\n\n  \t \r\n",
            "# comment\n   # indented comment\n#tracker.foo",
        ] {
            assert_eq!(config(text), Config::default(), "{text:?}");
        }
    }

    #[test]
    fn trailing_comments_and_whitespace() {
        let c = config("  tracker.interval\t900   # fifteen minutes  \r\n");
        assert_eq!(c.interval_secs, 900);
        let c = config("tracker.redirect_url http://example.org/#anchor # a comment");
        assert_eq!(
            c.redirect_url.as_deref(),
            Some("http://example.org/#anchor")
        );
        assert_eq!(
            reason("tracker.interval # no value"),
            "tracker.interval: missing value, expected a whole number"
        );
    }

    #[test]
    fn listen_keys_add_up_in_order() {
        let c = config(
            "listen.tcp_udp 0.0.0.0\nlisten.tcp 1.2.3.4:80\nlisten.udp [::1]:81\n\
             listen.tcp ::\nlisten.udp [::1]\nlisten.tcp_udp 127.0.0.1:0\nlisten.tcp ::1\n",
        );
        assert_eq!(
            c.listens,
            [
                listen("0.0.0.0:6969", true, true),
                listen("1.2.3.4:80", true, false),
                listen("[::1]:81", false, true),
                listen("[::]:6969", true, false),
                listen("[::1]:6969", false, true),
                listen("127.0.0.1:0", true, true),
                listen("[::1]:6969", true, false),
            ]
        );
    }

    #[test]
    fn listen_address_forms() {
        assert_eq!(parse_listen_addr("1.2.3.4"), Ok(addr("1.2.3.4:6969")));
        assert_eq!(parse_listen_addr("1.2.3.4:80"), Ok(addr("1.2.3.4:80")));
        assert_eq!(parse_listen_addr("::"), Ok(addr("[::]:6969")));
        assert_eq!(parse_listen_addr("[::1]"), Ok(addr("[::1]:6969")));
        assert_eq!(parse_listen_addr("[::1]:80"), Ok(addr("[::1]:80")));
        assert_eq!(parse_listen_addr("0.0.0.0"), Ok(addr("0.0.0.0:6969")));
        // Without brackets an IPv6 address is all address: `:80` is its last group, not a port.
        assert_eq!(
            parse_listen_addr("2001:db8::1:80"),
            Ok(addr("[2001:db8::1:80]:6969"))
        );
        assert_eq!(parse_listen_addr("[::]:65535"), Ok(addr("[::]:65535")));
        assert_eq!(parse_listen_addr("1.2.3.4:0"), Ok(addr("1.2.3.4:0")));
    }

    #[test]
    fn listen_address_errors() {
        let cases = [
            (
                "listen.tcp 1.2.3.4:65536",
                "listen.tcp: port `65536` is out of range (0 to 65535)",
            ),
            (
                "listen.udp [::1]:99999",
                "listen.udp: port `99999` is out of range (0 to 65535)",
            ),
            (
                "listen.tcp 1.2.3.4:http",
                "listen.tcp: expected a port number from 0 to 65535, got `http`",
            ),
            (
                "listen.tcp 1.2.3.4:",
                "listen.tcp: expected a port number from 0 to 65535, got ``",
            ),
            (
                "listen.tcp [::1",
                "listen.tcp: `[::1` lacks the `]` closing its IPv6 address",
            ),
            (
                "listen.tcp [1.2.3.4]:80",
                "listen.tcp: `1.2.3.4` is not an IPv6 address",
            ),
            (
                "listen.tcp [::1]80",
                "listen.tcp: expected `:port` after `]`, got `80`",
            ),
            (
                "listen.udp",
                "listen.udp: missing value, expected an address such as `0.0.0.0:6969`, \
                 `[::]:6969` or `::`",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(reason(text), want, "{text:?}");
        }
        for text in [
            "localhost:80",
            "1.2.3:80",
            "1.2.3.4.5",
            "example.org",
            "1.2.3.4 80",
        ] {
            let why = reason(&format!("listen.tcp_udp {text}"));
            assert!(why.starts_with("listen.tcp_udp: `"), "{why}");
            assert!(
                why.contains("is not an IP address with an optional port"),
                "{why}"
            );
        }
    }

    #[test]
    fn number_keys() {
        let c = config(
            "tracker.max_torrents 5\ntracker.max_peers 6\ntracker.interval 7\n\
             tracker.numwant_default 8\ntracker.numwant_max 9\ntracker.scrape_max 10\n\
             http.max_connections 11\nhttp.idle_timeout 12\n",
        );
        let want = Config {
            max_torrents: 5,
            max_peers: 6,
            interval_secs: 7,
            numwant_default: 8,
            numwant_max: 9,
            scrape_max: 10,
            http_max_connections: 11,
            http_idle_timeout_secs: 12,
            ..Config::default()
        };
        assert_eq!(c, want);
        assert_eq!(config("tracker.max_peers 4294967295").max_peers, u32::MAX);
        assert_eq!(
            config("tracker.max_peers 1\ntracker.max_peers 2").max_peers,
            2
        );
    }

    #[test]
    fn number_errors() {
        let cases = [
            (
                "tracker.max_peers abc",
                "tracker.max_peers: expected a whole number, got `abc`",
            ),
            (
                "tracker.interval -5",
                "tracker.interval: expected a whole number, got `-5`",
            ),
            (
                "tracker.interval +5",
                "tracker.interval: expected a whole number, got `+5`",
            ),
            (
                "tracker.interval 1.5",
                "tracker.interval: expected a whole number, got `1.5`",
            ),
            (
                "tracker.interval 10 20",
                "tracker.interval: expected a whole number, got `10 20`",
            ),
            (
                "http.idle_timeout 4294967296",
                "http.idle_timeout: `4294967296` is too large (at most 4294967295)",
            ),
            (
                "tracker.max_torrents",
                "tracker.max_torrents: missing value, expected a whole number",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(reason(text), want, "{text:?}");
        }
    }

    #[test]
    fn switch_keys() {
        for (word, want) in [
            ("on", true),
            ("ON", true),
            ("yes", true),
            ("true", true),
            ("1", true),
            ("off", false),
            ("No", false),
            ("false", false),
            ("0", false),
        ] {
            let c = config(&format!(
                "tracker.fullscrape {word}\ntracker.ip_from_query {word}"
            ));
            assert_eq!((c.fullscrape, c.ip_from_query), (want, want), "{word}");
        }
        assert_eq!(
            reason("tracker.fullscrape maybe"),
            "tracker.fullscrape: expected on or off, got `maybe`"
        );
        assert_eq!(
            reason("tracker.ip_from_query"),
            "tracker.ip_from_query: missing value, expected on or off"
        );
    }

    #[test]
    fn text_keys() {
        let c =
            config("tracker.redirect_url https://example.org/about us\naccess.stats_path /status");
        assert_eq!(
            c.redirect_url.as_deref(),
            Some("https://example.org/about us")
        );
        assert_eq!(c.stats_path, "status");
        assert_eq!(config("access.stats_path //x").stats_path, "/x");
        assert_eq!(config("access.stats_path s/t").stats_path, "s/t");
        assert_eq!(
            reason("access.stats_path /"),
            "access.stats_path: expected a URL path such as `stats`, got `/`"
        );
        assert_eq!(
            reason("tracker.redirect_url"),
            "tracker.redirect_url: missing value, expected a URL"
        );
    }

    #[test]
    fn opentracker_keys_not_built_warn() {
        let keys = [
            "livesync.cluster.listen",
            "livesync.cluster.node_ip",
            "batchsync.cluster.admin_ip",
        ];
        for key in keys {
            let parsed = ok(&format!("\n{key} some-value\n"));
            assert_eq!(parsed.config, Config::default(), "{key}");
            assert_eq!(parsed.warnings.len(), 1, "{key}");
            let warning = &parsed.warnings[0];
            assert_eq!(warning.line, 2);
            assert!(
                warning.message.starts_with(&format!("{key}: ")),
                "{}",
                warning.message
            );
            assert!(warning.message.contains("not built"), "{}", warning.message);
            assert_eq!(
                reason(key),
                format!("{key}: missing value, expected a value")
            );
        }
    }

    #[test]
    fn stats_networks() {
        let c = ok("access.stats 192.168.1.0/24\naccess.stats ::1\naccess.stats [2001:db8::]/32\n");
        let nets = &c.config.stats_nets;
        assert_eq!(nets.len(), 3);
        assert!(nets[0].contains("192.168.1.77".parse().unwrap()));
        assert!(nets[0].contains("::ffff:192.168.1.77".parse().unwrap()));
        assert!(!nets[0].contains("192.168.2.1".parse().unwrap()));
        assert!(
            nets[1].contains("::1".parse().unwrap()) && !nets[1].contains("::2".parse().unwrap())
        );
        assert!(nets[2].contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(parse_net("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(parse_net("10.0.0.0/33").is_err());
        assert!(parse_net("nonsense").is_err());
        assert!(reason("access.stats 10.0.0.0/99").contains("prefix length"));
    }

    #[test]
    fn access_list_keys() {
        let c = ok("access.whitelist /etc/w\naccess.fifo_add /run/add\naccess.fifo_delete d\n");
        assert!(c.warnings.is_empty());
        assert_eq!(c.config.whitelist, Some(PathBuf::from("/etc/w")));
        assert_eq!(c.config.fifo_add, Some(PathBuf::from("/run/add")));
        assert_eq!(c.config.fifo_delete, Some(PathBuf::from("d")));
        assert!(c.config.validate().is_ok());
        let both = ok("access.whitelist w\naccess.blacklist b\n").config;
        assert!(both
            .validate()
            .unwrap_err()
            .to_string()
            .contains("choose one"));
        let fifo_alone = ok("access.fifo_add f\n").config;
        assert!(fifo_alone
            .validate()
            .unwrap_err()
            .to_string()
            .contains("access.whitelist"));
        assert_eq!(
            reason("access.blacklist"),
            "access.blacklist: missing value, expected a file path"
        );
    }

    #[test]
    fn udp_workers_needs_a_number() {
        let parsed = ok("listen.udp.workers 4");
        assert_eq!(parsed.config, Config::default());
        assert_eq!(parsed.warnings.len(), 1);
        assert!(parsed.warnings[0]
            .message
            .contains("trackseed serves UDP in its event loop; ignored"));
        assert_eq!(
            reason("listen.udp.workers four"),
            "listen.udp.workers: expected a whole number, got `four`"
        );
        assert_eq!(
            reason("listen.udp.workers"),
            "listen.udp.workers: missing value, expected a whole number"
        );
    }

    #[test]
    fn unknown_keys() {
        let e = err("tracker.interval 60\n\ntracker.foo 1\n");
        assert_eq!(e.line, 3);
        assert!(
            e.reason.starts_with("unknown key `tracker.foo`"),
            "{}",
            e.reason
        );
        // Keys match whole words, not prefixes as in opentracker's parser.
        assert!(reason("listen.tcp_udpx 1.2.3.4").starts_with("unknown key `listen.tcp_udpx`"));
        assert!(reason("tracker.foo").starts_with("unknown key `tracker.foo`"));
        assert!(reason("TRACKER.INTERVAL 5").starts_with("unknown key `TRACKER.INTERVAL`"));
    }

    #[test]
    fn line_length_limit() {
        let fits = format!(
            "tracker.redirect_url http://e/{}",
            "a".repeat(MAX_LINE_LEN - 30)
        );
        assert_eq!(fits.len(), MAX_LINE_LEN);
        let c = config(&format!("{fits}\r\n{fits}"));
        assert_eq!(
            c.redirect_url.as_deref(),
            Some(&fits["tracker.redirect_url ".len()..])
        );
        let long = format!("{fits}a");
        let e = err(&format!("# ok\n{long}\n"));
        assert_eq!(e.line, 2);
        assert_eq!(e.reason, "line is 513 bytes long; at most 512 are allowed");
        // The limit holds for comments too: opentracker would have split such a line.
        assert_eq!(err(&format!("#{long}")).line, 1);
    }

    #[test]
    fn non_utf8_names_the_line() {
        let e = parse(b"tracker.interval 60\ntracker.user n\xffbody\n").expect_err("invalid UTF-8");
        assert_eq!(
            e,
            LineError {
                line: 2,
                reason: "line is not valid UTF-8".to_string()
            }
        );
        assert_eq!(e.to_string(), "line 2: line is not valid UTF-8");
    }

    #[test]
    fn debian_opentracker_conf() {
        let parsed = ok(DEBIAN_CONF);
        assert_eq!(parsed.config.listens, [listen("0.0.0.0:6969", true, true)]);
        assert!(parsed.warnings.is_empty());
        assert_eq!(
            parsed.config.whitelist,
            Some(PathBuf::from("/etc/opentracker/whitelist.txt"))
        );
        assert!(parsed.config.validate().is_ok());
    }

    #[test]
    fn every_length_never_panics() {
        for fixture in SWEEP_FIXTURES {
            let bytes = fixture.as_bytes();
            for len in 0..=bytes.len() {
                let _ = parse(&bytes[..len]);
            }
        }
    }

    #[test]
    fn load_reads_and_reports_paths() {
        let dir =
            std::env::temp_dir().join(format!("trackseed-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let good = dir.join("good.conf");
        std::fs::write(&good, DEBIAN_CONF).expect("write fixture");
        assert!(load(&good).expect("loads").config.whitelist.is_some());
        let bad = dir.join("bad.conf");
        std::fs::write(&bad, "\n\ntracker.max_peers abc\n").expect("write fixture");
        let e = load(&bad).expect_err("bad value");
        assert!(matches!(&e, Error::ConfigParse { line: 3, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "{}:3: tracker.max_peers: expected a whole number, got `abc`",
                bad.display()
            )
        );
        let missing = dir.join("missing.conf");
        let e = load(&missing).expect_err("no such file");
        assert!(
            matches!(&e, Error::ConfigRead { path, .. } if *path == missing),
            "{e:?}"
        );
        std::fs::remove_dir_all(&dir).expect("remove temp dir");
    }

    /// A change to the default config.
    type Change = fn(&mut Config);

    /// The `ConfigInvalid` reason for the default config with `change` applied.
    fn invalid(change: Change) -> String {
        let mut config = Config::default();
        change(&mut config);
        match config.validate() {
            Err(Error::ConfigInvalid { reason }) => reason,
            other => panic!("expected ConfigInvalid, got {other:?}"),
        }
    }

    #[test]
    fn validate_accepts_the_limits() {
        let mut config = Config {
            max_torrents: *MAX_TORRENTS_RANGE.end(),
            max_peers: *MAX_PEERS_RANGE.end(),
            interval_secs: *INTERVAL_SECS_RANGE.end(),
            numwant_default: 0,
            numwant_max: 1,
            scrape_max: *SCRAPE_MAX_RANGE.end(),
            http_max_connections: *HTTP_CONNECTIONS_RANGE.end(),
            http_idle_timeout_secs: 1,
            ..Config::default()
        };
        assert!(config.validate().is_ok());
        config.interval_secs = *INTERVAL_SECS_RANGE.start();
        config.numwant_default = 1;
        assert!(config.validate().is_ok());
    }

    #[test]
    fn validate_refuses_nonsense() {
        let cases: [(Change, &str); 13] = [
            (
                |c| c.max_torrents = 0,
                "tracker.max_torrents is 0; it must be from 1 to 16000000",
            ),
            (
                |c| c.max_torrents = 16_000_001,
                "tracker.max_torrents is 16000001; it must be from 1 to 16000000",
            ),
            (
                |c| c.max_peers = 0,
                "tracker.max_peers is 0; it must be from 1 to 100000000",
            ),
            (
                |c| c.max_peers = 100_000_001,
                "tracker.max_peers is 100000001; it must be from 1 to 100000000",
            ),
            (
                |c| c.interval_secs = 1,
                "tracker.interval is 1; it must be from 2 to 86400",
            ),
            (
                |c| c.interval_secs = 86_401,
                "tracker.interval is 86401; it must be from 2 to 86400",
            ),
            (
                |c| c.numwant_max = 0,
                "tracker.numwant_max is 0; it must be at least 1",
            ),
            (
                |c| c.numwant_default = 201,
                "tracker.numwant_default (201) is larger than tracker.numwant_max (200)",
            ),
            (
                |c| c.scrape_max = 0,
                "tracker.scrape_max is 0; it must be from 1 to 1000",
            ),
            (
                |c| c.scrape_max = 1001,
                "tracker.scrape_max is 1001; it must be from 1 to 1000",
            ),
            (
                |c| c.http_max_connections = 0,
                "http.max_connections is 0; it must be from 1 to 65536",
            ),
            (
                |c| c.http_max_connections = 65_537,
                "http.max_connections is 65537; it must be from 1 to 65536",
            ),
            (
                |c| c.http_idle_timeout_secs = 0,
                "http.idle_timeout is 0; it must be at least 1",
            ),
        ];
        for (change, want) in cases {
            assert_eq!(invalid(change), want);
        }
    }

    #[test]
    fn site_lines_add_sites_and_listeners() {
        let c = config(
            "site music /www/t/music \"/srv/my music\" router.lan 6881 # a comment\n\
             site video /www/t/video /srv/video [2001:db8::1] 6882\n",
        );
        assert_eq!(
            c.sites,
            [
                Site {
                    nick: "music".into(),
                    torrent_dir: "/www/t/music".into(),
                    file_dir: "/srv/my music".into(),
                    server_name: "router.lan".into(),
                    port: 6881,
                },
                Site {
                    nick: "video".into(),
                    torrent_dir: "/www/t/video".into(),
                    file_dir: "/srv/video".into(),
                    server_name: "[2001:db8::1]".into(),
                    port: 6882,
                },
            ]
        );
        // The sites' listeners replace the implicit [::]:6969.
        assert_eq!(
            c.listens,
            [
                listen("[::]:6881", true, true),
                listen("[::]:6882", true, true)
            ]
        );
        assert!(c.validate().is_ok());
    }

    #[test]
    fn site_listeners_are_not_doubled() {
        let c = config("listen.tcp_udp [::]:7000\nsite a /t /f h 7000\nsite b /t2 /f2 h 6969\n");
        assert_eq!(
            c.listens,
            [
                listen("[::]:7000", true, true),
                listen("[::]:6969", true, true)
            ]
        );
        // Not identical: the site adds its own.
        let c = config("listen.tcp [::]:7000\nsite a /t /f h 7000\n");
        assert_eq!(
            c.listens,
            [
                listen("[::]:7000", true, false),
                listen("[::]:7000", true, true)
            ]
        );
        let c = config("site a /t /f h 7000\nlisten.udp 127.0.0.1:7001\n");
        assert_eq!(c.listens.len(), 2);
    }

    #[test]
    fn site_quoting_and_comments() {
        let c = config(r#"site a "/srv/# not a comment" "/srv/say \"hi\" \\ bye" h 1 # comment"#);
        assert_eq!(
            c.sites[0].torrent_dir,
            PathBuf::from("/srv/# not a comment")
        );
        assert_eq!(c.sites[0].file_dir, PathBuf::from(r#"/srv/say "hi" \ bye"#));
        let line = c.sites[0].to_line();
        assert_eq!(config(&line).sites, c.sites, "{line}");
    }

    #[test]
    fn site_errors_name_the_line() {
        let e = err("site a /t /f h 7000\n\nsite a /t2 /f2 h 7001\n");
        assert_eq!(
            e,
            LineError {
                line: 3,
                reason: "site: nickname `a` is already taken by another site".into()
            }
        );
        let e = err("site a /t /f h 7000\nsite b /t2 /f2 h 7000\n");
        assert_eq!(e.line, 2);
        assert_eq!(e.reason, "site: port 7000 is already used by site `a`");
        let cases = [
            (
                "site",
                "site: missing value, expected NICK TORRENTDIR FILEDIR SERVERNAME PORT",
            ),
            (
                "site # just a comment",
                "site: missing value, expected NICK TORRENTDIR FILEDIR SERVERNAME PORT",
            ),
            (
                "site a /t /f h",
                "site: expected 5 fields (NICK TORRENTDIR FILEDIR SERVERNAME PORT), got 4; \
                 quote a field that has spaces",
            ),
            (
                "site a /my dir /f h 1",
                "site: expected 5 fields (NICK TORRENTDIR FILEDIR SERVERNAME PORT), got 6; \
                 quote a field that has spaces",
            ),
            (
                "site a.b /t /f h 1",
                "site: nickname `a.b` must be 1 to 32 letters, digits, `-` or `_`",
            ),
            (
                "site a t /f h 1",
                "site: torrentdir `t` is not an absolute path (the daemon runs in /)",
            ),
            (
                "site a /t ./f h 1",
                "site: filedir `./f` is not an absolute path (the daemon runs in /)",
            ),
            (
                "site a /t /t/ h 1",
                "site: torrentdir and filedir are the same directory `/t/`; they must differ",
            ),
            (
                "site a /t h/x h 1",
                "site: filedir `h/x` is not an absolute path (the daemon runs in /)",
            ),
            (
                "site a /t /f h/x 1",
                "site: servername `h/x` has a `/`; expected a host name only, such as router.lan",
            ),
            (
                "site a /t /f ::1 1",
                "site: servername `::1` is an IPv6 address; write it in brackets, such as \
                 [2001:db8::1]",
            ),
            (
                "site a /t /f h 0",
                "site: port `0` must be a number from 1 to 65535",
            ),
            (
                "site a /t /f h 65536",
                "site: port `65536` must be a number from 1 to 65535",
            ),
            (
                "site a \"/t /f h 1",
                "site: a `\"` opens a field that no `\"` closes",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(reason(text), want, "{text:?}");
        }
        let e = load_error_text("\nsite a /t /f h 1\nsite a /t /f h 2\n");
        assert!(
            e.ends_with(":3: site: nickname `a` is already taken by another site"),
            "{e}"
        );
    }

    /// The error `load` gives for a file holding `text`.
    fn load_error_text(text: &str) -> String {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "trackseed-config-site-{}-{}.conf",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, text).expect("write fixture");
        let e = load(&path).expect_err("bad file").to_string();
        std::fs::remove_file(&path).expect("remove fixture");
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        e
    }

    #[test]
    fn validate_checks_sites_built_in_code() {
        let a = Site {
            nick: "a".into(),
            torrent_dir: "/t".into(),
            file_dir: "/f".into(),
            server_name: "h".into(),
            port: 7000,
        };
        let twice = Config {
            sites: vec![a.clone(), a.clone()],
            ..Config::default()
        };
        assert_eq!(
            twice.validate().unwrap_err().to_string(),
            "invalid configuration: site a: nickname `a` is already taken by another site"
        );
        let relative = Config {
            sites: vec![Site {
                file_dir: "f".into(),
                ..a
            }],
            ..Config::default()
        };
        assert!(relative
            .validate()
            .unwrap_err()
            .to_string()
            .contains("filedir `f` is not an absolute path"));
    }

    #[test]
    fn publish_keys() {
        let c = config(
            "publish.settle_secs 0\npublish.rescan_secs 86400\npublish.hash_slice_ms 1000\n\
             publish.open_tracker yes\n",
        );
        assert_eq!(
            (
                c.settle_secs,
                c.rescan_secs,
                c.hash_slice_ms,
                c.open_tracker
            ),
            (0, 86_400, 1000, true)
        );
        assert!(c.validate().is_ok());
        let d = Config::default();
        assert_eq!(
            (
                d.settle_secs,
                d.rescan_secs,
                d.hash_slice_ms,
                d.open_tracker
            ),
            (10, 300, 5, false)
        );
        assert!(!config("publish.open_tracker yes\npublish.open_tracker no").open_tracker);
        assert_eq!(
            reason("publish.open_tracker maybe"),
            "publish.open_tracker: expected on or off, got `maybe`"
        );
        assert_eq!(
            reason("publish.settle_secs soon"),
            "publish.settle_secs: expected a whole number, got `soon`"
        );
        let cases: [(Change, &str); 4] = [
            (
                |c| c.settle_secs = 3601,
                "publish.settle_secs is 3601; it must be from 0 to 3600",
            ),
            (
                |c| c.rescan_secs = 86_401,
                "publish.rescan_secs is 86401; it must be from 0 to 86400",
            ),
            (
                |c| c.hash_slice_ms = 0,
                "publish.hash_slice_ms is 0; it must be from 1 to 1000",
            ),
            (
                |c| c.hash_slice_ms = 1001,
                "publish.hash_slice_ms is 1001; it must be from 1 to 1000",
            ),
        ];
        for (change, want) in cases {
            assert_eq!(invalid(change), want);
        }
    }
}
