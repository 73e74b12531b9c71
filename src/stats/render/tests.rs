//! Every mode against bodies captured from opentracker (2026 upstream, 1 s uptime, 3 torrents:
//! `opentracker-stats-samples.txt`), given the same numbers. Lines 1 to 3 must match byte for
//! byte; line 4 of the MRTG modes says `trackseed` where opentracker says `opentracker`.

use super::*;
use crate::stats::{parse_mode, parse_statedump_line, HttpError, Mode, Snapshot, Stats};

/// sha1("1"), sha1("0"), sha1("2"): the three torrents of the capture, by ascending hash.
const H1: &str = "356A192B7913B04C54574D18C28D46E6395428AB";
const H0: &str = "B6589FC6AB0DC82CF12099D1C2D40AB994E8410C";
const H2: &str = "DA4B9237BACCCDF19C0760CAB7AEC4A8359010B0";

fn hash(hex: &str) -> InfoHash {
    let mut h = InfoHash::default();
    for (i, b) in h.0.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    h
}

fn counts(seeders: u32, leechers: u32, downloaded: u32) -> Counts {
    Counts {
        seeders,
        leechers,
        downloaded,
    }
}

/// The captured swarm: H0 has 1 seed, 3 leechers and 1 completion; H1 and H2 one seed each.
fn captured() -> Vec<(InfoHash, Counts)> {
    vec![
        (hash(H1), counts(1, 0, 0)),
        (hash(H0), counts(1, 3, 1)),
        (hash(H2), counts(1, 0, 0)),
    ]
}

/// 3 torrents, 6 peers, 3 seeds, 1 s up.
fn snap() -> Snapshot {
    Snapshot {
        uptime_secs: 1,
        torrents: 3,
        peers: 6,
        seeds: 3,
        tracker_id: 186827076,
        ..Snapshot::default()
    }
}

fn run_with(mode: Mode, s: &Stats, snap: &Snapshot, list: &[(InfoHash, Counts)]) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_BODY_LEN];
    let mut out = Out::new(&mut buf);
    let mut it = list.iter().copied();
    let body = render(mode, s, snap, &mut || it.next(), &mut out);
    assert!(!out.is_overflow());
    let want = match mode {
        Mode::Everything => ContentType::Xml,
        _ => ContentType::Text,
    };
    assert_eq!(body, Body::Complete(want));
    out.written().to_vec()
}

fn run(mode: Mode, s: &Stats) -> Vec<u8> {
    run_with(mode, s, &snap(), &captured())
}

/// The sample with `opentracker` at the start of line 4 replaced by `trackseed`.
fn renamed(sample: &[u8]) -> Vec<u8> {
    let cut = sample.iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let line4 = sample[cut..].strip_prefix(b"opentracker").unwrap();
    [&sample[..cut], b"trackseed", line4].concat()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn stream(kind: StreamKind, list: &[(InfoHash, Counts)]) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut out = Out::new(&mut buf);
    stream_begin(kind, &mut out);
    for (h, c) in list {
        let before = out.len();
        stream_entry(kind, h, *c, &mut out);
        assert!(out.len() - before <= MAX_STREAM_ENTRY_LEN);
    }
    stream_end(kind, &mut out);
    assert!(!out.is_overflow());
    out.written().to_vec()
}

#[test]
fn peer_and_torr_match_opentracker() {
    let s = Stats::default();
    let peer = b"6\n3\nopentracker serving 3 torrents\nopentracker";
    assert_eq!(text(&run(Mode::Peer, &s)), text(&renamed(peer)));
    assert_eq!(
        run(Mode::Peer, &s),
        b"6\n3\nopentracker serving 3 torrents\ntrackseed"
    );
    let torr = b"3\n0\nopentracker serving 3 torrents\nopentracker";
    assert_eq!(text(&run(Mode::Torr, &s)), text(&renamed(torr)));
}

#[test]
fn connection_modes_match_opentracker() {
    // At the `conn` request: 13 TCP accepts, 5 UDP packets, 8 HTTP announces, 1 UDP announce,
    // 2 UDP connects.
    let s = Stats {
        tcp_accepts: 13,
        udp_packets: 5,
        http_announces: 8,
        udp_announces: 1,
        udp_connects: 2,
        ..Stats::default()
    };
    let conn = b"18\n11\n1 seconds (0 hours)\nopentracker connections, 18 conns/s :: 11 success/s.";
    assert_eq!(text(&run(Mode::Conn, &s)), text(&renamed(conn)));
    let udp4 = b"5\n3\n1 seconds (0 hours)\nopentracker udp4 stats, 5 conns/s :: 3 success/s.";
    assert_eq!(text(&run(Mode::Udp4, &s)), text(&renamed(udp4)));

    let s = Stats {
        tcp_accepts: 16,
        ..s
    };
    let tcp4 = b"16\n8\n1 seconds (0 hours)\nopentracker tcp4 stats, 16 conns/s :: 8 success/s.";
    assert_eq!(text(&run(Mode::Tcp4, &s)), text(&renamed(tcp4)));

    // `syncs` repeats `conn`'s line 4; by then 21 TCP accepts.
    let s = Stats {
        tcp_accepts: 21,
        ..s
    };
    let syncs = b"0\n0\n1 seconds (0 hours)\nopentracker connections, 26 conns/s :: 11 success/s.";
    assert_eq!(text(&run(Mode::Syncs, &s)), text(&renamed(syncs)));
}

#[test]
fn scrape_and_completion_modes_match_opentracker() {
    let s = Stats {
        http_scrapes: 1,
        udp_scrapes: 1,
        completed: 1,
        ..Stats::default()
    };
    let scrp = b"1\n1\n1 seconds (0 hours)\nopentracker scrape stats, 2 scrape/s (tcp and udp)";
    assert_eq!(text(&run(Mode::Scrp, &s)), text(&renamed(scrp)));
    let fscr = b"0\n0\n1 seconds (0 hours)\nopentracker full scrape stats, 0 conns/s :: 0 bytes/s.";
    assert_eq!(text(&run(Mode::Fscr, &s)), text(&renamed(fscr)));
    let completed = b"1\n0\n1 seconds (0 hours)\nopentracker, 1 completed/h.";
    assert_eq!(text(&run(Mode::Completed, &s)), text(&renamed(completed)));
}

#[test]
fn rates_divide_by_uptime_at_least_one() {
    let s = Stats {
        tcp_accepts: 7200,
        http_full_scrapes: 3,
        full_scrape_bytes: 7200 * 5,
        completed: 10,
        ..Stats::default()
    };
    let at = |t: u32| Snapshot {
        uptime_secs: t,
        ..snap()
    };
    let tcp4 = run_with(Mode::Tcp4, &s, &at(0), &[]);
    assert_eq!(
        text(&tcp4),
        "7200\n0\n0 seconds (0 hours)\ntrackseed tcp4 stats, 7200 conns/s :: 0 success/s."
    );
    let tcp4 = run_with(Mode::Tcp4, &s, &at(7200), &[]);
    assert_eq!(
        text(&tcp4),
        "7200\n0\n7200 seconds (2 hours)\ntrackseed tcp4 stats, 1 conns/s :: 0 success/s."
    );
    let fscr = run_with(Mode::Fscr, &s, &at(7200), &[]);
    assert_eq!(
        text(&fscr),
        "3000\n36000\n7200 seconds (2 hours)\ntrackseed full scrape stats, 0 conns/s :: 5 bytes/s."
    );
    // Completions per hour: by whole hours, at least one.
    let c = run_with(Mode::Completed, &s, &at(3599), &[]);
    assert!(text(&c).ends_with("\ntrackseed, 10 completed/h."));
    let c = run_with(Mode::Completed, &s, &at(7200), &[]);
    assert!(text(&c).ends_with("\ntrackseed, 5 completed/h."));
}

#[test]
fn mrtg_modes_have_four_lines_and_no_trailing_newline() {
    let s = Stats::default();
    for mode in [
        Mode::Peer,
        Mode::Torr,
        Mode::Conn,
        Mode::Udp4,
        Mode::Tcp4,
        Mode::Scrp,
        Mode::Fscr,
        Mode::Completed,
        Mode::Syncs,
        Mode::Busy,
    ] {
        let b = run(mode, &s);
        assert_eq!(b.iter().filter(|&&c| c == b'\n').count(), 3, "{mode:?}");
        assert_ne!(b.last(), Some(&b'\n'), "{mode:?}");
        let last = b.split(|&c| c == b'\n').next_back().unwrap();
        assert!(last.starts_with(b"trackseed"), "{mode:?}");
    }
}

#[test]
fn busy_counts_connections_and_queued_work() {
    let snap = Snapshot {
        uptime_secs: 3700,
        open_connections: 12,
        queued_work: 3,
        ..snap()
    };
    assert_eq!(
        text(&run_with(Mode::Busy, &Stats::default(), &snap, &[])),
        "12\n3\n3700 seconds (1 hours)\ntrackseed busy, 12 connections :: 3 queued."
    );
}

#[test]
fn version_names_trackseed_and_target() {
    let v = run(Mode::Version, &Stats::default());
    assert_eq!(v, crate::stats::VERSION_LINE.as_bytes());
    assert!(text(&v).contains(env!("TRACKSEED_TARGET")));
}

#[test]
fn herr_matches_opentracker() {
    let mut s = Stats::default();
    s.record_http_error(HttpError::CompactZero);
    let herr = b"302 RED 0\n400 ... 0\n400 PAR 0\n400 COM 1\n403 IP  0\n404 INV 0\n500 SRV 0\n";
    assert_eq!(text(&run(Mode::Herr, &s)), text(herr));
    // Each label shows its own counter.
    let mut s = Stats::default();
    for (e, n) in HttpError::ALL.into_iter().zip(1..) {
        for _ in 0..n {
            s.record_http_error(e);
        }
    }
    assert_eq!(
        text(&run(Mode::Herr, &s)),
        "302 RED 1\n400 ... 2\n400 PAR 3\n400 COM 4\n403 IP  5\n404 INV 6\n500 SRV 7\n"
    );
}

#[test]
fn renew_matches_opentracker() {
    let mut want = String::new();
    for i in 0..45 {
        want += &format!("{i:02} 0\n");
    }
    assert_eq!(want.len(), 225);
    assert_eq!(text(&run(Mode::Renew, &Stats::default())), want);
    let mut s = Stats::default();
    s.record_renew(3);
    s.record_renew(60);
    let r = text(&run(Mode::Renew, &s));
    assert!(r.contains("\n03 1\n") && r.ends_with("\n44 1\n"));
}

#[test]
fn numwants_matches_opentracker() {
    let mut s = Stats::default();
    for _ in 0..8 {
        s.record_numwant(50);
    }
    let b = text(&run(Mode::Numwants, &s));
    // The capture is cut after 1,000 bytes; its full length is 1,809.
    let mut want = String::new();
    for i in 0..=200 {
        want += &format!("{i:03} => {}\n", if i == 50 { 8 } else { 0 });
    }
    assert_eq!(want.len(), 1809);
    assert_eq!(b, want);
    assert!(b.starts_with("000 => 0\n001 => 0\n"));
    assert!(b.contains("\n049 => 0\n050 => 8\n051 => 0\n"));
}

#[test]
fn top10_matches_opentracker() {
    let top10 = "Top 10 torrents by peers:\n\
                 \t4\tB6589FC6AB0DC82CF12099D1C2D40AB994E8410C\n\
                 \t1\tDA4B9237BACCCDF19C0760CAB7AEC4A8359010B0\n\
                 \t1\t356A192B7913B04C54574D18C28D46E6395428AB\n\
                 Top 10 torrents by seeds:\n\
                 \t1\tDA4B9237BACCCDF19C0760CAB7AEC4A8359010B0\n\
                 \t1\tB6589FC6AB0DC82CF12099D1C2D40AB994E8410C\n\
                 \t1\t356A192B7913B04C54574D18C28D46E6395428AB\n\
                 Top 10 torrents by leechers:\n\
                 \t3\tB6589FC6AB0DC82CF12099D1C2D40AB994E8410C\n";
    assert_eq!(top10.len(), 389);
    // Whatever order the table is walked in.
    let list = captured();
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let walked: Vec<_> = order.iter().map(|&i| list[i]).collect();
        let b = run_with(Mode::Top10, &Stats::default(), &snap(), &walked);
        assert_eq!(text(&b), top10, "{order:?}");
    }
}

/// What top-N should print for one ranking: nonzero counts, largest first, ties by larger hash.
fn reference_top(list: &[(InfoHash, Counts)], n: usize, key: fn(&Counts) -> u32) -> String {
    let mut v: Vec<(u32, InfoHash)> = list
        .iter()
        .map(|(h, c)| (key(c), *h))
        .filter(|e| e.0 > 0)
        .collect();
    v.sort_by(|a, b| b.cmp(a));
    v.truncate(n);
    v.iter()
        .map(|(c, h)| {
            let hex: String = h.0.iter().map(|b| format!("{b:02X}")).collect();
            format!("\t{c}\t{hex}\n")
        })
        .collect()
}

fn random_swarm(n: usize, seed: u32, spread: u32) -> Vec<(InfoHash, Counts)> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    (0..n)
        .map(|_| {
            let mut h = InfoHash::default();
            for b in h.0.iter_mut() {
                *b = next() as u8;
            }
            (h, counts(next() % spread, next() % spread, next() % spread))
        })
        .collect()
}

#[test]
fn top_keeps_the_largest_with_ties_by_hash() {
    for (n, mode) in [(10, Mode::Top10), (100, Mode::Top100)] {
        // Small spreads make many ties; large lists push entries out of the ranking.
        for (len, spread) in [(0, 5), (5, 3), (150, 4), (1000, 3), (1000, 1000)] {
            let list = random_swarm(len, (len as u32) << 8 | spread, spread);
            let want = format!(
                "Top {n} torrents by peers:\n{}Top {n} torrents by seeds:\n{}\
                 Top {n} torrents by leechers:\n{}",
                reference_top(&list, n, |c| c.seeders + c.leechers),
                reference_top(&list, n, |c| c.seeders),
                reference_top(&list, n, |c| c.leechers),
            );
            let b = run_with(mode, &Stats::default(), &snap(), &list);
            assert_eq!(text(&b), want, "top{n} of {len} spread {spread}");
        }
    }
}

#[test]
fn everything_matches_opentracker() {
    // The capture up to where it was cut (after `<count interval="1`), with opentracker's
    // version line in `<version>`.
    const CAPTURED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<stats>\n  \
        <tracker_id>186827076</tracker_id>\n  <version>\n\
        https://erdgeist.org/gitweb/opentracker/commit/?id=_git_or_commit_not_found_\n  \
        </version>\n  <uptime>1</uptime>\n  <torrents>\n    <count_mutex>3</count_mutex>\n    \
        <count_iterator>3</count_iterator>\n  </torrents>\n  <peers>\n    <count>6</count>\n  \
        </peers>\n  <seeds>\n    <count>3</count>\n  </seeds>\n  <completed>\n    \
        <count>1</count>\n  </completed>\n  <connections>\n    <tcp>\n      \
        <accept>28</accept>\n      <announce>8</announce>\n      <scrape>1</scrape>\n    \
        </tcp>\n    <udp>\n      <overall>5</overall>\n      <connect>2</connect>\n      \
        <announce>1</announce>\n      <scrape>1</scrape>\n      <missmatch>1</missmatch>\n    \
        </udp>\n    <livesync>\n      <count>0</count>\n    </livesync>\n  </connections>\n  \
        <debug>\n    <renew>\n      <count interval=\"00\">0</count>\n";
    const OT_VERSION: &str =
        "https://erdgeist.org/gitweb/opentracker/commit/?id=_git_or_commit_not_found_\n";
    // Its Content-Length.
    const CAPTURED_LEN: usize = 3051;
    let mut s = Stats {
        completed: 1,
        tcp_accepts: 28,
        http_announces: 8,
        http_scrapes: 1,
        udp_packets: 5,
        udp_connects: 2,
        udp_announces: 1,
        udp_scrapes: 1,
        udp_bad_connection_id: 1,
        ..Stats::default()
    };
    s.record_http_error(HttpError::CompactZero);
    let b = text(&run(Mode::Everything, &s));
    let ours = "  <pieces_hashed>0</pieces_hashed>\n";
    assert!(b.ends_with(&format!("</debug>\n{ours}</stats>")), "{b}");
    let as_ot = b
        .replacen(crate::stats::VERSION_LINE, OT_VERSION, 1)
        .replacen(ours, "", 1);
    assert!(as_ot.starts_with(CAPTURED), "{as_ot}");
    assert_eq!(as_ot.len(), CAPTURED_LEN);
    assert!(as_ot.contains("      <count interval=\"44\">0</count>\n    </renew>\n"));
    assert!(as_ot.contains(
        "    <http_error>\n      <count code=\"302 Redirect\">0</count>\n      \
         <count code=\"400 Parse Error\">0</count>\n      \
         <count code=\"400 Invalid Parameter\">0</count>\n      \
         <count code=\"400 Invalid Parameter (compact=0)\">1</count>\n      \
         <count code=\"400 Not Modest\">0</count>\n      \
         <count code=\"402 Payment Required\">0</count>\n      \
         <count code=\"403 Access Denied\">0</count>\n      \
         <count code=\"404 Not found\">0</count>\n      \
         <count code=\"500 Internal Server Error\">0</count>\n    </http_error>\n"
    ));
    assert!(as_ot.ends_with(
        "    <mutex_stall>\n      <count>0</count>\n    </mutex_stall>\n  </debug>\n</stats>"
    ));
}

#[test]
fn statedump_matches_opentracker_and_reads_back() {
    let snap = Snapshot {
        unix_secs: 29920609 * 60 + 59,
        ..snap()
    };
    let mut buf = [0u8; 16];
    let mut out = Out::new(&mut buf);
    let mut none = || None;
    let body = render(
        Mode::Statedump,
        &Stats::default(),
        &snap,
        &mut none,
        &mut out,
    );
    assert!(out.is_empty());
    let kind = StreamKind::Statedump {
        base_minutes: 29920609,
    };
    assert_eq!(body, Body::Stream(kind));
    assert_eq!(kind.content_type().as_str(), "application/octet-stream");
    let b = stream(kind, &captured());
    let dump = format!("{H1}:29920609:0\n{H0}:29920609:1\n{H2}:29920609:0\n");
    assert_eq!(dump.len(), 0x9c);
    assert_eq!(text(&b), dump);
    let back: Vec<_> = b
        .split_inclusive(|&c| c == b'\n')
        .map(|l| parse_statedump_line(l).unwrap())
        .collect();
    let want: Vec<_> = captured().iter().map(|(h, c)| (*h, c.downloaded)).collect();
    assert_eq!(back, want);
}

#[test]
fn tpbs_formats_match_opentracker() {
    let list = captured();
    let kind = |q: &str| match parse_mode(q.as_bytes()).unwrap() {
        Mode::Tpbs(f) => StreamKind::Tpbs(f),
        m => panic!("{m:?}"),
    };
    let mut buf = [0u8; 16];
    let mut out = Out::new(&mut buf);
    let body = render(
        Mode::Tpbs(TpbsFormat::Txt),
        &Stats::default(),
        &snap(),
        &mut || None,
        &mut out,
    );
    assert_eq!(body, Body::Stream(StreamKind::Tpbs(TpbsFormat::Txt)));
    assert!(out.is_empty());

    let txt = format!("{H1}:1:0\n{H0}:1:3\n{H2}:1:0\n");
    assert_eq!(txt.len(), 0x87);
    assert_eq!(text(&stream(kind("mode=tpbs&format=txt"), &list)), txt);

    let txtp = format!("{H1}:1:0:0\n{H0}:1:3:1\n{H2}:1:0:0\n");
    assert_eq!(txtp.len(), 0x8d);
    assert_eq!(text(&stream(kind("mode=tpbs&format=txtp"), &list)), txtp);

    // As captured: each hash, then seeders and leechers as big-endian u32.
    let bin: &[u8] = b"5j\x19+y\x13\xb0LTWM\x18\xc2\x8dF\xe69T(\xab\
        \x00\x00\x00\x01\x00\x00\x00\x00\
        \xb6X\x9f\xc6\xab\r\xc8,\xf1 \x99\xd1\xc2\xd4\n\xb9\x94\xe8A\x0c\
        \x00\x00\x00\x01\x00\x00\x00\x03\
        \xdaK\x927\xba\xcc\xcd\xf1\x9c\x07`\xca\xb7\xae\xc4\xa85\x90\x10\xb0\
        \x00\x00\x00\x01\x00\x00\x00\x00";
    assert_eq!(bin.len(), 0x54);
    assert_eq!(stream(kind("mode=tpbs&format=bin"), &list), bin);

    // libowfat's fmt_urlencoded: `5j` and `y` stay, `+` and `(` are escaped, hex is lowercase.
    let url = "5j%19%2by%13%b0LTWM%18%c2%8dF%e69T%28%ab:1:0\n\
               %b6X%9f%c6%ab%0d%c8%2c%f1%20%99%d1%c2%d4%0a%b9%94%e8A%0c:1:3\n\
               %daK%927%ba%cc%cd%f1%9c%07%60%ca%b7%ae%c4%a85%90%10%b0:1:0\n";
    assert_eq!(text(&stream(kind("mode=tpbs&format=url"), &list)), url);
    let safe = InfoHash(*b"az09AZ$/.=~-_+ %:&?\x00");
    let b = stream(
        StreamKind::Tpbs(TpbsFormat::Url),
        &[(safe, counts(0, 0, 0))],
    );
    assert_eq!(text(&b), "az09AZ$/.=~-_%2b%20%25%3a%26%3f%00:0:0\n");

    // `ben` and no format: a full scrape.
    let mut ben = b"d5:filesd".to_vec();
    for (h, c) in &list {
        ben.extend_from_slice(b"20:");
        ben.extend_from_slice(&h.0);
        ben.extend_from_slice(
            format!(
                "d8:completei{}e10:downloadedi{}e10:incompletei{}ee",
                c.seeders, c.downloaded, c.leechers
            )
            .as_bytes(),
        );
    }
    ben.extend_from_slice(b"ee");
    assert_eq!(stream(kind("mode=tpbs&format=ben"), &list), ben);
    assert_eq!(stream(kind("mode=tpbs"), &list), ben);
    assert_eq!(stream(kind("mode=tpbs"), &[]), b"d5:filesdee");
}

#[test]
fn stream_entries_fit_their_bound() {
    let h = InfoHash([0xff; 20]);
    let c = counts(u32::MAX, u32::MAX, u32::MAX);
    let kinds = [
        StreamKind::Statedump {
            base_minutes: u64::MAX,
        },
        StreamKind::Tpbs(TpbsFormat::Bin),
        StreamKind::Tpbs(TpbsFormat::Ben),
        StreamKind::Tpbs(TpbsFormat::Url),
        StreamKind::Tpbs(TpbsFormat::Txt),
        StreamKind::Tpbs(TpbsFormat::Txtp),
    ];
    for kind in kinds {
        let mut buf = [0u8; MAX_STREAM_ENTRY_LEN];
        let mut out = Out::new(&mut buf);
        stream_entry(kind, &h, c, &mut out);
        assert!(!out.is_overflow(), "{kind:?}");
        assert_eq!(kind.content_type(), ContentType::OctetStream);
    }
}

/// Every mode that `render` writes whole.
const COMPLETE_MODES: [Mode; 17] = [
    Mode::Peer,
    Mode::Torr,
    Mode::Conn,
    Mode::Udp4,
    Mode::Tcp4,
    Mode::Scrp,
    Mode::Fscr,
    Mode::Completed,
    Mode::Syncs,
    Mode::Version,
    Mode::Herr,
    Mode::Renew,
    Mode::Top10,
    Mode::Top100,
    Mode::Everything,
    Mode::Busy,
    Mode::Numwants,
];

/// Counters and a snapshot as large as they get without overflowing a sum.
fn huge() -> (Stats, Snapshot) {
    let big = u64::MAX / 4;
    let mut s = Stats {
        tcp_accepts: big,
        tcp_refused_full: big,
        http_announces: big,
        http_scrapes: big,
        http_full_scrapes: big,
        http_errors: big,
        udp_packets: big,
        udp_connects: big,
        udp_announces: big,
        udp_scrapes: big,
        udp_bad_connection_id: big,
        udp_malformed: big,
        udp_send_dropped: big,
        refused_torrent_table_full: big,
        refused_peer_table_full: big,
        completed: big,
        full_scrape_bytes: big,
        syncs: big,
        ..Stats::default()
    };
    s.http_errors_by_code = [u64::MAX; crate::stats::HTTP_ERROR_SLOTS];
    s.renew = [u64::MAX; crate::stats::RENEW_MINUTES];
    s.numwants = [u64::MAX; crate::stats::NUMWANT_BUCKETS];
    let snap = Snapshot {
        uptime_secs: u32::MAX,
        unix_secs: u64::MAX,
        torrents: u64::MAX,
        peers: u64::MAX,
        seeds: u64::MAX,
        open_connections: u64::MAX,
        queued_work: u64::MAX,
        tracker_id: u32::MAX,
        access_list: None,
        rss_bytes: Some(u64::MAX),
    };
    (s, snap)
}

#[test]
fn every_complete_mode_fits() {
    let (s, snap) = huge();
    // 100 torrents of ordinary size: everything but top100 fits in 8 KiB.
    let list = random_swarm(100, 7, 100_000);
    for mode in COMPLETE_MODES {
        let mut buf = [0u8; 8192];
        let mut out = Out::new(&mut buf);
        let mut it = list.iter().copied();
        render(mode, &s, &snap, &mut || it.next(), &mut out);
        let fits = !out.is_overflow();
        assert_eq!(fits, mode != Mode::Top100, "{mode:?}: {} bytes", out.len());
    }
    // The worst case of every mode, top100 with 300 ten-digit counts, fits MAX_BODY_LEN.
    let max = u32::MAX / 2;
    let list: Vec<_> = random_swarm(300, 9, 1)
        .into_iter()
        .map(|(h, _)| (h, counts(max, max, max)))
        .collect();
    for mode in COMPLETE_MODES {
        let mut buf = vec![0u8; MAX_BODY_LEN];
        let mut out = Out::new(&mut buf);
        let mut it = list.iter().copied();
        let body = render(mode, &s, &snap, &mut || it.next(), &mut out);
        assert!(!out.is_overflow(), "{mode:?}");
        assert!(matches!(body, Body::Complete(_)));
        if mode == Mode::Top100 {
            assert_eq!(out.len(), 84 + 300 * 53);
        }
    }
}

#[test]
fn only_top_modes_walk_the_torrents() {
    let (s, snap) = huge();
    for mode in COMPLETE_MODES {
        let mut calls = 0;
        let mut buf = vec![0u8; MAX_BODY_LEN];
        let mut out = Out::new(&mut buf);
        render(
            mode,
            &s,
            &snap,
            &mut || {
                calls += 1;
                None
            },
            &mut out,
        );
        let walks = matches!(mode, Mode::Top10 | Mode::Top100);
        assert_eq!(calls > 0, walks, "{mode:?}");
    }
}
