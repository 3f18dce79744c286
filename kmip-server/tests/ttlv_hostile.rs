//! Hostile input: the decoder and the framing refuse every malformed or
//! oversized message with an error that says where, and never panic.

use std::time::Duration;

use kmip_server::ttlv::{
    BigInteger, EncodeError, FrameError, Limits, Tag, Ttlv, TtlvError, Value, decode, encode,
    read_message, split_frame,
};
use tokio::io::AsyncWriteExt;

/// A request-shaped message using every item type, nested four deep.
fn sample() -> Ttlv {
    Ttlv::structure(
        Tag::REQUEST_MESSAGE,
        vec![
            Ttlv::structure(
                Tag::REQUEST_HEADER,
                vec![
                    Ttlv::structure(
                        Tag::PROTOCOL_VERSION,
                        vec![
                            Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, 1),
                            Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, 4),
                        ],
                    ),
                    Ttlv::long_integer(Tag::MAXIMUM_RESPONSE_SIZE, -2),
                    Ttlv::date_time(Tag::TIME_STAMP, 1_205_495_800),
                    Ttlv::boolean(Tag::ASYNCHRONOUS_INDICATOR, false),
                    Ttlv::integer(Tag::BATCH_COUNT, 1),
                ],
            ),
            Ttlv::structure(
                Tag::BATCH_ITEM,
                vec![
                    Ttlv::enumeration(Tag::OPERATION, 1u32),
                    Ttlv::bytes(Tag::UNIQUE_BATCH_ITEM_ID, vec![1, 2, 3]),
                    Ttlv::structure(
                        Tag::REQUEST_PAYLOAD,
                        vec![
                            Ttlv::text(Tag::UNIQUE_IDENTIFIER, "héllo wörld"),
                            Ttlv::new(
                                Tag::MODULUS,
                                Value::BigInteger(BigInteger::from_unsigned(&[0xAB; 20])),
                            ),
                            Ttlv::interval(Tag::OFFSET, 3600),
                            Ttlv::structure(Tag::TEMPLATE_ATTRIBUTE, vec![]),
                            Ttlv::bytes(Tag::KEY_MATERIAL, vec![]),
                            Ttlv::text(Tag::NAME_VALUE, ""),
                        ],
                    ),
                ],
            ),
        ],
    )
}

fn sample_bytes() -> Vec<u8> {
    encode(&sample()).expect("sample encodes").to_vec()
}

fn item(tag: u32, type_byte: u8, len: u32, value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_be_bytes()[1..].to_vec();
    out.push(type_byte);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    out
}

fn err(bytes: &[u8]) -> TtlvError {
    decode(bytes, &Limits::DEFAULT).expect_err("must be refused")
}

#[test]
fn sample_round_trips() {
    let bytes = sample_bytes();
    assert_eq!(decode(&bytes, &Limits::DEFAULT), Ok(sample()));
}

#[test]
fn every_truncation_is_refused() {
    let bytes = sample_bytes();
    for n in 0..bytes.len() {
        match err(&bytes[..n]) {
            TtlvError::Empty | TtlvError::TruncatedHeader { .. } | TtlvError::Overrun { .. } => {}
            other => panic!("prefix of {n} bytes: unexpected {other}"),
        }
    }
    // The message error names the outermost tag and what is missing.
    let message = err(&bytes[..bytes.len() - 1]).to_string();
    assert!(message.contains("RequestMessage"), "{message}");
}

#[test]
fn lengths_must_match_the_type() {
    let z8 = [0u8; 8];
    let z16 = [0u8; 16];
    let cases: [(u8, u32, &[u8]); 10] = [
        (0x02, 8, &z8),   // Integer is 4
        (0x03, 4, &z8),   // Long Integer is 8
        (0x04, 12, &z16), // Big Integer is a multiple of 8
        (0x04, 0, &[]),   // and not empty
        (0x05, 8, &z8),   // Enumeration is 4
        (0x06, 4, &z8),   // Boolean is 8
        (0x09, 4, &z8),   // Date-Time is 8
        (0x0A, 8, &z8),   // Interval is 4
        (0x01, 4, &z8),   // Structure is a multiple of 8
        (0x02, 0, &z8),
    ];
    for (type_byte, len, value) in cases {
        let bytes = item(0x420020, type_byte, len, value);
        assert!(
            matches!(err(&bytes), TtlvError::BadLength { offset: 0, len: l, .. } if l == len),
            "type {type_byte:#x} length {len}: {}",
            err(&bytes)
        );
    }
}

#[test]
fn padding_must_be_present_and_zero() {
    let integer = item(0x420020, 0x02, 4, &[0, 0, 0, 8, 0, 0, 1, 0]);
    assert_eq!(
        err(&integer),
        TtlvError::NonZeroPadding {
            offset: 0,
            tag: Tag(0x420020)
        }
    );
    let text = item(0x420020, 0x07, 3, &[b'a', b'b', b'c', 0, 0, 0, 0, 0x20]);
    assert!(matches!(err(&text), TtlvError::NonZeroPadding { .. }));
    // The padding itself missing (value present) is an overrun.
    let unpadded = item(0x420020, 0x08, 3, &[1, 2, 3]);
    assert!(matches!(err(&unpadded), TtlvError::Overrun { .. }));
}

#[test]
fn booleans_are_zero_or_one_exactly() {
    for bad in [2u64, 0x0100_0000_0000_0000, u64::MAX] {
        let bytes = item(0x420020, 0x06, 8, &bad.to_be_bytes());
        assert_eq!(
            err(&bytes),
            TtlvError::BadBoolean {
                offset: 0,
                tag: Tag(0x420020),
                value: bad
            }
        );
    }
}

#[test]
fn text_strings_must_be_utf8() {
    for bad in [&[0xffu8][..], &[0xc3], &[0xed, 0xa0, 0x80], &[b'a', 0x80]] {
        let mut value = bad.to_vec();
        value.resize(8, 0);
        let bytes = item(0x420094, 0x07, bad.len() as u32, &value);
        assert_eq!(
            err(&bytes),
            TtlvError::InvalidUtf8 {
                offset: 0,
                tag: Tag::UNIQUE_IDENTIFIER
            }
        );
    }
}

#[test]
fn big_integers_must_be_minimal() {
    let mut value = vec![0u8; 16];
    value[15] = 1;
    let bytes = item(0x420020, 0x04, 16, &value);
    assert!(matches!(
        err(&bytes),
        TtlvError::NonCanonicalBigInteger { .. }
    ));
    let mut negative = vec![0xffu8; 16];
    negative[15] = 0xfe;
    let bytes = item(0x420020, 0x04, 16, &negative);
    assert!(matches!(
        err(&bytes),
        TtlvError::NonCanonicalBigInteger { .. }
    ));
}

/// `levels` nested structures around an empty one.
fn nested(levels: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(levels * 8);
    for level in 0..levels {
        let inner = (levels - level - 1) * 8;
        out.extend(item(0x420001, 0x01, inner as u32, &[]));
    }
    out
}

#[test]
fn deep_nesting_is_refused_at_the_limit_without_recursion() {
    let bytes = nested(1000);
    match err(&bytes) {
        TtlvError::TooDeep { offset, max, .. } => {
            assert_eq!(max, 16);
            assert_eq!(offset, 16 * 8, "the 17th level is refused");
        }
        other => panic!("unexpected {other}"),
    }
    // Exactly at the limit is fine.
    assert!(decode(&nested(16), &Limits::DEFAULT).is_ok());
    // A looser limit decodes all 1,000 levels on the heap, not the stack;
    // the encoder refuses a tree that deep rather than recurse.
    let loose = Limits {
        max_depth: 2000,
        ..Limits::DEFAULT
    };
    let tree = decode(&bytes, &loose).expect("1,000 levels within a 2,000 limit");
    assert!(matches!(encode(&tree), Err(EncodeError::TooDeep { .. })));
}

#[test]
fn unknown_item_types_are_refused() {
    for type_byte in [0x00u8, 0x0B, 0x42, 0xFF] {
        let bytes = item(0x420020, type_byte, 4, &[0; 8]);
        assert_eq!(
            err(&bytes),
            TtlvError::UnknownItemType {
                offset: 0,
                tag: Tag(0x420020),
                byte: type_byte
            }
        );
    }
}

#[test]
fn tags_must_start_with_42_or_54() {
    let bytes = item(0x430001, 0x02, 4, &[0; 8]);
    assert_eq!(
        err(&bytes),
        TtlvError::InvalidTag {
            offset: 0,
            tag: 0x430001
        }
    );
    assert!(decode(&item(0x540001, 0x02, 4, &[0; 8]), &Limits::DEFAULT).is_ok());
    // The encoder cannot produce what the decoder refuses.
    for tag in [0x430001, 0x0142_0001] {
        assert_eq!(
            encode(&Ttlv::integer(Tag(tag), 1)).map(|b| b.len()),
            Err(EncodeError::InvalidTag { tag })
        );
    }
}

#[test]
fn a_declared_length_of_4_gib_is_an_overrun_not_an_allocation() {
    let bytes = item(0x420078, 0x01, 0xFFFF_FFF8, &[]);
    assert!(matches!(
        err(&bytes),
        TtlvError::Overrun {
            offset: 0,
            needed: 0xFFFF_FFF8,
            available: 0,
            ..
        }
    ));
    let text = item(0x420094, 0x07, u32::MAX, &[0; 8]);
    assert!(matches!(err(&text), TtlvError::Overrun { .. }));
}

#[test]
fn children_must_exactly_fill_their_structure() {
    // A structure declaring 24 bytes around a 16-byte child and 8 bytes of
    // a header claiming more than the structure has left.
    let mut bytes = item(0x420078, 0x01, 24, &[]);
    bytes.extend(item(0x420020, 0x02, 4, &[0; 8]));
    bytes.extend(item(0x420020, 0x02, 4, &[]));
    bytes.extend([0; 8]);
    assert!(matches!(
        err(&bytes),
        TtlvError::Overrun {
            offset: 24,
            container: "structure",
            ..
        }
    ));
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = sample_bytes();
    let len = bytes.len();
    bytes.extend([0; 8]);
    assert_eq!(
        err(&bytes),
        TtlvError::TrailingBytes {
            offset: len,
            count: 8
        }
    );
}

#[test]
fn size_and_item_limits_apply() {
    let bytes = sample_bytes();
    let small = Limits {
        max_message_size: bytes.len() - 1,
        ..Limits::DEFAULT
    };
    assert!(matches!(
        decode(&bytes, &small),
        Err(TtlvError::MessageTooLarge { .. })
    ));
    let few = Limits {
        max_items: 3,
        ..Limits::DEFAULT
    };
    assert!(matches!(
        decode(&bytes, &few),
        Err(TtlvError::TooManyItems { max: 3, .. })
    ));
}

/// xorshift64*: a deterministic stream of pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        bytes.push(rng.next() as u8);
        return;
    }
    let at = rng.below(bytes.len());
    match rng.below(6) {
        0 => bytes[at] ^= 1 << rng.below(8),
        1 => bytes[at] = rng.next() as u8,
        2 => bytes.truncate(at),
        3 => bytes.insert(at, rng.next() as u8),
        4 => {
            let end = (at + rng.below(16)).min(bytes.len());
            let chunk = bytes[at..end].to_vec();
            bytes.splice(at..at, chunk);
        }
        _ => {
            // Lengths are the interesting field: overwrite one.
            let field = at - at % 8 + 4;
            if field + 4 <= bytes.len() {
                let v = [0u32, 1, 4, 7, 8, 16, 0x7FFF_FFFF, u32::MAX][rng.below(8)];
                bytes[field..field + 4].copy_from_slice(&v.to_be_bytes());
            }
        }
    }
}

#[test]
fn mutated_messages_never_panic_and_what_decodes_is_canonical() {
    let seeds = [sample_bytes(), nested(20)];
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut accepted = 0;
    for round in 0..30_000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..=rng.below(4) {
            mutate(&mut rng, &mut bytes);
        }
        if let Ok(tree) = decode(&bytes, &Limits::DEFAULT) {
            accepted += 1;
            // Strictness means only the canonical encoding is accepted.
            assert_eq!(
                encode(&tree).expect("re-encodes").as_slice(),
                bytes.as_slice()
            );
        }
    }
    eprintln!("{accepted} of 30000 mutated messages decoded (and were canonical)");
    assert!(accepted > 0, "some mutations (e.g. of values) stay valid");
}

mod framing {
    use super::*;

    const WAIT: Duration = Duration::from_secs(5);

    #[test]
    fn split_frame_finds_message_boundaries() {
        let one = sample_bytes();
        let mut stream = one.clone();
        stream.extend(&one[..10]);
        for n in 0..one.len() {
            assert_eq!(
                split_frame(&stream[..n], &Limits::DEFAULT).expect("valid header"),
                None
            );
        }
        assert_eq!(
            split_frame(&stream, &Limits::DEFAULT).expect("ok"),
            Some(one.len())
        );
    }

    #[test]
    fn split_frame_refuses_bad_headers_at_once() {
        let huge = item(0x420078, 0x01, 0xFFFF_FFF8, &[]);
        assert!(matches!(
            split_frame(&huge, &Limits::DEFAULT),
            Err(FrameError::TooLarge {
                declared: 0x1_0000_0000,
                ..
            })
        ));
        let primitive = item(0x420078, 0x02, 4, &[]);
        assert!(matches!(
            split_frame(&primitive, &Limits::DEFAULT),
            Err(FrameError::BadHeader { .. })
        ));
        let odd = item(0x420078, 0x01, 12, &[]);
        assert!(matches!(
            split_frame(&odd, &Limits::DEFAULT),
            Err(FrameError::BadHeader { .. })
        ));
        let tag = item(0x000078, 0x01, 8, &[]);
        assert!(matches!(
            split_frame(&tag, &Limits::DEFAULT),
            Err(FrameError::BadHeader { .. })
        ));
    }

    #[tokio::test]
    async fn a_4_gib_announcement_is_refused_from_the_header_alone() {
        // The peer sends a header and then nothing, keeping the stream
        // open: reading the body would hang, and allocating it would need
        // 4 GiB.
        let (mut client, mut server) = tokio::io::duplex(64);
        client
            .write_all(&item(0x420078, 0x01, 0xFFFF_FFF8, &[]))
            .await
            .expect("write");
        let result = tokio::time::timeout(WAIT, read_message(&mut server, &Limits::DEFAULT))
            .await
            .expect("answers without waiting for the body");
        assert!(
            matches!(result, Err(FrameError::TooLarge { .. })),
            "{result:?}"
        );
        drop(client);
    }

    #[tokio::test]
    async fn messages_are_read_one_at_a_time_then_clean_eof() {
        let one = sample_bytes();
        // A tiny pipe forces many partial reads.
        let (mut client, mut server) = tokio::io::duplex(3);
        let sent = [one.clone(), one.clone()].concat();
        let writer = tokio::spawn(async move {
            client.write_all(&sent).await.expect("write");
        });
        for _ in 0..2 {
            let message = tokio::time::timeout(WAIT, read_message(&mut server, &Limits::DEFAULT))
                .await
                .expect("in time")
                .expect("reads")
                .expect("a message");
            assert_eq!(message.as_slice(), one.as_slice());
        }
        writer.await.expect("writer");
        let end = read_message(&mut server, &Limits::DEFAULT)
            .await
            .expect("clean");
        assert!(end.is_none());
    }

    #[tokio::test]
    async fn eof_inside_a_message_is_truncation() {
        let one = sample_bytes();
        for cut in [1, 7, 8, 9, one.len() - 1] {
            let mut reader: &[u8] = &one[..cut];
            match read_message(&mut reader, &Limits::DEFAULT).await {
                Err(FrameError::Truncated { received, expected }) => {
                    assert_eq!(received, cut as u64);
                    let whole = if cut < 8 { 8 } else { one.len() as u64 };
                    assert_eq!(expected, whole);
                }
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        let mut empty: &[u8] = &[];
        assert!(
            read_message(&mut empty, &Limits::DEFAULT)
                .await
                .expect("ok")
                .is_none()
        );
    }
}
