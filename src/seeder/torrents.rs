//! The torrents the seeder serves: one record per published torrent, in a table reserved at
//! start (`seed.max_torrents`), found by info hash with a binary search. A record holds what
//! serving needs and nothing more: where each file is and what it looked like when it was
//! hashed (so a changed file is never served as the old torrent), and where the info
//! dictionary sits in the `.torrent` file (ut_metadata answers are read from there, not kept).

pub use super::files::Expect;
use crate::ids::InfoHash;
use crate::metainfo::{self, read};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct SeedFile {
    pub path: PathBuf,
    /// Offset of the file's first byte in the torrent's content.
    pub start: u64,
    pub expect: Expect,
}

#[derive(Debug)]
pub struct SeedTorrent {
    pub info_hash: InfoHash,
    /// The entry's name (for the log).
    pub name: String,
    /// The site that published it.
    pub site: usize,
    pub piece_length: u32,
    pub piece_count: u32,
    pub total_len: u64,
    pub files: Vec<SeedFile>,
    /// The `.torrent` file (and what it looked like when loaded) and the info dictionary's
    /// place in it (ut_metadata).
    pub torrent_path: PathBuf,
    pub torrent_expect: Expect,
    pub info_offset: u64,
    pub info_len: u32,
    pub is_private: bool,
    /// Bytes per second for this torrent (`.info` `seeder_args=--max_upload_rate`); 0 = only
    /// the global limit.
    pub max_upload_rate: u32,
}

impl SeedTorrent {
    /// Reads the `.torrent` at `torrent_path` (published for content at `root`), checks it is
    /// `info_hash`, and looks at every file: each must have the length the torrent says. The
    /// files' times are taken as they are now; the caller checks that they are the times the
    /// publisher hashed (the entry's signature).
    pub fn load(
        torrent_path: &Path,
        root: &Path,
        info_hash: &InfoHash,
        site: usize,
    ) -> io::Result<SeedTorrent> {
        let bytes = fs::read(torrent_path)?;
        let torrent_expect = Expect::of(&fs::metadata(torrent_path)?);
        let t = read::parse_torrent(&bytes)
            .map_err(|e| io::Error::other(format!("{}: {e}", torrent_path.display())))?;
        if &t.info_hash != info_hash {
            return Err(io::Error::other(format!(
                "{}: not the torrent published (info hash differs)",
                torrent_path.display()
            )));
        }
        let mut files = Vec::with_capacity(t.layout.files.len());
        let mut start = 0u64;
        for f in &t.layout.files {
            let path = metainfo::file_path(root, &t.layout, f);
            let meta = fs::metadata(&path)?;
            if meta.len() != f.length {
                return Err(io::Error::other(format!(
                    "{}: {} bytes, the torrent says {}",
                    path.display(),
                    meta.len(),
                    f.length
                )));
            }
            files.push(SeedFile {
                path,
                start,
                expect: Expect::of(&meta),
            });
            start += f.length;
        }
        Ok(SeedTorrent {
            info_hash: t.info_hash,
            name: t.layout.name.clone(),
            site,
            piece_length: t.piece_length,
            piece_count: u32::try_from(t.piece_count).unwrap_or(u32::MAX),
            total_len: start,
            files,
            torrent_path: torrent_path.to_path_buf(),
            torrent_expect,
            info_offset: t.info.start as u64,
            info_len: u32::try_from(t.info.len()).unwrap_or(u32::MAX),
            is_private: t.is_private,
            max_upload_rate: 0,
        })
    }

    /// The file holding content byte `offset` and the offset within it; `None` past the end.
    /// Empty files are skipped (they hold no byte).
    pub fn locate(&self, offset: u64) -> Option<(usize, u64)> {
        if offset >= self.total_len {
            return None;
        }
        // The last file whose start is <= offset and that is not empty.
        let i = self.files.partition_point(|f| f.start <= offset);
        let mut i = i.checked_sub(1)?;
        while self.file_len(i) == 0 {
            i = i.checked_sub(1)?;
        }
        Some((i, offset - self.files[i].start))
    }

    pub fn file_len(&self, i: usize) -> u64 {
        self.files.get(i).map_or(0, |f| f.expect.len)
    }

    /// Content offset of byte `begin` of piece `index`.
    pub fn offset(&self, index: u32, begin: u32) -> u64 {
        u64::from(index) * u64::from(self.piece_length) + u64::from(begin)
    }
}

/// The seeded torrents, by slot.
pub struct Torrents {
    slots: Vec<Option<SeedTorrent>>,
    free: Vec<u32>,
    /// (info hash, slot), sorted by hash.
    by_hash: Vec<(InfoHash, u32)>,
}

/// The table is full (`seed.max_torrents`).
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

impl Torrents {
    pub fn new(capacity: u32) -> Torrents {
        let n = capacity as usize;
        let mut slots = Vec::with_capacity(n);
        slots.resize_with(n, || None);
        Torrents {
            slots,
            free: (0..capacity).rev().collect(),
            by_hash: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    pub fn find(&self, h: &InfoHash) -> Option<u32> {
        self.by_hash
            .binary_search_by(|(x, _)| x.cmp(h))
            .ok()
            .map(|i| self.by_hash[i].1)
    }

    pub fn get(&self, slot: u32) -> Option<&SeedTorrent> {
        self.slots.get(slot as usize)?.as_ref()
    }

    pub fn insert(&mut self, t: SeedTorrent) -> Result<u32, Full> {
        if self.find(&t.info_hash).is_some() {
            return Err(Full); // Callers check first; a duplicate is not stored twice.
        }
        let slot = self.free.pop().ok_or(Full)?;
        let at = self.by_hash.partition_point(|(x, _)| x < &t.info_hash);
        self.by_hash.insert(at, (t.info_hash, slot));
        self.slots[slot as usize] = Some(t);
        Ok(slot)
    }

    pub fn remove(&mut self, slot: u32) -> Option<SeedTorrent> {
        let t = self.slots.get_mut(slot as usize)?.take()?;
        self.by_hash.retain(|(_, s)| *s != slot);
        self.free.push(slot);
        Some(t)
    }

    /// Every (slot, torrent).
    pub fn iter(&self) -> impl Iterator<Item = (u32, &SeedTorrent)> {
        self.by_hash
            .iter()
            .filter_map(|(_, s)| Some((*s, self.get(*s)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn torrent(hash: u8, lens: &[u64]) -> SeedTorrent {
        let mut start = 0;
        let files = lens
            .iter()
            .map(|&len| {
                let f = SeedFile {
                    path: PathBuf::from("x"),
                    start,
                    expect: Expect { len, mtime_ns: 0 },
                };
                start += len;
                f
            })
            .collect();
        SeedTorrent {
            info_hash: InfoHash([hash; 20]),
            name: "t".into(),
            site: 0,
            piece_length: 16384,
            piece_count: 1,
            total_len: start,
            files,
            torrent_path: PathBuf::new(),
            torrent_expect: Expect {
                len: 0,
                mtime_ns: 0,
            },
            info_offset: 0,
            info_len: 0,
            is_private: false,
            max_upload_rate: 0,
        }
    }

    #[test]
    fn locate_skips_empty_files() {
        let t = torrent(1, &[0, 10, 0, 0, 5, 0]);
        assert_eq!(t.locate(0), Some((1, 0)));
        assert_eq!(t.locate(9), Some((1, 9)));
        assert_eq!(t.locate(10), Some((4, 0)));
        assert_eq!(t.locate(14), Some((4, 4)));
        assert_eq!(t.locate(15), None);
        assert_eq!(torrent(1, &[0]).locate(0), None);
    }

    #[test]
    fn table_finds_fills_and_frees() {
        let mut table = Torrents::new(2);
        let a = table.insert(torrent(5, &[1])).unwrap();
        let b = table.insert(torrent(3, &[1])).unwrap();
        assert_eq!(table.insert(torrent(4, &[1])), Err(Full));
        assert_eq!(table.find(&InfoHash([5; 20])), Some(a));
        assert_eq!(table.find(&InfoHash([3; 20])), Some(b));
        assert!(table.remove(a).is_some());
        assert_eq!(table.find(&InfoHash([5; 20])), None);
        assert_eq!(table.len(), 1);
        let c = table.insert(torrent(9, &[1])).unwrap();
        assert_eq!(c, a, "the slot is reused");
        assert_eq!(table.iter().count(), 2);
    }
}
