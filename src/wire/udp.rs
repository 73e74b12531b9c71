//! BEP 15 UDP tracker protocol (with BEP 41 URL-data options): request views and reply writers.
//!
//! All integers are big-endian on the wire. Requests start with a 16-byte header
//! (connection id, action, transaction id). Views check the length once in `new_checked`; after
//! that no accessor can panic.

use super::Error;
use crate::ids::InfoHash;

/// The connect request's fixed connection id ("magic").
pub const PROTOCOL_ID: u64 = 0x0417_2710_1980;

pub const ACTION_CONNECT: u32 = 0;
pub const ACTION_ANNOUNCE: u32 = 1;
pub const ACTION_SCRAPE: u32 = 2;
pub const ACTION_ERROR: u32 = 3;

/// A connection id handed out by connect and echoed by announce and scrape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionId(pub u64);

/// The client's request number, echoed in the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionId(pub u32);

mod field {
    use std::ops::Range;
    pub const CONNECTION_ID: Range<usize> = 0..8;
    pub const ACTION: Range<usize> = 8..12;
    pub const TRANSACTION_ID: Range<usize> = 12..16;
    // Announce.
    pub const INFO_HASH: Range<usize> = 16..36;
    pub const PEER_ID: Range<usize> = 36..56;
    pub const DOWNLOADED: Range<usize> = 56..64;
    pub const LEFT: Range<usize> = 64..72;
    pub const UPLOADED: Range<usize> = 72..80;
    pub const EVENT: Range<usize> = 80..84;
    pub const IP: Range<usize> = 84..88;
    pub const KEY: Range<usize> = 88..92;
    pub const NUM_WANT: Range<usize> = 92..96;
    pub const PORT: Range<usize> = 96..98;
}

/// Length of the header every request starts with.
pub const HEADER_LEN: usize = field::TRANSACTION_ID.end;
/// Length of an announce request without BEP 41 options.
pub const ANNOUNCE_LEN: usize = field::PORT.end;
/// Length of the reply header before announce peers.
pub const ANNOUNCE_REPLY_HEADER_LEN: usize = 20;
/// Bytes per scraped torrent in a scrape reply.
pub const SCRAPE_ENTRY_LEN: usize = 12;

fn be32(b: &[u8], r: std::ops::Range<usize>) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[r]);
    u32::from_be_bytes(a)
}

fn be64(b: &[u8], r: std::ops::Range<usize>) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[r]);
    u64::from_be_bytes(a)
}

/// A parsed request.
#[derive(Debug)]
pub enum Request<'a> {
    Connect { transaction_id: TransactionId },
    Announce(AnnounceView<'a>),
    Scrape(ScrapeView<'a>),
}

/// The 16-byte header of any request.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub connection_id: ConnectionId,
    pub action: u32,
    pub transaction_id: TransactionId,
}

/// Reads the common header; `Truncated` below 16 bytes.
pub fn header(packet: &[u8]) -> Result<Header, Error> {
    if packet.len() < HEADER_LEN {
        return Err(Error::Truncated);
    }
    Ok(Header {
        connection_id: ConnectionId(be64(packet, field::CONNECTION_ID)),
        action: be32(packet, field::ACTION),
        transaction_id: TransactionId(be32(packet, field::TRANSACTION_ID)),
    })
}

/// Parses a request packet.
pub fn parse(packet: &[u8]) -> Result<Request<'_>, Error> {
    let h = header(packet)?;
    match h.action {
        ACTION_CONNECT => {
            if h.connection_id.0 != PROTOCOL_ID {
                return Err(Error::BadMagic);
            }
            Ok(Request::Connect {
                transaction_id: h.transaction_id,
            })
        }
        ACTION_ANNOUNCE => AnnounceView::new_checked(packet).map(Request::Announce),
        ACTION_SCRAPE => ScrapeView::new_checked(packet).map(Request::Scrape),
        _ => Err(Error::UnknownAction),
    }
}

/// BEP 15 announce event codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpEvent {
    None,
    Completed,
    Started,
    Stopped,
}

/// An announce request, borrowed from the receive buffer. Accessors never panic.
#[derive(Debug)]
pub struct AnnounceView<'a>(&'a [u8]);

impl<'a> AnnounceView<'a> {
    pub const LEN: usize = ANNOUNCE_LEN;

    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        if buf.len() < Self::LEN {
            return Err(Error::Truncated);
        }
        Ok(AnnounceView(buf))
    }

    pub fn connection_id(&self) -> ConnectionId {
        ConnectionId(be64(self.0, field::CONNECTION_ID))
    }
    pub fn transaction_id(&self) -> TransactionId {
        TransactionId(be32(self.0, field::TRANSACTION_ID))
    }
    pub fn info_hash(&self) -> InfoHash {
        let mut h = [0u8; 20];
        h.copy_from_slice(&self.0[field::INFO_HASH]);
        InfoHash(h)
    }
    pub fn peer_id(&self) -> &'a [u8] {
        &self.0[field::PEER_ID]
    }
    pub fn downloaded(&self) -> u64 {
        be64(self.0, field::DOWNLOADED)
    }
    pub fn left(&self) -> u64 {
        be64(self.0, field::LEFT)
    }
    pub fn uploaded(&self) -> u64 {
        be64(self.0, field::UPLOADED)
    }
    /// Unknown event codes read as `None`, as opentracker does.
    pub fn event(&self) -> UdpEvent {
        match be32(self.0, field::EVENT) {
            1 => UdpEvent::Completed,
            2 => UdpEvent::Started,
            3 => UdpEvent::Stopped,
            _ => UdpEvent::None,
        }
    }
    /// The IPv4 address field (0: use the packet's source address).
    pub fn ip(&self) -> u32 {
        be32(self.0, field::IP)
    }
    pub fn key(&self) -> u32 {
        be32(self.0, field::KEY)
    }
    /// Peers wanted; `None` for -1 (the tracker's default) or any other negative number.
    pub fn num_want(&self) -> Option<u32> {
        let v = be32(self.0, field::NUM_WANT) as i32;
        u32::try_from(v).ok()
    }
    pub fn port(&self) -> u16 {
        u16::from_be_bytes([self.0[field::PORT.start], self.0[field::PORT.start + 1]])
    }
    /// BEP 41 URL data: the concatenated path-and-query bytes of every URLData option, written
    /// into `dst`. Stops at EndOfOptions, at a truncated option, or when `dst` is full; returns
    /// the bytes written. Malformed options are tolerated, never an error.
    pub fn url_data(&self, dst: &mut [u8]) -> usize {
        let opts = &self.0[Self::LEN..];
        let mut i = 0;
        let mut n = 0;
        while i < opts.len() {
            match opts[i] {
                0 => break,
                1 => i += 1,
                2 => {
                    let Some(&len) = opts.get(i + 1) else { break };
                    let start = i + 2;
                    let end = (start + len as usize).min(opts.len());
                    let take = (end - start).min(dst.len() - n);
                    dst[n..n + take].copy_from_slice(&opts[start..start + take]);
                    n += take;
                    i = start + len as usize;
                }
                // An unknown option type has no defined length: stop reading options.
                _ => break,
            }
        }
        n
    }
}

/// A scrape request: header then 20-byte info hashes.
#[derive(Debug)]
pub struct ScrapeView<'a>(&'a [u8]);

impl<'a> ScrapeView<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        if buf.len() < HEADER_LEN + 20 {
            return Err(Error::Truncated);
        }
        Ok(ScrapeView(buf))
    }
    pub fn connection_id(&self) -> ConnectionId {
        ConnectionId(be64(self.0, field::CONNECTION_ID))
    }
    pub fn transaction_id(&self) -> TransactionId {
        TransactionId(be32(self.0, field::TRANSACTION_ID))
    }
    /// The info hashes (trailing bytes short of a whole hash are ignored).
    pub fn info_hashes(&self) -> impl Iterator<Item = InfoHash> + 'a {
        self.0[HEADER_LEN..].chunks_exact(20).map(|c| {
            let mut h = [0u8; 20];
            h.copy_from_slice(c);
            InfoHash(h)
        })
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        false
    }
}

fn put_header(out: &mut [u8], action: u32, tid: TransactionId) {
    out[0..4].copy_from_slice(&action.to_be_bytes());
    out[4..8].copy_from_slice(&tid.0.to_be_bytes());
}

/// Connect reply (16 bytes). `out` must hold 16 bytes.
pub fn emit_connect(out: &mut [u8], tid: TransactionId, id: ConnectionId) -> usize {
    put_header(out, ACTION_CONNECT, tid);
    out[8..16].copy_from_slice(&id.0.to_be_bytes());
    16
}

/// Announce reply header (20 bytes); the caller appends compact peers after it.
pub fn emit_announce_header(
    out: &mut [u8],
    tid: TransactionId,
    interval: u32,
    leechers: u32,
    seeders: u32,
) -> usize {
    put_header(out, ACTION_ANNOUNCE, tid);
    out[8..12].copy_from_slice(&interval.to_be_bytes());
    out[12..16].copy_from_slice(&leechers.to_be_bytes());
    out[16..20].copy_from_slice(&seeders.to_be_bytes());
    ANNOUNCE_REPLY_HEADER_LEN
}

/// Scrape reply header (8 bytes); the caller appends entries with [`emit_scrape_entry`].
pub fn emit_scrape_header(out: &mut [u8], tid: TransactionId) -> usize {
    put_header(out, ACTION_SCRAPE, tid);
    8
}

/// One scrape entry (12 bytes): seeders, completed, leechers.
pub fn emit_scrape_entry(out: &mut [u8], seeders: u32, completed: u32, leechers: u32) -> usize {
    out[0..4].copy_from_slice(&seeders.to_be_bytes());
    out[4..8].copy_from_slice(&completed.to_be_bytes());
    out[8..12].copy_from_slice(&leechers.to_be_bytes());
    SCRAPE_ENTRY_LEN
}

/// Error reply: header then the message. Returns 0 if `out` cannot hold it.
pub fn emit_error(out: &mut [u8], tid: TransactionId, message: &str) -> usize {
    let len = 8 + message.len();
    if out.len() < len {
        return 0;
    }
    put_header(out, ACTION_ERROR, tid);
    out[8..len].copy_from_slice(message.as_bytes());
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An announce request, each field labelled.
    const ANNOUNCE: [u8; 98] = {
        let mut p = [0u8; 98];
        // connection id 0x0102030405060708
        p[0] = 1;
        p[1] = 2;
        p[2] = 3;
        p[3] = 4;
        p[4] = 5;
        p[5] = 6;
        p[6] = 7;
        p[7] = 8;
        // action 1 (announce)
        p[11] = 1;
        // transaction id 0xdeadbeef
        p[12] = 0xde;
        p[13] = 0xad;
        p[14] = 0xbe;
        p[15] = 0xef;
        // info hash 0xaa * 20 (16..36), peer id 0xbb * 20 (36..56)
        let mut i = 16;
        while i < 36 {
            p[i] = 0xaa;
            i += 1;
        }
        while i < 56 {
            p[i] = 0xbb;
            i += 1;
        }
        // downloaded 5, left 1000, uploaded 7
        p[63] = 5;
        p[70] = 0x03;
        p[71] = 0xe8;
        p[79] = 7;
        // event 2 (started)
        p[83] = 2;
        // ip 0, key 0x11223344
        p[88] = 0x11;
        p[89] = 0x22;
        p[90] = 0x33;
        p[91] = 0x44;
        // num_want -1
        p[92] = 0xff;
        p[93] = 0xff;
        p[94] = 0xff;
        p[95] = 0xff;
        // port 6881
        p[96] = 0x1a;
        p[97] = 0xe1;
        p
    };

    #[test]
    fn announce_fields() {
        let Request::Announce(a) = parse(&ANNOUNCE).unwrap() else {
            panic!("not announce")
        };
        assert_eq!(a.connection_id(), ConnectionId(0x0102_0304_0506_0708));
        assert_eq!(a.transaction_id(), TransactionId(0xdead_beef));
        assert_eq!(a.info_hash(), InfoHash([0xaa; 20]));
        assert_eq!(a.peer_id(), &[0xbb; 20]);
        assert_eq!((a.downloaded(), a.left(), a.uploaded()), (5, 1000, 7));
        assert_eq!(a.event(), UdpEvent::Started);
        assert_eq!((a.ip(), a.key()), (0, 0x1122_3344));
        assert_eq!(a.num_want(), None);
        assert_eq!(a.port(), 6881);
    }

    #[test]
    fn connect_needs_the_magic() {
        let mut p = [0u8; 16];
        p[..8].copy_from_slice(&PROTOCOL_ID.to_be_bytes());
        p[12..16].copy_from_slice(&7u32.to_be_bytes());
        assert!(matches!(
            parse(&p).unwrap(),
            Request::Connect {
                transaction_id: TransactionId(7)
            }
        ));
        p[0] = 9;
        assert_eq!(parse(&p).unwrap_err(), Error::BadMagic);
    }

    #[test]
    fn bep41_url_data_is_read_and_malformed_options_tolerated() {
        let mut p = ANNOUNCE.to_vec();
        p.extend_from_slice(&[2, 5]);
        p.extend_from_slice(b"/anno");
        p.push(1);
        p.extend_from_slice(&[2, 9]);
        p.extend_from_slice(b"unce?a=b");
        p.push(0); // the second option claims 9 bytes but 8 are there plus this end byte
        let Request::Announce(a) = parse(&p).unwrap() else {
            panic!()
        };
        let mut d = [0u8; 64];
        let n = a.url_data(&mut d);
        assert_eq!(&d[..n], b"/announce?a=b\0");
        let mut small = [0u8; 3];
        assert_eq!(a.url_data(&mut small), 3);
        // Truncated option header.
        let mut q = ANNOUNCE.to_vec();
        q.push(2);
        let Request::Announce(a) = parse(&q).unwrap() else {
            panic!()
        };
        assert_eq!(a.url_data(&mut d), 0);
    }

    #[test]
    fn scrape_hashes() {
        let mut p = vec![0u8; 16 + 40 + 3];
        p[11] = 2;
        p[16..36].fill(1);
        p[36..56].fill(2);
        let Request::Scrape(s) = parse(&p).unwrap() else {
            panic!()
        };
        let hs: Vec<_> = s.info_hashes().collect();
        assert_eq!(hs, vec![InfoHash([1; 20]), InfoHash([2; 20])]);
    }

    #[test]
    fn every_length_never_panics() {
        let mut buf = ANNOUNCE.to_vec();
        buf.extend_from_slice(&[2, 200, 1, 1, 1]);
        for action in 0..5u8 {
            buf[11] = action;
            for len in 0..buf.len() {
                if let Ok(Request::Announce(a)) = parse(&buf[..len]) {
                    let mut d = [0u8; 8];
                    a.url_data(&mut d);
                    a.num_want();
                    a.event();
                }
                if let Ok(Request::Scrape(s)) = parse(&buf[..len]) {
                    assert!(s.info_hashes().count() <= 4);
                }
            }
        }
        assert_eq!(parse(&[0; 15]).unwrap_err(), Error::Truncated);
        let mut short = ANNOUNCE;
        short[11] = 1;
        assert_eq!(parse(&short[..97]).unwrap_err(), Error::Truncated);
        short[11] = 9;
        assert_eq!(parse(&short).unwrap_err(), Error::UnknownAction);
    }

    #[test]
    fn replies_round_trip() {
        let mut out = [0u8; 64];
        assert_eq!(
            emit_connect(&mut out, TransactionId(5), ConnectionId(9)),
            16
        );
        // A connect reply reads as action 0, tid 5 in the first 8 bytes.
        assert_eq!(&out[..8], &[0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(&out[8..16], &9u64.to_be_bytes());
        assert_eq!(
            emit_announce_header(&mut out, TransactionId(1), 1800, 2, 3),
            20
        );
        assert_eq!(
            &out[..20],
            &[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 7, 8, 0, 0, 0, 2, 0, 0, 0, 3]
        );
        let n = emit_error(&mut out, TransactionId(2), "Connection ID missmatch.");
        assert_eq!(n, 32);
        assert_eq!(&out[..8], &[0, 0, 0, 3, 0, 0, 0, 2]);
        assert_eq!(
            emit_error(&mut out[..10], TransactionId(2), "too long for this"),
            0
        );
        assert_eq!(emit_scrape_entry(&mut out, 1, 2, 3), 12);
        assert_eq!(&out[..12], &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
    }
}
