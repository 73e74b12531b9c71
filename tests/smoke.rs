//! End-to-end smoke test: one real trackseed process on loopback, started with a config file,
//! driven over UDP (BEP 15) and HTTP (BEP 3 announce, BEP 23 compact peers, BEP 48 scrape),
//! asked for `/stats`, made to publish one file through a `site` (the `.torrent` fetched from
//! the site's `/torrents/` and checked against SHA-1 computed here), sent SIGHUP, then stopped
//! with SIGTERM.
//!
//! The tracker part is written against the BEPs (and opentracker's `/stats`), not against
//! trackseed's code, so it holds for any opentracker-compatible tracker. Counts follow
//! opentracker: an announce's seeders/leechers include the announcing peer itself.
//!
//! With `TRACKSEED_BIN` and `TRACKSEED_RUNNER` set (see `common`), the same test drives a
//! cross-built binary under qemu-user: `cross/test.sh` does that for the router targets, so each
//! of them runs its own SHA-1 path (the Armv8 SHA instructions on aarch64, the portable code on
//! MIPS and ARMv7, big- and little-endian) and inotify (the file is dropped in after start-up,
//! with periodic rescans off).
//!
//! Every wait is bounded: socket timeouts come from `common::IO_TIMEOUT`, UDP exchanges are
//! retried a fixed number of times, log lines are awaited for `LOG_TIMEOUT`, and shutdown is
//! given 5 seconds.

mod common;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{http_get, udp_client, urlencode, Server, TempDir, IO_TIMEOUT};

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
/// How long an awaited log line (`published`, `config reloaded`) or the seeder's handshake may
/// take: generous, since qemu-user is slow and other builds may share the CPUs.
const LOG_TIMEOUT: Duration = Duration::from_secs(30);

/// The site's nickname and the file it publishes.
const SITE: &str = "smoke";
const FILE_NAME: &str = "smoke.bin";
/// Bytes in the published file: six full 16 KiB pieces and a partial seventh (the smallest
/// piece length), so SHA-1 runs over whole blocks, a buffered tail and the final padding.
const FILE_LEN: usize = 100_000;
/// BEP 3 handshake: length-prefixed protocol string, 8 reserved bytes, info hash, peer id.
const PSTR: &[u8] = b"BitTorrent protocol";
const HANDSHAKE_LEN: usize = 68;

/// The config file: both tracker protocols on one loopback address (port picked by the
/// system); one site that publishes `files` into `torrents` and serves TCP and UDP on
/// `[::]:site_port`, hashing at once (`settle_secs 0`) and with periodic rescans off, so that
/// only inotify can notice a file dropped in after start-up; the seeder on loopback (port
/// picked by the system); and every torrent tracked, not only the published ones (the test
/// announces random info hashes).
fn config(torrents: &Path, files: &Path, site_port: u16) -> String {
    format!(
        "# smoke test\n\
         listen.tcp_udp 127.0.0.1:0\n\
         publish.open_tracker yes\n\
         publish.settle_secs 0\n\
         publish.rescan_secs 0\n\
         seed.listen 127.0.0.1:0\n\
         site {SITE} \"{}\" \"{}\" 127.0.0.1 {site_port}\n",
        torrents.display(),
        files.display()
    )
}

/// Everything the server printed, kept: `Server::log_lines` hands each line out once.
struct Log(Vec<String>);

impl Log {
    /// Waits up to `LOG_TIMEOUT` for a line that `f` maps to something.
    fn wait<T>(&mut self, server: &Server, what: &str, f: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + LOG_TIMEOUT;
        loop {
            self.0.extend(server.log_lines());
            if let Some(v) = self.0.iter().find_map(|l| f(l)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "waited {LOG_TIMEOUT:?} for {what}; the server printed:\n{}",
                self.0.join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A deterministic, non-repeating byte pattern (xorshift), so that a SHA-1 that mixes up word
/// order or endianness cannot match by luck.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha1(bytes: &[u8]) -> [u8; 20] {
    sha1_smol::Sha1::from(bytes).digest().bytes()
}

fn unhex(s: &str) -> Option<[u8; 20]> {
    if s.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The info hash in `trackseed: publish NICK: published NAME HASH (...)`.
fn published_hash(line: &str) -> Option<[u8; 20]> {
    let rest = line.strip_prefix(&format!(
        "trackseed: publish {SITE}: published {FILE_NAME} "
    ))?;
    unhex(rest.split(' ').next()?)
}

/// The BEP 3 handshake the seeder answers ours with for `info_hash`, or the I/O error (the
/// seeder closes connections for torrents it does not seed yet).
fn seeder_handshake(
    addr: SocketAddr,
    info_hash: &[u8; 20],
) -> std::io::Result<[u8; HANDSHAKE_LEN]> {
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut hello = Vec::with_capacity(HANDSHAKE_LEN);
    hello.push(PSTR.len() as u8);
    hello.extend_from_slice(PSTR);
    hello.extend_from_slice(&[0; 8]);
    hello.extend_from_slice(info_hash);
    hello.extend_from_slice(&random_20());
    s.write_all(&hello)?;
    let mut reply = [0u8; HANDSHAKE_LEN];
    s.read_exact(&mut reply)?;
    Ok(reply)
}

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

/// The index just past the bencoded value that starts at `at`.
fn bencode_end(b: &[u8], at: usize) -> Option<usize> {
    match *b.get(at)? {
        b'i' => Some(at + b[at..].iter().position(|&c| c == b'e')? + 1),
        b'l' | b'd' => {
            let mut i = at + 1;
            while *b.get(i)? != b'e' {
                i = bencode_end(b, i)?;
            }
            Some(i + 1)
        }
        b'0'..=b'9' => {
            let colon = at + b[at..].iter().position(|&c| c == b':')?;
            let len: usize = std::str::from_utf8(&b[at..colon]).ok()?.parse().ok()?;
            let end = colon + 1 + len;
            (end <= b.len()).then_some(end)
        }
        _ => None,
    }
}

/// The bencoded `info` dictionary of a .torrent, exactly as its bytes appear.
fn info_dict(torrent: &[u8]) -> Option<&[u8]> {
    let at = find(torrent, b"4:infod")? + "4:info".len();
    torrent.get(at..bencode_end(torrent, at)?)
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
fn tracker_stats_publisher_sighup_sigterm() {
    let site_dir = TempDir::new("smoke-site");
    let torrent_dir = site_dir.path().join("torrents");
    let file_dir = site_dir.path().join("files");
    let staging = site_dir.path().join("staging");
    for d in [&file_dir, &staging] {
        std::fs::create_dir_all(d).expect("create site dirs");
    }
    let site_port = common::free_site_port();
    let mut server = Server::start(&config(&torrent_dir, &file_dir, site_port));
    let mut log = Log(server.start_log.clone());
    assert!(
        !log.0.iter().any(|l| l.contains("no inotify")),
        "inotify works (under qemu-user too); the server printed:\n{}",
        log.0.join("\n")
    );
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

    // --- /stats (opentracker's default MRTG mode): peers, seeders, then the torrent count.
    let (status, head, body) = http_get(tcp, "/stats");
    assert_eq!(
        status,
        200,
        "/stats status; headers:\n{head}\nbody: {}",
        show(&body)
    );
    let stats = show(&body);
    let lines: Vec<&str> = stats.split('\n').collect();
    assert_eq!(
        lines.get(..3),
        Some(&["3", "2", "opentracker serving 1 torrents"][..]),
        "/stats: 3 peers (A, B, C), 2 seeders (A, C), 1 torrent: {stats:?}"
    );

    // --- Publisher: a file renamed into the site's file directory after start-up (periodic
    // rescans are off, so inotify must see it) is hashed and its .torrent served.
    let content = pattern(FILE_LEN);
    std::fs::write(staging.join(FILE_NAME), &content).expect("write the file to publish");
    std::fs::rename(staging.join(FILE_NAME), file_dir.join(FILE_NAME)).expect("drop the file in");
    let published = log.wait(
        &server,
        &format!("`publish {SITE}: published {FILE_NAME} HASH`"),
        published_hash,
    );
    let site = SocketAddr::from(([127, 0, 0, 1], site_port));
    let (status, head, torrent) = http_get(site, &format!("/torrents/{FILE_NAME}.torrent"));
    assert_eq!(
        status,
        200,
        "GET /torrents/{FILE_NAME}.torrent; headers:\n{head}\nbody: {}",
        show(&torrent)
    );
    assert!(
        torrent.starts_with(b"d8:announce"),
        "a .torrent (BEP 3 metainfo): {}",
        show(&torrent)
    );
    assert_eq!(
        torrent,
        std::fs::read(torrent_dir.join(format!("{FILE_NAME}.torrent"))).expect("the .torrent file"),
        "served as written to the torrent directory"
    );
    let announce = bencode_bytes(&torrent, "8:announce").expect("announce URL");
    assert!(
        find(announce, format!("127.0.0.1:{site_port}").as_bytes()).is_some(),
        "announces to the site's servername and port: {}",
        show(announce)
    );
    let info = info_dict(&torrent).unwrap_or_else(|| panic!("info dict: {}", show(&torrent)));
    assert_eq!(
        sha1(info),
        published,
        "the logged info hash is the SHA-1 of the info dict"
    );
    assert_eq!(
        bencode_int(info, "6:length"),
        Some(FILE_LEN as i64),
        "{}",
        show(info)
    );
    let piece_length = bencode_int(info, "12:piece length").expect("piece length");
    let piece_length = usize::try_from(piece_length).expect("a positive piece length");
    let want: Vec<u8> = content.chunks(piece_length).flat_map(sha1).collect();
    assert_eq!(
        bencode_bytes(info, "6:pieces"),
        Some(&want[..]),
        "piece hashes (piece length {piece_length}) equal SHA-1 computed here"
    );

    // --- Seeder: answers a BEP 3 handshake for the published torrent (it may pick the
    // torrent up a moment after the `published` line: retried until LOG_TIMEOUT).
    let seed_addr: SocketAddr = log.wait(&server, "`listening peer-wire ADDR`", |l| {
        l.strip_prefix("trackseed: listening peer-wire ")?
            .parse()
            .ok()
    });
    let deadline = Instant::now() + LOG_TIMEOUT;
    let reply = loop {
        match seeder_handshake(seed_addr, &published) {
            Ok(reply) => break reply,
            Err(e) => assert!(
                Instant::now() < deadline,
                "no handshake from the seeder at {seed_addr} within {LOG_TIMEOUT:?}: {e}"
            ),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(usize::from(reply[0]), PSTR.len(), "handshake: {reply:?}");
    assert_eq!(&reply[1..20], PSTR, "handshake: {reply:?}");
    assert_eq!(&reply[28..48], &published[..], "handshake info hash");

    // --- SIGHUP: the config is re-read, the swarms are kept.
    server.signal("HUP");
    log.wait(&server, "`config reloaded`", |l| {
        l.contains("config reloaded").then_some(())
    });
    let (status, _, body) = http_get(tcp, &format!("/scrape?info_hash={}", urlencode(&info_hash)));
    assert_eq!(status, 200, "HTTP scrape after SIGHUP: {}", show(&body));
    assert_eq!(
        (
            bencode_int(&body, "8:complete"),
            bencode_int(&body, "10:incomplete")
        ),
        (Some(2), Some(1)),
        "swarm kept across SIGHUP: {}",
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
