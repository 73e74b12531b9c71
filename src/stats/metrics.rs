//! `/metrics`: the counters and a [`Snapshot`] in the Prometheus text exposition format
//! (version 0.0.4): a `# HELP` and a `# TYPE` line per metric family, then its samples as
//! `name{label="value",...} value`. Names follow Prometheus conventions: a `trackseed_` prefix,
//! base units in the name (`_seconds`, `_bytes`), `_total` on counters.

use super::{HttpError, Snapshot, Stats};
use crate::wire::Out;

/// The `Content-Type` of [`render_metrics`]'s body.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `# HELP <name> <help>\n# TYPE <name> <kind>\n`
fn family(out: &mut Out, name: &str, kind: &str, help: &str) {
    out.put(b"# HELP ");
    out.put(name.as_bytes());
    out.put(b" ");
    out.put(help.as_bytes());
    out.put(b"\n# TYPE ");
    out.put(name.as_bytes());
    out.put(b" ");
    out.put(kind.as_bytes());
    out.put(b"\n");
}

/// A label value with `\`, `"` and newlines escaped, as the format asks.
fn put_label_value(out: &mut Out, v: &str) {
    for b in v.bytes() {
        match b {
            b'\\' => out.put(b"\\\\"),
            b'"' => out.put(b"\\\""),
            b'\n' => out.put(b"\\n"),
            _ => out.put(&[b]),
        }
    }
}

/// `name{k="v",...} value\n`
fn sample(out: &mut Out, name: &str, labels: &[(&str, &str)], v: u64) {
    out.put(name.as_bytes());
    if !labels.is_empty() {
        out.put(b"{");
        for (i, (k, val)) in labels.iter().enumerate() {
            if i > 0 {
                out.put(b",");
            }
            out.put(k.as_bytes());
            out.put(b"=\"");
            put_label_value(out, val);
            out.put(b"\"");
        }
        out.put(b"}");
    }
    out.put(b" ");
    out.put_u64(v);
    out.put(b"\n");
}

/// A family with one unlabelled sample.
fn single(out: &mut Out, name: &str, kind: &str, help: &str, v: u64) {
    family(out, name, kind, help);
    sample(out, name, &[], v);
}

/// Writes every metric into `out` (under 8 KiB; [`super::MAX_BODY_LEN`] is plenty). Ends with a
/// newline, as the format requires.
pub fn render_metrics(stats: &Stats, snap: &Snapshot, out: &mut Out) {
    let s = stats;
    let version = env!("CARGO_PKG_VERSION");
    let target = env!("TRACKSEED_TARGET");
    family(
        out,
        "trackseed_build_info",
        "gauge",
        "Version and build target of the running binary (always 1).",
    );
    sample(
        out,
        "trackseed_build_info",
        &[("version", version), ("target", target)],
        1,
    );
    single(
        out,
        "trackseed_uptime_seconds",
        "gauge",
        "Seconds since the tracker started.",
        u64::from(snap.uptime_secs),
    );
    single(
        out,
        "trackseed_torrents",
        "gauge",
        "Torrents tracked.",
        snap.torrents,
    );
    single(
        out,
        "trackseed_peers",
        "gauge",
        "Peers stored, seeders included, IPv4 and IPv6.",
        snap.peers,
    );
    single(
        out,
        "trackseed_seeders",
        "gauge",
        "Peers stored that are seeding.",
        snap.seeds,
    );
    single(
        out,
        "trackseed_completed_total",
        "counter",
        "Announces with event=completed.",
        s.completed,
    );
    single(
        out,
        "trackseed_pieces_hashed_total",
        "counter",
        "Pieces the publisher hashed (0 after a restart with nothing changed).",
        s.pieces_hashed,
    );
    for (name, kind, help, v) in [
        (
            "trackseed_seed_uploaded_bytes_total",
            "counter",
            "Content bytes the seeder uploaded.",
            s.seed_uploaded_bytes,
        ),
        (
            "trackseed_seed_blocks_total",
            "counter",
            "Blocks the seeder served.",
            s.seed_blocks,
        ),
        (
            "trackseed_seed_requests_rejected_total",
            "counter",
            "Block requests the seeder refused (choked, invalid, queue full).",
            s.seed_requests_rejected,
        ),
        (
            "trackseed_seed_accepted_total",
            "counter",
            "Peer connections the seeder accepted.",
            s.seed_accepted,
        ),
        (
            "trackseed_seed_dialled_total",
            "counter",
            "Peer connections the seeder opened to peers of its swarms.",
            s.seed_dialled,
        ),
        (
            "trackseed_seed_refused_total",
            "counter",
            "Peer connections refused because every slot was taken (seed.max_connections).",
            s.seed_refused_full,
        ),
        (
            "trackseed_seed_dropped_total",
            "counter",
            "Peers dropped for breaking the protocol.",
            s.seed_dropped,
        ),
        (
            "trackseed_seed_torrents",
            "gauge",
            "Torrents being seeded.",
            s.seed_torrents,
        ),
        (
            "trackseed_seed_connections",
            "gauge",
            "Peer-wire connections open.",
            s.seed_connections,
        ),
    ] {
        single(out, name, kind, help, v);
    }
    single(
        out,
        "trackseed_index_pages_total",
        "counter",
        "Site index pages served.",
        s.index_pages,
    );
    single(
        out,
        "trackseed_torrent_downloads_total",
        "counter",
        "Published .torrent files served.",
        s.torrent_downloads,
    );

    let name = "trackseed_requests_total";
    family(
        out,
        name,
        "counter",
        "Tracker requests handled, by protocol and kind.",
    );
    for (protocol, kind, v) in [
        ("http", "announce", s.http_announces),
        ("http", "scrape", s.http_scrapes),
        ("http", "full_scrape", s.http_full_scrapes),
        ("udp", "connect", s.udp_connects),
        ("udp", "announce", s.udp_announces),
        ("udp", "scrape", s.udp_scrapes),
    ] {
        sample(out, name, &[("protocol", protocol), ("kind", kind)], v);
    }

    let name = "trackseed_errors_total";
    family(
        out,
        name,
        "counter",
        "Requests answered with an error or dropped, by protocol and reason.",
    );
    for e in HttpError::ALL {
        let v = s.http_errors_by_code[e.slot()];
        sample(out, name, &[("protocol", "http"), ("reason", e.name())], v);
    }
    for (reason, v) in [
        ("bad_connection_id", s.udp_bad_connection_id),
        ("malformed", s.udp_malformed),
        ("reply_dropped", s.udp_send_dropped),
    ] {
        sample(out, name, &[("protocol", "udp"), ("reason", reason)], v);
    }

    let name = "trackseed_refused_total";
    family(
        out,
        name,
        "counter",
        "Newcomers refused because their table was full.",
    );
    for (table, v) in [
        ("torrents", s.refused_torrent_table_full),
        ("peers", s.refused_peer_table_full),
        ("connections", s.tcp_refused_full),
    ] {
        sample(out, name, &[("table", table)], v);
    }

    single(
        out,
        "trackseed_tcp_connections_accepted_total",
        "counter",
        "TCP connections accepted.",
        s.tcp_accepts,
    );
    single(
        out,
        "trackseed_udp_packets_received_total",
        "counter",
        "UDP datagrams received.",
        s.udp_packets,
    );
    single(
        out,
        "trackseed_full_scrape_bytes_total",
        "counter",
        "Body bytes of finished full scrapes.",
        s.full_scrape_bytes,
    );
    single(
        out,
        "trackseed_open_connections",
        "gauge",
        "TCP connections open now.",
        snap.open_connections,
    );
    single(
        out,
        "trackseed_queued_work",
        "gauge",
        "Jobs waiting for the event loop (pieces to hash, uploads).",
        snap.queued_work,
    );

    if let Some(a) = snap.access_list {
        let name = "trackseed_access_list_entries";
        family(
            out,
            name,
            "gauge",
            "Info hashes in the access list, by list mode.",
        );
        sample(out, name, &[("mode", a.mode)], a.entries);
        single(
            out,
            "trackseed_access_list_reload_success",
            "gauge",
            "Whether the last load of the access list succeeded (1) or failed (0).",
            u64::from(a.last_reload_ok),
        );
        if let Some(at) = a.last_reload_unix_secs {
            single(
                out,
                "trackseed_access_list_last_reload_timestamp_seconds",
                "gauge",
                "When the access list was last loaded, seconds since the Unix epoch.",
                at,
            );
        }
    }
    if let Some(rss) = snap.rss_bytes {
        single(
            out,
            "trackseed_resident_memory_bytes",
            "gauge",
            "Resident set size of the process.",
            rss,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{AccessListInfo, MAX_BODY_LEN};
    use std::collections::HashSet;

    fn is_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    /// Checks the exposition format; returns each sample as `(name, labels, value)`.
    fn check(text: &str) -> Vec<(String, String, u64)> {
        assert!(text.ends_with('\n'), "must end with a newline");
        let mut typed = HashSet::new();
        let mut helped = HashSet::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("HELP has a text");
                assert!(is_name(name) && !help.is_empty(), "{line}");
                assert!(helped.insert(name.to_owned()), "HELP twice: {line}");
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
                assert!(is_name(name), "{line}");
                assert!(["counter", "gauge"].contains(&kind), "{line}");
                assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
                assert!(typed.insert(name.to_owned()), "TYPE twice: {line}");
                continue;
            }
            assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
            let (series, value) = line.rsplit_once(' ').expect("sample has a value");
            let value: u64 = value.parse().expect("integer value");
            let (name, labels) = match series.split_once('{') {
                Some((n, l)) => (n, l.strip_suffix('}').expect("labels close")),
                None => (series, ""),
            };
            assert!(is_name(name), "{line}");
            assert!(typed.contains(name), "no TYPE before {line}");
            if !labels.is_empty() {
                for pair in labels.split(',') {
                    let (k, v) = pair.split_once('=').expect("label k=v");
                    assert!(is_name(k) && !k.starts_with("__"), "{line}");
                    assert!(v.len() >= 2 && v.starts_with('"') && v.ends_with('"'));
                }
            }
            samples.push((name.to_owned(), labels.to_owned(), value));
        }
        samples
    }

    fn value(samples: &[(String, String, u64)], name: &str, labels: &str) -> u64 {
        samples
            .iter()
            .find(|(n, l, _)| n == name && l == labels)
            .unwrap_or_else(|| panic!("no {name}{{{labels}}}"))
            .2
    }

    #[test]
    fn writes_every_metric_well_formed() {
        let mut s = Stats {
            http_announces: 8,
            udp_announces: 1,
            udp_connects: 2,
            udp_scrapes: 3,
            refused_torrent_table_full: 4,
            refused_peer_table_full: 5,
            tcp_refused_full: 6,
            udp_bad_connection_id: 9,
            ..Stats::default()
        };
        s.record_http_error(HttpError::AccessDenied);
        let snap = Snapshot {
            uptime_secs: 3600,
            torrents: 3,
            peers: 6,
            seeds: 3,
            access_list: Some(AccessListInfo {
                mode: "white\"list\\",
                entries: 12,
                last_reload_ok: false,
                last_reload_unix_secs: Some(1_700_000_000),
            }),
            rss_bytes: Some(1 << 20),
            ..Snapshot::default()
        };
        let mut buf = vec![0u8; MAX_BODY_LEN];
        let mut out = Out::new(&mut buf);
        render_metrics(&s, &snap, &mut out);
        assert!(!out.is_overflow());
        assert!(out.len() < 8192, "{} bytes", out.len());
        let text = std::str::from_utf8(out.written()).unwrap();
        let samples = check(text);
        assert_eq!(value(&samples, "trackseed_torrents", ""), 3);
        assert_eq!(value(&samples, "trackseed_peers", ""), 6);
        assert_eq!(value(&samples, "trackseed_seeders", ""), 3);
        assert_eq!(value(&samples, "trackseed_uptime_seconds", ""), 3600);
        let req = "trackseed_requests_total";
        assert_eq!(value(&samples, req, r#"protocol="udp",kind="announce""#), 1);
        assert_eq!(
            value(&samples, req, r#"protocol="http",kind="announce""#),
            8
        );
        let err = "trackseed_errors_total";
        assert_eq!(
            value(&samples, err, r#"protocol="http",reason="access_denied""#),
            1
        );
        assert_eq!(
            value(
                &samples,
                err,
                r#"protocol="udp",reason="bad_connection_id""#
            ),
            9
        );
        let refused = "trackseed_refused_total";
        assert_eq!(value(&samples, refused, r#"table="torrents""#), 4);
        assert_eq!(value(&samples, refused, r#"table="peers""#), 5);
        assert_eq!(value(&samples, refused, r#"table="connections""#), 6);
        assert_eq!(
            value(
                &samples,
                "trackseed_access_list_entries",
                r#"mode="white\"list\\""#
            ),
            12
        );
        assert_eq!(
            value(&samples, "trackseed_access_list_reload_success", ""),
            0
        );
        assert_eq!(
            value(
                &samples,
                "trackseed_access_list_last_reload_timestamp_seconds",
                ""
            ),
            1_700_000_000
        );
        assert_eq!(
            value(&samples, "trackseed_resident_memory_bytes", ""),
            1 << 20
        );
        let info = samples
            .iter()
            .find(|(n, _, _)| n == "trackseed_build_info")
            .unwrap();
        assert!(info.1.starts_with(concat!(
            "version=\"",
            env!("CARGO_PKG_VERSION"),
            "\",target=\""
        )));
        assert!(!info.1.ends_with("target=\"\""), "target is named");
    }

    #[test]
    fn leaves_out_what_the_caller_does_not_know() {
        let mut buf = vec![0u8; MAX_BODY_LEN];
        let mut out = Out::new(&mut buf);
        render_metrics(&Stats::default(), &Snapshot::default(), &mut out);
        let text = std::str::from_utf8(out.written()).unwrap();
        check(text);
        assert!(!text.contains("access_list"));
        assert!(!text.contains("resident_memory"));
    }
}
