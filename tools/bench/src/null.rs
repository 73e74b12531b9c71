//! The do-nothing tracker: the ceiling one event-loop thread reaches on this machine.
//!
//! Same shape as trackseed: one thread, one `mio::Poll`, edge-triggered, nonblocking sockets.
//! UDP: a packet of at least 16 bytes with action 0 gets a 16-byte connect answer echoing the
//! transaction id; action 1 (at least 98 bytes) a fixed 20-byte announce head and ten fixed
//! peers; action 2 zero counts for each hash. HTTP: reads until `\r\n\r\n`, answers a fixed
//! bencoded body with Content-Length; keeps HTTP/1.1 connections open unless the request says
//! `Connection: close`, closes after HTTP/1.0.

use crate::wire::{self, find};
use mio::net::{TcpListener, TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token};
use std::io::{self, Read, Write};
use std::net::SocketAddr;

const UDP: Token = Token(0);
const LISTENER: Token = Token(1);
const CONN_BASE: usize = 2;
/// Open HTTP connections at most; beyond it new ones are closed at once.
const MAX_CONNS: usize = 4096;
const IN_LEN: usize = 4096;
/// Datagrams served per readiness event before other sockets get a turn.
const UDP_TURN: usize = 1024;
/// Ten compact IPv4 peers, 10.0.0.1:6881 ... 10.0.0.10:6881.
const PEERS: usize = 10;

struct Conn {
    stream: TcpStream,
    input: Box<[u8; IN_LEN]>,
    in_len: usize,
    /// Bytes of the pending answer already written (`None`: nothing pending).
    out_pos: Option<usize>,
    close_after: bool,
}

fn peers() -> Vec<u8> {
    (1..=PEERS as u8)
        .flat_map(|i| [10, 0, 0, i, 0x1a, 0xe1])
        .collect()
}

fn udp_announce_reply() -> Vec<u8> {
    let mut r = Vec::with_capacity(20 + 6 * PEERS);
    r.extend_from_slice(&wire::ACTION_ANNOUNCE.to_be_bytes());
    r.extend_from_slice(&[0; 4]); // transaction id, patched per answer
    r.extend_from_slice(&1800u32.to_be_bytes());
    r.extend_from_slice(&5u32.to_be_bytes()); // leechers
    r.extend_from_slice(&5u32.to_be_bytes()); // seeders
    r.extend_from_slice(&peers());
    r
}

/// The fixed HTTP answers: (keep-alive, close).
fn http_replies() -> (Vec<u8>, Vec<u8>) {
    let mut body = b"d8:completei5e10:incompletei5e8:intervali1800e5:peers60:".to_vec();
    body.extend_from_slice(&peers());
    body.push(b'e');
    let head = |close: bool| {
        let connection = if close { "Connection: close\r\n" } else { "" };
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{connection}\r\n",
            body.len()
        )
    };
    let mut keep = head(false).into_bytes();
    keep.extend_from_slice(&body);
    let mut close = head(true).into_bytes();
    close.extend_from_slice(&body);
    (keep, close)
}

/// Serves `addr` (UDP and TCP) until killed. Returns only on a start-up error or a failed poll.
pub fn run(addr: SocketAddr) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut udp = UdpSocket::bind(addr)?;
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut udp, UDP, Interest::READABLE)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    eprintln!("null-tracker: listening udp and tcp {addr}");
    let announce = udp_announce_reply();
    let (keep_reply, close_reply) = http_replies();
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(256);
    let mut inbuf = [0u8; 2048];
    let mut outbuf = [0u8; 2048];
    let mut udp_pending = false;
    loop {
        let timeout = udp_pending.then_some(std::time::Duration::ZERO);
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if udp_pending {
            udp_pending = !serve_udp(&udp, &announce, &mut inbuf, &mut outbuf);
        }
        for event in events.iter() {
            match event.token() {
                UDP => udp_pending = !serve_udp(&udp, &announce, &mut inbuf, &mut outbuf),
                LISTENER => accept_all(&listener, &poll, &mut conns, &mut free),
                Token(t) => {
                    let i = t - CONN_BASE;
                    let done = match conns.get_mut(i) {
                        Some(Some(c)) => drive(c, &keep_reply, &close_reply),
                        _ => false,
                    };
                    if done {
                        if let Some(mut c) = conns[i].take() {
                            let _ = poll.registry().deregister(&mut c.stream);
                            free.push(i);
                        }
                    }
                }
            }
        }
    }
}

/// Answers datagrams until the socket is empty (true) or the turn is over (false).
fn serve_udp(s: &UdpSocket, announce: &[u8], inbuf: &mut [u8], outbuf: &mut [u8]) -> bool {
    for _ in 0..UDP_TURN {
        let (n, from) = match s.recv_from(inbuf) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(_) => continue,
        };
        if n < 16 {
            continue;
        }
        let action = u32::from_be_bytes([inbuf[8], inbuf[9], inbuf[10], inbuf[11]]);
        let len = match action {
            wire::ACTION_CONNECT => {
                outbuf[..4].copy_from_slice(&wire::ACTION_CONNECT.to_be_bytes());
                outbuf[4..8].copy_from_slice(&inbuf[12..16]);
                outbuf[8..16].copy_from_slice(&0x6e75_6c6c_6e75_6c6cu64.to_be_bytes());
                16
            }
            wire::ACTION_ANNOUNCE if n >= wire::ANNOUNCE_LEN => {
                outbuf[..announce.len()].copy_from_slice(announce);
                outbuf[4..8].copy_from_slice(&inbuf[12..16]);
                announce.len()
            }
            wire::ACTION_SCRAPE => {
                let hashes = ((n - 16) / 20).min(74);
                outbuf[..4].copy_from_slice(&wire::ACTION_SCRAPE.to_be_bytes());
                outbuf[4..8].copy_from_slice(&inbuf[12..16]);
                outbuf[8..8 + 12 * hashes].fill(0);
                8 + 12 * hashes
            }
            _ => continue,
        };
        let _ = s.send_to(&outbuf[..len], from);
    }
    false
}

fn accept_all(l: &TcpListener, poll: &Poll, conns: &mut Vec<Option<Conn>>, free: &mut Vec<usize>) {
    for _ in 0..MAX_CONNS {
        let (mut stream, _) = match l.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(_) => continue,
        };
        let i = match free.pop() {
            Some(i) => i,
            None if conns.len() < MAX_CONNS => {
                conns.push(None);
                conns.len() - 1
            }
            None => continue, // full: dropping the stream closes it
        };
        let token = Token(CONN_BASE + i);
        if poll
            .registry()
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            free.push(i);
            continue;
        }
        let _ = stream.set_nodelay(true);
        conns[i] = Some(Conn {
            stream,
            input: Box::new([0; IN_LEN]),
            in_len: 0,
            out_pos: None,
            close_after: false,
        });
    }
}

/// Reads, answers and writes until the socket would block. True when the connection is done.
fn drive(c: &mut Conn, keep_reply: &[u8], close_reply: &[u8]) -> bool {
    // Each pass reads, answers or writes, or returns: at most a few passes per request held.
    for _ in 0..64 {
        if let Some(pos) = c.out_pos {
            let reply = if c.close_after {
                close_reply
            } else {
                keep_reply
            };
            match c.stream.write(&reply[pos..]) {
                Ok(0) => return true,
                Ok(n) if pos + n == reply.len() => {
                    c.out_pos = None;
                    if c.close_after {
                        return true;
                    }
                }
                Ok(n) => c.out_pos = Some(pos + n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
            continue;
        }
        if let Some(end) = find(&c.input[..c.in_len], b"\r\n\r\n").map(|i| i + 4) {
            c.close_after = wants_close(&c.input[..end]);
            c.out_pos = Some(0);
            c.input.copy_within(end..c.in_len, 0);
            c.in_len -= end;
            continue;
        }
        if c.in_len == IN_LEN {
            return true; // a head larger than we take
        }
        match c.stream.read(&mut c.input[c.in_len..]) {
            Ok(0) => return true,
            Ok(n) => c.in_len += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return true,
        }
    }
    false
}

/// HTTP/1.0, or `Connection: close`.
fn wants_close(head: &[u8]) -> bool {
    let line_end = find(head, b"\r\n").unwrap_or(head.len());
    if head[..line_end].ends_with(b"HTTP/1.0") {
        return true;
    }
    head.split(|&b| b == b'\n').skip(1).any(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line.len() >= 11
            && line[..11].eq_ignore_ascii_case(b"connection:")
            && line[11..].trim_ascii().eq_ignore_ascii_case(b"close")
    })
}
