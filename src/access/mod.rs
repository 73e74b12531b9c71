//! Access lists: which torrents the tracker serves (opentracker's `access.whitelist` /
//! `access.blacklist`, with its dynamic FIFO changesets).
//!
//! # File format (opentracker's)
//! A line that starts with 40 hexadecimal digits (either case) followed by the end of the line or
//! a character that is not a hex digit names one info hash; every other line (comments, blank
//! lines, garbage) is skipped and counted, so the operator gets one warning with the count and
//! the first such line.
//!
//! # Reload
//! `reload` builds the new list completely before it replaces the old one: a list that cannot be
//! read keeps the old one in force. A reload also empties the dynamic changesets, as
//! opentracker's does (their contents are assumed to have been merged into the file).
//!
//! # Dynamic changes
//! Hashes written to `access.fifo_add` join the add-changeset (and leave the delete-changeset);
//! those written to `access.fifo_delete` the reverse. A hash is listed when it is in the file or
//! the add-changeset, and not in the delete-changeset. Each changeset holds at most
//! `MAX_CHANGES` hashes.
//!
//! # Cost
//! Lookups are binary searches over sorted arrays: no allocation on the announce path. The list
//! itself is allocated when it is (re)loaded, 20 bytes a hash.

mod loader;

pub use loader::{kept, parse, reload_step, start, LoadError, Loader, Outcome, Parsed};

use crate::ids::InfoHash;
use std::path::Path;

/// Hashes one dynamic changeset may hold.
pub const MAX_CHANGES: usize = 65_536;

/// Which torrents are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every torrent (no list configured).
    Open,
    /// Only listed torrents.
    Whitelist,
    /// Every torrent but the listed ones.
    Blacklist,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Open => "open",
            Mode::Whitelist => "whitelist",
            Mode::Blacklist => "blacklist",
        }
    }
}

/// The hash a line starts with, if it does (opentracker's rule, see the module doc).
pub fn parse_line(line: &[u8]) -> Option<InfoHash> {
    if line.len() < 40
        || line
            .get(40)
            .is_some_and(|&b| crate::wire::hex_digit(b).is_some())
    {
        return None;
    }
    let mut h = [0u8; 20];
    for (i, pair) in line[..40].chunks_exact(2).enumerate() {
        h[i] = crate::wire::hex_digit(pair[0])? << 4 | crate::wire::hex_digit(pair[1])?;
    }
    Some(InfoHash(h))
}

/// The list in force.
#[derive(Debug)]
pub struct AccessList {
    mode: Mode,
    hashes: Vec<InfoHash>,
    added: Vec<InfoHash>,
    deleted: Vec<InfoHash>,
}

fn insert_sorted(set: &mut Vec<InfoHash>, h: InfoHash) -> bool {
    match set.binary_search(&h) {
        Ok(_) => true,
        Err(_) if set.len() >= MAX_CHANGES => false,
        Err(at) => {
            set.insert(at, h);
            true
        }
    }
}

fn remove_sorted(set: &mut Vec<InfoHash>, h: &InfoHash) {
    if let Ok(at) = set.binary_search(h) {
        set.remove(at);
    }
}

impl AccessList {
    /// The open tracker: no list.
    pub fn open() -> AccessList {
        AccessList::new(Mode::Open, Vec::new())
    }

    /// A list in `mode` holding `hashes` (sorted, without duplicates, as `parse` gives them).
    pub fn new(mode: Mode, hashes: Vec<InfoHash>) -> AccessList {
        AccessList {
            mode,
            hashes,
            added: Vec::new(),
            deleted: Vec::new(),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Hashes in the file plus the dynamic additions.
    pub fn len(&self) -> usize {
        self.hashes.len() + self.added.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn is_listed(&self, h: &InfoHash) -> bool {
        (self.hashes.binary_search(h).is_ok() || self.added.binary_search(h).is_ok())
            && self.deleted.binary_search(h).is_err()
    }

    /// Whether the tracker serves the torrent `h`.
    pub fn allows(&self, h: &InfoHash) -> bool {
        match self.mode {
            Mode::Open => true,
            Mode::Whitelist => self.is_listed(h),
            Mode::Blacklist => !self.is_listed(h),
        }
    }

    /// Replaces the file's hashes (after a successful reload) and empties the changesets.
    pub fn replace(&mut self, hashes: Vec<InfoHash>) {
        self.hashes = hashes;
        self.added.clear();
        self.deleted.clear();
    }

    /// A hash from `access.fifo_add`. False when the changeset is full (the hash is ignored).
    pub fn add(&mut self, h: InfoHash) -> bool {
        remove_sorted(&mut self.deleted, &h);
        insert_sorted(&mut self.added, h)
    }

    /// A hash from `access.fifo_delete`. False when the changeset is full.
    pub fn delete(&mut self, h: InfoHash) -> bool {
        remove_sorted(&mut self.added, &h);
        insert_sorted(&mut self.deleted, h)
    }
}

/// The list the config asks for, if any: its mode and file.
pub fn configured(config: &crate::config::Config) -> Option<(Mode, &Path)> {
    match (&config.whitelist, &config.blacklist) {
        (Some(w), _) => Some((Mode::Whitelist, w.as_path())),
        (None, Some(b)) => Some((Mode::Blacklist, b.as_path())),
        (None, None) => None,
    }
}

/// Longest FIFO line kept: a hash and a short comment. Longer lines are dropped whole.
const MAX_FIFO_LINE: usize = 128;

/// Splits what arrives on a FIFO into lines, in a fixed buffer: a line may come in pieces, and
/// a line longer than `MAX_FIFO_LINE` is dropped up to its newline.
#[derive(Debug)]
pub struct LineReader {
    buf: [u8; MAX_FIFO_LINE],
    len: usize,
    is_dropping: bool,
}

impl Default for LineReader {
    fn default() -> Self {
        LineReader {
            buf: [0; MAX_FIFO_LINE],
            len: 0,
            is_dropping: false,
        }
    }
}

impl LineReader {
    /// Feeds `bytes`; calls `line` with each complete line (without its newline).
    pub fn feed(&mut self, bytes: &[u8], line: &mut dyn FnMut(&[u8])) {
        for &b in bytes {
            if b == b'\n' {
                if !self.is_dropping {
                    line(&self.buf[..self.len]);
                }
                self.len = 0;
                self.is_dropping = false;
            } else if self.len == MAX_FIFO_LINE {
                self.is_dropping = true;
                self.len = 0;
            } else if !self.is_dropping {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef01234567";
    const B: &str = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF";

    fn h(s: &str) -> InfoHash {
        parse_line(s.as_bytes()).unwrap()
    }

    #[test]
    fn lines_as_opentracker_reads_them() {
        assert_eq!(h(A).0[0], 0x01);
        assert_eq!(h(B).0, [0xff; 20]);
        assert!(parse_line(format!("{A} a comment").as_bytes()).is_some());
        assert!(parse_line(format!("{A}\t").as_bytes()).is_some());
        assert!(
            parse_line(format!("{A}0").as_bytes()).is_none(),
            "41 hex digits"
        );
        assert!(parse_line(&A.as_bytes()[..39]).is_none());
        assert!(
            parse_line(format!(" {A}").as_bytes()).is_none(),
            "must start the line"
        );
        assert!(parse_line(b"0123456789abcdef0123456789abcdef0123456g").is_none());
    }

    #[test]
    fn files_count_skipped_lines_and_name_the_first_bad_one() {
        let text = format!("# whitelist\n{A}\n\n{B}\r\nnot a hash\n{A}\n");
        let p = parse(text.as_bytes());
        assert_eq!(p.hashes, vec![h(A), h(B)], "sorted, deduplicated");
        assert_eq!(p.skipped, 3);
        assert_eq!(p.first_bad_line, Some(5));
        let p = parse(A.as_bytes());
        assert_eq!((p.hashes.len(), p.skipped), (1, 0), "no final newline");
        assert_eq!(parse(b""), Parsed::default());
    }

    #[test]
    fn modes_and_dynamic_changes() {
        let mut w = AccessList::new(Mode::Whitelist, vec![h(A)]);
        assert!(w.allows(&h(A)) && !w.allows(&h(B)));
        assert!(w.add(h(B)));
        assert!(w.allows(&h(B)));
        w.delete(h(A));
        assert!(!w.allows(&h(A)));
        w.add(h(A));
        assert!(w.allows(&h(A)), "add undoes delete");
        w.replace(vec![h(A)]);
        assert!(!w.allows(&h(B)), "reload flushes the changesets");
        let mut b = AccessList::new(Mode::Blacklist, vec![h(A)]);
        assert!(!b.allows(&h(A)) && b.allows(&h(B)));
        b.add(h(B));
        assert!(!b.allows(&h(B)));
        assert!(AccessList::open().allows(&h(A)));
    }

    #[test]
    fn changesets_are_bounded() {
        let mut w = AccessList::new(Mode::Whitelist, Vec::new());
        for i in 0..MAX_CHANGES as u32 {
            let mut x = [0u8; 20];
            x[..4].copy_from_slice(&i.to_be_bytes());
            assert!(w.add(InfoHash(x)));
        }
        assert!(!w.add(InfoHash([0xee; 20])), "full");
        assert!(w.add(InfoHash([0; 20])), "already there");
    }

    #[test]
    fn every_length_never_panics() {
        let text = format!("{A}\n#x\n{B}zz\n\r\n{A}");
        for len in 0..=text.len() {
            let _ = parse(&text.as_bytes()[..len]);
            let _ = parse_line(&text.as_bytes()[..len]);
        }
    }

    #[test]
    fn fifo_lines_in_pieces_and_overlong_lines_dropped() {
        let mut r = LineReader::default();
        let mut got = Vec::new();
        r.feed(&A.as_bytes()[..10], &mut |l| got.push(l.to_vec()));
        assert!(got.is_empty());
        r.feed(format!("{}\nx", &A[10..]).as_bytes(), &mut |l| {
            got.push(l.to_vec())
        });
        r.feed(&[b'y'; 300], &mut |l| got.push(l.to_vec()));
        r.feed(format!("\n{B}\n").as_bytes(), &mut |l| got.push(l.to_vec()));
        assert_eq!(got, vec![A.as_bytes().to_vec(), B.as_bytes().to_vec()]);
    }
}
