//! The publisher's pages on a site's port: `GET /`, an HTML index of the site's torrents
//! (name, size, seeders, leechers, completed, a `.torrent` link and a magnet link; hashing
//! progress for entries not yet published), and `GET /torrents/<name>.torrent`.
//!
//! Both are produced in pieces (the connection calls [`stream`] whenever its output drained),
//! so neither a site of thousands of torrents nor a large `.torrent` needs a large buffer. A
//! requested name is looked up in the catalog, never joined onto a path.

use super::http::{After, Streamed};
use super::Tracker;
use crate::clock::Secs;
use crate::publish::catalog::{SiteCatalog, State};
use crate::publish::human_size;
use crate::wire::query::percent_decode;
use crate::wire::Out;
use std::fmt::Write as _;
use std::io::{Read, Seek, SeekFrom};

/// Longest request name decoded (a file name is at most 255 bytes on Linux, plus `.torrent`).
const MAX_NAME: usize = 512;
/// Output kept free before another index row is written (a row with the longest escaped name
/// and its magnet link fits).
const ROW_ROOM: usize = 8 * 1024;

/// Bytes that stay as they are in a URL component (RFC 3986 unreserved).
fn put_url_component(out: &mut Out, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.put(&[b]);
        } else {
            out.put(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// Text for HTML element content and attribute values.
fn put_html(out: &mut Out, s: &[u8]) {
    for &b in s {
        match b {
            b'&' => out.put(b"&amp;"),
            b'<' => out.put(b"&lt;"),
            b'>' => out.put(b"&gt;"),
            b'"' => out.put(b"&quot;"),
            b'\'' => out.put(b"&#39;"),
            _ => out.put(&[b]),
        }
    }
}

/// The head and the top of the index page of site `site`; rows follow from [`stream`].
pub fn index(t: &mut Tracker, site: usize, out: &mut Out) -> After {
    let Some(sc) = t.catalog.sites.get(site) else {
        return After::Close;
    };
    out.put(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n",
    );
    out.put(
        b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
    );
    put_html(out, sc.site.nick.as_bytes());
    out.put(b"</title>\n<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}\
td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right}</style>\n\
</head><body>\n<h1>");
    put_html(out, sc.site.nick.as_bytes());
    out.put(b"</h1>\n<p>Tracker: <code>");
    let [http, udp] = sc.announce_urls();
    put_html(out, http.as_bytes());
    out.put(b"</code> and <code>");
    put_html(out, udp.as_bytes());
    out.put(
        b"</code></p>\n<table>\n<tr><th>Name</th><th>Size</th><th>Seeders</th>\
<th>Leechers</th><th>Completed</th><th>Get</th></tr>\n",
    );
    After::Stream {
        what: Streamed::Index { site: site as u32 },
        next: 0,
    }
}

/// More of the index page: rows from entry `next` on; at the end, the entries not yet
/// published and the foot. Returns true when the page is complete.
pub fn stream_index(
    t: &mut Tracker,
    site: usize,
    next: &mut usize,
    now: Secs,
    out: &mut Out,
) -> bool {
    let Some(sc) = t.catalog.sites.get(site) else {
        return true;
    };
    while *next < sc.entries.len() {
        if out.remaining() < ROW_ROOM {
            return false;
        }
        let e = &sc.entries[*next];
        *next += 1;
        let Some(p) = e.published() else { continue };
        let counts = t.swarms.scrape(&p.info_hash, now).unwrap_or_default();
        out.put(b"<tr><td>");
        put_html(out, e.name.as_bytes());
        out.put(b"</td><td class=n>");
        put_html(out, human_size(e.sig.total_len).as_bytes());
        for v in [counts.seeders, counts.leechers, counts.downloaded] {
            out.put(b"</td><td class=n>");
            out.put_u64(u64::from(v));
        }
        out.put(b"</td><td><a href=\"/torrents/");
        put_url_component(out, e.name.as_bytes());
        out.put(b".torrent\">.torrent</a> <a href=\"");
        put_magnet(out, sc, &e.name, &p.info_hash);
        out.put(b"\">magnet</a></td></tr>\n");
    }
    out.put(b"</table>\n");
    put_pending(out, sc);
    out.put(b"</body></html>\n");
    true
}

/// `magnet:?xt=urn:btih:HEX&dn=NAME&tr=HTTP&tr=UDP`, HTML-escaped for an attribute.
fn put_magnet(out: &mut Out, sc: &SiteCatalog, name: &str, h: &crate::ids::InfoHash) {
    let _ = write!(out, "magnet:?xt=urn:btih:{h}&amp;dn=");
    put_url_component(out, name.as_bytes());
    for url in sc.announce_urls() {
        out.put(b"&amp;tr=");
        put_url_component(out, url.as_bytes());
    }
}

/// The entries on their way: hashing (with percent), waiting, or refused (with why).
fn put_pending(out: &mut Out, sc: &SiteCatalog) {
    let mut listed = false;
    for e in &sc.entries {
        if out.remaining() < ROW_ROOM {
            out.put(b"<li>\xe2\x80\xa6</li>\n"); // an ellipsis: the page stays bounded
            break;
        }
        let what = match &e.state {
            State::Published(_) => continue,
            State::Hashing { done } => {
                format!("hashing, {}%", done * 100 / e.sig.total_len.max(1))
            }
            State::Queued => "waiting to be hashed".to_owned(),
            State::Settling { .. } => "waiting until it stops changing".to_owned(),
            State::Failed(why) => format!("not published: {why}"),
        };
        if !listed {
            out.put(b"<h2>Not yet published</h2>\n<ul>\n");
            listed = true;
        }
        out.put(b"<li>");
        put_html(out, e.name.as_bytes());
        out.put(b" (");
        put_html(out, human_size(e.sig.total_len).as_bytes());
        out.put(b"): ");
        put_html(out, what.as_bytes());
        out.put(b"</li>\n");
    }
    if listed {
        out.put(b"</ul>\n");
    }
}

/// `GET /torrents/<name>.torrent` on site `site`'s port: `rest` is the path after `torrents/`.
/// Returns `None` when there is no such published torrent (the caller answers 404).
pub fn torrent_file(t: &mut Tracker, site: usize, rest: &[u8], out: &mut Out) -> Option<After> {
    let encoded = rest.strip_suffix(b".torrent")?;
    let mut buf = [0u8; MAX_NAME];
    let n = percent_decode(encoded, &mut buf).ok()?;
    let name = &buf[..n];
    let sc = t.catalog.sites.get(site)?;
    let index = sc
        .entries
        .binary_search_by(|e| e.name.as_bytes().cmp(name))
        .ok()?;
    let e = &sc.entries[index];
    let p = e.published()?;
    out.put(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-bittorrent\r\nContent-Length: ");
    out.put_u64(p.torrent_len);
    // A plain ASCII fallback name, and the exact one in RFC 5987 form.
    out.put(b"\r\nContent-Disposition: attachment; filename=\"");
    for &b in e.name.as_bytes() {
        let keep = b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ';
        out.put(&[if keep { b } else { b'_' }]);
    }
    out.put(b".torrent\"; filename*=UTF-8''");
    put_url_component(out, e.name.as_bytes());
    out.put(b".torrent\r\nConnection: close\r\n\r\n");
    Some(After::Stream {
        what: Streamed::TorrentFile {
            site: site as u32,
            entry: index as u32,
        },
        next: 0,
    })
}

/// More of a `.torrent` file, from byte `next`. Ends the answer (true) at the end of the file,
/// or early when the file is no longer the one announced in the head (replaced or removed):
/// the client sees a short body and retries.
pub fn stream_torrent(
    t: &Tracker,
    site: usize,
    entry: usize,
    next: &mut usize,
    out: &mut Out,
) -> bool {
    let Some(sc) = t.catalog.sites.get(site) else {
        return true;
    };
    let Some((e, p)) = sc
        .entries
        .get(entry)
        .and_then(|e| Some((e, e.published()?)))
    else {
        return true;
    };
    let Ok(mut f) = std::fs::File::open(sc.torrent_path(&e.name)) else {
        return true;
    };
    let same = f.metadata().is_ok_and(|m| m.len() == p.torrent_len);
    if !same || f.seek(SeekFrom::Start(*next as u64)).is_err() {
        return true;
    }
    let before = out.len();
    out.fill(|free| f.read(free).unwrap_or(0));
    let added = out.len() - before;
    *next += added;
    added == 0 || *next as u64 >= p.torrent_len
}
