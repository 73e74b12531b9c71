//! Counters of what the tracker did, one `u64` each (one thread: no atomics, and 32-bit MIPS has
//! no 64-bit atomics anyway). Rendering for `/stats` arrives with the operations work.

/// Everything counted. Field names say what moved.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub tcp_accepts: u64,
    pub tcp_refused_full: u64,
    pub http_announces: u64,
    pub http_scrapes: u64,
    pub http_full_scrapes: u64,
    pub http_errors: u64,
    pub udp_packets: u64,
    pub udp_connects: u64,
    pub udp_announces: u64,
    pub udp_scrapes: u64,
    pub udp_bad_connection_id: u64,
    pub udp_malformed: u64,
    pub udp_send_dropped: u64,
    pub refused_torrent_table_full: u64,
    pub refused_peer_table_full: u64,
    pub completed: u64,
}
