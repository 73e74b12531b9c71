//! What the sites publish: each site's entries (one per top-level file or folder of its file
//! directory) and their state, and the set of published info hashes the tracker admits. The
//! publisher writes it; the HTTP front end reads it (index page, `/torrents/`), and the tracker
//! asks [`Catalog::is_published`] on the announce path (a binary search, no allocation).

use super::signature::Signature;
use crate::clock::Secs;
use crate::config::Site;
use crate::ids::InfoHash;
use std::path::PathBuf;

/// Where an entry is on its way to being published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Seen changing recently (or just seen): waits until it has been still for
    /// `publish.settle_secs` (from `since`, the monotonic time its signature was first seen).
    Settling {
        since: Secs,
    },
    /// Waits for the hashing job.
    Queued,
    /// Being hashed: bytes done of the total.
    Hashing {
        done: u64,
    },
    Published(Published),
    /// Cannot be published (an unsafe name, a read error): why, as logged.
    Failed(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    pub info_hash: InfoHash,
    /// Length of the `.torrent` file written.
    pub torrent_len: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file or folder name in the file directory (checked: a single safe component).
    pub name: String,
    pub sig: Signature,
    pub state: State,
}

impl Entry {
    pub fn published(&self) -> Option<&Published> {
        match &self.state {
            State::Published(p) => Some(p),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteCatalog {
    pub site: Site,
    /// Sorted by name.
    pub entries: Vec<Entry>,
}

impl SiteCatalog {
    pub fn new(site: Site) -> SiteCatalog {
        SiteCatalog {
            site,
            entries: Vec::new(),
        }
    }

    /// The entry called `name`.
    pub fn find(&self, name: &[u8]) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.name.as_bytes().cmp(name))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Where the `.torrent` of entry `name` is written. `name` comes from the directory
    /// listing and passed [`crate::metainfo::check_component`]: one safe component.
    pub fn torrent_path(&self, name: &str) -> PathBuf {
        self.site.torrent_dir.join(format!("{name}.torrent"))
    }

    /// The announce URLs of this site: HTTP first, then UDP (BEP 12 tiers in that order).
    pub fn announce_urls(&self) -> [String; 2] {
        self.site.announce_urls()
    }
}

/// Every site's catalog and the published hashes.
#[derive(Debug, Default)]
pub struct Catalog {
    pub sites: Vec<SiteCatalog>,
    /// Published info hashes, sorted, one per published entry (two sites publishing the same
    /// content hold it twice).
    published: Vec<InfoHash>,
    /// Whether only published torrents are tracked when no access list is configured (sites
    /// exist and `publish.open_tracker` is off).
    pub only_published: bool,
    /// Changes whenever the published set does (the seeder follows it).
    pub generation: u64,
}

impl Catalog {
    pub fn is_published(&self, h: &InfoHash) -> bool {
        self.published.binary_search(h).is_ok()
    }

    pub fn published_count(&self) -> usize {
        self.published.len()
    }

    /// Records `h` as published once more.
    pub fn add_hash(&mut self, h: InfoHash) {
        let at = self.published.partition_point(|x| x < &h);
        self.published.insert(at, h);
        self.generation += 1;
    }

    /// Forgets one publication of `h`; returns whether `h` is still published (elsewhere).
    pub fn remove_hash(&mut self, h: &InfoHash) -> bool {
        if let Ok(i) = self.published.binary_search(h) {
            self.published.remove(i);
            self.generation += 1;
        }
        self.is_published(h)
    }

    /// The site served on local port `port`.
    pub fn site_on_port(&self, port: u16) -> Option<usize> {
        self.sites.iter().position(|s| s.site.port == port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_set_counts_duplicates() {
        let mut c = Catalog::default();
        let (a, b) = (InfoHash([1; 20]), InfoHash([2; 20]));
        c.add_hash(b);
        c.add_hash(a);
        c.add_hash(b);
        assert!(c.is_published(&a) && c.is_published(&b));
        assert_eq!(c.published_count(), 3);
        assert!(c.remove_hash(&b), "still published by the other site");
        assert!(!c.remove_hash(&b));
        assert!(!c.is_published(&b));
        assert!(!c.remove_hash(&InfoHash([9; 20])));
        assert!(c.is_published(&a));
    }
}
