use super::*;

fn hash(i: u32) -> InfoHash {
    let mut h = [0u8; 20];
    h[..4].copy_from_slice(&i.to_be_bytes());
    h[19] = 0xab;
    InfoHash(h)
}

fn v4(i: u32, port: u16) -> PeerAddr {
    PeerAddr::new(std::net::Ipv4Addr::from(0x0a00_0000 + i).into(), port)
}

fn ann(t: u32, peer: PeerAddr, is_seeder: bool, event: Event) -> Announce {
    Announce {
        info_hash: hash(t),
        peer,
        is_seeder,
        event,
    }
}

fn peers_of(
    s: &mut Swarms,
    r: TorrentRef,
    who: PeerAddr,
    seeder: bool,
    want: usize,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    s.select(r, !who.is_v4(), &who, seeder, want, &mut |a| {
        out.push(a.to_vec())
    });
    out
}

#[test]
fn announce_counts_and_never_returns_self() {
    let mut s = Swarms::new(10, 100, 1800).unwrap();
    let now = Secs(0);
    let (r, c) = s
        .announce(&ann(1, v4(1, 1), false, Event::Started), now)
        .unwrap();
    assert_eq!(
        c,
        Counts {
            seeders: 0,
            leechers: 1,
            downloaded: 0
        }
    );
    let r = r.unwrap();
    assert!(peers_of(&mut s, r, v4(1, 1), false, 50).is_empty());
    let (r2, c) = s
        .announce(&ann(1, v4(2, 2), true, Event::Started), now)
        .unwrap();
    assert_eq!(
        c,
        Counts {
            seeders: 1,
            leechers: 1,
            downloaded: 0
        }
    );
    let got = peers_of(&mut s, r2.unwrap(), v4(2, 2), true, 50);
    assert_eq!(got, vec![v4(1, 1).bytes().to_vec()]);
    // A re-announce from the same address is the same peer.
    let (_, c) = s
        .announce(&ann(1, v4(1, 1), false, Event::None), now)
        .unwrap();
    assert_eq!(c.leechers, 1);
    assert_eq!(s.peer_count(), 2);
    assert_eq!(s.torrent_count(), 1);
}

#[test]
fn seeders_get_leechers_only() {
    let mut s = Swarms::new(10, 100, 1800).unwrap();
    for i in 0..5 {
        s.announce(&ann(1, v4(i, 1), true, Event::None), Secs(0))
            .unwrap();
    }
    s.announce(&ann(1, v4(10, 1), false, Event::None), Secs(0))
        .unwrap();
    let (r, _) = s
        .announce(&ann(1, v4(11, 1), true, Event::None), Secs(0))
        .unwrap();
    let got = peers_of(&mut s, r.unwrap(), v4(11, 1), true, 50);
    assert_eq!(got, vec![v4(10, 1).bytes().to_vec()]);
    let got = peers_of(&mut s, r.unwrap(), v4(10, 1), false, 50);
    assert_eq!(got.len(), 6);
}

#[test]
fn completed_counts_once_and_stopped_removes() {
    let mut s = Swarms::new(10, 100, 1800).unwrap();
    s.announce(&ann(1, v4(1, 1), false, Event::Started), Secs(0))
        .unwrap();
    let (_, c) = s
        .announce(&ann(1, v4(1, 1), true, Event::Completed), Secs(1))
        .unwrap();
    assert_eq!(
        c,
        Counts {
            seeders: 1,
            leechers: 0,
            downloaded: 1
        }
    );
    let (_, c) = s
        .announce(&ann(1, v4(1, 1), true, Event::Completed), Secs(2))
        .unwrap();
    assert_eq!(c.downloaded, 1, "a seeder completing again does not count");
    let (r, c) = s
        .announce(&ann(1, v4(1, 1), true, Event::Stopped), Secs(3))
        .unwrap();
    assert_eq!(
        c,
        Counts {
            seeders: 0,
            leechers: 0,
            downloaded: 1
        }
    );
    assert!(r.is_some(), "kept: it has a completion");
    assert_eq!(s.peer_count(), 0);
    // Stopped on an unknown torrent creates nothing.
    let (r, c) = s
        .announce(&ann(2, v4(1, 1), false, Event::Stopped), Secs(3))
        .unwrap();
    assert!(r.is_none());
    assert_eq!(c, Counts::default());
    assert_eq!(s.torrent_count(), 1);
}

#[test]
fn full_tables_refuse_newcomers_and_keep_existing_swarms() {
    let mut s = Swarms::new(2, 3, 1800).unwrap();
    s.announce(&ann(1, v4(1, 1), false, Event::None), Secs(0))
        .unwrap();
    s.announce(&ann(2, v4(2, 1), false, Event::None), Secs(0))
        .unwrap();
    assert_eq!(
        s.announce(&ann(3, v4(3, 1), false, Event::None), Secs(0))
            .unwrap_err(),
        Refusal::TorrentTableFull
    );
    s.announce(&ann(1, v4(3, 1), false, Event::None), Secs(0))
        .unwrap();
    assert_eq!(
        s.announce(&ann(1, v4(4, 1), false, Event::None), Secs(0))
            .unwrap_err(),
        Refusal::PeerTableFull
    );
    // Existing peers still re-announce and switch to seeding.
    let (_, c) = s
        .announce(&ann(1, v4(3, 1), true, Event::Completed), Secs(0))
        .unwrap();
    assert_eq!(
        c,
        Counts {
            seeders: 1,
            leechers: 1,
            downloaded: 1
        }
    );
    assert_eq!(s.peer_count(), 3);
    assert_eq!(s.torrent_count(), 2);
}

#[test]
fn peers_expire_after_one_and_a_half_to_two_intervals() {
    // interval 10 s: slots of 5 s, a peer lives 15..20 s after its last announce.
    let mut s = Swarms::new(10, 100, 10).unwrap();
    s.announce(&ann(1, v4(1, 1), false, Event::None), Secs(4))
        .unwrap();
    s.announce(&ann(1, v4(2, 1), false, Event::None), Secs(4))
        .unwrap();
    s.announce(&ann(1, v4(2, 1), false, Event::None), Secs(12))
        .unwrap();
    assert_eq!(s.scrape(&hash(1), Secs(19)).unwrap().leechers, 2);
    assert_eq!(
        s.scrape(&hash(1), Secs(20)).unwrap().leechers,
        1,
        "peer 1 expired"
    );
    assert_eq!(s.peer_count(), 1);
    assert_eq!(s.scrape(&hash(1), Secs(29)).unwrap().leechers, 1);
    s.sweep(Secs(30), 100);
    assert_eq!(s.peer_count(), 0);
    assert_eq!(s.torrent_count(), 0, "empty torrent removed by the sweep");
    assert!(s.scrape(&hash(1), Secs(30)).is_none());
}

#[test]
fn torrent_index_survives_many_inserts_and_removals() {
    let mut s = Swarms::new(64, 1000, 1800).unwrap();
    for round in 0..20u32 {
        for i in 0..64 {
            s.announce(&ann(round * 100 + i, v4(i, 1), false, Event::None), Secs(0))
                .unwrap();
        }
        assert_eq!(s.torrent_count(), 64);
        for i in 0..64 {
            assert!(s.scrape(&hash(round * 100 + i), Secs(0)).is_some());
        }
        for i in (0..64).rev().step_by(1) {
            s.announce(
                &ann(round * 100 + i, v4(i, 1), false, Event::Stopped),
                Secs(0),
            )
            .unwrap();
        }
        assert_eq!(s.torrent_count(), 0);
        assert_eq!(s.peer_count(), 0);
    }
}

#[test]
fn large_swarm_selection_is_bounded_distinct_and_rotates() {
    let mut s = Swarms::new(10, 10_000, 1800).unwrap();
    let mut r = None;
    for i in 0..1000 {
        r = s
            .announce(&ann(1, v4(i, 7), i % 3 == 0, Event::None), Secs(0))
            .unwrap()
            .0;
    }
    let r = r.unwrap();
    let me = v4(5000, 1);
    let first = peers_of(&mut s, r, me, false, 50);
    assert_eq!(first.len(), 50);
    let mut dedup = first.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 50, "no duplicates");
    let second = peers_of(&mut s, r, me, false, 50);
    assert_eq!(second.len(), 50);
    assert_ne!(first, second, "the next announce sees other peers");
    // A seeder gets leechers only, even from a large swarm.
    let seeder = v4(0, 7);
    for _ in 0..30 {
        let got = peers_of(&mut s, r, seeder, true, 50);
        assert_eq!(got.len(), 50);
        for a in got {
            let i = u32::from_be_bytes([a[0], a[1], a[2], a[3]]) - 0x0a00_0000;
            assert!(i % 3 != 0, "peer {i} is a seeder");
        }
    }
}

#[test]
fn v6_peers_live_beside_v4() {
    let mut s = Swarms::new(10, 100, 1800).unwrap();
    let p6 = PeerAddr::new("2001:db8::7".parse().unwrap(), 6881);
    s.announce(&ann(1, v4(1, 1), false, Event::None), Secs(0))
        .unwrap();
    let (r, c) = s.announce(&ann(1, p6, true, Event::None), Secs(0)).unwrap();
    assert_eq!(
        c,
        Counts {
            seeders: 1,
            leechers: 1,
            downloaded: 0
        }
    );
    let r = r.unwrap();
    assert_eq!(peers_of(&mut s, r, p6, true, 50), Vec::<Vec<u8>>::new());
    let mut got = Vec::new();
    s.select(r, false, &p6, true, 50, &mut |a| got.push(a.to_vec()));
    assert_eq!(got, vec![v4(1, 1).bytes().to_vec()]);
    let mut got6 = Vec::new();
    s.select(r, true, &v4(1, 1), false, 50, &mut |a| {
        got6.push(a.to_vec())
    });
    assert_eq!(got6, vec![p6.bytes().to_vec()]);
}

/// Random operations against a simple model: counts and membership always agree.
#[test]
fn random_operations_match_a_model() {
    use std::collections::HashMap;
    let mut s = Swarms::new(8, 200, 10).unwrap();
    let mut model: HashMap<(u32, [u8; 6]), (bool, u32)> = HashMap::new();
    let mut x: u32 = 0x1234_5678;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut now = 0u32;
    for _ in 0..20_000 {
        if rnd() % 50 == 0 {
            now += 1;
        }
        let t = rnd() % 10;
        let p = v4(rnd() % 40, 1);
        let key = (t, <[u8; 6]>::try_from(p.bytes()).unwrap());
        let seeder = rnd() % 2 == 0;
        let ev = match rnd() % 6 {
            0 => Event::Stopped,
            1 => Event::Completed,
            _ => Event::None,
        };
        // Expire the model: slots of 5 s, a peer lives while now/5 - slot < 4.
        model.retain(|_, (_, slot)| now / 5 - *slot < 4);
        let live_peers = model.len() as u32;
        let torrents: std::collections::HashSet<u32> = model.keys().map(|k| k.0).collect();
        let res = s.announce(&ann(t, p, seeder, ev), Secs(now));
        match res {
            Ok(_) => {
                if ev == Event::Stopped {
                    model.remove(&key);
                } else {
                    model.insert(key, (seeder, now / 5));
                }
            }
            Err(Refusal::PeerTableFull) => assert!(live_peers >= 200 || !model.contains_key(&key)),
            Err(Refusal::TorrentTableFull) => assert!(torrents.len() >= 7, "{torrents:?}"),
        }
        if let Some(c) = s.scrape(&hash(t), Secs(now)) {
            let seeders = model.iter().filter(|(k, v)| k.0 == t && v.0).count() as u32;
            let leechers = model.iter().filter(|(k, v)| k.0 == t && !v.0).count() as u32;
            assert_eq!((c.seeders, c.leechers), (seeders, leechers));
        }
    }
}

#[test]
fn completed_torrents_without_peers_are_kept_a_day() {
    let mut s = Swarms::new(10, 100, 1800).unwrap();
    s.announce(&ann(1, v4(1, 1), true, Event::Completed), Secs(0))
        .unwrap();
    s.announce(&ann(1, v4(1, 1), true, Event::Stopped), Secs(10))
        .unwrap();
    s.sweep(Secs(3600), 10);
    assert_eq!(s.scrape(&hash(1), Secs(3600)).unwrap().downloaded, 1);
    s.sweep(Secs(23 * 3600), 10);
    assert_eq!(s.torrent_count(), 1, "kept for 24 hours");
    // A new peer after a long silence lands in the current slot and is not expired at once.
    s.announce(&ann(1, v4(2, 1), false, Event::None), Secs(23 * 3600 + 5))
        .unwrap();
    assert_eq!(s.scrape(&hash(1), Secs(23 * 3600 + 6)).unwrap().leechers, 1);
    s.announce(
        &ann(1, v4(2, 1), false, Event::Stopped),
        Secs(23 * 3600 + 7),
    )
    .unwrap();
    s.sweep(Secs(48 * 3600), 10);
    assert_eq!(s.torrent_count(), 0, "removed after 24 hours without peers");
}

// config/trackseed.conf and `Config` document this figure.
const _: () = assert!(TORRENT_RECORD_BYTES <= 128);

#[test]
fn renew_age_is_reported_to_the_slot() {
    let mut s = Swarms::new(10, 100, 1800).unwrap();
    s.announce(&ann(1, v4(1, 1), false, Event::None), Secs(0))
        .unwrap();
    assert_eq!(s.last_renew_age_secs, None, "new peer");
    s.announce(&ann(1, v4(1, 1), false, Event::None), Secs(1000))
        .unwrap();
    assert_eq!(s.last_renew_age_secs, Some(900), "one slot of 900 s later");
    s.announce(&ann(1, v4(1, 1), false, Event::None), Secs(1001))
        .unwrap();
    assert_eq!(s.last_renew_age_secs, Some(0));
}
