//! BEP 15 connection ids without per-client state.
//!
//! An id is a keyed hash (SipHash with a random per-process key) of the client's IP address and
//! the current time window. It is accepted during its own window and the next one, so an id
//! lives `WINDOW_SECS` to `2 * WINDOW_SECS` (BEP 15 asks for about two minutes), and a client that
//! cannot receive at its claimed address cannot forge one: the protection against spoofed
//! announces and reflection. opentracker's ids never expire; aquatic's embed a timestamp.

use crate::clock::Secs;
use crate::wire::udp::ConnectionId;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;

/// Length of one validity window.
pub const WINDOW_SECS: u32 = 60;

pub struct ConnectionIds {
    key: RandomState,
}

impl ConnectionIds {
    pub fn new() -> ConnectionIds {
        ConnectionIds {
            key: RandomState::new(),
        }
    }

    fn id_for(&self, ip: IpAddr, window: u32) -> ConnectionId {
        ConnectionId(self.key.hash_one((ip.to_canonical(), window)))
    }

    /// The id to hand a client connecting from `ip` now.
    pub fn make(&self, ip: IpAddr, now: Secs) -> ConnectionId {
        self.id_for(ip, now.0 / WINDOW_SECS)
    }

    /// Whether `id` was made for `ip` in this window or the previous one.
    pub fn is_valid(&self, id: ConnectionId, ip: IpAddr, now: Secs) -> bool {
        let w = now.0 / WINDOW_SECS;
        id == self.id_for(ip, w) || (w > 0 && id == self.id_for(ip, w - 1))
    }
}

impl Default for ConnectionIds {
    fn default() -> Self {
        ConnectionIds::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bound_to_address_and_expire() {
        let ids = ConnectionIds::new();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let id = ids.make(a, Secs(100));
        assert!(ids.is_valid(id, a, Secs(100)));
        assert!(
            ids.is_valid(id, a, Secs(179)),
            "valid through the next window"
        );
        assert!(!ids.is_valid(id, a, Secs(180)), "expired after two windows");
        assert!(!ids.is_valid(id, b, Secs(100)), "bound to the address");
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert!(
            ids.is_valid(id, mapped, Secs(100)),
            "v4-mapped is the same client"
        );
        assert!(
            !ConnectionIds::new().is_valid(id, a, Secs(100)),
            "keyed per process"
        );
    }
}
