//! Announce and scrape query strings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackseed::wire::query::{parse_announce, scrape_hashes};

fuzz_target!(|data: &[u8]| {
    let _ = parse_announce(data);
    let _ = scrape_hashes(data).count();
});
