//! The seeder's open files: a small LRU cache of read-only descriptors, because routers have
//! low descriptor limits and a swarm asks for blocks of many files at random.
//!
//! Every file is checked against what the publisher hashed ([`Expect`]: size and modification
//! time, as the publisher's signature compares them) when it is opened and again, by `fstat` on
//! the open descriptor, when it is used more than the recheck interval ([`RECHECK`]) after its
//! last check. A mismatch is [`OpenError::Changed`]: the descriptor is closed and forgotten, and
//! the caller must stop serving that torrent, since a changed file must never be served as the
//! old torrent. Within the interval after a change, blocks of the new content may still go out;
//! the peers' piece hash check rejects them. A file replaced by a rename keeps being read
//! through the old descriptor (the old, unchanged content) until it is evicted or forgotten; the
//! publisher notices the replacement itself.
//!
//! Capacity is fixed at construction and the table is allocated once; no more than that many
//! descriptors are ever open at once (the least recently used is closed before a new one is
//! opened). Files are opened with `O_RDONLY | O_CLOEXEC` and no access-pattern advice (blocks are
//! read at random).

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// How long a check of a file's size and modification time stays good.
pub const RECHECK: Duration = Duration::from_secs(2);

/// A file, named by the caller's slot numbers: its torrent and its index within the torrent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileKey {
    pub torrent: u32,
    pub file: u32,
}

/// What the publisher hashed: the file's size and modification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect {
    pub len: u64,
    /// Nanoseconds since the Unix epoch (0 before it or when unknown), as [`mtime_ns`].
    pub mtime_ns: u64,
}

impl Expect {
    /// What `meta` says now.
    pub fn of(meta: &fs::Metadata) -> Expect {
        Expect {
            len: meta.len(),
            mtime_ns: mtime_ns(meta),
        }
    }
}

/// Modification time in nanoseconds since the epoch (0 before it or when unknown), the unit the
/// publisher's signature uses.
pub fn mtime_ns(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| {
            d.as_secs().saturating_mul(1_000_000_000) + u64::from(d.subsec_nanos())
        })
}

/// Why a file cannot be served.
#[derive(Debug)]
pub enum OpenError {
    /// Its size or modification time is not what was hashed: stop serving its torrent.
    Changed,
    /// Opening or `fstat` failed (gone, no permission, out of descriptors...).
    Io(io::Error),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Changed => f.write_str("changed since it was hashed"),
            OpenError::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for OpenError {}

struct Entry {
    key: FileKey,
    file: File,
    expect: Expect,
    /// When size and modification time were last found equal to `expect`.
    checked: Instant,
}

/// The cache. Entries are kept in order of use, least recently used first.
pub struct OpenFiles {
    entries: Vec<Entry>,
    capacity: usize,
    recheck: Duration,
}

impl OpenFiles {
    /// Room for `capacity` open files (at least 1; `seed.max_open_files`), each checked again
    /// when used `recheck` ([`RECHECK`]; 0 checks at every use) after its last check.
    pub fn new(capacity: usize, recheck: Duration) -> OpenFiles {
        let capacity = capacity.max(1);
        OpenFiles {
            entries: Vec::with_capacity(capacity),
            capacity,
            recheck,
        }
    }

    /// The open file `key`, opened from `path()` if it is not open, checked against `expect`
    /// when opened and when its last check is `recheck` old. A file cached under `key` with
    /// another `expect` is reopened (the caller's slot now names another file). On `Changed`
    /// or an error the key is no longer open.
    pub fn get(
        &mut self,
        key: FileKey,
        path: impl FnOnce() -> PathBuf,
        expect: Expect,
        now: Instant,
    ) -> Result<&File, OpenError> {
        if let Some(i) = self.entries.iter().position(|e| e.key == key) {
            let e = &self.entries[i];
            if e.expect != expect {
                self.entries.remove(i);
            } else {
                if now.saturating_duration_since(e.checked) >= self.recheck {
                    let found = e.file.metadata().map(|m| Expect::of(&m));
                    if let Err(err) = verdict(found, expect) {
                        self.entries.remove(i);
                        return Err(err);
                    }
                    self.entries[i].checked = now;
                }
                // The most recently used goes last.
                self.entries[i..].rotate_left(1);
                return Ok(&self.entries.last().expect("just moved").file);
            }
        }
        if self.entries.len() >= self.capacity {
            // Closed before the new one opens: never more than `capacity` descriptors.
            self.entries.remove(0);
        }
        let file = File::open(path()).map_err(OpenError::Io)?;
        verdict(file.metadata().map(|m| Expect::of(&m)), expect)?;
        self.entries.push(Entry {
            key,
            file,
            expect,
            checked: now,
        });
        Ok(&self.entries.last().expect("just pushed").file)
    }

    /// Closes every open file of `torrent`.
    pub fn forget_torrent(&mut self, torrent: u32) {
        self.entries.retain(|e| e.key.torrent != torrent);
    }

    /// Closes file `key` if it is open.
    pub fn forget(&mut self, key: FileKey) {
        self.entries.retain(|e| e.key != key);
    }

    /// Files open now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most files ever open at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether `key` is open.
    pub fn contains(&self, key: FileKey) -> bool {
        self.entries.iter().any(|e| e.key == key)
    }
}

/// `fstat`'s answer against what was hashed.
fn verdict(found: io::Result<Expect>, expect: Expect) -> Result<(), OpenError> {
    match found {
        Ok(f) if f == expect => Ok(()),
        Ok(_) => Err(OpenError::Changed),
        Err(e) => Err(OpenError::Io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::Path;
    use std::time::SystemTime;

    /// A fresh directory for one test, removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Dir {
            let d = std::env::temp_dir()
                .join(format!("trackseed-openfiles-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&d);
            fs::create_dir_all(&d).unwrap();
            Dir(d)
        }

        /// Creates file `name` of `len` bytes; its path and what it looks like.
        fn file(&self, name: &str, len: usize) -> (PathBuf, Expect) {
            let p = self.0.join(name);
            fs::write(&p, vec![b'x'; len]).unwrap();
            let e = Expect::of(&fs::metadata(&p).unwrap());
            (p, e)
        }

        /// Descriptors of this process open on files in this directory.
        fn open_fds(&self) -> usize {
            fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|e| fs::read_link(e.ok()?.path()).ok())
                .filter(|target| target.starts_with(&self.0))
                .count()
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn key(torrent: u32, file: u32) -> FileKey {
        FileKey { torrent, file }
    }

    fn get<'a>(
        c: &'a mut OpenFiles,
        k: FileKey,
        p: &Path,
        e: Expect,
        now: Instant,
    ) -> Result<&'a File, OpenError> {
        c.get(k, || p.to_path_buf(), e, now)
    }

    #[test]
    fn never_more_than_capacity_and_least_recently_used_goes() {
        let d = Dir::new("lru");
        let files: Vec<_> = (0..6).map(|i| d.file(&format!("f{i}"), 10 + i)).collect();
        let mut c = OpenFiles::new(3, RECHECK);
        let t = Instant::now();
        for (i, (p, e)) in files.iter().enumerate() {
            get(&mut c, key(1, i as u32), p, *e, t).unwrap();
            assert!(c.len() <= 3);
            assert!(d.open_fds() <= 3, "{} open", d.open_fds());
        }
        assert_eq!(d.open_fds(), 3);
        // Open now: 3, 4, 5 (3 least recently used). Using 3 makes 4 the oldest.
        let opened = std::cell::Cell::new(0);
        let hit = |c: &mut OpenFiles, i: usize| {
            let (p, e) = &files[i];
            c.get(
                key(1, i as u32),
                || {
                    opened.set(opened.get() + 1);
                    p.clone()
                },
                *e,
                t,
            )
            .map(|f| f.metadata().unwrap().len())
            .unwrap()
        };
        assert_eq!(hit(&mut c, 3), 13);
        assert_eq!(opened.get(), 0, "a hit does not open");
        assert_eq!(hit(&mut c, 0), 10);
        assert_eq!(opened.get(), 1);
        assert!(c.contains(key(1, 3)) && c.contains(key(1, 5)) && !c.contains(key(1, 4)));
        // Now 5, 3, 0 by age: 5 goes next.
        hit(&mut c, 4);
        assert!(!c.contains(key(1, 5)));
        assert!(c.contains(key(1, 3)) && c.contains(key(1, 0)) && c.contains(key(1, 4)));
        assert_eq!(d.open_fds(), 3);
        assert_eq!(c.capacity(), 3);
        // Capacity 0 still holds one file.
        let mut one = OpenFiles::new(0, RECHECK);
        get(&mut one, key(2, 0), &files[0].0, files[0].1, t).unwrap();
        get(&mut one, key(2, 1), &files[1].0, files[1].1, t).unwrap();
        assert_eq!(one.len(), 1);
        assert!(one.contains(key(2, 1)));
    }

    #[test]
    fn a_grown_file_is_changed_and_closed() {
        let d = Dir::new("grown");
        let (p, e) = d.file("a", 100);
        let mut c = OpenFiles::new(4, Duration::ZERO);
        let t = Instant::now();
        get(&mut c, key(1, 0), &p, e, t).unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"more")
            .unwrap();
        let r = get(&mut c, key(1, 0), &p, e, t);
        assert!(matches!(r, Err(OpenError::Changed)), "{r:?}");
        assert!(c.is_empty());
        assert_eq!(d.open_fds(), 0, "the changed file was closed");
        // Opening it again finds it changed too, and keeps nothing open.
        let r = get(&mut c, key(1, 0), &p, e, t);
        assert!(matches!(r, Err(OpenError::Changed)), "{r:?}");
        assert_eq!(d.open_fds(), 0);
    }

    #[test]
    fn a_new_mtime_of_the_same_size_is_changed_after_the_recheck_interval() {
        let d = Dir::new("mtime");
        let (p, e) = d.file("a", 100);
        let mut c = OpenFiles::new(4, RECHECK);
        let t = Instant::now();
        get(&mut c, key(1, 0), &p, e, t).unwrap();
        let w = fs::OpenOptions::new().write(true).open(&p).unwrap();
        w.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        // Within the interval the open file is not looked at again.
        get(&mut c, key(1, 0), &p, e, t + Duration::from_millis(1999)).unwrap();
        let r = get(&mut c, key(1, 0), &p, e, t + RECHECK);
        assert!(matches!(r, Err(OpenError::Changed)), "{r:?}");
        assert!(!c.contains(key(1, 0)));
        // An unchanged file passes its rechecks, each from the last one.
        let (q, f) = d.file("b", 50);
        get(&mut c, key(1, 1), &q, f, t).unwrap();
        for s in 1..5 {
            get(&mut c, key(1, 1), &q, f, t + RECHECK * s).unwrap();
        }
        assert!(c.contains(key(1, 1)));
    }

    #[test]
    fn errors_and_a_new_expectation() {
        let d = Dir::new("errors");
        let mut c = OpenFiles::new(4, RECHECK);
        let t = Instant::now();
        let e = Expect {
            len: 1,
            mtime_ns: 1,
        };
        let r = get(&mut c, key(1, 0), &d.0.join("missing"), e, t);
        assert!(
            matches!(&r, Err(OpenError::Io(err)) if err.kind() == io::ErrorKind::NotFound),
            "{r:?}"
        );
        assert!(c.is_empty());
        // The slot now names another file: reopened from the new path, not served from the
        // old descriptor.
        let (a, ea) = d.file("a", 10);
        let (b, eb) = d.file("b", 20);
        get(&mut c, key(1, 0), &a, ea, t).unwrap();
        let f = get(&mut c, key(1, 0), &b, eb, t).unwrap();
        assert_eq!(f.metadata().unwrap().len(), 20);
        assert_eq!(c.len(), 1);
        assert_eq!(d.open_fds(), 1);
        assert_eq!(
            OpenError::Changed.to_string(),
            "changed since it was hashed"
        );
    }

    #[test]
    fn forget_torrent_closes_its_files_only() {
        let d = Dir::new("forget");
        let files: Vec<_> = (0..4).map(|i| d.file(&format!("f{i}"), 10)).collect();
        let mut c = OpenFiles::new(8, RECHECK);
        let t = Instant::now();
        for (i, (p, e)) in files.iter().enumerate() {
            get(&mut c, key(i as u32 % 2, i as u32), p, *e, t).unwrap();
        }
        assert_eq!(d.open_fds(), 4);
        c.forget_torrent(0);
        assert_eq!(c.len(), 2);
        assert_eq!(d.open_fds(), 2);
        assert!(c.contains(key(1, 1)) && c.contains(key(1, 3)));
        c.forget_torrent(7);
        assert_eq!(c.len(), 2);
        c.forget(key(1, 1));
        assert!(!c.contains(key(1, 1)) && c.contains(key(1, 3)));
        c.forget_torrent(1);
        assert!(c.is_empty());
        assert_eq!(d.open_fds(), 0);
    }

    #[test]
    fn mtime_in_nanoseconds() {
        let d = Dir::new("ns");
        let (p, _) = d.file("a", 1);
        let w = fs::OpenOptions::new().write(true).open(&p).unwrap();
        let when = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        w.set_modified(when).unwrap();
        let m = fs::metadata(&p).unwrap();
        assert_eq!(mtime_ns(&m), 1_700_000_000_123_456_789);
        assert_eq!(
            Expect::of(&m),
            Expect {
                len: 1,
                mtime_ns: 1_700_000_000_123_456_789
            }
        );
    }
}
