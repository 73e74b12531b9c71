//! The UDP front end (BEP 15): one datagram in, at most one datagram out.
//!
//! No reply is ever larger than a request that lacks a valid connection id: malformed packets
//! get no answer and a bad connection id gets a short error only when it is no longer than the
//! request, so the tracker cannot amplify spoofed traffic.

use super::conn_id::ConnectionIds;
use super::Tracker;
use crate::clock::Secs;
use crate::ids::PeerAddr;
use crate::swarm::{Announce, Event};
use crate::wire::udp::{self, Request, TransactionId, UdpEvent};
use std::net::SocketAddr;

/// Largest reply we build: peers are capped so an announce answer fits one ~1200-byte datagram
/// (safe under every path MTU; opentracker caps the same way).
pub const MAX_REPLY_LEN: usize = 1200;
/// Scrape entries per reply (BEP 15 allows about 74 in one packet).
pub const MAX_SCRAPE_HASHES: usize = 74;
const MISMATCH: &str = "Connection ID missmatch.";

/// Handles one datagram from `from`; writes the reply into `out` (at least
/// [`MAX_REPLY_LEN`] bytes) and returns its length, 0 for no reply.
pub fn handle(
    t: &mut Tracker,
    ids: &ConnectionIds,
    packet: &[u8],
    from: SocketAddr,
    now: Secs,
    out: &mut [u8],
) -> usize {
    t.stats.udp_packets += 1;
    let req = match udp::parse(packet) {
        Ok(r) => r,
        Err(_) => {
            t.stats.udp_malformed += 1;
            return 0;
        }
    };
    let ip = from.ip();
    match req {
        Request::Connect { transaction_id } => {
            t.stats.udp_connects += 1;
            udp::emit_connect(out, transaction_id, ids.make(ip, now))
        }
        Request::Announce(a) => {
            if !ids.is_valid(a.connection_id(), ip, now) {
                return mismatch(t, a.transaction_id(), packet.len(), out);
            }
            t.stats.udp_announces += 1;
            let tid = a.transaction_id();
            if a.port() == 0 {
                return error(out, tid, "invalid port 0", packet.len());
            }
            let peer = PeerAddr::new(ip, a.port());
            let is_seeder = a.left() == 0;
            let event = match a.event() {
                UdpEvent::None => Event::None,
                UdpEvent::Started => Event::Started,
                UdpEvent::Completed => Event::Completed,
                UdpEvent::Stopped => Event::Stopped,
            };
            let ann = Announce {
                info_hash: a.info_hash(),
                peer,
                is_seeder,
                event,
            };
            let (torrent, counts) = match t.announce(&ann, now) {
                Ok(r) => r,
                Err(reason) => return error(out, tid, reason, packet.len()),
            };
            let interval = t.interval();
            let mut len =
                udp::emit_announce_header(out, tid, interval, counts.leechers, counts.seeders);
            let (Some(torrent), false) = (torrent, event == Event::Stopped) else {
                return len;
            };
            let entry = peer.bytes().len();
            let fit = (MAX_REPLY_LEN - len) / entry;
            let want = t.numwant(a.num_want(), fit);
            let body = &mut out[len..];
            let mut at = 0;
            t.swarms
                .select(torrent, !peer.is_v4(), &peer, is_seeder, want, &mut |p| {
                    body[at..at + p.len()].copy_from_slice(p);
                    at += p.len();
                });
            len += at;
            len
        }
        Request::Scrape(s) => {
            if !ids.is_valid(s.connection_id(), ip, now) {
                return mismatch(t, s.transaction_id(), packet.len(), out);
            }
            t.stats.udp_scrapes += 1;
            let max = MAX_SCRAPE_HASHES.min(t.config.scrape_max as usize);
            let mut len = udp::emit_scrape_header(out, s.transaction_id());
            for h in s.info_hashes().take(max) {
                let c = t.scrape(&h, now).unwrap_or_default();
                len += udp::emit_scrape_entry(&mut out[len..], c.seeders, c.downloaded, c.leechers);
            }
            len
        }
    }
}

fn mismatch(t: &mut Tracker, tid: TransactionId, request_len: usize, out: &mut [u8]) -> usize {
    t.stats.udp_bad_connection_id += 1;
    error(out, tid, MISMATCH, request_len)
}

/// An error reply, cut to the request's length so it never amplifies.
fn error(out: &mut [u8], tid: TransactionId, message: &str, request_len: usize) -> usize {
    let room = request_len.min(out.len());
    let max_text = room.saturating_sub(8);
    let mut end = message.len().min(max_text);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    if room < 8 {
        return 0;
    }
    udp::emit_error(&mut out[..room], tid, &message[..end])
}

#[cfg(test)]
mod tests;
