//! End-to-end smoke test: one real trackseed process on loopback ephemeral ports, driven over
//! UDP (BEP 15) and HTTP (BEP 3 announce, BEP 23 compact peers, BEP 48 scrape), then stopped
//! with SIGTERM.
//!
//! Written against the BEPs, not against trackseed's code, so it holds for any
//! opentracker-compatible tracker. Counts follow opentracker: an announce's seeders/leechers
//! include the announcing peer itself.
//!
//! With `TRACKSEED_BIN` and `TRACKSEED_RUNNER` set (see `common`), the same test drives a
//! cross-built binary under qemu-user: `cross/test.sh` does that for the router targets.
//!
//! Every wait is bounded: socket timeouts come from `common::IO_TIMEOUT`, UDP exchanges are
//! retried a fixed number of times, and shutdown is given 5 seconds.

mod common;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::Duration;

use common::{http_get, udp_client, urlencode, Server};

/// BEP 15 `protocol_id` that opens every connect request.
const PROTOCOL_ID: u64 = 0x0417_2710_1980;
const ACTION_CONNECT: u32 = 0;
const ACTION_ANNOUNCE: u32 = 1;
const ACTION_SCRAPE: u32 = 2;
const ACTION_ERROR: u32 = 3;
/// BEP 15 announce `event` values.
const EVENT_STARTED: u32 = 2;
/// Length of a BEP 15 announce request (IPv4 form).
const ANNOUNCE_LEN: usize = 98;
/// Fixed part of an announce reply: action, transaction id, interval, leechers, seeders.
const ANNOUNCE_REPLY_HEAD: usize = 20;
/// Bytes per compact IPv4 peer (BEP 15, BEP 23): 4 address bytes, 2 port bytes, big-endian.
const COMPACT_V4: usize = 6;
/// Attempts per UDP exchange (loopback does not drop, but qemu-user can be slow to answer).
const UDP_ATTEMPTS: usize = 3;
/// Datagrams read per attempt while looking for the one with our transaction id.
const UDP_READS_PER_ATTEMPT: usize = 4;
/// How long SIGTERM may take to end the process.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

const CONFIG: &str =
    "# smoke test: both protocols on one loopback address, ports picked by the system\n\
                      listen.tcp_udp 127.0.0.1:0\n";

/// A random value without a dependency: std seeds every `RandomState` from the OS.
fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}

fn random_u32() -> u32 {
    (random_u64() >> 32) as u32
}

fn random_20() -> [u8; 20] {
    let mut out = [0u8; 20];
    for chunk in out.chunks_mut(8) {
        let r = random_u64().to_be_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    out
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn be_u64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Sends `req` and returns the first reply carrying `tid`, at least `min_len` bytes long and
/// not a BEP 15 error (an error reply fails the test with the tracker's message).
fn udp_exchange(sock: &UdpSocket, req: &[u8], tid: u32, min_len: usize) -> Vec<u8> {
    let mut buf = [0u8; 2048];
    for _ in 0..UDP_ATTEMPTS {
        sock.send(req).expect("send udp request");
        for _ in 0..UDP_READS_PER_ATTEMPT {
            let n = match sock.recv(&mut buf) {
                Ok(n) => n,
                // Timed out (WouldBlock or TimedOut, depending on the platform): send again.
                Err(_) => break,
            };
            let reply = &buf[..n];
            if n < 8 || be_u32(reply, 4) != tid {
                continue; // a stray or stale datagram: not ours
            }
            if be_u32(reply, 0) == ACTION_ERROR {
                panic!(
                    "tracker answered with an error: {:?}",
                    String::from_utf8_lossy(&reply[8..])
                );
            }
            assert!(
                n >= min_len,
                "reply of {n} bytes, expected at least {min_len}: {reply:?}"
            );
            return reply.to_vec();
        }
    }
    panic!("no UDP reply with transaction id {tid:#x} after {UDP_ATTEMPTS} attempts");
}

/// BEP 15 connect; returns the connection id.
fn udp_connect(sock: &UdpSocket) -> u64 {
    let tid = random_u32();
    let mut req = [0u8; 16];
    req[0..8].copy_from_slice(&PROTOCOL_ID.to_be_bytes());
    req[8..12].copy_from_slice(&ACTION_CONNECT.to_be_bytes());
    req[12..16].copy_from_slice(&tid.to_be_bytes());
    let reply = udp_exchange(sock, &req, tid, 16);
    assert_eq!(reply.len(), 16, "connect reply is 16 bytes");
    assert_eq!(be_u32(&reply, 0), ACTION_CONNECT, "connect reply action");
    assert_eq!(be_u32(&reply, 4), tid, "connect reply transaction id");
    be_u64(&reply, 8)
}

/// What a BEP 15 announce reply says.
#[derive(Debug)]
struct AnnounceReply {
    interval: u32,
    leechers: u32,
    seeders: u32,
    peers: Vec<SocketAddrV4>,
}

/// BEP 15 announce of `event` started, asking for the default number of peers.
fn udp_announce(
    sock: &UdpSocket,
    conn_id: u64,
    info_hash: &[u8; 20],
    peer_id: &[u8; 20],
    left: u64,
    port: u16,
) -> AnnounceReply {
    let tid = random_u32();
    let mut req = Vec::with_capacity(ANNOUNCE_LEN);
    req.extend_from_slice(&conn_id.to_be_bytes());
    req.extend_from_slice(&ACTION_ANNOUNCE.to_be_bytes());
    req.extend_from_slice(&tid.to_be_bytes());
    req.extend_from_slice(info_hash);
    req.extend_from_slice(peer_id);
    req.extend_from_slice(&0u64.to_be_bytes()); // downloaded
    req.extend_from_slice(&left.to_be_bytes()); // left
    req.extend_from_slice(&0u64.to_be_bytes()); // uploaded
    req.extend_from_slice(&EVENT_STARTED.to_be_bytes()); // event
    req.extend_from_slice(&0u32.to_be_bytes()); // ip: 0 = use the source address
    req.extend_from_slice(&random_u32().to_be_bytes()); // key
    req.extend_from_slice(&(-1i32).to_be_bytes()); // num_want: -1 = tracker's default
    req.extend_from_slice(&port.to_be_bytes()); // port
    assert_eq!(req.len(), ANNOUNCE_LEN);

    let reply = udp_exchange(sock, &req, tid, ANNOUNCE_REPLY_HEAD);
    assert_eq!(be_u32(&reply, 0), ACTION_ANNOUNCE, "announce reply action");
    assert_eq!(be_u32(&reply, 4), tid, "announce reply transaction id");
    let list = &reply[ANNOUNCE_REPLY_HEAD..];
    AnnounceReply {
        interval: be_u32(&reply, 8),
        leechers: be_u32(&reply, 12),
        seeders: be_u32(&reply, 16),
        peers: compact_v4(list),
    }
}

/// BEP 15 scrape of one info hash; returns (seeders, completed, leechers).
fn udp_scrape(sock: &UdpSocket, conn_id: u64, info_hash: &[u8; 20]) -> (u32, u32, u32) {
    let tid = random_u32();
    let mut req = Vec::with_capacity(36);
    req.extend_from_slice(&conn_id.to_be_bytes());
    req.extend_from_slice(&ACTION_SCRAPE.to_be_bytes());
    req.extend_from_slice(&tid.to_be_bytes());
    req.extend_from_slice(info_hash);
    let reply = udp_exchange(sock, &req, tid, 20);
    assert_eq!(reply.len(), 20, "scrape reply for one hash is 8 + 12 bytes");
    assert_eq!(be_u32(&reply, 0), ACTION_SCRAPE, "scrape reply action");
    (be_u32(&reply, 8), be_u32(&reply, 12), be_u32(&reply, 16))
}

/// Decodes a compact IPv4 peer list (BEP 23); its length must be a multiple of 6.
fn compact_v4(list: &[u8]) -> Vec<SocketAddrV4> {
    assert_eq!(
        list.len() % COMPACT_V4,
        0,
        "compact peer list of {} bytes",
        list.len()
    );
    list.chunks_exact(COMPACT_V4)
        .map(|p| {
            let ip = Ipv4Addr::new(p[0], p[1], p[2], p[3]);
            SocketAddrV4::new(ip, u16::from_be_bytes([p[4], p[5]]))
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The integer after bencoded key `key` (given with its length prefix, e.g. `8:interval`).
fn bencode_int(body: &[u8], key: &str) -> Option<i64> {
    let at = find(body, key.as_bytes())? + key.len();
    let rest = body.get(at..)?.strip_prefix(b"i")?;
    let end = rest.iter().position(|&b| b == b'e')?;
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

/// The byte string after bencoded key `key` (e.g. `5:peers`).
fn bencode_bytes<'a>(body: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let at = find(body, key.as_bytes())? + key.len();
    let rest = body.get(at..)?;
    let colon = rest.iter().position(|&b| b == b':')?;
    let len: usize = std::str::from_utf8(&rest[..colon]).ok()?.parse().ok()?;
    rest.get(colon + 1..colon + 1 + len)
}

fn show(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn loopback(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
}

fn local_port(sock: &UdpSocket) -> u16 {
    match sock.local_addr().expect("local addr") {
        SocketAddr::V4(a) => a.port(),
        SocketAddr::V6(a) => a.port(),
    }
}

#[test]
fn udp_and_http_tracker_then_sigterm() {
    let mut server = Server::start(CONFIG);
    let udp = server.udp_v4();
    let tcp = server.tcp_v4();
    let info_hash = random_20();

    // --- UDP, peer A: a seeder announcing port 50001 from socket A.
    let sock_a = udp_client(udp);
    let conn_a = udp_connect(&sock_a);
    let a = udp_announce(&sock_a, conn_a, &info_hash, &random_20(), 0, 50_001);
    assert!(a.interval > 0, "announce interval must be positive: {a:?}");
    assert_eq!(
        (a.seeders, a.leechers),
        (1, 0),
        "A counts itself as the only seeder: {a:?}"
    );
    assert!(
        a.peers.iter().all(|p| *p == loopback(50_001)),
        "A's first announce can list no one but A: {a:?}"
    );

    // --- UDP, peer B: a leecher on another socket (another source port) announcing 50002.
    let sock_b = udp_client(udp);
    let conn_b = udp_connect(&sock_b);
    let b = udp_announce(&sock_b, conn_b, &info_hash, &random_20(), 1_000, 50_002);
    assert!(b.interval > 0, "announce interval must be positive: {b:?}");
    assert_eq!(
        (b.seeders, b.leechers),
        (1, 1),
        "one seeder (A), one leecher (B): {b:?}"
    );
    // The tracker stores the request's source IP with the port the peer announced.
    assert!(
        b.peers.contains(&loopback(50_001)),
        "B is told about A at its announced port: {b:?}"
    );
    let a_source = loopback(local_port(&sock_a));
    assert!(
        !b.peers.contains(&a_source),
        "A's source port is not its peer port: {b:?}"
    );

    // --- UDP scrape (from B's connection).
    let (seeders, completed, leechers) = udp_scrape(&sock_b, conn_b, &info_hash);
    assert_eq!(
        (seeders, completed, leechers),
        (1, 0, 1),
        "UDP scrape: seeders, completed, leechers"
    );

    // --- HTTP announce, peer C: a seeder on port 6881 (BEP 3 + BEP 23 compact).
    let target = format!(
        "/announce?info_hash={}&peer_id={}&port=6881&uploaded=0&downloaded=0&left=0&compact=1&event=started",
        urlencode(&info_hash),
        urlencode(&random_20()),
    );
    let (status, head, body) = http_get(tcp, &target);
    assert_eq!(
        status,
        200,
        "HTTP announce status; headers:\n{head}\nbody: {}",
        show(&body)
    );
    assert!(
        body.starts_with(b"d") && body.ends_with(b"e"),
        "a bencoded dict: {}",
        show(&body)
    );
    assert!(
        find(&body, b"8:intervali").is_some(),
        "announce has an interval: {}",
        show(&body)
    );
    let interval = bencode_int(&body, "8:interval").expect("interval is an integer");
    assert!(
        interval > 0,
        "HTTP interval must be positive: {}",
        show(&body)
    );
    let peers =
        bencode_bytes(&body, "5:peers").unwrap_or_else(|| panic!("compact peers: {}", show(&body)));
    let peers = compact_v4(peers);
    // C seeds, so it needs B (the leecher); a tracker may leave out seeder A (a seeder has
    // nothing to gain from other seeders), but must not invent peers.
    assert!(
        peers.contains(&loopback(50_002)),
        "C is told about B: {peers:?}"
    );
    let known = [loopback(50_001), loopback(50_002), loopback(6881)];
    assert!(
        peers.iter().all(|p| known.contains(p)),
        "only A, B or C can be listed: {peers:?}"
    );

    // --- HTTP scrape (BEP 48): d5:filesd20:<info_hash>d8:completei..e...ee
    let (status, head, body) =
        http_get(tcp, &format!("/scrape?info_hash={}", urlencode(&info_hash)));
    assert_eq!(
        status,
        200,
        "HTTP scrape status; headers:\n{head}\nbody: {}",
        show(&body)
    );
    let mut prefix = b"d5:filesd20:".to_vec();
    prefix.extend_from_slice(&info_hash);
    assert!(
        body.starts_with(&prefix),
        "scrape body starts with files/<hash>: {}",
        show(&body)
    );
    let files = &body[prefix.len()..];
    assert_eq!(
        bencode_int(files, "8:complete"),
        Some(2),
        "A and C seed: {}",
        show(&body)
    );
    assert_eq!(
        bencode_int(files, "10:incomplete"),
        Some(1),
        "B leeches: {}",
        show(&body)
    );
    assert_eq!(
        bencode_int(files, "10:downloaded"),
        Some(0),
        "no one completed: {}",
        show(&body)
    );

    // --- SIGTERM: a clean exit, promptly.
    server.signal("TERM");
    let code = server.wait_exit(SHUTDOWN_TIMEOUT);
    assert_eq!(
        code,
        Some(0),
        "exit code after SIGTERM (None: still running after {SHUTDOWN_TIMEOUT:?}, or died of the signal)"
    );
}
