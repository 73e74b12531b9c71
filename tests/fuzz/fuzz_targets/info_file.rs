//! The `.info` file parser (ezt-compatible per-file settings).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = trackseed::publish::info_file::parse(data);
    for p in &parsed.problems {
        assert!(p.line >= 1);
    }
});
