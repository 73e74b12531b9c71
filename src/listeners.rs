//! Listening sockets: bound from the config at start-up (an error there stops start-up), and
//! brought in line with a reloaded config without touching the ones that stay (an error there
//! is logged and the rest goes on).

use crate::config::{Config, Listen, DEFAULT_PORT};
use crate::error::Error;
use crate::reload::{endpoints, Endpoint};
use mio::net::{TcpListener, UdpSocket};
use mio::{Interest, Registry, Token};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

pub enum Listener {
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

pub fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, Error> {
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

/// The endpoints a config asks for (the implicit default when it names none).
fn wanted(config: &Config) -> (Vec<Endpoint>, bool) {
    let implicit = config.listens.is_empty();
    let listens = if implicit {
        default_listens()
    } else {
        config.listens.clone()
    };
    (endpoints(&listens), implicit)
}

/// Binds one endpoint. The implicit default falls back to IPv4 only when the kernel has no
/// IPv6.
fn bind(e: Endpoint, implicit: bool) -> Result<Listener, Error> {
    let bind_one = |addr| {
        if e.is_tcp {
            bind_tcp(addr).map(Listener::Tcp)
        } else {
            bind_udp(addr).map(Listener::Udp)
        }
    };
    match bind_one(e.addr) {
        Err(Error::SocketBind { source, .. })
            if implicit && source.raw_os_error() == Some(libc::EAFNOSUPPORT) =>
        {
            bind_one(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), e.addr.port()))
        }
        r => r,
    }
}

/// A bound socket and the endpoint it was configured as.
struct Bound {
    endpoint: Endpoint,
    socket: Listener,
}

/// Every listening socket; slot `i` has token `base + i` (slots of closed sockets are reused).
pub struct Listeners {
    slots: Vec<Option<Bound>>,
    base: usize,
}

impl Listeners {
    /// Binds every socket `config` asks for; any failure stops start-up.
    pub fn bind(config: &Config, base: usize) -> Result<Listeners, Error> {
        let (wanted, implicit) = wanted(config);
        let mut slots = Vec::with_capacity(wanted.len());
        for e in wanted {
            slots.push(Some(Bound {
                endpoint: e,
                socket: bind(e, implicit)?,
            }));
        }
        Ok(Listeners { slots, base })
    }

    /// Registers slot `i` and logs what it listens on.
    fn register(&mut self, registry: &Registry, i: usize) -> io::Result<()> {
        let token = Token(self.base + i);
        let Some(b) = self.slots[i].as_mut() else {
            return Ok(());
        };
        let (proto, local) = match &mut b.socket {
            Listener::Tcp(s) => {
                registry.register(s, token, Interest::READABLE)?;
                ("tcp", s.local_addr()?)
            }
            Listener::Udp(s) => {
                registry.register(s, token, Interest::READABLE)?;
                ("udp", s.local_addr()?)
            }
        };
        crate::log!("listening {proto} {local}");
        Ok(())
    }

    /// Registers every socket with the poll.
    pub fn register_all(&mut self, registry: &Registry) -> io::Result<()> {
        (0..self.slots.len()).try_for_each(|i| self.register(registry, i))
    }

    /// The socket of token `token`, if it is one of ours.
    pub fn get(&self, token: Token) -> Option<&Listener> {
        let i = token.0.checked_sub(self.base)?;
        self.slots.get(i)?.as_ref().map(|b| &b.socket)
    }

    /// Slot index of `token` (for the UDP pending list).
    pub fn index(&self, token: Token) -> Option<usize> {
        token
            .0
            .checked_sub(self.base)
            .filter(|&i| i < self.slots.len())
    }

    /// The socket in slot `i`.
    pub fn at(&self, i: usize) -> Option<&Listener> {
        self.slots.get(i)?.as_ref().map(|b| &b.socket)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    /// Brings the sockets in line with `config`: closes those it no longer names, binds those
    /// it adds. A socket that cannot be bound is logged and skipped.
    pub fn update(&mut self, registry: &Registry, config: &Config) {
        let (wanted, implicit) = wanted(config);
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|b| !wanted.contains(&b.endpoint)) {
                let b = slot.take().expect("checked just above");
                crate::log!(
                    "reload: closing {} {}",
                    if b.endpoint.is_tcp { "tcp" } else { "udp" },
                    b.endpoint.addr
                );
            }
        }
        for e in wanted {
            if self.slots.iter().flatten().any(|b| b.endpoint == e) {
                continue;
            }
            match bind(e, implicit) {
                Ok(socket) => {
                    let i = match self.slots.iter().position(Option::is_none) {
                        Some(i) => i,
                        None => {
                            self.slots.push(None);
                            self.slots.len() - 1
                        }
                    };
                    self.slots[i] = Some(Bound {
                        endpoint: e,
                        socket,
                    });
                    if let Err(err) = self.register(registry, i) {
                        crate::log!("reload: cannot register {}: {err}", e.addr);
                        self.slots[i] = None;
                    }
                }
                Err(err) => crate::log!("reload: {err}"),
            }
        }
    }
}
