//! The event loop: one thread, one `mio::Poll`. It owns the sockets and only dispatches:
//! readiness in, a handler call, bytes out. Protocol logic lives in `tracker`.
//!
//! # Tokens
//! `SIGNALS` is the signal self-pipe; `FIFO_ADD` and `FIFO_DELETE` the dynamic access-list
//! FIFOs; `PUBLISH_WATCH` the publisher's inotify descriptor; `SEED_LISTEN_BASE + i` the
//! seeder's peer-wire listener `i` (at most 12), `SEED_CONN_BASE + i` its connection slot `i`;
//! `LISTENER_BASE + i` is listening socket `i` (TCP listener or UDP socket, in config order);
//! `CONN_BASE + i` is HTTP connection slot `i`.
//!
//! # One turn
//! Wait until a socket is ready or the next tick is due; drain every ready socket until it
//! would block (mio is edge-triggered, so a socket not drained gets no second event); then, if
//! the tick is due, sweep expired peers and idle connections.

use crate::access;
use crate::clock::{self, Clock, Secs};
use crate::config::Config;
use crate::connections::Connections;
use crate::error::Error;
use crate::listeners::{Listener, Listeners};
use crate::publish::Publisher;
use crate::reload;
use crate::seeder::Seeder;
use crate::sys::privileges;
use crate::sys::signals::SignalPipe;
use crate::tracker::conn_id::ConnectionIds;
use crate::tracker::{http as front_http, udp as front_udp, Tracker};
use mio::net::{TcpListener, UdpSocket};
use mio::{Events, Interest, Poll, Token};
use std::io::{self, Read};
use std::time::Duration;

const SIGNALS: Token = Token(0);
const FIFO_ADD: Token = Token(1);
const FIFO_DELETE: Token = Token(2);
const PUBLISH_WATCH: Token = Token(3);
const SEED_LISTEN_BASE: usize = 4;
const SEED_CONN_BASE: usize = 1 << 21;
const LISTENER_BASE: usize = 16;
const CONN_BASE: usize = 1 << 20;
/// Period of the housekeeping tick (expiry sweep, idle connections).
const TICK: Duration = Duration::from_secs(1);
/// Datagrams handled per readiness event before other sockets get a turn.
const UDP_BATCH: usize = 1024;
/// Largest datagram read: a BEP 15 scrape of 74 hashes is 1496 bytes; larger is not ours.
const UDP_RECV_LEN: usize = 2048;

fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> Error {
    move |source| Error::Io { what, source }
}

/// Runs the tracker until SIGINT or SIGTERM. Start-up errors (a port taken, no permission) are
/// returned before anything is served. `reread` gives the config again on SIGHUP (the file
/// read anew with the command line applied), or says why it cannot.
/// `after_bind` runs once the sockets are bound, before privileges are dropped (the daemon
/// forks there, so a taken port is still reported on the terminal).
pub fn run(
    mut config: Config,
    reread: &dyn Fn() -> Result<Config, Error>,
    after_bind: &mut dyn FnMut() -> Result<(), Error>,
) -> Result<(), Error> {
    let mut poll = Poll::new().map_err(io_err("create poll"))?;
    let mut listeners = Listeners::bind(&config, LISTENER_BASE)?;
    if config.seed_listens.len() > LISTENER_BASE - SEED_LISTEN_BASE {
        return Err(Error::ConfigInvalid {
            reason: format!(
                "at most {} seed.listen lines",
                LISTENER_BASE - SEED_LISTEN_BASE
            ),
        });
    }
    let mut seeder = Seeder::bind(&config, SEED_LISTEN_BASE, SEED_CONN_BASE)?;
    if let Some(s) = &mut seeder {
        s.register(poll.registry())
            .map_err(io_err("register the peer-wire listener"))?;
    }
    let mut signals = SignalPipe::install().map_err(io_err("install signal handlers"))?;
    poll.registry()
        .register(&mut signals.receiver, SIGNALS, Interest::READABLE)
        .map_err(io_err("register signal pipe"))?;
    listeners
        .register_all(poll.registry())
        .map_err(io_err("register listening socket"))?;
    after_bind()?;
    // Bound (ports below 1024 need root): now chroot and switch user if asked. Everything read
    // from here on (access lists, FIFOs, the state file) is found inside the new root.
    let user = match config.user.as_deref() {
        Some(name) => Some(privileges::lookup_user(name).map_err(io_err("look up tracker.user"))?),
        None => None,
    };
    let dropped = privileges::drop_privileges(config.rootdir.as_deref(), user.as_ref())
        .map_err(io_err("drop privileges"))?;
    if !dropped.is_noop() {
        crate::log!("{dropped}");
    }
    let mut tracker =
        Tracker::new(&config).map_err(io_err("reserve the torrent and peer tables"))?;
    let (list, outcome) = access::start(&config);
    tracker.access = list;
    tracker.access_reload = Some((outcome.is_ok, clock::unix_secs()));
    crate::log!("{}", outcome.message);
    let mut fifos = [
        open_fifo(&poll, config.fifo_add.as_deref(), FIFO_ADD)?,
        open_fifo(&poll, config.fifo_delete.as_deref(), FIFO_DELETE)?,
    ];
    let mut publisher = Publisher::new(&config);
    if let Some(w) = publisher.watcher() {
        poll.registry()
            .register(w, PUBLISH_WATCH, Interest::READABLE)
            .map_err(io_err("register the inotify watcher"))?;
    }
    publisher.start(&mut tracker.catalog, &config, Secs(0));
    load_state(&config, &mut tracker, Secs(0));
    let out_cap = front_http::out_capacity(config.numwant_max, config.scrape_max);
    let mut conns = Connections::new(
        config.http_max_connections as usize,
        out_cap,
        CONN_BASE,
        config.http_idle_timeout_secs,
    )
    .map_err(io_err("reserve the HTTP connection buffers"))?;
    let ids = ConnectionIds::new();
    let clock = Clock::new();
    let mut events = Events::with_capacity(256);
    let mut udp_in = vec![0u8; UDP_RECV_LEN].into_boxed_slice();
    let mut udp_out = vec![0u8; front_udp::MAX_REPLY_LEN].into_boxed_slice();
    let tick_ms = TICK.as_millis() as u64;
    let mut next_tick = clock.now_millis() + tick_ms;
    // UDP sockets left with datagrams after a batch (edge-triggered: no new event will come).
    let mut udp_pending: Vec<usize> = Vec::with_capacity(listeners.len());
    // An access list being re-read after SIGHUP, one slice per turn of the loop.
    let mut reloading: Option<access::Loader> = None;
    let mut next_state_save = config.state_interval_secs;
    crate::log!("ready");
    loop {
        let idle = udp_pending.is_empty() && reloading.is_none() && !publisher.has_work();
        let timeout = if idle {
            let tick = Duration::from_millis(next_tick.saturating_sub(clock.now_millis()));
            let seed = seeder.as_ref().and_then(Seeder::due_in);
            let t = publisher.events_due_in().map_or(tick, |due| due.min(tick));
            seed.map_or(t, |due| due.min(t))
        } else {
            Duration::ZERO
        };
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue; // A signal arrived; its byte is in the pipe.
            }
            return Err(Error::Io {
                what: "poll",
                source: e,
            });
        }
        let now = clock.now();
        for i in std::mem::take(&mut udp_pending) {
            if let Some(Listener::Udp(s)) = listeners.at(i) {
                if !serve_udp(s, &mut tracker, &ids, now, &mut udp_in, &mut udp_out) {
                    udp_pending.push(i);
                }
            }
        }
        for event in events.iter() {
            match event.token() {
                SIGNALS => {
                    let pending = signals.drain();
                    if pending.dump || pending.terminate {
                        save_state(&config, &mut tracker, now);
                    }
                    if pending.terminate {
                        crate::log!("exiting on signal");
                        return Ok(());
                    }
                    if pending.reload {
                        match reread() {
                            Ok(new) => {
                                let (effective, waiting) = reload::effective(&config, new);
                                for key in waiting {
                                    crate::log!("SIGHUP: {key} changed; the new value takes effect at the next restart");
                                }
                                listeners.update(poll.registry(), &effective);
                                if effective.fifo_add != config.fifo_add {
                                    fifos[0] =
                                        reopen_fifo(&poll, effective.fifo_add.as_deref(), FIFO_ADD);
                                }
                                if effective.fifo_delete != config.fifo_delete {
                                    fifos[1] = reopen_fifo(
                                        &poll,
                                        effective.fifo_delete.as_deref(),
                                        FIFO_DELETE,
                                    );
                                }
                                conns.set_idle_secs(effective.http_idle_timeout_secs);
                                publisher.reconfigure(&mut tracker.catalog, &effective, now);
                                match &mut seeder {
                                    Some(s) => s.reconfigure(&effective),
                                    // The first site came with this reload: start seeding.
                                    None => seeder = start_seeder(&poll, &effective),
                                }
                                tracker.config = effective.clone();
                                config = effective;
                                crate::log!("SIGHUP: config reloaded");
                            }
                            Err(e) => {
                                crate::log!("SIGHUP: {e}; keeping the running config");
                                publisher.reconfigure(&mut tracker.catalog, &config, now);
                            }
                        }
                        match access::Loader::for_config(&config) {
                            // Read in slices between events (see `reloading` below).
                            Ok(Some(loader)) => reloading = Some(loader),
                            Ok(None) => tracker.access = access::AccessList::open(),
                            Err(e) => {
                                crate::log!("SIGHUP: {}", access::kept(&e, &tracker.access));
                                tracker.access_reload = Some((false, clock::unix_secs()));
                            }
                        }
                    }
                }
                PUBLISH_WATCH => publisher.on_watch_events(),
                token if seeder.as_ref().is_some_and(|s| s.owns(token)) => {
                    if let Some(s) = &mut seeder {
                        s.on_event(token, poll.registry());
                    }
                }
                FIFO_ADD | FIFO_DELETE => {
                    let is_add = event.token() == FIFO_ADD;
                    if let Some(fifo) = &mut fifos[usize::from(!is_add)] {
                        fifo.drain(is_add, &mut tracker.access);
                    }
                }
                token => {
                    if let Some(i) = conns.slot_of(token) {
                        tracker.open_connections = conns.open_count() as u64;
                        let read_closed = event.is_read_closed() || event.is_error();
                        conns.service(i, read_closed, &mut tracker, now);
                        continue;
                    }
                    let (Some(l), Some(index)) = (listeners.get(token), listeners.index(token))
                    else {
                        // A socket closed by a reload earlier in this batch, or a stray token.
                        continue;
                    };
                    match l {
                        Listener::Tcp(s) => accept_all(s, &mut conns, &poll, &mut tracker, now),
                        Listener::Udp(s) => {
                            let drained =
                                serve_udp(s, &mut tracker, &ids, now, &mut udp_in, &mut udp_out);
                            if !drained && !udp_pending.contains(&index) {
                                udp_pending.push(index);
                            }
                        }
                    }
                }
            }
        }
        publisher.after_events(&mut tracker.catalog, now);
        if let Some(s) = &mut seeder {
            // A torrent unpublished (changed, removed) stops being served at once.
            s.follow(&tracker.catalog, &mut tracker.swarms, now);
            s.turn();
        }
        if publisher.has_work() {
            publisher.hash_step(&mut tracker.catalog, &mut tracker.stats);
        }
        if let Some(loader) = &mut reloading {
            if let Some(outcome) = access::reload_step(loader, &mut tracker.access) {
                crate::log!("SIGHUP: {}", outcome.message);
                tracker.access_reload = Some((outcome.is_ok, clock::unix_secs()));
                reloading = None;
            }
        }
        if clock.now_millis() >= next_tick {
            next_tick = clock.now_millis() + tick_ms;
            let every = config.state_interval_secs;
            if every > 0 && now.0 >= next_state_save {
                save_state(&config, &mut tracker, now);
                next_state_save = now.0 + every;
            }
            let budget = tracker.swarms.sweep_budget(TICK.as_secs() as u32);
            tracker.swarms.sweep(now, budget);
            conns.expire(now);
            publisher.tick(&mut tracker.catalog, now);
            if let Some(s) = &mut seeder {
                s.tick(&tracker.catalog, &mut tracker.swarms, poll.registry(), now);
                for site in s.changed_sites.drain(..) {
                    publisher.rescan_soon(site);
                }
                let st = &mut tracker.stats;
                st.seed_uploaded_bytes = s.stats.uploaded;
                st.seed_blocks = s.stats.blocks;
                st.seed_requests_rejected = s.stats.rejected;
                st.seed_torrents = s.torrent_count() as u64;
                st.seed_connections = s.connection_count() as u64;
                st.seed_accepted = s.stats.accepted;
                st.seed_dialled = s.stats.dialled;
                st.seed_refused_full = s.stats.refused_full;
                st.seed_dropped = s.stats.closed_protocol;
            }
        }
    }
}

/// The seeder for a config that did not have one at start (its first site came with a reload).
/// A port that cannot be bound now (privileges are dropped) is logged, not fatal.
fn start_seeder(poll: &Poll, config: &Config) -> Option<Seeder> {
    match Seeder::bind(config, SEED_LISTEN_BASE, SEED_CONN_BASE) {
        Ok(Some(mut s)) => match s.register(poll.registry()) {
            Ok(()) => Some(s),
            Err(e) => {
                crate::log!("SIGHUP: cannot register the peer-wire listener: {e}");
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            crate::log!("SIGHUP: not seeding: {e}");
            None
        }
    }
}

/// A dynamic access-list FIFO and the partial line read from it.
struct Fifo {
    receiver: mio::unix::pipe::Receiver,
    lines: access::LineReader,
}

/// A FIFO whose path a reload changed: opened again, or closed (an error is logged).
fn reopen_fifo(poll: &Poll, path: Option<&std::path::Path>, token: Token) -> Option<Fifo> {
    open_fifo(poll, path, token).unwrap_or_else(|e| {
        crate::log!("reload: {e}");
        None
    })
}

fn open_fifo(
    poll: &Poll,
    path: Option<&std::path::Path>,
    token: Token,
) -> Result<Option<Fifo>, Error> {
    let Some(path) = path else { return Ok(None) };
    let mut receiver = crate::sys::fifo::open(path).map_err(|source| Error::Fifo {
        path: path.to_owned(),
        source,
    })?;
    poll.registry()
        .register(&mut receiver, token, Interest::READABLE)
        .map_err(io_err("register access-list FIFO"))?;
    crate::log!("access: reading hashes from FIFO {}", path.display());
    Ok(Some(Fifo {
        receiver,
        lines: access::LineReader::default(),
    }))
}

impl Fifo {
    /// Reads what is there (bounded) and applies each hash line to `list`.
    fn drain(&mut self, is_add: bool, list: &mut access::AccessList) {
        let mut buf = [0u8; 4096];
        for _ in 0..1024 {
            let n = match self.receiver.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return, // WouldBlock: drained
            };
            self.lines.feed(&buf[..n], &mut |line| {
                let Some(h) = access::parse_line(line) else { return };
                let stored = if is_add { list.add(h) } else { list.delete(h) };
                if !stored {
                    crate::log!("access: FIFO changeset full ({} hashes); line ignored until the next SIGHUP", access::MAX_CHANGES);
                }
            });
        }
    }
}

/// Saves the state file, if one is configured, and logs the outcome (never fatal).
fn save_state(config: &Config, tracker: &mut Tracker, now: Secs) {
    let Some(path) = &config.statefile else {
        return;
    };
    let mut next = 0;
    let swarms = &mut tracker.swarms;
    let mut entries = || {
        let (rec, h, c) = swarms.next_torrent(next, now)?;
        next = rec + 1;
        Some((h, c.downloaded))
    };
    match crate::state::save(path, &mut entries, clock::unix_secs() / 60) {
        Ok(n) => crate::log!("state: saved {n} torrents to {}", path.display()),
        Err(e) => crate::log!("state: cannot save {}: {e}", path.display()),
    }
}

/// Loads `-l` and `tracker.statefile` (both if given), restoring `downloaded` counts. A missing
/// or corrupt file is reported and skipped, never fatal.
fn load_state(config: &Config, tracker: &mut Tracker, now: Secs) {
    for path in [&config.load_state, &config.statefile]
        .into_iter()
        .flatten()
    {
        let loaded = match crate::state::load(path) {
            Ok(l) => l,
            Err(e) => {
                crate::log!("state: cannot read {}: {e}; ignored", path.display());
                continue;
            }
        };
        let mut restored = 0;
        for (h, downloaded) in &loaded.entries {
            if !crate::tracker::admits(&tracker.access, &tracker.catalog, h) {
                continue;
            }
            if tracker.swarms.restore(h, *downloaded, now).is_err() {
                crate::log!(
                    "state: torrent table full; the rest of {} is not restored",
                    path.display()
                );
                break;
            }
            restored += 1;
        }
        let mut msg = format!(
            "state: restored {restored} torrents from {}",
            path.display()
        );
        if let Some((line, why)) = loaded.first_bad {
            msg += &format!(
                "; {} lines ignored, the first at line {line}: {why}",
                loaded.bad_lines
            );
        }
        crate::log!("{msg}");
    }
}

fn accept_all(s: &TcpListener, conns: &mut Connections, poll: &Poll, t: &mut Tracker, now: Secs) {
    loop {
        match s.accept() {
            Ok((stream, peer)) => {
                t.stats.tcp_accepts += 1;
                // Only sites need to know the port (one more system call per connection).
                let local_port = if t.catalog.sites.is_empty() {
                    0
                } else {
                    stream.local_addr().map_or(0, |a| a.port())
                };
                if !conns.add(poll.registry(), stream, peer, local_port, now) {
                    t.stats.tcp_refused_full += 1;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // ECONNABORTED and friends concern one client; EMFILE would spin: try next turn.
            Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => {}
            Err(_) => return,
        }
    }
}

fn serve_udp(
    s: &UdpSocket,
    t: &mut Tracker,
    ids: &ConnectionIds,
    now: Secs,
    inbuf: &mut [u8],
    outbuf: &mut [u8],
) -> bool {
    for _ in 0..UDP_BATCH {
        let (n, from) = match s.recv_from(inbuf) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // ICMP errors from earlier sends surface here; they concern one client.
            Err(_) => continue,
        };
        let len = front_udp::handle(t, ids, &inbuf[..n], from, now, outbuf);
        if len > 0 {
            match s.send_to(&outbuf[..len], from) {
                Ok(_) => {}
                // A full send buffer: drop the reply (the client retries, BEP 15).
                Err(_) => t.stats.udp_send_dropped += 1,
            }
        }
    }
    false
}
