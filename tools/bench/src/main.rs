//! `make bench`: request rates, memory and size of trackseed next to Debian's opentracker and a
//! do-nothing tracker (the ceiling), all on loopback, in one invocation. `bench --help` lists
//! the options; the report goes to stdout, progress to stderr.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use trackseed_bench::args::{self, Flags};
use trackseed_bench::hashing;
use trackseed_bench::http::{HttpLoad, HttpMode, HttpPlan};
use trackseed_bench::procfs;
use trackseed_bench::report::{self, group, out, percent, rate, ratio, small_percent, Table};
use trackseed_bench::run::{self, RunResult, Schedule};
use trackseed_bench::sendfile;
use trackseed_bench::servers::{self, Kind, PortPicker, Server};
use trackseed_bench::stop;
use trackseed_bench::udp::{self, Mode, Plan, Swarm};

/// `bench seeding`: in the binary rather than the library, beside its dispatch.
mod seeding;

const USAGE: &str = "\
usage: bench [OPTIONS]
       bench hash-latency [OPTIONS]   (announce latency while the publisher hashes; --help)
       bench sendfile [OPTIONS]       (uploads: sendfile(2) against pread + write; --help)
       bench seeding [OPTIONS]        (trackseed, rtorrent and transmission-daemon seeding to
                                      libtorrent on loopback: MB/s, CPU/GiB, RSS; --help)

Runs trackseed, Debian's opentracker and a do-nothing tracker (the ceiling) one after the
other on loopback under the same load, and prints answered requests per second and per
second of server CPU, memory per peer, idle memory and binary sizes.

  --quick              2 measured seconds per server in one round, and the 100k fill only
                       (a smoke run)
  --only PART          run only PART: udp, http, http-close or memory (repeatable, or
                       comma-separated); sizes and idle RSS are always printed
  --duration SECS      measured seconds per server and part (default 10; --quick 2)
  --rounds N           split them into N rounds: each round starts every server in turn and
                       loads it for SECS/N seconds; the rounds are added up. Interleaving
                       evens out the drift of a shared machine (default 3; --quick 1)
  --warmup SECS        unmeasured load after each start (default 0.5)
  --torrents N         torrents announced (default 10000)
  --peers N            distinct peers of the request-rate runs (default 100000)
  --fill N[,N...]      memory fills, cumulative, in peers (default 100000,1000000)
  --udp-clients N      UDP client sockets, one loopback address each (default 16)
  --udp-window N       UDP announces in flight per client (default 8)
  --http-conns N       keep-alive connections, one request in flight each (default 32)
  --close-conns N      one-request connections open at once (default 32)
  --servers LIST       comma-separated subset of trackseed,opentracker,ceiling
  --trackseed PATH     the trackseed binary (default: build the repository's release binary
                       with cargo and use target/release/trackseed)
  --no-build           use target/release/trackseed as it is
  --opentracker PATH   the opentracker binary (default: PATH, then /usr/bin)
  --no-pin             do not pin the load generator and the server to one CPU each
  -h, --help           this text
";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Udp,
    Http,
    HttpClose,
    Memory,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Udp => "udp",
            Part::Http => "http",
            Part::HttpClose => "http-close",
            Part::Memory => "memory",
        }
    }
}

struct Args {
    only: Vec<Part>,
    schedule: Schedule,
    torrents: u32,
    peers: u32,
    fill: Vec<u32>,
    udp_clients: usize,
    udp_window: usize,
    http_conns: usize,
    close_conns: usize,
    servers: Vec<String>,
    trackseed: Option<PathBuf>,
    no_build: bool,
    opentracker: Option<PathBuf>,
    pin: bool,
    rounds: u32,
    /// The CPU the servers run on (when pinned).
    server_cpu: Option<usize>,
}

impl Args {
    fn wants(&self, p: Part) -> bool {
        self.only.is_empty() || self.only.contains(&p)
    }
    fn runs(&self, server: &str) -> bool {
        self.servers.iter().any(|s| s == server)
    }
}

fn parse_args(argv: &[String]) -> Result<Option<Args>, String> {
    let quick = argv.iter().any(|a| a == "--quick");
    let mut a = Args {
        only: Vec::new(),
        schedule: Schedule {
            warmup: Duration::from_millis(500),
            duration: Duration::from_secs(if quick { 2 } else { 10 }),
            drain: Duration::from_millis(500),
        },
        torrents: 10_000,
        peers: 100_000,
        fill: if quick {
            vec![100_000]
        } else {
            vec![100_000, 1_000_000]
        },
        udp_clients: 16,
        udp_window: 8,
        http_conns: 32,
        close_conns: 32,
        servers: vec!["trackseed".into(), "opentracker".into(), "ceiling".into()],
        trackseed: None,
        no_build: false,
        opentracker: None,
        pin: true,
        rounds: if quick { 1 } else { 3 },
        server_cpu: None,
    };
    let mut f = Flags::new(argv);
    while let Some(flag) = f.next_flag() {
        match flag {
            "-h" | "--help" => return Ok(None),
            "--quick" => {}
            "--no-build" => a.no_build = true,
            "--no-pin" => a.pin = false,
            "--only" => {
                for p in f.value()?.split(',') {
                    a.only.push(match p {
                        "udp" => Part::Udp,
                        "http" => Part::Http,
                        "http-close" => Part::HttpClose,
                        "memory" => Part::Memory,
                        _ => {
                            return Err(format!(
                                "--only: unknown part {p:?} (udp, http, http-close, memory)"
                            ))
                        }
                    });
                }
            }
            "--duration" => a.schedule.duration = f.secs(3600)?,
            "--warmup" => a.schedule.warmup = f.secs(3600)?,
            "--torrents" => a.torrents = f.whole()?.clamp(1, 20_000) as u32,
            "--peers" => a.peers = f.whole()?.clamp(1, 1_000_000) as u32,
            "--fill" => {
                let mut v = Vec::new();
                for n in f.value()?.split(',') {
                    v.push(args::whole(flag, n)?.clamp(1, 1_900_000) as u32);
                }
                v.sort_unstable();
                v.dedup();
                a.fill = v;
            }
            "--rounds" => a.rounds = f.whole()?.clamp(1, 100) as u32,
            "--udp-clients" => a.udp_clients = f.whole()?.clamp(1, 10_000) as usize,
            "--udp-window" => a.udp_window = f.whole()?.clamp(1, 256) as usize,
            "--http-conns" => a.http_conns = f.whole()?.clamp(1, 4000) as usize,
            "--close-conns" => a.close_conns = f.whole()?.clamp(1, 4000) as usize,
            "--servers" => {
                a.servers = f.value()?.split(',').map(str::to_string).collect();
                for s in &a.servers {
                    if !["trackseed", "opentracker", "ceiling"].contains(&s.as_str()) {
                        return Err(format!("--servers: unknown server {s:?}"));
                    }
                }
            }
            "--trackseed" => a.trackseed = Some(f.value()?.into()),
            "--opentracker" => a.opentracker = Some(f.value()?.into()),
            _ => return Err(format!("unknown option {flag:?} (see --help)")),
        }
    }
    if a.peers < a.torrents {
        return Err("--peers must be at least --torrents".into());
    }
    // Ports are 10000 + g / torrents: they must stay below 65536.
    let most = a.fill.iter().copied().chain([a.peers]).max().unwrap_or(0) as u64;
    if 10_000 + most / a.torrents as u64 >= 65_536 {
        return Err("too many peers per torrent: raise --torrents".into());
    }
    Ok(Some(a))
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--serve-null") {
        return serve_null(argv.get(2));
    }
    match argv.get(1).map(String::as_str) {
        // `bench hash-latency`: announce latency while trackseed's publisher hashes a file
        // (`trackseed_bench::hashing`).
        Some(name @ "hash-latency") => command(
            &argv,
            name,
            hashing::USAGE,
            hashing::parse_args,
            |o, line| {
                let bin = trackseed_binary(o.trackseed.as_ref(), o.no_build)?;
                hashing::run(&o, &bin, line)
            },
            missing_is_2,
        ),
        // `bench sendfile`: the seeder's upload path with sendfile(2) and with its
        // pread + write fallback (`trackseed_bench::sendfile`).
        Some(name @ "sendfile") => command(
            &argv,
            name,
            sendfile::USAGE,
            sendfile::parse_args,
            |o, line| sendfile::run(&o, line),
            |_| ExitCode::FAILURE,
        ),
        // `bench seeding`: trackseed's seeder against rtorrent and transmission-daemon,
        // uploads and memory (`seeding`).
        Some(name @ "seeding") => command(
            &argv,
            name,
            seeding::USAGE,
            seeding::parse_args,
            |o, line| {
                let bin = trackseed_binary(o.trackseed.as_ref(), o.no_build)?;
                seeding::run(&o, &bin, line)
            },
            missing_is_2,
        ),
        _ => command(
            &argv,
            "",
            USAGE,
            parse_args,
            |mut a, line| run(line, &mut a),
            missing_is_2,
        ),
    }
}

/// One command of the bench: `bench [OPTIONS]` (`name` empty) or `bench NAME [OPTIONS]`. The
/// options are `parse`d (`Ok(None)`, --help: `usage` is printed; an error exits with 2), then
/// `run` gets them with the command line (for the report's head). A failed run prints
/// `bench: NAME: error` (`bench: error`) and exits with `fail(&error)`.
fn command<O>(
    argv: &[String],
    name: &str,
    usage: &str,
    parse: fn(&[String]) -> Result<Option<O>, String>,
    run: impl FnOnce(O, &str) -> io::Result<()>,
    fail: fn(&io::Error) -> ExitCode,
) -> ExitCode {
    stop::install();
    let skip = if name.is_empty() { 1 } else { 2 };
    let opts = match parse(&argv[skip..]) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(2);
        }
    };
    let line: Vec<&str> = std::iter::once("bench")
        .chain(argv[1..].iter().map(String::as_str))
        .collect();
    match run(opts, &line.join(" ")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if name.is_empty() {
                eprintln!("bench: {e}");
            } else {
                eprintln!("bench: {name}: {e}");
            }
            fail(&e)
        }
    }
}

/// A missing program or file (`NotFound`) exits with 2, like a bad command line; other
/// failures with 1.
fn missing_is_2(e: &io::Error) -> ExitCode {
    ExitCode::from(if e.kind() == io::ErrorKind::NotFound {
        2
    } else {
        1
    })
}

/// The do-nothing tracker, started by the bench as `bench --serve-null ADDR`.
fn serve_null(addr: Option<&String>) -> ExitCode {
    let Some(addr) = addr.and_then(|a| a.parse().ok()) else {
        eprintln!("bench: --serve-null needs ADDR (ip:port)");
        return ExitCode::from(2);
    };
    match trackseed_bench::null::run(addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("null-tracker: {e}");
            ExitCode::FAILURE
        }
    }
}

fn progress(text: &str) {
    eprintln!("bench: {text}");
}

/// The repository root: this crate lives in `tools/bench`.
fn repo_root() -> io::Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
}

/// Builds (unless told not to) and finds trackseed's release binary; `explicit` (from
/// `--trackseed`) is used as it is.
fn trackseed_binary(explicit: Option<&PathBuf>, no_build: bool) -> io::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.clone());
    }
    let root = repo_root()?;
    if !no_build {
        progress("building trackseed (cargo build --release at the repository root)");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--bin",
                "trackseed",
                "--manifest-path",
            ])
            .arg(root.join("Cargo.toml"))
            .status()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "cargo build --release failed ({status})"
            )));
        }
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => std::env::current_dir()?.join(t),
        None => root.join("target"),
    };
    let bin = target.join("release").join("trackseed");
    if !bin.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is missing: run cargo build --release", bin.display()),
        ));
    }
    Ok(bin)
}

fn opentracker_binary(args: &Args) -> io::Result<PathBuf> {
    if let Some(p) = &args.opentracker {
        return Ok(p.clone());
    }
    servers::find_on_path("opentracker").ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "opentracker is not installed; install it with:\n  sudo apt-get install -y opentracker",
        )
    })
}

/// Starts `kind`, trying another port if the first one was taken meanwhile.
fn start(
    kind: &Kind,
    ports: &mut PortPicker,
    torrents: u32,
    cpu: Option<usize>,
) -> io::Result<Server> {
    let mut last = None;
    for _ in 0..3 {
        stop::check()?;
        match servers::start(kind, ports.pick()?, torrents, cpu) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                progress(&format!(
                    "{} did not start: {e}; trying another port",
                    kind.name()
                ));
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no start")))
}

/// Idle RSS (KiB) of each server, from its first start.
type Idle = BTreeMap<&'static str, u64>;

fn note_idle(idle: &mut Idle, server: &Server) {
    if !idle.contains_key(server.name) {
        std::thread::sleep(Duration::from_millis(200));
        if let Ok(kib) = procfs::rss_kib(server.pid()) {
            idle.insert(server.name, kib);
        }
    }
}

/// One request-rate run of `part` against a fresh start of `kind`.
fn rate_run(
    part: Part,
    kind: &Kind,
    args: &Args,
    schedule: &Schedule,
    ports: &mut PortPicker,
    idle: &mut Idle,
) -> io::Result<RunResult> {
    let mut server = start(kind, ports, args.torrents, args.server_cpu)?;
    note_idle(idle, &server);
    let pid = server.pid();
    let result = match part {
        Part::Udp => {
            let plan = Plan {
                net: 42,
                clients: args.udp_clients,
                window: args.udp_window,
                from: 0,
                to: args.peers,
                torrents: args.torrents,
                num_want: -1,
                mode: Mode::Load,
                timeout: Duration::from_secs(1),
            };
            let mut swarm = Swarm::new(server.addr, plan)?;
            swarm.connect(Duration::from_secs(5))?;
            run::measure(&mut swarm, pid, schedule)?
        }
        Part::Http | Part::HttpClose => {
            let (mode, conns) = match part {
                Part::Http => (HttpMode::KeepAlive, args.http_conns),
                _ => (HttpMode::Close, args.close_conns),
            };
            let plan = HttpPlan {
                mode,
                conns,
                from: 0,
                to: args.peers,
                torrents: args.torrents,
                timeout: Duration::from_secs(2),
            };
            let mut load = HttpLoad::new(server.addr, plan)?;
            run::measure(&mut load, pid, schedule)?
        }
        Part::Memory => unreachable!("not a rate run"),
    };
    server.check_alive()?;
    server.stop();
    Ok(result)
}

fn rate_section(
    part: Part,
    args: &Args,
    kinds: &[Kind],
    ports: &mut PortPicker,
    idle: &mut Idle,
) -> io::Result<Vec<(&'static str, RunResult)>> {
    let s = &args.schedule;
    let what = match part {
        Part::Udp => format!(
            "UDP announces: {} clients (one loopback address each), connect once, then {} announces in flight each",
            args.udp_clients, args.udp_window
        ),
        Part::Http => format!(
            "HTTP announces, keep-alive: {} HTTP/1.1 connections, one request in flight each",
            args.http_conns
        ),
        _ => format!(
            "HTTP announces, one connection per request: {} at once, HTTP/1.0, read until the server closes",
            args.close_conns
        ),
    };
    let slice = Schedule {
        duration: s.duration / args.rounds,
        ..*s
    };
    out(&format!(
        "\n== {} ==\n{what}; {} torrents, {} peers; {:.1} s measured per server: {} round{} of {:.1} s, \
         servers in turn, each a fresh start with {:.1} s warm-up\n\n",
        part.name(),
        group(args.torrents as u64),
        group(args.peers as u64),
        s.duration.as_secs_f64(),
        args.rounds,
        if args.rounds == 1 { "" } else { "s" },
        slice.duration.as_secs_f64(),
        s.warmup.as_secs_f64()
    ));
    let mut table = Table::new(&[
        "server",
        "answered/s",
        "per server-CPU-s",
        "server CPU",
        "loadgen CPU",
        "loadgen share",
        "unanswered",
        "errors",
        "reconnects",
    ]);
    let mut sums = vec![RunResult::default(); kinds.len()];
    for round in 1..=args.rounds {
        for (kind, sum) in kinds.iter().zip(&mut sums) {
            let of = if args.rounds > 1 {
                format!(" (round {round} of {})", args.rounds)
            } else {
                String::new()
            };
            progress(&format!("{}: {}{of}", part.name(), kind.name()));
            *sum = sum.plus(&rate_run(part, kind, args, &slice, ports, idle)?);
        }
    }
    let mut results = Vec::new();
    for (kind, r) in kinds.iter().zip(sums) {
        table.row(vec![
            kind.name().into(),
            rate(r.answered_per_sec()),
            rate(r.answered_per_cpu_sec()),
            percent(r.server_cpu / r.wall),
            percent(r.own_cpu / r.wall),
            percent(r.own_cpu / (r.own_cpu + r.server_cpu)),
            small_percent(r.unanswered_share()),
            group(r.total.errors),
            if part == Part::Udp {
                "-".into()
            } else {
                group(r.total.reconnects)
            },
        ]);
        results.push((kind.name(), r));
    }
    out(&table.render());
    Ok(results)
}

/// Memory of one tracker: a fresh start, then cumulative fills.
fn memory_rows(
    kind: &Kind,
    args: &Args,
    ports: &mut PortPicker,
    idle: &mut Idle,
    table: &mut Table,
) -> io::Result<()> {
    let server = start(kind, ports, args.torrents, args.server_cpu)?;
    std::thread::sleep(Duration::from_millis(200));
    let idle_kib = procfs::rss_kib(server.pid())?;
    idle.insert(server.name, idle_kib);
    let mut from = 0u32;
    for &to in &args.fill {
        progress(&format!(
            "memory: {} filling to {} peers",
            kind.name(),
            group(to as u64)
        ));
        let plan = Plan {
            net: 43,
            clients: 32,
            window: 4,
            from,
            to,
            torrents: args.torrents,
            num_want: 0,
            mode: Mode::Fill,
            timeout: Duration::from_millis(500),
        };
        let limit = Duration::from_secs(30 + (to - from) as u64 / 20_000);
        let f = udp::fill(server.addr, plan, limit)?;
        let stored = udp::scrape_total(
            server.addr,
            Ipv4Addr::new(127, 44, 0, 1),
            args.torrents,
            Duration::from_secs(30),
        )?;
        let rss = procfs::rss_kib(server.pid())?;
        let per_peer = (rss.saturating_sub(idle_kib) * 1024) as f64 / to as f64;
        let mut note = String::new();
        if !f.complete {
            note = format!("fill incomplete after {:.0} s", f.secs);
        }
        if stored != to as u64 {
            note = format!("{note} stored {} != {}", group(stored), group(to as u64))
                .trim()
                .into();
        }
        table.row(vec![
            kind.name().into(),
            group(to as u64),
            group(stored),
            format!("{:.1} s", f.secs),
            rate((f.counts.answered) as f64 / f.secs),
            group(f.counts.timeouts + f.counts.errors),
            format!("{} KiB", group(idle_kib)),
            format!("{} KiB", group(rss)),
            format!("{per_peer:.1}"),
            note,
        ]);
        from = to;
    }
    Ok(())
}

/// Whether an ELF file has a symbol table (`None` if it is not a 64-bit little-endian ELF).
fn has_symtab(path: &Path) -> Option<bool> {
    let b = std::fs::read(path).ok()?;
    if b.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?) as usize);
    let shoff = u64::from_le_bytes(b.get(0x28..0x30)?.try_into().ok()?) as usize;
    let (entsize, count) = (u16_at(0x3a)?, u16_at(0x3c)?);
    let mut found = false;
    for i in 0..count.min(4096) {
        let sh = shoff + i * entsize;
        let ty = u32::from_le_bytes(b.get(sh + 4..sh + 8)?.try_into().ok()?);
        found |= ty == 2; // SHT_SYMTAB
    }
    Some(found)
}

/// The tracker bench; `command` is the command line, for the report's head.
fn run(command: &str, args: &mut Args) -> io::Result<()> {
    let started = Instant::now();
    let opentracker = if args.runs("opentracker") {
        Some(opentracker_binary(args)?)
    } else {
        None
    };
    let trackseed = if args.runs("trackseed") {
        Some(trackseed_binary(args.trackseed.as_ref(), args.no_build)?)
    } else {
        None
    };
    let exe = std::env::current_exe()?;
    // Before the pinning narrows the CPUs seen.
    let (machine, load) = report::machine();
    // One CPU for the load generator, another for the server under test (after the build,
    // which would inherit the pinning).
    let (cpus, pinning) = trackseed_bench::sys::pin_pair(args.pin, "load generator", "server")?;
    args.server_cpu = cpus.map(|(_, server)| server);
    let mut kinds = Vec::new();
    if let Some(t) = &trackseed {
        kinds.push(Kind::Trackseed(t.clone()));
    }
    if let Some(o) = &opentracker {
        kinds.push(Kind::Opentracker(o.clone()));
    }
    if args.runs("ceiling") {
        kinds.push(Kind::Null(exe));
    }
    out(&format!(
        "trackseed bench, {}\ncommand: {command}\nmachine: {machine}\nload average at start: {load}\n\
         servers: one after the other on 127.0.0.1, each freshly started; CPU = user + system time of \
         all its threads from /proc/PID/stat; {pinning}\n",
        report::utc_now(),
    ));
    let mut ports = PortPicker::new();
    let mut idle = Idle::new();
    let mut rates: Vec<(Part, Vec<(&'static str, RunResult)>)> = Vec::new();
    for part in [Part::Udp, Part::Http, Part::HttpClose] {
        if args.wants(part) {
            let r = rate_section(part, args, &kinds, &mut ports, &mut idle)?;
            rates.push((part, r));
        }
    }
    if !rates.is_empty() {
        out("\n== ratios of answered requests per server-CPU-second (answered per wall second in brackets) ==\n\n");
        let mut t = Table::new(&[
            "mode",
            "trackseed/opentracker",
            "trackseed/ceiling",
            "opentracker/ceiling",
        ]);
        for (part, rs) in &rates {
            let get = |n: &str| rs.iter().find(|(name, _)| *name == n).map(|(_, r)| *r);
            let cell = |a: Option<RunResult>, b: Option<RunResult>| match (a, b) {
                (Some(a), Some(b)) => format!(
                    "{} ({})",
                    ratio(a.answered_per_cpu_sec(), b.answered_per_cpu_sec()),
                    ratio(a.answered_per_sec(), b.answered_per_sec())
                ),
                _ => "-".into(),
            };
            let (ts, ot, null) = (get("trackseed"), get("opentracker"), get("ceiling"));
            t.row(vec![
                part.name().into(),
                cell(ts, ot),
                cell(ts, null),
                cell(ot, null),
            ]);
        }
        out(&t.render());
    }
    if args.wants(Part::Memory) {
        out(&format!(
            "\n== memory ==\nUDP announces (numwant 0, half seeders) of distinct peers over {} torrents from 32 loopback \
             addresses, each repeated until answered; cumulative in one server start; 'stored' is the sum of seeders and \
             leechers of a UDP scrape of every torrent; bytes/peer = (RSS after - idle RSS) / peers\n\n",
            group(args.torrents as u64)
        ));
        let mut t = Table::new(&[
            "tracker",
            "peers",
            "stored",
            "fill time",
            "announces/s",
            "retries",
            "idle RSS",
            "RSS after",
            "bytes/peer",
            "",
        ]);
        for kind in kinds.iter().filter(|k| !matches!(k, Kind::Null(_))) {
            memory_rows(kind, args, &mut ports, &mut idle, &mut t)?;
        }
        out(&t.render());
    }
    // Sizes and idle RSS: always. A server not started yet is started once for its idle RSS.
    for kind in &kinds {
        if !idle.contains_key(kind.name()) {
            let mut s = start(kind, &mut ports, args.torrents, args.server_cpu)?;
            note_idle(&mut idle, &s);
            s.stop();
        }
    }
    out("\n== size and idle memory ==\n\n");
    let mut t = Table::new(&["server", "binary", "bytes", "symbols", "idle RSS"]);
    for kind in &kinds {
        let (bin, size, syms) = match kind {
            Kind::Trackseed(p) | Kind::Opentracker(p) => (
                repo_root()
                    .ok()
                    .and_then(|r| p.strip_prefix(r).ok())
                    .unwrap_or(p)
                    .display()
                    .to_string(),
                servers::file_size(p).map_or("-".into(), group),
                match has_symtab(p) {
                    Some(true) => "not stripped",
                    Some(false) => "stripped",
                    None => "?",
                },
            ),
            Kind::Null(_) => ("(this bench, --serve-null)".into(), "-".into(), "-"),
        };
        let rss = idle
            .get(kind.name())
            .map_or("-".into(), |k| format!("{} KiB", group(*k)));
        t.row(vec![kind.name().into(), bin, size, syms.into(), rss]);
    }
    out(&t.render());
    out(&report::total_time(started));
    Ok(())
}
