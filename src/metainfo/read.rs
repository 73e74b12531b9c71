//! Reading a `.torrent` file (BEP 3, with BEP 12 `announce-list`, BEP 19 `url-list` and BEP 27
//! `private`): the other direction of [`super::create`].
//!
//! [`parse_torrent`] checks the whole file as bencode first (see [`BencodeError`]), then reads
//! the keys it knows and skips the others. The info dictionary is not re-encoded: its raw bytes
//! ([`info_bytes`]) are what the info hash is computed over, and what the publisher wraps into a
//! new `.torrent` with other trackers through [`super::create::torrent_file`].
//!
//! # What is refused
//! - Malformed bencode: truncated values, integers with a leading zero, `-0`, no digits or out
//!   of the `i64` range, string lengths with a leading zero or too large for the input, a
//!   dictionary key that is not a string, the same key twice in one dictionary, containers
//!   nested more than [`MAX_DEPTH`] deep, and bytes after the top-level value.
//! - An info dictionary without a valid `name`, `piece length` (1 to `u32::MAX`) or `pieces`
//!   (a multiple of 20 bytes), with both or neither of `length` and `files`, with a negative
//!   length, with no files, or whose piece count is not the content length divided by the piece
//!   length, rounded up.
//! - Any name or path component that is not UTF-8 or fails [`super::check_component`]: such a
//!   torrent could write outside its directory.
//!
//! # What is lenient
//! - Dictionary keys need not be sorted (some old clients wrote them in any order). A key is
//!   refused when it repeats the key just before it (which finds every duplicate in a sorted
//!   dictionary), and every key read here is refused if it appears twice anywhere in its
//!   dictionary; an unsorted dictionary may repeat a key we ignore.
//! - Outside the info dictionary, text that is not UTF-8 is dropped: such an announce URL or
//!   web seed is skipped, such a comment reads as none. An `announce-list` with no usable URL
//!   falls back to `announce`.

use std::fmt;
use std::ops::Range;

use super::{check_component, FileEntry, Layout, NameError};
use crate::ids::InfoHash;
use crate::sys::sha1::Sha1;
use crate::wire::bencode::digits;

/// How many lists and dictionaries may nest (the top-level dictionary counts as one).
pub const MAX_DEPTH: usize = 32;

/// Why bytes are not well-formed bencode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BencodeError {
    /// The input ends inside a value.
    Truncated,
    /// An integer with no digits, a leading zero, `-0`, a byte that is not a digit, or a value
    /// outside the `i64` range.
    BadInteger,
    /// A string length with a leading zero, a byte that is not a digit, or too large a value.
    BadLength,
    /// A byte that starts no value (`i`, `l`, `d` or a digit).
    BadValue,
    /// A dictionary key that is not a string.
    KeyNotString,
    /// The same key twice in one dictionary.
    DuplicateKey,
    /// Lists and dictionaries nested more than [`MAX_DEPTH`] deep.
    TooDeep,
    /// Bytes after the top-level value.
    TrailingBytes,
}

impl fmt::Display for BencodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BencodeError::Truncated => "truncated",
            BencodeError::BadInteger => "malformed integer",
            BencodeError::BadLength => "malformed string length",
            BencodeError::BadValue => "not the start of a value",
            BencodeError::KeyNotString => "dictionary key is not a string",
            BencodeError::DuplicateKey => "duplicate dictionary key",
            BencodeError::TooDeep => "lists and dictionaries nested too deep",
            BencodeError::TrailingBytes => "bytes after the end",
        })
    }
}

/// Why a `.torrent` file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Not well-formed bencode; `at` is the byte offset where the problem was found.
    Bencode { error: BencodeError, at: usize },
    /// The top-level value is not a dictionary.
    NotADictionary,
    /// A required key is missing: `info`, `name`, `piece length`, `pieces`, or a file's
    /// `length` or `path`.
    MissingKey(&'static str),
    /// The value of this key has the wrong type.
    WrongType(&'static str),
    /// The torrent name or a path component is refused (including [`NameError::NotUtf8`]); an
    /// empty `path` list is [`NameError::Empty`].
    Name(NameError),
    /// `piece length` is not in 1..=`u32::MAX`.
    BadPieceLength,
    /// The length of `pieces` is not a multiple of 20.
    BadPieces,
    /// The info dictionary has both `length` and `files`.
    BothLengthAndFiles,
    /// The info dictionary has neither `length` nor `files`.
    NoLength,
    /// A file `length` is negative.
    NegativeLength,
    /// `files` is an empty list.
    NoFiles,
    /// The file lengths add up to more than `u64::MAX`.
    TooLarge,
    /// The number of piece hashes is not the content length divided by the piece length,
    /// rounded up.
    PieceCount { expected: u64, found: usize },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Bencode { error, at } => write!(f, "bad bencode at byte {at}: {error}"),
            ReadError::NotADictionary => f.write_str("not a bencoded dictionary"),
            ReadError::MissingKey(k) => write!(f, "missing key \"{k}\""),
            ReadError::WrongType(k) => write!(f, "key \"{k}\" has the wrong type"),
            ReadError::Name(e) => write!(f, "refused name: {e}"),
            ReadError::BadPieceLength => f.write_str("piece length is not 1 to 4294967295"),
            ReadError::BadPieces => f.write_str("pieces is not a multiple of 20 bytes"),
            ReadError::BothLengthAndFiles => f.write_str("info has both length and files"),
            ReadError::NoLength => f.write_str("info has neither length nor files"),
            ReadError::NegativeLength => f.write_str("negative file length"),
            ReadError::NoFiles => f.write_str("files is empty"),
            ReadError::TooLarge => f.write_str("total length is too large"),
            ReadError::PieceCount { expected, found } => {
                write!(f, "{found} piece hashes where the length needs {expected}")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// What [`parse_torrent`] read from a `.torrent` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TorrentFile {
    /// Byte span of the raw info dictionary (the whole `d...e` value) in the parsed bytes; see
    /// [`info_bytes`].
    pub info: Range<usize>,
    /// SHA-1 of the raw info dictionary.
    pub info_hash: InfoHash,
    pub layout: Layout,
    pub piece_length: u32,
    /// Number of 20-byte piece hashes.
    pub piece_count: usize,
    /// BEP 27: `private` is a non-zero integer in the info dictionary.
    pub is_private: bool,
    /// Tracker tiers: `announce-list` if it has a usable URL, else `[[announce]]`, else none.
    /// Empty tiers are left out.
    pub announce: Vec<Vec<String>>,
    pub comment: Option<String>,
    /// BEP 19 web seeds (`url-list`, a string or a list of strings); empty URLs are left out.
    pub url_list: Vec<String>,
}

/// The raw info dictionary of `t` inside `bytes`, the input `t` was parsed from: what the info
/// hash is computed over, and what [`super::create::torrent_file`] takes to re-wrap it. Empty
/// if `bytes` is too short (not the bytes `t` came from).
pub fn info_bytes<'a>(bytes: &'a [u8], t: &TorrentFile) -> &'a [u8] {
    bytes.get(t.info.clone()).unwrap_or_default()
}

fn bad(error: BencodeError, at: usize) -> ReadError {
    ReadError::Bencode { error, at }
}

/// A decoded value. Containers are given by the offset just after their `l` or `d`.
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    Int(i64),
    Str(&'a [u8]),
    List(Items<'a>),
    Dict(Items<'a>),
}

/// The items of a list or dictionary, read one at a time. Each item was checked when the
/// container was decoded, so reading them again cannot fail, but errors are still passed on
/// rather than assumed away.
#[derive(Clone, Copy, Debug)]
struct Items<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Nesting depth of the items themselves.
    depth: usize,
}

/// Reads the value at `at`, `depth` containers deep (0 for the top level), and returns it
/// with the offset just after it. Containers are checked to their end.
fn decode(bytes: &[u8], at: usize, depth: usize) -> Result<(Value<'_>, usize), ReadError> {
    match bytes.get(at) {
        None => Err(bad(BencodeError::Truncated, at)),
        Some(b'i') => int(bytes, at).map(|(v, end)| (Value::Int(v), end)),
        Some(b'0'..=b'9') => string(bytes, at).map(|(s, end)| (Value::Str(s), end)),
        Some(&c @ (b'l' | b'd')) => {
            let items = Items {
                bytes,
                pos: at + 1,
                depth: depth + 1,
            };
            if items.depth > MAX_DEPTH {
                return Err(bad(BencodeError::TooDeep, at));
            }
            if c == b'l' {
                Ok((Value::List(items), skip_list(items)?))
            } else {
                Ok((Value::Dict(items), skip_dict(items)?))
            }
        }
        Some(_) => Err(bad(BencodeError::BadValue, at)),
    }
}

/// `i<digits>e` at `at` (which holds the `i`).
fn int(bytes: &[u8], at: usize) -> Result<(i64, usize), ReadError> {
    let negative = bytes.get(at + 1) == Some(&b'-');
    let first = at + 1 + usize::from(negative);
    let (v, end) = digits(bytes, first);
    match bytes.get(end) {
        None => return Err(bad(BencodeError::Truncated, end)),
        Some(b'e') => {}
        Some(_) => return Err(bad(BencodeError::BadInteger, end)),
    }
    let n = end - first;
    let leading_zero = n > 1 && bytes.get(first) == Some(&b'0');
    let v = match v {
        Some(v) if n > 0 && !leading_zero && !(negative && v == 0) => v,
        _ => return Err(bad(BencodeError::BadInteger, first)),
    };
    // i64::MIN's magnitude does not fit an i64: 0 - v is taken in 64 bits with a check (no
    // 128-bit arithmetic, which would cost the router binary kilobytes).
    let v = if negative {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    };
    v.map(|v| (v, end + 1))
        .ok_or(bad(BencodeError::BadInteger, first))
}

/// `<len>:<bytes>` at `at` (which holds a digit).
fn string(bytes: &[u8], at: usize) -> Result<(&[u8], usize), ReadError> {
    let (len, colon) = digits(bytes, at);
    match bytes.get(colon) {
        None => return Err(bad(BencodeError::Truncated, colon)),
        Some(b':') => {}
        Some(_) => return Err(bad(BencodeError::BadLength, colon)),
    }
    if colon - at > 1 && bytes.get(at) == Some(&b'0') {
        return Err(bad(BencodeError::BadLength, at));
    }
    let len = len
        .and_then(|l| usize::try_from(l).ok())
        .ok_or(bad(BencodeError::BadLength, at))?;
    let start = colon + 1;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or(bad(BencodeError::Truncated, bytes.len()))?;
    bytes
        .get(start..end)
        .map(|s| (s, end))
        .ok_or(bad(BencodeError::Truncated, bytes.len()))
}

/// Checks a list's items and returns the offset after its `e`.
fn skip_list(mut items: Items<'_>) -> Result<usize, ReadError> {
    while items.next_value()?.is_some() {}
    Ok(items.pos)
}

/// Checks a dictionary's keys and values and returns the offset after its `e`.
fn skip_dict(mut items: Items<'_>) -> Result<usize, ReadError> {
    let mut prev: Option<&[u8]> = None;
    while let Some(e) = items.next_entry()? {
        if prev == Some(e.key) {
            return Err(bad(BencodeError::DuplicateKey, e.key_at));
        }
        prev = Some(e.key);
    }
    Ok(items.pos)
}

impl<'a> Items<'a> {
    /// `true` (and past it) at the closing `e`.
    fn at_end(&mut self) -> Result<bool, ReadError> {
        match self.bytes.get(self.pos) {
            None => Err(bad(BencodeError::Truncated, self.pos)),
            Some(b'e') => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }

    /// The next list item, `None` after the last.
    fn next_value(&mut self) -> Result<Option<Value<'a>>, ReadError> {
        if self.at_end()? {
            return Ok(None);
        }
        let (v, end) = decode(self.bytes, self.pos, self.depth)?;
        self.pos = end;
        Ok(Some(v))
    }

    /// The next dictionary entry: key, the key's offset, value and the value's byte span;
    /// `None` after the last.
    fn next_entry(&mut self) -> Result<Option<Entry<'a>>, ReadError> {
        if self.at_end()? {
            return Ok(None);
        }
        let key_at = self.pos;
        if !self.bytes.get(key_at).is_some_and(u8::is_ascii_digit) {
            return Err(bad(BencodeError::KeyNotString, key_at));
        }
        let (key, value_at) = string(self.bytes, key_at)?;
        let (value, end) = decode(self.bytes, value_at, self.depth)?;
        self.pos = end;
        Ok(Some(Entry {
            key,
            key_at,
            value,
            span: value_at..end,
        }))
    }
}

/// A dictionary entry.
struct Entry<'a> {
    key: &'a [u8],
    /// Offset of the key.
    key_at: usize,
    value: Value<'a>,
    /// Byte span of the value.
    span: Range<usize>,
}

/// Known keys of one dictionary, each allowed once wherever it is.
struct Seen(u32);

impl Seen {
    /// Marks key number `i`; a second time is a duplicate key at `at`.
    fn mark(&mut self, i: u32, at: usize) -> Result<(), ReadError> {
        if self.0 & (1 << i) != 0 {
            return Err(bad(BencodeError::DuplicateKey, at));
        }
        self.0 |= 1 << i;
        Ok(())
    }
}

/// A name or path component: UTF-8 and [`check_component`].
fn component(v: Value<'_>, key: &'static str) -> Result<String, ReadError> {
    let Value::Str(s) = v else {
        return Err(ReadError::WrongType(key));
    };
    let s = std::str::from_utf8(s).map_err(|_| ReadError::Name(NameError::NotUtf8))?;
    check_component(s).map_err(ReadError::Name)?;
    Ok(s.to_owned())
}

/// A file or content length: a non-negative integer.
fn length(v: Value<'_>) -> Result<u64, ReadError> {
    match v {
        Value::Int(n) => u64::try_from(n).map_err(|_| ReadError::NegativeLength),
        _ => Err(ReadError::WrongType("length")),
    }
}

/// Text outside the info dictionary: `None` when it is not UTF-8 (or empty, if `skip_empty`).
fn text(v: Value<'_>, key: &'static str, skip_empty: bool) -> Result<Option<String>, ReadError> {
    let Value::Str(s) = v else {
        return Err(ReadError::WrongType(key));
    };
    if skip_empty && s.is_empty() {
        return Ok(None);
    }
    Ok(std::str::from_utf8(s).ok().map(str::to_owned))
}

/// One entry of `files`.
fn file_entry(v: Value<'_>) -> Result<FileEntry, ReadError> {
    let Value::Dict(mut d) = v else {
        return Err(ReadError::WrongType("files"));
    };
    let mut seen = Seen(0);
    let mut len = None;
    let mut path = None;
    while let Some(Entry {
        key,
        key_at: at,
        value: v,
        ..
    }) = d.next_entry()?
    {
        match key {
            b"length" => {
                seen.mark(0, at)?;
                len = Some(length(v)?);
            }
            b"path" => {
                seen.mark(1, at)?;
                let Value::List(mut items) = v else {
                    return Err(ReadError::WrongType("path"));
                };
                let mut p = Vec::new();
                while let Some(c) = items.next_value()? {
                    p.push(component(c, "path")?);
                }
                if p.is_empty() {
                    return Err(ReadError::Name(NameError::Empty));
                }
                path = Some(p);
            }
            _ => {}
        }
    }
    Ok(FileEntry {
        length: len.ok_or(ReadError::MissingKey("length"))?,
        path: path.ok_or(ReadError::MissingKey("path"))?,
    })
}

/// The fields of the info dictionary.
struct Info {
    layout: Layout,
    piece_length: u32,
    piece_count: usize,
    is_private: bool,
}

fn info_dict(mut d: Items<'_>) -> Result<Info, ReadError> {
    let mut seen = Seen(0);
    let mut name = None;
    let mut piece_length = None;
    let mut pieces = None;
    let mut single = None;
    let mut files = None;
    let mut is_private = false;
    while let Some(Entry {
        key,
        key_at: at,
        value: v,
        ..
    }) = d.next_entry()?
    {
        match key {
            b"name" => {
                seen.mark(0, at)?;
                name = Some(component(v, "name")?);
            }
            b"piece length" => {
                seen.mark(1, at)?;
                let Value::Int(n) = v else {
                    return Err(ReadError::WrongType("piece length"));
                };
                piece_length = Some(
                    u32::try_from(n)
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(ReadError::BadPieceLength)?,
                );
            }
            b"pieces" => {
                seen.mark(2, at)?;
                let Value::Str(s) = v else {
                    return Err(ReadError::WrongType("pieces"));
                };
                if s.len() % 20 != 0 {
                    return Err(ReadError::BadPieces);
                }
                pieces = Some(s.len() / 20);
            }
            b"length" => {
                seen.mark(3, at)?;
                single = Some(length(v)?);
            }
            b"files" => {
                seen.mark(4, at)?;
                let Value::List(mut items) = v else {
                    return Err(ReadError::WrongType("files"));
                };
                let mut list = Vec::new();
                while let Some(f) = items.next_value()? {
                    list.push(file_entry(f)?);
                }
                files = Some(list);
            }
            b"private" => {
                seen.mark(5, at)?;
                let Value::Int(n) = v else {
                    return Err(ReadError::WrongType("private"));
                };
                is_private = n != 0;
            }
            _ => {}
        }
    }
    let name = name.ok_or(ReadError::MissingKey("name"))?;
    let piece_length = piece_length.ok_or(ReadError::MissingKey("piece length"))?;
    let piece_count = pieces.ok_or(ReadError::MissingKey("pieces"))?;
    let layout = match (single, files) {
        (Some(_), Some(_)) => return Err(ReadError::BothLengthAndFiles),
        (None, None) => return Err(ReadError::NoLength),
        (Some(length), None) => Layout {
            name,
            files: vec![FileEntry {
                path: Vec::new(),
                length,
            }],
            is_single_file: true,
        },
        (None, Some(files)) => {
            if files.is_empty() {
                return Err(ReadError::NoFiles);
            }
            Layout {
                name,
                files,
                is_single_file: false,
            }
        }
    };
    let total = layout
        .files
        .iter()
        .try_fold(0u64, |sum, f| sum.checked_add(f.length))
        .ok_or(ReadError::TooLarge)?;
    let expected = total.div_ceil(u64::from(piece_length));
    if u64::try_from(piece_count).ok() != Some(expected) {
        return Err(ReadError::PieceCount {
            expected,
            found: piece_count,
        });
    }
    Ok(Info {
        layout,
        piece_length,
        piece_count,
        is_private,
    })
}

/// Tiers of `announce-list`: a list of lists of strings. URLs that are empty or not UTF-8 are
/// skipped, and tiers left empty are dropped.
fn announce_list(v: Value<'_>) -> Result<Vec<Vec<String>>, ReadError> {
    const KEY: &str = "announce-list";
    let Value::List(mut tiers) = v else {
        return Err(ReadError::WrongType(KEY));
    };
    let mut out = Vec::new();
    while let Some(t) = tiers.next_value()? {
        let Value::List(mut urls) = t else {
            return Err(ReadError::WrongType(KEY));
        };
        let mut tier = Vec::new();
        while let Some(u) = urls.next_value()? {
            tier.extend(text(u, KEY, true)?);
        }
        if !tier.is_empty() {
            out.push(tier);
        }
    }
    Ok(out)
}

/// `url-list`: one string or a list of strings; empty and non-UTF-8 URLs are skipped.
fn url_list(v: Value<'_>) -> Result<Vec<String>, ReadError> {
    const KEY: &str = "url-list";
    let mut out = Vec::new();
    match v {
        Value::List(mut items) => {
            while let Some(u) = items.next_value()? {
                out.extend(text(u, KEY, true)?);
            }
        }
        v => out.extend(text(v, KEY, true)?),
    }
    Ok(out)
}

/// Reads a `.torrent` file: see the module documentation for what is checked. Pure: no I/O,
/// no panics, whatever the input.
pub fn parse_torrent(bytes: &[u8]) -> Result<TorrentFile, ReadError> {
    let (top, end) = decode(bytes, 0, 0)?;
    if end != bytes.len() {
        return Err(bad(BencodeError::TrailingBytes, end));
    }
    let Value::Dict(mut d) = top else {
        return Err(ReadError::NotADictionary);
    };
    let mut seen = Seen(0);
    let mut info = None;
    let mut announce = None;
    let mut tiers = Vec::new();
    let mut comment = None;
    let mut urls = Vec::new();
    while let Some(Entry {
        key,
        key_at: at,
        value: v,
        span,
    }) = d.next_entry()?
    {
        match key {
            b"info" => {
                seen.mark(0, at)?;
                let Value::Dict(items) = v else {
                    return Err(ReadError::WrongType("info"));
                };
                info = Some((info_dict(items)?, span));
            }
            b"announce" => {
                seen.mark(1, at)?;
                announce = text(v, "announce", true)?;
            }
            b"announce-list" => {
                seen.mark(2, at)?;
                tiers = announce_list(v)?;
            }
            b"comment" => {
                seen.mark(3, at)?;
                comment = text(v, "comment", false)?;
            }
            b"url-list" => {
                seen.mark(4, at)?;
                urls = url_list(v)?;
            }
            _ => {}
        }
    }
    let (info, span) = info.ok_or(ReadError::MissingKey("info"))?;
    let mut h = Sha1::new();
    h.update(bytes.get(span.clone()).unwrap_or_default());
    if tiers.is_empty() {
        tiers.extend(announce.map(|a| vec![a]));
    }
    Ok(TorrentFile {
        info: span,
        info_hash: InfoHash(h.digest()),
        layout: info.layout,
        piece_length: info.piece_length,
        piece_count: info.piece_count,
        is_private: info.is_private,
        announce: tiers,
        comment,
        url_list: urls,
    })
}

#[cfg(test)]
mod tests {
    use super::super::create::{self, Options};
    use super::*;

    fn file(path: &[&str], length: u64) -> FileEntry {
        FileEntry {
            path: path.iter().map(|s| s.to_string()).collect(),
            length,
        }
    }

    fn multi() -> Layout {
        Layout {
            name: "dïr".into(),
            files: vec![file(&["a", "b"], 40000), file(&["e"], 0), file(&["z"], 1)],
            is_single_file: false,
        }
    }

    fn single(length: u64) -> Layout {
        Layout {
            name: "f.iso".into(),
            files: vec![file(&[], length)],
            is_single_file: true,
        }
    }

    /// The info dictionary of `layout` with dummy piece hashes of the right count.
    fn info(layout: &Layout, piece_length: u32, is_private: bool) -> Vec<u8> {
        let n = layout.total_length().div_ceil(u64::from(piece_length));
        let pieces: Vec<u8> = (0..n * 20).map(|i| i as u8).collect();
        let mut out = Vec::new();
        create::info_dict(layout, piece_length, &pieces, is_private, &mut out).unwrap();
        out
    }

    fn full_options() -> Options {
        Options {
            announce: vec![
                vec!["http://t1/announce".into(), "udp://t2:6969".into()],
                vec!["https://t3/a".into()],
            ],
            comment: Some("a comment ✓".into()),
            is_private: true,
            url_list: vec!["http://w/1/".into(), "http://w/2/".into()],
            created_by: Some("trackseed".into()),
            creation_date: Some(1_700_000_000),
            piece_length: None,
        }
    }

    fn round_trip(layout: &Layout, piece_length: u32, opts: &Options) {
        let info = info(layout, piece_length, opts.is_private);
        let bytes = create::torrent_file(&info, opts);
        let t = parse_torrent(&bytes).unwrap();
        assert_eq!(t.layout, *layout);
        assert_eq!(t.piece_length, piece_length);
        let n = layout.total_length().div_ceil(u64::from(piece_length));
        assert_eq!(t.piece_count as u64, n);
        assert_eq!(t.is_private, opts.is_private);
        let tiers: Vec<Vec<String>> = opts
            .announce
            .iter()
            .filter(|t| !t.is_empty())
            .cloned()
            .collect();
        assert_eq!(t.announce, tiers);
        assert_eq!(t.comment, opts.comment);
        assert_eq!(t.url_list, opts.url_list);
        assert_eq!(info_bytes(&bytes, &t), info.as_slice());
        assert_eq!(t.info_hash, create::info_hash(&info));
    }

    #[test]
    fn round_trips() {
        let full = full_options();
        for opts in [
            full.clone(),
            Options::default(),
            Options {
                announce: vec![vec!["http://only/one".into()], vec![]],
                url_list: vec!["http://w/".into()],
                ..Options::default()
            },
        ] {
            round_trip(&multi(), 16384, &opts);
            round_trip(&single(0), 32768, &opts);
            round_trip(&single(1), 16384, &opts);
            round_trip(&single(16384), 16384, &opts);
            round_trip(&single(16385), 16384, &opts);
        }
        // Re-wrapping the info dictionary with other trackers keeps the info hash.
        let bytes = create::torrent_file(&info(&multi(), 16384, false), &full);
        let t = parse_torrent(&bytes).unwrap();
        let again = create::torrent_file(info_bytes(&bytes, &t), &Options::default());
        assert_eq!(parse_torrent(&again).unwrap().info_hash, t.info_hash);
        assert_eq!(info_bytes(b"short", &t), b"");
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = create::torrent_file(&info(&multi(), 16384, true), &full_options());
        for n in 0..bytes.len() {
            assert!(parse_torrent(&bytes[..n]).is_err(), "{n}");
        }
        let mut extra = bytes.clone();
        extra.push(b'e');
        assert_eq!(
            parse_torrent(&extra),
            Err(bad(BencodeError::TrailingBytes, bytes.len()))
        );
    }

    /// A torrent with `info` as its only key.
    fn wrap(info: &[u8]) -> Vec<u8> {
        let mut v = b"d4:info".to_vec();
        v.extend_from_slice(info);
        v.push(b'e');
        v
    }

    fn err(bytes: &[u8]) -> ReadError {
        parse_torrent(bytes).unwrap_err()
    }

    fn bencode_err(bytes: &[u8]) -> BencodeError {
        match err(bytes) {
            ReadError::Bencode { error, .. } => error,
            e => panic!("{e:?}"),
        }
    }

    const OK_INFO: &[u8] = b"d6:lengthi0e4:name1:x12:piece lengthi1e6:pieces0:e";

    #[test]
    fn integers() {
        let with_length = |n: &str| {
            wrap(format!("d6:lengthi{n}e4:name1:x12:piece lengthi1e6:pieces0:e").as_bytes())
        };
        assert!(parse_torrent(&wrap(OK_INFO)).is_ok());
        for n in [
            "",
            "-",
            "00",
            "01",
            "-0",
            "-01",
            "+1",
            "1x",
            " 1",
            "9223372036854775808",
        ] {
            assert_eq!(
                bencode_err(&with_length(n)),
                BencodeError::BadInteger,
                "{n}"
            );
        }
        assert_eq!(
            bencode_err(&with_length("99999999999999999999999")),
            BencodeError::BadInteger
        );
        assert_eq!(err(&with_length("-1")), ReadError::NegativeLength);
        assert_eq!(
            err(&with_length("-9223372036854775808")),
            ReadError::NegativeLength
        );
        assert!(matches!(
            err(&with_length("9223372036854775807")),
            ReadError::PieceCount { .. }
        ));
        assert_eq!(
            parse_torrent(b"d4:infoi12"),
            Err(bad(BencodeError::Truncated, 10))
        );
        assert_eq!(
            parse_torrent(b"d4:infoi12xe"),
            Err(bad(BencodeError::BadInteger, 10))
        );
    }

    #[test]
    fn strings() {
        assert_eq!(bencode_err(b"d04:infodee"), BencodeError::BadLength);
        assert_eq!(bencode_err(b"d4x:infodee"), BencodeError::BadLength);
        assert_eq!(bencode_err(b"d4:infode9:e"), BencodeError::Truncated);
        assert_eq!(
            bencode_err(b"d4:infode99999999999999999999999:e"),
            BencodeError::BadLength
        );
        // A length that fits a u64: longer than the input on 64-bit, too long for usize on
        // 32-bit targets.
        let huge = if usize::BITS == 64 {
            BencodeError::Truncated
        } else {
            BencodeError::BadLength
        };
        assert_eq!(bencode_err(b"d4:infode18446744073709551615:e"), huge);
        assert_eq!(bencode_err(b"d4:infode3"), BencodeError::Truncated);
        // 0: is a valid empty string (an ignored key here).
        let mut ok = wrap(OK_INFO);
        ok.splice(1..1, b"0:0:".iter().copied());
        assert!(parse_torrent(&ok).is_ok());
    }

    #[test]
    fn structure() {
        assert_eq!(bencode_err(b""), BencodeError::Truncated);
        assert_eq!(bencode_err(b"x"), BencodeError::BadValue);
        assert_eq!(bencode_err(b"d4:infoxe"), BencodeError::BadValue);
        assert_eq!(bencode_err(b"d4:infoe"), BencodeError::BadValue);
        assert_eq!(bencode_err(b"di1ei2ee"), BencodeError::KeyNotString);
        assert_eq!(bencode_err(b"dlei2ee"), BencodeError::KeyNotString);
        assert_eq!(bencode_err(b"d1:ai1e1:ai2ee"), BencodeError::DuplicateKey);
        assert_eq!(bencode_err(b"de "), BencodeError::TrailingBytes);
        assert_eq!(bencode_err(b"dede"), BencodeError::TrailingBytes);
        assert_eq!(err(b"le"), ReadError::NotADictionary);
        assert_eq!(err(b"i1e"), ReadError::NotADictionary);
        assert_eq!(err(b"1:a"), ReadError::NotADictionary);
        assert_eq!(err(b"de"), ReadError::MissingKey("info"));
        assert_eq!(err(b"d4:infolee"), ReadError::WrongType("info"));
        assert_eq!(err(b"d4:info0:e"), ReadError::WrongType("info"));
    }

    #[test]
    fn depth_limit() {
        // An ignored key whose value nests lists: the top-level dictionary counts as one.
        let nested = |lists: usize| {
            let mut v = wrap(OK_INFO);
            v.pop();
            v.extend_from_slice(b"1:z");
            v.extend(std::iter::repeat_n(b'l', lists));
            v.extend(std::iter::repeat_n(b'e', lists));
            v.push(b'e');
            v
        };
        assert!(parse_torrent(&nested(MAX_DEPTH - 1)).is_ok());
        assert_eq!(bencode_err(&nested(MAX_DEPTH)), BencodeError::TooDeep);
        assert_eq!(bencode_err(&nested(100_000)), BencodeError::TooDeep);
        let deep = b"d1:a".repeat(100_000);
        assert_eq!(bencode_err(&deep), BencodeError::TooDeep);
    }

    #[test]
    fn unsorted_and_duplicate_keys() {
        // Unsorted keys are read.
        let info = b"d4:name1:x6:lengthi0e6:pieces0:12:piece lengthi1ee";
        let mut bytes = b"d4:info".to_vec();
        bytes.extend_from_slice(info);
        bytes.extend_from_slice(b"8:announce8:http://ae");
        let t = parse_torrent(&bytes).unwrap();
        assert_eq!(t.layout, {
            let mut l = single(0);
            l.name = "x".into();
            l
        });
        assert_eq!(t.announce, [["http://a"]]);
        // A known key twice, not adjacent: refused.
        let dup = b"d4:name1:x6:lengthi0e6:pieces0:12:piece lengthi1e4:name1:ye";
        assert_eq!(bencode_err(&wrap(dup)), BencodeError::DuplicateKey);
        let mut dup = wrap(OK_INFO);
        dup.pop();
        dup.extend_from_slice(b"1:z0:4:info");
        dup.extend_from_slice(OK_INFO);
        dup.push(b'e');
        assert_eq!(bencode_err(&dup), BencodeError::DuplicateKey);
        let dup = b"d6:lengthi0e4:pathl1:ae6:lengthi0ee";
        let mut info = b"d5:filesl".to_vec();
        info.extend_from_slice(dup);
        info.extend_from_slice(b"e4:name1:x12:piece lengthi1e6:pieces0:e");
        assert_eq!(bencode_err(&wrap(&info)), BencodeError::DuplicateKey);
        // An ignored key twice, not adjacent, in an unsorted dictionary: read.
        let info = b"d1:zi1e6:lengthi0e4:name1:x12:piece lengthi1e6:pieces0:1:zi2ee";
        assert!(parse_torrent(&wrap(info)).is_ok());
    }

    #[test]
    fn info_refusals() {
        let info = |pairs: &[(&str, &str)]| {
            let mut v = b"d".to_vec();
            for (k, val) in pairs {
                v.extend_from_slice(format!("{}:{k}{val}", k.len()).as_bytes());
            }
            v.push(b'e');
            wrap(&v)
        };
        let len = ("length", "i0e");
        let name = ("name", "1:x");
        let pl = ("piece length", "i16384e");
        let pieces = ("pieces", "0:");
        assert!(parse_torrent(&info(&[len, name, pl, pieces])).is_ok());
        assert_eq!(
            err(&info(&[name, pl, pieces])),
            ReadError::NoLength,
            "neither"
        );
        let files = ("files", "ld6:lengthi1e4:pathl1:aeee");
        assert_eq!(
            err(&info(&[
                files,
                len,
                name,
                pl,
                ("pieces", "20:01234567890123456789")
            ])),
            ReadError::BothLengthAndFiles
        );
        assert_eq!(
            err(&info(&[len, pl, pieces])),
            ReadError::MissingKey("name")
        );
        assert_eq!(
            err(&info(&[len, name, pieces])),
            ReadError::MissingKey("piece length")
        );
        assert_eq!(
            err(&info(&[len, name, pl])),
            ReadError::MissingKey("pieces")
        );
        for bad_pl in ["i0e", "i-1e", "i4294967296e"] {
            assert_eq!(
                err(&info(&[len, name, ("piece length", bad_pl), pieces])),
                ReadError::BadPieceLength
            );
        }
        assert_eq!(
            err(&info(&[len, name, ("piece length", "1:1"), pieces])),
            ReadError::WrongType("piece length")
        );
        assert!(parse_torrent(&info(&[
            ("length", "i4294967295e"),
            name,
            ("piece length", "i4294967295e"),
            ("pieces", "20:01234567890123456789")
        ]))
        .is_ok());
        assert_eq!(
            err(&info(&[
                len,
                name,
                pl,
                ("pieces", "19:0123456789012345678")
            ])),
            ReadError::BadPieces
        );
        assert_eq!(
            err(&info(&[len, name, pl, ("pieces", "i0e")])),
            ReadError::WrongType("pieces")
        );
        assert_eq!(
            err(&info(&[("length", "i1e"), name, pl, pieces])),
            ReadError::PieceCount {
                expected: 1,
                found: 0
            }
        );
        assert_eq!(
            err(&info(&[
                len,
                name,
                pl,
                ("pieces", "20:01234567890123456789")
            ])),
            ReadError::PieceCount {
                expected: 0,
                found: 1
            }
        );
        assert_eq!(
            err(&info(&[("length", "1:0"), name, pl, pieces])),
            ReadError::WrongType("length")
        );
        assert_eq!(
            err(&info(&[len, name, pl, pieces, ("private", "1:1")])),
            ReadError::WrongType("private")
        );
        let private = |v: &str| {
            parse_torrent(&info(&[len, name, pl, pieces, ("private", v)]))
                .unwrap()
                .is_private
        };
        assert!(!private("i0e"));
        assert!(private("i1e"));
        assert!(private("i2e"));
        // Files.
        let with_files = |f: &str| err(&info(&[("files", f), name, pl, pieces]));
        assert_eq!(with_files("le"), ReadError::NoFiles);
        assert_eq!(with_files("1:a"), ReadError::WrongType("files"));
        assert_eq!(with_files("li1ee"), ReadError::WrongType("files"));
        assert_eq!(
            with_files("ld4:pathl1:aeee"),
            ReadError::MissingKey("length")
        );
        assert_eq!(with_files("ld6:lengthi0eee"), ReadError::MissingKey("path"));
        assert_eq!(
            with_files("ld6:lengthi-1e4:pathl1:aeee"),
            ReadError::NegativeLength
        );
        assert_eq!(
            with_files("ld6:lengthi0e4:path1:aee"),
            ReadError::WrongType("path")
        );
        assert_eq!(
            with_files("ld6:lengthi0e4:pathli1eeee"),
            ReadError::WrongType("path")
        );
        assert_eq!(
            with_files("ld6:lengthi0e4:pathleee"),
            ReadError::Name(NameError::Empty)
        );
        let big = "d6:lengthi9223372036854775807e4:pathl1:aee";
        assert_eq!(
            with_files(&format!("l{big}{big}{big}e")),
            ReadError::TooLarge
        );
    }

    #[test]
    fn unsafe_names_are_refused() {
        let named = |name: &[u8]| {
            let mut v = format!("d6:lengthi0e4:name{}:", name.len()).into_bytes();
            v.extend_from_slice(name);
            v.extend_from_slice(b"12:piece lengthi1e6:pieces0:e");
            err(&wrap(&v))
        };
        let in_path = |c: &[u8]| {
            let mut v = format!("d5:filesld6:lengthi0e4:pathl1:a{}:", c.len()).into_bytes();
            v.extend_from_slice(c);
            v.extend_from_slice(b"eee4:name1:x12:piece lengthi1e6:pieces0:e");
            err(&wrap(&v))
        };
        for (c, e) in [
            (&b""[..], NameError::Empty),
            (b".", NameError::Dot),
            (b"..", NameError::Dot),
            (b"/etc", NameError::Separator),
            (b"a/../../b", NameError::Separator),
            (b"..\\x", NameError::Separator),
            (b"a\0b", NameError::Nul),
            (b"\xff", NameError::NotUtf8),
        ] {
            assert_eq!(named(c), ReadError::Name(e), "{c:?}");
            assert_eq!(in_path(c), ReadError::Name(e), "{c:?}");
        }
        assert_eq!(
            err(&wrap(b"d6:lengthi0e4:namei1e12:piece lengthi1e6:pieces0:e")),
            ReadError::WrongType("name")
        );
    }

    #[test]
    fn outer_keys() {
        let with = |outer: &[u8]| {
            let mut v = b"d".to_vec();
            v.extend_from_slice(outer);
            v.extend_from_slice(b"4:info");
            v.extend_from_slice(OK_INFO);
            v.push(b'e');
            parse_torrent(&v)
        };
        // announce-list wins over announce; empty and non-UTF-8 URLs and empty tiers are
        // dropped; an announce-list with nothing left falls back to announce.
        let t = with(b"8:announce3:a:113:announce-listll3:b:10:2:\xffxelel3:c:2ee").unwrap();
        assert_eq!(t.announce, [["b:1"], ["c:2"]]);
        let t = with(b"8:announce3:a:113:announce-listll0:elee").unwrap();
        assert_eq!(t.announce, [["a:1"]]);
        assert!(with(b"8:announce0:").unwrap().announce.is_empty());
        assert!(with(b"8:announce1:\xff").unwrap().announce.is_empty());
        assert!(with(b"").unwrap().announce.is_empty());
        assert_eq!(
            with(b"8:announcei1e"),
            Err(ReadError::WrongType("announce"))
        );
        assert_eq!(
            with(b"13:announce-list3:a:1"),
            Err(ReadError::WrongType("announce-list"))
        );
        assert_eq!(
            with(b"13:announce-listl3:a:1e"),
            Err(ReadError::WrongType("announce-list"))
        );
        assert_eq!(
            with(b"13:announce-listlli1eee"),
            Err(ReadError::WrongType("announce-list"))
        );
        // comment: not UTF-8 reads as none; empty is kept.
        assert_eq!(with(b"7:comment1:\xff").unwrap().comment, None);
        assert_eq!(with(b"7:comment0:").unwrap().comment, Some(String::new()));
        assert_eq!(with(b"7:commentle"), Err(ReadError::WrongType("comment")));
        // url-list: a string or a list.
        assert_eq!(
            with(b"8:url-list0:").unwrap().url_list,
            Vec::<String>::new()
        );
        assert_eq!(with(b"8:url-list3:w:1").unwrap().url_list, ["w:1"]);
        assert_eq!(
            with(b"8:url-listl3:w:10:1:\xff3:w:2e").unwrap().url_list,
            ["w:1", "w:2"]
        );
        assert_eq!(
            with(b"8:url-listi1e"),
            Err(ReadError::WrongType("url-list"))
        );
        assert_eq!(
            with(b"8:url-listli1ee"),
            Err(ReadError::WrongType("url-list"))
        );
    }

    #[test]
    fn errors_display() {
        assert_eq!(
            bad(BencodeError::Truncated, 7).to_string(),
            "bad bencode at byte 7: truncated"
        );
        assert_eq!(
            ReadError::Name(NameError::Dot).to_string(),
            "refused name: file name is . or .."
        );
        assert_eq!(
            ReadError::PieceCount {
                expected: 2,
                found: 1
            }
            .to_string(),
            "1 piece hashes where the length needs 2"
        );
    }
}
