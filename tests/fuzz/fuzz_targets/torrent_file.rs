//! The `.torrent` file reader, and re-wrapping what it accepts as the publisher does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackseed::metainfo::{create, read};

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = read::parse_torrent(data) {
        let info = read::info_bytes(data, &t);
        assert_eq!(create::info_hash(info), t.info_hash);
        let opts = create::Options {
            announce: t.announce.clone(),
            comment: t.comment.clone(),
            url_list: t.url_list.clone(),
            ..create::Options::default()
        };
        let again = read::parse_torrent(&create::torrent_file(info, &opts))
            .expect("a re-wrapped info dictionary reads back");
        assert_eq!(again.info_hash, t.info_hash);
        assert_eq!(again.layout, t.layout);
    }
});
