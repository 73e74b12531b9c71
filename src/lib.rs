//! trackseed: an opentracker-compatible BitTorrent tracker (HTTP and UDP) and a publisher of
//! `.torrent` files for home routers, in one small static binary and one thread.
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
//! - [`metainfo`] reads and writes `.torrent` files and hashes pieces incrementally;
//!   [`publish`] watches the sites' file directories (inotify), hashes new or changed entries in
//!   time slices between events, writes `.torrent` files and keeps the catalog the tracker
//!   admits published torrents from and the HTTP front end serves index pages from.
//! - [`reactor`] owns the sockets and only dispatches: readiness in, handler call, bytes out;
//!   between events it gives the publisher's hashing job a slice of time.
//! - [`sys`] is the only module allowed `unsafe` (signals through a self-pipe, inotify, file
//!   advice, SHA instructions, privileges).
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
pub mod seeder;
pub mod state;
pub mod stats;
pub mod swarm;
pub mod sys;
pub mod tracker;
pub mod wire;
