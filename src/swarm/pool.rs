//! Peer storage: singly linked lists of fixed-size chunks drawn from one pool per address family.
//!
//! A peer is stored as its compact address only (BEP 23: 4-byte IPv4 or 16-byte IPv6 address and
//! 2-byte port, network order), so an announce answer is a copy of stored bytes. Which list holds a
//! peer says everything else about it (seeder or leecher, time slot of its last announce).
//!
//! Chunk layout: `PEERS_PER_CHUNK` addresses, then a 4-byte link (little-endian `u32`: bits 0..29
//! are the next chunk's index + 1, 0 for none; bits 29..32 are the number of addresses in use).
//! Only a list's head chunk may be partly filled: insertion fills the head, removal moves the
//! head's last address into the hole. An IPv4 chunk is 34 bytes for 5 peers (6.8 bytes a peer).
//!
//! # Capacity
//! The pool is reserved at start-up (`Vec::with_capacity`, so untouched pages cost no RSS) and
//! never grows: `alloc` returns `None` once `capacity` chunks are in use.

/// Addresses per chunk.
pub const PEERS_PER_CHUNK: usize = 5;
const NEXT_MASK: u32 = (1 << 29) - 1;
const COUNT_SHIFT: u32 = 29;

/// A compact peer address of `LEN` bytes (6 for IPv4, 18 for IPv6).
pub trait Family {
    /// Bytes of one compact address.
    const LEN: usize;
    /// The raw chunk: `PEERS_PER_CHUNK * LEN + 4` bytes.
    type Chunk: Copy + AsRef<[u8]> + AsMut<[u8]>;
    const ZERO: Self::Chunk;
    /// Whether two `LEN`-byte addresses are equal: fixed-width loads, where a slice
    /// comparison would call `memcmp` (the lookup's inner loop).
    fn same(a: &[u8], b: &[u8]) -> bool;
}

fn word<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut w = [0u8; N];
    w.copy_from_slice(&b[at..at + N]);
    w
}

/// IPv4 peers: 6-byte compact addresses.
pub struct V4;
impl Family for V4 {
    const LEN: usize = 6;
    type Chunk = [u8; PEERS_PER_CHUNK * 6 + 4];
    const ZERO: Self::Chunk = [0; PEERS_PER_CHUNK * 6 + 4];
    fn same(a: &[u8], b: &[u8]) -> bool {
        word::<4>(a, 0) == word::<4>(b, 0) && word::<2>(a, 4) == word::<2>(b, 4)
    }
}

/// IPv6 peers: 18-byte compact addresses.
pub struct V6;
impl Family for V6 {
    const LEN: usize = 18;
    type Chunk = [u8; PEERS_PER_CHUNK * 18 + 4];
    const ZERO: Self::Chunk = [0; PEERS_PER_CHUNK * 18 + 4];
    fn same(a: &[u8], b: &[u8]) -> bool {
        word::<8>(a, 0) == word::<8>(b, 0)
            && word::<8>(a, 8) == word::<8>(b, 8)
            && word::<2>(a, 16) == word::<2>(b, 16)
    }
}

// The byte budget above, checked at compile time: 6.8 bytes per IPv4 peer in a full chunk.
const _: () = assert!(std::mem::size_of::<<V4 as Family>::Chunk>() == 34);
const _: () = assert!(std::mem::size_of::<<V6 as Family>::Chunk>() == 94);

/// A list is named by its head: chunk index + 1, or 0 when empty.
pub type Head = u32;

/// Where one address sits: (chunk index, position in the chunk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub chunk: u32,
    pub pos: usize,
}

pub struct Pool<F: Family> {
    chunks: Vec<F::Chunk>,
    capacity: usize,
    /// Head of the free chunk list (index + 1; 0 = none), linked through the link field.
    free: u32,
    in_use: usize,
}

impl<F: Family> Pool<F> {
    pub fn with_capacity(capacity: usize) -> Pool<F> {
        let capacity = capacity.min(NEXT_MASK as usize);
        Pool {
            chunks: Vec::with_capacity(capacity),
            capacity,
            free: 0,
            in_use: 0,
        }
    }

    /// Chunks in use.
    pub fn in_use(&self) -> usize {
        self.in_use
    }

    fn link(&self, chunk: u32) -> u32 {
        let c = self.chunks[chunk as usize].as_ref();
        let at = PEERS_PER_CHUNK * F::LEN;
        u32::from_le_bytes([c[at], c[at + 1], c[at + 2], c[at + 3]])
    }

    fn set_link(&mut self, chunk: u32, next: Head, count: usize) {
        let v = (next & NEXT_MASK) | ((count as u32) << COUNT_SHIFT);
        let at = PEERS_PER_CHUNK * F::LEN;
        self.chunks[chunk as usize].as_mut()[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// The chunk after `chunk` in its list, as a head value.
    pub fn next(&self, chunk: u32) -> Head {
        self.link(chunk) & NEXT_MASK
    }

    /// Addresses stored in `chunk`.
    pub fn count(&self, chunk: u32) -> usize {
        (self.link(chunk) >> COUNT_SHIFT) as usize
    }

    /// The address at `place`.
    pub fn addr(&self, chunk: u32, pos: usize) -> &[u8] {
        let at = pos * F::LEN;
        &self.chunks[chunk as usize].as_ref()[at..at + F::LEN]
    }

    /// The used addresses of `chunk`, `LEN` bytes each, back to back.
    pub fn addrs(&self, chunk: u32) -> &[u8] {
        &self.chunks[chunk as usize].as_ref()[..self.count(chunk) * F::LEN]
    }

    fn alloc(&mut self) -> Option<u32> {
        if self.free != 0 {
            let idx = self.free - 1;
            self.free = self.next(idx);
            self.in_use += 1;
            return Some(idx);
        }
        if self.chunks.len() >= self.capacity {
            return None;
        }
        self.chunks.push(F::ZERO);
        self.in_use += 1;
        Some((self.chunks.len() - 1) as u32)
    }

    fn release(&mut self, chunk: u32) {
        let free = self.free;
        self.set_link(chunk, free, 0);
        self.free = chunk + 1;
        self.in_use -= 1;
    }

    /// Adds `addr` to the list at `head`. `None` when the pool is exhausted.
    pub fn push(&mut self, head: &mut Head, addr: &[u8]) -> Option<()> {
        let h = *head;
        if h != 0 && self.count(h - 1) < PEERS_PER_CHUNK {
            let c = h - 1;
            let n = self.count(c);
            let next = self.next(c);
            self.write(c, n, addr);
            self.set_link(c, next, n + 1);
            return Some(());
        }
        let c = self.alloc()?;
        self.write(c, 0, addr);
        self.set_link(c, h, 1);
        *head = c + 1;
        Some(())
    }

    fn write(&mut self, chunk: u32, pos: usize, addr: &[u8]) {
        let at = pos * F::LEN;
        self.chunks[chunk as usize].as_mut()[at..at + F::LEN].copy_from_slice(addr);
    }

    /// Finds `addr` in the list at `head`.
    pub fn find(&self, head: Head, addr: &[u8]) -> Option<Place> {
        let mut h = head;
        while h != 0 {
            let c = h - 1;
            if let Some(pos) = self
                .addrs(c)
                .chunks_exact(F::LEN)
                .position(|a| F::same(a, addr))
            {
                return Some(Place { chunk: c, pos });
            }
            h = self.next(c);
        }
        None
    }

    /// Removes the address at `place` from the list at `head`. Returns the chunk freed, if the
    /// head chunk became empty (callers holding references to chunks must drop them).
    pub fn remove(&mut self, head: &mut Head, place: Place) -> Option<u32> {
        let h = *head - 1;
        let n = self.count(h);
        let next = self.next(h);
        if (place.chunk, place.pos) != (h, n - 1) {
            let mut last = [0u8; 18];
            last[..F::LEN].copy_from_slice(self.addr(h, n - 1));
            self.write(place.chunk, place.pos, &last[..F::LEN]);
        }
        if n == 1 {
            *head = next;
            self.release(h);
            Some(h)
        } else {
            self.set_link(h, next, n - 1);
            None
        }
    }

    /// Frees the whole list at `head` and returns how many addresses it held.
    pub fn clear(&mut self, head: &mut Head) -> u32 {
        let mut removed = 0;
        let mut h = *head;
        while h != 0 {
            let c = h - 1;
            removed += self.count(c) as u32;
            h = self.next(c);
            self.release(c);
        }
        *head = 0;
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u32) -> [u8; 6] {
        let b = i.to_be_bytes();
        [b[0], b[1], b[2], b[3], 0x1a, 0xe1]
    }

    fn collect(pool: &Pool<V4>, head: Head) -> Vec<[u8; 6]> {
        let mut out = Vec::new();
        let mut h = head;
        while h != 0 {
            for a in pool.addrs(h - 1).chunks_exact(6) {
                out.push(a.try_into().unwrap());
            }
            h = pool.next(h - 1);
        }
        out.sort();
        out
    }

    #[test]
    fn push_find_remove_keep_the_list_exact() {
        let mut pool = Pool::<V4>::with_capacity(100);
        let mut head = 0;
        let mut model: Vec<[u8; 6]> = Vec::new();
        for i in 0..23 {
            pool.push(&mut head, &addr(i)).unwrap();
            model.push(addr(i));
        }
        assert_eq!(pool.in_use(), 5);
        // Remove in a scattered order and compare with the model each time.
        for i in [
            0u32, 22, 7, 13, 5, 1, 2, 3, 4, 6, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21,
        ] {
            let place = pool.find(head, &addr(i)).expect("present");
            pool.remove(&mut head, place);
            model.retain(|a| *a != addr(i));
            model.sort();
            assert_eq!(collect(&pool, head), model);
            assert!(pool.find(head, &addr(i)).is_none());
        }
        assert_eq!(head, 0);
        assert_eq!(pool.in_use(), 0);
    }

    #[test]
    fn exhausted_pool_refuses_and_freed_chunks_are_reused() {
        let mut pool = Pool::<V4>::with_capacity(2);
        let mut a = 0;
        let mut b = 0;
        for i in 0..5 {
            pool.push(&mut a, &addr(i)).unwrap();
        }
        pool.push(&mut b, &addr(9)).unwrap();
        assert!(pool.push(&mut a, &addr(5)).is_none(), "third chunk refused");
        assert_eq!(pool.clear(&mut b), 1);
        pool.push(&mut a, &addr(5)).unwrap();
        assert_eq!(collect(&pool, a).len(), 6);
        assert_eq!(pool.clear(&mut a), 6);
        assert_eq!(pool.in_use(), 0);
    }

    #[test]
    fn v6_addresses_round_trip() {
        let mut pool = Pool::<V6>::with_capacity(4);
        let mut head = 0;
        let a: [u8; 18] = core::array::from_fn(|i| i as u8);
        pool.push(&mut head, &a).unwrap();
        let p = pool.find(head, &a).unwrap();
        assert_eq!(pool.addr(p.chunk, p.pos), &a);
    }
}
