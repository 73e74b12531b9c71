//! Protocol identities as newtypes, so no bare byte array crosses a module boundary.

use std::net::{IpAddr, SocketAddr};

/// A torrent's 20-byte info hash (SHA-1 of the info dictionary; opaque to the tracker).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHash(pub [u8; 20]);

/// 40 lowercase hex digits, as in magnet links and access lists.
impl std::fmt::Display for InfoHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A peer's compact address (BEP 23 / BEP 7): address then port, network byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerAddr {
    V4([u8; 6]),
    V6([u8; 18]),
}

impl PeerAddr {
    /// The compact form of `ip` with `port`. IPv4-mapped IPv6 addresses (what a dual-stack
    /// socket reports for an IPv4 client) become plain IPv4.
    pub fn new(ip: IpAddr, port: u16) -> PeerAddr {
        let p = port.to_be_bytes();
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                PeerAddr::V4([o[0], o[1], o[2], o[3], p[0], p[1]])
            }
            IpAddr::V6(v6) => {
                let mut b = [0u8; 18];
                b[..16].copy_from_slice(&v6.octets());
                b[16..].copy_from_slice(&p);
                PeerAddr::V6(b)
            }
        }
    }

    pub fn from_socket(addr: SocketAddr) -> PeerAddr {
        PeerAddr::new(addr.ip(), addr.port())
    }

    /// The compact bytes: 6 for IPv4, 18 for IPv6.
    pub fn bytes(&self) -> &[u8] {
        match self {
            PeerAddr::V4(b) => b,
            PeerAddr::V6(b) => b,
        }
    }

    pub fn is_v4(&self) -> bool {
        matches!(self, PeerAddr::V4(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_v4_becomes_v4() {
        let a = PeerAddr::new("::ffff:10.1.2.3".parse().unwrap(), 6881);
        assert_eq!(a, PeerAddr::V4([10, 1, 2, 3, 0x1a, 0xe1]));
        let b = PeerAddr::new("2001:db8::1".parse().unwrap(), 1);
        assert_eq!(b.bytes().len(), 18);
        assert_eq!(&b.bytes()[16..], &[0, 1]);
    }
}
