//! The hash cache: for each entry a site published, what it looked like ([`Signature`]) and what
//! hashing it gave (info hash, `.torrent` length), so a restart re-hashes nothing that did not
//! change. It is a text file beside the `.torrent` files it describes,
//! `TORRENTDIR/.trackseed-hashes` (a dotfile: never taken for a torrent, and it goes wherever
//! the torrent directory goes).
//!
//! # Format
//! A comment line, then one line per entry:
//! `HASH TOTAL FILES DIGEST TORRENTLEN NAME` — the info hash in 40 hex digits, the content
//! length, the file count, the signature digest in 16 hex digits, the `.torrent` file's length,
//! and the entry's name percent-encoded (`%`, controls, spaces and non-ASCII bytes). A line that
//! does not parse is skipped: the entry is hashed again, nothing worse.

use super::signature::Signature;
use crate::ids::InfoHash;
use crate::wire::hex_digit;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The cache file's name inside a torrent directory.
pub const FILE_NAME: &str = ".trackseed-hashes";
const HEADER: &str =
    "# trackseed hash cache v1: info_hash total_len files digest torrent_len name\n";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheEntry {
    pub name: String,
    pub sig: Signature,
    pub info_hash: InfoHash,
    pub torrent_len: u64,
}

/// The cache file of a torrent directory.
pub fn path_in(torrent_dir: &Path) -> PathBuf {
    torrent_dir.join(FILE_NAME)
}

fn hex(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = hex_digit(pair[0])? << 4 | hex_digit(pair[1])?;
    }
    Some(out)
}

fn encode_name(name: &str, out: &mut String) {
    for &b in name.as_bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push('%');
            hex(&[b], out);
        }
    }
}

fn decode_name(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let pair = b.get(i + 1..i + 3)?;
            out.push(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// One line (without its newline) as an entry, if it is one.
pub fn parse_line(line: &str) -> Option<CacheEntry> {
    let mut f = line.split(' ');
    let info_hash = InfoHash(unhex::<20>(f.next()?)?);
    let total_len = f.next()?.parse().ok()?;
    let files = f.next()?.parse().ok()?;
    let digest = u64::from_be_bytes(unhex::<8>(f.next()?)?);
    let torrent_len = f.next()?.parse().ok()?;
    let name = decode_name(f.next()?)?;
    if f.next().is_some() || crate::metainfo::check_component(&name).is_err() {
        return None;
    }
    Some(CacheEntry {
        name,
        sig: Signature {
            total_len,
            files,
            digest,
        },
        info_hash,
        torrent_len,
    })
}

/// Every entry of a cache file's text; lines that do not parse are skipped.
pub fn parse(text: &str) -> Vec<CacheEntry> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(parse_line)
        .collect()
}

/// The text of a cache file holding `entries`.
pub fn format<'a>(entries: impl Iterator<Item = &'a CacheEntry>) -> String {
    let mut out = String::from(HEADER);
    for e in entries {
        hex(&e.info_hash.0, &mut out);
        out.push_str(&format!(
            " {} {} {:016x} {} ",
            e.sig.total_len, e.sig.files, e.sig.digest, e.torrent_len
        ));
        encode_name(&e.name, &mut out);
        out.push('\n');
    }
    out
}

/// Reads a torrent directory's cache; a missing file is an empty cache.
pub fn load(torrent_dir: &Path) -> io::Result<Vec<CacheEntry>> {
    match fs::read(path_in(torrent_dir)) {
        Ok(bytes) => Ok(parse(&String::from_utf8_lossy(&bytes))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over `path`. Readers (an external web server) see the old file or the new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Saves a torrent directory's cache.
pub fn save<'a>(
    torrent_dir: &Path,
    entries: impl Iterator<Item = &'a CacheEntry>,
) -> io::Result<()> {
    write_atomically(&path_in(torrent_dir), format(entries).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> CacheEntry {
        CacheEntry {
            name: name.into(),
            sig: Signature {
                total_len: 1 << 40,
                files: 3,
                digest: 0x0123_4567_89ab_cdef,
            },
            info_hash: InfoHash([0xa5; 20]),
            torrent_len: 4321,
        }
    }

    #[test]
    fn round_trip_with_awkward_names() {
        let entries: Vec<CacheEntry> = ["plain", "with space", "100%", "ünï ✓", "tab\there", "-"]
            .iter()
            .map(|n| entry(n))
            .collect();
        let text = format(entries.iter());
        assert!(text.starts_with('#'));
        assert_eq!(parse(&text), entries);
    }

    #[test]
    fn bad_lines_are_skipped() {
        let good = format([entry("ok")].iter());
        let good_line = good.lines().nth(1).unwrap();
        for bad in [
            "",
            "zz",
            &good_line.replacen("a5", "g5", 1),
            &format!("{good_line} extra"),
            &good_line.replace(" ok", " %2e%2e"),
            &good_line.replace(" ok", " a%2fb"),
            &good_line.replace(" ok", " %ff"),
            &good_line.replace(" ok", " %4"),
            &good_line.replace(" 3 ", " -3 "),
        ] {
            assert_eq!(parse_line(bad), None, "{bad}");
        }
        let mixed = format!("{good}garbage line\n{good_line}\n");
        assert_eq!(parse(&mixed).len(), 2);
        // Every truncation of a good line parses or not, never panics.
        for n in 0..good_line.len() {
            if good_line.is_char_boundary(n) {
                let _ = parse_line(&good_line[..n]);
            }
        }
    }

    #[test]
    fn save_and_load() {
        let d = std::env::temp_dir().join(format!("trackseed-cache-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        assert_eq!(load(&d).unwrap(), vec![]);
        let entries = vec![entry("a"), entry("b c")];
        save(&d, entries.iter()).unwrap();
        assert_eq!(load(&d).unwrap(), entries);
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE_NAME], "no temporary file left");
        fs::remove_dir_all(&d).unwrap();
    }
}
