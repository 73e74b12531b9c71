//! HTTP connection slots: buffers, lifecycle and timeouts. The request logic is in
//! `tracker::http`; this module only moves bytes between sockets and fixed buffers.
//!
//! # Capacity
//! `http.max_connections` slots, each with an 8 KiB request buffer and an output buffer sized
//! by `tracker::http::out_capacity`, all reserved in one zeroed allocation at start-up (pages
//! untouched by a connection cost no RSS). When every slot is taken a new connection is closed
//! at once and counted.
//!
//! # Lifecycle of a slot
//! `Free` → accepted: `Open` → (request complete → answer written, maybe partly → drained) →
//! `Open` again for keep-alive, or closed (HTTP/1.0, `Connection: close`, errors, full scrape
//! done, idle longer than `http.idle_timeout`, peer closed).

use crate::clock::Secs;
use crate::sys::zeroed::Zeroed;
use crate::tracker::http::{self as front, After};
use crate::tracker::Tracker;
use crate::wire::http::{head_len, MAX_HEAD_LEN};
use crate::wire::Out;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::net::SocketAddr;

/// One open connection.
struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    /// The port it came in on (a site's port serves that site's pages); 0 when not asked.
    local_port: u16,
    /// Bytes of request data buffered.
    in_len: usize,
    /// Output buffered and how much of it is sent.
    out_len: usize,
    out_pos: usize,
    /// What to do once the output is drained.
    after: After,
    last_active: Secs,
}

pub struct Connections {
    slots: Vec<Option<Conn>>,
    free: Vec<usize>,
    /// Slot i's input buffer is `bufs[i * stride ..][..MAX_HEAD_LEN]`, its output the rest.
    bufs: Zeroed<u8>,
    stride: usize,
    out_cap: usize,
    token_base: usize,
    idle_secs: u32,
}

/// Outcome of servicing a slot.
enum Step {
    Keep,
    Close,
}

impl Connections {
    pub fn new(
        max: usize,
        out_cap: usize,
        token_base: usize,
        idle_secs: u32,
    ) -> io::Result<Connections> {
        let stride = MAX_HEAD_LEN + out_cap;
        let mut slots = Vec::with_capacity(max);
        slots.resize_with(max, || None);
        Ok(Connections {
            slots,
            free: (0..max).rev().collect(),
            bufs: Zeroed::new(max * stride)?,
            stride,
            out_cap,
            token_base,
            idle_secs,
        })
    }

    /// A new idle timeout (SIGHUP), for the connections open now too.
    pub fn set_idle_secs(&mut self, secs: u32) {
        self.idle_secs = secs;
    }

    pub fn open_count(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Whether `token` names a connection slot; returns its index.
    pub fn slot_of(&self, token: Token) -> Option<usize> {
        token
            .0
            .checked_sub(self.token_base)
            .filter(|&i| i < self.slots.len())
    }

    /// Takes an accepted stream that came in on `local_port`. Returns false (and drops the
    /// stream, closing it) when full.
    pub fn add(
        &mut self,
        registry: &Registry,
        mut stream: TcpStream,
        peer: SocketAddr,
        local_port: u16,
        now: Secs,
    ) -> bool {
        let Some(i) = self.free.pop() else {
            return false;
        };
        let token = Token(self.token_base + i);
        if registry
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            self.free.push(i);
            return false;
        }
        self.slots[i] = Some(Conn {
            stream,
            peer,
            local_port,
            in_len: 0,
            out_len: 0,
            out_pos: 0,
            after: After::KeepAlive,
            last_active: now,
        });
        true
    }

    fn close(&mut self, i: usize) {
        // Closing the descriptor removes it from the epoll set: no deregister call needed.
        if self.slots[i].take().is_some() {
            self.free.push(i);
        }
    }

    /// Services slot `i` after a readiness event: reads, answers, writes until it would block.
    /// `read_closed`: the event says the peer shut down its side (so the socket must be read
    /// until it says so, see `drive`).
    pub fn service(&mut self, i: usize, read_closed: bool, t: &mut Tracker, now: Secs) {
        if self.slots[i].is_none() {
            return; // A stale event for a slot closed earlier in this batch.
        }
        if let Step::Close = self.drive(i, read_closed, t, now) {
            self.close(i);
        }
    }

    fn drive(&mut self, i: usize, read_closed: bool, t: &mut Tracker, now: Secs) -> Step {
        let (stride, out_cap) = (self.stride, self.out_cap);
        let buf = &mut self.bufs[i * stride..(i + 1) * stride];
        let (inbuf, outbuf) = buf.split_at_mut(MAX_HEAD_LEN);
        let outbuf = &mut outbuf[..out_cap];
        let Some(c) = self.slots[i].as_mut() else {
            return Step::Close;
        };
        // Whether a read in this call came back short, i.e. emptied the socket's receive queue.
        let mut drained = false;
        // Bounded: every pass either makes progress or returns.
        loop {
            // 1. Send what is pending.
            while c.out_pos < c.out_len {
                match c.stream.write(&outbuf[c.out_pos..c.out_len]) {
                    Ok(0) => return Step::Close,
                    Ok(n) => {
                        c.out_pos += n;
                        c.last_active = now;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Keep,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Step::Close,
                }
            }
            c.out_pos = 0;
            c.out_len = 0;
            // 2. Output drained: what next?
            match c.after {
                After::Close => return Step::Close,
                After::Stream { what, mut next } => {
                    let mut out = Out::new(outbuf);
                    let done = front::stream_more(t, what, &mut next, now, &mut out);
                    c.out_len = out.len();
                    c.after = if done {
                        After::Close
                    } else {
                        After::Stream { what, next }
                    };
                    continue;
                }
                After::KeepAlive => {}
            }
            // 3. A complete request buffered? Answer it.
            if let Some(n) = head_len(&inbuf[..c.in_len]) {
                let mut out = Out::new(outbuf);
                c.after = front::handle(t, &inbuf[..n], c.peer, c.local_port, now, &mut out);
                if out.is_overflow() {
                    // Sized from the config so this cannot happen; never send a cut answer.
                    c.after = After::Close;
                    c.out_len = 0;
                } else {
                    c.out_len = out.len();
                }
                inbuf.copy_within(n..c.in_len, 0);
                c.in_len -= n;
                continue;
            }
            if c.in_len == MAX_HEAD_LEN {
                let mut out = Out::new(outbuf);
                c.after = front::head_too_large(t, &mut out);
                c.out_len = out.len();
                c.in_len = 0;
                continue;
            }
            // 4. Read more. After a short read the queue was empty: epoll (edge-triggered) reports
            // every later arrival as a new event, so the read that would only say WouldBlock is
            // skipped (one system call of about four per keep-alive request). Not when the peer
            // has shut down: its end-of-file arrived with this event and must be read now.
            if drained && !read_closed {
                return Step::Keep;
            }
            let space = inbuf.len() - c.in_len;
            match c.stream.read(&mut inbuf[c.in_len..]) {
                Ok(0) => return Step::Close,
                Ok(n) => {
                    c.in_len += n;
                    c.last_active = now;
                    drained = n < space;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Step::Close,
            }
        }
    }

    /// Closes connections silent for longer than the idle timeout.
    pub fn expire(&mut self, now: Secs) {
        for i in 0..self.slots.len() {
            let idle = match &self.slots[i] {
                Some(c) => now.saturating_sub(c.last_active) >= self.idle_secs,
                None => false,
            };
            if idle {
                self.close(i);
            }
        }
    }
}
