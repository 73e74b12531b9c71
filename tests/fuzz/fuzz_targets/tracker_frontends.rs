//! Both front ends end to end against small tables: arbitrary datagrams and request heads from
//! a few source addresses must never panic, and a UDP reply to a packet without a valid
//! connection id is never larger than the packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;
use trackseed::clock::Secs;
use trackseed::config::Config;
use trackseed::tracker::conn_id::ConnectionIds;
use trackseed::tracker::{http, udp, Tracker};
use trackseed::wire::Out;

fuzz_target!(|data: &[u8]| {
    let config = Config {
        max_torrents: 4,
        max_peers: 8,
        ..Config::default()
    };
    let mut t = Tracker::new(&config).unwrap();
    let ids = ConnectionIds::new();
    let mut out = vec![0u8; 4096];
    for (i, part) in data.split(|&b| b == 0xff).enumerate() {
        let from: SocketAddr = if i % 2 == 0 {
            "10.0.0.1:1"
        } else {
            "[2001:db8::1]:2"
        }
        .parse()
        .unwrap();
        let now = Secs(i as u32);
        let n = udp::handle(
            &mut t,
            &ids,
            part,
            from,
            now,
            &mut out[..udp::MAX_REPLY_LEN],
        );
        let is_connect = part.len() >= 16 && part[8..12] == [0, 0, 0, 0];
        assert!(is_connect || n <= part.len());
        let mut o = Out::new(&mut out);
        let _ = http::handle(&mut t, part, from, 6969, now, &mut o);
    }
});
