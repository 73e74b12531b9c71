//! Watching the publisher's directories with inotify(7): one non-blocking, close-on-exec inotify
//! descriptor that the reactor registers like a socket ([`Watcher`] is a `mio::event::Source`);
//! on readiness, [`Watcher::drain`] reads every queued event and hands each to a callback.
//!
//! Linux only, as is trackseed (OpenWrt): there is no fallback for other systems (no polling of
//! modification times, no kqueue); the crate does not build elsewhere.
//!
//! inotify is not recursive: a watch reports changes to the entries of one directory (and to
//! the directory itself), so the caller watches every directory it cares about. Events tell what
//! to look at again, not what the files now are: the caller re-reads the named entry (or the
//! whole directory after an overflow) instead of trusting the sequence of events.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What a watch reports: entries created, deleted, renamed in or out, written and closed,
/// modified or changed in their attributes (mode, owner, times, link count), and the watched
/// directory itself deleted or moved. `IN_ONLYDIR` makes a path that is not a directory an error
/// (`ENOTDIR`), checked by the kernel atomically with adding the watch.
pub const MASK: u32 = libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_CLOSE_WRITE
    | libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR;

/// Longest file name (the kernel's and POSIX's `NAME_MAX`; the libc crate lacks it on Linux).
const NAME_MAX: usize = 255;
/// Bytes of the fixed part of `struct inotify_event` (`wd`, `mask`, `cookie`, `len`).
const HEADER: usize = 16;
const _: () = assert!(std::mem::size_of::<libc::inotify_event>() == HEADER);
/// Read buffer: large enough for many events and always for one with the longest name (a read
/// into a buffer too small for the next event fails with `EINVAL`).
const BUF_LEN: usize = 4096 + HEADER + NAME_MAX + 1;
/// Reads per [`Watcher::drain`] at most. The kernel queues 16,384 events by default
/// (`fs.inotify.max_queued_events`), at least 32 bytes each once they carry a name: 128 reads of
/// 4 KiB. Twice that and events still come faster than they are read: drain stops and reports
/// an overflow (see [`Watcher::drain`]).
const MAX_READS: usize = 256;

/// The read buffer, aligned like `struct inotify_event` (the first record; later records are
/// parsed without assuming any alignment).
#[repr(C, align(8))]
struct Buf([u8; BUF_LEN]);

/// One watched directory, as returned by [`Watcher::watch`] and given back in each [`Event`].
/// Watching the same directory (the same inode) again returns the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WatchId(libc::c_int);

impl WatchId {
    /// The id of overflow events, which belong to no watch.
    pub const NONE: WatchId = WatchId(-1);
}

/// One change reported by [`Watcher::drain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// The watched directory ([`WatchId::NONE`] for an overflow).
    pub watch: WatchId,
    /// The entry of that directory concerned; `None` for events about the directory itself
    /// (`gone`) and for an overflow.
    pub name: Option<&'a OsStr>,
    /// The entry is a directory (`IN_ISDIR`).
    pub is_dir: bool,
    /// Events were lost (`IN_Q_OVERFLOW`, or the watcher could not read them all): look at
    /// every watched directory again.
    pub overflow: bool,
    /// The watch is removed: its directory was deleted (`IN_DELETE_SELF`), moved elsewhere
    /// (`IN_MOVE_SELF`; the watcher then removes the watch, which would otherwise follow the
    /// directory to its new place) or its file system unmounted (`IN_IGNORED`). Reported once
    /// per watch; the id means nothing afterwards.
    pub gone: bool,
}

/// An inotify descriptor and the watches on it. Register it with a `mio::Registry` for
/// `Interest::READABLE`, then call [`drain`](Self::drain) on each readiness event (mio is
/// edge-triggered: every event queued so far must be read each time).
pub struct Watcher {
    fd: OwnedFd,
    /// Watch descriptors in force (not yet removed or reported `gone`).
    watches: Vec<libc::c_int>,
    buf: Box<Buf>,
}

impl Watcher {
    /// A new inotify instance (`inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`). Fails with `EMFILE`
    /// when the user's instance limit (`fs.inotify.max_user_instances`) is reached.
    pub fn new() -> io::Result<Watcher> {
        // SAFETY: inotify_init1 takes only flags and returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(super::step("inotify_init1", io::Error::last_os_error()));
        }
        // SAFETY: `fd` was just created and is owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Watcher {
            fd,
            watches: Vec::new(),
            buf: Box::new(Buf([0; BUF_LEN])),
        })
    }

    /// Watches directory `dir` for [`MASK`]. Errors: `ENOTDIR` if it is not a directory (a
    /// symbolic link to one is followed), `ENOENT`, `EACCES`, and `ENOSPC` once the user's
    /// watch limit (`fs.inotify.max_user_watches`) is reached, whose message says so.
    pub fn watch(&mut self, dir: &Path) -> io::Result<WatchId> {
        let mut c = dir.as_os_str().as_bytes().to_vec();
        if c.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "path holds a NUL byte",
            ));
        }
        c.push(0);
        // SAFETY: `c` is a NUL-terminated byte string that lives across the call.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr().cast(), MASK) };
        if wd < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::ENOSPC) => super::step(
                    "inotify watch limit reached (raise fs.inotify.max_user_watches)",
                    e,
                ),
                _ => e,
            });
        }
        if !self.watches.contains(&wd) {
            self.watches.push(wd);
        }
        Ok(WatchId(wd))
    }

    /// Stops watching `id`. Events of it still queued are dropped by [`drain`](Self::drain);
    /// an id already removed or `gone` is ignored.
    pub fn unwatch(&mut self, id: WatchId) {
        if let Some(i) = self.watches.iter().position(|&w| w == id.0) {
            self.watches.swap_remove(i);
            // SAFETY: inotify_rm_watch takes two integers. EINVAL (the kernel removed the watch
            // meanwhile) needs nothing done.
            unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), id.0) };
        }
    }

    /// Stops every watch (before watching a new set of directories after a reload).
    pub fn unwatch_all(&mut self) {
        for wd in self.watches.drain(..) {
            // SAFETY: as in `unwatch`.
            unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), wd) };
        }
    }

    /// Directories watched now.
    pub fn len(&self) -> usize {
        self.watches.len()
    }

    /// Whether nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }

    /// Reads every queued event (until the descriptor would block) and calls `on_event` for
    /// each, in order. Events of watches removed by [`unwatch`](Self::unwatch) are skipped.
    /// Never blocks and never fails: if reading stops early (more than a bounded number of
    /// reads because events keep coming, or an unexpected read error), `on_event` gets an
    /// overflow event, so the caller looks at everything again; what is left in the queue comes
    /// with the next readiness event.
    pub fn drain(&mut self, on_event: &mut dyn FnMut(Event<'_>)) {
        let fd = self.fd.as_raw_fd();
        for _ in 0..MAX_READS {
            let buf = &mut self.buf.0;
            // SAFETY: `buf` is valid for writes of its whole length during the call.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                match io::Error::last_os_error().kind() {
                    io::ErrorKind::WouldBlock => return,
                    io::ErrorKind::Interrupted => continue,
                    _ => break,
                }
            }
            let n = (n as usize).min(buf.len());
            if n == 0 {
                return;
            }
            for rec in records(&buf[..n]) {
                if let Some((event, remove)) = classify(&mut self.watches, &rec) {
                    if remove {
                        // SAFETY: as in `unwatch`.
                        unsafe { libc::inotify_rm_watch(fd, rec.wd) };
                    }
                    on_event(event);
                }
            }
        }
        on_event(overflow());
    }
}

fn overflow() -> Event<'static> {
    Event {
        watch: WatchId::NONE,
        name: None,
        is_dir: false,
        overflow: true,
        gone: false,
    }
}

/// The event `rec` makes for the watches in force (`None`: a watch not in force, or nothing
/// the caller needs), and whether the watcher must remove the watch itself (a moved directory).
/// A watch reported gone leaves `watches`, so its later records (the kernel's `IN_IGNORED`
/// after `IN_DELETE_SELF`) are skipped.
fn classify<'a>(watches: &mut Vec<libc::c_int>, rec: &Record<'a>) -> Option<(Event<'a>, bool)> {
    if rec.mask & libc::IN_Q_OVERFLOW != 0 {
        return Some((overflow(), false));
    }
    let i = watches.iter().position(|&w| w == rec.wd)?;
    let gone = rec.mask & (libc::IN_IGNORED | libc::IN_DELETE_SELF | libc::IN_MOVE_SELF) != 0;
    let remove = rec.mask & libc::IN_MOVE_SELF != 0 && rec.mask & libc::IN_IGNORED == 0;
    if gone {
        watches.swap_remove(i);
    } else if rec.mask & libc::IN_UNMOUNT != 0 {
        // IN_IGNORED follows and reports the watch gone.
        return None;
    }
    Some((
        Event {
            watch: WatchId(rec.wd),
            name: if gone { None } else { rec.name },
            is_dir: rec.mask & libc::IN_ISDIR != 0,
            overflow: false,
            gone,
        },
        remove,
    ))
}

/// One record of the byte stream read from an inotify descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub wd: libc::c_int,
    pub mask: u32,
    pub cookie: u32,
    /// The entry's name without its NUL padding; `None` when the record has none.
    pub name: Option<&'a OsStr>,
}

/// The records in `bytes`, as read from an inotify descriptor: each a `struct inotify_event`
/// header (native byte order) followed by `len` bytes of NUL-padded name. No alignment is
/// assumed; a truncated record ends the sequence.
pub fn records(bytes: &[u8]) -> Records<'_> {
    Records { rest: bytes }
}

/// Iterator returned by [`records`].
#[derive(Clone, Debug)]
pub struct Records<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let rest = std::mem::take(&mut self.rest);
        let field = |at: usize| -> Option<[u8; 4]> { rest.get(at..at + 4)?.try_into().ok() };
        let wd = libc::c_int::from_ne_bytes(field(0)?);
        let mask = u32::from_ne_bytes(field(4)?);
        let cookie = u32::from_ne_bytes(field(8)?);
        let len = usize::try_from(u32::from_ne_bytes(field(12)?)).ok()?;
        let end = HEADER.checked_add(len)?;
        let padded = rest.get(HEADER..end)?;
        let name = &padded[..padded.iter().position(|&b| b == 0).unwrap_or(padded.len())];
        self.rest = &rest[end..];
        Some(Record {
            wd,
            mask,
            cookie,
            name: (!name.is_empty()).then(|| OsStr::from_bytes(name)),
        })
    }
}

impl AsFd for Watcher {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Watcher {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl mio::event::Source for Watcher {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.fd.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.fd.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.fd.as_raw_fd()).deregister(registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    fn record(wd: i32, mask: u32, cookie: u32, name: &[u8], pad_to: usize) -> Vec<u8> {
        let len = name.len().max(pad_to);
        let mut v = Vec::new();
        v.extend_from_slice(&wd.to_ne_bytes());
        v.extend_from_slice(&mask.to_ne_bytes());
        v.extend_from_slice(&cookie.to_ne_bytes());
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v.extend_from_slice(name);
        v.resize(HEADER + len, 0);
        v
    }

    #[test]
    fn parses_hand_built_records_at_any_alignment() {
        let mut bytes = record(3, libc::IN_CREATE, 0, b"a.bin", 16);
        bytes.extend(record(3, libc::IN_DELETE_SELF, 0, b"", 0));
        // A name that fills its length exactly, with no NUL.
        bytes.extend(record(
            7,
            libc::IN_MOVED_TO | libc::IN_ISDIR,
            42,
            b"exactly16bytes!!",
            0,
        ));
        for shift in 0..8 {
            // The same stream at every offset from an aligned start.
            let mut shifted = vec![0xee; shift];
            shifted.extend_from_slice(&bytes);
            let got: Vec<Record> = records(&shifted[shift..]).collect();
            assert_eq!(got.len(), 3, "shift {shift}");
            assert_eq!(got[0].wd, 3);
            assert_eq!(got[0].mask, libc::IN_CREATE);
            assert_eq!(got[0].name, Some(OsStr::new("a.bin")));
            assert_eq!(got[1].name, None);
            assert_eq!(got[1].mask, libc::IN_DELETE_SELF);
            assert_eq!(got[2].wd, 7);
            assert_eq!(got[2].cookie, 42);
            assert_eq!(got[2].name, Some(OsStr::new("exactly16bytes!!")));
        }
    }

    #[test]
    fn truncated_records_end_the_sequence_without_panic() {
        let mut bytes = record(1, libc::IN_CREATE, 0, b"first", 16);
        let first_len = bytes.len();
        bytes.extend(record(1, libc::IN_CREATE, 0, b"second", 16));
        for cut in 0..bytes.len() {
            let n = records(&bytes[..cut]).count();
            let whole = usize::from(cut >= first_len);
            assert_eq!(n, whole, "cut at {cut}");
        }
        assert_eq!(records(&bytes).count(), 2);
        // A length far beyond the buffer (and beyond usize on 32-bit when added to the header).
        let mut huge = record(1, libc::IN_CREATE, 0, b"", 0);
        huge[12..16].copy_from_slice(&u32::MAX.to_ne_bytes());
        huge.extend_from_slice(&[b'x'; 64]);
        assert_eq!(records(&huge).count(), 0);
        assert_eq!(records(&[]).count(), 0);
    }

    #[test]
    fn classify_reports_gone_once_and_skips_unknown_watches() {
        let mut watches = vec![4, 5];
        let rec = |wd, mask, name| Record {
            wd,
            mask,
            cookie: 0,
            name,
        };
        let (e, rm) = classify(
            &mut watches,
            &rec(4, libc::IN_CREATE, Some(OsStr::new("x"))),
        )
        .expect("event");
        assert_eq!(e.watch, WatchId(4));
        assert_eq!(e.name, Some(OsStr::new("x")));
        assert!(!e.gone && !e.overflow && !e.is_dir && !rm);
        let (e, rm) = classify(&mut watches, &rec(4, libc::IN_DELETE_SELF, None)).expect("gone");
        assert!(e.gone && !rm);
        assert_eq!(watches, [5]);
        assert!(classify(&mut watches, &rec(4, libc::IN_IGNORED, None)).is_none());
        let (e, rm) = classify(&mut watches, &rec(5, libc::IN_MOVE_SELF, None)).expect("moved");
        assert!(e.gone && rm);
        assert!(watches.is_empty());
        let (e, _) = classify(&mut watches, &rec(-1, libc::IN_Q_OVERFLOW, None)).expect("ovf");
        assert!(e.overflow);
        assert_eq!(e.watch, WatchId::NONE);
    }

    struct TempDir(PathBuf);
    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let p = std::env::temp_dir()
                .join(format!("trackseed-inotify-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Names (and gone flags) of the events that arrive within `limit`, waiting on a mio poll
    /// until `done` says enough was seen.
    fn collect(
        w: &mut Watcher,
        limit: Duration,
        done: impl Fn(&[(Option<String>, bool)]) -> bool,
    ) -> Vec<(Option<String>, bool)> {
        let mut poll = mio::Poll::new().unwrap();
        poll.registry()
            .register(w, mio::Token(1), mio::Interest::READABLE)
            .unwrap();
        let mut events = mio::Events::with_capacity(4);
        let mut seen = Vec::new();
        let start = Instant::now();
        // Drain once first: events queued before the registration give no edge.
        loop {
            w.drain(&mut |e| seen.push((e.name.map(|n| n.to_string_lossy().into_owned()), e.gone)));
            let left = limit.saturating_sub(start.elapsed());
            if done(&seen) || left.is_zero() {
                break;
            }
            poll.poll(&mut events, Some(left)).unwrap();
        }
        poll.registry().deregister(w).unwrap();
        seen
    }

    #[test]
    fn sees_a_new_file_and_nothing_after_unwatch() {
        let dir = TempDir::new("watch");
        let mut w = Watcher::new().unwrap();
        let id = w.watch(&dir.0).unwrap();
        assert_eq!(w.watch(&dir.0).unwrap(), id, "same directory, same id");
        assert_eq!(w.len(), 1);
        std::fs::write(dir.0.join("new.torrent"), b"x").unwrap();
        let seen = collect(&mut w, Duration::from_secs(2), |s| {
            s.iter().any(|(n, _)| n.as_deref() == Some("new.torrent"))
        });
        assert!(
            seen.iter()
                .any(|(n, _)| n.as_deref() == Some("new.torrent")),
            "{seen:?}"
        );

        w.unwatch(id);
        assert!(w.is_empty());
        w.unwatch(id); // twice: ignored
        std::fs::write(dir.0.join("after.torrent"), b"x").unwrap();
        let seen = collect(&mut w, Duration::from_millis(200), |_| false);
        assert!(seen.is_empty(), "{seen:?}");
    }

    #[test]
    fn deleted_directory_is_gone_once() {
        let dir = TempDir::new("gone");
        let sub = dir.0.join("sub");
        std::fs::create_dir(&sub).unwrap();
        let mut w = Watcher::new().unwrap();
        w.watch(&sub).unwrap();
        std::fs::remove_dir(&sub).unwrap();
        let seen = collect(&mut w, Duration::from_secs(2), |s| s.iter().any(|e| e.1));
        assert_eq!(seen.iter().filter(|e| e.1).count(), 1, "{seen:?}");
        assert!(w.is_empty());
        // The kernel's IN_IGNORED that follows is not reported again.
        let later = collect(&mut w, Duration::from_millis(100), |_| false);
        assert!(later.is_empty(), "{later:?}");
    }

    #[test]
    fn refuses_what_is_not_a_directory() {
        let dir = TempDir::new("file");
        let file = dir.0.join("plain");
        std::fs::write(&file, b"x").unwrap();
        let mut w = Watcher::new().unwrap();
        let e = w.watch(&file).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR), "{e}");
        assert!(w.watch(&dir.0.join("missing")).is_err());
        assert!(w.watch(Path::new("a\0b")).is_err());
        w.unwatch_all();
        assert!(w.is_empty());
    }
}
