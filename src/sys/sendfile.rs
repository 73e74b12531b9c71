//! Uploads of file blocks to a socket: `sendfile(2)`, which copies from the page cache to the
//! socket inside the kernel, with a `pread` + `write` fallback for kernels or file systems
//! without it.
//!
//! The socket is non-blocking, so every call may be short: it returns what the socket took, and
//! a full socket is an error of kind `WouldBlock` (`EAGAIN`) when nothing was taken; a signal
//! before anything was sent is `Interrupted` (`EINTR`). The file position never moves: offsets
//! are passed to every call (a local `off_t` for `sendfile`, `pread` for the fallback), so one
//! open file can serve any number of peers at once.
//!
//! Offsets are `u64`; `off_t` is 64-bit on every target trackseed builds for (musl, 32-bit ones
//! included, where musl's `sendfile` is the `sendfile64` system call). An offset above
//! `off_t::MAX` is `EOVERFLOW`, as the kernel answers for an offset beyond the largest file
//! size. Reading at or past the end of the file sends nothing and returns 0.
//!
//! A peer that closed its connection makes both paths fail with `EPIPE` (or `ECONNRESET`); they
//! would also raise `SIGPIPE`, which trackseed ignores (`sys::signals`), as Rust's runtime does.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

/// One `sendfile(2)` of up to `len` bytes of `file` from `offset` to `sock`: the bytes the socket
/// took (short when it is nearly full or the file ends first; 0 at or past the end of the file,
/// or when `len` is 0).
pub fn send_file(sock: &impl AsRawFd, file: &File, offset: u64, len: usize) -> io::Result<usize> {
    let mut off = to_off(offset)?;
    if len == 0 {
        return Ok(0);
    }
    // SAFETY: sendfile takes two descriptors (valid while `sock` and `file` are borrowed), a
    // pointer to a local off_t it reads and advances, and a count; it touches no other memory.
    let n = unsafe { libc::sendfile(sock.as_raw_fd(), file.as_raw_fd(), &mut off, len) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// Sends file blocks with `sendfile(2)` while it works, and with `pread` into its own buffer and
/// `write` from then on, for good, once the kernel or the file's file system says it cannot
/// (`ENOSYS`, `EINVAL`); the call that found out is served by the fallback, so callers never see
/// the difference. The buffer is allocated once, at construction.
pub struct Sender {
    buf: Box<[u8]>,
    sendfile_works: bool,
}

impl Sender {
    /// A sender whose fallback moves at most `fallback_buf_len` bytes (at least 1) per `pread`:
    /// a block's size (16 KiB) is the natural choice.
    pub fn new(fallback_buf_len: usize) -> Sender {
        Sender {
            buf: vec![0; fallback_buf_len.max(1)].into_boxed_slice(),
            sendfile_works: true,
        }
    }

    /// Up to `len` bytes of `file` from `offset` to the non-blocking `sock`: the bytes the socket
    /// took, as [`send_file`] (including its errors). In the fallback a socket that takes less
    /// than was read reports only what it took; the rest is read again by the next call, from
    /// the offset the caller moves on to.
    pub fn send(
        &mut self,
        sock: &impl AsRawFd,
        file: &File,
        offset: u64,
        len: usize,
    ) -> io::Result<usize> {
        if self.sendfile_works {
            match send_file(sock, file, offset, len) {
                Err(e) if unsupported(&e) => self.sendfile_works = false,
                r => return r,
            }
        }
        self.copy(sock, file, offset, len)
    }

    /// Uses `pread` + `write` from now on (tests and benchmarks).
    pub fn force_fallback(&mut self) {
        self.sendfile_works = false;
    }

    /// Whether `sendfile(2)` is still in use (no failure has switched to the fallback).
    pub fn uses_sendfile(&self) -> bool {
        self.sendfile_works
    }

    /// The fallback: `pread` a buffer's worth, `write` it, until `len` bytes went, the file
    /// ended or the socket took less than it was given. An error after some bytes went reports
    /// those bytes (the error comes back at the next call).
    fn copy(
        &mut self,
        sock: &impl AsRawFd,
        file: &File,
        offset: u64,
        len: usize,
    ) -> io::Result<usize> {
        let mut done = 0usize;
        while done < len {
            // No overflow: offset <= off_t::MAX (checked in the first round) and `done` fits in 63 bits.
            let at = offset + done as u64;
            let want = (len - done).min(self.buf.len());
            let read = to_off(at).and_then(|_| file.read_at(&mut self.buf[..want], at));
            let n = match read {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return partial(done, e),
            };
            let sent = match write(sock, &self.buf[..n]) {
                Ok(k) => k,
                Err(e) => return partial(done, e),
            };
            done += sent;
            if sent < n {
                break;
            }
        }
        Ok(done)
    }
}

/// Whether a `sendfile` error means it cannot be used at all: no such system call (`ENOSYS`),
/// or a file system that cannot feed it (`EINVAL`).
fn unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EINVAL))
}

/// `done` bytes if any went before error `e`, else `e`.
fn partial(done: usize, e: io::Error) -> io::Result<usize> {
    if done > 0 {
        Ok(done)
    } else {
        Err(e)
    }
}

/// One `write(2)` of `buf` to `sock`.
fn write(sock: &impl AsRawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of its length; the descriptor is valid while borrowed.
    let n = unsafe { libc::write(sock.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// `v` as an `off_t`; above its largest value, `EOVERFLOW`.
fn to_off(v: u64) -> io::Result<libc::off_t> {
    libc::off_t::try_from(v).map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::path::PathBuf;
    use std::thread;
    use std::time::Duration;

    const MIB: usize = 1 << 20;

    /// A file of `len` pseudo-random bytes (xorshift, so a misplaced block shows), removed on
    /// drop.
    struct TempFile {
        path: PathBuf,
        data: Vec<u8>,
        file: File,
    }

    impl TempFile {
        fn new(tag: &str, len: usize) -> TempFile {
            let path = std::env::temp_dir()
                .join(format!("trackseed-sendfile-{tag}-{}", std::process::id()));
            let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ len as u64;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            std::fs::write(&path, &data).unwrap();
            let file = File::open(&path).unwrap();
            TempFile { path, data, file }
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// A loopback TCP connection: (non-blocking sending end, blocking receiving end). A small
    /// send buffer, so that sends are often short.
    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let tx = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (rx, _) = listener.accept().unwrap();
        socket2::SockRef::from(&tx)
            .set_send_buffer_size(32768)
            .unwrap();
        tx.set_nonblocking(true).unwrap();
        (tx, rx)
    }

    /// Reads everything until the other end closes, in a thread.
    fn drain(mut rx: TcpStream) -> thread::JoinHandle<Vec<u8>> {
        thread::spawn(move || {
            let mut got = Vec::new();
            rx.read_to_end(&mut got).unwrap();
            got
        })
    }

    /// Sends `file` whole through `sender` in pieces of varying sizes, waiting briefly when
    /// the socket is full; returns (bytes received, short sends, WouldBlocks).
    fn send_all(sender: &mut Sender, tf: &TempFile) -> (Vec<u8>, u32, u32) {
        let (tx, rx) = pair();
        let reader = drain(rx);
        let (mut off, mut short, mut blocked) = (0usize, 0u32, 0u32);
        let pieces = [16384, 13, 1, 65536, 4095, 16384 * 3 + 7];
        let mut i = 0;
        while off < tf.data.len() {
            let want = pieces[i % pieces.len()].min(tf.data.len() - off);
            match sender.send(&tx, &tf.file, off as u64, want) {
                Ok(n) => {
                    assert!(n > 0 && n <= want, "sent {n} of {want}");
                    short += u32::from(n < want);
                    off += n;
                    if n == want {
                        i += 1;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    blocked += 1;
                    thread::sleep(Duration::from_micros(200));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => panic!("send at {off}: {e}"),
            }
        }
        drop(tx);
        (reader.join().unwrap(), short, blocked)
    }

    #[test]
    fn sends_a_file_in_pieces_with_sendfile() {
        let tf = TempFile::new("whole-sf", MIB);
        let mut s = Sender::new(16384);
        let (got, short, blocked) = send_all(&mut s, &tf);
        assert!(s.uses_sendfile(), "sendfile failed over to the fallback");
        assert_eq!(got.len(), tf.data.len());
        assert!(got == tf.data, "bytes differ");
        assert!(short + blocked > 0, "the socket never filled up");
    }

    #[test]
    fn sends_a_file_in_pieces_with_the_fallback() {
        let tf = TempFile::new("whole-fb", MIB);
        // A buffer smaller than most pieces: several preads per call.
        let mut s = Sender::new(5000);
        s.force_fallback();
        let (got, short, blocked) = send_all(&mut s, &tf);
        assert!(!s.uses_sendfile());
        assert_eq!(got.len(), tf.data.len());
        assert!(got == tf.data, "bytes differ");
        assert!(short + blocked > 0, "the socket never filled up");
    }

    /// With nobody reading, the socket fills: the count returned is exactly what it took, and
    /// the stream continues from there without a gap or a repeat.
    #[test]
    fn short_sends_lose_nothing() {
        let tf = TempFile::new("short", 512 * 1024);
        for fallback in [false, true] {
            let (tx, rx) = pair();
            // Fixed (not autotuned), so that the connection holds less than the file.
            socket2::SockRef::from(&rx)
                .set_recv_buffer_size(65536)
                .unwrap();
            let mut s = Sender::new(16384);
            if fallback {
                s.force_fallback();
            }
            let mut off = 0usize;
            loop {
                match s.send(&tx, &tf.file, off as u64, 16384) {
                    Ok(n) => {
                        assert!(n > 0 && n <= 16384);
                        off += n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
                assert!(off < tf.data.len(), "the socket took the whole file");
            }
            assert!(off > 0);
            // A full socket refuses a further call outright.
            let e = s.send(&tx, &tf.file, off as u64, 16384).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
            let reader = drain(rx);
            while off < tf.data.len() {
                match s.send(&tx, &tf.file, off as u64, tf.data.len() - off) {
                    Ok(n) => off += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_micros(200))
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            drop(tx);
            let got = reader.join().unwrap();
            assert!(got == tf.data, "fallback {fallback}: bytes differ");
        }
    }

    /// Offsets near and past the end: what exists is sent, then 0.
    #[test]
    fn offsets_near_the_end() {
        let len = 100_000;
        let tf = TempFile::new("end", len);
        for fallback in [false, true] {
            let (tx, rx) = pair();
            let reader = drain(rx);
            let mut s = Sender::new(16384);
            if fallback {
                s.force_fallback();
            }
            let mut sent = Vec::new();
            let mut send = |off: usize, want: usize| -> usize {
                loop {
                    match s.send(&tx, &tf.file, off as u64, want) {
                        Ok(n) => {
                            sent.extend_from_slice(&tf.data[off.min(len)..][..n]);
                            return n;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_micros(200))
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            };
            assert_eq!(send(len - 100, 100), 100);
            assert_eq!(send(len - 100, 1000), 100, "len past the end");
            assert_eq!(send(len - 1, 16384), 1);
            assert_eq!(send(len, 10), 0, "at the end");
            assert_eq!(send(len + 5, 10), 0, "past the end");
            assert_eq!(send(0, 0), 0, "nothing asked");
            assert_eq!(send(123, 0), 0);
            assert_eq!(send(u32::MAX as usize, 16384), 0, "far past the end");
            drop(s);
            drop(tx);
            assert!(reader.join().unwrap() == sent, "fallback {fallback}");
        }
    }

    #[test]
    fn offsets_beyond_off_t_are_overflow() {
        let tf = TempFile::new("overflow", 10);
        let (tx, _rx) = pair();
        for fallback in [false, true] {
            let mut s = Sender::new(16);
            if fallback {
                s.force_fallback();
            }
            let e = s.send(&tx, &tf.file, u64::MAX, 1).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EOVERFLOW));
            assert_eq!(s.uses_sendfile(), !fallback);
        }
        assert_eq!(to_off(0).unwrap(), 0);
        assert_eq!(to_off(libc::off_t::MAX as u64).unwrap(), libc::off_t::MAX);
    }

    /// A descriptor sendfile cannot read from (a directory: `EINVAL`, no splice support, since
    /// Linux 5.10) turns the fallback on for good, in the same call (whose pread then fails
    /// with EISDIR).
    #[test]
    fn einval_switches_to_the_fallback() {
        let dir = File::open(std::env::temp_dir()).unwrap();
        let (tx, _rx) = pair();
        let mut s = Sender::new(64);
        let raw = send_file(&tx, &dir, 0, 10).unwrap_err();
        if !unsupported(&raw) {
            // Kernels before 5.10 read directories for splice through their read method.
            eprintln!("skipped: sendfile from a directory fails here with {raw}");
            return;
        }
        let e = s.send(&tx, &dir, 0, 10).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EISDIR), "{e}");
        assert!(!s.uses_sendfile());
        // Regular files keep working through the fallback.
        let tf = TempFile::new("after-einval", 1000);
        let (tx, rx) = pair();
        let reader = drain(rx);
        assert_eq!(s.send(&tx, &tf.file, 10, 990).unwrap(), 990);
        drop(tx);
        assert!(reader.join().unwrap() == tf.data[10..]);
    }

    #[test]
    fn errors_keep_their_kind() {
        assert!(unsupported(&io::Error::from_raw_os_error(libc::ENOSYS)));
        assert!(!unsupported(&io::Error::from_raw_os_error(libc::EAGAIN)));
        assert!(!unsupported(&io::Error::from_raw_os_error(libc::EPIPE)));
        assert_eq!(
            partial(0, io::Error::from_raw_os_error(libc::EINTR))
                .unwrap_err()
                .kind(),
            io::ErrorKind::Interrupted
        );
        assert_eq!(partial(5, io::Error::other("x")).unwrap(), 5);
        // A closed peer: EPIPE (or ECONNRESET), never a panic or a signal.
        let tf = TempFile::new("closed", 100_000);
        for fallback in [false, true] {
            let (tx, rx) = pair();
            drop(rx);
            let mut s = Sender::new(4096);
            if fallback {
                s.force_fallback();
            }
            let mut failed = None;
            for _ in 0..100 {
                match s.send(&tx, &tf.file, 0, 100_000) {
                    Ok(_) => thread::sleep(Duration::from_millis(1)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(1))
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let e = failed.expect("sending to a closed peer never failed");
            assert!(
                matches!(e.raw_os_error(), Some(libc::EPIPE | libc::ECONNRESET)),
                "{e}"
            );
        }
    }
}
