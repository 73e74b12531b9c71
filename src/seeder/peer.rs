//! One peer connection of the seeder: handshake, the messages a seeder answers, and uploads.
//!
//! # Life of a connection
//! `Connecting` (outgoing, until the socket is writable) → `Handshake` (incoming: our handshake
//! is sent once the first 48 bytes name a torrent we seed; outgoing: ours went first) →
//! `Active`. Right after the handshakes we send the extension handshake (BEP 10, offering
//! `ut_metadata`), then `have_all` (fast extension) or an all-ones bitfield, streamed so a big
//! one needs no big buffer.
//!
//! # Buffers
//! A connection owns no heap memory: its receive and send buffers are its slot's part of one
//! zeroed table ([`IN_LEN`] + [`OUT_LEN`] bytes). Messages longer than a seeder ever needs to
//! read (a leecher's big bitfield, a long extended message) are skipped as they arrive; a
//! `piece` (we never ask for one) or anything longer than [`MAX_SKIP`] drops the peer. Queued
//! requests are a fixed array ([`MAX_REQUESTS`]); excess ones are rejected.
//!
//! # Uploads
//! A block goes out as its 13-byte header (through the send buffer), then the block itself
//! from the file with `sendfile(2)` ([`crate::sys::sendfile::Sender`]), partial writes
//! tracked by content offset. The rate limits (global and per torrent) grant bytes before each
//! send; a connection with nothing granted waits (`throttled`) and is driven again when tokens
//! are back.

use super::files::{FileKey, OpenError, OpenFiles};
use super::rate::Bucket;
use super::torrents::Torrents;
use crate::ids::InfoHash;
use crate::sys::sendfile::Sender;
use crate::wire::extension::{self, MetadataMsg};
use crate::wire::peer::{self, Block, Frame, Message};
use crate::wire::Out;
use heapless::Deque;
use mio::net::TcpStream;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Receive buffer per connection: the largest message a seeder reads whole (an extension
/// handshake, a request, a small bitfield) fits.
pub const IN_LEN: usize = 2048;
/// Send buffer per connection, in two halves. The first is what goes on the wire next: a block
/// or metadata header (then its data from the file), a bitfield chunk, or control messages
/// moved from the second half. The second collects control messages (handshakes, rejects,
/// chokes) while a block is on its way, so nothing is ever written between a header and its
/// data.
pub const OUT_LEN: usize = 1024;
const WIRE_LEN: usize = 512;
/// Messages longer than the receive buffer are skipped up to this length (a leecher's
/// bitfield of a huge torrent); longer ones drop the peer.
pub const MAX_SKIP: u32 = 1 << 20;
/// Requests queued per peer; more are rejected (fast extension) or ignored.
pub const MAX_REQUESTS: usize = 256;
/// Our `ut_metadata` id in the extension handshake (peers send their requests with it).
pub const OUR_UT_METADATA: u8 = 2;
/// The `reqq` we advertise.
const REQQ: u16 = MAX_REQUESTS as u16;
/// Room kept in the send buffer before another message is handled (the longest reply to one
/// message: a `ut_metadata` header or an extension handshake).
const REPLY_ROOM: usize = 256;
/// Turns of [`PeerConn::drive`]'s loop per call before other connections get a turn.
const MAX_TURNS: usize = 64;
/// A handshake must complete within this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// A peer silent for this long is dropped (clients send keep-alives every 2 minutes).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(240);
/// A keep-alive is sent after this long without sending anything.
pub const KEEPALIVE_AFTER: Duration = Duration::from_secs(100);

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Outgoing, the TCP connection not yet established.
    Connecting,
    /// Waiting for the peer's handshake.
    Handshake,
    Active,
}

/// What is being sent after the send buffer drains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sending {
    Nothing,
    /// The all-ones bitfield, from this byte of the message.
    Bitfield {
        at: usize,
    },
    /// Content bytes from this offset.
    Block {
        offset: u64,
        left: u32,
    },
    /// Info dictionary bytes from this offset in the `.torrent` file.
    Metadata {
        offset: u64,
        left: u32,
    },
}

/// What the seeder does with a connection after driving it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Wait for the next readiness event.
    Wait,
    /// Drive again at the next turn (not drained: an edge-triggered socket would not report
    /// again), or when upload tokens are back.
    Again,
    /// Close it, for this reason (counted and, for protocol errors, logged).
    Close(&'static str),
}

/// Everything a connection needs besides itself.
pub struct Shared<'a> {
    pub torrents: &'a Torrents,
    pub files: &'a mut OpenFiles,
    pub sender: &'a mut Sender,
    pub global: &'a mut Bucket,
    /// Per torrent slot.
    pub buckets: &'a mut [Bucket],
    pub peer_id: &'a [u8; 20],
    pub listen_port: u16,
    pub client: &'a str,
    pub now: Instant,
    /// Torrent slots found changed on disk while serving (the seeder stops serving them).
    pub changed: &'a mut Vec<u32>,
    /// Set when a peer's interest changed (the seeder re-runs its unchoke choice).
    pub interest_changed: bool,
    /// Content bytes sent, blocks served, requests rejected.
    pub uploaded: u64,
    pub blocks: u64,
    pub rejected: u64,
}

pub struct PeerConn {
    pub stream: TcpStream,
    pub addr: SocketAddr,
    /// Where the peer listens, when its extension handshake said (an incoming connection's
    /// `addr` has the peer's ephemeral port): dialling it again would be a duplicate.
    pub listen_addr: Option<SocketAddr>,
    pub outgoing: bool,
    pub phase: Phase,
    /// The torrent's slot and hash (the slot is checked to still hold that hash).
    pub torrent: Option<(u32, InfoHash)>,
    fast: bool,
    extensions: bool,
    /// The peer's `ut_metadata` id, when it has one.
    peer_ut_metadata: Option<u8>,
    in_len: usize,
    /// Bytes of the current message still to be discarded.
    skip: u64,
    out_len: usize,
    out_pos: usize,
    /// Control messages waiting in the second half of the send buffer.
    ctl_len: usize,
    sending: Sending,
    /// Our extension handshake waits for the bitfield to be sent (BEP 3: the bitfield comes
    /// first).
    ext_pending: bool,
    requests: Deque<Block, MAX_REQUESTS>,
    /// `ut_metadata` pieces asked for.
    metadata_requests: Deque<u32, 4>,
    pub am_choking: bool,
    pub interested: bool,
    /// Whether upload tokens ran out with something to send.
    pub throttled: bool,
    pub started: Instant,
    pub last_recv: Instant,
    last_send: Instant,
    /// When it was last unchoked (round-robin rotation).
    pub unchoked_at: Instant,
    pub uploaded: u64,
}

fn io_close(e: &io::Error) -> Step {
    match e.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => Step::Close("peer closed"),
        _ => Step::Close("socket error"),
    }
}

impl PeerConn {
    /// An accepted connection: waits for the peer's handshake.
    pub fn incoming(stream: TcpStream, addr: SocketAddr, now: Instant) -> PeerConn {
        PeerConn::new(stream, addr, false, Phase::Handshake, None, now)
    }

    /// An outgoing connection for torrent `slot`: our handshake is queued in `out` at once.
    pub fn outgoing(
        stream: TcpStream,
        addr: SocketAddr,
        slot: u32,
        hash: InfoHash,
        peer_id: &[u8; 20],
        out: &mut [u8],
        now: Instant,
    ) -> PeerConn {
        let mut c = PeerConn::new(
            stream,
            addr,
            true,
            Phase::Connecting,
            Some((slot, hash)),
            now,
        );
        let mut o = Out::new(out);
        peer::put_handshake(&mut o, hash, peer_id, true, true);
        c.out_len = o.len();
        c
    }

    fn new(
        stream: TcpStream,
        addr: SocketAddr,
        outgoing: bool,
        phase: Phase,
        torrent: Option<(u32, InfoHash)>,
        now: Instant,
    ) -> PeerConn {
        PeerConn {
            stream,
            addr,
            listen_addr: None,
            outgoing,
            phase,
            torrent,
            fast: false,
            extensions: false,
            peer_ut_metadata: None,
            in_len: 0,
            skip: 0,
            out_len: 0,
            out_pos: 0,
            ctl_len: 0,
            sending: Sending::Nothing,
            ext_pending: false,
            requests: Deque::new(),
            metadata_requests: Deque::new(),
            am_choking: true,
            interested: false,
            throttled: false,
            started: now,
            last_recv: now,
            last_send: now,
            unchoked_at: now,
            uploaded: 0,
        }
    }

    /// The listening port for our extension handshake (BEP 10 `p`), on every connection: a
    /// peer we dialled learns from it where to reconnect after we restart (its tracker will
    /// not tell it before its next announce). The price: libtorrent, which is trying to reach
    /// that port over uTP at the same time, drops our connection as a duplicate and needs a
    /// few seconds to come back over TCP.
    fn advertised_port(&self, sh: &Shared) -> Option<u16> {
        Some(sh.listen_port)
    }

    /// The torrent slot, if the connection has one that still holds the same torrent.
    pub fn slot(&self, torrents: &Torrents) -> Option<u32> {
        let (slot, hash) = self.torrent?;
        (torrents.get(slot)?.info_hash == hash).then_some(slot)
    }

    /// Reads, answers and sends until the socket would block both ways (or the turn budget
    /// is spent). `inbuf`/`outbuf` are this connection's buffers.
    pub fn drive(&mut self, inbuf: &mut [u8], outbuf: &mut [u8], sh: &mut Shared) -> Step {
        if self.phase == Phase::Connecting {
            match self.stream.peer_addr() {
                Ok(_) => self.phase = Phase::Handshake,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    if let Ok(Some(_)) | Err(_) = self.stream.take_error() {
                        return Step::Close("connect failed");
                    }
                    return Step::Wait;
                }
                Err(_) => return Step::Close("connect failed"),
            }
        }
        let mut read_blocked = false;
        for _ in 0..MAX_TURNS {
            let mut progress = false;
            match self.write_some(outbuf, sh) {
                Ok(p) => progress |= p,
                Err(step) => return step,
            }
            match self.handle_input(inbuf, outbuf, sh) {
                Ok(p) => progress |= p,
                Err(reason) => return Step::Close(reason),
            }
            if !read_blocked && self.in_len < inbuf.len() {
                match self.stream.read(&mut inbuf[self.in_len..]) {
                    Ok(0) => return Step::Close("peer closed"),
                    Ok(n) => {
                        self.in_len += n;
                        self.last_recv = sh.now;
                        progress = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => read_blocked = true,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => progress = true,
                    Err(e) => return io_close(&e),
                }
            }
            if !progress {
                return if self.throttled {
                    Step::Again
                } else {
                    Step::Wait
                };
            }
        }
        Step::Again
    }

    /// Sends what is pending, in order: the wire half of the send buffer; then what it was the
    /// header of (bitfield, block or metadata); then the control messages; then the next
    /// metadata piece or block asked for. Ok(true) when something moved; Err to close.
    fn write_some(&mut self, outbuf: &mut [u8], sh: &mut Shared) -> Result<bool, Step> {
        if self.phase == Phase::Connecting {
            return Ok(false);
        }
        if self.out_pos < self.out_len {
            let pending = &outbuf[self.out_pos..self.out_len];
            // A block's or metadata piece's header: its data follows at once.
            let header = matches!(
                self.sending,
                Sending::Block { .. } | Sending::Metadata { .. }
            );
            let sent = if header {
                crate::sys::socket::send_more(&self.stream, pending)
            } else {
                self.stream.write(pending)
            };
            return match sent {
                Ok(0) => Err(Step::Close("peer closed")),
                Ok(n) => {
                    self.out_pos += n;
                    if self.out_pos == self.out_len {
                        self.out_pos = 0;
                        self.out_len = 0;
                    }
                    self.last_send = sh.now;
                    Ok(true)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
                Err(e) => Err(io_close(&e)),
            };
        }
        match self.sending {
            Sending::Bitfield { at } => {
                let Some(t) = self.slot(sh.torrents).and_then(|s| sh.torrents.get(s)) else {
                    return Err(Step::Close("torrent no longer seeded"));
                };
                let mut o = Out::new(&mut outbuf[..WIRE_LEN]);
                let n = peer::put_bitfield_all_from(&mut o, t.piece_count, at);
                self.out_len = o.len();
                let at = at + n;
                if at >= peer::bitfield_message_len(t.piece_count) {
                    self.sending = Sending::Nothing;
                    if self.ext_pending {
                        self.ext_pending = false;
                        let (info_len, port) = (t.info_len, self.advertised_port(sh));
                        self.put_ctl(outbuf, |o| {
                            extension::put_handshake_message(
                                o,
                                Some(OUR_UT_METADATA),
                                Some(info_len),
                                sh.client,
                                port,
                                REQQ,
                            )
                        });
                    }
                } else {
                    self.sending = Sending::Bitfield { at };
                }
                Ok(true)
            }
            Sending::Block { .. } | Sending::Metadata { .. } => self.send_data(sh),
            Sending::Nothing if self.ctl_len > 0 => {
                // The control messages become the next thing on the wire.
                outbuf.copy_within(WIRE_LEN..WIRE_LEN + self.ctl_len, 0);
                self.out_len = self.ctl_len;
                self.ctl_len = 0;
                Ok(true)
            }
            Sending::Nothing => Ok(self.start_next(outbuf, sh)),
        }
    }

    /// Appends a control message (when it fits the control half; a message that does not fit
    /// is dropped: only rejects can be that many, and a fast peer times those out).
    fn put_ctl(&mut self, outbuf: &mut [u8], write: impl FnOnce(&mut Out)) {
        let mut o = Out::new(&mut outbuf[WIRE_LEN + self.ctl_len..]);
        write(&mut o);
        if !o.is_overflow() {
            self.ctl_len += o.len();
        }
    }

    /// Starts the next metadata piece or (when unchoked) block asked for, writing its header;
    /// or a keep-alive when nothing was sent for a while.
    fn start_next(&mut self, outbuf: &mut [u8], sh: &mut Shared) -> bool {
        if self.phase != Phase::Active {
            return false;
        }
        let Some(t) = self.slot(sh.torrents).and_then(|s| sh.torrents.get(s)) else {
            return false;
        };
        let mut o = Out::new(&mut outbuf[..WIRE_LEN]);
        if let (Some(piece), Some(peer_ut)) =
            (self.metadata_requests.pop_front(), self.peer_ut_metadata)
        {
            let len = extension::metadata_piece_len(t.info_len, piece).unwrap_or(0);
            extension::put_metadata_data_header(&mut o, peer_ut, piece, t.info_len, len);
            let offset =
                t.info_offset + u64::from(piece) * u64::from(extension::METADATA_PIECE_LEN);
            self.sending = Sending::Metadata { offset, left: len };
        } else if let Some(b) = self.requests.pop_front().filter(|_| !self.am_choking) {
            peer::put_piece_header(&mut o, b.index, b.begin, b.length);
            self.sending = Sending::Block {
                offset: t.offset(b.index, b.begin),
                left: b.length,
            };
        } else if sh.now.duration_since(self.last_send) >= KEEPALIVE_AFTER {
            peer::put_keep_alive(&mut o);
        } else {
            return false;
        }
        self.out_len = o.len();
        true
    }

    /// Sends block or metadata bytes from their file, as many as the rate limits grant.
    fn send_data(&mut self, sh: &mut Shared) -> Result<bool, Step> {
        let Some(slot) = self.slot(sh.torrents) else {
            return Err(Step::Close("torrent no longer seeded"));
        };
        let Some(t) = sh.torrents.get(slot) else {
            return Err(Step::Close("torrent no longer seeded"));
        };
        let (offset, left, is_block) = match self.sending {
            Sending::Block { offset, left } => (offset, left, true),
            Sending::Metadata { offset, left } => (offset, left, false),
            _ => return Ok(false),
        };
        let mut grant = sh.global.allow(left, sh.now);
        if let Some(b) = sh.buckets.get_mut(slot as usize) {
            if t.max_upload_rate > 0 {
                grant = b.allow(grant, sh.now);
            }
        }
        if grant == 0 {
            self.throttled = true;
            return Ok(false);
        }
        self.throttled = false;
        let (key, path, expect, file_offset, in_file) = if is_block {
            let Some((i, off)) = t.locate(offset) else {
                return Err(Step::Close("request past the end"));
            };
            let f = &t.files[i];
            let key = FileKey {
                torrent: slot,
                file: i as u32,
            };
            (key, &f.path, f.expect, off, f.expect.len - off)
        } else {
            let key = FileKey {
                torrent: slot,
                file: u32::MAX,
            };
            let off = offset;
            (key, &t.torrent_path, t.torrent_expect, off, u64::from(left))
        };
        let want = u64::from(grant).min(in_file) as usize;
        let file = match sh.files.get(key, || path.clone(), expect, sh.now) {
            Ok(f) => f,
            Err(OpenError::Changed) => {
                sh.changed.push(slot);
                return Err(Step::Close("file changed: torrent withdrawn"));
            }
            Err(OpenError::Io(_)) => return Err(Step::Close("file unreadable")),
        };
        match sh.sender.send(&self.stream, file, file_offset, want) {
            Ok(0) => Err(Step::Close("file shorter than the torrent")),
            Ok(n) => {
                let n32 = n as u32; // n <= want <= grant, a u32
                sh.global.take(n32);
                if t.max_upload_rate > 0 {
                    if let Some(b) = sh.buckets.get_mut(slot as usize) {
                        b.take(n32);
                    }
                }
                self.last_send = sh.now;
                let left = left - n32;
                let offset = offset + n as u64;
                if is_block {
                    self.uploaded += n as u64;
                    sh.uploaded += n as u64;
                }
                self.sending = match (left, is_block) {
                    (0, true) => {
                        sh.blocks += 1;
                        Sending::Nothing
                    }
                    (0, false) => Sending::Nothing,
                    (_, true) => Sending::Block { offset, left },
                    (_, false) => Sending::Metadata { offset, left },
                };
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(io_close(&e)),
        }
    }

    /// Handles the buffered input while the send buffer has room for a reply. Ok(true) when
    /// something was consumed.
    fn handle_input(
        &mut self,
        inbuf: &mut [u8],
        outbuf: &mut [u8],
        sh: &mut Shared,
    ) -> Result<bool, &'static str> {
        let mut at = 0;
        let mut progress = false;
        let result = loop {
            if self.skip > 0 {
                let n = (self.in_len - at).min(usize::try_from(self.skip).unwrap_or(usize::MAX));
                if n == 0 {
                    break Ok(());
                }
                at += n;
                self.skip -= n as u64;
                progress = true;
                continue;
            }
            if WIRE_LEN + self.ctl_len + REPLY_ROOM > outbuf.len() {
                break Ok(()); // Replies wait for room.
            }
            let buf = &inbuf[at..self.in_len];
            if self.phase != Phase::Active {
                match self.handshake(buf, outbuf, sh) {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        at += n;
                        progress = true;
                        continue;
                    }
                    Err(e) => break Err(e),
                }
            }
            match peer::frame(buf, (IN_LEN - 4) as u32) {
                Err(_) => break Err("malformed message"),
                Ok(Frame::Incomplete { .. }) => break Ok(()),
                Ok(Frame::TooLong { declared }) => {
                    // Only messages a seeder may ignore are skipped: a bitfield (or have_*),
                    // an extended message. A piece was never asked for.
                    let id = buf.get(4).copied();
                    let skippable = matches!(id, None | Some(5) | Some(20));
                    if declared > MAX_SKIP || !skippable {
                        break Err("message too long");
                    }
                    if id.is_none() {
                        break Ok(()); // wait for the id byte
                    }
                    self.skip = peer::skip_len(declared);
                    progress = true;
                }
                Ok(Frame::Message { len }) => {
                    let msg = match peer::parse_message(&buf[..len]) {
                        Ok(m) => m,
                        Err(_) => break Err("malformed message"),
                    };
                    if let Err(e) = self.on_message(msg, outbuf, sh) {
                        break Err(e);
                    }
                    at += len;
                    progress = true;
                }
            }
        };
        inbuf.copy_within(at..self.in_len, 0);
        self.in_len -= at;
        result.map(|()| progress)
    }

    /// Consumes the peer's handshake from `buf` once it is complete enough; returns the bytes
    /// consumed (0: wait for more).
    fn handshake(
        &mut self,
        buf: &[u8],
        outbuf: &mut [u8],
        sh: &mut Shared,
    ) -> Result<usize, &'static str> {
        if self.torrent.is_none() {
            let Some(hash) = peer::parse_handshake_prefix(buf).map_err(|_| "not BitTorrent")?
            else {
                return Ok(0);
            };
            let Some(slot) = sh.torrents.find(&hash) else {
                return Err("a torrent we do not seed");
            };
            self.torrent = Some((slot, hash));
            let peer_id = sh.peer_id;
            self.put_ctl(outbuf, |o| {
                peer::put_handshake(o, hash, peer_id, true, true)
            });
        }
        let Some(h) = peer::parse_handshake(buf).map_err(|_| "not BitTorrent")? else {
            return Ok(0);
        };
        if Some(h.info_hash) != self.torrent.map(|t| t.1) {
            return Err("handshake for another torrent");
        }
        if h.peer_id == *sh.peer_id {
            return Err("connected to ourselves");
        }
        let Some(t) = self.slot(sh.torrents).and_then(|s| sh.torrents.get(s)) else {
            return Err("torrent no longer seeded");
        };
        self.fast = h.supports_fast();
        self.extensions = h.supports_extensions();
        self.phase = Phase::Active;
        let (info_len, port, client) = (t.info_len, self.advertised_port(sh), sh.client);
        if self.fast {
            self.put_ctl(outbuf, peer::put_have_all);
        } else {
            // The bitfield goes first (after what is in the control half now: our
            // handshake), then the extension handshake.
            self.sending = Sending::Bitfield { at: 0 };
            if self.ctl_len > 0 && self.out_len == 0 {
                outbuf.copy_within(WIRE_LEN..WIRE_LEN + self.ctl_len, 0);
                self.out_len = self.ctl_len;
                self.ctl_len = 0;
            }
        }
        if self.extensions {
            if self.fast {
                self.put_ctl(outbuf, |o| {
                    extension::put_handshake_message(
                        o,
                        Some(OUR_UT_METADATA),
                        Some(info_len),
                        client,
                        port,
                        REQQ,
                    )
                });
            } else {
                self.ext_pending = true;
            }
        }
        Ok(peer::HANDSHAKE_LEN)
    }

    /// Answers one message.
    fn on_message(
        &mut self,
        msg: Message<'_>,
        outbuf: &mut [u8],
        sh: &mut Shared,
    ) -> Result<(), &'static str> {
        let Some(slot) = self.slot(sh.torrents) else {
            return Err("torrent no longer seeded");
        };
        let Some(t) = sh.torrents.get(slot) else {
            return Err("torrent no longer seeded");
        };
        let mut o = Out::new(&mut outbuf[WIRE_LEN + self.ctl_len..]);
        match msg {
            Message::Interested => {
                self.interested = true;
                sh.interest_changed = true;
            }
            Message::NotInterested => {
                self.interested = false;
                sh.interest_changed = true;
            }
            Message::HaveAll => return Err("a seed (nothing to give it)"),
            Message::Bitfield(bits) if all_ones(bits, t.piece_count) => {
                return Err("a seed (nothing to give it)")
            }
            Message::Request(b) => {
                let valid = peer::check_request(&b, t.piece_count, t.piece_length, t.total_len);
                if valid.is_err() && !self.fast {
                    return Err("invalid request");
                }
                if valid.is_err() || self.am_choking || self.requests.is_full() {
                    sh.rejected += 1;
                    if self.fast {
                        peer::put_reject(&mut o, &b);
                    }
                } else {
                    let _ = self.requests.push_back(b);
                }
            }
            Message::Cancel(b) => {
                let mut kept: Deque<Block, MAX_REQUESTS> = Deque::new();
                let mut found = false;
                while let Some(r) = self.requests.pop_front() {
                    if r == b {
                        found = true;
                    } else {
                        let _ = kept.push_back(r);
                    }
                }
                // BEP 6: a cancelled request is answered, with a reject.
                if found && self.fast {
                    peer::put_reject(&mut o, &b);
                }
                self.requests = kept;
            }
            Message::Piece { .. } => return Err("sent a piece we did not ask for"),
            Message::Extended { id: 0, payload } => {
                let h =
                    extension::parse_handshake(payload).map_err(|_| "bad extension handshake")?;
                self.peer_ut_metadata = h.ut_metadata;
                self.listen_addr = h.listen_port.map(|p| SocketAddr::new(self.addr.ip(), p));
                if h.upload_only {
                    return Err("a seed (nothing to give it)");
                }
            }
            Message::Extended {
                id: OUR_UT_METADATA,
                payload,
            } => {
                let Some(peer_id) = self.peer_ut_metadata else {
                    return Err("ut_metadata without a handshake");
                };
                match extension::parse_metadata(payload) {
                    Ok((MetadataMsg::Request { piece }, _)) => {
                        let exists = extension::metadata_piece_len(t.info_len, piece).is_some();
                        if !exists || self.metadata_requests.push_back(piece).is_err() {
                            extension::put_metadata_reject(&mut o, peer_id, piece);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return Err("bad ut_metadata message"),
                }
            }
            // Choke, unchoke, have, have_none, port, suggest, reject, allowed_fast, other
            // extended messages, unknown ids: nothing for a seeder to do.
            _ => {}
        }
        if !o.is_overflow() {
            self.ctl_len += o.len();
        }
        Ok(())
    }

    /// Unchokes or chokes; on choking, queued requests are rejected (fast) or forgotten.
    pub fn set_choking(&mut self, choke: bool, outbuf: &mut [u8], now: Instant) {
        if choke == self.am_choking || self.phase != Phase::Active {
            return;
        }
        self.am_choking = choke;
        if choke {
            self.put_ctl(outbuf, peer::put_choke);
            while let Some(b) = self.requests.pop_front() {
                if self.fast {
                    self.put_ctl(outbuf, |o| peer::put_reject(o, &b));
                }
            }
        } else {
            self.put_ctl(outbuf, peer::put_unchoke);
            self.unchoked_at = now;
        }
    }

    /// Whether the connection has been silent or stuck too long.
    pub fn timed_out(&self, now: Instant) -> Option<&'static str> {
        if self.phase != Phase::Active && now.duration_since(self.started) > HANDSHAKE_TIMEOUT {
            return Some("handshake timeout");
        }
        if now.duration_since(self.last_recv) > IDLE_TIMEOUT {
            return Some("idle");
        }
        None
    }
}

/// Whether a peer's bitfield has every piece of a `piece_count`-piece torrent.
fn all_ones(bits: &[u8], piece_count: u32) -> bool {
    let full = (piece_count / 8) as usize;
    let rest = piece_count % 8;
    if bits.len() != peer::bitfield_len(piece_count) {
        return false;
    }
    bits[..full].iter().all(|&b| b == 0xff) && (rest == 0 || bits[full] == 0xffu8 << (8 - rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_recognised_by_their_bitfield() {
        assert!(all_ones(&[0xff], 8));
        assert!(all_ones(&[0xff, 0x80], 9));
        assert!(!all_ones(&[0xff, 0x00], 9));
        assert!(!all_ones(&[0xff], 9));
        assert!(all_ones(&[0xe0], 3));
        assert!(!all_ones(&[0xc0], 3));
    }
}
