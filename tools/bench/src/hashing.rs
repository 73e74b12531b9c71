//! `bench hash-latency`: how much the publisher's hashing, done in slices inside trackseed's one
//! event loop, delays UDP announces.
//!
//! Each run starts trackseed with a site whose file directory is empty, measures the announce
//! round trip ([`crate::latency`]) idle for a few seconds (the baseline), then renames a 1 GiB
//! file of pseudo-random bytes into the file directory and keeps measuring until trackseed
//! logs `published big.bin` (the hashing phase). The file is written in full beforehand in a
//! staging directory on the same file system, so trackseed never sees it half written and the
//! rename is atomic.
//!
//! Two cache states per `publish.hash_slice_ms` value:
//! - **warm**: the staged file is read once just before trackseed starts, so hashing reads from
//!   the page cache;
//! - **cold**: the staged file is flushed (`fsync`, `sync`) and the page cache dropped (`3` into
//!   `/proc/sys/vm/drop_caches`) right before the rename, so hashing reads from the disk. Needs
//!   root, a writable `/proc/sys` and a disk-backed scratch directory; otherwise the cold runs
//!   are skipped and the report says why. Dropping the caches affects the whole machine.

use crate::args::Flags;
use crate::latency::{self, Probe, Samples, Summary};
use crate::procfs;
use crate::report::{group, out, Table};
use crate::scratch::{self, Scratch};
use crate::servers::{self, PortPicker};
use crate::stop;
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const USAGE: &str = "\
usage: bench hash-latency [OPTIONS]

Measures UDP announce round trips (one in flight at a time, random info hashes) against
trackseed idle and while its publisher hashes a new file, and prints count, p50, p90, p99,
p99.9 and max in microseconds for both, and the hashing time.

  --trackseed PATH        the trackseed binary (default: build the repository's release binary
                          with cargo and use target/release/trackseed)
  --no-build              use target/release/trackseed as it is
  --hash-slice-ms N[,N..] write `publish.hash_slice_ms N` into the config; one warm and one
                          cold run per value (default: the key left out, trackseed's default)
  --size-mib N            size of the file hashed (default 1024)
  --idle SECS             baseline measured before the file appears (default 5)
  --publish-timeout SECS  longest wait for `published big.bin` in trackseed's log (default 120)
  --announce-timeout SECS an announce unanswered this long counts as lost (default 5)
  --no-warm               only the cold runs
  --no-cold               only the warm runs
  --open-tracker          also write `publish.open_tracker yes`, so announces of unpublished
                          torrents are stored and answered rather than refused
  --dir DIR               scratch directory (default: the system's temporary directory); it
                          needs the file's size free, and a disk (not tmpfs) for cold runs
  --no-pin                do not pin the bench and trackseed to one CPU each
  -h, --help              this text
";

/// The line trackseed logs once the file is published.
const PUBLISHED: &str = "published big.bin";
const FILE_NAME: &str = "big.bin";
const DROP_CACHES: &str = "/proc/sys/vm/drop_caches";
/// Random info hashes the probe draws from.
const HASH_POOL: usize = 4096;
/// Lines of trackseed's log kept for error messages.
const TAIL_LINES: usize = 12;

#[derive(Clone, Debug)]
pub struct Options {
    pub trackseed: Option<PathBuf>,
    pub no_build: bool,
    /// `publish.hash_slice_ms` values; `None` leaves the key out.
    pub slices: Vec<Option<u32>>,
    pub size: u64,
    pub idle: Duration,
    pub publish_timeout: Duration,
    pub announce_timeout: Duration,
    pub warm: bool,
    pub cold: bool,
    pub open_tracker: bool,
    pub dir: PathBuf,
    pub pin: bool,
}

/// Parses the arguments after `hash-latency`; `Ok(None)` for `--help`.
pub fn parse_args(argv: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options {
        trackseed: None,
        no_build: false,
        slices: vec![None],
        size: 1 << 30,
        idle: Duration::from_secs(5),
        publish_timeout: Duration::from_secs(120),
        announce_timeout: Duration::from_secs(5),
        warm: true,
        cold: true,
        open_tracker: false,
        dir: std::env::temp_dir(),
        pin: true,
    };
    let mut f = Flags::new(argv);
    while let Some(flag) = f.next_flag() {
        match flag {
            "-h" | "--help" => return Ok(None),
            "--trackseed" => o.trackseed = Some(f.value()?.into()),
            "--no-build" => o.no_build = true,
            "--hash-slice-ms" => {
                o.slices = f
                    .nums(1, 1000)?
                    .into_iter()
                    .map(|n| Some(n as u32))
                    .collect();
            }
            "--size-mib" => o.size = f.num(1, 1 << 20)? << 20,
            "--idle" => o.idle = f.positive_secs(3600)?,
            "--publish-timeout" => o.publish_timeout = f.positive_secs(3600)?,
            "--announce-timeout" => o.announce_timeout = f.positive_secs(3600)?,
            "--no-warm" => o.warm = false,
            "--no-cold" => o.cold = false,
            "--open-tracker" => o.open_tracker = true,
            "--dir" => o.dir = f.value()?.into(),
            "--no-pin" => o.pin = false,
            _ => {
                return Err(format!(
                    "hash-latency: unknown option {flag:?} (see --help)"
                ))
            }
        }
    }
    if !o.warm && !o.cold {
        return Err("--no-warm and --no-cold leave nothing to run".into());
    }
    Ok(Some(o))
}

fn progress(text: &str) {
    eprintln!("bench: hash-latency: {text}");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cache {
    Warm,
    Cold,
}

/// One run's figures.
struct RunResult {
    slice: Option<u32>,
    cache: Cache,
    baseline: Summary,
    hashing: Summary,
    /// The last part of the hashing phase, as long as trackseed's line says it hashed
    /// ("hashed in N ms"), and its round trips.
    busy: Option<(Duration, Summary)>,
    /// From the rename to the `published` line; `None` if it never came.
    hash_time: Option<Duration>,
    /// trackseed's CPU seconds over the hashing phase.
    cpu: Option<f64>,
    published_line: Option<String>,
    /// Bytes hashed.
    size: u64,
    /// The end of trackseed's log when the `published` line never came.
    log_tail: String,
}

impl RunResult {
    /// "slice 5 ms, warm": the run in the report's first column.
    fn name(&self) -> String {
        format!(
            "{}, {}",
            self.slice
                .map_or("slice default".into(), |ms| format!("slice {ms} ms")),
            cache_name(self.cache)
        )
    }
}

/// Runs every configured run with trackseed binary `bin` and prints the report. `command` is
/// the command line, for the report's head.
pub fn run(o: &Options, bin: &Path, command: &str) -> io::Result<()> {
    let started = Instant::now();
    let (machine, load) = crate::report::machine();
    let fsi = scratch::room(&o.dir, o.size + (64 << 20), "the file needs")?;
    // Whether the cold runs can happen, checked before anything is started.
    let cold_skip: Option<String> = if !o.cold {
        Some("--no-cold".into())
    } else if fsi.in_memory {
        Some(format!(
            "{} is on tmpfs, whose pages cannot be dropped; use --dir on a disk",
            o.dir.display()
        ))
    } else {
        match OpenOptions::new().write(true).open(DROP_CACHES) {
            Ok(_) => None,
            Err(e) => Some(format!(
                "cannot open {DROP_CACHES} for writing: {e} (needs root and a writable /proc/sys)"
            )),
        }
    };
    let mut plan = Vec::new();
    for &slice in &o.slices {
        if o.warm {
            plan.push((slice, Cache::Warm));
        }
        if cold_skip.is_none() {
            plan.push((slice, Cache::Cold));
        }
    }
    if plan.is_empty() {
        return Err(io::Error::other(format!(
            "nothing to run: the cold runs were skipped ({})",
            cold_skip.unwrap_or_default()
        )));
    }

    let (cpus, pinning) = crate::sys::pin_pair(o.pin, "bench", "trackseed")?;
    let server_cpu = cpus.map(|(_, server)| server);
    out(&format!(
        "trackseed bench: announce latency while hashing, {}\ncommand: {command}\nmachine: {machine}\n\
         load average at start: {load}\ntrackseed: {}\n\
         file: {} MiB of pseudo-random bytes, staged and renamed into the site's file directory; \
         scratch directory {} ({})\n\
         probe: UDP announces from 127.0.0.1, one in flight, random info hashes from a pool of {}, \
         lost after {:.1} s; {pinning}\n",
        crate::report::utc_now(),
        bin.display(),
        group(o.size >> 20),
        o.dir.display(),
        if fsi.in_memory { "tmpfs" } else { "disk" },
        group(HASH_POOL as u64),
        o.announce_timeout.as_secs_f64(),
    ));
    match &cold_skip {
        None => out("cold runs: page cache dropped before the rename (sync; echo 3 > /proc/sys/vm/drop_caches)\n"),
        Some(why) => out(&format!("cold runs: SKIPPED: {why}\n")),
    }
    if let Some(why) = &cold_skip {
        progress(&format!("cold-cache runs skipped: {why}"));
    }

    // The scratch tree, removed (1 GiB file included) however the bench ends.
    let scratch = Scratch::dir(
        o.dir
            .join(format!("trackseed-hashlat-{}", std::process::id())),
    )?;
    let stage_dir = scratch.0.join("stage");
    fs::create_dir_all(&stage_dir)?;
    let staged = stage_dir.join(FILE_NAME);
    progress(&format!(
        "writing {} MiB of pseudo-random bytes to {}",
        group(o.size >> 20),
        staged.display()
    ));
    let t = Instant::now();
    scratch::write_random_file(&staged, o.size)?;
    progress(&format!("written in {:.1} s", t.elapsed().as_secs_f64()));

    let mut ports = PortPicker::new();
    let mut results: Vec<RunResult> = Vec::new();
    let mut failure = None;
    for (i, &(slice, cache)) in plan.iter().enumerate() {
        let run_dir = scratch.0.join(format!("run{i}"));
        progress(&format!(
            "run {} of {}: {} cache, {}",
            i + 1,
            plan.len(),
            cache_name(cache),
            slice_name(slice)
        ));
        match one_run(
            o, bin, &run_dir, &staged, slice, cache, &mut ports, server_cpu,
        ) {
            Ok(r) => {
                if r.hash_time.is_none() {
                    failure = Some(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "trackseed did not log a line containing `{PUBLISHED}` within {:.0} s of the file \
                             appearing in its site's file directory (no publisher in this build, or hashing \
                             failed or is stuck); its log ends with:\n{}",
                            o.publish_timeout.as_secs_f64(),
                            r.log_tail
                        ),
                    ));
                    results.push(r);
                    break;
                }
                results.push(r);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    report(&results);
    out(&crate::report::total_time(started));
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn cache_name(c: Cache) -> &'static str {
    match c {
        Cache::Warm => "warm",
        Cache::Cold => "cold",
    }
}

fn slice_name(s: Option<u32>) -> String {
    match s {
        Some(ms) => format!("publish.hash_slice_ms {ms}"),
        None => "publish.hash_slice_ms default".into(),
    }
}

fn report(results: &[RunResult]) {
    if results.is_empty() {
        return;
    }
    out("\n== announce round trip (microseconds) ==\n\n");
    let mut t = Table::new(&[
        "run", "phase", "answers", "p50", "p90", "p99", "p99.9", "max", "lost", "refused",
    ]);
    for r in results {
        let name = r.name();
        let mut phases = vec![("idle", &r.baseline), ("hashing", &r.hashing)];
        if let Some((_, busy)) = &r.busy {
            phases.push(("hashing, busy", busy));
        }
        for (phase, s) in phases {
            t.row(vec![
                name.clone(),
                phase.into(),
                group(s.count),
                latency::micros(s.p50),
                latency::micros(s.p90),
                latency::micros(s.p99),
                latency::micros(s.p999),
                latency::micros(s.max),
                group(s.lost),
                group(s.refused),
            ]);
        }
    }
    out(&t.render());
    out(
        "\nidle: before the file appears; hashing: from its rename into files/ to trackseed's \
         `published` line; hashing, busy: the last part of that phase, as long as the line's \
         \"hashed in\" time (without the wait for the publisher to notice the file)\n\
         refused: error answers (an unpublished torrent, unless --open-tracker), timed like the others\n",
    );
    out("\n== hashing ==\n\n");
    let mut t = Table::new(&["run", "hashing time", "MB/s", "trackseed CPU"]);
    for r in results {
        t.row(vec![
            r.name(),
            r.hash_time
                .map_or("timed out".into(), |d| format!("{:.2} s", d.as_secs_f64())),
            r.hash_time.map_or("-".into(), |d| {
                format!("{:.0}", r.size as f64 / 1e6 / d.as_secs_f64())
            }),
            r.cpu.map_or("-".into(), |c| format!("{c:.2} s")),
        ]);
    }
    out(&t.render());
    out("\nhashing time: from the rename into files/ to the log line; trackseed's lines:\n");
    for r in results {
        if let Some(line) = &r.published_line {
            out(&format!("  {line}\n"));
        }
    }
}

/// One run: a fresh trackseed with its own site directories, baseline, rename, hashing phase.
/// The staged file is back in place afterwards.
#[allow(clippy::too_many_arguments)]
fn one_run(
    o: &Options,
    bin: &Path,
    dir: &Path,
    staged: &Path,
    slice: Option<u32>,
    cache: Cache,
    ports: &mut PortPicker,
    cpu: Option<usize>,
) -> io::Result<RunResult> {
    let torrents = dir.join("torrents");
    let files = dir.join("files");
    fs::create_dir_all(&torrents)?;
    fs::create_dir_all(&files)?;
    if cache == Cache::Warm {
        // Into the page cache (the previous run's hashing may have dropped it).
        scratch::warm(&File::open(staged)?)?;
    }
    let udp_port = ports.pick()?;
    let site_port = ports.pick_site()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, udp_port));
    let mut conf = format!(
        "listen.udp {addr}\nsite bench {} {} 127.0.0.1 {site_port}\npublish.settle_secs 0\n",
        torrents.display(),
        files.display()
    );
    if let Some(ms) = slice {
        conf.push_str(&format!("publish.hash_slice_ms {ms}\n"));
    }
    if o.open_tracker {
        conf.push_str("publish.open_tracker yes\n");
    }
    let conf_path = dir.join("trackseed.conf");
    fs::write(&conf_path, &conf)?;

    let mut ts = Tracker::start(bin, &conf_path, dir, cpu)?;
    let mut probe = Probe::new(addr, HASH_POOL, latency::seed())?;
    probe
        .connect(Duration::from_secs(10), &mut || ts.check_alive())
        .map_err(|e| ts.explain(e))?;

    progress(&format!("idle baseline, {:.1} s", o.idle.as_secs_f64()));
    let mut baseline = Samples::default();
    let t = Instant::now();
    measure(
        &mut probe,
        &mut ts,
        &mut baseline,
        o.announce_timeout,
        &mut |_| t.elapsed() >= o.idle,
    )?;

    if cache == Cache::Cold {
        progress("sync, then dropping the page cache");
        File::open(staged)?.sync_all()?;
        crate::sys::sync();
        fs::write(DROP_CACHES, b"3")
            .map_err(|e| io::Error::new(e.kind(), format!("write 3 to {DROP_CACHES}: {e}")))?;
    }
    let target = files.join(FILE_NAME);
    let cpu_before = procfs::cpu_secs(ts.pid()).ok();
    fs::rename(staged, &target)?;
    let renamed = Instant::now();
    progress(&format!(
        "{FILE_NAME} renamed into {}; measuring until trackseed logs `{PUBLISHED}` (at most {:.0} s)",
        files.display(),
        o.publish_timeout.as_secs_f64()
    ));
    let mut hashing = Samples::default();
    measure(
        &mut probe,
        &mut ts,
        &mut hashing,
        o.announce_timeout,
        &mut |ts| ts.published().is_some() || renamed.elapsed() >= o.publish_timeout,
    )?;
    let cpu_after = procfs::cpu_secs(ts.pid()).ok();
    let published = ts.published();
    let mut result = RunResult {
        slice,
        cache,
        baseline: baseline.summary(),
        hashing: hashing.summary(),
        // trackseed's own hashing time, back from the line: the phase without the wait for
        // the publisher to notice the file and start.
        busy: published.as_ref().and_then(|(at, line)| {
            let d = hashed_for(line)?;
            let from = at.checked_sub(d)?;
            Some((d, hashing.summary_from(Some(from))))
        }),
        hash_time: published
            .as_ref()
            .map(|(at, _)| at.saturating_duration_since(renamed)),
        cpu: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
        published_line: published.map(|(_, line)| line),
        size: o.size,
        log_tail: String::new(),
    };
    if result.hash_time.is_none() {
        result.log_tail = ts.log_tail();
    }
    ts.stop();
    // Back to the staging directory for the next run (trackseed is gone, so it sees nothing).
    fs::rename(&target, staged)?;
    Ok(result)
}

/// Announces one after the other until `done` (asked before each) says the phase is over;
/// reconnects when the connection id gets old and checks every 20 ms that trackseed still runs.
fn measure(
    probe: &mut Probe,
    ts: &mut Tracker,
    samples: &mut Samples,
    timeout: Duration,
    done: &mut dyn FnMut(&Tracker) -> bool,
) -> io::Result<()> {
    let mut checked = Instant::now();
    loop {
        stop::check()?;
        if done(ts) {
            return Ok(());
        }
        if checked.elapsed() >= Duration::from_millis(20) {
            checked = Instant::now();
            ts.check_alive()?;
        }
        if probe.needs_reconnect() {
            probe
                .connect(Duration::from_secs(10), &mut || ts.check_alive())
                .map_err(|e| ts.explain(e))?;
        }
        let sent = Instant::now();
        samples.add(sent, probe.announce(timeout)?);
    }
}

/// The hashing time trackseed's `published` line gives ("hashed in 664 ms", "hashed in 1.2 s").
fn hashed_for(line: &str) -> Option<Duration> {
    let rest = &line[line.find("hashed in ")? + "hashed in ".len()..];
    let mut words = rest.split(|c: char| c.is_whitespace() || c == ',' || c == ')');
    let n: f64 = words.next()?.parse().ok()?;
    let secs = match words.next()? {
        "ms" => n / 1000.0,
        "s" => n,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// What the log reader thread found.
#[derive(Default)]
struct LogState {
    tail: VecDeque<String>,
    /// When the `published` line was read, and the line.
    published: Option<(Instant, String)>,
}

/// A running trackseed: killed (SIGTERM, then SIGKILL) and reaped when dropped. A thread reads
/// its stderr (its log in the foreground) into `log` in its directory, watching for the
/// `published` line.
struct Tracker {
    child: Option<Child>,
    state: Arc<Mutex<LogState>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Tracker {
    fn start(bin: &Path, conf: &Path, dir: &Path, cpu: Option<usize>) -> io::Result<Tracker> {
        let mut cmd = Command::new(bin);
        cmd.arg("-f")
            .arg(conf)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        crate::sys::kill_with_parent(&mut cmd);
        if let Some(cpu) = cpu {
            crate::sys::pin_child(&mut cmd, cpu);
        }
        let mut child = cmd.spawn().map_err(|e| {
            io::Error::new(e.kind(), format!("cannot start {}: {e}", bin.display()))
        })?;
        let stderr = child.stderr.take().expect("piped");
        let state = Arc::new(Mutex::new(LogState::default()));
        let mut log = File::create(dir.join("log"))?;
        let shared = Arc::clone(&state);
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let now = Instant::now();
                let _ = log.write_all(&line);
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                if s.published.is_none() && text.contains(PUBLISHED) {
                    s.published = Some((now, text.clone()));
                }
                if s.tail.len() == TAIL_LINES {
                    s.tail.pop_front();
                }
                s.tail.push_back(text);
            }
        });
        Ok(Tracker {
            child: Some(child),
            state,
            reader: Some(reader),
        })
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn published(&self) -> Option<(Instant, String)> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .published
            .clone()
    }

    fn log_tail(&self) -> String {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.tail.is_empty() {
            return "  (nothing)".into();
        }
        s.tail
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Errors, with the end of its log, if trackseed has exited.
    fn check_alive(&mut self) -> io::Result<()> {
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        let Some(status) = child.try_wait()? else {
            return Ok(());
        };
        // Let the reader take in the last lines.
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let tail = self.log_tail();
        let hint = if tail.contains("unknown key `site`") || tail.contains("unknown key `publish.")
        {
            "\n(this trackseed build has no publisher yet: it does not know `site` or `publish.*`)"
        } else {
            ""
        };
        Err(io::Error::other(format!(
            "trackseed exited ({status}); its log ends with:\n{tail}{hint}"
        )))
    }

    /// `e` (a failed connect) with the end of trackseed's log.
    fn explain(&mut self, e: io::Error) -> io::Error {
        if e.kind() == io::ErrorKind::TimedOut {
            if let Err(dead) = self.check_alive() {
                return dead;
            }
            return io::Error::new(
                e.kind(),
                format!(
                    "trackseed does not answer: {e}; its log ends with:\n{}",
                    self.log_tail()
                ),
            );
        }
        e
    }

    fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            servers::stop_child(child, Duration::from_secs(2));
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::split as args;

    #[test]
    fn parses_options() {
        let o = parse_args(&args("--hash-slice-ms 2,5,20 --size-mib 64 --no-cold"))
            .unwrap()
            .unwrap();
        assert_eq!(o.slices, [Some(2), Some(5), Some(20)]);
        assert_eq!(o.size, 64 << 20);
        assert!(o.warm && !o.cold);
        let d = parse_args(&[]).unwrap().unwrap();
        assert_eq!(d.slices, [None]);
        assert_eq!(d.size, 1 << 30);
        assert_eq!(d.idle, Duration::from_secs(5));
        assert_eq!(d.publish_timeout, Duration::from_secs(120));
        assert!(parse_args(&args("--help")).unwrap().is_none());
        assert!(parse_args(&args("--hash-slice-ms 0")).is_err());
        assert!(parse_args(&args("--no-warm --no-cold")).is_err());
        assert!(parse_args(&args("--bogus")).is_err());
    }

    #[test]
    fn hashing_time_from_the_published_line() {
        let l =
            "trackseed: publish bench: published big.bin 9f15 (1.1 GB, 1024 pieces of 1024 KiB, \
                 hashed in 666 ms, 1.6 GB/s)";
        assert_eq!(hashed_for(l), Some(Duration::from_millis(666)));
        assert_eq!(
            hashed_for("published big.bin (hashed in 1.5 s)"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(hashed_for("published big.bin"), None);
        assert_eq!(hashed_for("published big.bin hashed in soon"), None);
        assert_eq!(hashed_for("published big.bin hashed in 3 weeks"), None);
    }
}
