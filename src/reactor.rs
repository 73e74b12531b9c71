//! The event loop: one thread, one `mio::Poll`. It owns the sockets and only dispatches:
//! readiness in, a handler call, bytes out. Protocol logic lives in `tracker`.
//!
//! # Tokens
//! `SIGNALS` is the signal self-pipe; `FIFO_ADD` and `FIFO_DELETE` the dynamic access-list
//! FIFOs; `LISTENER_BASE + i` is listening socket `i` (TCP listener or UDP socket, in config
//! order); `CONN_BASE + i` is HTTP connection slot `i`.
//!
//! # One turn
//! Wait until a socket is ready or the next tick is due; drain every ready socket until it
//! would block (mio is edge-triggered, so a socket not drained gets no second event); then, if
//! the tick is due, sweep expired peers and idle connections.

use crate::access;
use crate::clock::{self, Clock, Secs};
use crate::config::{Config, Listen, DEFAULT_PORT};
use crate::connections::Connections;
use crate::error::Error;
use crate::sys::signals::{Signal, SignalPipe};
use crate::tracker::conn_id::ConnectionIds;
use crate::tracker::{http as front_http, udp as front_udp, Tracker};
use mio::net::{TcpListener, UdpSocket};
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, Read};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

const SIGNALS: Token = Token(0);
const FIFO_ADD: Token = Token(1);
const FIFO_DELETE: Token = Token(2);
const LISTENER_BASE: usize = 16;
const CONN_BASE: usize = 1 << 20;
/// Period of the housekeeping tick (expiry sweep, idle connections).
const TICK: Duration = Duration::from_secs(1);
/// Datagrams handled per readiness event before other sockets get a turn.
const UDP_BATCH: usize = 1024;
/// Largest datagram read: a BEP 15 scrape of 74 hashes is 1496 bytes; larger is not ours.
const UDP_RECV_LEN: usize = 2048;

enum Listener {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

/// The listen set when the config has none: TCP and UDP on `[::]:6969`, dual-stack.
fn default_listens() -> Vec<Listen> {
    let any6 = SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), DEFAULT_PORT);
    vec![Listen {
        addr: any6,
        tcp: true,
        udp: true,
    }]
}

fn socket_for(addr: SocketAddr, ty: Type, proto: Protocol) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
    if addr.is_ipv6() {
        // `[::]` serves IPv4 too (as v4-mapped addresses), like opentracker since 2024.
        let v6 = match addr.ip() {
            std::net::IpAddr::V6(ip) => ip,
            std::net::IpAddr::V4(_) => Ipv6Addr::LOCALHOST,
        };
        socket.set_only_v6(!v6.is_unspecified())?;
    }
    if ty == Type::STREAM {
        // Restarting must not wait for old connections in TIME_WAIT. Not on UDP: there
        // SO_REUSEADDR would let another socket share (and steal datagrams from) our port.
        socket.set_reuse_address(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, Error> {
    let err = |source| Error::SocketBind {
        addr,
        proto: "tcp",
        source,
    };
    let socket = socket_for(addr, Type::STREAM, Protocol::TCP).map_err(err)?;
    // Accepted connections inherit TCP_NODELAY from the listener on Linux: one system call
    // here instead of one per connection. Answers go out in one write, and pipelined answers
    // must not wait for the client's delayed ACK.
    socket.set_nodelay(true).map_err(err)?;
    socket.listen(1024).map_err(err)?;
    Ok(TcpListener::from_std(socket.into()))
}

fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, Error> {
    let err = |source| Error::SocketBind {
        addr,
        proto: "udp",
        source,
    };
    let socket = socket_for(addr, Type::DGRAM, Protocol::UDP).map_err(err)?;
    Ok(UdpSocket::from_std(socket.into()))
}

/// Binds every configured socket. The implicit default falls back to IPv4 only when the kernel
/// has no IPv6.
fn bind_all(config: &Config) -> Result<Vec<Listener>, Error> {
    let implicit = config.listens.is_empty();
    let listens = if implicit {
        default_listens()
    } else {
        config.listens.clone()
    };
    let mut out = Vec::new();
    for l in &listens {
        let mut addr = l.addr;
        if l.tcp {
            let tcp = match bind_tcp(addr) {
                Err(Error::SocketBind { source, .. })
                    if implicit && source.raw_os_error() == Some(libc::EAFNOSUPPORT) =>
                {
                    addr = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), addr.port());
                    bind_tcp(addr)?
                }
                r => r?,
            };
            out.push(Listener::Tcp(tcp));
        }
        if l.udp {
            let udp = match bind_udp(addr) {
                Err(Error::SocketBind { source, .. })
                    if implicit && source.raw_os_error() == Some(libc::EAFNOSUPPORT) =>
                {
                    bind_udp(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), addr.port()))?
                }
                r => r?,
            };
            out.push(Listener::Udp(udp));
        }
    }
    Ok(out)
}

fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> Error {
    move |source| Error::Io { what, source }
}

/// Runs the tracker until SIGINT or SIGTERM. Start-up errors (a port taken, no permission) are
/// returned before anything is served.
pub fn run(config: Config) -> Result<(), Error> {
    let mut poll = Poll::new().map_err(io_err("create poll"))?;
    let mut listeners = bind_all(&config)?;
    let mut signals = SignalPipe::install().map_err(io_err("install signal handlers"))?;
    poll.registry()
        .register(&mut signals.receiver, SIGNALS, Interest::READABLE)
        .map_err(io_err("register signal pipe"))?;
    for (i, l) in listeners.iter_mut().enumerate() {
        let token = Token(LISTENER_BASE + i);
        let (proto, local) = match l {
            Listener::Tcp(s) => { poll.registry().register(s, token, Interest::READABLE) }
                .map(|_| ("tcp", s.local_addr())),
            Listener::Udp(s) => poll
                .registry()
                .register(s, token, Interest::READABLE)
                .map(|_| ("udp", s.local_addr())),
        }
        .map_err(io_err("register listening socket"))?;
        let local = local.map_err(io_err("read bound address"))?;
        eprintln!("trackseed: listening {proto} {local}");
    }
    let mut tracker =
        Tracker::new(&config).map_err(io_err("reserve the torrent and peer tables"))?;
    let (list, outcome) = access::start(&config);
    tracker.access = list;
    tracker.access_reload = Some((outcome.is_ok, clock::unix_secs()));
    eprintln!("trackseed: {}", outcome.message);
    let mut fifos = [
        open_fifo(&poll, config.fifo_add.as_deref(), FIFO_ADD)?,
        open_fifo(&poll, config.fifo_delete.as_deref(), FIFO_DELETE)?,
    ];
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
    eprintln!("trackseed: ready");
    loop {
        let timeout = if udp_pending.is_empty() && reloading.is_none() {
            Duration::from_millis(next_tick.saturating_sub(clock.now_millis()))
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
            if let Some(Listener::Udp(s)) = listeners.get(i) {
                if !serve_udp(s, &mut tracker, &ids, now, &mut udp_in, &mut udp_out) {
                    udp_pending.push(i);
                }
            }
        }
        for event in events.iter() {
            match event.token() {
                SIGNALS => match signals.drain() {
                    Some(Signal::Terminate) => {
                        eprintln!("trackseed: exiting on signal");
                        return Ok(());
                    }
                    Some(Signal::Reload) => match access::Loader::for_config(&config) {
                        // Read in slices between events (see `reloading` below).
                        Ok(Some(loader)) => reloading = Some(loader),
                        Ok(None) => tracker.access = access::AccessList::open(),
                        Err(e) => {
                            eprintln!("trackseed: SIGHUP: {}", access::kept(&e, &tracker.access));
                            tracker.access_reload = Some((false, clock::unix_secs()));
                        }
                    },
                    None => {}
                },
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
                    let index = token.0.wrapping_sub(LISTENER_BASE);
                    let Some(l) = listeners.get_mut(index) else {
                        eprintln!("trackseed: event for unknown token {}", token.0);
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
        if let Some(loader) = &mut reloading {
            if let Some(outcome) = access::reload_step(loader, &mut tracker.access) {
                eprintln!("trackseed: SIGHUP: {}", outcome.message);
                tracker.access_reload = Some((outcome.is_ok, clock::unix_secs()));
                reloading = None;
            }
        }
        if clock.now_millis() >= next_tick {
            next_tick = clock.now_millis() + tick_ms;
            let budget = tracker.swarms.sweep_budget(TICK.as_secs() as u32);
            tracker.swarms.sweep(now, budget);
            conns.expire(now);
        }
    }
}

/// A dynamic access-list FIFO and the partial line read from it.
struct Fifo {
    receiver: mio::unix::pipe::Receiver,
    lines: access::LineReader,
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
    eprintln!(
        "trackseed: access: reading hashes from FIFO {}",
        path.display()
    );
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
                    eprintln!("trackseed: access: FIFO changeset full ({} hashes); line ignored until the next SIGHUP", access::MAX_CHANGES);
                }
            });
        }
    }
}

fn accept_all(s: &TcpListener, conns: &mut Connections, poll: &Poll, t: &mut Tracker, now: Secs) {
    loop {
        match s.accept() {
            Ok((stream, peer)) => {
                t.stats.tcp_accepts += 1;
                if !conns.add(poll.registry(), stream, peer, now) {
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
