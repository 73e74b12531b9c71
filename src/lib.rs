//! trackseed: an opentracker-compatible BitTorrent tracker (HTTP and UDP) for home routers, in one
//! small static binary and one thread.
//!
//! # Architecture
//!
//! Everything runs in a single `mio::Poll` loop ([`reactor`]): TCP listeners and HTTP
//! connections, UDP sockets, a signal self-pipe and one periodic tick whose deadline is the poll
//! timeout. Nothing blocks the loop and nothing on the request path allocates.
//!
//! Layers, from the bytes inwards:
//!
//! - [`wire`] is pure parsing and emitting: BEP 15 UDP packets, HTTP request lines and query
//!   strings, bencode output. No sockets, no clock, no tables. Parsers take `&[u8]`, check
//!   lengths once and return borrowed views or a small `Copy` error; they never panic.
//! - [`swarm`] holds every torrent and peer in tables allocated once at start-up from the
//!   configured capacities. It knows nothing of wire formats. A full table refuses newcomers;
//!   nothing live is evicted. Peers expire by time slot.
//! - [`tracker`] joins them: [`tracker::Tracker`] answers announces and scrapes whatever the
//!   transport, and `tracker::udp` / `tracker::http` are the two front ends that turn a request's
//!   bytes into a reply's bytes.
//! - [`reactor`] owns the sockets and only dispatches: readiness in, handler call, bytes out.
//! - [`sys`] is the only module allowed `unsafe` (signal handling through a self-pipe).
//!
//! Time is read in one place ([`clock`]) and passed in as [`clock::Secs`], so every handler is
//! testable without sockets or sleeping.

pub mod access;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod daemon;
pub mod error;
pub mod ids;
pub mod listeners;
pub mod log;
pub mod metainfo;
pub mod publish;
pub mod reactor;
pub mod reload;
pub mod state;
pub mod stats;
pub mod swarm;
pub mod sys;
pub mod tracker;
pub mod wire;
