//! BEP 3 peer wire protocol with the BEP 6 fast extension, for a seeder: the handshake, message
//! framing, message parsing, the messages a seeder sends, and the check of a block request.
//!
//! All integers are big-endian. After the 68-byte handshake every message is a 4-byte length
//! prefix then that many bytes: a 1-byte message id and its body (a length of 0 is a
//! keep-alive).
//!
//! # Buffering
//! A seeder never downloads, so the only messages it must read whole are small: requests,
//! cancels, state changes, the extension handshake and `ut_metadata` requests.
//! [`frame`] looks at the length prefix as soon as its 4 bytes are there, and reports any
//! message longer than the caller's limit as [`Frame::TooLong`], to be skipped as it streams
//! past (or the peer dropped), so a connection needs only a buffer of
//! [`MAX_CONTROL_FRAME_LEN`] bytes. A fixed-size message that declares another length is an
//! error as soon as its id byte arrives.
//!
//! The parsers do not know what was negotiated: a BEP 6 message from a peer without the fast
//! bit, or an extended message from a peer without the extension bit, parses like any other;
//! the connection decides.

use super::{Error, Out};
use crate::ids::InfoHash;

/// The protocol string after its length byte.
pub const PSTR: &[u8; 19] = b"BitTorrent protocol";
/// Length of the handshake: pstrlen, pstr, 8 reserved bytes, info hash, peer id.
pub const HANDSHAKE_LEN: usize = 68;
/// Length of the handshake up to the end of the info hash (what [`parse_handshake_prefix`]
/// needs).
pub const HANDSHAKE_PREFIX_LEN: usize = 48;

/// The largest length prefix (message id and body) a seeder buffers: 1 KiB. It holds every
/// message a seeder acts on — the fixed-size ones (at most 13 bytes), the BEP 10 extension
/// handshake (a few hundred bytes from libtorrent, Transmission, aria2 or BiglyBT) and
/// `ut_metadata` requests (about 30 bytes) — and a peer's bitfield for up to 8,184 pieces.
/// Longer messages are skipped as they arrive: `piece` (a seeder never requests), `ut_metadata`
/// data (a seeder has the metadata), `ut_pex` lists and larger bitfields (a seeder needs no
/// peer's pieces; a skipped bitfield only means we do not learn that the peer is a seed).
pub const MAX_CONTROL_LEN: u32 = 1024;
/// The buffer a connection needs for any message up to [`MAX_CONTROL_LEN`]: the prefix too.
pub const MAX_CONTROL_FRAME_LEN: usize = 4 + MAX_CONTROL_LEN as usize;

/// The largest block we serve: 16 KiB, the block size of BEP 3 and what every client requests.
pub const MAX_BLOCK_LEN: u32 = 16 * 1024;

/// Message ids.
pub mod id {
    pub const CHOKE: u8 = 0;
    pub const UNCHOKE: u8 = 1;
    pub const INTERESTED: u8 = 2;
    pub const NOT_INTERESTED: u8 = 3;
    pub const HAVE: u8 = 4;
    pub const BITFIELD: u8 = 5;
    pub const REQUEST: u8 = 6;
    pub const PIECE: u8 = 7;
    pub const CANCEL: u8 = 8;
    /// BEP 5: the peer's DHT port.
    pub const PORT: u8 = 9;
    /// BEP 6 fast extension.
    pub const SUGGEST: u8 = 0x0d;
    pub const HAVE_ALL: u8 = 0x0e;
    pub const HAVE_NONE: u8 = 0x0f;
    pub const REJECT: u8 = 0x10;
    pub const ALLOWED_FAST: u8 = 0x11;
    /// BEP 10 extension protocol.
    pub const EXTENDED: u8 = 20;
}

/// A peer's handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake {
    pub reserved: [u8; 8],
    pub info_hash: InfoHash,
    pub peer_id: [u8; 20],
}

impl Handshake {
    /// BEP 6 fast extension.
    pub fn supports_fast(&self) -> bool {
        self.reserved[7] & 0x04 != 0
    }
    /// BEP 10 extension protocol.
    pub fn supports_extensions(&self) -> bool {
        self.reserved[5] & 0x10 != 0
    }
    /// BEP 5 DHT (the peer may send `port`).
    pub fn supports_dht(&self) -> bool {
        self.reserved[7] & 0x01 != 0
    }
}

/// Checks the protocol string in however much of it `buf` holds: an error from the first
/// wrong byte.
fn check_pstr(buf: &[u8]) -> Result<(), Error> {
    let n = buf.len().min(1 + PSTR.len());
    if n == 0 {
        return Ok(());
    }
    if buf[0] as usize != PSTR.len() || buf[1..n] != PSTR[..n - 1] {
        return Err(Error::BadMagic);
    }
    Ok(())
}

fn info_hash_at(buf: &[u8]) -> InfoHash {
    let mut h = [0u8; 20];
    h.copy_from_slice(&buf[28..48]);
    InfoHash(h)
}

/// The info hash of an incoming handshake once its first 48 bytes are there (`Ok(None)`
/// before), so the torrent is found before the peer id arrives: some clients send their peer
/// id only after our handshake. `BadMagic` as soon as a byte of the protocol string is wrong.
pub fn parse_handshake_prefix(buf: &[u8]) -> Result<Option<InfoHash>, Error> {
    check_pstr(buf)?;
    if buf.len() < HANDSHAKE_PREFIX_LEN {
        return Ok(None);
    }
    Ok(Some(info_hash_at(buf)))
}

/// The whole handshake once its 68 bytes are there (`Ok(None)` before; bytes after it are the
/// first messages and are not looked at). `BadMagic` as soon as a byte of the protocol string
/// is wrong.
pub fn parse_handshake(buf: &[u8]) -> Result<Option<Handshake>, Error> {
    check_pstr(buf)?;
    if buf.len() < HANDSHAKE_LEN {
        return Ok(None);
    }
    let mut reserved = [0u8; 8];
    reserved.copy_from_slice(&buf[20..28]);
    let mut peer_id = [0u8; 20];
    peer_id.copy_from_slice(&buf[48..68]);
    Ok(Some(Handshake {
        reserved,
        info_hash: info_hash_at(buf),
        peer_id,
    }))
}

/// Our handshake (68 bytes), announcing the fast extension and the extension protocol as asked.
pub fn put_handshake(
    out: &mut Out<'_>,
    info_hash: InfoHash,
    peer_id: &[u8; 20],
    fast: bool,
    extensions: bool,
) {
    let mut reserved = [0u8; 8];
    if extensions {
        reserved[5] |= 0x10;
    }
    if fast {
        reserved[7] |= 0x04;
    }
    out.put(&[PSTR.len() as u8]);
    out.put(PSTR);
    out.put(&reserved);
    out.put(&info_hash.0);
    out.put(peer_id);
}

/// A block of a piece: `request`, `cancel` and `reject` name one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub index: u32,
    pub begin: u32,
    pub length: u32,
}

/// A message, borrowed from its frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    KeepAlive,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have(u32),
    Bitfield(&'a [u8]),
    Request(Block),
    Piece {
        index: u32,
        begin: u32,
        data: &'a [u8],
    },
    Cancel(Block),
    /// BEP 5: the peer's DHT port.
    Port(u16),
    Suggest(u32),
    HaveAll,
    HaveNone,
    Reject(Block),
    AllowedFast(u32),
    /// BEP 10: `id` is the extended message id (0 for the extension handshake, else one we
    /// gave in our handshake's `m`); `payload` is what follows it.
    Extended {
        id: u8,
        payload: &'a [u8],
    },
    /// An id we do not know; BEP 3 says to ignore it. Its body is not kept.
    Unknown {
        id: u8,
    },
}

/// What [`frame`] found at the start of a receive buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The buffer holds less than one message: `needed` is the total number of bytes the
    /// message takes (4 until the length prefix is there, then 4 plus the length, at most
    /// 4 + `max_len`).
    Incomplete { needed: usize },
    /// A whole message of `len` bytes (4 + its length prefix) starts the buffer; pass
    /// `&buf[..len]` to [`parse_message`].
    Message { len: usize },
    /// The length prefix says `declared` bytes, more than `max_len`: skip `4 + declared` bytes
    /// as they arrive (see [`skip_len`]) or drop the peer.
    TooLong { declared: u32 },
}

/// How long a message with this id may be (its length prefix, the id included).
#[derive(Clone, Copy)]
enum LenRule {
    Exact(u32),
    AtLeast(u32),
}

fn len_rule(message_id: u8) -> LenRule {
    match message_id {
        id::CHOKE | id::UNCHOKE | id::INTERESTED | id::NOT_INTERESTED => LenRule::Exact(1),
        id::HAVE_ALL | id::HAVE_NONE => LenRule::Exact(1),
        id::HAVE | id::SUGGEST | id::ALLOWED_FAST => LenRule::Exact(5),
        id::REQUEST | id::CANCEL | id::REJECT => LenRule::Exact(13),
        id::PORT => LenRule::Exact(3),
        id::PIECE => LenRule::AtLeast(9),
        id::EXTENDED => LenRule::AtLeast(2),
        _ => LenRule::AtLeast(1),
    }
}

/// `Truncated` when a message with `message_id` is shorter than its fixed part, `TooLong` when
/// a fixed-size one is longer.
fn check_len(message_id: u8, declared: u32) -> Result<(), Error> {
    match len_rule(message_id) {
        LenRule::Exact(n) | LenRule::AtLeast(n) if declared < n => Err(Error::Truncated),
        LenRule::Exact(n) if declared > n => Err(Error::TooLong),
        _ => Ok(()),
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(a)
}

/// Finds the first message in `buf` (which starts at a message boundary). `max_len` bounds the
/// length prefix of a message the caller will buffer (see [`MAX_CONTROL_LEN`]); longer ones are
/// [`Frame::TooLong`] as soon as the prefix is there, whatever their id. A message within
/// `max_len` whose id has a fixed size and whose prefix says another is an error as soon as the
/// id byte is there (`Truncated` if shorter, `TooLong` if longer).
pub fn frame(buf: &[u8], max_len: u32) -> Result<Frame, Error> {
    if buf.len() < 4 {
        return Ok(Frame::Incomplete { needed: 4 });
    }
    let declared = be32(buf, 0);
    if declared > max_len {
        return Ok(Frame::TooLong { declared });
    }
    // A keep-alive has no id: the byte after it starts the next message.
    if let (true, Some(&message_id)) = (declared > 0, buf.get(4)) {
        check_len(message_id, declared)?;
    }
    // Saturating: on a 32-bit target a `max_len` near `u32::MAX` could overflow `usize`.
    let len = (declared as usize).saturating_add(4);
    if buf.len() < len {
        Ok(Frame::Incomplete { needed: len })
    } else {
        Ok(Frame::Message { len })
    }
}

/// The bytes a message with length prefix `declared` takes on the wire, prefix included (what
/// to skip after [`Frame::TooLong`]).
pub fn skip_len(declared: u32) -> u64 {
    4 + u64::from(declared)
}

/// Parses one whole message: `frame_bytes` is the length prefix and exactly the bytes it
/// declares (`Truncated` if fewer, `TooLong` if more). Every fixed-size message must have its
/// exact length.
pub fn parse_message(frame_bytes: &[u8]) -> Result<Message<'_>, Error> {
    if frame_bytes.len() < 4 {
        return Err(Error::Truncated);
    }
    let declared = be32(frame_bytes, 0);
    let body = &frame_bytes[4..];
    match u64::from(declared).cmp(&(body.len() as u64)) {
        std::cmp::Ordering::Greater => return Err(Error::Truncated),
        std::cmp::Ordering::Less => return Err(Error::TooLong),
        std::cmp::Ordering::Equal => {}
    }
    let Some((&message_id, p)) = body.split_first() else {
        return Ok(Message::KeepAlive);
    };
    check_len(message_id, declared)?;
    let block = || Block {
        index: be32(p, 0),
        begin: be32(p, 4),
        length: be32(p, 8),
    };
    Ok(match message_id {
        id::CHOKE => Message::Choke,
        id::UNCHOKE => Message::Unchoke,
        id::INTERESTED => Message::Interested,
        id::NOT_INTERESTED => Message::NotInterested,
        id::HAVE => Message::Have(be32(p, 0)),
        id::BITFIELD => Message::Bitfield(p),
        id::REQUEST => Message::Request(block()),
        id::PIECE => Message::Piece {
            index: be32(p, 0),
            begin: be32(p, 4),
            data: &p[8..],
        },
        id::CANCEL => Message::Cancel(block()),
        id::PORT => Message::Port(u16::from_be_bytes([p[0], p[1]])),
        id::SUGGEST => Message::Suggest(be32(p, 0)),
        id::HAVE_ALL => Message::HaveAll,
        id::HAVE_NONE => Message::HaveNone,
        id::REJECT => Message::Reject(block()),
        id::ALLOWED_FAST => Message::AllowedFast(be32(p, 0)),
        id::EXTENDED => Message::Extended {
            id: p[0],
            payload: &p[1..],
        },
        other => Message::Unknown { id: other },
    })
}

/// A length prefix for `body` bytes after an id byte (saturating: callers pass block, bitfield
/// and payload lengths far below 4 GiB).
fn prefix(body: usize) -> [u8; 4] {
    u32::try_from(body)
        .unwrap_or(u32::MAX)
        .saturating_add(1)
        .to_be_bytes()
}

fn put_header(out: &mut Out<'_>, message_id: u8, body: usize) {
    out.put(&prefix(body));
    out.put(&[message_id]);
}

fn put_block(out: &mut Out<'_>, message_id: u8, b: &Block) {
    put_header(out, message_id, 12);
    out.put(&b.index.to_be_bytes());
    out.put(&b.begin.to_be_bytes());
    out.put(&b.length.to_be_bytes());
}

fn put_u32_message(out: &mut Out<'_>, message_id: u8, v: u32) {
    put_header(out, message_id, 4);
    out.put(&v.to_be_bytes());
}

/// Any message, whole (the body of [`Message::Unknown`] is empty). The seeder's own messages
/// have shorter writers below.
pub fn put_message(out: &mut Out<'_>, m: &Message<'_>) {
    match *m {
        Message::KeepAlive => put_keep_alive(out),
        Message::Choke => put_header(out, id::CHOKE, 0),
        Message::Unchoke => put_header(out, id::UNCHOKE, 0),
        Message::Interested => put_header(out, id::INTERESTED, 0),
        Message::NotInterested => put_header(out, id::NOT_INTERESTED, 0),
        Message::Have(i) => put_u32_message(out, id::HAVE, i),
        Message::Bitfield(bits) => {
            put_header(out, id::BITFIELD, bits.len());
            out.put(bits);
        }
        Message::Request(b) => put_block(out, id::REQUEST, &b),
        Message::Piece { index, begin, data } => {
            put_header(out, id::PIECE, 8 + data.len());
            out.put(&index.to_be_bytes());
            out.put(&begin.to_be_bytes());
            out.put(data);
        }
        Message::Cancel(b) => put_block(out, id::CANCEL, &b),
        Message::Port(port) => {
            put_header(out, id::PORT, 2);
            out.put(&port.to_be_bytes());
        }
        Message::Suggest(i) => put_u32_message(out, id::SUGGEST, i),
        Message::HaveAll => put_have_all(out),
        Message::HaveNone => put_have_none(out),
        Message::Reject(b) => put_reject(out, &b),
        Message::AllowedFast(i) => put_u32_message(out, id::ALLOWED_FAST, i),
        Message::Extended { id, payload } => {
            put_extended(out, id, u32::try_from(payload.len()).unwrap_or(u32::MAX));
            out.put(payload);
        }
        Message::Unknown { id } => put_header(out, id, 0),
    }
}

/// `keep-alive`: a zero length prefix.
pub fn put_keep_alive(out: &mut Out<'_>) {
    out.put(&[0; 4]);
}

pub fn put_choke(out: &mut Out<'_>) {
    put_header(out, id::CHOKE, 0);
}

pub fn put_unchoke(out: &mut Out<'_>) {
    put_header(out, id::UNCHOKE, 0);
}

/// BEP 6 `have all` (only to a peer that set the fast bit; else send [`put_bitfield_all`]).
pub fn put_have_all(out: &mut Out<'_>) {
    put_header(out, id::HAVE_ALL, 0);
}

/// BEP 6 `have none`.
pub fn put_have_none(out: &mut Out<'_>) {
    put_header(out, id::HAVE_NONE, 0);
}

/// BEP 6 `reject request`: echoes the refused request.
pub fn put_reject(out: &mut Out<'_>, b: &Block) {
    put_block(out, id::REJECT, b);
}

/// Length of a `piece` message header: prefix, id, index, begin.
pub const PIECE_HEADER_LEN: usize = 13;

/// The 13 bytes of a `piece` message before its `length` bytes of block data (which the
/// caller sends next, straight from the file).
pub fn put_piece_header(out: &mut Out<'_>, index: u32, begin: u32, length: u32) {
    out.put(&9u32.saturating_add(length).to_be_bytes());
    out.put(&[id::PIECE]);
    out.put(&index.to_be_bytes());
    out.put(&begin.to_be_bytes());
}

/// Length of an extended message header: prefix, id 20, extended id.
pub const EXTENDED_HEADER_LEN: usize = 6;

/// The 6 bytes of an extended message before its `payload_len` bytes of payload (which the
/// caller writes next).
pub fn put_extended(out: &mut Out<'_>, extended_id: u8, payload_len: u32) {
    out.put(&2u32.saturating_add(payload_len).to_be_bytes());
    out.put(&[id::EXTENDED, extended_id]);
}

/// Bytes of a bitfield for `piece_count` pieces (one bit each, rounded up).
pub fn bitfield_len(piece_count: u32) -> usize {
    piece_count.div_ceil(8) as usize
}

/// Bytes of the whole `bitfield` message for `piece_count` pieces: prefix, id, bitfield.
pub fn bitfield_message_len(piece_count: u32) -> usize {
    5 + bitfield_len(piece_count)
}

/// Byte `at` of the bitfield message saying we have all `piece_count` pieces (`at` below
/// [`bitfield_message_len`]).
fn bitfield_all_byte(piece_count: u32, at: usize) -> u8 {
    let bits = bitfield_len(piece_count);
    match at {
        0..=3 => prefix(bits)[at],
        4 => id::BITFIELD,
        _ if at == 4 + bits => {
            // The last byte: its spare low bits stay zero, as BEP 3 requires.
            let spare = (8 - piece_count % 8) % 8;
            0xffu8 << spare
        }
        _ => 0xff,
    }
}

/// The `bitfield` message saying we have all `piece_count` pieces, whole (the spare bits of its
/// last byte zero). A bitfield larger than the free space of `out` is written as far as it
/// fits and `out` reports overflow; stream it with [`put_bitfield_all_from`] instead.
pub fn put_bitfield_all(out: &mut Out<'_>, piece_count: u32) {
    if put_bitfield_all_from(out, piece_count, 0) < bitfield_message_len(piece_count) {
        // `out` is full now: this marks the overflow.
        out.put(&[0]);
    }
}

/// Writes the bytes of [`put_bitfield_all`]'s message from byte `offset` of the whole message,
/// as many as fit in `out`, and returns how many it wrote (0 once `offset` reaches
/// [`bitfield_message_len`]). Call again with `offset` advanced by the result until it
/// returns 0, to send a large bitfield through a small buffer.
pub fn put_bitfield_all_from(out: &mut Out<'_>, piece_count: u32, offset: usize) -> usize {
    let total = bitfield_message_len(piece_count);
    let mut written = 0;
    out.fill(|free| {
        let n = free.len().min(total.saturating_sub(offset));
        let dst = &mut free[..n];
        // The header (5 bytes) and the last byte differ; everything between is 0xff.
        let last = total - 1;
        let mid_start = 5;
        for (i, b) in dst.iter_mut().enumerate() {
            let at = offset + i;
            if at >= mid_start {
                break;
            }
            *b = bitfield_all_byte(piece_count, at);
        }
        let from = mid_start.saturating_sub(offset).min(n);
        let to = last.saturating_sub(offset).min(n).max(from);
        dst[from..to].fill(0xff);
        if last >= mid_start && last >= offset && last - offset < n {
            dst[last - offset] = bitfield_all_byte(piece_count, last);
        }
        written = n;
        n
    });
    written
}

/// Why a request is refused (BEP 6 peers get a `reject`, others are ignored or dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// A block of no bytes.
    ZeroLength,
    /// More than [`MAX_BLOCK_LEN`] (16 KiB). BEP 3 says 16 KiB; some clients serve up to
    /// 128 KiB, but every current client requests 16 KiB, and libtorrent and Transmission
    /// refuse longer requests too.
    TooLong,
    /// No such piece.
    BadIndex,
    /// `begin + length` goes past the end of the piece (the last piece is shorter).
    OutOfRange,
}

/// Checks a request (or cancel) against the torrent: `piece_count` pieces of `piece_length`
/// bytes, the last one shorter, `total_len` bytes in all.
pub fn check_request(
    b: &Block,
    piece_count: u32,
    piece_length: u32,
    total_len: u64,
) -> Result<(), RequestError> {
    if b.length == 0 {
        return Err(RequestError::ZeroLength);
    }
    if b.length > MAX_BLOCK_LEN {
        return Err(RequestError::TooLong);
    }
    if b.index >= piece_count {
        return Err(RequestError::BadIndex);
    }
    let start = u64::from(b.index) * u64::from(piece_length);
    let this_piece = u64::from(piece_length).min(total_len.saturating_sub(start));
    if u64::from(b.begin) + u64::from(b.length) > this_piece {
        return Err(RequestError::OutOfRange);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Emits with `f` into a fresh buffer and returns the bytes.
    fn emit(f: impl FnOnce(&mut Out<'_>)) -> Vec<u8> {
        let mut buf = vec![0u8; 1 << 18];
        let mut o = Out::new(&mut buf);
        f(&mut o);
        assert!(!o.is_overflow());
        o.written().to_vec()
    }

    const BLOCK: Block = Block {
        index: 0x0102_0304,
        begin: 0x4000,
        length: 0x4000,
    };

    fn every_message() -> Vec<Message<'static>> {
        vec![
            Message::KeepAlive,
            Message::Choke,
            Message::Unchoke,
            Message::Interested,
            Message::NotInterested,
            Message::Have(7),
            Message::Bitfield(&[0xff, 0xe0]),
            Message::Bitfield(&[]),
            Message::Request(BLOCK),
            Message::Piece {
                index: 3,
                begin: 16384,
                data: b"block data",
            },
            Message::Piece {
                index: 3,
                begin: 0,
                data: b"",
            },
            Message::Cancel(BLOCK),
            Message::Port(6881),
            Message::Suggest(u32::MAX),
            Message::HaveAll,
            Message::HaveNone,
            Message::Reject(BLOCK),
            Message::AllowedFast(0),
            Message::Extended {
                id: 0,
                payload: b"d1:md11:ut_metadatai3eee",
            },
            Message::Extended {
                id: 3,
                payload: b"",
            },
            Message::Unknown { id: 0x12 },
            Message::Unknown { id: 0xff },
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for m in every_message() {
            let bytes = emit(|o| put_message(o, &m));
            assert_eq!(
                frame(&bytes, u32::MAX),
                Ok(Frame::Message { len: bytes.len() }),
                "{m:?}"
            );
            assert_eq!(parse_message(&bytes), Ok(m));
            // Followed by more bytes, the frame is still just this message.
            let mut more = bytes.clone();
            more.extend_from_slice(&[0, 0, 0, 9, 1]);
            assert_eq!(
                frame(&more, u32::MAX),
                Ok(Frame::Message { len: bytes.len() })
            );
        }
    }

    #[test]
    fn seeder_writers_match_the_general_one() {
        let same = |a: Vec<u8>, m: Message<'_>| assert_eq!(a, emit(|o| put_message(o, &m)));
        same(emit(put_keep_alive), Message::KeepAlive);
        same(emit(put_choke), Message::Choke);
        same(emit(put_unchoke), Message::Unchoke);
        same(emit(put_have_all), Message::HaveAll);
        same(emit(put_have_none), Message::HaveNone);
        same(emit(|o| put_reject(o, &BLOCK)), Message::Reject(BLOCK));
        let data = [7u8; 100];
        let piece = emit(|o| {
            put_piece_header(o, 9, 32768, 100);
            assert_eq!(o.len(), PIECE_HEADER_LEN);
            o.put(&data);
        });
        same(
            piece,
            Message::Piece {
                index: 9,
                begin: 32768,
                data: &data,
            },
        );
        let ext = emit(|o| {
            put_extended(o, 5, 3);
            assert_eq!(o.len(), EXTENDED_HEADER_LEN);
            o.put(b"abc");
        });
        same(
            ext,
            Message::Extended {
                id: 5,
                payload: b"abc",
            },
        );
        assert_eq!(emit(put_unchoke), [0, 0, 0, 1, 1]);
        assert_eq!(
            emit(|o| put_reject(o, &BLOCK)),
            [0, 0, 0, 13, 0x10, 1, 2, 3, 4, 0, 0, 0x40, 0, 0, 0, 0x40, 0]
        );
    }

    #[test]
    fn every_truncation_is_incomplete_or_an_error() {
        let mut stream = Vec::new();
        for m in every_message() {
            let bytes = emit(|o| put_message(o, &m));
            for k in 0..bytes.len() {
                match frame(&bytes[..k], u32::MAX) {
                    Ok(Frame::Incomplete { needed }) => {
                        assert!(needed > k);
                        assert!(needed <= bytes.len());
                    }
                    other => panic!("{m:?} cut at {k}: {other:?}"),
                }
                assert!(parse_message(&bytes[..k]).is_err());
            }
            stream.extend_from_slice(&bytes);
        }
        // The messages back to back read back in order.
        let mut at = 0;
        let mut got = Vec::new();
        while at < stream.len() {
            let Ok(Frame::Message { len }) = frame(&stream[at..], MAX_CONTROL_LEN) else {
                panic!("at {at}")
            };
            got.push(parse_message(&stream[at..at + len]).unwrap());
            at += len;
        }
        assert_eq!(got, every_message());
    }

    #[test]
    fn wrong_fixed_lengths_are_errors() {
        let fixed: [(u8, u32); 14] = [
            (id::CHOKE, 1),
            (id::UNCHOKE, 1),
            (id::INTERESTED, 1),
            (id::NOT_INTERESTED, 1),
            (id::HAVE, 5),
            (id::REQUEST, 13),
            (id::CANCEL, 13),
            (id::PORT, 3),
            (id::SUGGEST, 5),
            (id::HAVE_ALL, 1),
            (id::HAVE_NONE, 1),
            (id::REJECT, 13),
            (id::ALLOWED_FAST, 5),
            (id::PIECE, 9),
        ];
        for (message_id, right) in fixed {
            for declared in 1..=40u32 {
                let mut bytes = declared.to_be_bytes().to_vec();
                bytes.push(message_id);
                bytes.resize(4 + declared as usize, 0);
                let exact = declared == right;
                let at_least = message_id == id::PIECE && declared >= right;
                if exact || at_least {
                    assert!(parse_message(&bytes).is_ok());
                    continue;
                }
                let want = if declared < right {
                    Error::Truncated
                } else {
                    Error::TooLong
                };
                assert_eq!(parse_message(&bytes), Err(want), "{message_id} {declared}");
                // `frame` refuses it from its id byte on.
                assert_eq!(
                    frame(&bytes[..4], 64),
                    Ok(Frame::Incomplete {
                        needed: bytes.len()
                    })
                );
                for k in 5..=bytes.len() {
                    assert_eq!(frame(&bytes[..k], 64), Err(want));
                }
            }
        }
        // An extended message needs its extended id.
        assert_eq!(parse_message(&[0, 0, 0, 1, 20]), Err(Error::Truncated));
        assert_eq!(frame(&[0, 0, 0, 1, 20], 64), Err(Error::Truncated));
        // A frame must be exactly what its prefix says.
        assert_eq!(parse_message(&[0, 0, 0, 1, 1, 0]), Err(Error::TooLong));
        assert_eq!(parse_message(&[0, 0, 0, 2, 1]), Err(Error::Truncated));
        assert_eq!(parse_message(&[0, 0, 0]), Err(Error::Truncated));
    }

    #[test]
    fn long_messages_are_reported_from_their_prefix() {
        let big = (MAX_CONTROL_LEN + 1).to_be_bytes();
        assert_eq!(
            frame(&big, MAX_CONTROL_LEN),
            Ok(Frame::TooLong {
                declared: MAX_CONTROL_LEN + 1
            })
        );
        // Whatever the id, even a fixed-size one.
        let mut have = u32::MAX.to_be_bytes().to_vec();
        have.push(id::HAVE);
        assert_eq!(
            frame(&have, MAX_CONTROL_LEN),
            Ok(Frame::TooLong { declared: u32::MAX })
        );
        assert_eq!(skip_len(u32::MAX), 4 + u64::from(u32::MAX));
        // At the limit it is buffered: Incomplete asks for no more than 4 + max_len.
        let at = MAX_CONTROL_LEN.to_be_bytes();
        assert_eq!(
            frame(&at, MAX_CONTROL_LEN),
            Ok(Frame::Incomplete {
                needed: MAX_CONTROL_FRAME_LEN
            })
        );
        // A 16 KiB ut_metadata piece, a piece message and a big bitfield are skipped.
        let mut meta = emit(|o| put_extended(o, 2, 16 * 1024 + 40));
        meta.truncate(5);
        assert!(matches!(
            frame(&meta, MAX_CONTROL_LEN),
            Ok(Frame::TooLong { .. })
        ));
        let bf = emit(|o| put_bitfield_all(o, 8 * 1024 * 8 + 1));
        assert!(matches!(
            frame(&bf, MAX_CONTROL_LEN),
            Ok(Frame::TooLong { .. })
        ));
        let bf = emit(|o| put_bitfield_all(o, 8184));
        assert_eq!(
            frame(&bf, MAX_CONTROL_LEN),
            Ok(Frame::Message {
                len: MAX_CONTROL_FRAME_LEN
            })
        );
    }

    /// Checks a bitfield message for `n` pieces: prefix, id, every piece's bit set, spare bits
    /// zero.
    fn check_bitfield_all(bytes: &[u8], n: u32) {
        assert_eq!(bytes.len(), bitfield_message_len(n));
        assert_eq!(bitfield_len(n), (n as usize).div_ceil(8));
        let Ok(Message::Bitfield(bits)) = parse_message(bytes) else {
            panic!("{n}")
        };
        assert_eq!(bits.len(), bitfield_len(n));
        for i in 0..bits.len() * 8 {
            let set = bits[i / 8] & (0x80 >> (i % 8)) != 0;
            assert_eq!(set, i < n as usize, "{n} pieces, bit {i}");
        }
    }

    #[test]
    fn bitfield_has_every_piece_and_zero_spare_bits() {
        for n in (0..=17).chain([63, 64, 65, 1000, 8191, 100_003, 1 << 20]) {
            let bytes = emit(|o| put_bitfield_all(o, n));
            check_bitfield_all(&bytes, n);
        }
        assert_eq!(emit(|o| put_bitfield_all(o, 1)), [0, 0, 0, 2, 5, 0x80]);
        assert_eq!(
            emit(|o| put_bitfield_all(o, 9)),
            [0, 0, 0, 3, 5, 0xff, 0x80]
        );
        assert_eq!(
            emit(|o| put_bitfield_all(o, 16)),
            [0, 0, 0, 3, 5, 0xff, 0xff]
        );
        assert_eq!(
            emit(|o| put_bitfield_all(o, 17)),
            [0, 0, 0, 4, 5, 0xff, 0xff, 0x80]
        );
        assert_eq!(emit(|o| put_bitfield_all(o, 7)), [0, 0, 0, 2, 5, 0xfe]);
    }

    /// The bitfield for `n` pieces through a buffer of `chunk` bytes, `put_bitfield_all_from` by
    /// `put_bitfield_all_from`, each call after `already` bytes of something else.
    fn streamed(n: u32, chunk: usize, already: usize) -> Vec<u8> {
        let mut whole = Vec::new();
        let mut offset = 0;
        loop {
            let mut buf = vec![0u8; already + chunk];
            let mut o = Out::new(&mut buf);
            o.put(&vec![0xaa; already]);
            let wrote = put_bitfield_all_from(&mut o, n, offset);
            assert_eq!(o.len(), already + wrote);
            assert!(!o.is_overflow());
            if wrote == 0 {
                return whole;
            }
            whole.extend_from_slice(&o.written()[already..]);
            offset += wrote;
        }
    }

    #[test]
    fn streamed_bitfield_equals_the_whole_one() {
        for n in (0..=40).chain([1000, 4099, 65537]) {
            let whole = emit(|o| put_bitfield_all(o, n));
            for chunk in 1..=7 {
                assert_eq!(streamed(n, chunk, 0), whole, "{n} pieces by {chunk}");
                assert_eq!(streamed(n, chunk, 2), whole, "{n} pieces by {chunk}");
            }
            assert_eq!(streamed(n, 1000, 0), whole);
            // Past the end nothing is written.
            let mut buf = [0u8; 8];
            let mut o = Out::new(&mut buf);
            assert_eq!(put_bitfield_all_from(&mut o, n, whole.len()), 0);
            assert_eq!(put_bitfield_all_from(&mut o, n, usize::MAX), 0);
            assert!(o.is_empty());
            // The one-shot writer into too small a buffer writes what fits and says overflow.
            for small in 0..whole.len() {
                let mut buf = vec![0u8; small];
                let mut o = Out::new(&mut buf);
                put_bitfield_all(&mut o, n);
                assert!(o.is_overflow());
                assert_eq!(o.written(), &whole[..small]);
            }
        }
    }

    fn handshake_bytes() -> Vec<u8> {
        emit(|o| put_handshake(o, InfoHash([0xaa; 20]), &[0xbb; 20], true, true))
    }

    #[test]
    fn handshake_round_trips() {
        let bytes = handshake_bytes();
        assert_eq!(bytes.len(), HANDSHAKE_LEN);
        assert_eq!(&bytes[..20], b"\x13BitTorrent protocol");
        assert_eq!(&bytes[20..28], &[0, 0, 0, 0, 0, 0x10, 0, 0x04]);
        let h = parse_handshake(&bytes).unwrap().unwrap();
        assert_eq!(h.info_hash, InfoHash([0xaa; 20]));
        assert_eq!(h.peer_id, [0xbb; 20]);
        assert!(h.supports_fast() && h.supports_extensions() && !h.supports_dht());
        for k in 0..HANDSHAKE_LEN {
            assert_eq!(parse_handshake(&bytes[..k]), Ok(None));
            let prefix = parse_handshake_prefix(&bytes[..k]).unwrap();
            assert_eq!(prefix.is_some(), k >= HANDSHAKE_PREFIX_LEN);
        }
        assert_eq!(
            parse_handshake_prefix(&bytes),
            Ok(Some(InfoHash([0xaa; 20])))
        );
        // Messages after the handshake are not its business.
        let mut more = bytes.clone();
        more.extend_from_slice(&[0, 0, 0, 1, 0x0e]);
        assert_eq!(parse_handshake(&more), Ok(Some(h)));
        let plain = emit(|o| put_handshake(o, InfoHash([1; 20]), &[2; 20], false, false));
        let h = parse_handshake(&plain).unwrap().unwrap();
        assert_eq!(h.reserved, [0; 8]);
        assert!(!h.supports_fast() && !h.supports_extensions());
        // A real client's reserved bytes (libtorrent: extensions, fast, DHT).
        let mut lt = plain.clone();
        lt[20..28].copy_from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 0x05]);
        let h = parse_handshake(&lt).unwrap().unwrap();
        assert!(h.supports_fast() && h.supports_extensions() && h.supports_dht());
    }

    #[test]
    fn wrong_protocol_string_is_refused_from_the_first_wrong_byte() {
        let good = handshake_bytes();
        for wrong_at in 0..20 {
            let mut bad = good.clone();
            bad[wrong_at] ^= 0x20;
            for k in 0..=HANDSHAKE_LEN {
                let want_error = k > wrong_at;
                assert_eq!(parse_handshake(&bad[..k]).is_err(), want_error);
                assert_eq!(parse_handshake_prefix(&bad[..k]).is_err(), want_error);
                if want_error {
                    assert_eq!(parse_handshake(&bad[..k]), Err(Error::BadMagic));
                }
            }
        }
        // An HTTP request or an encrypted (MSE) handshake is refused at its first byte.
        assert_eq!(parse_handshake(b"G"), Err(Error::BadMagic));
        assert_eq!(parse_handshake_prefix(&[0x8f]), Err(Error::BadMagic));
    }

    #[test]
    fn requests_are_checked_against_the_torrent() {
        // 3 pieces of 32 KiB, the last one 1000 bytes.
        let (count, plen, total) = (3, 32768, 2 * 32768 + 1000);
        let check = |index, begin, length| {
            check_request(
                &Block {
                    index,
                    begin,
                    length,
                },
                count,
                plen,
                total,
            )
        };
        assert_eq!(check(0, 0, 16384), Ok(()));
        assert_eq!(check(1, 16384, 16384), Ok(()));
        assert_eq!(check(1, 16385, 16384), Err(RequestError::OutOfRange));
        assert_eq!(check(2, 0, 1000), Ok(()));
        assert_eq!(check(2, 999, 1), Ok(()));
        assert_eq!(check(2, 0, 1001), Err(RequestError::OutOfRange));
        assert_eq!(check(2, 1000, 1), Err(RequestError::OutOfRange));
        assert_eq!(check(3, 0, 1), Err(RequestError::BadIndex));
        assert_eq!(check(u32::MAX, 0, 1), Err(RequestError::BadIndex));
        assert_eq!(check(0, 0, 0), Err(RequestError::ZeroLength));
        assert_eq!(check(0, 0, 16385), Err(RequestError::TooLong));
        assert_eq!(check(0, u32::MAX, 16384), Err(RequestError::OutOfRange));
        // Pieces as large as u32 allows, in a torrent past 4 GiB.
        let big = |index, begin| {
            check_request(
                &Block {
                    index,
                    begin,
                    length: 16384,
                },
                3,
                u32::MAX,
                3 * u64::from(u32::MAX),
            )
        };
        assert_eq!(big(2, u32::MAX - 16384), Ok(()));
        assert_eq!(big(2, u32::MAX - 16383), Err(RequestError::OutOfRange));
        // A torrent whose last piece is whole.
        assert_eq!(
            check_request(&BLOCK, 0x0102_0305, 0x8000, 0x0102_0305 * 0x8000),
            Ok(())
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut buf = [0u8; 64];
        for round in 0..20_000 {
            for b in buf.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = seed as u8;
            }
            // Small lengths and known ids are what reach the parsers' branches.
            buf[0..3].fill(0);
            buf[3] %= 20;
            buf[4] %= 22;
            let len = round % buf.len();
            let b = &buf[..len];
            match frame(b, 32) {
                Ok(Frame::Message { len }) => {
                    assert!(len <= b.len());
                    parse_message(&b[..len]).unwrap();
                }
                Ok(Frame::Incomplete { needed }) => assert!(needed > b.len() && needed <= 36),
                Ok(Frame::TooLong { declared }) => assert!(declared > 32),
                Err(_) => {}
            }
            let _ = parse_message(b);
            let _ = parse_handshake(b);
            let _ = parse_handshake_prefix(b);
        }
    }
}
