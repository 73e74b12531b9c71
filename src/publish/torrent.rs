//! The `.torrent` of a published entry: its info dictionary (what mktorrent would write for the
//! same files and piece length) wrapped with the site's announce URLs and the `.info` options.

use super::catalog::SiteCatalog;
use super::info_file::InfoSettings;
use crate::ids::InfoHash;
use crate::metainfo::create::{self, Options};
use crate::metainfo::{Layout, NameError};

/// BEP 12 tiers: the site's HTTP tracker, its UDP tracker, then the `.info` file's extra
/// trackers.
pub fn announce_tiers(sc: &SiteCatalog, settings: &InfoSettings) -> Vec<Vec<String>> {
    let [http, udp] = sc.announce_urls();
    let mut tiers = vec![vec![http], vec![udp]];
    tiers.extend(settings.trackers.iter().filter(|t| !t.is_empty()).cloned());
    tiers
}

/// Everything around the info dictionary.
pub fn options(sc: &SiteCatalog, settings: &InfoSettings) -> Options {
    Options {
        announce: announce_tiers(sc, settings),
        comment: settings.comment.clone(),
        is_private: settings.is_private,
        url_list: settings.web_seeds.clone(),
        created_by: Some(format!("trackseed {}", env!("CARGO_PKG_VERSION"))),
        creation_date: i64::try_from(crate::clock::unix_secs()).ok(),
        piece_length: settings.piece_length,
    }
}

/// The info hash and the whole `.torrent` file.
pub fn build(
    sc: &SiteCatalog,
    layout: &Layout,
    piece_length: u32,
    pieces: &[u8],
    settings: &InfoSettings,
) -> Result<(InfoHash, Vec<u8>), NameError> {
    let mut info = Vec::with_capacity(pieces.len() + 256);
    create::info_dict(layout, piece_length, pieces, settings.is_private, &mut info)?;
    let bytes = create::torrent_file(&info, &options(sc, settings));
    Ok((create::info_hash(&info), bytes))
}
