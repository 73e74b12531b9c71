//! BitTorrent v1 metainfo (BEP 3, with BEP 12 `announce-list`, BEP 27 `private` and BEP 19
//! `url-list`): the base of the publisher.
//!
//! - [`scan`] turns a file or directory into a [`Layout`]: the torrent's name and its files in
//!   torrent order, every name checked with [`check_component`].
//! - [`hasher::PieceHasher`] hashes the content incrementally; it never reads files, so the
//!   event loop can feed it a slice per tick. [`hash_paths`] is the blocking convenience that
//!   reads the files in order (tests, tools).
//! - [`create`] writes the bencoded info dictionary and the whole `.torrent` file, keys sorted,
//!   and computes the info hash.
//!
//! # Compatibility with mktorrent
//! For the same files and piece length, our info dictionary is byte-for-byte what Debian's
//! `mktorrent` 1.1 writes (without `-p`; with `-p` both add `private` = 1), so the info hashes
//! are equal. What that takes, checked against mktorrent:
//!
//! - **File order**: files are sorted by their whole relative path, components joined with `/`,
//!   compared as bytes (C `strcmp`): `a-c` < `a.d` < `a/b` because `-` < `.` < `/`. This is not
//!   a component-wise sort, and not directory-walk order.
//! - **Hidden files** (names starting with `.`) are included, as mktorrent includes them.
//! - **Empty files** are listed with `length` 0 and contribute no bytes. A torrent of zero bytes
//!   in total has an empty `pieces` string (no piece at all).
//! - **Symbolic links** to regular files are followed (the target's content is published under
//!   the link's name), as mktorrent does. Unlike mktorrent, a symbolic link to a directory is
//!   refused (it could loop or leave the tree). Other non-regular files (FIFOs, sockets,
//!   devices) are skipped; empty directories leave no trace.
//!
//! # Names
//! Names that would escape the torrent's directory are refused everywhere metainfo is read or
//! written: see [`check_component`].

pub mod create;
pub mod hasher;
pub mod read;

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use hasher::PieceHasher;

/// Smallest piece length we choose: 16 KiB (the BEP 3 request block size).
pub const MIN_PIECE_LENGTH: u32 = 16 * 1024;
/// Largest piece length we choose: 16 MiB.
pub const MAX_PIECE_LENGTH: u32 = 16 * 1024 * 1024;
/// [`piece_length_for`] picks the smallest piece length that gives at most this many pieces.
pub const TARGET_MAX_PIECES: u64 = 2000;

/// One file of a torrent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Components relative to the torrent root; empty for a single-file torrent.
    pub path: Vec<String>,
    pub length: u64,
}

/// A torrent's name and files, in torrent order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The `name` key: the file name (single-file) or the directory name (multi-file).
    pub name: String,
    pub files: Vec<FileEntry>,
    /// Single-file mode: `files` has exactly one entry with an empty `path`, and the info
    /// dictionary has `length` instead of `files`.
    pub is_single_file: bool,
}

impl Layout {
    /// Sum of all file lengths: the content's length in bytes.
    pub fn total_length(&self) -> u64 {
        self.files.iter().map(|f| f.length).sum()
    }

    /// Sorts `files` into torrent order (see the module documentation).
    pub fn sort_files(&mut self) {
        self.files.sort_by_cached_key(|f| path_key(&f.path));
    }

    /// Checks the name and every path component with [`check_component`]; multi-file entries
    /// must have at least one component.
    pub fn check_names(&self) -> Result<(), NameError> {
        check_component(&self.name)?;
        for f in &self.files {
            if !self.is_single_file && f.path.is_empty() {
                return Err(NameError::Empty);
            }
            for c in &f.path {
                check_component(c)?;
            }
        }
        Ok(())
    }
}

/// The sort key of a path: its components joined with `/`, as bytes.
fn path_key(path: &[String]) -> Vec<u8> {
    path.join("/").into_bytes()
}

/// Why a file name or path component was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// The empty string.
    Empty,
    /// `.` or `..`.
    Dot,
    /// Contains `/` or `\` (a path separator on some system).
    Separator,
    /// Contains a NUL byte.
    Nul,
    /// Not valid UTF-8 (only when scanning the file system).
    NotUtf8,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::Empty => "empty file name",
            NameError::Dot => "file name is . or ..",
            NameError::Separator => "file name contains / or \\",
            NameError::Nul => "file name contains a NUL byte",
            NameError::NotUtf8 => "file name is not valid UTF-8",
        })
    }
}

impl std::error::Error for NameError {}

/// Checks one path component (or a torrent name): refuses the empty string, `.`, `..`, and any
/// `/`, `\` or NUL. `\` is refused although it is an ordinary byte on Unix, because Windows
/// clients treat it as a separator, so `..\x` would escape there; a component free of these can
/// only name an entry inside its directory. Absolute paths are impossible once every component
/// passes.
pub fn check_component(s: &str) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::Empty);
    }
    if s == "." || s == ".." {
        return Err(NameError::Dot);
    }
    if s.bytes().any(|b| b == b'/' || b == b'\\') {
        return Err(NameError::Separator);
    }
    if s.bytes().any(|b| b == 0) {
        return Err(NameError::Nul);
    }
    Ok(())
}

/// The automatic piece length for `total` bytes of content: the smallest power of two from
/// [`MIN_PIECE_LENGTH`] (16 KiB) to [`MAX_PIECE_LENGTH`] (16 MiB) that gives at most
/// [`TARGET_MAX_PIECES`] (2000) pieces. Halving it would give more than 2000 pieces, so between
/// 32 MiB and 32 GiB of content there are 1000 to 2000 pieces; smaller content gets 16 KiB pieces
/// (fewer of them), larger content 16 MiB pieces (more of them).
pub fn piece_length_for(total: u64) -> u32 {
    let mut pl = MIN_PIECE_LENGTH;
    while pl < MAX_PIECE_LENGTH && total.div_ceil(u64::from(pl)) > TARGET_MAX_PIECES {
        pl *= 2;
    }
    pl
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// The UTF-8 name of a path's last component, checked with [`check_component`].
fn checked_name(name: &std::ffi::OsStr, whole: &Path) -> io::Result<String> {
    let s = name
        .to_str()
        .ok_or_else(|| invalid(format!("{}: {}", whole.display(), NameError::NotUtf8)))?;
    check_component(s).map_err(|e| invalid(format!("{}: {e}", whole.display())))?;
    Ok(s.to_owned())
}

/// The layout of `path`: a regular file (or a link to one) gives a single-file layout, a
/// directory every regular file below it, recursively, in torrent order (see the module
/// documentation for hidden files, links and order). Names that are not UTF-8 or fail
/// [`check_component`] are refused with an `InvalidData` error naming the path.
pub fn scan(path: &Path) -> io::Result<Layout> {
    let meta = fs::metadata(path)?;
    let base = match path.file_name() {
        Some(n) => PathBuf::from(n),
        None => fs::canonicalize(path)?
            .file_name()
            .map(PathBuf::from)
            .ok_or_else(|| invalid(format!("{}: has no file name", path.display())))?,
    };
    let name = checked_name(base.as_os_str(), path)?;
    if meta.is_file() {
        return Ok(Layout {
            name,
            files: vec![FileEntry {
                path: Vec::new(),
                length: meta.len(),
            }],
            is_single_file: true,
        });
    }
    if !meta.is_dir() {
        return Err(invalid(format!(
            "{}: not a regular file or directory",
            path.display()
        )));
    }
    let mut layout = Layout {
        name,
        files: Vec::new(),
        is_single_file: false,
    };
    let mut prefix = Vec::new();
    walk(path, &mut prefix, &mut layout.files)?;
    layout.sort_files();
    Ok(layout)
}

fn walk(dir: &Path, prefix: &mut Vec<String>, files: &mut Vec<FileEntry>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let full = entry.path();
        let name = checked_name(&entry.file_name(), &full)?;
        let link = entry.file_type()?.is_symlink();
        let meta = fs::metadata(&full)?;
        if meta.is_dir() {
            if link {
                return Err(invalid(format!(
                    "{}: symbolic link to a directory",
                    full.display()
                )));
            }
            prefix.push(name);
            walk(&full, prefix, files)?;
            prefix.pop();
        } else if meta.is_file() {
            let mut path = prefix.clone();
            path.push(name);
            files.push(FileEntry {
                path,
                length: meta.len(),
            });
        }
    }
    Ok(())
}

/// The on-disk path of `file` in a torrent rooted at `root` (the file itself for single-file).
pub fn file_path(root: &Path, layout: &Layout, file: &FileEntry) -> PathBuf {
    if layout.is_single_file {
        root.to_path_buf()
    } else {
        let mut p = root.to_path_buf();
        p.extend(&file.path);
        p
    }
}

/// Reads the files of `layout` below `root` (for a single-file layout, `root` is the file) in
/// order, 64 KiB at a time, and returns the concatenated piece hashes. Blocking: for tests and
/// tools; the publisher feeds a [`PieceHasher`] from the event loop instead. A file shorter
/// than its `length` is an `UnexpectedEof` error; bytes past it are ignored.
pub fn hash_paths(root: &Path, layout: &Layout, piece_length: u32) -> io::Result<Vec<u8>> {
    layout
        .check_names()
        .map_err(|e| invalid(format!("{}: {e}", root.display())))?;
    let mut h = PieceHasher::new(piece_length);
    let mut buf = vec![0u8; 64 * 1024];
    for f in &layout.files {
        let p = file_path(root, layout, f);
        let mut file = File::open(&p)?;
        let mut left = f.length;
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = file.read(&mut buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{}: shorter than {} bytes", p.display(), f.length),
                ));
            }
            h.feed(&buf[..n]);
            left -= n as u64;
        }
    }
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piece_length_boundaries() {
        const K: u64 = 1024;
        const M: u64 = 1024 * K;
        assert_eq!(piece_length_for(0), 16 * 1024);
        assert_eq!(piece_length_for(1), 16 * 1024);
        // 2000 pieces of 16 KiB exactly, then one byte more.
        assert_eq!(piece_length_for(2000 * 16 * K), 16 * 1024);
        assert_eq!(piece_length_for(2000 * 16 * K + 1), 32 * 1024);
        assert_eq!(piece_length_for(2000 * 32 * K), 32 * 1024);
        assert_eq!(piece_length_for(2000 * 32 * K + 1), 64 * 1024);
        assert_eq!(piece_length_for(2000 * 8 * M), 8 * 1024 * 1024);
        assert_eq!(piece_length_for(2000 * 8 * M + 1), 16 * 1024 * 1024);
        assert_eq!(piece_length_for(2000 * 16 * M + 1), 16 * 1024 * 1024);
        assert_eq!(piece_length_for(u64::MAX), 16 * 1024 * 1024);
        // Within the range, 1000..=2000 pieces.
        for total in [40 * M, 100 * M, 700 * M, 4 * 1024 * M, 30 * 1024 * M] {
            let pl = u64::from(piece_length_for(total));
            assert!(pl.is_power_of_two());
            let n = total.div_ceil(pl);
            assert!((1000..=2000).contains(&n), "{total}: {n} pieces");
        }
    }

    #[test]
    fn names() {
        for ok in ["a", "a b", "ünïcode ✓", ".hidden", "...", "a..b", "-"] {
            assert_eq!(check_component(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_component(""), Err(NameError::Empty));
        assert_eq!(check_component("."), Err(NameError::Dot));
        assert_eq!(check_component(".."), Err(NameError::Dot));
        assert_eq!(check_component("/"), Err(NameError::Separator));
        assert_eq!(check_component("/etc"), Err(NameError::Separator));
        assert_eq!(check_component("a/b"), Err(NameError::Separator));
        assert_eq!(check_component("..\\x"), Err(NameError::Separator));
        assert_eq!(check_component("a\0b"), Err(NameError::Nul));
    }

    #[test]
    fn layout_checks_and_order() {
        let f = |p: &[&str]| FileEntry {
            path: p.iter().map(|s| s.to_string()).collect(),
            length: 1,
        };
        let mut l = Layout {
            name: "d".into(),
            files: vec![
                f(&["a", "b"]),
                f(&["a.d"]),
                f(&["a-c"]),
                f(&["B"]),
                f(&[".h"]),
            ],
            is_single_file: false,
        };
        l.sort_files();
        let order: Vec<String> = l.files.iter().map(|f| f.path.join("/")).collect();
        assert_eq!(order, [".h", "B", "a-c", "a.d", "a/b"]);
        assert_eq!(l.total_length(), 5);
        assert_eq!(l.check_names(), Ok(()));
        l.files.push(f(&["x", ".."]));
        assert_eq!(l.check_names(), Err(NameError::Dot));
        l.files.pop();
        l.files.push(f(&[]));
        assert_eq!(l.check_names(), Err(NameError::Empty));
        l.files.pop();
        l.name = "..".into();
        assert_eq!(l.check_names(), Err(NameError::Dot));
    }
}
