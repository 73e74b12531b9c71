//! The engine of `make bench`: a load generator, a do-nothing tracker (the ceiling) and the
//! report comparing trackseed with Debian's opentracker on loopback.
//!
//! - [`wire`]: the packets and requests sent (pre-built, only the varying fields patched) and
//!   the checks on the answers.
//! - [`udp`]: UDP announces (one connect per simulated client, then announces), for the
//!   request-rate runs and for the memory fill.
//! - [`http`]: HTTP announces, keep-alive or one connection per request.
//! - [`null`]: the do-nothing responder, one thread and one `mio` loop like trackseed.
//! - [`latency`]: one UDP client timing announce round trips, one in flight; percentiles.
//! - [`hashing`]: `bench hash-latency`, that latency idle and while trackseed's publisher
//!   hashes a new 1 GiB file (warm and cold page cache).
//! - [`sendfile`]: `bench sendfile`, an upload of a page-cached file over loopback TCP with
//!   trackseed's `sys::sendfile::Sender`, by sendfile(2) and by its pread + write fallback.
//! - [`args`]: the flags and option values of `bench` and its subcommands, and their error
//!   messages.
//! - [`scratch`]: the scratch files of `bench hash-latency`, `sendfile` and `seeding`: room
//!   for them, pseudo-random contents, removal.
//! - [`run`]: one measured run (warm-up, window, drain) and its counters.
//! - [`servers`]: starting, probing and stopping the three servers.
//! - [`report`]: stdout, tables and the machine description.
//! - [`procfs`]: CPU time and RSS from `/proc`, our own CPU time.
//! - [`stop`]: SIGINT/SIGTERM/SIGHUP become a flag every loop checks, so children are always
//!   killed by their guards.
//! - [`sys`]: the `unsafe` system calls (batched UDP send and receive, signals, uname, CPU
//!   times).

pub mod args;
pub mod hashing;
pub mod http;
pub mod latency;
pub mod null;
pub mod procfs;
pub mod report;
pub mod run;
pub mod scratch;
pub mod sendfile;
pub mod servers;
pub mod stop;
pub mod sys;
pub mod udp;
pub mod wire;

/// Peers are keyed by (source address, announced port) per torrent. Global peer number `g`
/// announces torrent `g % torrents` with port `PORT_BASE + g / torrents`, so distinct `g` are
/// distinct peers whatever the source address.
pub const PORT_BASE: u32 = 10_000;

/// Which torrent and port peer `g` announces.
pub fn peer_of(g: u32, torrents: u32) -> (u32, u16) {
    (g % torrents, (PORT_BASE + g / torrents) as u16)
}

/// The share of `g` that `part` of `parts` covers: `[lo, hi)` within `[from, to)`.
pub fn slice(from: u32, to: u32, part: usize, parts: usize) -> (u32, u32) {
    let n = (to - from) as u64;
    let lo = from as u64 + n * part as u64 / parts as u64;
    let hi = from as u64 + n * (part as u64 + 1) / parts as u64;
    (lo as u32, hi as u32)
}
