//! UDP announces: a set of simulated clients, each one socket bound to its own loopback
//! address (127.A.B.C) and connected to the tracker. Each client connects once (BEP 15) and
//! then keeps a bounded number of announces in flight, sent and received in batches
//! (`sendmmsg`/`recvmmsg`) so that the load generator stays cheap.
//!
//! Client `s` announces peers `g` of its own slice of the peer range (see [`crate::peer_of`]).
//! In [`Mode::Load`] it cycles through its slice for as long as the run lasts; in
//! [`Mode::Fill`] it announces each peer once and repeats an announce until it is answered.

use crate::run::{Counts, Engine};
use crate::sys::{self, BATCH};
use crate::wire::{self, ANNOUNCE_LEN};
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Largest answer read: an announce answer with 200 IPv4 peers is 1220 bytes.
const RECV_LEN: usize = 1280;
/// How often slots are checked for timeouts and idleness.
const SCAN_EVERY_MS: u32 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Announce round and round until stopped.
    Load,
    /// Announce every peer of the range once, until each is answered.
    Fill,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Busy,
    /// Fill mode: `g` still has to be (re)sent.
    Retry,
}

#[derive(Clone, Copy)]
struct Slot {
    tid: u32,
    g: u32,
    sent_ms: u32,
    state: State,
}

struct Client {
    sock: UdpSocket,
    template: [u8; ANNOUNCE_LEN],
    connection_id: [u8; 8],
    lo: u32,
    hi: u32,
    cursor: u32,
    seq: u32,
    slots: Vec<Slot>,
    /// Slots to send next.
    ready: Vec<usize>,
}

/// What the clients announce and how.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Source addresses are 127.`net`.x.y, one per client.
    pub net: u8,
    pub clients: usize,
    /// Announces in flight per client (at most 256).
    pub window: usize,
    /// Peers `[from, to)` split between the clients.
    pub from: u32,
    pub to: u32,
    pub torrents: u32,
    pub num_want: i32,
    pub mode: Mode,
    /// An announce unanswered after this long is given up (load) or sent again (fill).
    pub timeout: Duration,
}

/// The clients and their event loop.
pub struct Swarm {
    poll: Poll,
    events: Events,
    clients: Vec<Client>,
    hashes: Vec<[u8; 20]>,
    plan: Plan,
    epoch: Instant,
    now_ms: u32,
    last_scan_ms: u32,
    sending: bool,
    counts: Counts,
    recv_bufs: Box<[[u8; RECV_LEN]; BATCH]>,
    send_bufs: Box<[[u8; ANNOUNCE_LEN]; BATCH]>,
}

/// The loopback address of client `i` in 127.`net`.0.0/16 (never .0 or .255 in the last byte).
pub fn client_addr(net: u8, i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, net, (i / 250) as u8, (i % 250) as u8 + 1)
}

impl Swarm {
    /// Opens the clients' sockets; nothing is sent yet.
    pub fn new(server: SocketAddr, plan: Plan) -> io::Result<Swarm> {
        assert!(plan.window >= 1 && plan.window <= 256 && plan.clients >= 1);
        let poll = Poll::new()?;
        let mut clients = Vec::with_capacity(plan.clients);
        for i in 0..plan.clients {
            let local = SocketAddrV4::new(client_addr(plan.net, i), 0);
            let mut sock = UdpSocket::bind(local.into())?;
            sock.connect(server)?;
            poll.registry()
                .register(&mut sock, Token(i), Interest::READABLE)?;
            let (lo, hi) = crate::slice(plan.from, plan.to, i, plan.clients);
            let slot = Slot {
                tid: 0,
                g: 0,
                sent_ms: 0,
                state: State::Idle,
            };
            clients.push(Client {
                sock,
                template: [0; ANNOUNCE_LEN],
                connection_id: [0; 8],
                lo,
                hi,
                cursor: lo,
                seq: 0,
                slots: vec![slot; plan.window],
                ready: Vec::with_capacity(plan.window),
            });
        }
        let hashes = (0..plan.torrents).map(wire::info_hash).collect();
        Ok(Swarm {
            poll,
            events: Events::with_capacity(1024),
            clients,
            hashes,
            plan,
            epoch: Instant::now(),
            now_ms: 0,
            last_scan_ms: 0,
            sending: false,
            counts: Counts::default(),
            recv_bufs: Box::new([[0; RECV_LEN]; BATCH]),
            send_bufs: Box::new([[0; ANNOUNCE_LEN]; BATCH]),
        })
    }

    /// Every client connects (BEP 15 connect) and keeps its connection id. Bounded by `limit`.
    pub fn connect(&mut self, limit: Duration) -> io::Result<()> {
        let start = Instant::now();
        let mut pending: Vec<usize> = (0..self.clients.len()).collect();
        let mut last_send: Option<Instant> = None;
        let mut buf = [0u8; RECV_LEN];
        while !pending.is_empty() {
            crate::stop::check()?;
            if start.elapsed() > limit {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{} of {} UDP clients got no connect answer",
                        pending.len(),
                        self.clients.len()
                    ),
                ));
            }
            if last_send.is_none_or(|t| t.elapsed() > Duration::from_millis(250)) {
                for &i in &pending {
                    let _ = self.clients[i]
                        .sock
                        .send(&wire::connect_packet(0xc000_0000 | i as u32));
                }
                last_send = Some(Instant::now());
            }
            self.poll
                .poll(&mut self.events, Some(Duration::from_millis(50)))?;
            for i in self.events.iter().map(|e| e.token().0).collect::<Vec<_>>() {
                let c = &mut self.clients[i];
                for _ in 0..1024 {
                    let n = match c.sock.recv(&mut buf) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => continue,
                    };
                    let expected = (wire::ACTION_CONNECT, 0xc000_0000 | i as u32);
                    if n >= 16 && wire::reply_head(&buf[..n]) == Some(expected) {
                        c.connection_id.copy_from_slice(&buf[8..16]);
                        c.template = wire::announce_template(
                            c.connection_id,
                            self.plan.num_want,
                            wire::EVENT_NONE,
                        );
                        pending.retain(|&p| p != i);
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether every peer of a fill was answered or given up, and nothing is in flight.
    pub fn fill_done(&self) -> bool {
        self.clients
            .iter()
            .all(|c| c.cursor >= c.hi && c.slots.iter().all(|s| s.state == State::Idle))
    }

    fn tick(&mut self) {
        self.now_ms = self.epoch.elapsed().as_millis() as u32;
    }

    /// Chooses what slot `k` of client `ci` sends next; false when it has nothing to send.
    fn next_for(&mut self, ci: usize, k: usize) -> bool {
        let mode = self.plan.mode;
        let c = &mut self.clients[ci];
        let slot = &mut c.slots[k];
        if !self.sending {
            slot.state = State::Idle;
            return false;
        }
        match (mode, slot.state) {
            (Mode::Fill, State::Retry) => {}
            _ if c.cursor < c.hi => {
                slot.g = c.cursor;
                c.cursor += 1;
                if mode == Mode::Load && c.cursor == c.hi {
                    c.cursor = c.lo;
                }
            }
            _ => {
                slot.state = State::Idle;
                return false;
            }
        }
        slot.state = State::Retry;
        true
    }

    /// Sends what the ready slots of client `ci` want, in batches.
    fn flush(&mut self, ci: usize) -> io::Result<()> {
        let mut ready = std::mem::take(&mut self.clients[ci].ready);
        let torrents = self.plan.torrents;
        let mut at = 0;
        // Each pass sends up to BATCH; the list is at most `window` long.
        while at < ready.len() {
            let mut picked = [0usize; BATCH];
            let mut n = 0;
            while at < ready.len() && n < BATCH {
                let k = ready[at];
                at += 1;
                if self.next_for(ci, k) {
                    let c = &mut self.clients[ci];
                    c.seq = c.seq.wrapping_add(1);
                    let tid = (c.seq << 8) | k as u32;
                    let slot = &mut c.slots[k];
                    slot.tid = tid;
                    let (t, port) = crate::peer_of(slot.g, torrents);
                    let buf = &mut self.send_bufs[n];
                    *buf = c.template;
                    wire::patch_announce(
                        buf,
                        tid,
                        &self.hashes[t as usize],
                        slot.g.is_multiple_of(2),
                        port,
                    );
                    picked[n] = k;
                    n += 1;
                }
            }
            if n == 0 {
                continue;
            }
            let fd = self.clients[ci].sock.as_raw_fd();
            let sent = match sys::send_batch(fd, &self.send_bufs[..n], ANNOUNCE_LEN) {
                Ok(s) => s,
                Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => 0,
                Err(e) => return Err(e),
            };
            self.counts.sent += sent as u64;
            let now = self.now_ms;
            let c = &mut self.clients[ci];
            for (j, &k) in picked[..n].iter().enumerate() {
                let slot = &mut c.slots[k];
                if j < sent {
                    slot.state = State::Busy;
                    slot.sent_ms = now;
                } // else it stays Retry and the next scan sends it again
            }
        }
        ready.clear();
        self.clients[ci].ready = ready;
        Ok(())
    }

    /// Reads every answer waiting on client `ci`.
    fn receive(&mut self, ci: usize) -> io::Result<()> {
        let fd = self.clients[ci].sock.as_raw_fd();
        let mut lens = [0usize; BATCH];
        // Bounded: at most 64 batches per event; edge-triggered, so new data raises a new event.
        for _ in 0..64 {
            let n = match sys::recv_batch(fd, &mut self.recv_bufs[..], &mut lens) {
                Ok(n) => n,
                // An ICMP "port unreachable" from an earlier send: the server is gone or not
                // yet there; the requests time out.
                Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => continue,
                Err(e) => return Err(e),
            };
            let c = &mut self.clients[ci];
            for (buf, &len) in self.recv_bufs.iter().zip(&lens).take(n) {
                let p = &buf[..len];
                let Some((action, tid)) = wire::reply_head(p) else {
                    continue;
                };
                let k = (tid & 0xff) as usize;
                let Some(slot) = c.slots.get_mut(k) else {
                    continue;
                };
                if slot.state != State::Busy || slot.tid != tid {
                    continue; // late or foreign
                }
                match action {
                    wire::ACTION_ANNOUNCE if p.len() >= 20 => self.counts.answered += 1,
                    _ => self.counts.errors += 1,
                }
                slot.state = State::Idle;
                c.ready.push(k);
            }
            self.flush(ci)?;
            if n < BATCH {
                break;
            }
        }
        Ok(())
    }

    /// Gives up or repeats announces past the timeout; sends from idle slots.
    fn scan(&mut self) -> io::Result<()> {
        let timeout = self.plan.timeout.as_millis() as u32;
        let now = self.now_ms;
        for ci in 0..self.clients.len() {
            let c = &mut self.clients[ci];
            for k in 0..c.slots.len() {
                let slot = &mut c.slots[k];
                match slot.state {
                    State::Busy if now.wrapping_sub(slot.sent_ms) > timeout => {
                        self.counts.timeouts += 1;
                        slot.state = match self.plan.mode {
                            Mode::Fill => State::Retry,
                            Mode::Load => State::Idle,
                        };
                        c.ready.push(k);
                    }
                    State::Busy => {}
                    State::Idle | State::Retry => c.ready.push(k),
                }
            }
            self.flush(ci)?;
        }
        Ok(())
    }
}

impl Engine for Swarm {
    fn start(&mut self) -> io::Result<()> {
        self.sending = true;
        self.tick();
        self.last_scan_ms = self.now_ms;
        for ci in 0..self.clients.len() {
            let c = &mut self.clients[ci];
            c.ready.extend(0..c.slots.len());
            self.flush(ci)?;
        }
        Ok(())
    }

    fn turn(&mut self, wait: Duration) -> io::Result<()> {
        match self.poll.poll(&mut self.events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        self.tick();
        let mut ready = [0usize; 1024];
        let mut n = 0;
        for e in self.events.iter() {
            if n < ready.len() {
                ready[n] = e.token().0;
                n += 1;
            }
        }
        for &ci in &ready[..n] {
            self.receive(ci)?;
        }
        if self.now_ms.wrapping_sub(self.last_scan_ms) >= SCAN_EVERY_MS {
            self.last_scan_ms = self.now_ms;
            self.scan()?;
        }
        Ok(())
    }

    fn stop_sending(&mut self) {
        self.sending = false;
    }

    fn in_flight(&self) -> usize {
        self.clients
            .iter()
            .map(|c| c.slots.iter().filter(|s| s.state == State::Busy).count())
            .sum()
    }

    fn counts(&self) -> Counts {
        self.counts
    }
}

/// Seeders + leechers the tracker at `server` reports for torrents `0..torrents`: one UDP
/// connect, then scrapes of [`wire::SCRAPE_HASHES`] hashes, one at a time, each tried up to 5
/// times, from a plain blocking socket at `source`. Bounded by `limit`.
pub fn scrape_total(
    server: SocketAddr,
    source: Ipv4Addr,
    torrents: u32,
    limit: Duration,
) -> io::Result<u64> {
    let start = Instant::now();
    let sock = std::net::UdpSocket::bind(SocketAddrV4::new(source, 0))?;
    sock.connect(server)?;
    sock.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut buf = [0u8; 2048];
    // Sends `packet` until an answer of `want_len` bytes to `tid` comes (5 tries, 300 ms each).
    let mut ask = |packet: &[u8], action: u32, tid: u32, want_len: usize| -> io::Result<Vec<u8>> {
        for _ in 0..5 {
            if start.elapsed() > limit {
                break;
            }
            let _ = sock.send(packet);
            let sent_at = Instant::now();
            while sent_at.elapsed() < Duration::from_millis(300) {
                crate::stop::check()?;
                let len = match sock.recv(&mut buf) {
                    Ok(len) => len,
                    Err(_) => continue, // timeout, or an ICMP error from an earlier packet
                };
                if len == want_len && wire::reply_head(&buf[..len]) == Some((action, tid)) {
                    return Ok(buf[..len].to_vec());
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer to UDP action {action} from {server}"),
        ))
    };
    let answer = ask(
        &wire::connect_packet(0x5c5c_5c5c),
        wire::ACTION_CONNECT,
        0x5c5c_5c5c,
        16,
    )?;
    let connection_id: [u8; 8] = answer[8..16].try_into().expect("16-byte answer");
    let hashes: Vec<[u8; 20]> = (0..torrents).map(wire::info_hash).collect();
    let mut total = 0u64;
    for (n, chunk) in hashes.chunks(wire::SCRAPE_HASHES).enumerate() {
        let tid = 0x5c00_0000 | n as u32;
        let packet = wire::scrape_packet(connection_id, tid, chunk);
        let answer = ask(&packet, wire::ACTION_SCRAPE, tid, 8 + 12 * chunk.len())?;
        total += wire::scrape_peers(&answer);
    }
    Ok(total)
}

/// What a fill did.
#[derive(Clone, Copy, Debug)]
pub struct FillResult {
    pub counts: Counts,
    pub secs: f64,
    /// Every peer of the range was answered.
    pub complete: bool,
}

/// Announces every peer of `plan` (mode [`Mode::Fill`]) until each is answered, or `limit`.
pub fn fill(server: SocketAddr, plan: Plan, limit: Duration) -> io::Result<FillResult> {
    let start = Instant::now();
    let mut swarm = Swarm::new(
        server,
        Plan {
            mode: Mode::Fill,
            ..plan
        },
    )?;
    swarm.connect(Duration::from_secs(5))?;
    swarm.start()?;
    while !swarm.fill_done() && start.elapsed() < limit {
        crate::stop::check()?;
        swarm.turn(Duration::from_millis(5))?;
    }
    let counts = swarm.counts();
    Ok(FillResult {
        counts,
        secs: start.elapsed().as_secs_f64(),
        complete: swarm.fill_done() && counts.answered == (plan.to - plan.from) as u64,
    })
}
