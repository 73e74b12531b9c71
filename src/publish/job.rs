//! The hashing job: one entry's content read and hashed a slice at a time, so the event loop
//! keeps answering announces while a large file is hashed on a slow router.
//!
//! Each [`HashJob::step`] reads 64 KiB blocks and feeds them to a [`PieceHasher`] until its time
//! budget is spent. The kernel is asked to read ahead of the job (`POSIX_FADV_SEQUENTIAL`, and
//! `POSIX_FADV_WILLNEED` a few MiB ahead), so that on a cold disk most reads find their data in
//! the page cache instead of blocking the loop.

use crate::metainfo::{self, Layout, PieceHasher};
use crate::sys::readahead;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Bytes read per system call.
const BLOCK: usize = 64 * 1024;
/// How far ahead of the reader the kernel is asked to read.
const READ_AHEAD: u64 = 4 * 1024 * 1024;

/// What a step achieved.
pub enum Progress {
    /// More to do.
    Working,
    /// Every byte is hashed: the concatenated piece digests.
    Finished(Vec<u8>),
    /// A file could not be read, or was shorter than when the job started.
    Failed(io::Error),
}

pub struct HashJob {
    /// The entry's path in the file directory (the file itself for a single-file layout).
    pub root: PathBuf,
    pub layout: Layout,
    /// Content bytes hashed so far, and in total.
    pub done: u64,
    pub total: u64,
    pub started: Instant,
    piece_length: u32,
    hasher: Option<PieceHasher>,
    /// Index in `layout.files` of the file being read, and its handle once open.
    file_index: usize,
    file: Option<File>,
    /// Bytes of the current file read, and where the next read-ahead advice is due.
    in_file: u64,
    advised_to: u64,
    buf: Box<[u8]>,
}

impl HashJob {
    pub fn new(root: PathBuf, layout: Layout, piece_length: u32) -> HashJob {
        let total = layout.total_length();
        HashJob {
            root,
            layout,
            done: 0,
            total,
            started: Instant::now(),
            piece_length,
            hasher: Some(PieceHasher::new(piece_length)),
            file_index: 0,
            file: None,
            in_file: 0,
            advised_to: 0,
            buf: vec![0u8; BLOCK].into_boxed_slice(),
        }
    }

    /// Complete pieces hashed so far (all of them once finished).
    pub fn pieces_done(&self) -> usize {
        match &self.hasher {
            Some(h) => h.pieces_done(),
            None => usize::try_from(self.total.div_ceil(u64::from(self.piece_length)))
                .unwrap_or(usize::MAX),
        }
    }

    pub fn piece_length(&self) -> u32 {
        self.piece_length
    }

    /// Reads and hashes until `budget` is spent (at least one block), the content ends, or a
    /// read fails.
    pub fn step(&mut self, budget: Duration) -> Progress {
        let start = Instant::now();
        loop {
            match self.read_block() {
                Ok(true) => {}
                Ok(false) => {
                    let pieces = self.hasher.take().map(PieceHasher::finish);
                    return Progress::Finished(pieces.unwrap_or_default());
                }
                Err(e) => return Progress::Failed(e),
            }
            if start.elapsed() >= budget {
                return Progress::Working;
            }
        }
    }

    /// Hashes the next block; false once the whole content is hashed.
    fn read_block(&mut self) -> io::Result<bool> {
        loop {
            let Some(entry) = self.layout.files.get(self.file_index) else {
                return Ok(false);
            };
            let length = entry.length;
            let path = metainfo::file_path(&self.root, &self.layout, entry);
            if self.in_file == length {
                self.file = None;
                self.file_index += 1;
                self.in_file = 0;
                self.advised_to = 0;
                continue;
            }
            let file = match &mut self.file {
                Some(f) => f,
                None => {
                    let f = File::open(&path).map_err(|e| with_path(e, &path))?;
                    readahead::sequential(&f);
                    self.file.insert(f)
                }
            };
            if self.in_file + READ_AHEAD / 2 >= self.advised_to {
                readahead::will_need(file, self.advised_to, READ_AHEAD);
                self.advised_to += READ_AHEAD;
            }
            let want = usize::try_from(length - self.in_file).map_or(BLOCK, |n| n.min(BLOCK));
            let n = match file.read(&mut self.buf[..want]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{}: shorter than {length} bytes", path.display()),
                    ))
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(with_path(e, &path)),
            };
            if let Some(h) = &mut self.hasher {
                h.feed(&self.buf[..n]);
            }
            self.in_file += n as u64;
            self.done += n as u64;
            return Ok(true);
        }
    }
}

fn with_path(e: io::Error, path: &std::path::Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn run(job: &mut HashJob) -> Progress {
        for _ in 0..100_000 {
            match job.step(Duration::ZERO) {
                Progress::Working => {}
                other => return other,
            }
        }
        panic!("job did not end");
    }

    #[test]
    fn same_pieces_as_the_blocking_hasher() {
        let d = std::env::temp_dir().join(format!("trackseed-job-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("dir/sub")).unwrap();
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        fs::write(d.join("dir/a"), &bytes[..100_001]).unwrap();
        fs::write(d.join("dir/empty"), b"").unwrap();
        fs::write(d.join("dir/sub/b"), &bytes).unwrap();
        let root = d.join("dir");
        let layout = metainfo::scan(&root).unwrap();
        let want = metainfo::hash_paths(&root, &layout, 32 * 1024).unwrap();
        let mut job = HashJob::new(root.clone(), layout.clone(), 32 * 1024);
        assert_eq!(job.total, 400_001);
        let Progress::Finished(got) = run(&mut job) else {
            panic!("failed")
        };
        assert_eq!(got, want);
        assert_eq!(job.done, 400_001);

        // A file that shrank after the layout was taken: an error naming it, not a panic.
        fs::write(d.join("dir/sub/b"), b"short").unwrap();
        let mut job = HashJob::new(root, layout, 32 * 1024);
        let Progress::Failed(e) = run(&mut job) else {
            panic!("should fail")
        };
        assert!(e.to_string().contains("shorter than 300000 bytes"), "{e}");
        fs::remove_dir_all(&d).unwrap();
    }
}
