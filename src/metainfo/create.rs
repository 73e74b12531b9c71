//! Writing the bencoded info dictionary and `.torrent` file (BEP 3, 12, 19, 27).
//!
//! Dictionary keys are written in sorted (byte) order, as bencode requires. The output is
//! allocated (`Vec<u8>`): this is the publisher's path, not the announce path.

use super::{Layout, NameError};
use crate::ids::InfoHash;

/// What goes into a `.torrent` file around the info dictionary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Tracker tiers (BEP 12). The first URL of the first non-empty tier is `announce`;
    /// `announce-list` holds every non-empty tier, and is written only when there is more
    /// than one URL in total (as mktorrent does).
    pub announce: Vec<Vec<String>>,
    pub comment: Option<String>,
    /// BEP 27 `private` = 1 in the info dictionary (it changes the info hash).
    pub is_private: bool,
    /// BEP 19 web seeds: one URL is written as a string, several as a list (as mktorrent does).
    pub url_list: Vec<String>,
    pub created_by: Option<String>,
    /// Seconds since the Unix epoch.
    pub creation_date: Option<i64>,
    /// Overrides [`super::piece_length_for`].
    pub piece_length: Option<u32>,
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(s.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(s);
}

/// Bencode integers are read as signed 64-bit by every client; no file is 8 EiB long.
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn put_int(out: &mut Vec<u8>, v: i64) {
    out.push(b'i');
    out.extend_from_slice(v.to_string().as_bytes());
    out.push(b'e');
}

/// Appends the bencoded info dictionary of `layout` to `out`: keys `files` (multi-file, each
/// `d6:lengthi..e4:pathl...ee`) or `length` (single-file), `name`, `piece length`, `pieces`,
/// and `private` = 1 when `is_private`. Every name is checked first with
/// [`super::check_component`]; on error nothing is written.
pub fn info_dict(
    layout: &Layout,
    piece_length: u32,
    pieces: &[u8],
    is_private: bool,
    out: &mut Vec<u8>,
) -> Result<(), NameError> {
    layout.check_names()?;
    out.push(b'd');
    if layout.is_single_file {
        put_str(out, b"length");
        put_int(out, to_i64(layout.total_length()));
    } else {
        put_str(out, b"files");
        out.push(b'l');
        for f in &layout.files {
            out.push(b'd');
            put_str(out, b"length");
            put_int(out, to_i64(f.length));
            put_str(out, b"path");
            out.push(b'l');
            for c in &f.path {
                put_str(out, c.as_bytes());
            }
            out.extend_from_slice(b"ee");
        }
        out.push(b'e');
    }
    put_str(out, b"name");
    put_str(out, layout.name.as_bytes());
    put_str(out, b"piece length");
    put_int(out, i64::from(piece_length));
    put_str(out, b"pieces");
    put_str(out, pieces);
    if is_private {
        put_str(out, b"private");
        put_int(out, 1);
    }
    out.push(b'e');
    Ok(())
}

/// The info hash: SHA-1 of the bencoded info dictionary.
pub fn info_hash(info: &[u8]) -> InfoHash {
    InfoHash(sha1_smol::Sha1::from(info).digest().bytes())
}

/// A whole `.torrent` file around the bencoded info dictionary `info` (from [`info_dict`]).
/// Top-level keys, sorted: `announce`, `announce-list`, `comment`, `created by`,
/// `creation date`, `info`, `url-list`; absent options are left out.
pub fn torrent_file(info: &[u8], opts: &Options) -> Vec<u8> {
    let mut out = Vec::with_capacity(info.len() + 256);
    out.push(b'd');
    let tiers: Vec<&Vec<String>> = opts.announce.iter().filter(|t| !t.is_empty()).collect();
    if let Some(first) = tiers.first() {
        put_str(&mut out, b"announce");
        put_str(&mut out, first[0].as_bytes());
        if tiers.iter().map(|t| t.len()).sum::<usize>() > 1 {
            put_str(&mut out, b"announce-list");
            out.push(b'l');
            for t in &tiers {
                out.push(b'l');
                for url in t.iter() {
                    put_str(&mut out, url.as_bytes());
                }
                out.push(b'e');
            }
            out.push(b'e');
        }
    }
    if let Some(c) = &opts.comment {
        put_str(&mut out, b"comment");
        put_str(&mut out, c.as_bytes());
    }
    if let Some(c) = &opts.created_by {
        put_str(&mut out, b"created by");
        put_str(&mut out, c.as_bytes());
    }
    if let Some(d) = opts.creation_date {
        put_str(&mut out, b"creation date");
        put_int(&mut out, d);
    }
    put_str(&mut out, b"info");
    out.extend_from_slice(info);
    match opts.url_list.as_slice() {
        [] => {}
        [one] => {
            put_str(&mut out, b"url-list");
            put_str(&mut out, one.as_bytes());
        }
        many => {
            put_str(&mut out, b"url-list");
            out.push(b'l');
            for u in many {
                put_str(&mut out, u.as_bytes());
            }
            out.push(b'e');
        }
    }
    out.push(b'e');
    out
}

#[cfg(test)]
mod tests {
    use super::super::FileEntry;
    use super::*;

    fn single() -> Layout {
        Layout {
            name: "e".into(),
            files: vec![FileEntry {
                path: vec![],
                length: 0,
            }],
            is_single_file: true,
        }
    }

    #[test]
    fn single_file_info_matches_mktorrent_bytes() {
        let mut info = Vec::new();
        info_dict(&single(), 32768, &[], false, &mut info).unwrap();
        assert_eq!(
            info,
            b"d6:lengthi0e4:name1:e12:piece lengthi32768e6:pieces0:e".as_slice()
        );
        info.clear();
        info_dict(&single(), 32768, &[], true, &mut info).unwrap();
        assert_eq!(
            info,
            b"d6:lengthi0e4:name1:e12:piece lengthi32768e6:pieces0:7:privatei1ee".as_slice()
        );
    }

    #[test]
    fn multi_file_info_key_order() {
        let l = Layout {
            name: "d".into(),
            files: vec![
                FileEntry {
                    path: vec!["B".into(), "a".into()],
                    length: 1,
                },
                FileEntry {
                    path: vec!["a b".into()],
                    length: 0,
                },
            ],
            is_single_file: false,
        };
        let mut info = Vec::new();
        info_dict(&l, 16384, &[7; 20], false, &mut info).unwrap();
        let mut want = b"d5:filesld6:lengthi1e4:pathl1:B1:aeed6:lengthi0e4:pathl3:a beee\
4:name1:d12:piece lengthi16384e6:pieces20:"
            .to_vec();
        want.extend_from_slice(&[7; 20]);
        want.push(b'e');
        assert_eq!(info, want);
        assert_eq!(
            info_hash(&info).0,
            sha1_smol::Sha1::from(&info).digest().bytes()
        );
    }

    #[test]
    fn bad_names_write_nothing() {
        let mut l = single();
        l.name = "../x".into();
        let mut info = Vec::new();
        assert_eq!(
            info_dict(&l, 16384, &[], false, &mut info),
            Err(NameError::Separator)
        );
        assert!(info.is_empty());
    }

    #[test]
    fn torrent_file_key_order() {
        let info = b"de";
        let opts = Options {
            announce: vec![vec!["http://x/a".into(), "http://z/a".into()], vec![]],
            comment: Some("hi".into()),
            is_private: true,
            url_list: vec!["http://w/1".into()],
            created_by: Some("mktorrent 1.1".into()),
            creation_date: Some(1795249052),
            piece_length: None,
        };
        assert_eq!(
            torrent_file(info, &opts),
            b"d8:announce10:http://x/a13:announce-listll10:http://x/a10:http://z/aee\
7:comment2:hi10:created by13:mktorrent 1.113:creation datei1795249052e4:infode\
8:url-list10:http://w/1e"
                .as_slice()
        );
        // One URL: no announce-list; several web seeds: a list; nothing optional: just info.
        let opts = Options {
            announce: vec![vec!["http://x/a".into()]],
            url_list: vec!["http://w/1".into(), "http://w/2".into()],
            ..Options::default()
        };
        assert_eq!(
            torrent_file(info, &opts),
            b"d8:announce10:http://x/a4:infode8:url-listl10:http://w/110:http://w/2ee".as_slice()
        );
        assert_eq!(
            torrent_file(info, &Options::default()),
            b"d4:infodee".as_slice()
        );
    }
}
