//! Counters of what the tracker did, and their two renderings: opentracker's `/stats?mode=...`
//! pages ([`render`], [`stream_begin`] / [`stream_entry`] / [`stream_end`]) and Prometheus text
//! for `/metrics` ([`render_metrics`]).
//!
//! # Contract
//! Counting is plain `u64` adds: one thread, so no atomics (and 32-bit MIPS has no 64-bit atomics
//! anyway). Rendering is pure: no I/O, no clock, no tables. Everything comes in as arguments: the
//! [`Stats`] counters, a [`Snapshot`] the caller fills from its tables and clock, and, for the
//! per-torrent modes, the torrents themselves. Output goes into a caller's
//! [`Out`](crate::wire::Out); nothing allocates. Every complete body fits in [`MAX_BODY_LEN`]
//! bytes; the two modes that can be huge (`statedump`, `tpbs`) are streamed a torrent at a time
//! instead.
//!
//! # Formats
//! The byte formats are opentracker's (2026 upstream: `ot_stats.c`, `ot_fullscrape.c`,
//! `ot_http.c`), checked byte for byte in the tests against bodies captured from it
//! (`opentracker-stats-samples.txt`). The MRTG modes are four `\n`-separated lines with no
//! trailing newline; lines 1 to 3 are opentracker's exactly (Munin and MRTG scripts parse them,
//! `opentracker serving N torrents` included); line 4 is free text, and says `trackseed` where
//! opentracker says `opentracker`. Where trackseed differs on purpose, the item says so.

mod metrics;
mod render;
mod statedump;

pub use metrics::{render_metrics, METRICS_CONTENT_TYPE};
pub use render::{
    render, stream_begin, stream_end, stream_entry, Body, ContentType, StreamKind, MAX_BODY_LEN,
    MAX_STREAM_ENTRY_LEN,
};
pub use statedump::{parse_statedump_line, StateLineError};

use crate::wire::http::Status;
use crate::wire::query::{params, percent_decode};

/// What `/stats?mode=version` prints, and the `<version>` of `mode=everything`.
pub const VERSION_LINE: &str = concat!(
    "trackseed ",
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("TRACKSEED_TARGET"),
    ")\n"
);

/// Slots of the HTTP error counters: opentracker's list (`ot_failed_request_names`), in its order.
pub const HTTP_ERROR_SLOTS: usize = 9;

/// opentracker's names of its HTTP error counters, which `mode=everything` prints as
/// `<count code="...">`. Scrapers key on these strings, so they are opentracker's exactly.
pub const HTTP_ERROR_NAMES: [&str; HTTP_ERROR_SLOTS] = [
    "302 Redirect",
    "400 Parse Error",
    "400 Invalid Parameter",
    "400 Invalid Parameter (compact=0)",
    "400 Not Modest",
    "402 Payment Required",
    "403 Access Denied",
    "404 Not found",
    "500 Internal Server Error",
];

/// Minutes of the re-announce histogram: a peer expires after 45 minutes (opentracker's
/// `OT_PEER_TIMEOUT`), so ages are 0 to 44.
pub const RENEW_MINUTES: usize = 45;

/// Buckets of the `numwant` histogram: 0 to 200 (opentracker clamps `numwant` to 200).
pub const NUMWANT_BUCKETS: usize = 201;

/// Why an HTTP request was answered with an error status. Each variant is one slot of
/// [`Stats::http_errors_by_code`], at opentracker's index for it, so `mode=herr` and
/// `mode=everything` line up with opentracker's. Statuses opentracker does not have map to the
/// nearest: 405 and 431 count as [`HttpError::ParseError`], 503 as [`HttpError::Internal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// 302 Found: redirected to `tracker.redirect_url`.
    Redirect,
    /// 400: the request line or head could not be parsed (also 405, 431).
    ParseError,
    /// 400: a parameter is missing or invalid (announce, scrape or stats query).
    InvalidParameter,
    /// 400 for `compact=0`: opentracker refuses the dictionary model; trackseed answers it, so
    /// this slot stays 0. Kept so the counter list lines up with opentracker's.
    CompactZero,
    /// 403: refused by the access list or by `access.stats`.
    AccessDenied,
    /// 404: no such path, or a stats mode trackseed does not have.
    NotFound,
    /// 500 (and 503): the tracker could not answer.
    Internal,
}

impl HttpError {
    /// Every variant, in slot order.
    pub const ALL: [HttpError; 7] = [
        HttpError::Redirect,
        HttpError::ParseError,
        HttpError::InvalidParameter,
        HttpError::CompactZero,
        HttpError::AccessDenied,
        HttpError::NotFound,
        HttpError::Internal,
    ];

    /// Index into [`Stats::http_errors_by_code`] and [`HTTP_ERROR_NAMES`]. Slots 4 (`400 Not
    /// Modest`) and 5 (`402 Payment Required`) are opentracker's and never move here.
    pub const fn slot(self) -> usize {
        match self {
            HttpError::Redirect => 0,
            HttpError::ParseError => 1,
            HttpError::InvalidParameter => 2,
            HttpError::CompactZero => 3,
            HttpError::AccessDenied => 6,
            HttpError::NotFound => 7,
            HttpError::Internal => 8,
        }
    }

    /// A short name for labels (`/metrics`).
    pub const fn name(self) -> &'static str {
        match self {
            HttpError::Redirect => "redirect",
            HttpError::ParseError => "parse_error",
            HttpError::InvalidParameter => "invalid_parameter",
            HttpError::CompactZero => "compact_zero",
            HttpError::AccessDenied => "access_denied",
            HttpError::NotFound => "not_found",
            HttpError::Internal => "internal",
        }
    }

    /// The HTTP status code it stands for.
    pub const fn code(self) -> u16 {
        match self {
            HttpError::Redirect => 302,
            HttpError::ParseError | HttpError::InvalidParameter | HttpError::CompactZero => 400,
            HttpError::AccessDenied => 403,
            HttpError::NotFound => 404,
            HttpError::Internal => 500,
        }
    }
}

/// Everything counted. One `u64` a counter; the front ends add to them (the field docs say
/// which event moves each), the renderers only read them.
#[derive(Clone, Debug)]
pub struct Stats {
    /// TCP connections accepted (each once, however many keep-alive requests it carries):
    /// `tcp4` line 1, `conn` line 1 (with `udp_packets`), `<tcp><accept>`.
    pub tcp_accepts: u64,
    /// TCP connections refused because the connection table was full.
    pub tcp_refused_full: u64,
    /// HTTP requests routed to announce: `tcp4` line 2, `<tcp><announce>`.
    pub http_announces: u64,
    /// HTTP scrapes (with at least one info_hash): `scrp` line 1, `<tcp><scrape>`.
    pub http_scrapes: u64,
    /// HTTP full scrapes started: `fscr` (opentracker prints this × 1000 on line 1).
    pub http_full_scrapes: u64,
    /// HTTP requests answered with an error status, all codes (see [`Stats::record_http_error`],
    /// which adds here and to [`Stats::http_errors_by_code`]).
    pub http_errors: u64,
    /// UDP datagrams received: `udp4` line 1, `conn` line 1, `<udp><overall>`.
    pub udp_packets: u64,
    /// UDP connect requests answered: `udp4` and `conn` line 2, `<udp><connect>`.
    pub udp_connects: u64,
    /// UDP announces with a valid connection id: `udp4` and `conn` line 2, `<udp><announce>`.
    pub udp_announces: u64,
    /// UDP scrapes with a valid connection id: `scrp` line 2, `<udp><scrape>`.
    pub udp_scrapes: u64,
    /// UDP announces and scrapes with a wrong connection id: `<udp><missmatch>`.
    pub udp_bad_connection_id: u64,
    /// UDP datagrams that did not parse (dropped without a reply).
    pub udp_malformed: u64,
    /// UDP replies the socket would not take (dropped).
    pub udp_send_dropped: u64,
    /// Announces refused because the torrent table was full.
    pub refused_torrent_table_full: u64,
    /// Announces refused because the peer table was full.
    pub refused_peer_table_full: u64,
    /// Announces with `event=completed` that were stored: `completed` line 1.
    pub completed: u64,
    /// HTTP errors by kind, indexed by [`HttpError::slot`]: `herr`, `<http_error>`.
    pub http_errors_by_code: [u64; HTTP_ERROR_SLOTS],
    /// Re-announces by the peer's age in minutes when it came back (44 = 44 or more), as
    /// opentracker's `EVENT_RENEW`: `renew`, `<renew>`. See [`Stats::record_renew`].
    pub renew: [u64; RENEW_MINUTES],
    /// HTTP announces by the `numwant` asked for (default 50, clamped to 200), as opentracker's
    /// `WANT_LOG_NUMWANT`: `numwants`. See [`Stats::record_numwant`].
    pub numwants: [u64; NUMWANT_BUCKETS],
    /// Body bytes of finished full scrapes: `fscr` line 2.
    pub full_scrape_bytes: u64,
    /// Pieces the publisher hashed since start: 0 after a restart with nothing changed (the
    /// hash cache answered). `<pieces_hashed>`, `trackseed_pieces_hashed_total`.
    pub pieces_hashed: u64,
    /// The seeder: content bytes uploaded, blocks served, requests rejected; torrents seeded
    /// and peer connections now (copied from the seeder every second).
    pub seed_uploaded_bytes: u64,
    pub seed_blocks: u64,
    pub seed_requests_rejected: u64,
    pub seed_torrents: u64,
    pub seed_connections: u64,
    /// Peer connections the seeder accepted and dialled, refused (slots full), and dropped for
    /// breaking the protocol.
    pub seed_accepted: u64,
    pub seed_dialled: u64,
    pub seed_refused_full: u64,
    pub seed_dropped: u64,
    /// Site index pages and `.torrent` files served.
    pub index_pages: u64,
    pub torrent_downloads: u64,
    /// Peers received from live-sync partners: `syncs`, `<livesync>`. Always 0: trackseed has no
    /// live sync; kept so the pages keep opentracker's shape.
    pub syncs: u64,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            tcp_accepts: 0,
            tcp_refused_full: 0,
            http_announces: 0,
            http_scrapes: 0,
            http_full_scrapes: 0,
            http_errors: 0,
            udp_packets: 0,
            udp_connects: 0,
            udp_announces: 0,
            udp_scrapes: 0,
            udp_bad_connection_id: 0,
            udp_malformed: 0,
            udp_send_dropped: 0,
            refused_torrent_table_full: 0,
            refused_peer_table_full: 0,
            completed: 0,
            http_errors_by_code: [0; HTTP_ERROR_SLOTS],
            renew: [0; RENEW_MINUTES],
            numwants: [0; NUMWANT_BUCKETS],
            full_scrape_bytes: 0,
            pieces_hashed: 0,
            seed_uploaded_bytes: 0,
            seed_blocks: 0,
            seed_requests_rejected: 0,
            seed_torrents: 0,
            seed_connections: 0,
            seed_accepted: 0,
            seed_dialled: 0,
            seed_refused_full: 0,
            seed_dropped: 0,
            index_pages: 0,
            torrent_downloads: 0,
            syncs: 0,
        }
    }
}

impl Stats {
    /// Counts one HTTP error answer: in [`Stats::http_errors`] and in its kind's slot. Call this
    /// instead of adding to `http_errors` directly, so the two agree.
    pub fn record_http_error(&mut self, e: HttpError) {
        self.http_errors += 1;
        self.http_errors_by_code[e.slot()] += 1;
    }

    /// Counts a re-announce of a peer last seen `age_minutes` ago (clamped to 44).
    pub fn record_renew(&mut self, age_minutes: u32) {
        let i = (age_minutes as usize).min(RENEW_MINUTES - 1);
        self.renew[i] += 1;
    }

    /// Counts the `numwant` of one HTTP announce (what the client asked, 50 when absent or
    /// negative; clamped to 200), as opentracker does (it does not count UDP announces).
    pub fn record_numwant(&mut self, numwant: u32) {
        let i = (numwant as usize).min(NUMWANT_BUCKETS - 1);
        self.numwants[i] += 1;
    }
}

/// The access list, as the caller sees it now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessListInfo {
    /// `"whitelist"`, `"blacklist"` (or `"open"`): `access::Mode::name()`.
    pub mode: &'static str,
    /// Info hashes in the list.
    pub entries: u64,
    /// Whether the last (re)load of the list file succeeded (a failed reload keeps the old list).
    pub last_reload_ok: bool,
    /// When the list was last (re)loaded, seconds since the Unix epoch, if known.
    pub last_reload_unix_secs: Option<u64>,
}

/// What the renderers need that is not a counter: the caller fills it from its tables and clock
/// just before rendering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Seconds since the tracker started (`t` of the MRTG modes).
    pub uptime_secs: u32,
    /// Wall-clock time, seconds since the Unix epoch (0 if unknown). Only `statedump` uses it,
    /// for each line's base minute.
    pub unix_secs: u64,
    /// Torrents tracked.
    pub torrents: u64,
    /// Peers stored, seeders included, IPv4 and IPv6 together.
    pub peers: u64,
    /// Peers stored that are seeding.
    pub seeds: u64,
    /// TCP connections open now (`busy` line 1).
    pub open_connections: u64,
    /// Jobs waiting for the loop: pieces to hash, uploads to send (`busy` line 2).
    pub queued_work: u64,
    /// A number fixed for the life of the process (`<tracker_id>`; opentracker's is random).
    pub tracker_id: u32,
    /// The access list, or `None` when none is configured (then `/metrics` has no
    /// `access_list` lines).
    pub access_list: Option<AccessListInfo>,
    /// Resident set size of the process in bytes, if the caller could read it.
    pub rss_bytes: Option<u64>,
}

/// The output format of `mode=tpbs` (`format=`), as opentracker's `ot_fullscrape.c` writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpbsFormat {
    /// `bin`: 20-byte hash, seeders and leechers as big-endian u32.
    Bin,
    /// `ben`: a full scrape, `d5:filesd` ... `ee`.
    Ben,
    /// `url`: `%urlencoded hash:<seeders>:<leechers>\n`.
    Url,
    /// `txt`: `HEX40:<seeders>:<leechers>\n`.
    Txt,
    /// `txtp`: `HEX40:<seeders>:<leechers>:<downloaded>\n`.
    Txtp,
}

/// A `/stats` page. Names are opentracker's `mode=` keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `peer` (the default): peers, seeds, torrents.
    Peer,
    /// `torr`: torrents.
    Torr,
    /// `conn`: TCP accepts + UDP packets; announces + UDP connects.
    Conn,
    /// `udp4`: UDP packets; UDP announces + connects (both families, as opentracker).
    Udp4,
    /// `tcp4`: TCP accepts; HTTP announces (both families).
    Tcp4,
    /// `scrp`: HTTP scrapes; UDP scrapes.
    Scrp,
    /// `fscr`: full scrapes × 1000; full-scrape bytes.
    Fscr,
    /// `completed`: completions since start.
    Completed,
    /// `syncs`: live-sync peers (always 0).
    Syncs,
    /// `version`: [`VERSION_LINE`].
    Version,
    /// `herr`: the HTTP error counters, opentracker's 7 lines.
    Herr,
    /// `renew`: the re-announce age histogram, 45 lines.
    Renew,
    /// `top10`: the 10 torrents with most peers, seeds and leechers.
    Top10,
    /// `top100`: the same, 100 each.
    Top100,
    /// `everything`: opentracker's XML.
    Everything,
    /// `statedump`: `HEX40:<base minute>:<downloaded>\n` per torrent (streamed).
    Statedump,
    /// `tpbs&format=...`: per-torrent counts (streamed).
    Tpbs(TpbsFormat),
    /// `busy`: open TCP connections and queued work, MRTG shape (opentracker answers 500).
    Busy,
    /// `numwants`: the `numwant` histogram, 201 lines `%03d => %lld\n` (opentracker needs
    /// `WANT_LOG_NUMWANT` for it; here it is always on).
    Numwants,
}

/// opentracker modes trackseed does not have, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsupported {
    /// `s24s`: the busiest /24 and /28 networks over every stored peer. It needs a count per
    /// network across all peers, a table trackseed does not keep (it would grow with the peers).
    S24s,
    /// `fulllog`: whole requests logged from chosen networks (`WANT_FULLLOG_NETWORKS`, a debug
    /// build of opentracker). trackseed does not keep request logs.
    Fulllog,
    /// `woodpeckers`: networks that announce too often (`WANT_SPOT_WOODPECKER`). trackseed does
    /// not count announces per network.
    Woodpeckers,
}

/// Why a stats query was not understood or cannot be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeError {
    /// `mode=` is not one of opentracker's keywords (opentracker: 400 Invalid Parameter).
    UnknownMode,
    /// `format=` is not `bin`, `ben`, `url`, `txt` or `txtp` (opentracker: 400).
    UnknownFormat,
    /// The query carries `info_hash`: a client uses the stats URL as its announce URL
    /// (opentracker: 400).
    InfoHash,
    /// An opentracker mode trackseed does not have.
    Unsupported(Unsupported),
}

impl ModeError {
    /// The status to answer with: 400, or 404 for a mode trackseed does not have (opentracker's
    /// error list has no 501; 404 keeps `herr` meaningful).
    pub fn status(self) -> Status {
        match self {
            ModeError::Unsupported(_) => Status::NotFound,
            _ => Status::BadRequest,
        }
    }

    /// The counter to record with [`Stats::record_http_error`].
    pub fn http_error(self) -> HttpError {
        match self {
            ModeError::Unsupported(_) => HttpError::NotFound,
            _ => HttpError::InvalidParameter,
        }
    }

    /// A one-line explanation for the response body.
    pub fn message(self) -> &'static str {
        match self {
            ModeError::UnknownMode => {
                "unknown stats mode; known: peer torr conn udp4 tcp4 scrp fscr completed syncs \
                 version herr renew top10 top100 everything statedump tpbs busy numwants"
            }
            ModeError::UnknownFormat => "unknown tpbs format; known: bin ben url txt txtp",
            ModeError::InfoHash => "this is the stats URL, not an announce URL",
            ModeError::Unsupported(Unsupported::S24s) => {
                "mode s24s is not supported by trackseed: it needs a count per network over \
                 every stored peer, which trackseed does not keep"
            }
            ModeError::Unsupported(Unsupported::Fulllog) => {
                "mode fulllog is not supported by trackseed: it does not log requests"
            }
            ModeError::Unsupported(Unsupported::Woodpeckers) => {
                "mode woodpeckers is not supported by trackseed: it does not count announces \
                 per network"
            }
        }
    }
}

/// A `mode=` keyword: a mode we render or one we do not have.
enum Word {
    Mode(Mode),
    Unsupported(Unsupported),
}

fn mode_word(v: &[u8]) -> Option<Word> {
    let m = match v {
        b"peer" => Mode::Peer,
        b"torr" => Mode::Torr,
        b"conn" => Mode::Conn,
        b"udp4" => Mode::Udp4,
        b"tcp4" => Mode::Tcp4,
        b"scrp" => Mode::Scrp,
        b"fscr" => Mode::Fscr,
        b"completed" => Mode::Completed,
        b"syncs" => Mode::Syncs,
        b"version" => Mode::Version,
        b"herr" => Mode::Herr,
        b"renew" => Mode::Renew,
        b"top10" => Mode::Top10,
        b"top100" => Mode::Top100,
        b"everything" => Mode::Everything,
        b"statedump" => Mode::Statedump,
        // The format is filled in at the end: it may come before or after `mode=`.
        b"tpbs" => Mode::Tpbs(TpbsFormat::Ben),
        b"busy" => Mode::Busy,
        b"numwants" => Mode::Numwants,
        b"s24s" => return Some(Word::Unsupported(Unsupported::S24s)),
        b"fulllog" => return Some(Word::Unsupported(Unsupported::Fulllog)),
        b"woodpeckers" => return Some(Word::Unsupported(Unsupported::Woodpeckers)),
        _ => return None,
    };
    Some(Word::Mode(m))
}

fn tpbs_format(v: &[u8]) -> Option<TpbsFormat> {
    Some(match v {
        b"bin" => TpbsFormat::Bin,
        b"ben" => TpbsFormat::Ben,
        b"url" => TpbsFormat::Url,
        b"txt" => TpbsFormat::Txt,
        b"txtp" => TpbsFormat::Txtp,
        _ => return None,
    })
}

/// Reads `mode=` (default `peer`) and `format=` (for `tpbs`; default `ben`) from a stats query
/// string (the part after `?`), as opentracker's `http_handle_stats` does: values are
/// percent-decoded and matched exactly (case matters); a later `mode=` overrides an earlier one;
/// an unknown `mode=` or `format=` is an error wherever it appears, even when `format` does not
/// apply; other parameters are ignored, except `info_hash`, which is refused.
///
/// Without `format=`, `tpbs` is a full scrape (`ben`). opentracker's default is its format 0,
/// which writes full-scrape entries without the `d5:filesd`...`ee` wrapper (not valid
/// bencode); trackseed sends the wrapped form.
pub fn parse_mode(query: &[u8]) -> Result<Mode, ModeError> {
    let mut word = Word::Mode(Mode::Peer);
    let mut format = TpbsFormat::Ben;
    for (key, value) in params(query) {
        // Every keyword fits in 11 bytes: a longer value is no keyword.
        let mut buf = [0u8; 12];
        let decoded = percent_decode(value, &mut buf).ok().map(|n| &buf[..n]);
        match key {
            b"mode" => word = decoded.and_then(mode_word).ok_or(ModeError::UnknownMode)?,
            b"format" => {
                format = decoded
                    .and_then(tpbs_format)
                    .ok_or(ModeError::UnknownFormat)?
            }
            b"info_hash" => return Err(ModeError::InfoHash),
            _ => {}
        }
    }
    match word {
        Word::Mode(Mode::Tpbs(_)) => Ok(Mode::Tpbs(format)),
        Word::Mode(m) => Ok(m),
        Word::Unsupported(u) => Err(ModeError::Unsupported(u)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_mode() {
        let cases: [(&[u8], Mode); 21] = [
            (b"", Mode::Peer),
            (b"mode=peer", Mode::Peer),
            (b"mode=torr", Mode::Torr),
            (b"mode=conn", Mode::Conn),
            (b"mode=udp4", Mode::Udp4),
            (b"mode=tcp4", Mode::Tcp4),
            (b"mode=scrp", Mode::Scrp),
            (b"mode=fscr", Mode::Fscr),
            (b"mode=completed", Mode::Completed),
            (b"mode=syncs", Mode::Syncs),
            (b"mode=version", Mode::Version),
            (b"mode=herr", Mode::Herr),
            (b"mode=renew", Mode::Renew),
            (b"mode=top10", Mode::Top10),
            (b"mode=top100", Mode::Top100),
            (b"mode=everything", Mode::Everything),
            (b"mode=statedump", Mode::Statedump),
            (b"mode=tpbs", Mode::Tpbs(TpbsFormat::Ben)),
            (b"mode=busy", Mode::Busy),
            (b"mode=numwants", Mode::Numwants),
            (b"foo=bar&mode=%74orr&x", Mode::Torr),
        ];
        for (q, m) in cases {
            assert_eq!(parse_mode(q), Ok(m), "{}", String::from_utf8_lossy(q));
        }
    }

    #[test]
    fn parses_tpbs_formats_in_any_order() {
        for (f, want) in [
            ("bin", TpbsFormat::Bin),
            ("ben", TpbsFormat::Ben),
            ("url", TpbsFormat::Url),
            ("txt", TpbsFormat::Txt),
            ("txtp", TpbsFormat::Txtp),
        ] {
            let a = format!("mode=tpbs&format={f}");
            let b = format!("format={f}&mode=tpbs");
            assert_eq!(parse_mode(a.as_bytes()), Ok(Mode::Tpbs(want)));
            assert_eq!(parse_mode(b.as_bytes()), Ok(Mode::Tpbs(want)));
        }
        // A valid format on another mode is ignored, as in opentracker.
        assert_eq!(parse_mode(b"mode=peer&format=txt"), Ok(Mode::Peer));
        assert_eq!(parse_mode(b"mode=conn&mode=udp4"), Ok(Mode::Udp4));
    }

    #[test]
    fn refuses_bad_queries() {
        assert_eq!(parse_mode(b"mode=PEER"), Err(ModeError::UnknownMode));
        assert_eq!(parse_mode(b"mode="), Err(ModeError::UnknownMode));
        assert_eq!(parse_mode(b"mode"), Err(ModeError::UnknownMode));
        assert_eq!(parse_mode(b"mode=peerx"), Err(ModeError::UnknownMode));
        assert_eq!(parse_mode(b"mode=%zz"), Err(ModeError::UnknownMode));
        assert_eq!(
            parse_mode(b"mode=everythingeverything"),
            Err(ModeError::UnknownMode)
        );
        // An unknown mode is an error even when a valid one follows (opentracker stops there).
        assert_eq!(parse_mode(b"mode=x&mode=peer"), Err(ModeError::UnknownMode));
        assert_eq!(
            parse_mode(b"mode=tpbs&format=gz"),
            Err(ModeError::UnknownFormat)
        );
        assert_eq!(
            parse_mode(b"mode=peer&format=TXT"),
            Err(ModeError::UnknownFormat)
        );
        assert_eq!(
            parse_mode(b"info_hash=%01%02&mode=peer"),
            Err(ModeError::InfoHash)
        );
        for (q, u) in [
            (&b"mode=s24s"[..], Unsupported::S24s),
            (b"mode=fulllog", Unsupported::Fulllog),
            (b"mode=woodpeckers", Unsupported::Woodpeckers),
        ] {
            let e = parse_mode(q).unwrap_err();
            assert_eq!(e, ModeError::Unsupported(u));
            assert_eq!(e.status(), Status::NotFound);
            assert_eq!(e.http_error(), HttpError::NotFound);
            assert!(e.message().contains("not supported by trackseed"));
        }
        // The last mode wins, so a supported one after an unsupported one is fine.
        assert_eq!(parse_mode(b"mode=s24s&mode=peer"), Ok(Mode::Peer));
        assert_eq!(ModeError::UnknownMode.status(), Status::BadRequest);
        assert_eq!(
            ModeError::InfoHash.http_error(),
            HttpError::InvalidParameter
        );
    }

    #[test]
    fn parse_mode_never_panics_on_any_length() {
        let alphabet = b"mode=tpbs&format%25x0f=&&==";
        let mut q = Vec::new();
        for len in 0..300 {
            q.clear();
            for i in 0..len {
                q.push(alphabet[(i * 7 + len) % alphabet.len()]);
            }
            let _ = parse_mode(&q);
            let mut bytes = q.clone();
            bytes.iter_mut().enumerate().for_each(|(i, b)| {
                *b = b.wrapping_add((i * 31) as u8);
            });
            let _ = parse_mode(&bytes);
        }
    }

    #[test]
    fn counters_record_into_their_slots() {
        let mut s = Stats::default();
        for e in HttpError::ALL {
            s.record_http_error(e);
        }
        s.record_http_error(HttpError::NotFound);
        assert_eq!(s.http_errors, 8);
        assert_eq!(s.http_errors_by_code, [1, 1, 1, 1, 0, 0, 1, 2, 1]);
        for e in HttpError::ALL {
            let name = HTTP_ERROR_NAMES[e.slot()];
            assert!(name.starts_with(&e.code().to_string()), "{name}");
        }
        s.record_renew(0);
        s.record_renew(44);
        s.record_renew(u32::MAX);
        assert_eq!((s.renew[0], s.renew[44]), (1, 2));
        s.record_numwant(50);
        s.record_numwant(5000);
        assert_eq!((s.numwants[50], s.numwants[200]), (1, 1));
    }

    #[test]
    fn version_line_names_version_and_target() {
        assert!(VERSION_LINE.starts_with(concat!("trackseed ", env!("CARGO_PKG_VERSION"), " (")));
        assert!(VERSION_LINE.ends_with(")\n"));
        assert!(!VERSION_LINE.contains(['<', '>', '&']));
    }
}
