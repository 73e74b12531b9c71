//! Announce and scrape query strings (BEP 3, BEP 23, BEP 7, BEP 48): `key=value&...` with
//! percent-encoding. Decoding writes into fixed arrays; nothing allocates.

use super::Error;
use crate::ids::InfoHash;
use std::net::IpAddr;

/// Splits `query` into `(key, raw value)` pairs; a pair without `=` has an empty value.
pub fn params(query: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    query
        .split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|&b| b == b'=') {
            Some(i) => (&p[..i], &p[i + 1..]),
            None => (p, &p[p.len()..]),
        })
}

/// Percent-decodes `src` into `dst` (`+` stays `+`: clients encode binary values fully).
/// Returns the decoded length; `TooLong` if `dst` is too small, `BadValue` for a broken escape.
pub fn percent_decode(src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    let mut i = 0;
    let mut n = 0;
    while i < src.len() {
        let b = if src[i] == b'%' {
            let hi = src
                .get(i + 1)
                .copied()
                .and_then(crate::wire::hex_digit)
                .ok_or(Error::BadValue)?;
            let lo = src
                .get(i + 2)
                .copied()
                .and_then(crate::wire::hex_digit)
                .ok_or(Error::BadValue)?;
            i += 3;
            hi << 4 | lo
        } else {
            i += 1;
            src[i - 1]
        };
        *dst.get_mut(n).ok_or(Error::TooLong)? = b;
        n += 1;
    }
    Ok(n)
}

/// Decodes a value that must be exactly 20 bytes (info_hash, peer_id).
pub fn decode20(src: &[u8]) -> Result<[u8; 20], Error> {
    let mut out = [0u8; 20];
    match percent_decode(src, &mut out) {
        Ok(20) => Ok(out),
        _ => Err(Error::BadValue),
    }
}

fn decode_u64(src: &[u8]) -> Result<u64, Error> {
    let mut buf = [0u8; 20];
    let n = percent_decode(src, &mut buf).map_err(|_| Error::BadValue)?;
    let digits = &buf[..n];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Error::BadValue);
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(Error::BadValue)
    })
}

fn decode_ip(src: &[u8]) -> Result<IpAddr, Error> {
    let mut buf = [0u8; 64];
    let n = percent_decode(src, &mut buf).map_err(|_| Error::BadValue)?;
    let s = std::str::from_utf8(&buf[..n]).map_err(|_| Error::BadValue)?;
    let s = s.trim_start_matches('[').trim_end_matches(']');
    s.parse().map_err(|_| Error::BadValue)
}

/// The BEP 3 `event` parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpEvent {
    #[default]
    None,
    Started,
    Completed,
    Stopped,
}

/// Why an announce query was refused; each maps to a failure reason for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnounceError {
    MissingInfoHash,
    DuplicateInfoHash,
    /// Parameter name and what is wrong with it.
    Invalid(&'static str),
}

impl AnnounceError {
    /// The failure reason sent to the client.
    pub fn reason(&self) -> &'static str {
        match self {
            AnnounceError::MissingInfoHash => {
                "Your client forgot to send your torrent's info_hash. Please upgrade your client."
            }
            AnnounceError::DuplicateInfoHash => "info_hash given twice",
            AnnounceError::Invalid(why) => why,
        }
    }
}

/// An announce's parameters, decoded. Unknown parameters are ignored (BEP 3 clients send many).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnnounceQuery {
    pub info_hash: InfoHash,
    pub peer_id: Option<[u8; 20]>,
    pub port: Option<u16>,
    pub left: Option<u64>,
    pub event: HttpEvent,
    pub numwant: Option<u32>,
    /// `compact=0` asks for the dictionary model; absent or anything else is compact.
    pub compact: bool,
    pub no_peer_id: bool,
    pub ip: Option<IpAddr>,
    pub ipv4: Option<IpAddr>,
    pub ipv6: Option<IpAddr>,
}

/// Parses an announce query string (the part after `?`).
pub fn parse_announce(query: &[u8]) -> Result<AnnounceQuery, AnnounceError> {
    let mut info_hash = None;
    let mut q = AnnounceQuery {
        info_hash: InfoHash::default(),
        peer_id: None,
        port: None,
        left: None,
        event: HttpEvent::None,
        numwant: None,
        compact: true,
        no_peer_id: false,
        ip: None,
        ipv4: None,
        ipv6: None,
    };
    use AnnounceError::Invalid;
    for (key, value) in params(query) {
        match key {
            b"info_hash" => {
                if info_hash.is_some() {
                    return Err(AnnounceError::DuplicateInfoHash);
                }
                let h = decode20(value).map_err(|_| Invalid("info_hash is not 20 bytes"))?;
                info_hash = Some(InfoHash(h));
            }
            b"peer_id" => {
                q.peer_id = Some(decode20(value).map_err(|_| Invalid("peer_id is not 20 bytes"))?)
            }
            b"port" => {
                let p = decode_u64(value).map_err(|_| Invalid("port is not a number"))?;
                q.port = Some(u16::try_from(p).map_err(|_| Invalid("port is over 65535"))?);
            }
            b"left" => {
                q.left = Some(decode_u64(value).map_err(|_| Invalid("left is not a number"))?)
            }
            b"event" => {
                q.event = match value {
                    b"started" => HttpEvent::Started,
                    b"completed" => HttpEvent::Completed,
                    b"stopped" => HttpEvent::Stopped,
                    b"" | b"empty" | b"paused" => HttpEvent::None,
                    _ => return Err(Invalid("event is not started, completed or stopped")),
                }
            }
            b"numwant" | b"num_want" => {
                // Negative or unparsable numwant means "the tracker's default" (opentracker).
                q.numwant = decode_u64(value)
                    .ok()
                    .map(|v| v.min(u64::from(u32::MAX)) as u32);
            }
            b"compact" => q.compact = value != b"0",
            b"no_peer_id" => q.no_peer_id = value != b"0",
            b"ip" => q.ip = decode_ip(value).ok(),
            b"ipv4" => q.ipv4 = decode_ip(value).ok().filter(IpAddr::is_ipv4),
            b"ipv6" => q.ipv6 = decode_ip(value).ok().filter(IpAddr::is_ipv6),
            _ => {}
        }
    }
    q.info_hash = info_hash.ok_or(AnnounceError::MissingInfoHash)?;
    Ok(q)
}

/// The info hashes of a scrape query, in order; a value that is not 20 bytes is `Err`.
pub fn scrape_hashes(query: &[u8]) -> impl Iterator<Item = Result<InfoHash, Error>> + '_ {
    params(query)
        .filter(|(k, _)| *k == b"info_hash")
        .map(|(_, v)| decode20(v).map(InfoHash))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_ENC: &[u8] = b"%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A";
    const HASH: [u8; 20] = [
        0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
        0x12, 0x34, 0x56, 0x78, 0x9a,
    ];

    fn q(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    #[test]
    fn decodes_a_typical_announce() {
        let query = q(&[
            b"info_hash=",
            HASH_ENC,
            b"&peer_id=-TR2940-abcdefghijkl&port=51413&uploaded=0&downloaded=0&left=1000",
            b"&event=started&numwant=80&compact=1&key=abc&corrupt=0",
        ]);
        let a = parse_announce(&query).unwrap();
        assert_eq!(a.info_hash, InfoHash(HASH));
        assert_eq!(&a.peer_id.unwrap(), b"-TR2940-abcdefghijkl");
        assert_eq!(a.port, Some(51413));
        assert_eq!(a.left, Some(1000));
        assert_eq!(a.event, HttpEvent::Started);
        assert_eq!(a.numwant, Some(80));
        assert!(a.compact);
    }

    #[test]
    fn refuses_what_opentracker_refuses_and_more() {
        assert_eq!(
            parse_announce(b"port=1").unwrap_err(),
            AnnounceError::MissingInfoHash
        );
        let two = q(&[b"info_hash=", HASH_ENC, b"&info_hash=", HASH_ENC]);
        assert_eq!(
            parse_announce(&two).unwrap_err(),
            AnnounceError::DuplicateInfoHash
        );
        assert!(matches!(
            parse_announce(b"info_hash=abc").unwrap_err(),
            AnnounceError::Invalid("info_hash is not 20 bytes")
        ));
        let bad_port = q(&[b"info_hash=", HASH_ENC, b"&port=70000"]);
        assert_eq!(
            parse_announce(&bad_port).unwrap_err(),
            AnnounceError::Invalid("port is over 65535")
        );
        let bad_left = q(&[b"info_hash=", HASH_ENC, b"&left=-1"]);
        assert!(parse_announce(&bad_left).is_err());
        let neg = q(&[
            b"info_hash=",
            HASH_ENC,
            b"&numwant=-1&compact=0&no_peer_id=1",
        ]);
        let a = parse_announce(&neg).unwrap();
        assert_eq!(a.numwant, None);
        assert!(!a.compact);
        assert!(a.no_peer_id);
    }

    #[test]
    fn ip_parameters_are_parsed_by_family() {
        let query = q(&[
            b"info_hash=",
            HASH_ENC,
            b"&ip=10.0.0.1&ipv6=%5B2001%3Adb8%3A%3A1%5D&ipv4=zz",
        ]);
        let a = parse_announce(&query).unwrap();
        assert_eq!(a.ip, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(a.ipv6, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(a.ipv4, None);
    }

    #[test]
    fn percent_decoding_edges() {
        let mut d = [0u8; 4];
        assert_eq!(percent_decode(b"%4a%4B", &mut d), Ok(2));
        assert_eq!(&d[..2], b"JK");
        assert_eq!(percent_decode(b"%4", &mut d), Err(Error::BadValue));
        assert_eq!(percent_decode(b"%zz", &mut d), Err(Error::BadValue));
        assert_eq!(percent_decode(b"abcde", &mut d), Err(Error::TooLong));
    }

    #[test]
    fn scrape_lists_hashes_in_order() {
        let query = q(&[
            b"info_hash=",
            HASH_ENC,
            b"&x=1&info_hash=",
            &[b'a'; 20],
            b"&info_hash=bad",
        ]);
        let hs: Vec<_> = scrape_hashes(&query).collect();
        assert_eq!(hs.len(), 3);
        assert_eq!(hs[0], Ok(InfoHash(HASH)));
        assert_eq!(hs[1], Ok(InfoHash([b'a'; 20])));
        assert_eq!(hs[2], Err(Error::BadValue));
    }

    #[test]
    fn every_length_never_panics() {
        let query = q(&[
            b"info_hash=",
            HASH_ENC,
            b"&peer_id=%41%42&port=6&left=%3&event=stopped&numwant=%&ip=%5B::1%5D&ipv4=1.2.3.4",
        ]);
        for len in 0..=query.len() {
            let _ = parse_announce(&query[..len]);
            let _ = scrape_hashes(&query[..len]).count();
        }
    }
}
