//! opentracker's tracker state lines (`/stats?mode=statedump`, loaded back with `-l file`):
//! `HEX40:<base minute>:<downloaded>\n`, one a torrent.

use super::render::put_hex40;
use crate::ids::InfoHash;
use crate::wire::Out;

/// Why a state line was not read. Small and `Copy`: the loader counts and skips bad lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateLineError {
    /// Nothing but a line ending (a loader skips these silently).
    Empty,
    /// The line does not start with 40 hex digits.
    BadHash,
    /// A `:` is missing after the hash or after the base minute.
    BadSeparator,
    /// A number is missing, holds a non-digit or exceeds `u64`.
    BadNumber,
    /// The downloaded count exceeds `u32`.
    TooLarge,
    /// Bytes follow the downloaded count (other than the line ending).
    Trailing,
}

impl StateLineError {
    pub fn message(self) -> &'static str {
        match self {
            StateLineError::Empty => "empty line",
            StateLineError::BadHash => "does not start with a 40-digit hex info hash",
            StateLineError::BadSeparator => "expected `:` between hash, base and downloaded",
            StateLineError::BadNumber => "base or downloaded is not a decimal number",
            StateLineError::TooLarge => "downloaded count is larger than 4294967295",
            StateLineError::Trailing => "unexpected bytes after the downloaded count",
        }
    }
}

/// `HEX40:<base_minutes>:<downloaded>\n` (opentracker's `TASK_FULLSCRAPE_TRACKERSTATE` entry).
pub(super) fn put_line(out: &mut Out, hash: &InfoHash, base_minutes: u64, downloaded: u32) {
    put_hex40(out, hash);
    out.put(b":");
    out.put_u64(base_minutes);
    out.put(b":");
    out.put_u64(u64::from(downloaded));
    out.put(b"\n");
}

/// Reads the leading decimal number of `s`: its value and the rest.
fn number(s: &[u8]) -> Result<(u64, &[u8]), StateLineError> {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(StateLineError::BadNumber);
    }
    let v = s[..digits]
        .iter()
        .try_fold(0u64, |acc, &d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or(StateLineError::BadNumber)?;
    Ok((v, &s[digits..]))
}

/// Parses one state line: the info hash and its downloaded count. The base minute is checked
/// and dropped (trackseed keeps no per-torrent base time). The line may end in `\n` or `\r\n`
/// or in nothing. Stricter than opentracker's loader, which skips bad hex digits and ignores
/// whatever follows the count: a line that is not exactly the format is an error, so a corrupt
/// file is noticed rather than half-read. Never panics.
pub fn parse_statedump_line(line: &[u8]) -> Result<(InfoHash, u32), StateLineError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(StateLineError::Empty);
    }
    let (hash_hex, rest) = line.split_at_checked(40).ok_or(StateLineError::BadHash)?;
    let mut hash = InfoHash::default();
    for (b, pair) in hash.0.iter_mut().zip(hash_hex.chunks_exact(2)) {
        let hi = crate::wire::hex_digit(pair[0]).ok_or(StateLineError::BadHash)?;
        let lo = crate::wire::hex_digit(pair[1]).ok_or(StateLineError::BadHash)?;
        *b = hi << 4 | lo;
    }
    let rest = rest
        .strip_prefix(b":")
        .ok_or(StateLineError::BadSeparator)?;
    let (_base, rest) = number(rest)?;
    let rest = rest
        .strip_prefix(b":")
        .ok_or(StateLineError::BadSeparator)?;
    let (downloaded, rest) = number(rest)?;
    if !rest.is_empty() {
        return Err(StateLineError::Trailing);
    }
    let downloaded = u32::try_from(downloaded).map_err(|_| StateLineError::TooLarge)?;
    Ok((hash, downloaded))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "356A192B7913B04C54574D18C28D46E6395428AB";

    fn hash() -> InfoHash {
        let mut h = InfoHash::default();
        for (i, b) in h.0.iter_mut().enumerate() {
            *b = u8::from_str_radix(&HASH[2 * i..2 * i + 2], 16).unwrap();
        }
        h
    }

    #[test]
    fn writes_opentrackers_line() {
        let mut buf = [0u8; 128];
        let mut out = Out::new(&mut buf);
        put_line(&mut out, &hash(), 29920609, 1);
        assert_eq!(out.written(), format!("{HASH}:29920609:1\n").as_bytes());
    }

    #[test]
    fn round_trips() {
        let mut buf = [0u8; 128];
        let mut seed = 0x9e37_79b9u32;
        for i in 0..500u32 {
            let mut h = InfoHash::default();
            for b in h.0.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                *b = seed as u8;
            }
            let downloaded = match i % 3 {
                0 => 0,
                1 => u32::MAX,
                _ => seed,
            };
            let mut out = Out::new(&mut buf);
            put_line(&mut out, &h, u64::from(seed) * 7, downloaded);
            assert_eq!(parse_statedump_line(out.written()), Ok((h, downloaded)));
        }
    }

    #[test]
    fn accepts_line_endings_and_lowercase() {
        let want = Ok((hash(), 7));
        let lower = HASH.to_ascii_lowercase();
        for line in [
            format!("{HASH}:1:7"),
            format!("{HASH}:1:7\n"),
            format!("{HASH}:1:7\r\n"),
            format!("{lower}:0:7\n"),
        ] {
            assert_eq!(parse_statedump_line(line.as_bytes()), want, "{line:?}");
        }
    }

    #[test]
    fn refuses_corrupt_lines() {
        use StateLineError::*;
        let cases: [(String, StateLineError); 16] = [
            (String::new(), Empty),
            ("\n".into(), Empty),
            ("\r\n".into(), Empty),
            ("# comment\n".into(), BadHash),
            (HASH[..39].into(), BadHash),
            (format!("{}G:1:1", &HASH[..39]), BadHash),
            (format!(" {HASH}:1:1"), BadHash),
            (HASH.into(), BadSeparator),
            (format!("{HASH};1:1"), BadSeparator),
            (format!("{HASH}:1"), BadSeparator),
            (format!("{HASH}::1"), BadNumber),
            (format!("{HASH}:1:"), BadNumber),
            (format!("{HASH}:1:-1"), BadNumber),
            (format!("{HASH}:99999999999999999999:1"), BadNumber),
            (format!("{HASH}:1:4294967296"), TooLarge),
            (format!("{HASH}:1:1 x\n"), Trailing),
        ];
        for (line, want) in cases {
            assert_eq!(parse_statedump_line(line.as_bytes()), Err(want), "{line:?}");
            assert!(!want.message().is_empty());
        }
        assert_eq!(
            parse_statedump_line(format!("{HASH}:1:1\n\n").as_bytes()),
            Err(Trailing)
        );
    }

    #[test]
    fn never_panics_on_any_length() {
        let good = format!("{HASH}:29920609:4294967295\r\n");
        let good = good.as_bytes();
        for len in 0..=good.len() + 8 {
            let mut line: Vec<u8> = good.iter().copied().cycle().take(len).collect();
            let _ = parse_statedump_line(&line);
            for i in 0..line.len() {
                let keep = line[i];
                for b in [0u8, b':', b'9', b'\n', 0xff] {
                    line[i] = b;
                    let _ = parse_statedump_line(&line);
                }
                line[i] = keep;
            }
        }
    }
}
