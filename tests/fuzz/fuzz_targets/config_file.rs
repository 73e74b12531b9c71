//! The config file parser, and validation of whatever it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = trackseed::config::parse(data) {
        let _ = parsed.config.validate();
    }
});
