//! The scratch files of `bench hash-latency`, `bench sendfile` and `bench seeding`: room for
//! them, their pseudo-random contents, and a guard that removes them however the bench ends.

use crate::latency;
use crate::report::group;
use crate::stop;
use crate::sys::{self, FsInfo};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// A scratch file or directory tree, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// `path` as a fresh, empty directory (whatever was there is removed first).
    pub fn dir(path: PathBuf) -> io::Result<Scratch> {
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path)?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = if self.0.is_dir() {
            fs::remove_dir_all(&self.0)
        } else {
            fs::remove_file(&self.0)
        };
    }
}

/// Creates `dir` and checks that its file system has `need` bytes free; otherwise the error
/// says "DIR has N MiB free; `needs` M MiB (use --dir or --size-mib)", `needs` being e.g.
/// "the file needs".
pub fn room(dir: &Path, need: u64, needs: &str) -> io::Result<FsInfo> {
    fs::create_dir_all(dir)?;
    let fsi = sys::fs_info(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("statfs {}: {e}", dir.display())))?;
    if fsi.available < need {
        return Err(io::Error::other(format!(
            "{} has {} MiB free; {needs} {} MiB (use --dir or --size-mib)",
            dir.display(),
            group(fsi.available >> 20),
            group(need >> 20)
        )));
    }
    Ok(fsi)
}

/// Writes `size` pseudo-random bytes (splitmix64) to `path` and flushes them to disk.
pub fn write_random_file(path: &Path, size: u64) -> io::Result<()> {
    let mut f = File::create(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut state = latency::seed();
    let mut left = size;
    while left > 0 {
        stop::check()?;
        for c in buf.chunks_exact_mut(8) {
            c.copy_from_slice(&latency::next(&mut state).to_ne_bytes());
        }
        let n = left.min(buf.len() as u64) as usize;
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}

/// Reads `file` to its end, so that what follows finds it in the page cache.
pub fn warm(mut file: &File) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    while file.read(&mut buf)? > 0 {
        stop::check()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_file_is_not_zeros() {
        let p = std::env::temp_dir().join(format!("random-file-test-{}", std::process::id()));
        write_random_file(&p, (1 << 20) + 5).unwrap();
        let b = fs::read(&p).unwrap();
        let _ = fs::remove_file(&p);
        assert_eq!(b.len(), (1 << 20) + 5);
        let zeros = b.iter().filter(|&&x| x == 0).count();
        assert!(zeros < b.len() / 100, "{zeros} zero bytes");
    }

    #[test]
    fn scratch_is_removed() {
        let base = std::env::temp_dir().join(format!("scratch-test-{}", std::process::id()));
        let d = Scratch::dir(base.clone()).unwrap();
        fs::write(d.0.join("f"), b"x").unwrap();
        drop(d);
        assert!(!base.exists());
        fs::write(&base, b"x").unwrap();
        drop(Scratch(base.clone()));
        assert!(!base.exists());
    }
}
