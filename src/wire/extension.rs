//! BEP 10 extension protocol handshake and BEP 9 `ut_metadata`, for a seeder: we read a
//! peer's extension handshake and its metadata requests, and answer with the info dictionary.
//!
//! Both are extended messages (peer message id 20, see [`super::peer`]): the byte after the id
//! is the extended id (0 for the handshake, else an id the receiver chose in its handshake's
//! `m` dictionary), and the rest is a bencoded dictionary (for `ut_metadata` data, followed by
//! raw bytes). The parsers here take that rest, `payload` of
//! [`Message::Extended`](super::peer::Message::Extended).
//!
//! The small bencode reader below reads only what these dictionaries need, without allocating:
//! unknown keys are skipped (nested no deeper than [`MAX_DEPTH`]), integers out of the range a
//! field allows read as absent in a handshake (a peer's odd value costs it that feature, not
//! the connection), bytes after the dictionary are ignored. Malformed bencode is `Truncated`
//! when the input ends inside a value, else `BadValue`.

use super::bencode::{digits, put_bytes, put_key_int};
use super::peer::{put_extended, EXTENDED_HEADER_LEN};
use super::{Error, Out};

/// The extended id of the extension handshake.
pub const HANDSHAKE_ID: u8 = 0;
/// The name of BEP 9 in a handshake's `m` dictionary.
pub const UT_METADATA: &[u8] = b"ut_metadata";
/// Metadata (info dictionary) pieces are 16 KiB, the last one shorter.
pub const METADATA_PIECE_LEN: u32 = 16 * 1024;
/// How many lists and dictionaries may nest in what we read (the top-level dictionary counts
/// as one). Handshakes nest two deep.
pub const MAX_DEPTH: usize = 16;

/// `ut_metadata` message types.
pub const MSG_REQUEST: u8 = 0;
pub const MSG_DATA: u8 = 1;
pub const MSG_REJECT: u8 = 2;

/// What a seeder needs from a peer's extension handshake.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExtHandshake {
    /// The id to send `ut_metadata` messages to this peer with; `None` when absent, 0 (BEP 10:
    /// disabled) or out of the 1..=255 range.
    pub ut_metadata: Option<u8>,
    /// `metadata_size`, when present and within `u32`.
    pub metadata_size: Option<u32>,
    /// `reqq`: how many requests the peer keeps outstanding, when present and within `u32`.
    pub reqq: Option<u32>,
    /// `p`: the peer's listen port, when present and 1..=65535.
    pub listen_port: Option<u16>,
    /// BEP 21 `upload_only` other than 0: the peer will not download (a seed, or a partial seed).
    pub upload_only: bool,
}

/// Writes our extension handshake dictionary (the payload of extended message 0, after the
/// extended id): `m` with `ut_metadata` if given (BEP 9 needs `metadata_size` too), then
/// `metadata_size`, `p`, `reqq` and `v`, keys in sorted order.
pub fn put_handshake(
    out: &mut Out<'_>,
    ut_metadata_id: Option<u8>,
    metadata_size: Option<u32>,
    client: &str,
    listen_port: Option<u16>,
    reqq: u16,
) {
    out.put(b"d");
    put_bytes(out, b"m");
    out.put(b"d");
    if let Some(ut) = ut_metadata_id {
        put_key_int(out, UT_METADATA, u64::from(ut));
    }
    out.put(b"e");
    if let Some(size) = metadata_size {
        put_key_int(out, b"metadata_size", u64::from(size));
    }
    if let Some(port) = listen_port {
        put_key_int(out, b"p", u64::from(port));
    }
    put_key_int(out, b"reqq", u64::from(reqq));
    put_bytes(out, b"v");
    put_bytes(out, client.as_bytes());
    out.put(b"e");
}

/// The whole extension handshake message: the peer message header (length prefix, id 20,
/// extended id 0) then [`put_handshake`]'s dictionary.
pub fn put_handshake_message(
    out: &mut Out<'_>,
    ut_metadata_id: Option<u8>,
    metadata_size: Option<u32>,
    client: &str,
    listen_port: Option<u16>,
    reqq: u16,
) {
    let start = out.len();
    put_extended(out, HANDSHAKE_ID, 0);
    let dict_start = out.len();
    put_handshake(
        out,
        ut_metadata_id,
        metadata_size,
        client,
        listen_port,
        reqq,
    );
    let dict_len = u32::try_from(out.len() - dict_start).unwrap_or(u32::MAX);
    if dict_start == start + EXTENDED_HEADER_LEN {
        out.patch(start, &dict_len.saturating_add(2).to_be_bytes());
    }
}

/// Reads a peer's extension handshake (`payload` after the extended id 0).
pub fn parse_handshake(payload: &[u8]) -> Result<ExtHandshake, Error> {
    let mut h = ExtHandshake::default();
    let mut d = Dict::open(payload, 0, 0)?;
    while let Some((key, value)) = d.next_entry()? {
        match key {
            b"m" => {
                let Value::Dict(mut m) = value else { continue };
                while let Some((name, v)) = m.next_entry()? {
                    if name == UT_METADATA {
                        h.ut_metadata = v.int().and_then(|i| u8::try_from(i).ok());
                        h.ut_metadata = h.ut_metadata.filter(|&i| i != 0);
                    }
                }
            }
            b"metadata_size" => h.metadata_size = v_u32(value),
            b"reqq" => h.reqq = v_u32(value),
            b"p" => {
                h.listen_port = value
                    .int()
                    .and_then(|i| u16::try_from(i).ok())
                    .filter(|&p| p != 0)
            }
            b"upload_only" => h.upload_only = value.int().is_some_and(|i| i != 0),
            _ => {}
        }
    }
    Ok(h)
}

fn v_u32(v: Value<'_>) -> Option<u32> {
    v.int().and_then(|i| u32::try_from(i).ok())
}

/// A `ut_metadata` message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataMsg {
    Request { piece: u32 },
    Data { piece: u32, total_size: u32 },
    Reject { piece: u32 },
}

/// Reads a `ut_metadata` message (`payload` after the extended id) and returns it with the
/// offset in `payload` just after its dictionary, where the raw bytes of a `Data` piece start.
/// `BadValue` without a `msg_type` or `piece` in range (or a data message without
/// `total_size`), `UnknownAction` for another `msg_type`.
pub fn parse_metadata(payload: &[u8]) -> Result<(MetadataMsg, usize), Error> {
    let mut msg_type = None;
    let mut piece = None;
    let mut total_size = None;
    let mut d = Dict::open(payload, 0, 0)?;
    while let Some((key, value)) = d.next_entry()? {
        match key {
            b"msg_type" => msg_type = Some(value.int().ok_or(Error::BadValue)?),
            b"piece" => piece = Some(v_u32(value).ok_or(Error::BadValue)?),
            b"total_size" => total_size = Some(v_u32(value).ok_or(Error::BadValue)?),
            _ => {}
        }
    }
    let piece = piece.ok_or(Error::BadValue)?;
    let msg = match msg_type.ok_or(Error::BadValue)? {
        0 => MetadataMsg::Request { piece },
        1 => MetadataMsg::Data {
            piece,
            total_size: total_size.ok_or(Error::BadValue)?,
        },
        2 => MetadataMsg::Reject { piece },
        _ => return Err(Error::UnknownAction),
    };
    Ok((msg, d.pos))
}

/// Number of 16 KiB metadata pieces for an info dictionary of `size` bytes.
pub fn metadata_piece_count(size: u32) -> u32 {
    size.div_ceil(METADATA_PIECE_LEN)
}

/// Length of metadata piece `piece` of an info dictionary of `size` bytes (16 KiB, the last one
/// shorter); `None` for a piece past the end (answer with a reject).
pub fn metadata_piece_len(size: u32, piece: u32) -> Option<u32> {
    let start = piece.checked_mul(METADATA_PIECE_LEN)?;
    (start < size).then(|| (size - start).min(METADATA_PIECE_LEN))
}

/// The dictionary of a `ut_metadata` message: `msg_type`, `piece`, then `total_size` if given.
fn put_metadata_dict(out: &mut Out<'_>, msg_type: u8, piece: u32, total_size: Option<u32>) {
    out.put(b"d");
    put_key_int(out, b"msg_type", u64::from(msg_type));
    put_key_int(out, b"piece", u64::from(piece));
    if let Some(size) = total_size {
        put_key_int(out, b"total_size", u64::from(size));
    }
    out.put(b"e");
}

/// Writes a `ut_metadata` message: header, dictionary, and a length prefix that also covers
/// `data_len` bytes to follow.
fn put_metadata(
    out: &mut Out<'_>,
    peer_ut_id: u8,
    msg_type: u8,
    piece: u32,
    total_size: Option<u32>,
    data_len: u32,
) {
    let start = out.len();
    put_extended(out, peer_ut_id, 0);
    let dict_start = out.len();
    put_metadata_dict(out, msg_type, piece, total_size);
    let dict_len = (out.len() - dict_start) as u32; // under 100 bytes
    if dict_start == start + EXTENDED_HEADER_LEN {
        let len = 2u32.saturating_add(dict_len).saturating_add(data_len);
        out.patch(start, &len.to_be_bytes());
    }
}

/// Everything of a `ut_metadata` data message before its `data_len` bytes of the info
/// dictionary (which the caller sends next, read from the .torrent): length prefix (covering
/// the data), id 20, the peer's `ut_metadata` id and the dictionary (`msg_type` 1, `piece`,
/// `total_size`).
pub fn put_metadata_data_header(
    out: &mut Out<'_>,
    peer_ut_id: u8,
    piece: u32,
    total_size: u32,
    data_len: u32,
) {
    put_metadata(out, peer_ut_id, MSG_DATA, piece, Some(total_size), data_len);
}

/// A whole `ut_metadata` reject for `piece`.
pub fn put_metadata_reject(out: &mut Out<'_>, peer_ut_id: u8, piece: u32) {
    put_metadata(out, peer_ut_id, MSG_REJECT, piece, None, 0);
}

/// A value as the reader sees it: containers are opened, not read.
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    Int(Option<i64>),
    Str,
    List,
    Dict(Dict<'a>),
}

impl Value<'_> {
    /// The value of an integer within `i64`.
    fn int(self) -> Option<i64> {
        match self {
            Value::Int(v) => v,
            _ => None,
        }
    }
}

/// A dictionary read one entry at a time; `pos` is past its `e` after the last entry.
#[derive(Clone, Copy, Debug)]
struct Dict<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Depth of the dictionary itself (the top level is 1).
    depth: usize,
}

impl<'a> Dict<'a> {
    /// The dictionary starting at `at`, `depth` containers deep.
    fn open(bytes: &'a [u8], at: usize, depth: usize) -> Result<Dict<'a>, Error> {
        match bytes.get(at) {
            None => Err(Error::Truncated),
            Some(b'd') if depth < MAX_DEPTH => Ok(Dict {
                bytes,
                pos: at + 1,
                depth: depth + 1,
            }),
            Some(_) => Err(Error::BadValue),
        }
    }

    /// The next key and value; `None` after the last. A container value is skipped here even
    /// if the caller does not read it, so the next entry is always found.
    fn next_entry(&mut self) -> Result<Option<(&'a [u8], Value<'a>)>, Error> {
        match self.bytes.get(self.pos) {
            None => return Err(Error::Truncated),
            Some(b'e') => {
                self.pos += 1;
                return Ok(None);
            }
            Some(b'0'..=b'9') => {}
            Some(_) => return Err(Error::BadValue),
        }
        let (key, value_at) = string(self.bytes, self.pos)?;
        let end = skip(self.bytes, value_at, self.depth)?;
        let value = match self.bytes[value_at] {
            b'i' => Value::Int(int(self.bytes, value_at)?.0),
            b'l' => Value::List,
            b'd' => Value::Dict(Dict::open(self.bytes, value_at, self.depth)?),
            _ => Value::Str,
        };
        self.pos = end;
        Ok(Some((key, value)))
    }
}

/// `i<digits>e` at `at`: the value (`None` outside `i64`) and the offset after the `e`.
fn int(bytes: &[u8], at: usize) -> Result<(Option<i64>, usize), Error> {
    let negative = bytes.get(at + 1) == Some(&b'-');
    let first = at + 1 + usize::from(negative);
    let (v, end) = digits(bytes, first);
    match bytes.get(end) {
        None => return Err(Error::Truncated),
        Some(b'e') if end > first => {}
        Some(_) => return Err(Error::BadValue),
    }
    let v = match v {
        Some(v) if negative => 0i64.checked_sub_unsigned(v),
        Some(v) => i64::try_from(v).ok(),
        None => None,
    };
    Ok((v, end + 1))
}

/// `<len>:<bytes>` at `at`: the bytes and the offset after them.
fn string(bytes: &[u8], at: usize) -> Result<(&[u8], usize), Error> {
    let (len, colon) = digits(bytes, at);
    match bytes.get(colon) {
        None => return Err(Error::Truncated),
        Some(b':') if colon > at => {}
        Some(_) => return Err(Error::BadValue),
    }
    let start = colon + 1;
    let len = len
        .and_then(|l| usize::try_from(l).ok())
        .ok_or(Error::BadValue)?;
    let end = start.checked_add(len).ok_or(Error::BadValue)?;
    match bytes.get(start..end) {
        Some(s) => Ok((s, end)),
        None => Err(Error::Truncated),
    }
}

/// The offset after the value at `at`, found `depth` containers deep.
fn skip(bytes: &[u8], at: usize, depth: usize) -> Result<usize, Error> {
    match bytes.get(at) {
        None => Err(Error::Truncated),
        Some(b'i') => int(bytes, at).map(|(_, end)| end),
        Some(b'0'..=b'9') => string(bytes, at).map(|(_, end)| end),
        Some(b'l') if depth < MAX_DEPTH => {
            let mut pos = at + 1;
            loop {
                match bytes.get(pos) {
                    None => return Err(Error::Truncated),
                    Some(b'e') => return Ok(pos + 1),
                    Some(_) => pos = skip(bytes, pos, depth + 1)?,
                }
            }
        }
        Some(b'd') => {
            let mut d = Dict::open(bytes, at, depth)?;
            while d.next_entry()?.is_some() {}
            Ok(d.pos)
        }
        Some(_) => Err(Error::BadValue),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::peer::{frame, parse_message, Frame, Message, MAX_CONTROL_LEN};

    fn emit(f: impl FnOnce(&mut Out<'_>)) -> Vec<u8> {
        let mut buf = vec![0u8; 4096];
        let mut o = Out::new(&mut buf);
        f(&mut o);
        assert!(!o.is_overflow());
        o.written().to_vec()
    }

    #[test]
    fn our_handshake_is_sorted_bencode_and_reads_back() {
        let dict =
            emit(|o| put_handshake(o, Some(3), Some(1234), "trackseed 0.1", Some(6881), 250));
        assert_eq!(
            dict,
            b"d1:md11:ut_metadatai3ee13:metadata_sizei1234e1:pi6881e4:reqqi250e1:v13:trackseed 0.1e"
        );
        assert_eq!(
            parse_handshake(&dict),
            Ok(ExtHandshake {
                ut_metadata: Some(3),
                metadata_size: Some(1234),
                reqq: Some(250),
                listen_port: Some(6881),
                upload_only: false,
            })
        );
        let bare = emit(|o| put_handshake(o, None, None, "ts", None, 16));
        assert_eq!(bare, b"d1:mde4:reqqi16e1:v2:tse");
        assert_eq!(parse_handshake(&bare).unwrap().ut_metadata, None);

        // The whole message frames and parses as extended message 0 with that payload.
        let msg = emit(|o| {
            put_handshake_message(o, Some(3), Some(1234), "trackseed 0.1", Some(6881), 250)
        });
        assert_eq!(
            frame(&msg, MAX_CONTROL_LEN),
            Ok(Frame::Message { len: msg.len() })
        );
        assert_eq!(
            parse_message(&msg),
            Ok(Message::Extended {
                id: HANDSHAKE_ID,
                payload: &dict,
            })
        );
        // Too small a buffer: overflow, and no length patched over nothing.
        for small in 0..msg.len() {
            let mut buf = vec![0u8; small];
            let mut o = Out::new(&mut buf);
            put_handshake_message(
                &mut o,
                Some(3),
                Some(1234),
                "trackseed 0.1",
                Some(6881),
                250,
            );
            assert!(o.is_overflow());
        }
    }

    #[test]
    fn real_clients_handshakes() {
        // Transmission 3.00.
        let transmission: &[u8] = b"d1:ei0e1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei1234e1:pi51413e4:reqqi512e11:upload_onlyi1e1:v17:Transmission 3.00e";
        assert_eq!(
            parse_handshake(transmission),
            Ok(ExtHandshake {
                ut_metadata: Some(3),
                metadata_size: Some(1234),
                reqq: Some(512),
                listen_port: Some(51413),
                upload_only: true,
            })
        );
        // The brief's example.
        let t2: &[u8] = b"d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei1234e1:pi6881e4:reqqi250e1:v17:Transmission 3.00e";
        let h = parse_handshake(t2).unwrap();
        assert_eq!(
            (h.ut_metadata, h.metadata_size, h.reqq, h.listen_port),
            (Some(2), Some(1234), Some(250), Some(6881))
        );
        // libtorrent 1.2 (qBittorrent): more extensions, binary yourip and ipv6, complete_ago.
        let mut lt: Vec<u8> = Vec::new();
        lt.extend_from_slice(b"d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e4:reqqi500e11:upload_onlyi0e1:v17:qBittorrent/4.3.96:yourip4:");
        lt.extend_from_slice(&[192, 168, 1, 1]);
        lt.extend_from_slice(b"4:ipv616:");
        lt.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        lt.push(b'e');
        assert_eq!(
            parse_handshake(&lt),
            Ok(ExtHandshake {
                ut_metadata: Some(2),
                metadata_size: Some(31235),
                reqq: Some(500),
                listen_port: None,
                upload_only: false,
            })
        );
        // aria2 1.36: no reqq, ut_metadata 8, metadata_size only once it has the metadata.
        let aria2: &[u8] =
            b"d1:md11:ut_metadatai8e6:ut_pexi9ee13:metadata_sizei5000e1:v12:aria2/1.36.0e";
        assert_eq!(
            parse_handshake(aria2),
            Ok(ExtHandshake {
                ut_metadata: Some(8),
                metadata_size: Some(5000),
                ..ExtHandshake::default()
            })
        );
        // A peer that disables ut_metadata (BEP 10: id 0), and odd values read as absent.
        let off: &[u8] = b"d1:md11:ut_metadatai0ee13:metadata_sizei-5e1:pi70000e4:reqq3:abce";
        assert_eq!(parse_handshake(off), Ok(ExtHandshake::default()));
        let big: &[u8] = b"d1:md11:ut_metadatai256eee";
        assert_eq!(parse_handshake(big).unwrap().ut_metadata, None);
        let huge: &[u8] = b"d1:md11:ut_metadatai99999999999999999999999eee";
        assert_eq!(parse_handshake(huge).unwrap().ut_metadata, None);
        let m_not_dict: &[u8] = b"d1:mli1ee1:v1:xe";
        assert_eq!(parse_handshake(m_not_dict), Ok(ExtHandshake::default()));
    }

    #[test]
    fn malformed_handshakes_are_errors() {
        let good: &[u8] = b"d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei1234e1:pi6881e4:reqqi250e1:v17:Transmission 3.00e";
        for k in 0..good.len() {
            assert!(parse_handshake(&good[..k]).is_err(), "cut at {k}");
        }
        // Every single-byte change: an answer or an error, never a panic.
        for at in 0..good.len() {
            for b in [b'0', b'9', b'd', b'e', b'i', b'l', b':', b'-', 0xff] {
                let mut bad = good.to_vec();
                bad[at] = b;
                let _ = parse_handshake(&bad);
                let _ = parse_metadata(&bad);
            }
        }
        assert_eq!(parse_handshake(b"le"), Err(Error::BadValue));
        assert_eq!(parse_handshake(b"di1ei2ee"), Err(Error::BadValue));
        assert_eq!(parse_handshake(b"d1:pie"), Err(Error::BadValue));
        assert_eq!(parse_handshake(b"d1:p-e"), Err(Error::BadValue));
        assert_eq!(
            parse_handshake(b"d1:x99999999999999999999999:e"),
            Err(Error::BadValue)
        );
        assert_eq!(parse_handshake(b"d1:x9:abce"), Err(Error::Truncated));
        assert_eq!(parse_handshake(b"d1:x:e"), Err(Error::BadValue));
        // Depth: MAX_DEPTH containers nest, one more is refused.
        let nest = |n: usize| {
            let mut v = b"d1:x".to_vec();
            v.extend(std::iter::repeat_n(b'l', n - 1));
            v.extend(std::iter::repeat_n(b'e', n - 1));
            v.push(b'e');
            v
        };
        assert!(parse_handshake(&nest(MAX_DEPTH)).is_ok());
        assert_eq!(parse_handshake(&nest(MAX_DEPTH + 1)), Err(Error::BadValue));
        let deep = vec![b'l'; 100_000];
        let mut deep_dict = b"d1:x".to_vec();
        deep_dict.extend_from_slice(&deep);
        assert_eq!(parse_handshake(&deep_dict), Err(Error::BadValue));
        let dicts: Vec<u8> = b"d1:x".iter().copied().cycle().take(4 * 10_000).collect();
        assert_eq!(parse_handshake(&dicts), Err(Error::BadValue));
    }

    #[test]
    fn metadata_messages() {
        // A libtorrent request, with the payload as it follows the extended id.
        let req: &[u8] = b"d8:msg_typei0e5:piecei2ee";
        assert_eq!(
            parse_metadata(req),
            Ok((MetadataMsg::Request { piece: 2 }, req.len()))
        );
        let rej: &[u8] = b"d8:msg_typei2e5:piecei0ee";
        assert_eq!(
            parse_metadata(rej),
            Ok((MetadataMsg::Reject { piece: 0 }, rej.len()))
        );
        let mut data = b"d8:msg_typei1e5:piecei0e10:total_sizei5ee".to_vec();
        let dict_len = data.len();
        data.extend_from_slice(b"d4:x");
        assert_eq!(
            parse_metadata(&data),
            Ok((
                MetadataMsg::Data {
                    piece: 0,
                    total_size: 5
                },
                dict_len
            ))
        );
        // Unsorted keys and unknown ones are read; missing or bad fields are errors.
        assert_eq!(
            parse_metadata(b"d5:piecei1e1:xli1ee8:msg_typei0ee")
                .unwrap()
                .0,
            MetadataMsg::Request { piece: 1 }
        );
        assert_eq!(parse_metadata(b"d8:msg_typei0ee"), Err(Error::BadValue));
        assert_eq!(parse_metadata(b"d5:piecei0ee"), Err(Error::BadValue));
        assert_eq!(
            parse_metadata(b"d8:msg_typei1e5:piecei0ee"),
            Err(Error::BadValue)
        );
        assert_eq!(
            parse_metadata(b"d8:msg_typei3e5:piecei0ee"),
            Err(Error::UnknownAction)
        );
        assert_eq!(
            parse_metadata(b"d8:msg_typei0e5:piecei-1ee"),
            Err(Error::BadValue)
        );
        assert_eq!(
            parse_metadata(b"d8:msg_typei0e5:piece1:0e"),
            Err(Error::BadValue)
        );
        assert_eq!(
            parse_metadata(b"d8:msg_typei0e5:piecei4294967296ee"),
            Err(Error::BadValue)
        );
        for k in 0..req.len() {
            assert!(parse_metadata(&req[..k]).is_err());
        }
    }

    #[test]
    fn metadata_replies_frame_and_parse() {
        let info = [b'x'; 40];
        let msg = emit(|o| {
            put_metadata_data_header(o, 7, 1, 16384 + 40, 40);
            o.put(&info);
        });
        let Ok(Message::Extended { id: 7, payload }) = parse_message(&msg) else {
            panic!("{msg:?}")
        };
        let (m, at) = parse_metadata(payload).unwrap();
        assert_eq!(
            m,
            MetadataMsg::Data {
                piece: 1,
                total_size: 16424
            }
        );
        assert_eq!(&payload[at..], &info);
        assert_eq!(
            &payload[..at],
            b"d8:msg_typei1e5:piecei1e10:total_sizei16424ee"
        );
        // A full 16 KiB piece: the prefix covers what the caller sends after the header.
        let header = emit(|o| put_metadata_data_header(o, 2, 0, 100_000, METADATA_PIECE_LEN));
        let declared = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        assert_eq!(
            declared as usize,
            header.len() - 4 + METADATA_PIECE_LEN as usize
        );
        assert!(matches!(
            frame(&header, MAX_CONTROL_LEN),
            Ok(Frame::TooLong { .. })
        ));

        let rej = emit(|o| put_metadata_reject(o, 2, 9));
        assert_eq!(&rej[..6], &[0, 0, 0, rej.len() as u8 - 4, 20, 2]);
        let Ok(Message::Extended { id: 2, payload }) = parse_message(&rej) else {
            panic!()
        };
        assert_eq!(
            parse_metadata(payload),
            Ok((MetadataMsg::Reject { piece: 9 }, payload.len()))
        );
        for small in 0..rej.len() {
            let mut buf = vec![0u8; small];
            let mut o = Out::new(&mut buf);
            put_metadata_reject(&mut o, 2, 9);
            assert!(o.is_overflow());
        }
    }

    #[test]
    fn metadata_pieces() {
        assert_eq!(metadata_piece_count(0), 0);
        assert_eq!(metadata_piece_count(1), 1);
        assert_eq!(metadata_piece_count(16384), 1);
        assert_eq!(metadata_piece_count(16385), 2);
        assert_eq!(metadata_piece_count(u32::MAX), 262_144);
        assert_eq!(metadata_piece_len(16385, 0), Some(16384));
        assert_eq!(metadata_piece_len(16385, 1), Some(1));
        assert_eq!(metadata_piece_len(16385, 2), None);
        assert_eq!(metadata_piece_len(0, 0), None);
        assert_eq!(metadata_piece_len(u32::MAX, 262_143), Some(16383));
        assert_eq!(metadata_piece_len(u32::MAX, u32::MAX), None);
    }
}
