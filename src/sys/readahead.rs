//! Page-cache advice for the hashing job (`posix_fadvise(2)`), so that reading a big file in
//! slices inside the event loop finds its pages already read.
//!
//! Advice only: every function ignores errors, since the file is read correctly either way, only
//! perhaps slower. The errors there are: `EBADF` (not open), `ESPIPE` (a pipe or FIFO), `EINVAL`
//! (a negative range, impossible here, or a file system that takes no advice); some file
//! systems accept the advice and do nothing with it.
//!
//! Offsets and lengths are `u64`; `off_t` is 64-bit on every target trackseed builds for (musl,
//! 32-bit ones included), and values above `off_t::MAX` are clamped to it. A length of 0 means
//! "to the end of the file", as for `posix_fadvise`.

use std::fs::File;
use std::os::fd::AsRawFd;

/// The file will be read from start to end: the kernel reads ahead more (twice its default
/// window on Linux) and drops pages behind sooner.
pub fn sequential(file: &File) {
    let _ = advise(file, 0, 0, libc::POSIX_FADV_SEQUENTIAL);
}

/// Bytes `offset..offset + len` will be needed soon: Linux starts reading them into the page
/// cache and returns without waiting for the data. The call can still block for a short while
/// to submit the reads (looking up the file's block map, a congested device queue), so ask for
/// a window of a few MiB ahead of the reader, not the whole file at once.
pub fn will_need(file: &File, offset: u64, len: u64) {
    let _ = advise(file, offset, len, libc::POSIX_FADV_WILLNEED);
}

/// Bytes `offset..offset + len` will not be needed again: clean pages of the range leave the
/// page cache (dirty ones stay until written back), so hashing a big file does not push the
/// router's other cached data out.
pub fn dont_need(file: &File, offset: u64, len: u64) {
    let _ = advise(file, offset, len, libc::POSIX_FADV_DONTNEED);
}

/// `posix_fadvise`, which returns the error number instead of setting `errno`.
fn advise(file: &File, offset: u64, len: u64, advice: libc::c_int) -> std::io::Result<()> {
    // SAFETY: posix_fadvise takes a descriptor (valid while `file` is borrowed) and integers.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), off(offset), off(len), advice) };
    match rc {
        0 => Ok(()),
        e => Err(std::io::Error::from_raw_os_error(e)),
    }
}

/// `v` as an `off_t`, clamped to its largest value.
fn off(v: u64) -> libc::off_t {
    libc::off_t::try_from(v).unwrap_or(libc::off_t::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn advice_on_a_regular_file_succeeds() {
        let path = std::env::temp_dir().join(format!("trackseed-fadvise-{}", std::process::id()));
        let mut f = File::create(&path).unwrap();
        f.write_all(&[7u8; 65536]).unwrap();
        drop(f);
        let f = File::open(&path).unwrap();
        for advice in [
            libc::POSIX_FADV_SEQUENTIAL,
            libc::POSIX_FADV_WILLNEED,
            libc::POSIX_FADV_DONTNEED,
        ] {
            advise(&f, 0, 0, advice).unwrap();
            advise(&f, 4096, 8192, advice).unwrap();
            // Past the end, and lengths beyond off_t: clamped, still accepted.
            advise(&f, 1 << 40, u64::MAX, advice).unwrap();
            advise(&f, u64::MAX, u64::MAX, advice).unwrap();
        }
        // The public wrappers (errors ignored) on the same file.
        sequential(&f);
        will_need(&f, 0, 65536);
        dont_need(&f, 0, 65536);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn clamps_to_off_t() {
        assert_eq!(off(0), 0);
        assert_eq!(off(4096), 4096);
        assert_eq!(off(u64::MAX), libc::off_t::MAX);
        assert_eq!(off(1 << 63), libc::off_t::MAX);
    }
}
