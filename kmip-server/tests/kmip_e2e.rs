//! End to end over mutual TLS: a real `Kms`, the listener, and a TTLV
//! client speaking KMIP 1.0–1.4.

mod common;

use common::reasons::*;
use common::*;
use kmip_server::listener::ListenerLimits;
use kmip_server::ttlv::enums::Operation as Op;
use kmip_server::ttlv::{Tag, Ttlv};

fn count(item: &Ttlv, tag: Tag) -> usize {
    item.children(tag).count()
}

#[tokio::test]
async fn discover_versions_and_query() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();

    let item = one(&mut c, 4, Op::DISCOVER_VERSIONS, vec![]).await;
    let versions: Vec<(i32, i32)> = payload(&item)
        .children(Tag::PROTOCOL_VERSION)
        .map(|v| {
            (
                v.child(Tag::PROTOCOL_VERSION_MAJOR)
                    .unwrap()
                    .as_i32()
                    .unwrap(),
                v.child(Tag::PROTOCOL_VERSION_MINOR)
                    .unwrap()
                    .as_i32()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(versions, vec![(1, 4), (1, 3), (1, 2), (1, 1), (1, 0)]);

    // Only the versions both sides speak.
    let item = one(
        &mut c,
        4,
        Op::DISCOVER_VERSIONS,
        vec![version(1, 2), version(2, 0)],
    )
    .await;
    assert_eq!(count(payload(&item), Tag::PROTOCOL_VERSION), 1);

    let query = |f: u32| vec![Ttlv::enumeration(Tag::QUERY_FUNCTION, f)];
    let item = one(&mut c, 4, Op::QUERY, query(1)).await;
    let ops: Vec<u32> = payload(&item)
        .children(Tag::OPERATION)
        .map(|o| o.as_enum().unwrap())
        .collect();
    assert!(ops.contains(&Op::ENCRYPT.0) && ops.contains(&Op::DISCOVER_VERSIONS.0));
    // KMIP 1.0 has neither Discover Versions nor Encrypt.
    let item = one(&mut c, 0, Op::QUERY, query(1)).await;
    let ops: Vec<u32> = payload(&item)
        .children(Tag::OPERATION)
        .map(|o| o.as_enum().unwrap())
        .collect();
    assert!(ops.contains(&Op::CREATE.0));
    assert!(!ops.contains(&Op::ENCRYPT.0) && !ops.contains(&Op::DISCOVER_VERSIONS.0));
    let item = one(&mut c, 4, Op::QUERY, query(2)).await;
    assert!(count(payload(&item), Tag::OBJECT_TYPE) >= 6);
    let item = one(&mut c, 4, Op::QUERY, query(3)).await;
    assert!(text_of(payload(&item), Tag::VENDOR_IDENTIFICATION).starts_with("Strongroom"));
    server.shutdown().await;
}

#[tokio::test]
async fn symmetric_key_lifecycle() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();

    let item = one(&mut c, 4, Op::CREATE, create_aes("lifecycle")).await;
    let id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);

    // Pre-Active: no encryption (KMIP 1.x reports the wrong state as
    // Permission Denied).
    let enc = vec![uid(&id), Ttlv::bytes(Tag::DATA, b"secret".to_vec())];
    let item = one(&mut c, 4, Op::ENCRYPT, enc.clone()).await;
    assert_eq!(reason(&item), Some(PERMISSION_DENIED), "{}", message(&item));

    payload(&one(&mut c, 4, Op::ACTIVATE, vec![uid(&id)]).await);

    // Get, Raw and Transparent.
    let item = one(&mut c, 4, Op::GET, vec![uid(&id)]).await;
    let p = payload(&item);
    assert_eq!(p.child(Tag::OBJECT_TYPE).unwrap().as_enum().unwrap(), 2);
    let block = p
        .child(Tag::SYMMETRIC_KEY)
        .unwrap()
        .child(Tag::KEY_BLOCK)
        .unwrap();
    assert_eq!(
        block
            .child(Tag::KEY_FORMAT_TYPE)
            .unwrap()
            .as_enum()
            .unwrap(),
        1
    );
    let raw = bytes_of(block.child(Tag::KEY_VALUE).unwrap(), Tag::KEY_MATERIAL);
    assert_eq!(raw.len(), 32);
    let item = one(
        &mut c,
        4,
        Op::GET,
        vec![uid(&id), Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 7u32)],
    )
    .await;
    let transparent = payload(&item)
        .child(Tag::SYMMETRIC_KEY)
        .and_then(|k| k.child(Tag::KEY_BLOCK))
        .and_then(|b| b.child(Tag::KEY_VALUE))
        .and_then(|v| v.child(Tag::KEY_MATERIAL))
        .unwrap();
    assert_eq!(bytes_of(transparent, Tag::KEY), raw);
    let item = one(
        &mut c,
        4,
        Op::GET,
        vec![uid(&id), Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 4u32)],
    )
    .await;
    assert_eq!(reason(&item), Some(KEY_FORMAT_TYPE_NOT_SUPPORTED));

    // Encrypt and decrypt (1.4: separate tag, with AAD).
    let aad = Ttlv::bytes(
        Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
        b"context".to_vec(),
    );
    let mut with_aad = enc.clone();
    with_aad.push(aad.clone());
    let item = one(&mut c, 4, Op::ENCRYPT, with_aad).await;
    let p = payload(&item);
    let ct = bytes_of(p, Tag::DATA);
    let iv = bytes_of(p, Tag::IV_COUNTER_NONCE);
    let tag = bytes_of(p, Tag::AUTHENTICATED_ENCRYPTION_TAG);
    assert_eq!((ct.len(), iv.len(), tag.len()), (6, 12, 16));
    let dec = |tag: Vec<u8>| {
        vec![
            uid(&id),
            Ttlv::bytes(Tag::DATA, ct.clone()),
            Ttlv::bytes(Tag::IV_COUNTER_NONCE, iv.clone()),
            aad.clone(),
            Ttlv::bytes(Tag::AUTHENTICATED_ENCRYPTION_TAG, tag),
        ]
    };
    let item = one(&mut c, 4, Op::DECRYPT, dec(tag.clone())).await;
    assert_eq!(bytes_of(payload(&item), Tag::DATA), b"secret");
    let mut bad = tag.clone();
    bad[0] ^= 1;
    let item = one(&mut c, 4, Op::DECRYPT, dec(bad)).await;
    assert_eq!(reason(&item), Some(CRYPTOGRAPHIC_FAILURE));

    // 1.2 has no tag field: the tag ends the Data.
    let item = one(&mut c, 2, Op::ENCRYPT, enc.clone()).await;
    let p = payload(&item);
    assert_eq!(bytes_of(p, Tag::DATA).len(), 6 + 16);
    assert!(p.child(Tag::AUTHENTICATED_ENCRYPTION_TAG).is_none());
    let item = one(
        &mut c,
        2,
        Op::DECRYPT,
        vec![
            uid(&id),
            Ttlv::bytes(Tag::DATA, bytes_of(p, Tag::DATA)),
            Ttlv::bytes(Tag::IV_COUNTER_NONCE, bytes_of(p, Tag::IV_COUNTER_NONCE)),
        ],
    )
    .await;
    assert_eq!(bytes_of(payload(&item), Tag::DATA), b"secret");

    // A client-chosen GCM IV is used, unless it lies in the server's half
    // of the IV space (first bit set).
    let with_iv = |iv: Vec<u8>| {
        let mut e = enc.clone();
        e.push(Ttlv::bytes(Tag::IV_COUNTER_NONCE, iv));
        e
    };
    assert_eq!(
        reason(&one(&mut c, 4, Op::ENCRYPT, with_iv(vec![0x80; 12])).await),
        Some(INVALID_FIELD)
    );
    let item = one(&mut c, 4, Op::ENCRYPT, with_iv(vec![0; 12])).await;
    let p = payload(&item);
    assert!(
        p.child(Tag::IV_COUNTER_NONCE).is_none(),
        "a client IV is not echoed"
    );
    let item = one(
        &mut c,
        4,
        Op::DECRYPT,
        vec![
            uid(&id),
            Ttlv::bytes(Tag::DATA, bytes_of(p, Tag::DATA)),
            Ttlv::bytes(Tag::IV_COUNTER_NONCE, vec![0; 12]),
            Ttlv::bytes(
                Tag::AUTHENTICATED_ENCRYPTION_TAG,
                bytes_of(p, Tag::AUTHENTICATED_ENCRYPTION_TAG),
            ),
        ],
    )
    .await;
    assert_eq!(bytes_of(payload(&item), Tag::DATA), b"secret");

    // CBC with PKCS5 padding and a server-drawn IV round-trips; a missing
    // IV on Decrypt is Invalid Message; NIST key wrap is not an Encrypt mode.
    let params = |mode: u32| {
        Ttlv::structure(
            Tag::CRYPTOGRAPHIC_PARAMETERS,
            vec![
                Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, mode),
                Ttlv::enumeration(Tag::PADDING_METHOD, 3u32),
            ],
        )
    };
    let mut cbc = enc.clone();
    cbc.push(params(1));
    let item = one(&mut c, 4, Op::ENCRYPT, cbc).await;
    let p = payload(&item);
    assert_eq!(bytes_of(p, Tag::DATA).len(), 16);
    let iv = bytes_of(p, Tag::IV_COUNTER_NONCE);
    let mut dec_cbc = vec![
        uid(&id),
        params(1),
        Ttlv::bytes(Tag::DATA, bytes_of(p, Tag::DATA)),
    ];
    assert_eq!(
        reason(&one(&mut c, 4, Op::DECRYPT, dec_cbc.clone()).await),
        Some(INVALID_MESSAGE)
    );
    dec_cbc.push(Ttlv::bytes(Tag::IV_COUNTER_NONCE, iv));
    let item = one(&mut c, 4, Op::DECRYPT, dec_cbc).await;
    assert_eq!(bytes_of(payload(&item), Tag::DATA), b"secret");
    let mut ofb = enc.clone();
    ofb.push(params(13));
    assert_eq!(
        reason(&one(&mut c, 4, Op::ENCRYPT, ofb).await),
        Some(FEATURE_NOT_SUPPORTED)
    );

    // Revoke (superseded → Deactivated): no more encryption, decryption ok.
    let revoke = vec![
        uid(&id),
        Ttlv::structure(
            Tag::REVOCATION_REASON,
            vec![Ttlv::enumeration(Tag::REVOCATION_REASON_CODE, 5u32)],
        ),
    ];
    payload(&one(&mut c, 4, Op::REVOKE, revoke).await);
    assert_eq!(
        reason(&one(&mut c, 4, Op::ENCRYPT, enc.clone()).await),
        Some(PERMISSION_DENIED)
    );
    let item = one(&mut c, 4, Op::DECRYPT, dec(tag.clone())).await;
    assert_eq!(bytes_of(payload(&item), Tag::DATA), b"secret");

    payload(&one(&mut c, 4, Op::DESTROY, vec![uid(&id)]).await);
    let item = one(
        &mut c,
        4,
        Op::GET_ATTRIBUTES,
        vec![uid(&id), Ttlv::text(Tag::ATTRIBUTE_NAME, "State")],
    )
    .await;
    let state = payload(&item).child(Tag::ATTRIBUTE).unwrap();
    assert_eq!(
        state
            .child(Tag::ATTRIBUTE_VALUE)
            .unwrap()
            .as_enum()
            .unwrap(),
        5
    );
    assert_ne!(status(&one(&mut c, 4, Op::GET, vec![uid(&id)]).await), 0);

    // Every step is in the audit log, attributed to the client.
    env.kms.flush_audit().await.unwrap();
    env.kms.verify_audit().await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn batches_continue_stop_and_placeholder() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let missing = "0190a1b2-0000-7000-8000-000000000000";

    // Create then Activate the new key through the ID Placeholder, then Get.
    let response = send(
        &mut c,
        &request(
            4,
            vec![
                (Op::CREATE, create_aes("batch")),
                (Op::ACTIVATE, vec![]),
                (
                    Op::GET_ATTRIBUTES,
                    vec![Ttlv::text(Tag::ATTRIBUTE_NAME, "State")],
                ),
            ],
        ),
    )
    .await;
    let all = items(&response);
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|i| status(i) == 0));
    for (i, item) in all.iter().enumerate() {
        assert_eq!(bytes_of(item, Tag::UNIQUE_BATCH_ITEM_ID), vec![i as u8 + 1]);
    }
    assert_eq!(
        header(&response)
            .child(Tag::BATCH_COUNT)
            .unwrap()
            .as_i32()
            .unwrap(),
        3
    );

    let items3 = || {
        vec![
            (
                Op::QUERY,
                vec![Ttlv::enumeration(Tag::QUERY_FUNCTION, 1u32)],
            ),
            (Op::GET, vec![uid(missing)]),
            (Op::DISCOVER_VERSIONS, vec![]),
        ]
    };
    // Stop (the default): the batch ends at the failure.
    let response = send(&mut c, &request(4, items3())).await;
    let all = items(&response);
    assert_eq!(all.len(), 2);
    assert_eq!(reason(all[1]), Some(ITEM_NOT_FOUND));
    // Continue: the rest still runs.
    let cont = Ttlv::enumeration(Tag::BATCH_ERROR_CONTINUATION_OPTION, 1u32);
    let response = send(&mut c, &request_with(4, vec![cont], items3())).await;
    let all = items(&response);
    assert_eq!(
        all.iter().map(|i| status(i)).collect::<Vec<_>>(),
        vec![0, 1, 0]
    );
    // Undo is not supported: the whole request is rejected.
    let undo = Ttlv::enumeration(Tag::BATCH_ERROR_CONTINUATION_OPTION, 3u32);
    let response = send(&mut c, &request_with(4, vec![undo], items3())).await;
    let all = items(&response);
    assert_eq!(all.len(), 1);
    assert!(all[0].child(Tag::OPERATION).is_none());
    assert_eq!(reason(all[0]), Some(FEATURE_NOT_SUPPORTED));

    // The Asynchronous Indicator is honoured by answering synchronously.
    let asynchronous = Ttlv::boolean(Tag::ASYNCHRONOUS_INDICATOR, true);
    let response = send(
        &mut c,
        &request_with(4, vec![asynchronous], vec![(Op::DISCOVER_VERSIONS, vec![])]),
    )
    .await;
    assert_eq!(status(items(&response)[0]), 0);

    // Maximum Response Size.
    let small = Ttlv::integer(Tag::MAXIMUM_RESPONSE_SIZE, 64);
    let response = send(
        &mut c,
        &request_with(
            4,
            vec![small],
            vec![(
                Op::QUERY,
                vec![Ttlv::enumeration(Tag::QUERY_FUNCTION, 1u32)],
            )],
        ),
    )
    .await;
    assert_eq!(reason(items(&response)[0]), Some(RESPONSE_TOO_LARGE));

    // A Batch Count that disagrees with the items.
    let mut bad = request(4, vec![(Op::DISCOVER_VERSIONS, vec![])]);
    if let kmip_server::ttlv::Value::Structure(children) = &mut bad.value {
        children.push(children[1].clone());
    }
    let response = send(&mut c, &bad).await;
    assert_eq!(reason(items(&response)[0]), Some(INVALID_MESSAGE));
    server.shutdown().await;
}

#[tokio::test]
async fn permissions_and_project_isolation() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut alice = env.connect(&server, Some(&env.alice)).await.unwrap();
    let mut bob = env.connect(&server, Some(&env.bob)).await.unwrap();
    let mut limited = env.connect(&server, Some(&env.limited)).await.unwrap();

    let item = one(&mut alice, 4, Op::CREATE, create_aes("alice-key")).await;
    let id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);

    // Bob's project does not have it, and he cannot tell it exists.
    for op in [Op::GET, Op::ACTIVATE, Op::DESTROY, Op::GET_ATTRIBUTES] {
        let item = one(&mut bob, 4, op, vec![uid(&id)]).await;
        assert_eq!(reason(&item), Some(ITEM_NOT_FOUND), "{op:?}");
    }
    let item = one(&mut bob, 4, Op::LOCATE, vec![]).await;
    assert_eq!(count(payload(&item), Tag::UNIQUE_IDENTIFIER), 0);

    // The limited client may query, not create or get.
    let item = one(&mut limited, 4, Op::QUERY, vec![]).await;
    payload(&item);
    for (op, p) in [(Op::CREATE, create_aes("x")), (Op::GET, vec![uid(&id)])] {
        let item = one(&mut limited, 4, op, p).await;
        assert_eq!(reason(&item), Some(PERMISSION_DENIED));
    }
    // Not a request a server answers (Notify goes server to client).
    let item = one(&mut alice, 4, Op::NOTIFY, vec![uid(&id)]).await;
    assert_eq!(reason(&item), Some(OPERATION_NOT_SUPPORTED));
    server.shutdown().await;
}

#[tokio::test]
async fn versions_and_attributes() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();

    // A 1.0 request gets a 1.0 response.
    let response = send(&mut c, &request(0, vec![(Op::CREATE, create_aes("old"))])).await;
    assert_eq!(response_version(&response), (1, 0));
    let id = text_of(payload(items(&response)[0]), Tag::UNIQUE_IDENTIFIER);
    // Discover Versions is 1.1: not in 1.0.
    let item = one(&mut c, 0, Op::DISCOVER_VERSIONS, vec![]).await;
    assert_eq!(reason(&item), Some(OPERATION_NOT_SUPPORTED));
    // Another major version: Invalid Message without an Operation.
    let mut v2 = request(4, vec![(Op::QUERY, vec![])]);
    if let kmip_server::ttlv::Value::Structure(children) = &mut v2.value {
        children[0] = Ttlv::structure(
            Tag::REQUEST_HEADER,
            vec![version(2, 0), Ttlv::integer(Tag::BATCH_COUNT, 1)],
        );
    }
    let response = send(&mut c, &v2).await;
    assert_eq!(reason(items(&response)[0]), Some(INVALID_MESSAGE));
    assert!(items(&response)[0].child(Tag::OPERATION).is_none());

    // An attribute that 1.2 does not define (Description is 1.4).
    let mut p = create_aes("described");
    if let kmip_server::ttlv::Value::Structure(t) = &mut p[1].value {
        t.push(attr("Description", Ttlv::text(Tag::ATTRIBUTE_VALUE, "d")));
    }
    let item = one(&mut c, 2, Op::CREATE, p.clone()).await;
    assert_eq!(reason(&item), Some(INVALID_FIELD), "{}", message(&item));
    assert!(message(&item).contains("Description"));
    // In 1.4 it is a real attribute, which this server does not keep.
    let item = one(&mut c, 4, Op::CREATE, p).await;
    assert_eq!(reason(&item), Some(INVALID_FIELD));

    // Get Attribute List, Add / Modify / Delete Attribute.
    let item = one(&mut c, 4, Op::GET_ATTRIBUTE_LIST, vec![uid(&id)]).await;
    let names: Vec<String> = payload(&item)
        .children(Tag::ATTRIBUTE_NAME)
        .map(|n| n.as_text().unwrap().to_owned())
        .collect();
    for n in [
        "Unique Identifier",
        "Name",
        "State",
        "Cryptographic Algorithm",
        "Digest",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    let add = |name: &str, value: Ttlv| vec![uid(&id), attr(name, value)];
    let item = one(
        &mut c,
        4,
        Op::ADD_ATTRIBUTE,
        add("Name", name_value("second")),
    )
    .await;
    let added = payload(&item).child(Tag::ATTRIBUTE).unwrap();
    assert_eq!(
        added.child(Tag::ATTRIBUTE_INDEX).unwrap().as_i32().unwrap(),
        1
    );
    let item = one(
        &mut c,
        4,
        Op::ADD_ATTRIBUTE,
        add("x-owner", Ttlv::text(Tag::ATTRIBUTE_VALUE, "team")),
    )
    .await;
    payload(&item);
    let item = one(
        &mut c,
        4,
        Op::ADD_ATTRIBUTE,
        add("x-owner", Ttlv::text(Tag::ATTRIBUTE_VALUE, "again")),
    )
    .await;
    assert_eq!(reason(&item), Some(ILLEGAL_OPERATION));
    let item = one(
        &mut c,
        4,
        Op::ADD_ATTRIBUTE,
        add("State", Ttlv::enumeration(Tag::ATTRIBUTE_VALUE, 2u32)),
    )
    .await;
    assert_eq!(reason(&item), Some(PERMISSION_DENIED));
    let item = one(
        &mut c,
        4,
        Op::MODIFY_ATTRIBUTE,
        add("x-owner", Ttlv::text(Tag::ATTRIBUTE_VALUE, "other")),
    )
    .await;
    payload(&item);
    let item = one(
        &mut c,
        4,
        Op::GET_ATTRIBUTES,
        vec![
            uid(&id),
            Ttlv::text(Tag::ATTRIBUTE_NAME, "x-owner"),
            Ttlv::text(Tag::ATTRIBUTE_NAME, "Name"),
        ],
    )
    .await;
    let attrs: Vec<&Ttlv> = payload(&item).children(Tag::ATTRIBUTE).collect();
    assert_eq!(attrs.len(), 3);
    assert_eq!(
        attrs[0]
            .child(Tag::ATTRIBUTE_VALUE)
            .unwrap()
            .as_text()
            .unwrap(),
        "other"
    );
    let item = one(
        &mut c,
        4,
        Op::DELETE_ATTRIBUTE,
        vec![
            uid(&id),
            Ttlv::text(Tag::ATTRIBUTE_NAME, "Name"),
            Ttlv::integer(Tag::ATTRIBUTE_INDEX, 0),
        ],
    )
    .await;
    payload(&item);
    let item = one(
        &mut c,
        4,
        Op::DELETE_ATTRIBUTE,
        vec![
            uid(&id),
            Ttlv::text(Tag::ATTRIBUTE_NAME, "Name"),
            Ttlv::integer(Tag::ATTRIBUTE_INDEX, 5),
        ],
    )
    .await;
    assert_eq!(reason(&item), Some(ITEM_NOT_FOUND));

    // Locate by name (the remaining one), by type, paged.
    let item = one(
        &mut c,
        4,
        Op::LOCATE,
        vec![attr("Name", name_value("second"))],
    )
    .await;
    let found: Vec<String> = payload(&item)
        .children(Tag::UNIQUE_IDENTIFIER)
        .map(|u| u.as_text().unwrap().to_owned())
        .collect();
    assert_eq!(found, vec![id.clone()]);
    for i in 0..3 {
        payload(&one(&mut c, 4, Op::CREATE, create_aes(&format!("page{i}"))).await);
    }
    let by_type = || attr("Object Type", Ttlv::enumeration(Tag::ATTRIBUTE_VALUE, 2u32));
    let item = one(&mut c, 4, Op::LOCATE, vec![by_type()]).await;
    assert_eq!(
        payload(&item)
            .child(Tag::LOCATED_ITEMS)
            .unwrap()
            .as_i32()
            .unwrap(),
        4
    );
    let item = one(
        &mut c,
        4,
        Op::LOCATE,
        vec![
            Ttlv::integer(Tag::MAXIMUM_ITEMS, 2),
            Ttlv::integer(Tag::OFFSET_ITEMS, 1),
            by_type(),
        ],
    )
    .await;
    assert_eq!(count(payload(&item), Tag::UNIQUE_IDENTIFIER), 2);
    // Offset Items is 1.3.
    let item = one(
        &mut c,
        2,
        Op::LOCATE,
        vec![Ttlv::integer(Tag::OFFSET_ITEMS, 1)],
    )
    .await;
    assert_eq!(reason(&item), Some(INVALID_FIELD));
    server.shutdown().await;
}

#[tokio::test]
async fn key_pairs_register_mac_rng_hash() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();

    let template = |tag: Tag, attrs: Vec<Ttlv>| Ttlv::structure(tag, attrs);
    let item = one(
        &mut c,
        4,
        Op::CREATE_KEY_PAIR,
        vec![
            template(
                Tag::COMMON_TEMPLATE_ATTRIBUTE,
                vec![
                    attr(
                        "Cryptographic Algorithm",
                        Ttlv::enumeration(Tag::ATTRIBUTE_VALUE, 6u32),
                    ),
                    attr(
                        "Cryptographic Length",
                        Ttlv::integer(Tag::ATTRIBUTE_VALUE, 256),
                    ),
                    attr("Activation Date", Ttlv::date_time(Tag::ATTRIBUTE_VALUE, 1)),
                ],
            ),
            template(
                Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
                vec![attr("Name", name_value("ec-private"))],
            ),
            template(
                Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
                vec![attr("Name", name_value("ec-public"))],
            ),
        ],
    )
    .await;
    let private = text_of(payload(&item), Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
    let public = text_of(payload(&item), Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);

    let item = one(
        &mut c,
        4,
        Op::SIGN,
        vec![uid(&private), Ttlv::bytes(Tag::DATA, b"msg".to_vec())],
    )
    .await;
    let signature = bytes_of(payload(&item), Tag::SIGNATURE_DATA);
    let verify = |data: &[u8]| {
        vec![
            uid(&public),
            Ttlv::bytes(Tag::DATA, data.to_vec()),
            Ttlv::bytes(Tag::SIGNATURE_DATA, signature.clone()),
        ]
    };
    let item = one(&mut c, 4, Op::SIGNATURE_VERIFY, verify(b"msg")).await;
    assert_eq!(
        payload(&item)
            .child(Tag::VALIDITY_INDICATOR)
            .unwrap()
            .as_enum()
            .unwrap(),
        1
    );
    let item = one(&mut c, 4, Op::SIGNATURE_VERIFY, verify(b"other")).await;
    assert_eq!(
        payload(&item)
            .child(Tag::VALIDITY_INDICATOR)
            .unwrap()
            .as_enum()
            .unwrap(),
        2
    );

    // The public key as X.509 SubjectPublicKeyInfo, registered again.
    let item = one(&mut c, 4, Op::GET, vec![uid(&public)]).await;
    let spki = payload(&item).child(Tag::PUBLIC_KEY).unwrap().clone();
    let item = one(
        &mut c,
        4,
        Op::REGISTER,
        vec![
            Ttlv::enumeration(Tag::OBJECT_TYPE, 3u32),
            Ttlv::structure(Tag::TEMPLATE_ATTRIBUTE, vec![]),
            spki,
        ],
    )
    .await;
    payload(&item);

    // A registered HMAC key (Transparent Symmetric Key), MAC and MAC Verify.
    let key_block = Ttlv::structure(
        Tag::KEY_BLOCK,
        vec![
            Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 7u32),
            Ttlv::structure(
                Tag::KEY_VALUE,
                vec![Ttlv::structure(
                    Tag::KEY_MATERIAL,
                    vec![Ttlv::bytes(Tag::KEY, vec![7u8; 32])],
                )],
            ),
            Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, 9u32),
            Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, 256),
        ],
    );
    let item = one(
        &mut c,
        4,
        Op::REGISTER,
        vec![
            Ttlv::enumeration(Tag::OBJECT_TYPE, 2u32),
            Ttlv::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![attr(
                    "Activation Date",
                    Ttlv::date_time(Tag::ATTRIBUTE_VALUE, 1),
                )],
            ),
            Ttlv::structure(Tag::SYMMETRIC_KEY, vec![key_block]),
        ],
    )
    .await;
    let hmac = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(
        &mut c,
        4,
        Op::MAC,
        vec![uid(&hmac), Ttlv::bytes(Tag::DATA, b"data".to_vec())],
    )
    .await;
    let mac = bytes_of(payload(&item), Tag::MAC_DATA);
    // HMAC-SHA256 with key 0x07 * 32, computed with Python's hmac module.
    assert_eq!(
        hex::encode(&mac),
        "21bbc9a314d4aaecde6711d51bdda95e5f04eb117f43e59777d3c11e539f5203"
    );
    let item = one(
        &mut c,
        4,
        Op::MAC_VERIFY,
        vec![
            uid(&hmac),
            Ttlv::bytes(Tag::DATA, b"data".to_vec()),
            Ttlv::bytes(Tag::MAC_DATA, mac),
        ],
    )
    .await;
    assert_eq!(
        payload(&item)
            .child(Tag::VALIDITY_INDICATOR)
            .unwrap()
            .as_enum()
            .unwrap(),
        1
    );

    // Secret Data round trip.
    let secret_block = Ttlv::structure(
        Tag::KEY_BLOCK,
        vec![
            Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 2u32),
            Ttlv::structure(
                Tag::KEY_VALUE,
                vec![Ttlv::bytes(Tag::KEY_MATERIAL, b"hunter2".to_vec())],
            ),
        ],
    );
    let item = one(
        &mut c,
        4,
        Op::REGISTER,
        vec![
            Ttlv::enumeration(Tag::OBJECT_TYPE, 7u32),
            Ttlv::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![attr(
                    "Activation Date",
                    Ttlv::date_time(Tag::ATTRIBUTE_VALUE, 1),
                )],
            ),
            Ttlv::structure(
                Tag::SECRET_DATA,
                vec![Ttlv::enumeration(Tag::SECRET_DATA_TYPE, 1u32), secret_block],
            ),
        ],
    )
    .await;
    let secret = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(&mut c, 4, Op::GET, vec![uid(&secret)]).await;
    let value = payload(&item)
        .child(Tag::SECRET_DATA)
        .and_then(|s| s.child(Tag::KEY_BLOCK))
        .and_then(|b| b.child(Tag::KEY_VALUE))
        .unwrap();
    assert_eq!(bytes_of(value, Tag::KEY_MATERIAL), b"hunter2");

    let item = one(
        &mut c,
        4,
        Op::RNG_RETRIEVE,
        vec![Ttlv::integer(Tag::DATA_LENGTH, 48)],
    )
    .await;
    assert_eq!(bytes_of(payload(&item), Tag::DATA).len(), 48);
    let item = one(
        &mut c,
        4,
        Op::HASH,
        vec![
            Ttlv::structure(
                Tag::CRYPTOGRAPHIC_PARAMETERS,
                vec![Ttlv::enumeration(Tag::HASHING_ALGORITHM, 6u32)],
            ),
            Ttlv::bytes(Tag::DATA, b"abc".to_vec()),
        ],
    )
    .await;
    assert_eq!(
        hex::encode(bytes_of(payload(&item), Tag::DATA)),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    server.shutdown().await;
}

/// The key material of a Get response's key block.
fn key_material(get: &Ttlv, object: Tag) -> Vec<u8> {
    let value = payload(get)
        .child(object)
        .and_then(|o| o.child(Tag::KEY_BLOCK))
        .and_then(|b| b.child(Tag::KEY_VALUE))
        .expect("key value");
    bytes_of(value, Tag::KEY_MATERIAL)
}

fn register_pkcs1(object_type: u32, object: Tag, der: Vec<u8>) -> Vec<Ttlv> {
    let block = Ttlv::structure(
        Tag::KEY_BLOCK,
        vec![
            Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 3u32),
            Ttlv::structure(Tag::KEY_VALUE, vec![Ttlv::bytes(Tag::KEY_MATERIAL, der)]),
            Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, 4u32),
            Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, 2048),
        ],
    );
    vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, object_type),
        Ttlv::structure(
            Tag::TEMPLATE_ATTRIBUTE,
            vec![attr(
                "Activation Date",
                Ttlv::date_time(Tag::ATTRIBUTE_VALUE, 1),
            )],
        ),
        Ttlv::structure(object, vec![block]),
    ]
}

#[tokio::test]
async fn rsa_keys_in_pkcs1() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let item = one(
        &mut c,
        4,
        Op::CREATE_KEY_PAIR,
        vec![Ttlv::structure(
            Tag::COMMON_TEMPLATE_ATTRIBUTE,
            vec![
                attr(
                    "Cryptographic Algorithm",
                    Ttlv::enumeration(Tag::ATTRIBUTE_VALUE, 4u32),
                ),
                attr(
                    "Cryptographic Length",
                    Ttlv::integer(Tag::ATTRIBUTE_VALUE, 2048),
                ),
                attr("Activation Date", Ttlv::date_time(Tag::ATTRIBUTE_VALUE, 1)),
            ],
        )],
    )
    .await;
    let private = text_of(payload(&item), Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
    let public = text_of(payload(&item), Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);
    let pkcs1 = Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 3u32);
    let private_pkcs1 = key_material(
        &one(&mut c, 4, Op::GET, vec![uid(&private), pkcs1.clone()]).await,
        Tag::PRIVATE_KEY,
    );
    let public_pkcs1 = key_material(
        &one(&mut c, 4, Op::GET, vec![uid(&public), pkcs1.clone()]).await,
        Tag::PUBLIC_KEY,
    );
    // RSAPrivateKey and RSAPublicKey are DER SEQUENCEs, not PKCS#8 / SPKI.
    let private_pkcs8 = key_material(
        &one(&mut c, 4, Op::GET, vec![uid(&private)]).await,
        Tag::PRIVATE_KEY,
    );
    assert_eq!(private_pkcs1[0], 0x30);
    assert!(private_pkcs8.len() > private_pkcs1.len());

    // Registered back from PKCS#1, the keys still pair up: a signature by
    // the re-registered private key verifies with the original public key,
    // and one by the original with the re-registered public key.
    let item = one(
        &mut c,
        4,
        Op::REGISTER,
        register_pkcs1(4, Tag::PRIVATE_KEY, private_pkcs1),
    )
    .await;
    let private2 = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(
        &mut c,
        4,
        Op::REGISTER,
        register_pkcs1(3, Tag::PUBLIC_KEY, public_pkcs1),
    )
    .await;
    let public2 = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    for (signer, verifier) in [(&private2, &public), (&private, &public2)] {
        let item = one(
            &mut c,
            4,
            Op::SIGN,
            vec![uid(signer), Ttlv::bytes(Tag::DATA, b"m".to_vec())],
        )
        .await;
        let signature = bytes_of(payload(&item), Tag::SIGNATURE_DATA);
        let item = one(
            &mut c,
            4,
            Op::SIGNATURE_VERIFY,
            vec![
                uid(verifier),
                Ttlv::bytes(Tag::DATA, b"m".to_vec()),
                Ttlv::bytes(Tag::SIGNATURE_DATA, signature),
            ],
        )
        .await;
        assert_eq!(
            payload(&item)
                .child(Tag::VALIDITY_INDICATOR)
                .unwrap()
                .as_enum()
                .unwrap(),
            1
        );
    }
    // Garbage registered as PKCS#1 is refused.
    let item = one(
        &mut c,
        4,
        Op::REGISTER,
        register_pkcs1(4, Tag::PRIVATE_KEY, vec![0x30, 0x03, 1, 2, 3]),
    )
    .await;
    assert_eq!(reason(&item), Some(INVALID_FIELD));
    server.shutdown().await;
}

#[tokio::test]
async fn check_usage() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let item = one(&mut c, 4, Op::CREATE, create_aes("checked")).await;
    let id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let check = |mask: i32| vec![uid(&id), Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, mask)];
    // Pre-Active: not yet usable for encryption.
    assert_eq!(
        reason(&one(&mut c, 4, Op::CHECK, check(0x4)).await),
        Some(PERMISSION_DENIED)
    );
    payload(&one(&mut c, 4, Op::ACTIVATE, vec![uid(&id)]).await);
    let item = one(&mut c, 4, Op::CHECK, check(0x4 | 0x8)).await;
    assert_eq!(text_of(payload(&item), Tag::UNIQUE_IDENTIFIER), id);
    // Signing is not in the key's mask; the Get after it never runs.
    let response = send(
        &mut c,
        &request(4, vec![(Op::CHECK, check(0x1)), (Op::GET, vec![])]),
    )
    .await;
    let all = items(&response);
    assert_eq!(all.len(), 1);
    assert_eq!(reason(all[0]), Some(PERMISSION_DENIED));
    server.shutdown().await;
}

#[tokio::test]
async fn tls12_and_tls13_suites() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    for (version, suite) in [
        (
            &rustls::version::TLS12,
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ),
        (&rustls::version::TLS13, "TLS13_AES_256_GCM_SHA384"),
    ] {
        let config = env.client_config_for(Some(&env.alice), &[version]);
        let mut c = env.connect_with(&server, config).await.unwrap();
        let negotiated = c.get_ref().1.negotiated_cipher_suite().unwrap();
        assert_eq!(format!("{:?}", negotiated.suite()), suite);
        payload(&one(&mut c, 4, Op::DISCOVER_VERSIONS, vec![]).await);
    }
    server.shutdown().await;
}
