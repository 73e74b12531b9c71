//! Pure parsing and emitting of the tracker's wire formats: no sockets, no clock, no tables.
//!
//! # Contract
//! Parsers take `&[u8]`, check lengths once, and return views or values that borrow from the
//! input, or a [`Error`]. No parser or accessor panics on any input: every module has a test that
//! feeds it every length from 0 past its maximum. Writers take `&mut [u8]` (or a [`Out`]) and
//! return how many bytes they wrote; they never allocate.

pub mod bencode;
pub mod extension;
pub mod http;
pub mod peer;
pub mod query;
pub mod udp;

/// Value of each byte as a hex digit, 0xff for "not a hex digit" (a table: list files of a
/// million lines are parsed a byte at a time).
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The value of `b` as a hexadecimal digit (either case), if it is one.
pub fn hex_digit(b: u8) -> Option<u8> {
    let v = HEX[usize::from(b)];
    (v != 0xff).then_some(v)
}

/// Why a packet or request was not understood. Small and `Copy`: it feeds counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than its fixed part.
    Truncated,
    /// A magic number or protocol constant is wrong.
    BadMagic,
    /// An action, method or message id we do not know.
    UnknownAction,
    /// Longer than we accept.
    TooLong,
    /// A field has a value outside its range or syntax.
    BadValue,
}

/// A byte sink over a caller's fixed buffer. Writes past the end are dropped and remembered, so
/// a writer can emit freely and the caller checks [`Out::is_overflow`] once.
pub struct Out<'a> {
    buf: &'a mut [u8],
    len: usize,
    overflow: bool,
}

impl<'a> Out<'a> {
    pub fn new(buf: &'a mut [u8]) -> Out<'a> {
        Out {
            buf,
            len: 0,
            overflow: false,
        }
    }

    pub fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if end > self.buf.len() {
            self.overflow = true;
            return;
        }
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    /// Writes `v` in decimal.
    pub fn put_u64(&mut self, v: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = v;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.put(&digits[i..]);
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.len
    }

    pub fn is_overflow(&self) -> bool {
        self.overflow
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Overwrites bytes already written at `at` (for lengths known only at the end).
    pub fn patch(&mut self, at: usize, bytes: &[u8]) {
        if at + bytes.len() <= self.len {
            self.buf[at..at + bytes.len()].copy_from_slice(bytes);
        }
    }

    /// Lets `f` write into the free space directly (a file read); `f` returns how many bytes it
    /// wrote (clamped to the free space).
    pub fn fill(&mut self, f: impl FnOnce(&mut [u8]) -> usize) {
        let free = &mut self.buf[self.len..];
        let n = f(free).min(free.len());
        self.len += n;
    }

    /// Forgets everything written after `len`.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

impl std::fmt::Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_writes_numbers_and_flags_overflow() {
        let mut buf = [0u8; 8];
        let mut o = Out::new(&mut buf);
        o.put_u64(0);
        o.put(b",");
        o.put_u64(123456);
        assert_eq!(o.written(), b"0,123456");
        o.put(b"x");
        assert!(o.is_overflow());
        assert_eq!(o.len(), 8);
        let mut big = [0u8; 20];
        let mut o = Out::new(&mut big);
        o.put_u64(u64::MAX);
        assert_eq!(o.written(), b"18446744073709551615");
    }
}
