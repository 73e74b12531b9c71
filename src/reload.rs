//! What a SIGHUP changes: the config file is read again and its new values are applied without
//! dropping swarms (this is what OpenWrt's `reload` sends after a UCI change).
//!
//! Capacities size tables that are allocated once at start-up, and the announce interval sets
//! the expiry slots of every stored peer: those keep their running values until a restart, and
//! the operator is told which. Everything else takes effect at once: listen addresses opened or
//! closed, access lists and their FIFOs, stats networks and path, redirect, numwant default,
//! full scrape and the HTTP idle timeout.

use crate::config::{Config, Listen};

/// Reads one numeric field of a config.
type Field = fn(&Config) -> u32;

/// Keys whose new value waits for a restart, with the field that holds it.
const RESTART_ONLY: [(&str, Field); 9] = [
    ("tracker.max_torrents", |c| c.max_torrents),
    ("tracker.max_peers", |c| c.max_peers),
    ("tracker.interval", |c| c.interval_secs),
    ("tracker.numwant_max", |c| c.numwant_max),
    ("tracker.scrape_max", |c| c.scrape_max),
    ("http.max_connections", |c| c.http_max_connections),
    ("seed.max_torrents", |c| c.seed_max_torrents),
    ("seed.max_connections", |c| c.seed_max_connections),
    ("seed.max_open_files", |c| c.seed_max_open_files),
];

/// The config to run with after a reload: `new`, except the restart-only values, which stay as
/// in `running`. Also returns the keys whose change waits for a restart.
pub fn effective(running: &Config, new: Config) -> (Config, Vec<&'static str>) {
    let mut waiting: Vec<&'static str> = RESTART_ONLY
        .iter()
        .filter(|(_, value)| value(running) != value(&new))
        .map(|(key, _)| *key)
        .collect();
    let mut c = new;
    c.max_torrents = running.max_torrents;
    c.max_peers = running.max_peers;
    c.interval_secs = running.interval_secs;
    c.numwant_max = running.numwant_max;
    c.scrape_max = running.scrape_max;
    c.http_max_connections = running.http_max_connections;
    c.seed_max_torrents = running.seed_max_torrents;
    c.seed_max_connections = running.seed_max_connections;
    c.seed_max_open_files = running.seed_max_open_files;
    if c.seed_listens != running.seed_listens {
        waiting.push("seed.listen");
    }
    c.seed_listens = running.seed_listens.clone();
    c.numwant_default = c.numwant_default.min(c.numwant_max);
    (c, waiting)
}

/// One listening socket: its address and protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub addr: std::net::SocketAddr,
    pub is_tcp: bool,
}

/// The sockets a listen list asks for, one per address and protocol.
pub fn endpoints(listens: &[Listen]) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = Vec::new();
    for l in listens {
        for (wanted, is_tcp) in [(l.tcp, true), (l.udp, false)] {
            let e = Endpoint {
                addr: l.addr,
                is_tcp,
            };
            if wanted && !out.contains(&e) {
                out.push(e);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_wait_for_a_restart_and_the_rest_applies() {
        let running = Config::default();
        let new = Config {
            max_peers: 5,
            interval_secs: 60,
            numwant_default: 500,
            fullscrape: false,
            redirect_url: Some("http://x/".into()),
            ..Config::default()
        };
        let (c, waiting) = effective(&running, new);
        assert_eq!(waiting, vec!["tracker.max_peers", "tracker.interval"]);
        assert_eq!(
            (c.max_peers, c.interval_secs),
            (running.max_peers, running.interval_secs)
        );
        assert_eq!(
            c.numwant_default, running.numwant_max,
            "capped to the running maximum"
        );
        assert!(!c.fullscrape);
        assert_eq!(c.redirect_url.as_deref(), Some("http://x/"));
        let (_, none) = effective(&running, Config::default());
        assert!(none.is_empty());
    }

    #[test]
    fn endpoints_are_distinct_per_protocol() {
        let a = "127.0.0.1:1".parse().unwrap();
        let b = "[::1]:2".parse().unwrap();
        let l = [
            Listen {
                addr: a,
                tcp: true,
                udp: true,
            },
            Listen {
                addr: a,
                tcp: true,
                udp: false,
            },
            Listen {
                addr: b,
                tcp: false,
                udp: true,
            },
        ];
        let e = endpoints(&l);
        assert_eq!(
            e,
            vec![
                Endpoint {
                    addr: a,
                    is_tcp: true
                },
                Endpoint {
                    addr: a,
                    is_tcp: false
                },
                Endpoint {
                    addr: b,
                    is_tcp: false
                },
            ]
        );
    }
}
