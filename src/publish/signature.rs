//! What a published entry looked like on disk: enough to tell, without reading any content,
//! whether it changed since it was hashed (sizes, modification times, names), and how long ago
//! it last changed (the settle rule).

use crate::metainfo::{self, Layout};
use std::fs;
use std::io;
use std::path::Path;
use std::time::UNIX_EPOCH;

/// Sizes, names and modification times of an entry's files (and of its `.info` file), folded
/// into a 64-bit digest. Two observations with equal signatures are taken as equal content, as
/// `make` and `rsync` do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signature {
    pub total_len: u64,
    pub files: u32,
    pub digest: u64,
}

/// One look at an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observed {
    pub sig: Signature,
    /// The newest modification time among its files, directories and `.info` file, in Unix
    /// seconds (0 when unknown).
    pub newest_mtime: u64,
}

/// FNV-1a, 64-bit: tiny and good enough to notice a change (not an adversary's collision).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn num(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes());
    }
}

/// Modification time in nanoseconds since the epoch (0 before it or when unknown).
fn mtime_ns(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| {
            d.as_secs().saturating_mul(1_000_000_000) + u64::from(d.subsec_nanos())
        })
}

/// Observes the entry rooted at `root` with the layout `layout` (from [`metainfo::scan`]) and
/// its optional `.info` file. Every file is looked at again (`stat`), so a file that changed
/// since `layout` was made changes the signature; a file that vanished is an error.
pub fn observe(root: &Path, layout: &Layout, info_file: Option<&Path>) -> io::Result<Observed> {
    let mut h = Fnv::new();
    let mut newest = 0u64;
    let mut total = 0u64;
    h.bytes(layout.name.as_bytes());
    h.num(u64::from(layout.is_single_file));
    for f in &layout.files {
        let meta = fs::metadata(metainfo::file_path(root, layout, f))?;
        let m = mtime_ns(&meta);
        newest = newest.max(m);
        total = total.saturating_add(meta.len());
        for c in &f.path {
            h.bytes(c.as_bytes());
            h.bytes(b"/");
        }
        h.num(meta.len());
        h.num(m);
    }
    if !layout.is_single_file {
        // A directory's own time changes when an entry is added, removed or renamed in it.
        newest = newest.max(mtime_ns(&fs::metadata(root)?));
    }
    match info_file.map(fs::metadata) {
        Some(Ok(meta)) => {
            h.bytes(b"\0info");
            h.num(meta.len());
            h.num(mtime_ns(&meta));
            newest = newest.max(mtime_ns(&meta));
        }
        Some(Err(e)) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    Ok(Observed {
        sig: Signature {
            total_len: total,
            files: u32::try_from(layout.files.len()).unwrap_or(u32::MAX),
            digest: h.0,
        },
        newest_mtime: newest / 1_000_000_000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;
    use std::time::{Duration, SystemTime};

    fn tmpdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("trackseed-sig-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn set_mtime(p: &Path, secs_ago: u64) {
        let t = SystemTime::now() - Duration::from_secs(secs_ago);
        File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn changes_with_size_time_names_and_info() {
        let d = tmpdir("changes");
        let f = d.join("a.bin");
        fs::write(&f, b"hello").unwrap();
        set_mtime(&f, 100);
        let look = || {
            let l = metainfo::scan(&f).unwrap();
            observe(&f, &l, Some(&d.join("a.bin.info"))).unwrap()
        };
        let first = look();
        assert_eq!(first.sig.total_len, 5);
        assert_eq!(first.sig.files, 1);
        assert_eq!(look(), first, "stable when nothing changes");
        let age = crate::clock::unix_secs() - first.newest_mtime;
        assert!((99..=102).contains(&age), "{age}");

        set_mtime(&f, 50);
        let touched = look();
        assert_ne!(touched.sig, first.sig, "mtime");
        File::options()
            .append(true)
            .open(&f)
            .unwrap()
            .write_all(b"!")
            .unwrap();
        set_mtime(&f, 50);
        let grown = look();
        assert_ne!(grown.sig, touched.sig, "size");
        fs::write(d.join("a.bin.info"), b"args=--comment x\n").unwrap();
        assert_ne!(look().sig, grown.sig, ".info file");

        let dir = d.join("folder");
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("sub/x"), b"1").unwrap();
        let l = metainfo::scan(&dir).unwrap();
        let before = observe(&dir, &l, None).unwrap();
        fs::rename(dir.join("sub/x"), dir.join("sub/y")).unwrap();
        let l2 = metainfo::scan(&dir).unwrap();
        assert_ne!(observe(&dir, &l2, None).unwrap().sig, before.sig, "rename");
        fs::remove_file(dir.join("sub/y")).unwrap();
        assert!(observe(&dir, &l2, None).is_err(), "vanished file");
        fs::remove_dir_all(&d).unwrap();
    }
}
