//! Multi-part Encrypt and Decrypt (Correlation Value, Init and Final
//! Indicators): AES-GCM by parts against the McGrew–Viega known answer the
//! OASIS CS-BC-M-GCM-3 vector uses (a 64-bit IV), CBC by parts equal to
//! CBC at once, a Decrypt whose tag fails releasing nothing, and every
//! limit: streams per client, bytes per stream and in all, idle expiry,
//! another client's Correlation Value, fields a later part may not change,
//! and the versions that have no streaming.

mod direct;

use std::time::Duration;

use direct::reasons::*;
use direct::*;
use kmip_server::streams::StreamLimits;
use kmip_server::ttlv::enums::Operation as Op;
use kmip_server::ttlv::{Tag, Ttlv};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

const KEY: &str = "feffe9928665731c6d6a8f9467308308";
const IV: &str = "cafebabefacedbad";
const AAD: &str = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const PLAINTEXT: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const CIPHERTEXT: &str = "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c742373806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598";
const TAG: &str = "3612d2e79e3b0785561be14aaca2fccb";

fn gcm_parameters() -> Ttlv {
    Ttlv::structure(
        Tag::CRYPTOGRAPHIC_PARAMETERS,
        vec![
            Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, 9u32),
            Ttlv::integer(Tag::TAG_LENGTH, 16),
        ],
    )
}

fn cbc_parameters() -> Ttlv {
    Ttlv::structure(
        Tag::CRYPTOGRAPHIC_PARAMETERS,
        vec![
            Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, 1u32),
            Ttlv::enumeration(Tag::PADDING_METHOD, 3u32),
        ],
    )
}

fn id(key: &str) -> Ttlv {
    Ttlv::text(Tag::UNIQUE_IDENTIFIER, key)
}

fn data(bytes: &[u8]) -> Ttlv {
    Ttlv::bytes(Tag::DATA, bytes.to_vec())
}

fn init() -> Ttlv {
    Ttlv::boolean(Tag::INIT_INDICATOR, true)
}

fn last() -> Ttlv {
    Ttlv::boolean(Tag::FINAL_INDICATOR, true)
}

fn correlation(value: &[u8]) -> Ttlv {
    Ttlv::bytes(Tag::CORRELATION_VALUE, value.to_vec())
}

/// The first part of a GCM Encrypt of the known answer: its Correlation
/// Value.
async fn open_gcm(env: &Direct, key: &str, op: Op, first: &[u8]) -> Vec<u8> {
    let payload = env
        .ok(
            4,
            op,
            vec![
                id(key),
                gcm_parameters(),
                data(first),
                Ttlv::bytes(Tag::IV_COUNTER_NONCE, hex(IV)),
                init(),
                Ttlv::bytes(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, hex(AAD)),
            ],
        )
        .await;
    assert!(payload.child(Tag::DATA).is_none(), "nothing before the end");
    assert_eq!(uid(&payload), key);
    bytes(&payload, Tag::CORRELATION_VALUE)
}

#[tokio::test]
async fn gcm_by_parts_matches_the_known_answer_both_ways() {
    let env = Direct::new(StreamLimits::DEFAULT).await;
    let key = register_aes(&env, &hex(KEY)).await;
    let pt = hex(PLAINTEXT);

    // Encrypt in three parts: the CS-BC-M-GCM-3 split, then one more.
    let c = open_gcm(&env, &key, Op::ENCRYPT, &pt[..32]).await;
    let middle = env
        .ok(
            4,
            Op::ENCRYPT,
            vec![id(&key), data(&pt[32..40]), correlation(&c)],
        )
        .await;
    assert_eq!(bytes(&middle, Tag::CORRELATION_VALUE), c);
    let done = env
        .ok(
            4,
            Op::ENCRYPT,
            vec![
                id(&key),
                gcm_parameters(),
                data(&pt[40..]),
                correlation(&c),
                last(),
            ],
        )
        .await;
    assert_eq!(bytes(&done, Tag::DATA), hex(CIPHERTEXT));
    assert_eq!(bytes(&done, Tag::AUTHENTICATED_ENCRYPTION_TAG), hex(TAG));
    assert_eq!(env.processor.streams().open_streams(), 0);

    // The same message at once, with Init and Final both set.
    let whole = env
        .ok(
            4,
            Op::ENCRYPT,
            vec![
                id(&key),
                gcm_parameters(),
                data(&pt),
                Ttlv::bytes(Tag::IV_COUNTER_NONCE, hex(IV)),
                Ttlv::bytes(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, hex(AAD)),
                init(),
                last(),
            ],
        )
        .await;
    assert_eq!(bytes(&whole, Tag::DATA), hex(CIPHERTEXT));

    // Decrypt by parts, the tag with the final part.
    let ct = hex(CIPHERTEXT);
    let c = open_gcm(&env, &key, Op::DECRYPT, &ct[..20]).await;
    let done = env
        .ok(
            4,
            Op::DECRYPT,
            vec![
                data(&ct[20..]),
                correlation(&c),
                last(),
                Ttlv::bytes(Tag::AUTHENTICATED_ENCRYPTION_TAG, hex(TAG)),
            ],
        )
        .await;
    assert_eq!(bytes(&done, Tag::DATA), pt);
}

#[tokio::test]
async fn a_decrypt_stream_whose_tag_fails_releases_nothing() {
    let env = Direct::new(StreamLimits::DEFAULT).await;
    let key = register_aes(&env, &hex(KEY)).await;
    let ct = hex(CIPHERTEXT);
    let c = open_gcm(&env, &key, Op::DECRYPT, &ct[..32]).await;
    let mut tag = hex(TAG);
    tag[0] ^= 1;
    let item = env
        .one(
            4,
            Op::DECRYPT,
            vec![
                data(&ct[32..]),
                correlation(&c),
                last(),
                Ttlv::bytes(Tag::AUTHENTICATED_ENCRYPTION_TAG, tag),
            ],
        )
        .await;
    fails_with(&item, CRYPTOGRAPHIC_FAILURE);
    // The stream is over either way.
    let again = env
        .one(4, Op::DECRYPT, vec![data(b"x"), correlation(&c), last()])
        .await;
    fails_with(&again, ITEM_NOT_FOUND);
}

#[tokio::test]
async fn cbc_by_parts_equals_cbc_at_once() {
    let env = Direct::new(StreamLimits::DEFAULT).await;
    let key = register_aes(&env, &[0x11; 32]).await;
    let iv = vec![0x22; 16];
    let message: Vec<u8> = (0..100u8).collect();
    let at_once = env
        .ok(
            4,
            Op::ENCRYPT,
            vec![
                id(&key),
                cbc_parameters(),
                data(&message),
                Ttlv::bytes(Tag::IV_COUNTER_NONCE, iv.clone()),
            ],
        )
        .await;
    let open = env
        .ok(
            4,
            Op::ENCRYPT,
            vec![
                id(&key),
                cbc_parameters(),
                data(&message[..7]),
                Ttlv::bytes(Tag::IV_COUNTER_NONCE, iv.clone()),
                init(),
            ],
        )
        .await;
    let c = bytes(&open, Tag::CORRELATION_VALUE);
    env.ok(4, Op::ENCRYPT, vec![data(&message[7..50]), correlation(&c)])
        .await;
    let done = env
        .ok(
            4,
            Op::ENCRYPT,
            vec![data(&message[50..]), correlation(&c), last()],
        )
        .await;
    assert_eq!(bytes(&done, Tag::DATA), bytes(&at_once, Tag::DATA));
}

#[tokio::test]
async fn streams_per_client_are_bounded_and_private() {
    let limits = StreamLimits {
        per_client: 2,
        ..StreamLimits::DEFAULT
    };
    let env = Direct::new(limits).await;
    let key = register_aes(&env, &hex(KEY)).await;
    let first = open_gcm(&env, &key, Op::ENCRYPT, b"a").await;
    open_gcm(&env, &key, Op::ENCRYPT, b"b").await;
    let third = env
        .one(
            4,
            Op::ENCRYPT,
            vec![
                id(&key),
                gcm_parameters(),
                data(b"c"),
                Ttlv::bytes(Tag::IV_COUNTER_NONCE, hex(IV)),
                init(),
            ],
        )
        .await;
    fails_with(&third, PERMISSION_DENIED);

    // Bob cannot continue Alice's stream, and learns nothing about it.
    let bob = env
        .as_client(
            &env.bob,
            4,
            Op::ENCRYPT,
            vec![data(b"x"), correlation(&first), last()],
        )
        .await;
    fails_with(&bob, ITEM_NOT_FOUND);
    // A Decrypt cannot continue an Encrypt stream.
    let crossed = env
        .one(4, Op::DECRYPT, vec![data(b"x"), correlation(&first)])
        .await;
    fails_with(&crossed, ITEM_NOT_FOUND);
    // Finishing one frees a slot.
    env.ok(4, Op::ENCRYPT, vec![correlation(&first), last()])
        .await;
    open_gcm(&env, &key, Op::ENCRYPT, b"d").await;
}

#[tokio::test]
async fn oversized_streams_are_refused_and_dropped() {
    let limits = StreamLimits {
        stream_bytes: 64,
        total_bytes: 100,
        ..StreamLimits::DEFAULT
    };
    let env = Direct::new(limits).await;
    let key = register_aes(&env, &hex(KEY)).await;
    let c = open_gcm(&env, &key, Op::ENCRYPT, &[0; 60]).await;
    let over = env
        .one(4, Op::ENCRYPT, vec![data(&[0; 5]), correlation(&c)])
        .await;
    fails_with(&over, RESPONSE_TOO_LARGE);
    let gone = env
        .one(4, Op::ENCRYPT, vec![data(&[0; 1]), correlation(&c), last()])
        .await;
    fails_with(&gone, ITEM_NOT_FOUND);
    // Too large from the first part.
    let item = env
        .one(
            4,
            Op::ENCRYPT,
            vec![
                id(&key),
                gcm_parameters(),
                data(&[0; 65]),
                Ttlv::bytes(Tag::IV_COUNTER_NONCE, hex(IV)),
                init(),
            ],
        )
        .await;
    fails_with(&item, RESPONSE_TOO_LARGE);
    // All streams together: 60 + 41 > 100.
    open_gcm(&env, &key, Op::ENCRYPT, &[0; 60]).await;
    let item = env
        .one(
            4,
            Op::ENCRYPT,
            vec![
                id(&key),
                gcm_parameters(),
                data(&[0; 41]),
                Ttlv::bytes(Tag::IV_COUNTER_NONCE, hex(IV)),
                init(),
            ],
        )
        .await;
    fails_with(&item, RESPONSE_TOO_LARGE);
}

#[tokio::test]
async fn idle_streams_expire() {
    let limits = StreamLimits {
        idle: Duration::from_millis(100),
        ..StreamLimits::DEFAULT
    };
    let env = Direct::new(limits).await;
    let key = register_aes(&env, &hex(KEY)).await;
    let c = open_gcm(&env, &key, Op::ENCRYPT, b"part").await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    let late = env
        .one(4, Op::ENCRYPT, vec![data(b"more"), correlation(&c), last()])
        .await;
    fails_with(&late, ITEM_NOT_FOUND);
    assert_eq!(env.processor.streams().open_streams(), 0);
}

#[tokio::test]
async fn malformed_stream_requests_are_refused() {
    let env = Direct::new(StreamLimits::DEFAULT).await;
    let key = register_aes(&env, &hex(KEY)).await;
    let iv = || Ttlv::bytes(Tag::IV_COUNTER_NONCE, hex(IV));

    // Streaming is KMIP 1.3's.
    let old = env
        .one(
            2,
            Op::ENCRYPT,
            vec![id(&key), gcm_parameters(), data(b"x"), iv(), init()],
        )
        .await;
    fails_with(&old, INVALID_FIELD);
    // Final with no stream; Init with a Correlation Value; an unknown value.
    fails_with(
        &env.one(4, Op::ENCRYPT, vec![id(&key), data(b"x"), iv(), last()])
            .await,
        INVALID_FIELD,
    );
    fails_with(
        &env.one(
            4,
            Op::ENCRYPT,
            vec![id(&key), data(b"x"), init(), correlation(&[0; 16])],
        )
        .await,
        INVALID_FIELD,
    );
    fails_with(
        &env.one(
            4,
            Op::ENCRYPT,
            vec![data(b"x"), correlation(&[7; 16]), last()],
        )
        .await,
        ITEM_NOT_FOUND,
    );
    fails_with(
        &env.one(
            4,
            Op::ENCRYPT,
            vec![data(b"x"), correlation(b"short"), last()],
        )
        .await,
        ITEM_NOT_FOUND,
    );
    // A later part may not change the IV or add AAD; either ends the stream.
    let c = open_gcm(&env, &key, Op::ENCRYPT, b"x").await;
    let changed = env
        .one(
            4,
            Op::ENCRYPT,
            vec![
                data(b"y"),
                correlation(&c),
                Ttlv::bytes(Tag::IV_COUNTER_NONCE, vec![1; 12]),
            ],
        )
        .await;
    fails_with(&changed, INVALID_FIELD);
    fails_with(
        &env.one(4, Op::ENCRYPT, vec![correlation(&c), last()]).await,
        ITEM_NOT_FOUND,
    );
    let c = open_gcm(&env, &key, Op::ENCRYPT, b"x").await;
    let aad = env
        .one(
            4,
            Op::ENCRYPT,
            vec![
                correlation(&c),
                Ttlv::bytes(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, vec![1]),
            ],
        )
        .await;
    fails_with(&aad, INVALID_FIELD);
    // A tag belongs to the final part of a Decrypt.
    let c = open_gcm(&env, &key, Op::DECRYPT, b"x").await;
    let early = env
        .one(
            4,
            Op::DECRYPT,
            vec![
                correlation(&c),
                Ttlv::bytes(Tag::AUTHENTICATED_ENCRYPTION_TAG, hex(TAG)),
            ],
        )
        .await;
    fails_with(&early, INVALID_FIELD);
    // An unknown key fails at Init, not at the end.
    fails_with(
        &env.one(
            4,
            Op::ENCRYPT,
            vec![
                id("00000000-0000-0000-0000-000000000000"),
                gcm_parameters(),
                iv(),
                init(),
            ],
        )
        .await,
        ITEM_NOT_FOUND,
    );
    assert_eq!(env.processor.streams().open_streams(), 0);
}
