//! Named pipes for opentracker's dynamic access lists (`access.fifo_add`, `access.fifo_delete`).

use std::fs::OpenOptions;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Opens the FIFO at `path` for reading without blocking, creating it (mode 0600) if missing.
/// It is opened read-write, so the loop never sees end-of-file when a writer closes it (and
/// keeps its place for the next writer). An existing file that is not a FIFO is an error.
pub fn open(path: &Path) -> io::Result<mio::unix::pipe::Receiver> {
    match std::fs::metadata(path) {
        Ok(m) if !m.file_type().is_fifo() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "exists and is not a FIFO",
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => mkfifo(path)?,
        Err(e) => return Err(e),
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    Ok(mio::unix::pipe::Receiver::from(std::os::fd::OwnedFd::from(
        file,
    )))
}

fn mkfifo(path: &Path) -> io::Result<()> {
    let mut c = path.as_os_str().as_bytes().to_vec();
    if c.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "path holds a NUL byte",
        ));
    }
    c.push(0);
    // SAFETY: `c` is a NUL-terminated byte string that lives across the call.
    let rc = unsafe { libc::mkfifo(c.as_ptr().cast(), 0o600) };
    super::check(rc)
}
