//! The seeder against a hand-written peer: what a well-behaved client gets, and what every kind
//! of bad input gets (a reject or the connection dropped, never a wrong byte or a crash).

mod common;

use common::{Server, TempDir};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use trackseed::ids::InfoHash;
use trackseed::metainfo::read::parse_torrent;
use trackseed::wire::extension::{self, MetadataMsg};
use trackseed::wire::peer::{self, Block, Frame, Message};
use trackseed::wire::Out;

const PIECE: u32 = 16 * 1024;

struct Seed {
    server: Server,
    _dir: TempDir,
    addr: SocketAddr,
    hash: InfoHash,
    content: Vec<u8>,
    torrent: Vec<u8>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A site with one file of `len` random bytes, published and seeded.
fn seed(len: usize) -> Seed {
    let dir = TempDir::new("seedproto");
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let mut x = 0x9e37_79b9_u32;
    let content: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(files.join("data.bin"), &content).unwrap();
    let torrents = dir.path().join("torrents");
    let config = format!(
        "site proto {} {} 127.0.0.1 {}\npublish.settle_secs 0\nseed.listen 127.0.0.1:0\n\
         listen.tcp 127.0.0.1:0\n",
        torrents.display(),
        files.display(),
        free_port()
    );
    let server = Server::start(&config);
    let addr = server
        .start_log
        .iter()
        .find_map(|l| l.strip_prefix("trackseed: listening peer-wire "))
        .expect("the seeder listens")
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    while !seen.contains("seed: seeding data.bin") {
        assert!(Instant::now() < deadline, "not seeded in 20 s:\n{seen}");
        for l in server.log_lines() {
            seen += &l;
            seen.push('\n');
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let torrent = std::fs::read(torrents.join("data.bin.torrent")).unwrap();
    let hash = parse_torrent(&torrent).unwrap().info_hash;
    Seed {
        server,
        _dir: dir,
        addr,
        hash,
        content,
        torrent,
    }
}

/// A peer connection with a receive buffer.
struct Peer {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Peer {
    fn connect(addr: SocketAddr) -> Peer {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Peer { s, buf: Vec::new() }
    }

    fn send(&mut self, f: impl FnOnce(&mut Out)) {
        let mut b = vec![0u8; 4096];
        let mut o = Out::new(&mut b);
        f(&mut o);
        assert!(!o.is_overflow());
        let n = o.len();
        self.s.write_all(&b[..n]).unwrap();
    }

    /// Reads until `want` bytes are buffered; false when the seeder closed the connection.
    fn fill(&mut self, want: usize) -> bool {
        let mut chunk = [0u8; 65536];
        while self.buf.len() < want {
            match self.s.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return false,
                Err(e) => panic!("read: {e}"),
            }
        }
        true
    }

    fn handshake(addr: SocketAddr, hash: InfoHash, fast: bool, ext: bool) -> Peer {
        let mut p = Peer::connect(addr);
        p.send(|o| peer::put_handshake(o, hash, b"-XX0001-abcdefghijkl", fast, ext));
        assert!(p.fill(peer::HANDSHAKE_LEN), "no handshake back");
        let h = peer::parse_handshake(&p.buf).unwrap().unwrap();
        assert_eq!(h.info_hash, hash);
        assert!(h.supports_fast() && h.supports_extensions());
        assert!(h.peer_id.starts_with(b"-TS"));
        p.buf.drain(..peer::HANDSHAKE_LEN);
        p
    }

    /// The next message, as (id, payload); `None` when the seeder closed the connection.
    fn next(&mut self) -> Option<(Option<u8>, Vec<u8>)> {
        loop {
            match peer::frame(&self.buf, 1 << 20).unwrap() {
                Frame::Incomplete { needed } => {
                    if !self.fill(needed) {
                        return None;
                    }
                }
                Frame::Message { len } => {
                    let id = self.buf.get(4).copied();
                    let payload = self.buf[5.min(len)..len].to_vec();
                    self.buf.drain(..len);
                    return Some((id, payload));
                }
                Frame::TooLong { declared } => panic!("seeder sent {declared} bytes"),
            }
        }
    }

    /// Skips messages until one with `id`.
    fn until(&mut self, id: u8) -> Vec<u8> {
        for _ in 0..100 {
            match self.next() {
                Some((Some(i), p)) if i == id => return p,
                Some(_) => {}
                None => panic!("closed while waiting for message {id}"),
            }
        }
        panic!("no message {id} in 100");
    }

    /// Whether the seeder closes the connection within a few seconds (other messages read
    /// and dropped).
    fn closed(&mut self) -> bool {
        for _ in 0..1000 {
            if self.next().is_none() {
                return true;
            }
        }
        false
    }
}

fn request(b: Block) -> impl FnOnce(&mut Out) {
    move |o| peer::put_message(o, &Message::Request(b))
}

#[test]
fn a_fast_peer_gets_blocks_and_rejects() {
    let s = seed(3 * PIECE as usize + 1000);
    let mut p = Peer::handshake(s.addr, s.hash, true, false);
    assert_eq!(p.next(), Some((Some(peer::id::HAVE_ALL), vec![])));
    // Asked while choked: rejected.
    let b = Block {
        index: 0,
        begin: 0,
        length: PIECE,
    };
    p.send(request(b));
    let r = p.until(peer::id::REJECT);
    assert_eq!(r[..4], 0u32.to_be_bytes());
    p.send(|o| peer::put_message(o, &Message::Interested));
    p.until(peer::id::UNCHOKE);
    // Every block of the torrent, the short last one included, byte for byte.
    for (index, begin, length) in [(0, 0, PIECE), (1, 4096, 8192), (3, 0, 1000), (2, 16383, 1)] {
        p.send(request(Block {
            index,
            begin,
            length,
        }));
        let piece = p.until(peer::id::PIECE);
        assert_eq!(piece[..4], index.to_be_bytes());
        assert_eq!(piece[4..8], begin.to_be_bytes());
        let at = (index * PIECE + begin) as usize;
        assert_eq!(&piece[8..], &s.content[at..at + length as usize]);
    }
    // Bad requests are rejected, and the connection stays.
    for bad in [
        Block {
            index: 0,
            begin: 0,
            length: PIECE + 1,
        },
        Block {
            index: 4,
            begin: 0,
            length: 1,
        },
        Block {
            index: 3,
            begin: 999,
            length: 2,
        },
        Block {
            index: 0,
            begin: 0,
            length: 0,
        },
    ] {
        p.send(request(bad));
        let r = p.until(peer::id::REJECT);
        assert_eq!(r[8..12], bad.length.to_be_bytes(), "{bad:?}");
    }
    p.send(request(b));
    assert_eq!(p.until(peer::id::PIECE).len(), 8 + PIECE as usize);
    // The seeder's counters reach /metrics at the next tick (every second).
    let want = "trackseed_seed_requests_rejected_total 5\n";
    let mut text = String::new();
    for _ in 0..40 {
        let metrics = common::http_get(s.server.tcp_v4(), "/metrics").2;
        text = String::from_utf8_lossy(&metrics).into_owned();
        if text.contains(want) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(text.contains(want), "{text}");
}

#[test]
fn a_plain_peer_gets_a_bitfield_and_is_dropped_for_a_bad_request() {
    let s = seed(9 * PIECE as usize);
    let mut p = Peer::handshake(s.addr, s.hash, false, false);
    let bits = p.until(peer::id::BITFIELD);
    assert_eq!(bits, [0xff, 0x80], "9 pieces: spare bits zero");
    p.send(|o| peer::put_message(o, &Message::Interested));
    p.until(peer::id::UNCHOKE);
    p.send(request(Block {
        index: 9,
        begin: 0,
        length: 16,
    }));
    assert!(p.closed(), "a peer without the fast extension is dropped");
}

#[test]
fn bad_peers_are_dropped() {
    let s = seed(PIECE as usize);
    // Not BitTorrent.
    let mut p = Peer::connect(s.addr);
    p.s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert!(p.closed());
    // A torrent we do not seed: no handshake back.
    let mut p = Peer::connect(s.addr);
    p.send(|o| peer::put_handshake(o, InfoHash([7; 20]), b"-XX0001-abcdefghijkl", true, true));
    assert!(!p.fill(1), "closed without a word");
    // A message longer than any legal one.
    let mut p = Peer::handshake(s.addr, s.hash, true, false);
    p.s.write_all(&(16u32 << 20).to_be_bytes()).unwrap();
    p.s.write_all(&[peer::id::BITFIELD]).unwrap();
    assert!(p.closed());
    // A piece nobody asked for.
    let mut p = Peer::handshake(s.addr, s.hash, true, false);
    p.send(|o| {
        peer::put_message(
            o,
            &Message::Piece {
                index: 0,
                begin: 0,
                data: b"x",
            },
        )
    });
    assert!(p.closed());
    // A request with a wrong length prefix.
    let mut p = Peer::handshake(s.addr, s.hash, true, false);
    p.s.write_all(&[
        0,
        0,
        0,
        12,
        peer::id::REQUEST,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ])
    .unwrap();
    assert!(p.closed());
    // A long bitfield (a leecher of a big torrent) is skipped, not buffered, and the
    // connection goes on.
    let mut p = Peer::handshake(s.addr, s.hash, true, false);
    let len = 100_000u32;
    p.s.write_all(&(len + 1).to_be_bytes()).unwrap();
    p.s.write_all(&[peer::id::BITFIELD]).unwrap();
    p.s.write_all(&vec![0u8; len as usize]).unwrap();
    p.send(|o| peer::put_message(o, &Message::Interested));
    p.until(peer::id::UNCHOKE);
    // Still serving the others.
    let mut p = Peer::handshake(s.addr, s.hash, true, false);
    assert_eq!(p.next(), Some((Some(peer::id::HAVE_ALL), vec![])));
}

#[test]
fn metadata_comes_from_the_torrent_file() {
    let s = seed(PIECE as usize * 2);
    let mut p = Peer::handshake(s.addr, s.hash, true, true);
    let ext = loop {
        let payload = p.until(peer::id::EXTENDED);
        if payload[0] == extension::HANDSHAKE_ID {
            break extension::parse_handshake(&payload[1..]).unwrap();
        }
    };
    let ours = ext.ut_metadata.expect("ut_metadata offered");
    let size = ext.metadata_size.expect("metadata_size given");
    let t = parse_torrent(&s.torrent).unwrap();
    assert_eq!(size as usize, t.info.len());
    // Our handshake names our id for ut_metadata: 5.
    let dict = b"d1:md11:ut_metadatai5eee";
    p.send(|o| {
        peer::put_extended(o, 0, dict.len() as u32);
        o.put(dict);
    });
    let ask = |piece: u32| {
        let d = format!("d8:msg_typei0e5:piecei{piece}ee");
        move |o: &mut Out| {
            peer::put_extended(o, ours, d.len() as u32);
            o.put(d.as_bytes());
        }
    };
    p.send(ask(0));
    let data = loop {
        let payload = p.until(peer::id::EXTENDED);
        if payload[0] == 5 {
            break payload;
        }
    };
    let (msg, at) = extension::parse_metadata(&data[1..]).unwrap();
    assert_eq!(
        msg,
        MetadataMsg::Data {
            piece: 0,
            total_size: size
        }
    );
    let info = &data[1 + at..];
    assert_eq!(info, &s.torrent[t.info.clone()]);
    p.send(ask(1));
    let reject = loop {
        let payload = p.until(peer::id::EXTENDED);
        if payload[0] == 5 {
            break payload;
        }
    };
    assert_eq!(
        extension::parse_metadata(&reject[1..]).unwrap().0,
        MetadataMsg::Reject { piece: 1 }
    );
}
