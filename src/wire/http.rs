//! HTTP/1.x requests as trackers see them (RFC 9112, the parts BEP 3 clients use): a `GET`
//! request line and headers, no body. And the response head writer.

use super::{Error, Out};

/// Largest request head accepted (opentracker: 8192 bytes).
pub const MAX_HEAD_LEN: usize = 8192;

/// The length of the request head in `buf` including its blank line, once it is complete.
/// Accepts CRLF and bare LF line ends.
pub fn head_len(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let rest = &buf[nl + 1..];
        if rest.first() == Some(&b'\n') {
            return Some(nl + 2);
        }
        if rest.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        i = nl + 1;
    }
    None
}

/// A parsed request head, borrowing from the connection's buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The path, without the query, still percent-encoded.
    pub path: &'a [u8],
    /// Everything after the first `?` (empty if none).
    pub query: &'a [u8],
    /// Whether the connection stays open after the answer: HTTP/1.1 without
    /// `Connection: close`. HTTP/1.0 always closes.
    pub keep_alive: bool,
    /// The last address of the last `X-Forwarded-For` header: the client as seen by the proxy
    /// in front of us (trusted only from `access.proxy` networks).
    pub forwarded_for: Option<&'a [u8]>,
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Parses a complete head (as delimited by [`head_len`]). `UnknownAction` for a method other
/// than GET, `BadValue` for a malformed line or a request that carries a body.
pub fn parse_request(head: &[u8]) -> Result<Request<'_>, Error> {
    if head.len() > MAX_HEAD_LEN {
        return Err(Error::TooLong);
    }
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let line = lines.next().ok_or(Error::Truncated)?;
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let method = words.next().ok_or(Error::Truncated)?;
    if method != b"GET" {
        return Err(Error::UnknownAction);
    }
    let target = words.next().ok_or(Error::Truncated)?;
    let version = words.next().unwrap_or(b"HTTP/1.0");
    let is_http11 = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        _ => return Err(Error::BadValue),
    };
    if words.next().is_some() || !target.starts_with(b"/") {
        return Err(Error::BadValue);
    }
    let mut keep_alive = is_http11;
    let mut forwarded_for = None;
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"connection") {
            if value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            if value != b"0" {
                return Err(Error::BadValue);
            }
        } else if name.eq_ignore_ascii_case(b"x-forwarded-for") {
            let last = value.rsplit(|&b| b == b',').next().map(trim);
            forwarded_for = last.filter(|v| !v.is_empty());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(Error::BadValue);
        }
    }
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, &target[target.len()..]),
    };
    Ok(Request {
        path,
        query,
        keep_alive,
        forwarded_for,
    })
}

/// Response status lines we send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Found,
    BadRequest,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    HeaderTooLarge,
    ServiceUnavailable,
}

impl Status {
    pub fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::Found => "302 Found",
            Status::BadRequest => "400 Invalid Request",
            Status::Forbidden => "403 Access Denied",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::HeaderTooLarge => "431 Request Header Fields Too Large",
            Status::ServiceUnavailable => "503 Service Unavailable",
        }
    }
}

/// Writes a response head. `content_length: None` means the body ends when the connection
/// closes (used for full scrapes, which are produced in pieces).
pub fn put_head(
    out: &mut Out<'_>,
    status: Status,
    content_type: &str,
    content_length: Option<usize>,
    keep_alive: bool,
) {
    out.put(b"HTTP/1.1 ");
    out.put(status.line().as_bytes());
    out.put(b"\r\nContent-Type: ");
    out.put(content_type.as_bytes());
    if let Some(n) = content_length {
        out.put(b"\r\nContent-Length: ");
        out.put_u64(n as u64);
    }
    if !keep_alive {
        out.put(b"\r\nConnection: close");
    }
    out.put(b"\r\n\r\n");
}

/// The width `put_head` reserves for a Content-Length patched in later (see [`patch_length`]).
pub const LENGTH_WIDTH: usize = 7;

/// Writes a head whose Content-Length is a fixed-width placeholder; returns where to patch it.
pub fn put_head_unsized(out: &mut Out<'_>, status: Status, keep_alive: bool) -> usize {
    out.put(b"HTTP/1.1 ");
    out.put(status.line().as_bytes());
    out.put(b"\r\nContent-Type: text/plain\r\nContent-Length: ");
    let at = out.len();
    out.put(&[b' '; LENGTH_WIDTH]);
    if !keep_alive {
        out.put(b"\r\nConnection: close");
    }
    out.put(b"\r\n\r\n");
    at
}

/// Fills the placeholder at `at` with `len`, right-aligned in spaces (legal: header values may
/// carry optional whitespace).
pub fn patch_length(out: &mut Out<'_>, at: usize, len: usize) {
    let mut field = [b' '; LENGTH_WIDTH];
    let mut v = len;
    for slot in field.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.patch(at, &field);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_of_the_head() {
        assert_eq!(head_len(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest"), Some(27));
        assert_eq!(head_len(b"GET / HTTP/1.0\n\n"), Some(16));
        assert_eq!(head_len(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(head_len(b""), None);
    }

    #[test]
    fn parses_request_lines_and_keep_alive() {
        let r =
            parse_request(b"GET /announce?info_hash=x&port=1 HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(r.path, b"/announce");
        assert_eq!(r.query, b"info_hash=x&port=1");
        assert!(r.keep_alive);
        let r = parse_request(b"GET /a HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4, 10.0.0.1 \r\n\r\n")
            .unwrap();
        assert_eq!(r.forwarded_for, Some(&b"10.0.0.1"[..]));
        let r = parse_request(b"GET /scrape HTTP/1.1\r\nConnection: Close\r\n\r\n").unwrap();
        assert!(!r.keep_alive);
        assert_eq!(r.query, b"");
        let r = parse_request(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        assert!(!r.keep_alive, "HTTP/1.0 closes");
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\n\r\n"),
            Err(Error::UnknownAction)
        );
        assert_eq!(parse_request(b"GET / HTTP/2\r\n\r\n"), Err(Error::BadValue));
        assert_eq!(
            parse_request(b"GET x HTTP/1.1\r\n\r\n"),
            Err(Error::BadValue)
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"),
            Err(Error::BadValue)
        );
    }

    #[test]
    fn writes_heads() {
        let mut buf = [0u8; 256];
        let mut o = Out::new(&mut buf);
        put_head(&mut o, Status::Ok, "text/plain", Some(12), true);
        assert_eq!(
            o.written(),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n"
        );
        let mut o = Out::new(&mut buf);
        let at = put_head_unsized(&mut o, Status::Ok, false);
        o.put(b"body");
        patch_length(&mut o, at, 4);
        assert_eq!(
            o.written(),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length:       4\r\nConnection: close\r\n\r\nbody"
        );
    }

    #[test]
    fn every_length_never_panics() {
        let req =
            b"GET /announce?a=b HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\nX: y\r\n\r\n";
        for len in 0..=req.len() {
            let _ = head_len(&req[..len]);
            let _ = parse_request(&req[..len]);
        }
    }
}
