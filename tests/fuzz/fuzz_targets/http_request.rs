//! HTTP request head scanning and parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackseed::wire::http::{head_len, parse_request};

fuzz_target!(|data: &[u8]| {
    if let Some(n) = head_len(data) {
        assert!(n <= data.len());
        let _ = parse_request(&data[..n]);
    }
    let _ = parse_request(data);
});
