//! `/stats` (opentracker's modes, for MRTG and Munin) and `/metrics` (Prometheus), for the
//! networks `access.stats` allows (loopback by default); others get 403. The formats are
//! rendered by [`crate::stats`]; this module gathers the numbers and writes the HTTP answer.

use super::http::{After, Streamed};
use super::Tracker;
use crate::clock::{unix_secs, Secs};
use crate::stats::{self, AccessListInfo, Body, HttpError, Snapshot};
use crate::wire::http::{self, Status};
use crate::wire::Out;
use std::net::IpAddr;

/// Whether `ip` may read the statistics.
pub fn is_allowed(t: &Tracker, ip: IpAddr) -> bool {
    if t.config.stats_nets.is_empty() {
        return ip.to_canonical().is_loopback();
    }
    t.config.stats_nets.iter().any(|n| n.contains(ip))
}

/// The numbers the pages show, read from the tables now.
fn snapshot(t: &Tracker, now: Secs) -> Snapshot {
    let access_list = (t.access.mode() != crate::access::Mode::Open).then(|| AccessListInfo {
        mode: t.access.mode().name(),
        entries: t.access.len() as u64,
        last_reload_ok: t.access_reload.is_none_or(|(ok, _)| ok),
        last_reload_unix_secs: t.access_reload.map(|(_, at)| at),
    });
    Snapshot {
        uptime_secs: now.0,
        unix_secs: unix_secs(),
        torrents: t.swarms.torrent_count() as u64,
        peers: u64::from(t.swarms.peer_count()),
        seeds: t.swarms.seeder_count(),
        open_connections: t.open_connections,
        queued_work: 0,
        tracker_id: t.tracker_id,
        access_list,
        rss_bytes: crate::sys::rss_bytes(),
    }
}

fn refuse(
    t: &mut Tracker,
    out: &mut Out,
    status: Status,
    message: &str,
    keep_alive: bool,
) -> After {
    let e = if status == Status::Forbidden {
        HttpError::AccessDenied
    } else {
        HttpError::NotFound
    };
    t.stats.record_http_error(e);
    http::put_head(
        out,
        status,
        "text/plain",
        Some(message.len() + 1),
        keep_alive,
    );
    out.put(message.as_bytes());
    out.put(b"\n");
    if keep_alive {
        After::KeepAlive
    } else {
        After::Close
    }
}

/// `GET /<stats_path>?mode=...`.
pub fn stats(
    t: &mut Tracker,
    query: &[u8],
    from: IpAddr,
    now: Secs,
    out: &mut Out,
    keep_alive: bool,
) -> After {
    if !is_allowed(t, from) {
        return refuse(
            t,
            out,
            Status::Forbidden,
            "statistics are not available to this address",
            keep_alive,
        );
    }
    let mode = match stats::parse_mode(query) {
        Ok(m) => m,
        Err(e) => {
            t.stats.record_http_error(e.http_error());
            let msg = e.message();
            http::put_head(
                out,
                e.status(),
                "text/plain",
                Some(msg.len() + 1),
                keep_alive,
            );
            out.put(msg.as_bytes());
            out.put(b"\n");
            return if keep_alive {
                After::KeepAlive
            } else {
                After::Close
            };
        }
    };
    let snap = snapshot(t, now);
    // The body goes to a scratch buffer first: its content type and length come with it.
    let mut scratch = std::mem::take(&mut t.stats_scratch);
    let mut body = Out::new(&mut scratch);
    let mut next = 0;
    let swarms = &mut t.swarms;
    let (access, catalog) = (&t.access, &t.catalog);
    let mut walk = || loop {
        let (rec, h, c) = swarms.next_torrent(next, now)?;
        next = rec + 1;
        if super::admits(access, catalog, &h) {
            return Some((h, c));
        }
    };
    let after = match stats::render(mode, &t.stats, &snap, &mut walk, &mut body) {
        Body::Complete(ct) => {
            http::put_head(out, Status::Ok, ct.as_str(), Some(body.len()), keep_alive);
            out.put(body.written());
            if keep_alive {
                After::KeepAlive
            } else {
                After::Close
            }
        }
        Body::Stream(kind) => {
            // Streamed answers end when the connection closes.
            http::put_head(out, Status::Ok, kind.content_type().as_str(), None, false);
            stats::stream_begin(kind, out);
            After::Stream {
                what: Streamed::Stats(kind),
                next: 0,
            }
        }
    };
    t.stats_scratch = scratch;
    after
}

/// `GET /metrics`.
pub fn metrics(t: &mut Tracker, from: IpAddr, now: Secs, out: &mut Out, keep_alive: bool) -> After {
    if !is_allowed(t, from) {
        return refuse(
            t,
            out,
            Status::Forbidden,
            "metrics are not available to this address",
            keep_alive,
        );
    }
    let snap = snapshot(t, now);
    let mut scratch = std::mem::take(&mut t.stats_scratch);
    let mut body = Out::new(&mut scratch);
    stats::render_metrics(&t.stats, &snap, &mut body);
    http::put_head(
        out,
        Status::Ok,
        stats::METRICS_CONTENT_TYPE,
        Some(body.len()),
        keep_alive,
    );
    out.put(body.written());
    t.stats_scratch = scratch;
    if keep_alive {
        After::KeepAlive
    } else {
        After::Close
    }
}
