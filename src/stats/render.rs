//! `/stats?mode=...` bodies in opentracker's byte formats (`ot_stats.c`, `ot_fullscrape.c`).

use super::{statedump, Mode, Snapshot, Stats, TpbsFormat, HTTP_ERROR_NAMES, VERSION_LINE};
use crate::ids::InfoHash;
use crate::swarm::Counts;
use crate::wire::{bencode, Out};

/// Bytes that hold any complete body [`render`] writes. `top100` is the largest: 300 lines of
/// at most 53 bytes (`\t<u32>\t<HEX40>\n`) and three headings, 15,984 bytes; every other mode
/// stays under 8 KiB.
pub const MAX_BODY_LEN: usize = 16 * 1024;

/// The longest entry [`stream_entry`] writes (`ben`: 97 bytes with three 10-digit counts).
/// Before each entry, check `out.remaining() >= MAX_STREAM_ENTRY_LEN` and flush if not.
pub const MAX_STREAM_ENTRY_LEN: usize = 128;

/// How many torrents `top100` lists per ranking.
const TOP_MAX: usize = 100;

/// The `Content-Type` of a stats body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentType {
    /// `text/plain`: the MRTG modes and every other text page.
    Text,
    /// `text/xml`: `everything` (opentracker sends it as `text/plain`; parsers do not care).
    Xml,
    /// `application/octet-stream`: `statedump` and `tpbs`, as opentracker sends them.
    OctetStream,
}

impl ContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Text => "text/plain",
            ContentType::Xml => "text/xml",
            ContentType::OctetStream => "application/octet-stream",
        }
    }
}

/// A per-torrent body that is streamed: one entry per torrent, written by [`stream_entry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    /// `HEX40:<base_minutes>:<downloaded>\n`. opentracker writes each torrent's peer-list base
    /// time in minutes since the Unix epoch; trackseed keeps no such time per torrent and writes
    /// the minute of the dump for every torrent, so an opentracker loading the file (`-l`)
    /// treats each torrent as fresh.
    Statedump { base_minutes: u64 },
    /// `tpbs` in one of its formats.
    Tpbs(TpbsFormat),
}

impl StreamKind {
    pub fn content_type(self) -> ContentType {
        ContentType::OctetStream
    }
}

/// What [`render`] produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// The whole body is in `out`; send it with this content type and a `Content-Length`.
    Complete(ContentType),
    /// Nothing was written: walk the torrent table and send [`stream_begin`], one
    /// [`stream_entry`] per torrent and [`stream_end`] (content type:
    /// [`StreamKind::content_type`]).
    Stream(StreamKind),
}

/// Writes the page for `mode` into `out` (which should hold [`MAX_BODY_LEN`] bytes; on
/// overflow `out.is_overflow()` says so). `torrents` yields every torrent once and then `None`;
/// only `top10` and `top100` call it. `statedump` and `tpbs` write nothing and return
/// [`Body::Stream`].
pub fn render(
    mode: Mode,
    stats: &Stats,
    snap: &Snapshot,
    torrents: &mut dyn FnMut() -> Option<(InfoHash, Counts)>,
    out: &mut Out,
) -> Body {
    let s = stats;
    let t = snap.uptime_secs;
    match mode {
        Mode::Peer => serving(out, snap.peers, snap.seeds, snap.torrents),
        Mode::Torr => serving(out, snap.torrents, 0, snap.torrents),
        Mode::Conn => {
            let (l1, l2) = conn_totals(s);
            mrtg(out, l1, l2, t);
            conn_line4(out, s, t);
        }
        Mode::Udp4 => {
            let l1 = s.udp_packets;
            let l2 = s.udp_announces.saturating_add(s.udp_connects);
            mrtg(out, l1, l2, t);
            out.put(b"trackseed udp4 stats, ");
            conns_success(out, l1, l2, t);
        }
        Mode::Tcp4 => {
            let (l1, l2) = (s.tcp_accepts, s.http_announces);
            mrtg(out, l1, l2, t);
            out.put(b"trackseed tcp4 stats, ");
            conns_success(out, l1, l2, t);
        }
        Mode::Scrp => {
            mrtg(out, s.http_scrapes, s.udp_scrapes, t);
            out.put(b"trackseed scrape stats, ");
            out.put_u64(per(s.http_scrapes.saturating_add(s.udp_scrapes), t));
            out.put(b" scrape/s (tcp and udp)");
        }
        Mode::Fscr => {
            let thousands = s.http_full_scrapes.saturating_mul(1000);
            mrtg(out, thousands, s.full_scrape_bytes, t);
            out.put(b"trackseed full scrape stats, ");
            out.put_u64(per(s.http_full_scrapes, t));
            out.put(b" conns/s :: ");
            out.put_u64(per(s.full_scrape_bytes, t));
            out.put(b" bytes/s.");
        }
        Mode::Completed => {
            mrtg(out, s.completed, 0, t);
            out.put(b"trackseed, ");
            out.put_u64(per(s.completed, t / 3600));
            out.put(b" completed/h.");
        }
        Mode::Syncs => {
            mrtg(out, s.syncs, 0, t);
            // opentracker repeats `conn`'s line 4 here.
            conn_line4(out, s, t);
        }
        Mode::Busy => {
            mrtg(out, snap.open_connections, snap.queued_work, t);
            out.put(b"trackseed busy, ");
            out.put_u64(snap.open_connections);
            out.put(b" connections :: ");
            out.put_u64(snap.queued_work);
            out.put(b" queued.");
        }
        Mode::Version => out.put(VERSION_LINE.as_bytes()),
        Mode::Herr => herr(out, s),
        Mode::Renew => {
            for (i, n) in s.renew.iter().enumerate() {
                put_padded(out, i as u64, 2);
                out.put(b" ");
                out.put_u64(*n);
                out.put(b"\n");
            }
        }
        Mode::Numwants => {
            for (i, n) in s.numwants.iter().enumerate() {
                put_padded(out, i as u64, 3);
                out.put(b" => ");
                out.put_u64(*n);
                out.put(b"\n");
            }
        }
        Mode::Top10 => top(out, 10, torrents),
        Mode::Top100 => top(out, TOP_MAX, torrents),
        Mode::Everything => {
            everything(out, s, snap);
            return Body::Complete(ContentType::Xml);
        }
        Mode::Statedump => {
            let base_minutes = snap.unix_secs / 60;
            return Body::Stream(StreamKind::Statedump { base_minutes });
        }
        Mode::Tpbs(f) => return Body::Stream(StreamKind::Tpbs(f)),
    }
    Body::Complete(ContentType::Text)
}

/// Writes what comes before the first entry: `d5:filesd` for `tpbs&format=ben`, else nothing.
pub fn stream_begin(kind: StreamKind, out: &mut Out) {
    if kind == StreamKind::Tpbs(TpbsFormat::Ben) {
        out.put(b"d5:filesd");
    }
}

/// Writes one torrent's entry (at most [`MAX_STREAM_ENTRY_LEN`] bytes).
pub fn stream_entry(kind: StreamKind, hash: &InfoHash, c: Counts, out: &mut Out) {
    let (seeds, leechers) = (u64::from(c.seeders), u64::from(c.leechers));
    match kind {
        StreamKind::Statedump { base_minutes } => {
            statedump::put_line(out, hash, base_minutes, c.downloaded)
        }
        StreamKind::Tpbs(TpbsFormat::Ben) => {
            bencode::put_bytes(out, &hash.0);
            out.put(b"d");
            bencode::put_key_int(out, b"complete", seeds);
            bencode::put_key_int(out, b"downloaded", u64::from(c.downloaded));
            bencode::put_key_int(out, b"incomplete", leechers);
            out.put(b"e");
        }
        StreamKind::Tpbs(TpbsFormat::Bin) => {
            out.put(&hash.0);
            out.put(&c.seeders.to_be_bytes());
            out.put(&c.leechers.to_be_bytes());
        }
        StreamKind::Tpbs(f) => {
            if f == TpbsFormat::Url {
                put_urlencoded(out, &hash.0);
            } else {
                put_hex40(out, hash);
            }
            out.put(b":");
            out.put_u64(seeds);
            out.put(b":");
            out.put_u64(leechers);
            if f == TpbsFormat::Txtp {
                out.put(b":");
                out.put_u64(u64::from(c.downloaded));
            }
            out.put(b"\n");
        }
    }
}

/// Writes what comes after the last entry: `ee` for `tpbs&format=ben`, else nothing.
pub fn stream_end(kind: StreamKind, out: &mut Out) {
    if kind == StreamKind::Tpbs(TpbsFormat::Ben) {
        out.put(b"ee");
    }
}

/// `events / t`, with `t` taken as at least 1 (opentracker's `events_per_time`).
fn per(events: u64, t: u32) -> u64 {
    events / u64::from(t.max(1))
}

/// `peer` and `torr`: `<l1>\n<l2>\nopentracker serving <n> torrents\ntrackseed`.
fn serving(out: &mut Out, l1: u64, l2: u64, torrents: u64) {
    out.put_u64(l1);
    out.put(b"\n");
    out.put_u64(l2);
    out.put(b"\nopentracker serving ");
    out.put_u64(torrents);
    out.put(b" torrents\ntrackseed");
}

/// Lines 1 to 3 of the timed MRTG modes: `<l1>\n<l2>\n<t> seconds (<t/3600> hours)\n`.
fn mrtg(out: &mut Out, l1: u64, l2: u64, t: u32) {
    out.put_u64(l1);
    out.put(b"\n");
    out.put_u64(l2);
    out.put(b"\n");
    out.put_u64(u64::from(t));
    out.put(b" seconds (");
    out.put_u64(u64::from(t / 3600));
    out.put(b" hours)\n");
}

/// `conn`'s lines 1 and 2: connections (TCP accepts and UDP packets) and successes (announces
/// over both, and UDP connects).
fn conn_totals(s: &Stats) -> (u64, u64) {
    (
        s.tcp_accepts.saturating_add(s.udp_packets),
        s.http_announces
            .saturating_add(s.udp_announces)
            .saturating_add(s.udp_connects),
    )
}

fn conn_line4(out: &mut Out, s: &Stats, t: u32) {
    let (l1, l2) = conn_totals(s);
    out.put(b"trackseed connections, ");
    conns_success(out, l1, l2, t);
}

/// `<l1/t> conns/s :: <l2/t> success/s.`
fn conns_success(out: &mut Out, l1: u64, l2: u64, t: u32) {
    out.put_u64(per(l1, t));
    out.put(b" conns/s :: ");
    out.put_u64(per(l2, t));
    out.put(b" success/s.");
}

/// opentracker's seven `herr` lines. opentracker prints its first seven counters under these
/// labels, which since its list grew puts `400 Not Modest` under `403 IP`, `402 Payment
/// Required` under `404 INV` and `403 Access Denied` under `500 SRV`; trackseed prints each
/// label's own counter.
fn herr(out: &mut Out, s: &Stats) {
    use super::HttpError as E;
    let lines: [(&[u8], E); 7] = [
        (b"302 RED ", E::Redirect),
        (b"400 ... ", E::ParseError),
        (b"400 PAR ", E::InvalidParameter),
        (b"400 COM ", E::CompactZero),
        (b"403 IP  ", E::AccessDenied),
        (b"404 INV ", E::NotFound),
        (b"500 SRV ", E::Internal),
    ];
    for (label, e) in lines {
        out.put(label);
        out.put_u64(s.http_errors_by_code[e.slot()]);
        out.put(b"\n");
    }
}

/// `v` in decimal, zero-padded to `width` digits (`%02i`, `%03d`).
fn put_padded(out: &mut Out, v: u64, width: usize) {
    let mut digits = 1;
    let mut rest = v / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    for _ in digits..width {
        out.put(b"0");
    }
    out.put_u64(v);
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// The hash as 40 uppercase hex digits (opentracker's `to_hex`).
pub(super) fn put_hex40(out: &mut Out, h: &InfoHash) {
    let mut s = [0u8; 40];
    for (pair, b) in s.chunks_exact_mut(2).zip(h.0) {
        pair[0] = HEX_UPPER[usize::from(b >> 4)];
        pair[1] = HEX_UPPER[usize::from(b & 15)];
    }
    out.put(&s);
}

/// libowfat's `fmt_urlencoded`: letters, digits and `$/.=~-_` as they are, every other byte as
/// `%` and two lowercase hex digits.
fn put_urlencoded(out: &mut Out, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"$/.=~-_".contains(&b) {
            out.put(&[b]);
        } else {
            out.put(&[
                b'%',
                HEX_LOWER[usize::from(b >> 4)],
                HEX_LOWER[usize::from(b & 15)],
            ]);
        }
    }
}

/// The `n` largest `(count, hash)` pairs seen, largest first. Ties on the count go to the larger
/// hash, which reproduces opentracker's order (it walks torrents by ascending hash and ranks a
/// later one first among equals) whatever order the caller walks in. Zero counts are not kept:
/// opentracker does not print them.
struct Ranking {
    entries: [(u32, InfoHash); TOP_MAX],
    len: usize,
    cap: usize,
}

impl Ranking {
    fn new(cap: usize) -> Ranking {
        Ranking {
            entries: [(0, InfoHash::default()); TOP_MAX],
            len: 0,
            cap: cap.min(TOP_MAX),
        }
    }

    fn offer(&mut self, count: u32, hash: InfoHash) {
        let key = (count, hash);
        if count == 0 || (self.len == self.cap && key <= self.entries[self.cap - 1]) {
            return;
        }
        let at = self.entries[..self.len].partition_point(|e| *e > key);
        let end = if self.len < self.cap {
            self.len += 1;
            self.len
        } else {
            self.cap
        };
        self.entries.copy_within(at..end - 1, at + 1);
        self.entries[at] = key;
    }

    fn put(&self, out: &mut Out, heading: &[u8], n: usize) {
        out.put(b"Top ");
        out.put_u64(n as u64);
        out.put(b" torrents by ");
        out.put(heading);
        out.put(b":\n");
        for (count, hash) in &self.entries[..self.len] {
            out.put(b"\t");
            out.put_u64(u64::from(*count));
            out.put(b"\t");
            put_hex40(out, hash);
            out.put(b"\n");
        }
    }
}

/// `top10` / `top100`: by peers, by seeds, by leechers (opentracker added leechers in 2024).
fn top(out: &mut Out, n: usize, torrents: &mut dyn FnMut() -> Option<(InfoHash, Counts)>) {
    let mut peers = Ranking::new(n);
    let mut seeds = Ranking::new(n);
    let mut leechers = Ranking::new(n);
    while let Some((hash, c)) = torrents() {
        peers.offer(c.seeders.saturating_add(c.leechers), hash);
        seeds.offer(c.seeders, hash);
        leechers.offer(c.leechers, hash);
    }
    peers.put(out, b"peers", n);
    seeds.put(out, b"seeds", n);
    leechers.put(out, b"leechers", n);
}

/// `<indent><<name>>v</<name>>\n`
fn element(out: &mut Out, indent: &[u8], name: &[u8], v: u64) {
    out.put(indent);
    out.put(b"<");
    out.put(name);
    out.put(b">");
    out.put_u64(v);
    out.put(b"</");
    out.put(name);
    out.put(b">\n");
}

/// `<outer>\n<indent+2><count>v</count>\n</outer>`, opentracker's one-counter sections.
fn count_section(out: &mut Out, indent: &[u8], name: &[u8], v: u64) {
    out.put(indent);
    out.put(b"<");
    out.put(name);
    out.put(b">\n");
    out.put(indent);
    element(out, b"  ", b"count", v);
    out.put(indent);
    out.put(b"</");
    out.put(name);
    out.put(b">\n");
}

/// opentracker's `stats_return_everything`, element for element (no trailing newline), then
/// trackseed's `<pieces_hashed>` (the publisher's hashing work since start). The values are
/// trackseed's counters; `mutex_stall` is always 0 (one thread, no locks).
fn everything(out: &mut Out, s: &Stats, snap: &Snapshot) {
    out.put(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<stats>\n");
    element(out, b"  ", b"tracker_id", u64::from(snap.tracker_id));
    out.put(b"  <version>\n");
    out.put(VERSION_LINE.as_bytes());
    out.put(b"  </version>\n");
    element(out, b"  ", b"uptime", u64::from(snap.uptime_secs));
    out.put(b"  <torrents>\n");
    element(out, b"    ", b"count_mutex", snap.torrents);
    element(out, b"    ", b"count_iterator", snap.torrents);
    out.put(b"  </torrents>\n");
    count_section(out, b"  ", b"peers", snap.peers);
    count_section(out, b"  ", b"seeds", snap.seeds);
    count_section(out, b"  ", b"completed", s.completed);
    out.put(b"  <connections>\n    <tcp>\n");
    element(out, b"      ", b"accept", s.tcp_accepts);
    element(out, b"      ", b"announce", s.http_announces);
    element(out, b"      ", b"scrape", s.http_scrapes);
    out.put(b"    </tcp>\n    <udp>\n");
    element(out, b"      ", b"overall", s.udp_packets);
    element(out, b"      ", b"connect", s.udp_connects);
    element(out, b"      ", b"announce", s.udp_announces);
    element(out, b"      ", b"scrape", s.udp_scrapes);
    element(out, b"      ", b"missmatch", s.udp_bad_connection_id);
    out.put(b"    </udp>\n");
    count_section(out, b"    ", b"livesync", s.syncs);
    out.put(b"  </connections>\n  <debug>\n    <renew>\n");
    for (i, n) in s.renew.iter().enumerate() {
        out.put(b"      <count interval=\"");
        put_padded(out, i as u64, 2);
        out.put(b"\">");
        out.put_u64(*n);
        out.put(b"</count>\n");
    }
    out.put(b"    </renew>\n    <http_error>\n");
    for (name, n) in HTTP_ERROR_NAMES.iter().zip(s.http_errors_by_code) {
        out.put(b"      <count code=\"");
        out.put(name.as_bytes());
        out.put(b"\">");
        out.put_u64(n);
        out.put(b"</count>\n");
    }
    out.put(b"    </http_error>\n");
    count_section(out, b"    ", b"mutex_stall", 0);
    out.put(b"  </debug>\n");
    // trackseed's own, after all of opentracker's elements (readers of those are unaffected).
    element(out, b"  ", b"pieces_hashed", s.pieces_hashed);
    out.put(b"</stats>");
}

#[cfg(test)]
mod tests;
