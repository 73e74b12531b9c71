//! HTTP announces over TCP: a fixed number of connections, one request in flight on each.
//!
//! [`HttpMode::KeepAlive`] sends HTTP/1.1 requests and the next request on the same
//! connection as soon as the answer is complete; a server that closes after answering
//! (HTTP/1.0 answers, `Connection: close`) is reconnected, and counted. [`HttpMode::Close`]
//! opens one connection per request, sends HTTP/1.0 and reads until the server closes, so the
//! server closes first and the load generator's ports never sit in TIME_WAIT.

use crate::run::{Counts, Engine};
use crate::wire::{self, HttpRequest, HttpResponse};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const IN_LEN: usize = 4096;
const SCAN_EVERY_MS: u32 = 20;
const SLOT_BITS: u32 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMode {
    KeepAlive,
    Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No request; the connection (keep-alive) may be open.
    Idle,
    Connecting,
    Writing,
    Reading,
    /// Answered; waiting for the server to close.
    AwaitEof,
}

struct Conn {
    stream: Option<TcpStream>,
    /// Incremented per connection opened; part of the token, so that events of a closed
    /// connection are told apart from those of its successor.
    generation: u64,
    state: State,
    req: HttpRequest,
    out_pos: usize,
    input: Box<[u8; IN_LEN]>,
    in_len: usize,
    started_ms: u32,
    /// Answers received on the current connection.
    served: u32,
    /// The current request was sent again on a new connection already.
    retried: bool,
    lo: u32,
    hi: u32,
    cursor: u32,
}

/// What the connections announce and how.
#[derive(Clone, Debug)]
pub struct HttpPlan {
    pub mode: HttpMode,
    pub conns: usize,
    pub from: u32,
    pub to: u32,
    pub torrents: u32,
    /// A request unanswered after this long is given up and its connection closed.
    pub timeout: Duration,
}

pub struct HttpLoad {
    server: SocketAddr,
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    hashes: Vec<[u8; 20]>,
    plan: HttpPlan,
    epoch: Instant,
    now_ms: u32,
    last_scan_ms: u32,
    sending: bool,
    counts: Counts,
}

fn token(i: usize, generation: u64) -> Token {
    Token(i | (generation as usize) << SLOT_BITS)
}

impl HttpLoad {
    pub fn new(server: SocketAddr, plan: HttpPlan) -> io::Result<HttpLoad> {
        assert!(plan.conns >= 1 && plan.conns < 1 << SLOT_BITS);
        let conns = (0..plan.conns)
            .map(|i| {
                let (lo, hi) = crate::slice(plan.from, plan.to, i, plan.conns);
                Conn {
                    stream: None,
                    generation: 0,
                    state: State::Idle,
                    req: HttpRequest::new(plan.mode == HttpMode::KeepAlive),
                    out_pos: 0,
                    input: Box::new([0; IN_LEN]),
                    in_len: 0,
                    started_ms: 0,
                    served: 0,
                    retried: false,
                    lo,
                    hi,
                    cursor: lo,
                }
            })
            .collect();
        Ok(HttpLoad {
            server,
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            conns,
            hashes: (0..plan.torrents).map(wire::info_hash).collect(),
            plan,
            epoch: Instant::now(),
            now_ms: 0,
            last_scan_ms: 0,
            sending: false,
            counts: Counts::default(),
        })
    }

    /// Closes connection `i`'s socket (if any); the slot goes idle.
    fn drop_stream(&mut self, i: usize) {
        let c = &mut self.conns[i];
        if let Some(mut s) = c.stream.take() {
            let _ = self.poll.registry().deregister(&mut s);
        }
        c.state = State::Idle;
    }

    /// Starts the next request on slot `i`: a new connection if needed. False if none started.
    fn begin(&mut self, i: usize) -> bool {
        if !self.sending {
            return false;
        }
        let torrents = self.plan.torrents;
        let keep_alive = self.plan.mode == HttpMode::KeepAlive;
        let c = &mut self.conns[i];
        let g = c.cursor;
        c.cursor = if c.cursor + 1 >= c.hi {
            c.lo
        } else {
            c.cursor + 1
        };
        let (t, port) = crate::peer_of(g, torrents);
        c.req
            .patch(&self.hashes[t as usize], g.is_multiple_of(2), port);
        c.out_pos = 0;
        c.in_len = 0;
        c.started_ms = self.now_ms;
        c.retried = false;
        self.counts.sent += 1;
        if keep_alive && c.stream.is_some() {
            c.state = State::Writing;
            return true;
        }
        self.open(i)
    }

    /// Opens a new connection for slot `i`'s request. False if the connect failed at once.
    fn open(&mut self, i: usize) -> bool {
        let c = &mut self.conns[i];
        if let Some(mut s) = c.stream.take() {
            let _ = self.poll.registry().deregister(&mut s);
        }
        if c.generation > 0 && self.plan.mode == HttpMode::KeepAlive {
            self.counts.reconnects += 1;
        }
        c.generation += 1;
        c.served = 0;
        c.out_pos = 0;
        c.in_len = 0;
        let mut stream = match TcpStream::connect(self.server) {
            Ok(s) => s,
            Err(_) => {
                c.state = State::Idle; // unanswered; the next scan tries again
                return false;
            }
        };
        let tok = token(i, c.generation);
        if self
            .poll
            .registry()
            .register(&mut stream, tok, Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            c.state = State::Idle;
            return false;
        }
        let _ = stream.set_nodelay(true);
        c.stream = Some(stream);
        c.state = State::Connecting;
        true
    }

    /// The server closed a keep-alive connection that had answered before, and the request
    /// just sent on it got nothing: what any HTTP client does, send it again once on a new
    /// connection (opentracker answers HTTP/1.1 without `Connection: close` and then closes).
    /// False when this request was retried already: it stays unanswered.
    fn retry(&mut self, i: usize) -> bool {
        let c = &mut self.conns[i];
        if c.served == 0 || c.retried || c.in_len > 0 {
            return false;
        }
        c.retried = true;
        self.open(i)
    }

    /// Moves slot `i` on as far as its socket allows.
    fn drive(&mut self, i: usize) {
        // Each pass changes state or returns; a request takes at most five passes.
        for _ in 0..16 {
            let mode = self.plan.mode;
            let c = &mut self.conns[i];
            let state = c.state;
            if state == State::Idle {
                if !self.begin(i) {
                    return;
                }
                continue;
            }
            let Some(stream) = c.stream.as_mut() else {
                c.state = State::Idle;
                return;
            };
            match state {
                State::Idle => {}
                State::Connecting => {
                    if let Ok(Some(_)) | Err(_) = stream.take_error() {
                        return self.drop_stream(i);
                    }
                    match stream.peer_addr() {
                        Ok(_) => c.state = State::Writing,
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                        Err(_) => return self.drop_stream(i),
                    }
                }
                State::Writing => match stream.write(&c.req.bytes[c.out_pos..]) {
                    Ok(n) => {
                        c.out_pos += n;
                        if c.out_pos == c.req.bytes.len() {
                            c.state = State::Reading;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        if !self.retry(i) {
                            return self.drop_stream(i);
                        }
                    }
                },
                State::Reading => match stream.read(&mut c.input[c.in_len..]) {
                    Ok(0) if c.in_len == 0 && c.served > 0 && !c.retried => {
                        if !self.retry(i) {
                            return self.drop_stream(i);
                        }
                    }
                    Ok(0) => {
                        // Closed: a good answer only if its length is "until close".
                        if let HttpResponse::UntilClose { ok } =
                            wire::http_response(&c.input[..c.in_len])
                        {
                            let head_end =
                                wire::find(&c.input[..c.in_len], b"\r\n\r\n").map_or(0, |p| p + 4);
                            if ok && wire::body_ok(&c.input[head_end..c.in_len]) {
                                self.counts.answered += 1;
                            } else {
                                self.counts.errors += 1;
                            }
                        }
                        return self.drop_stream(i);
                    }
                    Ok(n) => {
                        c.in_len += n;
                        match wire::http_response(&c.input[..c.in_len]) {
                            HttpResponse::Partial | HttpResponse::UntilClose { .. } => {
                                if c.in_len == IN_LEN {
                                    self.counts.errors += 1;
                                    return self.drop_stream(i);
                                }
                            }
                            HttpResponse::Complete { ok, close, .. } => {
                                c.served += 1;
                                if ok {
                                    self.counts.answered += 1;
                                } else {
                                    self.counts.errors += 1;
                                }
                                c.state = if close || mode == HttpMode::Close {
                                    State::AwaitEof
                                } else {
                                    State::Idle
                                };
                            }
                            HttpResponse::Garbage => {
                                self.counts.errors += 1;
                                return self.drop_stream(i);
                            }
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        if !self.retry(i) {
                            return self.drop_stream(i);
                        }
                    }
                },
                State::AwaitEof => {
                    let mut sink = [0u8; 512];
                    match stream.read(&mut sink) {
                        Ok(0) => self.drop_stream(i), // then Idle: the next request
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => self.drop_stream(i),
                    }
                }
            }
        }
    }

    fn scan(&mut self) {
        let timeout = self.plan.timeout.as_millis() as u32;
        for i in 0..self.conns.len() {
            let c = &self.conns[i];
            match c.state {
                State::Idle => self.drive(i),
                _ if self.now_ms.wrapping_sub(c.started_ms) > timeout => {
                    if c.state != State::AwaitEof {
                        self.counts.timeouts += 1;
                    }
                    self.drop_stream(i);
                    self.drive(i);
                }
                _ => {}
            }
        }
    }
}

impl Engine for HttpLoad {
    fn start(&mut self) -> io::Result<()> {
        self.sending = true;
        self.now_ms = self.epoch.elapsed().as_millis() as u32;
        self.last_scan_ms = self.now_ms;
        for i in 0..self.conns.len() {
            self.drive(i);
        }
        Ok(())
    }

    fn turn(&mut self, wait: Duration) -> io::Result<()> {
        match self.poll.poll(&mut self.events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        self.now_ms = self.epoch.elapsed().as_millis() as u32;
        let mut ready = [Token(0); 1024];
        let mut n = 0;
        for e in self.events.iter() {
            if n < ready.len() {
                ready[n] = e.token();
                n += 1;
            }
        }
        for tok in &ready[..n] {
            let i = tok.0 & ((1 << SLOT_BITS) - 1);
            let current = self
                .conns
                .get(i)
                .is_some_and(|c| c.stream.is_some() && token(i, c.generation) == *tok);
            if current {
                self.drive(i);
            }
        }
        if self.now_ms.wrapping_sub(self.last_scan_ms) >= SCAN_EVERY_MS {
            self.last_scan_ms = self.now_ms;
            self.scan();
        }
        Ok(())
    }

    fn stop_sending(&mut self) {
        self.sending = false;
    }

    fn in_flight(&self) -> usize {
        self.conns
            .iter()
            .filter(|c| matches!(c.state, State::Connecting | State::Writing | State::Reading))
            .count()
    }

    fn counts(&self) -> Counts {
        self.counts
    }
}
