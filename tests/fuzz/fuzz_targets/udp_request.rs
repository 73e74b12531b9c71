//! BEP 15 request parsing and every accessor of what it returns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackseed::wire::udp::{parse, Request};

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(Request::Announce(a)) => {
            let mut url = [0u8; 300];
            let _ = (
                a.info_hash(),
                a.peer_id(),
                a.left(),
                a.event(),
                a.num_want(),
                a.port(),
            );
            let n = a.url_data(&mut url);
            assert!(n <= url.len());
        }
        Ok(Request::Scrape(s)) => {
            let _ = s.info_hashes().count();
        }
        Ok(Request::Connect { .. }) | Err(_) => {}
    }
});
