//! Incremental SHA-1 piece hashing (BEP 3 `pieces`).
//!
//! A [`PieceHasher`] never reads files and never blocks: the caller feeds it the torrent's bytes
//! in order (the files concatenated, as BEP 3 defines the content), in slices of any size, so the
//! event loop can hash a little per tick. Pieces span file boundaries. SHA-1 is
//! [`crate::sys::sha1`]: the CPU's SHA instructions where it has them, `sha1_smol` elsewhere.

use crate::sys::sha1::Sha1;

/// Hashes a byte stream into 20-byte SHA-1 piece digests.
pub struct PieceHasher {
    piece_length: u32,
    current: Sha1,
    /// Bytes of the current (unfinished) piece fed so far; always `< piece_length`.
    filled: u32,
    /// Finished digests, 20 bytes each.
    pieces: Vec<u8>,
}

impl PieceHasher {
    /// A hasher for pieces of `piece_length` bytes (must be non-zero).
    pub fn new(piece_length: u32) -> PieceHasher {
        assert!(piece_length > 0, "piece length must be non-zero");
        PieceHasher {
            piece_length,
            current: Sha1::new(),
            filled: 0,
            pieces: Vec::new(),
        }
    }

    /// The piece length this hasher cuts at.
    pub fn piece_length(&self) -> u32 {
        self.piece_length
    }

    /// Number of complete pieces hashed so far.
    pub fn pieces_done(&self) -> usize {
        self.pieces.len() / 20
    }

    /// Feeds the next `bytes` of the content.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = (self.piece_length - self.filled) as usize;
            let take = room.min(bytes.len());
            self.current.update(&bytes[..take]);
            // take <= room <= piece_length, which fits u32.
            self.filled += take as u32;
            bytes = &bytes[take..];
            if self.filled == self.piece_length {
                self.pieces.extend_from_slice(&self.current.digest());
                self.current.reset();
                self.filled = 0;
            }
        }
    }

    /// The concatenated digests: the last, short piece is hashed too if any bytes are pending.
    /// Zero bytes in total give no pieces at all (an empty `pieces` string, as mktorrent writes).
    pub fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            self.pieces.extend_from_slice(&self.current.digest());
        }
        self.pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(data: &[u8], pl: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in data.chunks(pl) {
            out.extend_from_slice(&sha1_smol::Sha1::from(chunk).digest().bytes());
        }
        out
    }

    fn data(n: usize) -> Vec<u8> {
        let mut x: u32 = 12345;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect()
    }

    #[test]
    fn matches_direct_hash_for_any_slicing() {
        let pl = 64usize;
        for total in [0usize, 1, 63, 64, 65, 127, 128, 129, 1000] {
            let d = data(total);
            let want = direct(&d, pl);
            for step in [1usize, 3, 63, 64, 65, 200, 5000] {
                let mut h = PieceHasher::new(pl as u32);
                for c in d.chunks(step) {
                    h.feed(c);
                }
                h.feed(&[]);
                assert_eq!(h.finish(), want, "total {total} step {step}");
            }
        }
    }

    #[test]
    fn pieces_span_file_boundaries() {
        // Three "files" of uneven sizes fed one after the other equal their concatenation.
        let files = [data(10), data(0), data(100), data(7)];
        let all: Vec<u8> = files.concat();
        let mut h = PieceHasher::new(32);
        for f in &files {
            h.feed(f);
        }
        assert_eq!(h.pieces_done(), all.len() / 32);
        assert_eq!(h.finish(), direct(&all, 32));
    }

    #[test]
    fn empty_gives_no_pieces() {
        assert!(PieceHasher::new(16384).finish().is_empty());
    }
}
