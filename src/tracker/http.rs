//! The HTTP front end (BEP 3, 23, 7, 48): one request head in, one response out.
//!
//! Routing follows opentracker's lenient rules so existing announce URLs keep working: after
//! the leading slashes, a path starting with `a` (or an empty path with a query) announces,
//! `scrape` without a query is a full scrape, a path starting with `sc` scrapes, and `GET /`
//! redirects when `tracker.redirect_url` is set.

use super::{index_page, stats_page, Tracker};
use crate::clock::Secs;
use crate::ids::{InfoHash, PeerAddr};
use crate::stats::HttpError;
use crate::swarm::{Announce, Counts, Event};
use crate::wire::bencode::{put_bytes, put_failure, put_key_int};
use crate::wire::http::{self, Status};
use crate::wire::query::{self, AnnounceQuery, HttpEvent};
use crate::wire::{Error, Out};
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// What the connection does after the response in `out` is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// Keep the connection for another request.
    KeepAlive,
    /// Close it.
    Close,
    /// Stream an answer of one entry per torrent: call [`stream_more`] from torrent record
    /// `next` whenever the output has drained, then close.
    Stream { what: Streamed, next: usize },
}

/// The answers produced a torrent at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Streamed {
    /// `/scrape` without an info hash.
    FullScrape,
    /// `/stats?mode=statedump` and `mode=tpbs`.
    Stats(crate::stats::StreamKind),
    /// A site's index page (`next` is an entry of the site's catalog).
    Index { site: u32 },
    /// A published `.torrent` file (`next` is a byte offset).
    TorrentFile { site: u32, entry: u32 },
}

/// Bytes of output a connection needs for any single answer with these settings.
pub fn out_capacity(numwant_max: u32, scrape_max: u32) -> usize {
    // Dictionary-model peers are at most ~60 bytes each (`d2:ip39:<v6>4:porti65535ee`).
    let peers = numwant_max as usize * 64;
    let scrape = scrape_max as usize * 80;
    1024 + peers.max(scrape).max(crate::stats::MAX_BODY_LEN)
}

/// Answers one request `head` (complete, as delimited by `wire::http::head_len`) from `from`,
/// received on local port `local_port` (a site's port serves that site's pages).
pub fn handle(
    t: &mut Tracker,
    head: &[u8],
    from: SocketAddr,
    local_port: u16,
    now: Secs,
    out: &mut Out,
) -> After {
    let req = match http::parse_request(head) {
        Ok(r) => r,
        Err(e) => {
            let status = match e {
                Error::UnknownAction => Status::MethodNotAllowed,
                Error::TooLong => Status::HeaderTooLarge,
                _ => Status::BadRequest,
            };
            return error_page(t, out, status, false);
        }
    };
    let path = trim_slashes(req.path);
    let keep_alive = req.keep_alive;
    let client = client_addr(t, from, req.forwarded_for);
    if path == t.config.stats_path.as_bytes() {
        if query::scrape_hashes(req.query).next().is_some() {
            // A client announcing to the stats URL (opentracker refuses these too).
            return bad_request(
                t,
                out,
                "this is the statistics page, not an announce URL",
                keep_alive,
            );
        }
        stats_page::stats(t, req.query, from.ip(), now, out, keep_alive)
    } else if path == b"metrics" {
        stats_page::metrics(t, from.ip(), now, out, keep_alive)
    } else if path.first() == Some(&b'a') || (path.is_empty() && !req.query.is_empty()) {
        t.stats.http_announces += 1;
        announce(t, req.query, client, now, out, keep_alive)
    } else if path == b"scrape" && req.query.is_empty() {
        if !t.config.fullscrape {
            return error_page(t, out, Status::Forbidden, keep_alive);
        }
        t.stats.http_full_scrapes += 1;
        http::put_head(out, Status::Ok, "text/plain", None, false);
        out.put(b"d5:filesd");
        After::Stream {
            what: Streamed::FullScrape,
            next: 0,
        }
    } else if path.starts_with(b"sc") {
        t.stats.http_scrapes += 1;
        scrape(t, req.query, now, out, keep_alive)
    } else if let (Some(rest), Some(site)) = (
        path.strip_prefix(b"torrents/"),
        t.catalog.site_on_port(local_port),
    ) {
        match index_page::torrent_file(t, site, rest, out) {
            Some(after) => {
                t.stats.torrent_downloads += 1;
                after
            }
            None => error_page(t, out, Status::NotFound, keep_alive),
        }
    } else if path.is_empty()
        && t.config.redirect_url.is_none()
        && t.catalog.site_on_port(local_port).is_some()
    {
        let site = t.catalog.site_on_port(local_port).unwrap_or_default();
        t.stats.index_pages += 1;
        index_page::index(t, site, out)
    } else if path.is_empty() && t.config.redirect_url.is_some() {
        let url = t.config.redirect_url.as_deref().unwrap_or_default();
        out.put(b"HTTP/1.1 302 Found\r\nLocation: ");
        out.put(url.as_bytes());
        out.put(b"\r\nContent-Length: 0\r\n");
        if !keep_alive {
            out.put(b"Connection: close\r\n");
        }
        out.put(b"\r\n");
        after(keep_alive)
    } else {
        error_page(t, out, Status::NotFound, keep_alive)
    }
}

/// The answer to a request head longer than `wire::http::MAX_HEAD_LEN`: 431, then close.
pub fn head_too_large(t: &mut Tracker, out: &mut Out) -> After {
    error_page(t, out, Status::HeaderTooLarge, false)
}

fn after(keep_alive: bool) -> After {
    if keep_alive {
        After::KeepAlive
    } else {
        After::Close
    }
}

fn trim_slashes(path: &[u8]) -> &[u8] {
    let start = path.iter().position(|&b| b != b'/').unwrap_or(path.len());
    &path[start..]
}

/// An HTTP-level error: opentracker's `<title>` page.
fn error_page(t: &mut Tracker, out: &mut Out, status: Status, keep_alive: bool) -> After {
    t.stats.record_http_error(http_error_of(status));
    let line = status.line();
    let body_len = "<title></title>\n".len() + line.len();
    http::put_head(out, status, "text/html", Some(body_len), keep_alive);
    out.put(b"<title>");
    out.put(line.as_bytes());
    out.put(b"</title>\n");
    after(keep_alive)
}

/// opentracker's error counter for a status we send (those it does not have: the nearest).
fn http_error_of(status: Status) -> HttpError {
    match status {
        Status::Found => HttpError::Redirect,
        Status::BadRequest => HttpError::InvalidParameter,
        Status::Forbidden => HttpError::AccessDenied,
        Status::NotFound => HttpError::NotFound,
        Status::MethodNotAllowed | Status::HeaderTooLarge => HttpError::ParseError,
        Status::Ok | Status::ServiceUnavailable => HttpError::Internal,
    }
}

/// A request the tracker cannot use: counted, and answered 400 with a bencoded reason.
fn bad_request(t: &mut Tracker, out: &mut Out, reason: &str, keep_alive: bool) -> After {
    t.stats.record_http_error(HttpError::InvalidParameter);
    failure(out, Status::BadRequest, reason, keep_alive)
}

/// A bencoded failure reason with `status` (200 for tracker refusals, 400 for bad parameters).
fn failure(out: &mut Out, status: Status, reason: &str, keep_alive: bool) -> After {
    let len = "d14:failure reason:e".len() + decimal_len(reason.len()) + reason.len();
    http::put_head(out, status, "text/plain", Some(len), keep_alive);
    put_failure(out, reason);
    after(keep_alive)
}

fn decimal_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// The client's address: the connection's source, or the `X-Forwarded-For` address when the
/// connection comes from a trusted proxy (`access.proxy`) and names one.
fn client_addr(t: &Tracker, from: SocketAddr, forwarded_for: Option<&[u8]>) -> SocketAddr {
    if !t.config.proxy_nets.iter().any(|n| n.contains(from.ip())) {
        return from;
    }
    let named = forwarded_for
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| {
            v.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        });
    named.map_or(from, |ip| SocketAddr::new(ip, from.port()))
}

fn announce_addr(t: &Tracker, q: &AnnounceQuery, from: SocketAddr) -> IpAddr {
    let source = from.ip().to_canonical();
    if !t.config.ip_from_query {
        return source;
    }
    let same_family = if source.is_ipv4() { q.ipv4 } else { q.ipv6 };
    q.ip.or(same_family).unwrap_or(source)
}

fn announce(
    t: &mut Tracker,
    query_bytes: &[u8],
    from: SocketAddr,
    now: Secs,
    out: &mut Out,
    keep_alive: bool,
) -> After {
    let q = match query::parse_announce(query_bytes) {
        Ok(q) => q,
        Err(query::AnnounceError::MissingInfoHash) => {
            t.stats.record_http_error(HttpError::InvalidParameter);
            return failure(
                out,
                Status::Ok,
                query::AnnounceError::MissingInfoHash.reason(),
                keep_alive,
            );
        }
        Err(e) => return bad_request(t, out, e.reason(), keep_alive),
    };
    t.stats
        .record_numwant(q.numwant.unwrap_or(t.config.numwant_default));
    let port = match q.port {
        Some(p) if p != 0 => p,
        Some(_) => return bad_request(t, out, "invalid port 0", keep_alive),
        None => return bad_request(t, out, "port is missing", keep_alive),
    };
    let peer = PeerAddr::new(announce_addr(t, &q, from), port);
    let is_seeder = q.left == Some(0);
    let event = match q.event {
        HttpEvent::None => Event::None,
        HttpEvent::Started => Event::Started,
        HttpEvent::Completed => Event::Completed,
        HttpEvent::Stopped => Event::Stopped,
    };
    let ann = Announce {
        info_hash: q.info_hash,
        peer,
        is_seeder,
        event,
    };
    let (torrent, counts) = match t.announce(&ann, now) {
        Ok(r) => r,
        Err(reason) => return failure(out, Status::Ok, reason, keep_alive),
    };
    let (n4, n6) = match torrent {
        Some(tr) if event != Event::Stopped => {
            let want = t.numwant(q.numwant, usize::MAX);
            let a4 = t.swarms.available(tr, false, is_seeder) as usize;
            let a6 = t.swarms.available(tr, true, is_seeder) as usize;
            let (w4, w6) = split_want(want, a4, a6);
            let mut n4 = 0;
            let buf4 = &mut t.peers4;
            t.swarms.select(tr, false, &peer, is_seeder, w4, &mut |p| {
                buf4[n4..n4 + 6].copy_from_slice(p);
                n4 += 6;
            });
            let mut n6 = 0;
            let buf6 = &mut t.peers6;
            t.swarms.select(tr, true, &peer, is_seeder, w6, &mut |p| {
                buf6[n6..n6 + 18].copy_from_slice(p);
                n6 += 18;
            });
            (n4, n6)
        }
        _ => (0, 0),
    };
    let interval = t.interval();
    let at = http::put_head_unsized(out, Status::Ok, keep_alive);
    let body_start = out.len();
    let body = AnnounceBody {
        counts,
        interval,
        external_ip: from.ip().to_canonical(),
        peers4: &t.peers4[..n4],
        peers6: &t.peers6[..n6],
        is_compact: q.compact,
    };
    put_announce_body(out, &body);
    let body_len = out.len() - body_start;
    http::patch_length(out, at, body_len);
    after(keep_alive)
}

/// Splits `want` between the families as opentracker does: all of both when they fit, else
/// each family at least a quarter and the rest in proportion.
fn split_want(want: usize, a4: usize, a6: usize) -> (usize, usize) {
    if a4 + a6 <= want {
        return (a4, a6);
    }
    if a6 == 0 {
        return (want.min(a4), 0);
    }
    if a4 == 0 {
        return (0, want.min(a6));
    }
    let quarter = want / 4;
    let w4 = (want * a4 / (a4 + a6))
        .max(quarter)
        .min(a4)
        .min(want - quarter.min(a6));
    let w6 = (want - w4).min(a6);
    let w4 = (want - w6).min(a4);
    (w4, w6)
}

/// What an announce answer holds.
struct AnnounceBody<'a> {
    counts: Counts,
    interval: u32,
    /// BEP 24: the address the requester was seen from (4 or 16 raw bytes on the wire).
    external_ip: IpAddr,
    peers4: &'a [u8],
    peers6: &'a [u8],
    is_compact: bool,
}

fn put_announce_body(out: &mut Out, b: &AnnounceBody) {
    let (c, interval, p4, p6, compact) = (b.counts, b.interval, b.peers4, b.peers6, b.is_compact);
    out.put(b"d");
    put_key_int(out, b"complete", u64::from(c.seeders));
    put_key_int(out, b"downloaded", u64::from(c.downloaded));
    put_bytes(out, b"external ip");
    match b.external_ip {
        IpAddr::V4(ip) => put_bytes(out, &ip.octets()),
        IpAddr::V6(ip) => put_bytes(out, &ip.octets()),
    }
    put_key_int(out, b"incomplete", u64::from(c.leechers));
    put_key_int(out, b"interval", u64::from(interval));
    put_key_int(out, b"min interval", u64::from(interval / 2));
    put_bytes(out, b"peers");
    if compact {
        put_bytes(out, p4);
        if !p6.is_empty() {
            put_bytes(out, b"peers6");
            put_bytes(out, p6);
        }
    } else {
        // BEP 3 dictionary model, without peer ids (we do not store them).
        out.put(b"l");
        for p in p4.chunks_exact(6).chain(p6.chunks_exact(18)) {
            put_peer_dict(out, p);
        }
        out.put(b"e");
    }
    out.put(b"e");
}

fn put_peer_dict(out: &mut Out, compact: &[u8]) {
    let (ip, port): (IpAddr, u16) = if compact.len() == 6 {
        let ip = [compact[0], compact[1], compact[2], compact[3]];
        (ip.into(), u16::from_be_bytes([compact[4], compact[5]]))
    } else {
        let mut ip = [0u8; 16];
        ip.copy_from_slice(&compact[..16]);
        (ip.into(), u16::from_be_bytes([compact[16], compact[17]]))
    };
    let mut text = [0u8; 48];
    let mut t = Out::new(&mut text);
    // Writing an address into a 48-byte buffer cannot fail: the longest IPv6 text is 39 bytes.
    let _ = write!(t, "{ip}");
    let n = t.len();
    out.put(b"d");
    put_bytes(out, b"ip");
    put_bytes(out, &text[..n]);
    put_key_int(out, b"port", u64::from(port));
    out.put(b"e");
}

fn scrape(
    t: &mut Tracker,
    query_bytes: &[u8],
    now: Secs,
    out: &mut Out,
    keep_alive: bool,
) -> After {
    // The scratch list is taken out of the tracker while the tables are read, and put back.
    let mut hashes = std::mem::take(&mut t.scrape_hashes);
    if let Err(reason) = collect_scrape_hashes(query_bytes, t.config.scrape_max, &mut hashes) {
        t.scrape_hashes = hashes;
        return bad_request(t, out, reason, keep_alive);
    }
    let at = http::put_head_unsized(out, Status::Ok, keep_alive);
    let body_start = out.len();
    out.put(b"d5:filesd");
    for h in &hashes {
        if let Some(c) = t.scrape(h, now) {
            put_scrape_entry(out, h, c);
        }
    }
    out.put(b"ee");
    let body_len = out.len() - body_start;
    http::patch_length(out, at, body_len);
    t.scrape_hashes = hashes;
    after(keep_alive)
}

/// The distinct info hashes of a scrape query, at most `max` (extras are ignored, as aquatic
/// does), sorted as bencode dictionary keys must be. `hashes` has capacity `max`, so this never
/// allocates.
fn collect_scrape_hashes(
    query_bytes: &[u8],
    max: u32,
    hashes: &mut Vec<InfoHash>,
) -> Result<(), &'static str> {
    hashes.clear();
    for h in query::scrape_hashes(query_bytes) {
        let h = h.map_err(|_| "info_hash is not 20 bytes")?;
        if hashes.len() < max as usize && !hashes.contains(&h) {
            hashes.push(h);
        }
    }
    if hashes.is_empty() {
        return Err("scrape needs an info_hash");
    }
    hashes.sort_unstable();
    Ok(())
}

fn put_scrape_entry(out: &mut Out, h: &InfoHash, c: Counts) {
    put_bytes(out, &h.0);
    out.put(b"d");
    put_key_int(out, b"complete", u64::from(c.seeders));
    put_key_int(out, b"downloaded", u64::from(c.downloaded));
    put_key_int(out, b"incomplete", u64::from(c.leechers));
    out.put(b"e");
}

/// Longest full-scrape entry: `20:<hash>d8:completei<u32>e10:downloadedi<u32>e10:incompletei<u32>ee`.
const FULL_SCRAPE_ENTRY_MAX: usize = 23 + 1 + 3 * (13 + 10) + 1;

/// Continues a streamed answer into `out` from torrent record `*next`. Returns true when it is
/// complete (its end written). Torrents come in record order, not sorted: the only order a
/// bounded, streaming answer can give, and one clients tolerate.
pub fn stream_more(
    t: &mut Tracker,
    what: Streamed,
    next: &mut usize,
    now: Secs,
    out: &mut Out,
) -> bool {
    let kind = match what {
        Streamed::Index { site } => {
            return index_page::stream_index(t, site as usize, next, now, out)
        }
        Streamed::TorrentFile { site, entry } => {
            return index_page::stream_torrent(t, site as usize, entry as usize, next, out)
        }
        Streamed::FullScrape => None,
        Streamed::Stats(kind) => Some(kind),
    };
    let start = out.len();
    let room = FULL_SCRAPE_ENTRY_MAX.max(crate::stats::MAX_STREAM_ENTRY_LEN) + 2;
    let done = loop {
        if out.remaining() < room {
            break false;
        }
        let Some((rec, h, c)) = t.swarms.next_torrent(*next, now) else {
            match kind {
                None => out.put(b"ee"),
                Some(kind) => crate::stats::stream_end(kind, out),
            }
            break true;
        };
        *next = rec + 1;
        if !super::admits(&t.access, &t.catalog, &h) {
            continue;
        }
        match kind {
            None => put_scrape_entry(out, &h, c),
            Some(kind) => crate::stats::stream_entry(kind, &h, c, out),
        }
    };
    if kind.is_none() {
        t.stats.full_scrape_bytes += (out.len() - start) as u64;
    }
    done
}

#[cfg(test)]
mod tests;
