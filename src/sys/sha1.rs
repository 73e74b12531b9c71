//! SHA-1 with the CPU's SHA instructions where stable `std::arch` exposes them.
//!
//! - x86_64 with SHA-NI (`sha`, `ssse3`, `sse4.1`): [`implementation`] is `"sha-ni"`.
//! - aarch64 with the Armv8 SHA-1 instructions (`sha2` feature): `"armv8-sha"`.
//! - everything else (mips, armv7, older CPUs): `"portable"`, which is `sha1_smol`.
//!
//! The choice is made at run time (std caches the CPU feature probe). The accelerated paths keep
//! a 64-byte block buffer and call a block `compress` function; the intrinsics are `unsafe`
//! (they need the feature checked first), which is why this lives in `src/sys/`.

/// Compresses whole 64-byte blocks into the five-word state.
type Compress = fn(&mut [u32; 5], &[[u8; 64]]);

const INITIAL: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// The block function this CPU gets, `None` for the portable path.
fn accelerated() -> Option<(Compress, &'static str)> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse2")
            && std::arch::is_x86_feature_detected!("ssse3")
            && std::arch::is_x86_feature_detected!("sse4.1")
        {
            return Some((x86::compress, "sha-ni"));
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("sha2") {
            return Some((arm::compress, "armv8-sha"));
        }
    }
    None
}

/// Which implementation [`Sha1::new`] picks on this CPU: `"sha-ni"`, `"armv8-sha"` or
/// `"portable"`.
pub fn implementation() -> &'static str {
    accelerated().map_or("portable", |(_, name)| name)
}

/// An incremental SHA-1 hasher.
#[derive(Clone)]
pub struct Sha1 {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Portable(sha1_smol::Sha1),
    Block(Block),
}

#[derive(Clone)]
struct Block {
    compress: Compress,
    state: [u32; 5],
    buf: [u8; 64],
    /// Bytes pending in `buf`; always `< 64` between calls.
    buf_len: usize,
    /// Total bytes fed.
    len: u64,
}

/// `data` as whole 64-byte blocks, and the tail shorter than a block.
fn blocks(data: &[u8]) -> (&[[u8; 64]], &[u8]) {
    let n = data.len() / 64;
    // SAFETY: `[u8; 64]` has size 64 and alignment 1, and the first `n * 64` bytes of `data` are
    // initialised and borrowed for the returned lifetime, so they are `n` valid arrays.
    let whole = unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<[u8; 64]>(), n) };
    (whole, &data[n * 64..])
}

impl Block {
    fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let take = (64 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < 64 {
                return;
            }
            (self.compress)(&mut self.state, std::slice::from_ref(&self.buf));
            self.buf_len = 0;
        }
        let (whole, tail) = blocks(data);
        if !whole.is_empty() {
            (self.compress)(&mut self.state, whole);
        }
        self.buf[..tail.len()].copy_from_slice(tail);
        self.buf_len = tail.len();
    }

    fn digest(&self) -> [u8; 20] {
        let mut state = self.state;
        let mut last = [[0u8; 64]; 2];
        let n = self.buf_len;
        last[0][..n].copy_from_slice(&self.buf[..n]);
        last[0][n] = 0x80;
        // The length takes the last 8 bytes: it fits the first block if 1 + 8 more bytes do.
        let count = if n < 56 { 1 } else { 2 };
        let bits = self.len.wrapping_mul(8).to_be_bytes();
        last[count - 1][56..].copy_from_slice(&bits);
        (self.compress)(&mut state, &last[..count]);
        let mut out = [0u8; 20];
        for (o, w) in out.chunks_exact_mut(4).zip(state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

impl Sha1 {
    /// A hasher with nothing fed, on the fastest implementation this CPU has.
    pub fn new() -> Sha1 {
        let inner = match accelerated() {
            Some((compress, _)) => Inner::Block(Block {
                compress,
                state: INITIAL,
                buf: [0; 64],
                buf_len: 0,
                len: 0,
            }),
            None => Inner::Portable(sha1_smol::Sha1::new()),
        };
        Sha1 { inner }
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.inner {
            Inner::Portable(h) => h.update(data),
            Inner::Block(b) => b.update(data),
        }
    }

    /// The digest of everything fed so far (the hasher can go on being fed).
    pub fn digest(&self) -> [u8; 20] {
        match &self.inner {
            Inner::Portable(h) => h.digest().bytes(),
            Inner::Block(b) => b.digest(),
        }
    }

    /// Forgets everything fed.
    pub fn reset(&mut self) {
        match &mut self.inner {
            Inner::Portable(h) => h.reset(),
            Inner::Block(b) => {
                b.state = INITIAL;
                b.buf_len = 0;
                b.len = 0;
            }
        }
    }
}

impl Default for Sha1 {
    fn default() -> Sha1 {
        Sha1::new()
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_extract_epi32, _mm_loadu_si128, _mm_set_epi32, _mm_set_epi64x,
        _mm_sha1msg1_epu32, _mm_sha1msg2_epu32, _mm_sha1nexte_epu32, _mm_sha1rnds4_epu32,
        _mm_shuffle_epi8, _mm_xor_si128,
    };

    /// Only ever handed out by `accelerated()` after the features were detected.
    pub(super) fn compress(state: &mut [u32; 5], blocks: &[[u8; 64]]) {
        // SAFETY: `accelerated()` returns this function only when sha, sse2, ssse3 and sse4.1
        // were detected on this CPU.
        unsafe { compress_sha_ni(state, blocks) }
    }

    /// Four rounds on `abcd` with E+W in `ew`; `$f` selects the round function (0..=3).
    macro_rules! rounds4 {
        ($abcd:expr, $ew:expr, $f:literal) => {
            _mm_sha1rnds4_epu32($abcd, $ew, $f)
        };
    }

    /// `w[i]` for the next four words from the previous sixteen (`w0` oldest).
    macro_rules! schedule {
        ($w0:expr, $w1:expr, $w2:expr, $w3:expr) => {
            _mm_sha1msg2_epu32(_mm_xor_si128(_mm_sha1msg1_epu32($w0, $w1), $w2), $w3)
        };
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn compress_sha_ni(state: &mut [u32; 5], blocks: &[[u8; 64]]) {
        // Reverses all 16 bytes: the big-endian word 0 lands in the top lane, as SHA-NI wants.
        let mask = _mm_set_epi64x(0x0001_0203_0405_0607, 0x0809_0A0B_0C0D_0E0F);
        let mut abcd = _mm_set_epi32(
            state[0] as i32,
            state[1] as i32,
            state[2] as i32,
            state[3] as i32,
        );
        let mut e = _mm_set_epi32(state[4] as i32, 0, 0, 0);

        for block in blocks {
            let p = block.as_ptr().cast::<__m128i>();
            // SAFETY: `block` is 64 bytes, so the four 16-byte loads at 0, 16, 32, 48 are in
            // bounds; `_mm_loadu_si128` has no alignment requirement.
            let (mut w0, mut w1, mut w2, mut w3) = unsafe {
                (
                    _mm_shuffle_epi8(_mm_loadu_si128(p), mask),
                    _mm_shuffle_epi8(_mm_loadu_si128(p.add(1)), mask),
                    _mm_shuffle_epi8(_mm_loadu_si128(p.add(2)), mask),
                    _mm_shuffle_epi8(_mm_loadu_si128(p.add(3)), mask),
                )
            };
            let mut w4;

            // h0/h1 alternate as "ABCD now" and "ABCD four rounds ago" (whose A gives E).
            let mut h0 = abcd;
            let mut h1;

            // Rounds 0..20.
            h1 = rounds4!(h0, _mm_add_epi32(e, w0), 0);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w1), 0);
            h1 = rounds4!(h0, _mm_sha1nexte_epu32(h1, w2), 0);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w3), 0);
            w4 = schedule!(w0, w1, w2, w3);
            h1 = rounds4!(h0, _mm_sha1nexte_epu32(h1, w4), 0);

            // Rounds 20..40.
            w0 = schedule!(w1, w2, w3, w4);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w0), 1);
            w1 = schedule!(w2, w3, w4, w0);
            h1 = rounds4!(h0, _mm_sha1nexte_epu32(h1, w1), 1);
            w2 = schedule!(w3, w4, w0, w1);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w2), 1);
            w3 = schedule!(w4, w0, w1, w2);
            h1 = rounds4!(h0, _mm_sha1nexte_epu32(h1, w3), 1);
            w4 = schedule!(w0, w1, w2, w3);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w4), 1);

            // Rounds 40..60.
            w0 = schedule!(w1, w2, w3, w4);
            h1 = rounds4!(h0, _mm_sha1nexte_epu32(h1, w0), 2);
            w1 = schedule!(w2, w3, w4, w0);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w1), 2);
            w2 = schedule!(w3, w4, w0, w1);
            h1 = rounds4!(h0, _mm_sha1nexte_epu32(h1, w2), 2);
            w3 = schedule!(w4, w0, w1, w2);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w3), 2);
            w4 = schedule!(w0, w1, w2, w3);
            h1 = rounds4!(h0, _mm_sha1nexte_epu32(h1, w4), 2);

            // Rounds 60..80.
            w0 = schedule!(w1, w2, w3, w4);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w0), 3);
            w1 = schedule!(w2, w3, w4, w0);
            h1 = rounds4!(h0, _mm_sha1nexte_epu32(h1, w1), 3);
            w2 = schedule!(w3, w4, w0, w1);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w2), 3);
            w3 = schedule!(w4, w0, w1, w2);
            h1 = rounds4!(h0, _mm_sha1nexte_epu32(h1, w3), 3);
            w4 = schedule!(w0, w1, w2, w3);
            h0 = rounds4!(h1, _mm_sha1nexte_epu32(h0, w4), 3);

            abcd = _mm_add_epi32(abcd, h0);
            e = _mm_sha1nexte_epu32(h1, e);
        }

        state[0] = _mm_extract_epi32(abcd, 3) as u32;
        state[1] = _mm_extract_epi32(abcd, 2) as u32;
        state[2] = _mm_extract_epi32(abcd, 1) as u32;
        state[3] = _mm_extract_epi32(abcd, 0) as u32;
        state[4] = _mm_extract_epi32(e, 3) as u32;
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use core::arch::aarch64::{
        uint32x4_t, vaddq_u32, vdupq_n_u32, vgetq_lane_u32, vld1q_u32, vld1q_u8,
        vreinterpretq_u32_u8, vrev32q_u8, vsha1cq_u32, vsha1h_u32, vsha1mq_u32, vsha1pq_u32,
        vsha1su0q_u32, vsha1su1q_u32, vst1q_u32,
    };

    /// Only ever handed out by `accelerated()` after the feature was detected.
    pub(super) fn compress(state: &mut [u32; 5], blocks: &[[u8; 64]]) {
        // SAFETY: `accelerated()` returns this function only when the `sha2` feature (which
        // includes the SHA-1 instructions) was detected on this CPU.
        unsafe { compress_armv8(state, blocks) }
    }

    /// Four rounds: E for the next four from A now, then the rounds with `$op`.
    macro_rules! rounds4 {
        ($abcd:ident, $e:ident, $w:expr, $k:expr, $op:ident) => {{
            let next_e = vsha1h_u32(vgetq_lane_u32($abcd, 0));
            $abcd = $op($abcd, $e, vaddq_u32($w, $k));
            $e = next_e;
        }};
    }

    /// The next four message words from the previous sixteen (`w0` oldest).
    macro_rules! schedule {
        ($w0:expr, $w1:expr, $w2:expr, $w3:expr) => {
            vsha1su1q_u32(vsha1su0q_u32($w0, $w1, $w2), $w3)
        };
    }

    #[target_feature(enable = "sha2")]
    unsafe fn compress_armv8(state: &mut [u32; 5], blocks: &[[u8; 64]]) {
        let k0 = vdupq_n_u32(0x5A82_7999);
        let k1 = vdupq_n_u32(0x6ED9_EBA1);
        let k2 = vdupq_n_u32(0x8F1B_BCDC);
        let k3 = vdupq_n_u32(0xCA62_C1D6);
        // SAFETY: `state` has at least four u32s to load.
        let mut abcd: uint32x4_t = unsafe { vld1q_u32(state.as_ptr()) };
        let mut e0 = state[4];

        for block in blocks {
            let p = block.as_ptr();
            // SAFETY: `block` is 64 bytes, so the four 16-byte loads at 0, 16, 32, 48 are in
            // bounds; `vld1q_u8` has no alignment requirement.
            let (mut w0, mut w1, mut w2, mut w3) = unsafe {
                (
                    vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p))),
                    vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p.add(16)))),
                    vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p.add(32)))),
                    vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p.add(48)))),
                )
            };
            let (abcd0, e_start) = (abcd, e0);
            let mut e = e0;

            // Rounds 0..20.
            rounds4!(abcd, e, w0, k0, vsha1cq_u32);
            rounds4!(abcd, e, w1, k0, vsha1cq_u32);
            rounds4!(abcd, e, w2, k0, vsha1cq_u32);
            rounds4!(abcd, e, w3, k0, vsha1cq_u32);
            w0 = schedule!(w0, w1, w2, w3);
            rounds4!(abcd, e, w0, k0, vsha1cq_u32);
            // Rounds 20..40.
            w1 = schedule!(w1, w2, w3, w0);
            rounds4!(abcd, e, w1, k1, vsha1pq_u32);
            w2 = schedule!(w2, w3, w0, w1);
            rounds4!(abcd, e, w2, k1, vsha1pq_u32);
            w3 = schedule!(w3, w0, w1, w2);
            rounds4!(abcd, e, w3, k1, vsha1pq_u32);
            w0 = schedule!(w0, w1, w2, w3);
            rounds4!(abcd, e, w0, k1, vsha1pq_u32);
            w1 = schedule!(w1, w2, w3, w0);
            rounds4!(abcd, e, w1, k1, vsha1pq_u32);
            // Rounds 40..60.
            w2 = schedule!(w2, w3, w0, w1);
            rounds4!(abcd, e, w2, k2, vsha1mq_u32);
            w3 = schedule!(w3, w0, w1, w2);
            rounds4!(abcd, e, w3, k2, vsha1mq_u32);
            w0 = schedule!(w0, w1, w2, w3);
            rounds4!(abcd, e, w0, k2, vsha1mq_u32);
            w1 = schedule!(w1, w2, w3, w0);
            rounds4!(abcd, e, w1, k2, vsha1mq_u32);
            w2 = schedule!(w2, w3, w0, w1);
            rounds4!(abcd, e, w2, k2, vsha1mq_u32);
            // Rounds 60..80.
            w3 = schedule!(w3, w0, w1, w2);
            rounds4!(abcd, e, w3, k3, vsha1pq_u32);
            w0 = schedule!(w0, w1, w2, w3);
            rounds4!(abcd, e, w0, k3, vsha1pq_u32);
            w1 = schedule!(w1, w2, w3, w0);
            rounds4!(abcd, e, w1, k3, vsha1pq_u32);
            w2 = schedule!(w2, w3, w0, w1);
            rounds4!(abcd, e, w2, k3, vsha1pq_u32);
            w3 = schedule!(w3, w0, w1, w2);
            rounds4!(abcd, e, w3, k3, vsha1pq_u32);

            abcd = vaddq_u32(abcd, abcd0);
            e0 = e_start.wrapping_add(e);
        }

        let mut out = [0u32; 4];
        // SAFETY: `out` has room for the four u32s stored.
        unsafe { vst1q_u32(out.as_mut_ptr(), abcd) };
        state[..4].copy_from_slice(&out);
        state[4] = e0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smol(data: &[u8]) -> [u8; 20] {
        sha1_smol::Sha1::from(data).digest().bytes()
    }

    fn ours(data: &[u8]) -> [u8; 20] {
        let mut h = Sha1::new();
        h.update(data);
        h.digest()
    }

    fn pattern(n: usize) -> Vec<u8> {
        let mut x: u32 = 0x1234_5678;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    fn hex(d: [u8; 20]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_vectors() {
        assert_eq!(hex(ours(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(ours(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(ours(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn every_length_matches_sha1_smol() {
        let data = pattern(300);
        for n in 0..=300 {
            assert_eq!(ours(&data[..n]), smol(&data[..n]), "length {n}");
        }
    }

    #[test]
    fn random_splits_match() {
        let data = pattern(5000);
        let want = smol(&data);
        let mut x: u32 = 99;
        for round in 0..20 {
            let mut h = Sha1::new();
            let mut rest = &data[..];
            while !rest.is_empty() {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let cap = if round % 2 == 0 { 70 } else { 700 };
                let take = ((x >> 16) as usize % cap).min(rest.len());
                h.update(&rest[..take]);
                rest = &rest[take..];
            }
            assert_eq!(h.digest(), want, "round {round}");
        }
    }

    #[test]
    fn one_mebibyte_and_reset() {
        let data = pattern(1 << 20);
        let mut h = Sha1::new();
        h.update(b"junk");
        h.reset();
        h.update(&data);
        assert_eq!(h.digest(), smol(&data));
        // digest() does not consume: feeding more continues the same stream.
        h.update(b"more");
        let mut both = data.clone();
        both.extend_from_slice(b"more");
        assert_eq!(h.digest(), smol(&both));
    }

    #[test]
    fn implementation_is_reported() {
        let name = implementation();
        println!("sha1 implementation: {name}");
        assert!(["sha-ni", "armv8-sha", "portable"].contains(&name));
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        assert_eq!(name, "portable");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse4.1")
        {
            assert_eq!(name, "sha-ni");
        }
        #[cfg(target_arch = "aarch64")]
        if std::arch::is_aarch64_feature_detected!("sha2") {
            assert_eq!(name, "armv8-sha");
        }
    }
}
