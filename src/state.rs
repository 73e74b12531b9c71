//! The state file: each torrent's `downloaded` count, kept across restarts in opentracker's
//! statedump format.
//!
//! # Format
//! One line per torrent, `HEX40:<base minute>:<downloaded>\n`, the lines
//! `/stats?mode=statedump` sends, written by the same code ([`crate::stats::stream_entry`]) and
//! read by the same parser ([`crate::stats::parse_statedump_line`]). A file saved here loads
//! into opentracker with `-l`, and a dump fetched from opentracker (or from trackseed's own
//! `/stats`) loads here. On load only the hash and `downloaded` count; `base` is checked for
//! syntax and ignored. [`save`] writes the minute of the save as every torrent's `base`.
//!
//! # Atomicity and what a crash loses
//! [`save`] writes `<path>.tmp` in the same directory, `fsync`s it, renames it over `path`
//! and `fsync`s the directory. At every instant `path` is either the complete old file or the
//! complete new one, so a `kill -9` or a power cut loses only the downloads counted after the
//! last completed save, never the file. A stale `<path>.tmp` left by a crash is overwritten by
//! the next save and never read.
//!
//! # When to save
//! By default only at clean shutdown and on `SIGUSR1`, not periodically: a router's flash has a
//! limited number of erase cycles, and `downloaded` counts are statistics, not data whose loss
//! matters. `tracker.state_interval` turns on periodic saves for those who want them.
//!
//! # Bad files are reported, never fatal
//! [`parse`] and [`load`] skip every line that is not exactly the format, count them and name
//! the first, so the caller logs one message and starts with what was readable. A file cut
//! short (copied by hand, fetched with an interrupted `curl`) ends in a bad line; a line cut
//! inside its count, though, still reads as a smaller count, which no format could notice.
//! Files written by [`save`] are never cut short (see above).

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use crate::ids::InfoHash;
use crate::stats::{
    parse_statedump_line, stream_begin, stream_end, stream_entry, StateLineError, StreamKind,
    MAX_STREAM_ENTRY_LEN,
};
use crate::swarm::Counts;
use crate::wire::Out;

/// What a state file held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Every good line's info hash and `downloaded` count, in file order. Duplicates are kept
    /// as they are; the caller decides (applying them in order makes the last one win).
    pub entries: Vec<(InfoHash, u32)>,
    /// Lines that are not a state line (blank lines are not counted).
    pub bad_lines: usize,
    /// The first bad line: its number (from 1, blank lines counted) and why
    /// ([`StateLineError::message`]).
    pub first_bad: Option<(usize, &'static str)>,
}

/// Bytes kept of one line. The longest good line is 74 bytes (hash, a 20-digit `base`, a
/// 10-digit count, `\r\n`); a longer one is bad whatever follows, so the rest is not kept and
/// a file without line endings cannot make the loader allocate.
const MAX_LINE: usize = 128;

/// Bytes read from, or written to, the file at a time.
const CHUNK: usize = 8 * 1024;

/// Splits bytes fed in any pieces into lines and parses them.
struct LineParser {
    line: [u8; MAX_LINE],
    len: usize,
    /// The current line is longer than [`MAX_LINE`].
    overlong: bool,
    /// Number of the current line, from 1.
    line_no: usize,
    loaded: Loaded,
}

impl LineParser {
    fn new() -> LineParser {
        LineParser {
            line: [0; MAX_LINE],
            len: 0,
            overlong: false,
            line_no: 1,
            loaded: Loaded::default(),
        }
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (part, ends_line) = match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => (&bytes[..i], true),
                None => (bytes, false),
            };
            let room = MAX_LINE - self.len;
            let keep = part.len().min(room);
            self.line[self.len..self.len + keep].copy_from_slice(&part[..keep]);
            self.len += keep;
            self.overlong |= part.len() > room;
            if ends_line {
                self.end_line();
                bytes = &bytes[part.len() + 1..];
            } else {
                bytes = &[];
            }
        }
    }

    fn end_line(&mut self) {
        let result = parse_statedump_line(&self.line[..self.len]);
        match (result, self.overlong) {
            (Ok(entry), false) => self.loaded.entries.push(entry),
            (Err(StateLineError::Empty), false) => {}
            // Unreachable (no good line is `MAX_LINE` bytes long), but an overlong line is bad.
            (Ok(_), true) => self.bad(StateLineError::Trailing),
            (Err(e), _) => self.bad(e),
        }
        self.len = 0;
        self.overlong = false;
        self.line_no += 1;
    }

    fn bad(&mut self, e: StateLineError) {
        self.loaded.bad_lines += 1;
        if self.loaded.first_bad.is_none() {
            self.loaded.first_bad = Some((self.line_no, e.message()));
        }
    }

    /// The last line, if it has no line ending, counts too (and is bad if cut short).
    fn finish(mut self) -> Loaded {
        if self.len > 0 || self.overlong {
            self.end_line();
        }
        self.loaded
    }
}

/// Parses a whole state file. Pure; never panics. Blank lines are skipped silently; every
/// other line that is not exactly `HEX40:<base>:<downloaded>` (with `\n`, `\r\n` or, on the
/// last line, no ending) is counted in [`Loaded::bad_lines`] and skipped.
pub fn parse(text: &[u8]) -> Loaded {
    let mut parser = LineParser::new();
    parser.feed(text);
    parser.finish()
}

/// Reads `from` to its end in [`CHUNK`]-byte pieces and parses it as [`parse`] would.
fn parse_reader(mut from: impl Read) -> io::Result<Loaded> {
    let mut parser = LineParser::new();
    let mut buf = [0u8; CHUNK];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return Ok(parser.finish()),
            Ok(n) => parser.feed(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads the state file at `path` (in 8 KiB pieces: memory is the entries, not the file), as
/// [`parse`] does. A missing file is not an error: at first start there is none yet, so
/// `NotFound` gives `Ok(Loaded::default())` (no entries, no bad lines). Any other error
/// opening or reading the file (permissions, a directory, I/O) is returned; the caller reports
/// it and starts with no counts, as it does for bad lines.
pub fn load(path: &Path) -> io::Result<Loaded> {
    match File::open(path) {
        Ok(file) => parse_reader(file),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Loaded::default()),
        Err(e) => Err(e),
    }
}

/// `<path>.tmp`: in the same directory as `path`, so the rename stays on one filesystem.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(".tmp");
    PathBuf::from(name)
}

/// Saves the state atomically: calls `entries` until it returns `None` and writes a state line
/// (with `base_minutes` as `base`) for each torrent whose `downloaded` count is above 0, to
/// `<path>.tmp`, then `fsync`s it, renames it over `path` and `fsync`s the directory (an error
/// there is ignored: some filesystems refuse to sync a directory, and the rename is done).
/// Returns the number of lines written.
///
/// Torrents never completed are left out: opentracker dumps every torrent, but a line with a
/// count of 0 restores nothing (a torrent comes back when it is announced), and leaving them
/// out keeps the file small on flash.
///
/// On any error the temporary file is removed and the error returned; `path` is untouched
/// (the old state, if any, stays complete). Memory: one 8 KiB buffer on the stack.
pub fn save(
    path: &Path,
    entries: &mut dyn FnMut() -> Option<(InfoHash, u32)>,
    base_minutes: u64,
) -> io::Result<usize> {
    let tmp = temp_path(path);
    let written = write_file(&tmp, entries, base_minutes).and_then(|n| {
        fs::rename(&tmp, path)?;
        Ok(n)
    });
    match written {
        Ok(n) => {
            sync_dir(path);
            Ok(n)
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes the lines to `tmp` (created or truncated) and `fsync`s it.
fn write_file(
    tmp: &Path,
    entries: &mut dyn FnMut() -> Option<(InfoHash, u32)>,
    base_minutes: u64,
) -> io::Result<usize> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    let kind = StreamKind::Statedump { base_minutes };
    let mut buf = [0u8; CHUNK];
    let mut out = Out::new(&mut buf);
    let mut count = 0;
    stream_begin(kind, &mut out);
    while let Some((hash, downloaded)) = entries() {
        if downloaded == 0 {
            continue;
        }
        if out.remaining() < MAX_STREAM_ENTRY_LEN {
            file.write_all(out.written())?;
            out.truncate(0);
        }
        let counts = Counts {
            downloaded,
            ..Counts::default()
        };
        stream_entry(kind, &hash, counts, &mut out);
        count += 1;
    }
    if out.remaining() < MAX_STREAM_ENTRY_LEN {
        file.write_all(out.written())?;
        out.truncate(0);
    }
    stream_end(kind, &mut out);
    if out.is_overflow() {
        return Err(io::Error::other("state line longer than its buffer"));
    }
    file.write_all(out.written())?;
    file.sync_all()?;
    Ok(count)
}

/// `fsync`s the directory holding `path`, so the rename itself survives a power cut. Errors
/// are ignored (not every filesystem can sync a directory).
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const H0: &str = "356A192B7913B04C54574D18C28D46E6395428AB";
    const H1: &str = "da4b9237bacccdf19c0760cab7aec4a8359010b0";
    const H2: &str = "77DE68DAECD823BABBB58EDB1C8E14D7106E83BB";

    fn hash(hex: &str) -> InfoHash {
        let mut h = InfoHash::default();
        for (i, b) in h.0.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        h
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("trackseed-state-{}-{name}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn many(n: u32) -> Vec<(InfoHash, u32)> {
        let mut seed = 0x2545_f491u32;
        (0..n)
            .map(|i| {
                let mut h = InfoHash::default();
                for b in h.0.iter_mut() {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    *b = seed as u8;
                }
                let downloaded = match i % 5 {
                    0 => 0,
                    1 => u32::MAX,
                    2 => 1,
                    _ => seed,
                };
                (h, downloaded)
            })
            .collect()
    }

    fn save_list(path: &Path, list: &[(InfoHash, u32)], base: u64) -> io::Result<usize> {
        let mut it = list.iter().copied();
        save(path, &mut || it.next(), base)
    }

    /// Every [`StateLineError`] in one file, with blank lines and a last line cut short.
    fn fixture() -> String {
        format!(
            "{H0}:29920609:7\n\
             \n\
             {H1}:0:0\r\n\
             garbage\n\
             \r\n\
             {H2};1:1\n\
             {H2}::1\n\
             {H2}:1:4294967296\n\
             {H2}:1:1 x\n\
             {H2}:29920609:4294967295\r\n\
             {H0}:2992"
        )
    }

    #[test]
    fn parses_good_lines() {
        let text = format!("{H0}:29920609:7\n{H1}:0:0\r\n{H2}:1:4294967295");
        let got = parse(text.as_bytes());
        assert_eq!(
            got,
            Loaded {
                entries: vec![(hash(H0), 7), (hash(H1), 0), (hash(H2), u32::MAX)],
                bad_lines: 0,
                first_bad: None,
            }
        );
        assert_eq!(parse(b""), Loaded::default());
    }

    #[test]
    fn skips_blank_lines_silently_but_counts_them_as_lines() {
        let text = format!("\n\r\n{H0}:1:2\n\n\n{H1}:1:3\n\nbad\n\n");
        let got = parse(text.as_bytes());
        assert_eq!(got.entries, vec![(hash(H0), 2), (hash(H1), 3)]);
        assert_eq!(got.bad_lines, 1);
        assert_eq!(got.first_bad, Some((8, StateLineError::BadHash.message())));
        assert_eq!(parse(b"\n\n\r\n\r"), Loaded::default());
    }

    #[test]
    fn counts_corrupt_lines_and_names_the_first() {
        let got = parse(fixture().as_bytes());
        assert_eq!(
            got.entries,
            vec![(hash(H0), 7), (hash(H1), 0), (hash(H2), u32::MAX)]
        );
        assert_eq!(got.bad_lines, 6);
        assert_eq!(got.first_bad, Some((4, StateLineError::BadHash.message())));
        // Each bad line on its own names its own reason.
        let text = fixture();
        let lines: Vec<&str> = text.lines().collect();
        let why = [
            (5, StateLineError::BadSeparator),
            (6, StateLineError::BadNumber),
            (7, StateLineError::TooLarge),
            (8, StateLineError::Trailing),
        ];
        for (i, e) in why {
            let got = parse(format!("{}\n", lines[i]).as_bytes());
            assert_eq!(got.first_bad, Some((1, e.message())), "{:?}", lines[i]);
        }
    }

    #[test]
    fn a_truncated_last_line_is_bad_not_fatal() {
        let good = format!("{H0}:29920609:7\n{H1}:29920609:8\n");
        let last = format!("{H2}:29920609:9");
        for cut in 1..last.len() {
            let text = format!("{good}{}", &last[..cut]);
            let got = parse(text.as_bytes());
            assert_eq!(got.entries, [(hash(H0), 7), (hash(H1), 8)], "{cut}");
            assert_eq!(got.bad_lines, 1, "{cut}");
            assert_eq!(got.first_bad.map(|b| b.0), Some(3), "{cut}");
        }
        // Cut inside a count of several digits: indistinguishable from a smaller count.
        let got = parse(format!("{good}{H2}:29920609:4").as_bytes());
        assert_eq!(got.entries[2], (hash(H2), 4));
        let whole = parse(format!("{good}{last}").as_bytes());
        assert_eq!(whole.entries.len(), 3);
        assert_eq!(whole.bad_lines, 0);
    }

    #[test]
    fn an_overlong_line_is_one_bad_line() {
        let mut text = vec![b'x'; 100_000];
        text.push(b'\n');
        text.extend_from_slice(format!("{H0}:1:5\n").as_bytes());
        text.extend_from_slice(&[b'7'; 300]); // an overlong last line, no newline
        let got = parse(&text);
        assert_eq!(got.entries, vec![(hash(H0), 5)]);
        assert_eq!(got.bad_lines, 2);
        assert_eq!(got.first_bad, Some((1, StateLineError::BadHash.message())));
        // A good line followed by junk past `MAX_LINE` bytes is bad too.
        let long = format!("{H0}:1:5{}\n", " ".repeat(200));
        let got = parse(long.as_bytes());
        assert_eq!(got.entries, vec![]);
        assert_eq!(got.first_bad, Some((1, StateLineError::Trailing.message())));
    }

    /// Hands out at most `step` bytes per read, so lines straddle every chunk boundary.
    struct Trickle<'a> {
        text: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.text.len());
            buf[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    #[test]
    fn reading_in_pieces_matches_a_whole_parse() {
        let mut text = fixture().into_bytes();
        text.extend_from_slice(&[b'x'; 300]);
        text.push(b'\n');
        text.extend_from_slice(fixture().as_bytes());
        let want = parse(&text);
        for step in 1..=140 {
            let got = parse_reader(Trickle { text: &text, step }).unwrap();
            assert_eq!(got, want, "step {step}");
        }
    }

    #[test]
    fn never_panics_on_any_length_or_byte() {
        let text = fixture().into_bytes();
        for len in 0..=text.len() {
            let got = parse(&text[..len]);
            let lines = text[..len].split(|&b| b == b'\n').count();
            assert!(got.entries.len() + got.bad_lines <= lines);
        }
        let mut text = text;
        for i in 0..text.len() {
            let keep = text[i];
            for b in [0u8, b':', b'9', b'\n', b'\r', 0xff] {
                text[i] = b;
                let _ = parse(&text);
            }
            text[i] = keep;
        }
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = TempDir::new("round-trip");
        let path = dir.0.join("state");
        let list = many(5000);
        let want: Vec<_> = list.iter().copied().filter(|e| e.1 > 0).collect();
        assert_eq!(want.len(), 4000);
        assert_eq!(save_list(&path, &list, 29920609).unwrap(), 4000);
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.bad_lines, 0);
        assert_eq!(loaded.entries, want);
        assert_eq!(dir.names(), ["state"]);
        // The lines are `/stats?mode=statedump`'s.
        let text = fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap();
        let hex: String = want[0].0 .0.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(first, format!("{hex}:29920609:{}", want[0].1));
        assert_eq!(text.lines().count(), 4000);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn saving_nothing_writes_an_empty_file() {
        let dir = TempDir::new("empty");
        let path = dir.0.join("state");
        fs::write(&path, format!("{H0}:1:1\n")).unwrap();
        assert_eq!(save_list(&path, &[(hash(H1), 0)], 1).unwrap(), 0);
        assert_eq!(fs::read(&path).unwrap(), b"");
        assert_eq!(load(&path).unwrap(), Loaded::default());
    }

    #[test]
    fn save_replaces_an_old_file_atomically() {
        let dir = TempDir::new("replace");
        let path = dir.0.join("trackseed.state");
        save_list(&path, &many(300), 1).unwrap();
        // A crash left a stale temporary file behind: it is overwritten, not read.
        fs::write(temp_path(&path), "half a line from before the cr").unwrap();
        let list = vec![(hash(H0), 3), (hash(H1), 0), (hash(H2), 4)];
        assert_eq!(save_list(&path, &list, 2).unwrap(), 2);
        assert_eq!(dir.names(), ["trackseed.state"]);
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.entries, vec![(hash(H0), 3), (hash(H2), 4)]);
    }

    #[test]
    fn a_failed_save_leaves_nothing_and_keeps_the_old_file() {
        // The directory does not exist: nothing is created.
        let dir = TempDir::new("fail");
        let missing = dir.0.join("no-such-dir");
        let path = missing.join("state");
        let e = save_list(&path, &many(10), 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(!missing.exists());
        assert_eq!(dir.names(), Vec::<String>::new());

        // The temporary file cannot be created: the old state stays whole.
        let path = dir.0.join("state");
        let old = format!("{H0}:1:9\n");
        fs::write(&path, &old).unwrap();
        fs::create_dir(temp_path(&path)).unwrap();
        assert!(save_list(&path, &many(10), 1).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), old);
        fs::remove_dir(temp_path(&path)).unwrap();

        // The rename fails (the target is a directory): the temporary file is removed.
        let target = dir.0.join("a-directory");
        fs::create_dir(&target).unwrap();
        assert!(save_list(&target, &many(10), 1).is_err());
        assert!(target.is_dir());
        assert_eq!(dir.names(), ["a-directory", "state"]);
    }

    #[test]
    fn a_missing_file_is_empty_other_errors_are_errors() {
        let dir = TempDir::new("missing");
        assert_eq!(load(&dir.0.join("never-saved")).unwrap(), Loaded::default());
        assert!(load(&dir.0).is_err(), "a directory is not a state file");
    }

    #[test]
    fn the_temporary_file_sits_beside_the_state_file() {
        assert_eq!(temp_path(Path::new("state")), Path::new("state.tmp"));
        assert_eq!(
            temp_path(Path::new("/etc/trackseed/state")),
            Path::new("/etc/trackseed/state.tmp")
        );
    }
}
