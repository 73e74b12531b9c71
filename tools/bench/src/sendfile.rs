//! `bench sendfile`: what an upload costs the seeder with `sendfile(2)` and with the `pread` +
//! `write` fallback, both through trackseed's own [`trackseed::sys::sendfile::Sender`].
//!
//! A file of pseudo-random bytes (1 GiB by default, in the page cache: it was just written and
//! read) is sent whole over one loopback TCP connection to a reader thread that discards what it
//! gets, the way a seeder serves it: 16 KiB blocks in order, each preceded by the 13-byte header
//! of a BitTorrent `piece` message written with `write(2)`, on a non-blocking socket driven by a
//! `mio` loop (writable readiness after `WouldBlock`). The modes alternate within each round.
//!
//! Reported per run: MB/s (file bytes, 10^6, over the wall time from the first send to the
//! reader's end of stream) and the sender thread's CPU time per GiB sent
//! (`getrusage(RUSAGE_THREAD)`, user and system). On loopback the sender's system calls also do
//! most of the receiving side's TCP work (delivery runs in the sender's context), so the sender
//! CPU is the cost of uploading plus part of the receiver's; it is the same part in both modes.

use crate::args::Flags;
use crate::report::{group, out, Table};
use crate::scratch::{self, Scratch};
use crate::stop;
use mio::net::TcpStream as MioStream;
use mio::{Events, Interest, Poll, Token};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use trackseed::sys::sendfile::Sender;

pub const USAGE: &str = "\
usage: bench sendfile [OPTIONS]

Sends a page-cached file over a loopback TCP connection to a reader that discards it, as the
seeder uploads (blocks, each after a 13-byte piece header written with write(2), non-blocking
socket in a mio loop), with trackseed's sys::sendfile::Sender using sendfile(2) and with its
pread + write fallback forced, and prints MB/s and the sender's CPU seconds per GiB.

  --size-mib N     size of the file sent (default 1024)
  --block N        bytes per block (default 16384), also the fallback's pread buffer
  --rounds N       runs of each mode, alternating (default 3)
  --nodelay        set TCP_NODELAY on the sending socket (default: Nagle on)
  --msg-more       send the headers with send(2) and MSG_MORE (trackseed's
                   sys::socket::send_more, as the seeder does) instead of write(2)
  --dir DIR        scratch directory (default: the system's temporary directory)
  --no-pin         do not pin the sender and the reader to one CPU each
  -h, --help       this text
";

/// A `piece` message's header: length prefix (4), id (1), index (4), begin (4).
const HEADER: usize = 13;
/// Piece length used for the headers' index and begin fields.
const PIECE: u64 = 256 * 1024;
/// The reader's buffer.
const READ_BUF: usize = 256 * 1024;
/// A run is quiet when the rest of the machine used less than this share of one CPU meanwhile.
const QUIET: f64 = 0.05;

#[derive(Clone, Debug)]
pub struct Options {
    pub size: u64,
    pub block: usize,
    pub rounds: u32,
    pub nodelay: bool,
    pub msg_more: bool,
    pub dir: PathBuf,
    pub pin: bool,
}

/// Parses the arguments after `sendfile`; `Ok(None)` for `--help`.
pub fn parse_args(argv: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options {
        size: 1 << 30,
        block: 16384,
        rounds: 3,
        nodelay: false,
        msg_more: false,
        dir: std::env::temp_dir(),
        pin: true,
    };
    let mut f = Flags::new(argv);
    while let Some(flag) = f.next_flag() {
        match flag {
            "-h" | "--help" => return Ok(None),
            "--size-mib" => o.size = f.num(1, 1 << 20)? << 20,
            "--block" => o.block = f.num(1, 1 << 24)? as usize,
            "--rounds" => o.rounds = f.num(1, 100)? as u32,
            "--nodelay" => o.nodelay = true,
            "--msg-more" => o.msg_more = true,
            "--dir" => o.dir = f.value()?.into(),
            "--no-pin" => o.pin = false,
            _ => return Err(format!("sendfile: unknown option {flag:?} (see --help)")),
        }
    }
    Ok(Some(o))
}

fn progress(text: &str) {
    eprintln!("bench: sendfile: {text}");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Sendfile,
    Fallback,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Sendfile => "sendfile",
            Mode::Fallback => "pread+write",
        }
    }
}

/// One run's figures.
#[derive(Clone, Copy, Debug)]
struct Figures {
    /// Bytes of the file sent.
    file_bytes: u64,
    /// From the first send to the reader's end of stream.
    wall: Duration,
    /// The sender thread's CPU seconds over its send loop.
    user: f64,
    sys: f64,
    /// The reader thread's CPU seconds.
    reader_cpu: f64,
    /// `Sender::send` calls, and how many of them found the socket full.
    sends: u64,
    would_block: u64,
    /// Softirq CPU seconds of the whole machine meanwhile: on loopback, mostly the packet
    /// delivery and acknowledgements of this transfer, which the kernel does not charge to
    /// either thread.
    softirq: f64,
    /// CPU seconds the rest of the machine (other processes, steal) used meanwhile: the
    /// disturbance.
    others_cpu: f64,
}

impl Figures {
    fn mb_per_sec(&self) -> f64 {
        self.file_bytes as f64 / 1e6 / self.wall.as_secs_f64()
    }
    fn per_gib(&self, secs: f64) -> f64 {
        secs * (1u64 << 30) as f64 / self.file_bytes as f64
    }
    /// Whether the rest of the machine left the run alone.
    fn quiet(&self) -> bool {
        self.others_cpu < QUIET * self.wall.as_secs_f64()
    }
}

/// Runs the bench and prints the report; `command` is the command line, for the report's head.
pub fn run(o: &Options, command: &str) -> io::Result<()> {
    let started = Instant::now();
    let (machine, load) = crate::report::machine();
    let fsi = scratch::room(&o.dir, o.size + (64 << 20), "the file needs")?;
    let (cpus, pinning) = crate::sys::pin_pair(o.pin, "sender", "reader")?;
    let reader_cpu = cpus.map(|(_, reader)| reader);
    out(&format!(
        "trackseed bench: uploads with sendfile against pread+write, {}\ncommand: {command}\n\
         machine: {machine}\nload average at start: {load}\n\
         file: {} MiB of pseudo-random bytes in the page cache, scratch directory {} ({}); \
         blocks of {} bytes, each after a {HEADER}-byte header written with {}; \
         loopback TCP, Nagle {}; {} round{} of both modes; {pinning}\n",
        crate::report::utc_now(),
        group(o.size >> 20),
        o.dir.display(),
        if fsi.in_memory { "tmpfs" } else { "disk" },
        group(o.block as u64),
        if o.msg_more {
            "send(2) and MSG_MORE"
        } else {
            "write(2)"
        },
        if o.nodelay { "off (TCP_NODELAY)" } else { "on" },
        o.rounds,
        if o.rounds == 1 { "" } else { "s" },
    ));

    // The scratch file, removed however the bench ends.
    let scratch = Scratch(
        o.dir
            .join(format!("trackseed-sendfile-{}.bin", std::process::id())),
    );
    progress(&format!(
        "writing {} MiB of pseudo-random bytes to {}",
        group(o.size >> 20),
        scratch.0.display()
    ));
    scratch::write_random_file(&scratch.0, o.size)?;
    let file = File::open(&scratch.0)?;
    scratch::warm(&file)?;

    let mut table = Table::new(&[
        "round",
        "mode",
        "MB/s",
        "sender CPU s/GiB (user + sys)",
        "reader CPU s/GiB",
        "softirq s/GiB",
        "sends",
        "WouldBlock",
        "others' CPU",
    ]);
    let mut all: Vec<(Mode, Figures)> = Vec::new();
    for round in 1..=o.rounds {
        for mode in [Mode::Sendfile, Mode::Fallback] {
            stop::check()?;
            progress(&format!("round {round} of {}: {}", o.rounds, mode.name()));
            let f = one_run(o, &file, mode, reader_cpu)?;
            table.row(vec![
                round.to_string(),
                mode.name().into(),
                group(f.mb_per_sec().round() as u64),
                format!(
                    "{:.3} ({:.3} + {:.3})",
                    f.per_gib(f.user + f.sys),
                    f.per_gib(f.user),
                    f.per_gib(f.sys)
                ),
                format!("{:.3}", f.per_gib(f.reader_cpu)),
                format!("{:.3}", f.per_gib(f.softirq)),
                group(f.sends),
                group(f.would_block),
                crate::report::percent(f.others_cpu / f.wall.as_secs_f64()),
            ]);
            all.push((mode, f));
        }
    }
    out("\n== runs ==\n\n");
    out(&table.render());

    out(&format!(
        "\n== medians over the quiet rounds (others' CPU below {:.0}% of one CPU; all rounds if none) ==\n\n",
        QUIET * 100.0
    ));
    let mut t = Table::new(&[
        "mode",
        "rounds",
        "MB/s",
        "sender CPU s/GiB",
        "user",
        "sys",
        "reader",
        "softirq",
        "all three",
    ]);
    let mut medians = Vec::new();
    for mode in [Mode::Sendfile, Mode::Fallback] {
        let runs: Vec<Figures> = all
            .iter()
            .filter(|(m, _)| *m == mode)
            .map(|(_, f)| *f)
            .collect();
        let quiet: Vec<Figures> = runs.iter().copied().filter(Figures::quiet).collect();
        let used = if quiet.is_empty() { &runs } else { &quiet };
        let med = |f: &dyn Fn(&Figures) -> f64| median(used.iter().map(f).collect());
        let mbs = med(&Figures::mb_per_sec);
        let cpu = med(&|f| f.per_gib(f.user + f.sys));
        let total = med(&|f| f.per_gib(f.user + f.sys + f.reader_cpu + f.softirq));
        t.row(vec![
            mode.name().into(),
            format!("{} of {}", used.len(), runs.len()),
            group(mbs.round() as u64),
            format!("{cpu:.3}"),
            format!("{:.3}", med(&|f| f.per_gib(f.user))),
            format!("{:.3}", med(&|f| f.per_gib(f.sys))),
            format!("{:.3}", med(&|f| f.per_gib(f.reader_cpu))),
            format!("{:.3}", med(&|f| f.per_gib(f.softirq))),
            format!("{total:.3}"),
        ]);
        medians.push((mbs, cpu, total));
    }
    out(&t.render());
    if let [(sf_mbs, sf_cpu, sf_total), (fb_mbs, fb_cpu, fb_total)] = medians[..] {
        out(&format!(
            "\nsendfile / pread+write: {:.2}x the throughput, {:.2}x the sender CPU per GiB, \
             {:.2}x the CPU of all three\n",
            sf_mbs / fb_mbs,
            sf_cpu / fb_cpu,
            sf_total / fb_total
        ));
    }
    out(&crate::report::total_time(started));
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// One transfer of the whole file in `mode`.
fn one_run(o: &Options, file: &File, mode: Mode, reader_cpu: Option<usize>) -> io::Result<Figures> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let reader = std::thread::spawn(move || -> io::Result<(u64, f64)> {
        if let Some(cpu) = reader_cpu {
            crate::sys::pin(0, cpu)?;
        }
        let mut s = TcpStream::connect(addr)?;
        let mut buf = vec![0u8; READ_BUF];
        let mut total = 0u64;
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => total += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let (user, sys) = crate::sys::thread_cpu_secs();
        Ok((total, user + sys))
    });
    let (stream, _) = listener.accept()?;
    if o.nodelay {
        stream.set_nodelay(true)?;
    }
    stream.set_nonblocking(true)?;
    let mut sock = MioStream::from_std(stream);
    let mut sender = Sender::new(o.block);
    if mode == Mode::Fallback {
        sender.force_fallback();
    }

    let machine0 = machine_cpu();
    let own0 = crate::sys::self_cpu_secs();
    let (user0, sys0) = crate::sys::thread_cpu_secs();
    let t0 = Instant::now();
    let sent = send_all(o, file, &mut sock, &mut sender);
    let (user1, sys1) = crate::sys::thread_cpu_secs();
    drop(sock);
    let read = reader
        .join()
        .map_err(|_| io::Error::other("the reader thread panicked"))?;
    let wall = t0.elapsed();
    let own = crate::sys::self_cpu_secs() - own0;
    let (softirq, others_cpu) = match (machine0, machine_cpu()) {
        (Some(a), Some(b)) => (b.softirq - a.softirq, (b.tasks - a.tasks - own).max(0.0)),
        _ => (f64::NAN, f64::NAN),
    };
    let (sends, would_block) = sent?;
    let (received, reader_cpu_secs) = read?;
    let blocks = o.size.div_ceil(o.block as u64);
    let expected = o.size + blocks * HEADER as u64;
    if received != expected {
        return Err(io::Error::other(format!(
            "{}: the reader got {received} bytes, not {expected}",
            mode.name()
        )));
    }
    if mode == Mode::Sendfile && !sender.uses_sendfile() {
        return Err(io::Error::other(
            "sendfile(2) failed here and the Sender fell back to pread+write: nothing to compare",
        ));
    }
    Ok(Figures {
        file_bytes: o.size,
        wall,
        user: user1 - user0,
        sys: sys1 - sys0,
        reader_cpu: reader_cpu_secs,
        sends,
        would_block,
        softirq,
        others_cpu,
    })
}

/// The whole machine's CPU seconds so far, from `/proc/stat`'s `cpu` line (clock ticks'
/// resolution).
struct MachineCpu {
    /// user, nice, system and steal: tasks (and the hypervisor).
    tasks: f64,
    softirq: f64,
}

fn machine_cpu() -> Option<MachineCpu> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_ascii_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest times are within user).
    let [user, nice, system, _idle, _iowait, _irq, softirq, steal] = v.get(..8)? else {
        return None;
    };
    let secs = |ticks: u64| ticks as f64 / crate::sys::clock_ticks_per_sec();
    Some(MachineCpu {
        tasks: secs(user + nice + system + steal),
        softirq: secs(*softirq),
    })
}

/// The seeder's upload loop: header, then the block, each resumed after `WouldBlock` once the
/// socket is writable again. Returns (`send` calls, of which found the socket full).
fn send_all(
    o: &Options,
    file: &File,
    sock: &mut MioStream,
    sender: &mut Sender,
) -> io::Result<(u64, u64)> {
    let mut poll = Poll::new()?;
    poll.registry()
        .register(sock, Token(0), Interest::WRITABLE)?;
    let mut events = Events::with_capacity(4);
    let (mut sends, mut would_block) = (0u64, 0u64);
    let mut off = 0u64;
    while off < o.size {
        let len = (o.size - off).min(o.block as u64) as usize;
        let header = header(off, len);
        let (mut in_header, mut in_block) = (0usize, 0usize);
        while in_block < len {
            let step = if in_header < HEADER {
                if o.msg_more {
                    trackseed::sys::socket::send_more(&*sock, &header[in_header..])
                } else {
                    sock.write(&header[in_header..])
                }
                .map(|n| in_header += n)
            } else {
                sends += 1;
                sender
                    .send(&*sock, file, off + in_block as u64, len - in_block)
                    .and_then(|n| match n {
                        0 => Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the file ended early",
                        )),
                        n => {
                            in_block += n;
                            Ok(())
                        }
                    })
            };
            match step {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    would_block += u64::from(in_header == HEADER);
                    // Edge-triggered: the next writable event comes once there is room again.
                    loop {
                        stop::check()?;
                        poll.poll(&mut events, Some(Duration::from_secs(1)))?;
                        if !events.is_empty() {
                            break;
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        off += len as u64;
    }
    Ok((sends, would_block))
}

/// The `piece` message header for the block of `len` bytes at file offset `off`.
fn header(off: u64, len: usize) -> [u8; HEADER] {
    let mut h = [0u8; HEADER];
    h[..4].copy_from_slice(&(9 + len as u32).to_be_bytes());
    h[4] = 7;
    h[5..9].copy_from_slice(&((off / PIECE) as u32).to_be_bytes());
    h[9..].copy_from_slice(&((off % PIECE) as u32).to_be_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piece_header() {
        assert_eq!(
            header(3 * PIECE + 16384, 16384),
            [0, 0, 0x40, 9, 7, 0, 0, 0, 3, 0, 0, 0x40, 0]
        );
    }

    #[test]
    fn options() {
        let a = |v: &[&str]| parse_args(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let o = a(&[]).unwrap().unwrap();
        assert_eq!((o.size, o.block, o.rounds), (1 << 30, 16384, 3));
        let o = a(&[
            "--size-mib",
            "64",
            "--block",
            "4096",
            "--rounds",
            "1",
            "--no-pin",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            (o.size, o.block, o.rounds, o.pin),
            (64 << 20, 4096, 1, false)
        );
        assert!(a(&["--help"]).unwrap().is_none());
        assert!(a(&["--block", "0"]).is_err());
        assert!(a(&["--bogus"]).is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0]), 2.5);
    }
}
