//! Bencode output (BEP 3) into an [`Out`]: just what tracker answers need. Callers write
//! dictionary keys in sorted order, as bencode requires.

use super::Out;

/// `<len>:<bytes>`
pub fn put_bytes(out: &mut Out<'_>, bytes: &[u8]) {
    out.put_u64(bytes.len() as u64);
    out.put(b":");
    out.put(bytes);
}

/// `i<v>e`
pub fn put_int(out: &mut Out<'_>, v: u64) {
    out.put(b"i");
    out.put_u64(v);
    out.put(b"e");
}

/// A key (a byte string) followed by an integer value.
pub fn put_key_int(out: &mut Out<'_>, key: &[u8], v: u64) {
    put_bytes(out, key);
    put_int(out, v);
}

/// `d14:failure reason<len>:<reason>e`
pub fn put_failure(out: &mut Out<'_>, reason: &str) {
    out.put(b"d");
    put_bytes(out, b"failure reason");
    put_bytes(out, reason.as_bytes());
    out.put(b"e");
}

/// The decimal digits of a bencode integer or string length from `from`: their value (`None`
/// past `u64`) and the offset of the first byte that is not a digit. For the readers of
/// `.torrent` files and extension messages.
pub fn digits(bytes: &[u8], from: usize) -> (Option<u64>, usize) {
    let mut v = Some(0u64);
    let mut pos = from;
    while let Some(&c) = bytes.get(pos) {
        if !c.is_ascii_digit() {
            break;
        }
        v = v
            .and_then(|v| v.checked_mul(10))
            .and_then(|v| v.checked_add(u64::from(c - b'0')));
        pos += 1;
    }
    (v, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_bencode() {
        let mut buf = [0u8; 128];
        let mut o = Out::new(&mut buf);
        o.put(b"d");
        put_key_int(&mut o, b"complete", 2);
        put_bytes(&mut o, b"peers");
        put_bytes(&mut o, &[1, 2, 3, 4, 5, 6]);
        o.put(b"e");
        assert_eq!(
            o.written(),
            b"d8:completei2e5:peers6:\x01\x02\x03\x04\x05\x06e"
        );
        let mut o = Out::new(&mut buf);
        put_failure(&mut o, "nope");
        assert_eq!(o.written(), b"d14:failure reason4:nopee");
    }
}
