//! The peer wire parsers (BEP 3, BEP 6, BEP 10, BEP 9) over a stream of arbitrary bytes, as a
//! seeder's connection reads it: the handshake, then frames, skipping the long ones.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackseed::wire::extension::{self, MetadataMsg};
use trackseed::wire::peer::{self, Frame, Message, MAX_CONTROL_LEN};
use trackseed::wire::Out;

fuzz_target!(|data: &[u8]| {
    let _ = peer::parse_handshake_prefix(data);
    let _ = peer::parse_handshake(data);
    // The first byte picks the buffering limit, so small limits are tried too.
    let Some((&limit, mut rest)) = data.split_first() else {
        return;
    };
    let max_len = if limit == 0 {
        MAX_CONTROL_LEN
    } else {
        u32::from(limit)
    };
    let mut out_buf = [0u8; 64];
    while !rest.is_empty() {
        match peer::frame(rest, max_len) {
            Ok(Frame::Incomplete { needed }) => {
                assert!(needed > rest.len());
                assert!(needed <= 4 + max_len as usize);
                break;
            }
            Ok(Frame::TooLong { declared }) => {
                assert!(declared > max_len);
                let skip = usize::try_from(peer::skip_len(declared)).unwrap_or(usize::MAX);
                rest = rest.get(skip..).unwrap_or_default();
            }
            Ok(Frame::Message { len }) => {
                assert!((4..=4 + max_len as usize).contains(&len));
                let m = peer::parse_message(&rest[..len]).expect("a framed message parses");
                // What parses writes back to the same bytes.
                let mut again = vec![0u8; len];
                let mut o = Out::new(&mut again);
                peer::put_message(&mut o, &m);
                if !matches!(m, Message::Unknown { .. }) {
                    assert_eq!(o.written(), &rest[..len]);
                }
                match m {
                    Message::Request(b) | Message::Cancel(b) => {
                        let _ = peer::check_request(
                            &b,
                            b.index ^ 7,
                            b.begin | 1,
                            u64::from(b.length) << 20,
                        );
                    }
                    Message::Extended { payload, .. } => {
                        let _ = extension::parse_handshake(payload);
                        if let Ok((msg, at)) = extension::parse_metadata(payload) {
                            assert!(at <= payload.len());
                            let mut o = Out::new(&mut out_buf);
                            match msg {
                                MetadataMsg::Request { piece } => {
                                    extension::put_metadata_reject(&mut o, 1, piece)
                                }
                                MetadataMsg::Data { piece, total_size } => {
                                    let _ = extension::metadata_piece_len(total_size, piece);
                                    extension::put_metadata_data_header(
                                        &mut o, 1, piece, total_size, 0,
                                    )
                                }
                                MetadataMsg::Reject { .. } => {}
                            }
                        }
                    }
                    Message::Have(n) | Message::Suggest(n) | Message::AllowedFast(n) => {
                        // The streamed bitfield writer through a tiny buffer, at any offset.
                        let mut o = Out::new(&mut out_buf[..7]);
                        let total = peer::bitfield_message_len(n);
                        let wrote = peer::put_bitfield_all_from(&mut o, n, len * 1000);
                        assert_eq!(wrote, total.saturating_sub(len * 1000).min(7));
                    }
                    _ => {}
                }
                rest = &rest[len..];
            }
            Err(_) => break,
        }
    }
    // The extension parsers over the raw bytes too.
    let _ = extension::parse_handshake(data);
    let _ = extension::parse_metadata(data);
});
