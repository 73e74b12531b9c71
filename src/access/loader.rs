//! Reading an access list file in slices, so that a reload of a million hashes never stalls the
//! loop: the file is streamed (never held whole in memory), each line's first 41 bytes are all
//! that is kept while it is read, hashes go into a binary heap as they come, and the heap is
//! sorted in place by popping a bounded number of entries per slice. The list in force keeps
//! serving until the new one is complete and replaces it.

use super::{parse_line, AccessList, Mode};
use crate::config::Config;
use crate::ids::InfoHash;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A list file, parsed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Sorted, without duplicates.
    pub hashes: Vec<InfoHash>,
    /// Lines that were not a hash (comments and blank lines included).
    pub skipped: usize,
    /// 1-based number of the first skipped line that is not blank or a `#` comment, if any:
    /// the one worth showing the operator.
    pub first_bad_line: Option<usize>,
}

/// Bytes of a line that decide what it is: 40 hex digits and the character after them.
const HEAD_LEN: usize = 41;

/// Turns a byte stream into parsed lines, keeping only each line's head.
#[derive(Debug)]
struct Parser {
    head: [u8; HEAD_LEN],
    head_len: usize,
    /// Bytes seen on the current line (any length).
    line_bytes: usize,
    line_no: usize,
    /// Push into `hashes` as a max-heap (for the sliced sort) rather than plainly.
    is_heap: bool,
    out: Parsed,
}

impl Parser {
    fn new(capacity: usize, is_heap: bool) -> Parser {
        Parser {
            head: [0; HEAD_LEN],
            head_len: 0,
            line_bytes: 0,
            line_no: 0,
            is_heap,
            out: Parsed {
                hashes: Vec::with_capacity(capacity),
                ..Parsed::default()
            },
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.end_line();
            } else {
                if self.head_len < HEAD_LEN {
                    self.head[self.head_len] = b;
                    self.head_len += 1;
                }
                self.line_bytes += 1;
            }
        }
    }

    fn end_line(&mut self) {
        self.line_no += 1;
        let head = &self.head[..self.head_len];
        match parse_line(head) {
            Some(h) => {
                self.out.hashes.push(h);
                if self.is_heap {
                    sift_up(&mut self.out.hashes);
                }
            }
            None => {
                self.out.skipped += 1;
                let first = head.iter().position(|b| !b.is_ascii_whitespace());
                let is_note = first.is_none_or(|at| head[at] == b'#');
                if !is_note && self.out.first_bad_line.is_none() {
                    self.out.first_bad_line = Some(self.line_no);
                }
            }
        }
        self.head_len = 0;
        self.line_bytes = 0;
    }

    /// Ends the input: a last line without a newline still counts.
    fn finish(&mut self) {
        if self.line_bytes > 0 {
            self.end_line();
        }
    }
}

/// Restores the max-heap property after a push at the end.
fn sift_up(heap: &mut [InfoHash]) {
    let mut i = heap.len() - 1;
    while i > 0 {
        let parent = (i - 1) / 2;
        if heap[parent] >= heap[i] {
            break;
        }
        heap.swap(parent, i);
        i = parent;
    }
}

/// Restores the max-heap property of `heap` from the root down.
fn sift_down(heap: &mut [InfoHash]) {
    let mut i = 0;
    loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut top = i;
        if l < heap.len() && heap[l] > heap[top] {
            top = l;
        }
        if r < heap.len() && heap[r] > heap[top] {
            top = r;
        }
        if top == i {
            return;
        }
        heap.swap(i, top);
        i = top;
    }
}

/// Parses a whole list held in memory (tests, small inputs).
pub fn parse(text: &[u8]) -> Parsed {
    let mut p = Parser::new(text.len() / 40 + 1, false);
    p.feed(text);
    p.finish();
    p.out.hashes.sort_unstable();
    p.out.hashes.dedup();
    p.out
}

/// Why a list could not be (re)loaded.
#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot read access list {}: {}",
            self.path.display(),
            self.source
        )
    }
}

/// Bytes read per slice, and heap entries sorted per slice: each about a millisecond here.
pub const SLICE_BYTES: usize = 128 * 1024;
pub const SLICE_SORTS: usize = 4096;

/// A list being read, one slice at a time.
#[derive(Debug)]
pub struct Loader {
    mode: Mode,
    path: PathBuf,
    /// `None` once the file is read; then the heap is being sorted down to `sorted_from`.
    file: Option<File>,
    parser: Parser,
    sorted_from: usize,
    began: Instant,
    slices: u32,
}

impl Loader {
    /// Opens the list `config` names; `Ok(None)` when it names none (an open tracker).
    pub fn for_config(config: &Config) -> Result<Option<Loader>, LoadError> {
        let Some((mode, path)) = super::configured(config) else {
            return Ok(None);
        };
        Loader::begin(mode, path).map(Some)
    }

    fn begin(mode: Mode, path: &Path) -> Result<Loader, LoadError> {
        let err = |source| LoadError {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(err)?;
        let len = file.metadata().map_err(err)?.len();
        // Every hash line holds at least 40 bytes: the list never outgrows this.
        let capacity = usize::try_from(len / 40 + 1).unwrap_or(usize::MAX);
        Ok(Loader {
            mode,
            path: path.to_owned(),
            file: Some(file),
            parser: Parser::new(capacity, true),
            sorted_from: 0,
            began: Instant::now(),
            slices: 0,
        })
    }

    /// Does one slice of work. Returns the finished list when it is complete.
    pub fn step(&mut self) -> Result<Option<Parsed>, LoadError> {
        self.slices += 1;
        if let Some(file) = &mut self.file {
            let mut buf = [0u8; 16 * 1024];
            let mut read = 0;
            while read < SLICE_BYTES {
                let n = match file.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(source) => {
                        return Err(LoadError {
                            path: self.path.clone(),
                            source,
                        })
                    }
                };
                if n == 0 {
                    self.parser.finish();
                    self.file = None;
                    self.sorted_from = self.parser.out.hashes.len();
                    return Ok(None);
                }
                self.parser.feed(&buf[..n]);
                read += n;
            }
            return Ok(None);
        }
        // Heap sort, in place: move the largest entry to the end of the unsorted part.
        let heap = &mut self.parser.out.hashes;
        for _ in 0..SLICE_SORTS {
            if self.sorted_from <= 1 {
                heap.dedup();
                return Ok(Some(std::mem::take(&mut self.parser.out)));
            }
            self.sorted_from -= 1;
            heap.swap(0, self.sorted_from);
            sift_down(&mut heap[..self.sorted_from]);
        }
        Ok(None)
    }

    /// What to tell the operator about a finished load.
    fn describe(&self, p: &Parsed) -> String {
        let mut msg = format!(
            "access: {} {}: {} info hashes, read in {} ms ({} slices)",
            self.mode.name(),
            self.path.display(),
            p.hashes.len(),
            self.began.elapsed().as_millis(),
            self.slices
        );
        if let Some(line) = p.first_bad_line {
            msg += &format!(
                "; warning: {} lines skipped (not a 40-hex info hash), the first at line {line}",
                p.skipped
            );
        }
        msg
    }
}

/// The outcome of a (re)load for the operator: the message to log and whether it worked.
#[derive(Debug)]
pub struct Outcome {
    pub message: String,
    pub is_ok: bool,
}

/// The list to start with, read at once (nothing is served yet), and what to log about it. A
/// file that cannot be read starts an empty list, as opentracker does: a whitelist then serves
/// nothing until a SIGHUP reads it.
pub fn start(config: &Config) -> (AccessList, Outcome) {
    let mode = super::configured(config).map(|(m, _)| m);
    let failure = |e: &LoadError| Outcome {
        message: failed(e, mode),
        is_ok: false,
    };
    let mut loader = match Loader::for_config(config) {
        Ok(Some(l)) => l,
        Ok(None) => {
            let message = "access: open tracker (no access list)".into();
            return (
                AccessList::open(),
                Outcome {
                    message,
                    is_ok: true,
                },
            );
        }
        Err(e) => {
            return (
                AccessList::new(mode.unwrap_or(Mode::Open), Vec::new()),
                failure(&e),
            )
        }
    };
    loop {
        match loader.step() {
            Ok(Some(p)) => {
                let message = loader.describe(&p);
                return (
                    AccessList::new(loader.mode, p.hashes),
                    Outcome {
                        message,
                        is_ok: true,
                    },
                );
            }
            Ok(None) => {}
            Err(e) => return (AccessList::new(loader.mode, Vec::new()), failure(&e)),
        }
    }
}

fn failed(e: &LoadError, mode: Option<Mode>) -> String {
    let consequence = match mode {
        Some(Mode::Whitelist) => "no torrent is served until a SIGHUP reads it",
        _ => "no torrent is refused until a SIGHUP reads it",
    };
    format!("access: {e}; {consequence}")
}

/// One slice of a reload (SIGHUP). When the load is over, applies it to `list` (or, on
/// failure, keeps `list` as it is) and returns what happened.
pub fn reload_step(loader: &mut Loader, list: &mut AccessList) -> Option<Outcome> {
    match loader.step() {
        Ok(None) => None,
        Ok(Some(p)) => {
            let message = loader.describe(&p);
            if list.mode() == loader.mode {
                list.replace(p.hashes);
            } else {
                *list = AccessList::new(loader.mode, p.hashes);
            }
            Some(Outcome {
                message,
                is_ok: true,
            })
        }
        Err(e) => Some(Outcome {
            message: kept(&e, list),
            is_ok: false,
        }),
    }
}

/// The message for a reload that failed: the list in force stays.
pub fn kept(e: &LoadError, list: &AccessList) -> String {
    format!("access: {e}; keeping the {} hashes in force", list.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliced_load_matches_a_whole_parse() {
        let dir = std::env::temp_dir().join(format!("trackseed-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("list.txt");
        let mut text = String::from("# header\n");
        let mut x: u32 = 7;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let h: String = (0..5)
                .map(|k| format!("{:08x}", x.rotate_left(k * 7) ^ i))
                .collect();
            text += &h;
            text += if i % 3 == 0 {
                " a long trailing comment that goes on and on and on\n"
            } else {
                "\r\n"
            };
            if i % 1000 == 0 {
                text += "garbage line\n";
                text += &h; // a duplicate
                text += "\n";
            }
        }
        text += "0123456789abcdef0123456789abcdef01234567"; // no final newline
        std::fs::write(&path, &text).unwrap();
        let mut loader = Loader::begin(Mode::Whitelist, &path).unwrap();
        let mut steps = 0;
        let got = loop {
            steps += 1;
            assert!(steps < 10_000);
            if let Some(p) = loader.step().unwrap() {
                break p;
            }
        };
        assert!(steps > 5, "done in slices ({steps})");
        assert_eq!(got, parse(text.as_bytes()));
        assert_eq!(got.hashes.len(), 20_001);
        assert_eq!(got.skipped, 1 + 20);
        assert_eq!(got.first_bad_line, Some(3));
        assert!(got.hashes.windows(2).all(|w| w[0] < w[1]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let e = Loader::begin(Mode::Whitelist, Path::new("/nonexistent/list")).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("cannot read access list /nonexistent/list: "));
    }
}
