//! What the load generator sends and how it reads the answers. Every request is a template
//! built once; sending patches only the fields that vary (transaction id, info hash, left,
//! port).

/// BEP 15 protocol id of a connect request.
pub const PROTOCOL_ID: u64 = 0x0417_2710_1980;
pub const ACTION_CONNECT: u32 = 0;
pub const ACTION_ANNOUNCE: u32 = 1;
pub const ACTION_SCRAPE: u32 = 2;
pub const ACTION_ERROR: u32 = 3;
/// A BEP 15 announce request is 98 bytes.
pub const ANNOUNCE_LEN: usize = 98;
/// Hashes per UDP scrape request (trackseed answers at most `tracker.scrape_max`, 64 by
/// default; opentracker 74).
pub const SCRAPE_HASHES: usize = 50;
const PEER_ID: &[u8; 20] = b"-TB0001-benchbenchbb";

/// The info hash of torrent `i`: 20 pseudo-random bytes, the same in every run.
pub fn info_hash(i: u32) -> [u8; 20] {
    let mut out = [0u8; 20];
    let mut state = 0x7472_6163_6b73_6565u64 ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for chunk in out.chunks_mut(8) {
        let v = splitmix64(&mut state).to_be_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    out
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 40 lowercase hex digits: one line of opentracker's whitelist.
pub fn hex(hash: &[u8; 20]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A UDP connect request.
pub fn connect_packet(tid: u32) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&PROTOCOL_ID.to_be_bytes());
    p[8..12].copy_from_slice(&ACTION_CONNECT.to_be_bytes());
    p[12..16].copy_from_slice(&tid.to_be_bytes());
    p
}

/// BEP 15 announce events.
pub const EVENT_NONE: u32 = 0;
pub const EVENT_STOPPED: u32 = 3;

/// A UDP announce request with the fixed fields filled in.
pub fn announce_template(connection_id: [u8; 8], num_want: i32, event: u32) -> [u8; ANNOUNCE_LEN] {
    let mut p = [0u8; ANNOUNCE_LEN];
    p[..8].copy_from_slice(&connection_id);
    p[8..12].copy_from_slice(&ACTION_ANNOUNCE.to_be_bytes());
    p[36..56].copy_from_slice(PEER_ID);
    p[80..84].copy_from_slice(&event.to_be_bytes());
    p[88..92].copy_from_slice(&0x5eed_u32.to_be_bytes()); // key
    p[92..96].copy_from_slice(&num_want.to_be_bytes());
    p
}

/// Patches the varying fields of an announce made by [`announce_template`].
#[inline]
pub fn patch_announce(
    p: &mut [u8; ANNOUNCE_LEN],
    tid: u32,
    hash: &[u8; 20],
    seeder: bool,
    port: u16,
) {
    p[12..16].copy_from_slice(&tid.to_be_bytes());
    p[16..36].copy_from_slice(hash);
    let left: u64 = if seeder { 0 } else { 1 << 20 };
    p[64..72].copy_from_slice(&left.to_be_bytes());
    p[96..98].copy_from_slice(&port.to_be_bytes());
}

/// A UDP scrape request for `hashes`.
pub fn scrape_packet(connection_id: [u8; 8], tid: u32, hashes: &[[u8; 20]]) -> Vec<u8> {
    let mut p = Vec::with_capacity(16 + 20 * hashes.len());
    p.extend_from_slice(&connection_id);
    p.extend_from_slice(&ACTION_SCRAPE.to_be_bytes());
    p.extend_from_slice(&tid.to_be_bytes());
    for h in hashes {
        p.extend_from_slice(h);
    }
    p
}

/// (action, transaction id) of a UDP answer, if it is at least 8 bytes.
#[inline]
pub fn reply_head(p: &[u8]) -> Option<(u32, u32)> {
    let action = u32::from_be_bytes(p.get(0..4)?.try_into().ok()?);
    let tid = u32::from_be_bytes(p.get(4..8)?.try_into().ok()?);
    Some((action, tid))
}

/// Seeders + leechers summed over a UDP scrape answer's entries.
pub fn scrape_peers(p: &[u8]) -> u64 {
    p.get(8..)
        .unwrap_or_default()
        .chunks_exact(12)
        .map(|e| {
            let seeders = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
            let leechers = u32::from_be_bytes([e[8], e[9], e[10], e[11]]);
            seeders as u64 + leechers as u64
        })
        .sum()
}

/// An HTTP announce request; `patch` fills in the varying fields in place.
pub struct HttpRequest {
    pub bytes: Vec<u8>,
    hash_at: usize,
    port_at: usize,
    left_at: usize,
}

impl HttpRequest {
    /// HTTP/1.1 (keep-alive) or HTTP/1.0 (the server closes after answering).
    pub fn new(keep_alive: bool) -> HttpRequest {
        let mut b = Vec::with_capacity(256);
        b.extend_from_slice(b"GET /announce?info_hash=");
        let hash_at = b.len();
        b.extend_from_slice(&[b'%'; 60]);
        b.extend_from_slice(b"&peer_id=");
        b.extend_from_slice(PEER_ID);
        b.extend_from_slice(b"&port=");
        let port_at = b.len();
        b.extend_from_slice(b"00000");
        b.extend_from_slice(b"&uploaded=0&downloaded=0&left=");
        let left_at = b.len();
        b.extend_from_slice(b"0&compact=1 ");
        b.extend_from_slice(if keep_alive { b"HTTP/1.1" } else { b"HTTP/1.0" });
        b.extend_from_slice(b"\r\nHost: 127.0.0.1\r\nUser-Agent: trackseed-bench\r\n\r\n");
        HttpRequest {
            bytes: b,
            hash_at,
            port_at,
            left_at,
        }
    }

    /// Sets the info hash (every byte percent-encoded), the port (5 digits: ports used are
    /// 10000 and up) and left (0 for a seeder, 1 for a leecher).
    #[inline]
    pub fn patch(&mut self, hash: &[u8; 20], seeder: bool, port: u16) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let h = &mut self.bytes[self.hash_at..self.hash_at + 60];
        for (i, &byte) in hash.iter().enumerate() {
            h[3 * i] = b'%';
            h[3 * i + 1] = HEX[(byte >> 4) as usize];
            h[3 * i + 2] = HEX[(byte & 15) as usize];
        }
        let mut port = port;
        for d in self.bytes[self.port_at..self.port_at + 5].iter_mut().rev() {
            *d = b'0' + (port % 10) as u8;
            port /= 10;
        }
        self.bytes[self.left_at] = if seeder { b'0' } else { b'1' };
    }
}

/// What the bytes received so far on an HTTP connection hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpResponse {
    /// Not a whole response yet.
    Partial,
    /// A whole response of `len` bytes: `ok` when status 200 without a failure reason; `close`
    /// when the server closes after it (HTTP/1.0 without keep-alive, or `Connection: close`).
    Complete { len: usize, ok: bool, close: bool },
    /// A head without Content-Length: the body ends when the server closes.
    UntilClose { ok: bool },
    /// Not HTTP.
    Garbage,
}

/// Reads the response at the start of `buf`.
pub fn http_response(buf: &[u8]) -> HttpResponse {
    let Some(head_end) = find(buf, b"\r\n\r\n").map(|i| i + 4) else {
        return if buf.len() > 4096 {
            HttpResponse::Garbage
        } else {
            HttpResponse::Partial
        };
    };
    let head = &buf[..head_end];
    if !head.starts_with(b"HTTP/1.") || head.len() < 12 {
        return HttpResponse::Garbage;
    }
    let http10 = head[7] == b'0';
    let status_ok = &head[9..12] == b"200";
    let mut content_length: Option<usize> = None;
    let mut close = http10;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"content-length") {
            content_length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        } else if name.eq_ignore_ascii_case(b"connection") {
            if value.eq_ignore_ascii_case(b"close") {
                close = true;
            } else if value.eq_ignore_ascii_case(b"keep-alive") {
                close = false;
            }
        }
    }
    match content_length {
        Some(n) if buf.len() >= head_end + n => {
            let body = &buf[head_end..head_end + n];
            HttpResponse::Complete {
                len: head_end + n,
                ok: status_ok && find(body, b"failure reason").is_none(),
                close,
            }
        }
        Some(_) => HttpResponse::Partial,
        None => HttpResponse::UntilClose { ok: status_ok },
    }
}

/// Whether a body read until the server closed is a good announce answer.
pub fn body_ok(buf: &[u8]) -> bool {
    find(buf, b"failure reason").is_none()
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end.max(start)]
}

/// The first position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_request_patches_in_place() {
        let mut r = HttpRequest::new(true);
        let len = r.bytes.len();
        r.patch(&[0xab; 20], false, 10_042);
        assert_eq!(r.bytes.len(), len);
        let s = String::from_utf8(r.bytes.clone()).unwrap();
        assert!(s.starts_with("GET /announce?info_hash=%AB%AB"), "{s}");
        assert!(s.contains("&port=10042&"), "{s}");
        assert!(s.contains("&left=1&"), "{s}");
        assert!(s.contains(" HTTP/1.1\r\n"), "{s}");
        assert!(s.ends_with("\r\n\r\n"));
    }

    #[test]
    fn http_responses() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nd1:xe";
        assert_eq!(
            http_response(ok),
            HttpResponse::Complete {
                len: ok.len(),
                ok: true,
                close: false
            }
        );
        assert_eq!(http_response(&ok[..ok.len() - 1]), HttpResponse::Partial);
        let ot = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc";
        assert!(matches!(
            http_response(ot),
            HttpResponse::Complete {
                close: true,
                ok: true,
                ..
            }
        ));
        let fail = b"HTTP/1.1 200 OK\r\ncontent-length: 22\r\n\r\nd14:failure reason1:xe";
        assert!(matches!(
            http_response(fail),
            HttpResponse::Complete { ok: false, .. }
        ));
        let closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        assert!(matches!(
            http_response(closing),
            HttpResponse::Complete { close: true, .. }
        ));
        assert_eq!(http_response(b"SSH-2.0\r\n\r\n"), HttpResponse::Garbage);
    }

    #[test]
    fn udp_packets() {
        let c = connect_packet(7);
        assert_eq!(reply_head(&c[8..]), Some((0, 7)));
        let mut a = announce_template([1; 8], -1, EVENT_NONE);
        patch_announce(&mut a, 9, &info_hash(3), true, 10_001);
        assert_eq!(&a[12..16], &9u32.to_be_bytes());
        assert_eq!(&a[16..36], &info_hash(3));
        assert_eq!(&a[96..98], &10_001u16.to_be_bytes());
        assert_ne!(info_hash(1), info_hash(2));
        assert_eq!(hex(&info_hash(0)).len(), 40);
    }
}
