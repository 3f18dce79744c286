//! Re-key, Re-key Key Pair, Derive Key and RNG Seed over mutual TLS, and
//! the cipher modes Encrypt and Decrypt offer (AES-192, CBC/ECB/CTR with
//! client IVs, RSA-OAEP and PKCS#1 v1.5), checked against known answers
//! where a standard gives one.

mod common;

use common::reasons::*;
use common::*;
use kmip_server::listener::ListenerLimits;
use kmip_server::ttlv::enums::Operation as Op;
use kmip_server::ttlv::{Tag, Ttlv};

fn get_attribute(item: &Ttlv, name: &str) -> Vec<Ttlv> {
    payload(item)
        .children(Tag::ATTRIBUTE)
        .filter(|a| {
            a.child(Tag::ATTRIBUTE_NAME)
                .and_then(|n| n.as_text().ok())
                .is_some_and(|n| n == name)
        })
        .filter_map(|a| a.child(Tag::ATTRIBUTE_VALUE).cloned())
        .collect()
}

fn linked(links: &[Ttlv], link_type: u32) -> Option<String> {
    links.iter().find_map(|l| {
        (l.child(Tag::LINK_TYPE)?.as_enum().ok()? == link_type)
            .then(|| text_of(l, Tag::LINKED_OBJECT_IDENTIFIER))
    })
}

/// An Activation Date a minute ago: the object is Active at once.
fn activation() -> Ttlv {
    attr(
        "Activation Date",
        Ttlv::new(
            Tag::ATTRIBUTE_VALUE,
            kmip_server::ttlv::Value::DateTime(
                time::OffsetDateTime::now_utc().unix_timestamp() - 60,
            ),
        ),
    )
}

/// `payload` with [`activation`] added to its Template-Attribute.
fn active(mut payload: Vec<Ttlv>) -> Vec<Ttlv> {
    for t in payload
        .iter_mut()
        .filter(|t| t.tag == Tag::TEMPLATE_ATTRIBUTE)
    {
        if let kmip_server::ttlv::Value::Structure(children) = &mut t.value {
            children.push(activation());
        }
    }
    payload
}

#[tokio::test]
async fn rekey_moves_names_and_links_both_keys() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let item = one(&mut c, 4, Op::CREATE, active(create_aes("rotating"))).await;
    let old = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);

    let item = one(
        &mut c,
        4,
        Op::RE_KEY,
        vec![
            uid(&old),
            Ttlv::new(Tag::OFFSET, kmip_server::ttlv::Value::Interval(3600)),
        ],
    )
    .await;
    let new = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    assert_ne!(new, old);

    let attrs = |id: &str| {
        vec![
            uid(id),
            Ttlv::text(Tag::ATTRIBUTE_NAME, "Name"),
            Ttlv::text(Tag::ATTRIBUTE_NAME, "Link"),
            Ttlv::text(Tag::ATTRIBUTE_NAME, "State"),
            Ttlv::text(Tag::ATTRIBUTE_NAME, "Cryptographic Length"),
        ]
    };
    let old_item = one(&mut c, 4, Op::GET_ATTRIBUTES, attrs(&old)).await;
    let new_item = one(&mut c, 4, Op::GET_ATTRIBUTES, attrs(&new)).await;
    assert!(
        get_attribute(&old_item, "Name").is_empty(),
        "names leave the old key"
    );
    assert_eq!(
        text_of(&get_attribute(&new_item, "Name")[0], Tag::NAME_VALUE),
        "rotating"
    );
    assert_eq!(
        linked(&get_attribute(&old_item, "Link"), 0x106),
        Some(new.clone())
    );
    assert_eq!(
        linked(&get_attribute(&new_item, "Link"), 0x107),
        Some(old.clone())
    );
    // The Offset puts the new Activation Date an hour ahead: Pre-Active.
    assert_eq!(get_attribute(&new_item, "State")[0].as_enum().unwrap(), 1);
    assert_eq!(get_attribute(&old_item, "State")[0].as_enum().unwrap(), 2);
    assert_eq!(
        get_attribute(&new_item, "Cryptographic Length")[0]
            .as_i32()
            .unwrap(),
        256
    );
    // The two keys differ.
    let key = |item: &Ttlv| {
        let block = payload(item)
            .child(Tag::SYMMETRIC_KEY)
            .and_then(|k| k.child(Tag::KEY_BLOCK))
            .and_then(|b| b.child(Tag::KEY_VALUE))
            .cloned()
            .unwrap();
        bytes_of(&block, Tag::KEY_MATERIAL)
    };
    let a = key(&one(&mut c, 4, Op::GET, vec![uid(&old)]).await);
    let b = key(&one(&mut c, 4, Op::GET, vec![uid(&new)]).await);
    assert_ne!(a, b);

    // A template that would change attributes is refused, not half-applied.
    let item = one(
        &mut c,
        4,
        Op::RE_KEY,
        vec![
            uid(&new),
            Ttlv::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![attr("Name", name_value("other"))],
            ),
        ],
    )
    .await;
    assert_eq!(reason(&item), Some(FEATURE_NOT_SUPPORTED));
    server.shutdown().await;
}

#[tokio::test]
async fn rekey_key_pair_replaces_both_halves() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let common_template = Ttlv::structure(
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
        ],
    );
    let item = one(&mut c, 4, Op::CREATE_KEY_PAIR, vec![common_template]).await;
    let old_private = text_of(payload(&item), Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
    let old_public = text_of(payload(&item), Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);

    let item = one(
        &mut c,
        4,
        Op::RE_KEY_KEY_PAIR,
        vec![Ttlv::text(
            Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
            old_private.clone(),
        )],
    )
    .await;
    let new_private = text_of(payload(&item), Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
    let new_public = text_of(payload(&item), Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);
    let links = |id: &str| vec![uid(id), Ttlv::text(Tag::ATTRIBUTE_NAME, "Link")];
    let l = get_attribute(
        &one(&mut c, 4, Op::GET_ATTRIBUTES, links(&new_private)).await,
        "Link",
    );
    assert_eq!(linked(&l, 0x102), Some(new_public.clone()));
    assert_eq!(linked(&l, 0x107), Some(old_private.clone()));
    let l = get_attribute(
        &one(&mut c, 4, Op::GET_ATTRIBUTES, links(&old_public)).await,
        "Link",
    );
    assert_eq!(linked(&l, 0x106), Some(new_public.clone()));

    // A symmetric key is not a key pair.
    let item = one(&mut c, 4, Op::CREATE, create_aes("sym")).await;
    let sym = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(
        &mut c,
        4,
        Op::RE_KEY_KEY_PAIR,
        vec![Ttlv::text(Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER, sym)],
    )
    .await;
    assert_eq!(reason(&item), Some(ILLEGAL_OPERATION));
    server.shutdown().await;
}

fn secret_data(password: &[u8]) -> Vec<Ttlv> {
    vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, 7u32),
        Ttlv::structure(
            Tag::TEMPLATE_ATTRIBUTE,
            vec![attr(
                "Cryptographic Usage Mask",
                Ttlv::integer(Tag::ATTRIBUTE_VALUE, 0x200),
            )],
        ),
        Ttlv::structure(
            Tag::SECRET_DATA,
            vec![
                Ttlv::enumeration(Tag::SECRET_DATA_TYPE, 1u32),
                Ttlv::structure(
                    Tag::KEY_BLOCK,
                    vec![
                        Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 2u32),
                        Ttlv::structure(
                            Tag::KEY_VALUE,
                            vec![Ttlv::bytes(Tag::KEY_MATERIAL, password.to_vec())],
                        ),
                    ],
                ),
            ],
        ),
    ]
}

#[tokio::test]
async fn derive_key_pbkdf2_matches_rfc_6070() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let item = one(&mut c, 4, Op::REGISTER, active(secret_data(b"password"))).await;
    assert_eq!(status(&item), 0, "{}", message(&item));
    let base = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);

    let derive = |method: u32, params: Vec<Ttlv>, bits: i32| {
        vec![
            Ttlv::enumeration(Tag::OBJECT_TYPE, 7u32),
            uid(&base),
            Ttlv::enumeration(Tag::DERIVATION_METHOD, method),
            Ttlv::structure(Tag::DERIVATION_PARAMETERS, params),
            Ttlv::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![attr(
                    "Cryptographic Length",
                    Ttlv::integer(Tag::ATTRIBUTE_VALUE, bits),
                )],
            ),
        ]
    };
    // RFC 6070: PBKDF2-HMAC-SHA1("password", "salt", 4096) = 4b007901…
    let pbkdf2 = vec![
        Ttlv::bytes(Tag::SALT, b"salt".to_vec()),
        Ttlv::integer(Tag::ITERATION_COUNT, 4096),
    ];
    let item = one(&mut c, 4, Op::DERIVE_KEY, derive(1, pbkdf2.clone(), 160)).await;
    assert_eq!(status(&item), 0, "{}", message(&item));
    let derived = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let got = one(&mut c, 4, Op::GET, vec![uid(&derived)]).await;
    let value = payload(&got)
        .child(Tag::SECRET_DATA)
        .and_then(|s| s.child(Tag::KEY_BLOCK))
        .and_then(|b| b.child(Tag::KEY_VALUE))
        .cloned()
        .unwrap();
    assert_eq!(
        hex::encode(bytes_of(&value, Tag::KEY_MATERIAL)),
        "4b007901b765489abead49d926f721d065a429c1"
    );
    let l = get_attribute(
        &one(
            &mut c,
            4,
            Op::GET_ATTRIBUTES,
            vec![uid(&base), Ttlv::text(Tag::ATTRIBUTE_NAME, "Link")],
        )
        .await,
        "Link",
    );
    assert_eq!(linked(&l, 0x105), Some(derived));

    // HMAC derivation cannot give more than the hash's output.
    let hmac = vec![
        Ttlv::structure(
            Tag::CRYPTOGRAPHIC_PARAMETERS,
            vec![Ttlv::enumeration(Tag::HASHING_ALGORITHM, 6u32)],
        ),
        Ttlv::bytes(Tag::DERIVATION_DATA, b"context".to_vec()),
    ];
    let item = one(&mut c, 4, Op::DERIVE_KEY, derive(3, hmac.clone(), 256)).await;
    assert_eq!(status(&item), 0, "{}", message(&item));
    let item = one(&mut c, 4, Op::DERIVE_KEY, derive(3, hmac, 512)).await;
    assert_eq!(reason(&item), Some(CRYPTOGRAPHIC_FAILURE));
    // ENCRYPT derivation is not offered; a base without Derive Key is refused.
    let item = one(&mut c, 4, Op::DERIVE_KEY, derive(4, vec![], 128)).await;
    assert_eq!(reason(&item), Some(FEATURE_NOT_SUPPORTED));
    let item = one(&mut c, 4, Op::CREATE, active(create_aes("no-derive"))).await;
    let aes = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let mut request = derive(1, pbkdf2, 128);
    request[1] = uid(&aes);
    let item = one(&mut c, 4, Op::DERIVE_KEY, request).await;
    assert_eq!(reason(&item), Some(PERMISSION_DENIED));
    server.shutdown().await;
}

fn register_aes(key: &[u8], params: Vec<Ttlv>) -> Vec<Ttlv> {
    let mut template = vec![attr(
        "Cryptographic Usage Mask",
        Ttlv::integer(Tag::ATTRIBUTE_VALUE, 0x4 | 0x8),
    )];
    if !params.is_empty() {
        template.push(Ttlv::structure(
            Tag::ATTRIBUTE,
            vec![
                Ttlv::text(Tag::ATTRIBUTE_NAME, "Cryptographic Parameters"),
                Ttlv::structure(Tag::ATTRIBUTE_VALUE, params),
            ],
        ));
    }
    active(vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, 2u32),
        Ttlv::structure(Tag::TEMPLATE_ATTRIBUTE, template),
        Ttlv::structure(
            Tag::SYMMETRIC_KEY,
            vec![Ttlv::structure(
                Tag::KEY_BLOCK,
                vec![
                    Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, 1u32),
                    Ttlv::structure(
                        Tag::KEY_VALUE,
                        vec![Ttlv::bytes(Tag::KEY_MATERIAL, key.to_vec())],
                    ),
                    Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, 3u32),
                    Ttlv::integer(
                        Tag::CRYPTOGRAPHIC_LENGTH,
                        i32::try_from(key.len() * 8).unwrap(),
                    ),
                ],
            )],
        ),
    ])
}

/// NIST SP 800-38A F.2.3 (CBC-AES192) and F.5.1 (CTR-AES128), first block,
/// through the key's own Cryptographic Parameters and the request's.
#[tokio::test]
async fn block_modes_match_sp_800_38a() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let plain = hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap();

    let key192 = hex::decode("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b").unwrap();
    let cbc = vec![Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, 1u32)];
    let item = one(&mut c, 4, Op::REGISTER, register_aes(&key192, cbc)).await;
    assert_eq!(status(&item), 0, "{}", message(&item));
    let id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let iv = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
    let item = one(
        &mut c,
        4,
        Op::ENCRYPT,
        vec![
            uid(&id),
            Ttlv::bytes(Tag::DATA, plain.clone()),
            Ttlv::bytes(Tag::IV_COUNTER_NONCE, iv.clone()),
        ],
    )
    .await;
    assert_eq!(
        hex::encode(bytes_of(payload(&item), Tag::DATA)),
        "4f021db243bc633d7178183a9fa071e8"
    );

    let key128 = hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
    let item = one(&mut c, 4, Op::REGISTER, register_aes(&key128, vec![])).await;
    let id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let ctr = Ttlv::structure(
        Tag::CRYPTOGRAPHIC_PARAMETERS,
        vec![Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, 6u32)],
    );
    let counter = hex::decode("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").unwrap();
    let item = one(
        &mut c,
        4,
        Op::DECRYPT,
        vec![
            uid(&id),
            ctr,
            Ttlv::bytes(
                Tag::DATA,
                hex::decode("874d6191b620e3261bef6864990db6ce").unwrap(),
            ),
            Ttlv::bytes(Tag::IV_COUNTER_NONCE, counter),
        ],
    )
    .await;
    assert_eq!(bytes_of(payload(&item), Tag::DATA), plain);
    server.shutdown().await;
}

#[tokio::test]
async fn rsa_encryption_round_trips_and_rng_seed_is_ignored() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let request = vec![Ttlv::structure(
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
            attr(
                "Cryptographic Usage Mask",
                Ttlv::integer(Tag::ATTRIBUTE_VALUE, 0x4 | 0x8),
            ),
            activation(),
        ],
    )];
    let item = one(&mut c, 4, Op::CREATE_KEY_PAIR, request).await;
    assert_eq!(status(&item), 0, "{}", message(&item));
    let private = text_of(payload(&item), Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
    let public = text_of(payload(&item), Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);
    for (padding, hash) in [(2u32, Some(6u32)), (2, None), (8, None)] {
        let mut fields = vec![Ttlv::enumeration(Tag::PADDING_METHOD, padding)];
        if let Some(h) = hash {
            fields.push(Ttlv::enumeration(Tag::HASHING_ALGORITHM, h));
            fields.push(Ttlv::enumeration(Tag::MASK_GENERATOR, 1u32));
            fields.push(Ttlv::enumeration(Tag::MASK_GENERATOR_HASHING_ALGORITHM, h));
        }
        let params = Ttlv::structure(Tag::CRYPTOGRAPHIC_PARAMETERS, fields);
        let item = one(
            &mut c,
            4,
            Op::ENCRYPT,
            vec![
                uid(&public),
                params.clone(),
                Ttlv::bytes(Tag::DATA, b"key".to_vec()),
            ],
        )
        .await;
        assert_eq!(status(&item), 0, "{}", message(&item));
        let ct = bytes_of(payload(&item), Tag::DATA);
        assert_eq!(ct.len(), 256);
        let item = one(
            &mut c,
            4,
            Op::DECRYPT,
            vec![uid(&private), params, Ttlv::bytes(Tag::DATA, ct)],
        )
        .await;
        assert_eq!(bytes_of(payload(&item), Tag::DATA), b"key");
    }
    let item = one(
        &mut c,
        4,
        Op::RNG_SEED,
        vec![Ttlv::bytes(Tag::DATA, vec![7; 32])],
    )
    .await;
    assert_eq!(
        payload(&item)
            .child(Tag::DATA_LENGTH)
            .unwrap()
            .as_i32()
            .unwrap(),
        0
    );
    server.shutdown().await;
}

fn wrapping_spec(kek: &str, params: Option<Ttlv>, encoding: u32) -> Ttlv {
    let mut info = vec![uid(kek)];
    info.extend(params);
    Ttlv::structure(
        Tag::KEY_WRAPPING_SPECIFICATION,
        vec![
            Ttlv::enumeration(Tag::WRAPPING_METHOD, 1u32),
            Ttlv::structure(Tag::ENCRYPTION_KEY_INFORMATION, info),
            Ttlv::enumeration(Tag::ENCODING_OPTION, encoding),
        ],
    )
}

fn wrapped_value(item: &Ttlv) -> Vec<u8> {
    let block = payload(item)
        .child(Tag::SYMMETRIC_KEY)
        .and_then(|k| k.child(Tag::KEY_BLOCK))
        .cloned()
        .unwrap_or_else(|| panic!("no key block: {}", message(item)));
    assert!(block.child(Tag::KEY_WRAPPING_DATA).is_some());
    block
        .child(Tag::KEY_VALUE)
        .unwrap()
        .as_bytes()
        .unwrap()
        .to_vec()
}

/// RFC 3394 §4.1 (128-bit key under a 128-bit KEK), and RSA-OAEP wrapping
/// undone by Decrypt with the private key.
#[tokio::test]
async fn wrapped_get_matches_rfc_3394_and_rsa_oaep_round_trips() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let kek = hex::decode("000102030405060708090A0B0C0D0E0F").unwrap();
    let key = hex::decode("00112233445566778899AABBCCDDEEFF").unwrap();
    let mut kek_request =
        register_aes(&kek, vec![Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, 13u32)]);
    // Usage: Wrap Key.
    if let kmip_server::ttlv::Value::Structure(t) = &mut kek_request[1].value {
        t[0] = attr(
            "Cryptographic Usage Mask",
            Ttlv::integer(Tag::ATTRIBUTE_VALUE, 0x10),
        );
    }
    let item = one(&mut c, 4, Op::REGISTER, kek_request).await;
    assert_eq!(status(&item), 0, "{}", message(&item));
    let kek_id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(&mut c, 4, Op::REGISTER, register_aes(&key, vec![])).await;
    let key_id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);

    let item = one(
        &mut c,
        4,
        Op::GET,
        vec![uid(&key_id), wrapping_spec(&kek_id, None, 1)],
    )
    .await;
    assert_eq!(
        hex::encode_upper(wrapped_value(&item)),
        "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"
    );
    // A key cannot wrap itself; a key without Wrap Key cannot wrap.
    let item = one(
        &mut c,
        4,
        Op::GET,
        vec![uid(&kek_id), wrapping_spec(&kek_id, None, 1)],
    )
    .await;
    assert_eq!(reason(&item), Some(ILLEGAL_OPERATION));
    let kwp = Ttlv::structure(
        Tag::CRYPTOGRAPHIC_PARAMETERS,
        vec![Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, 12u32)],
    );
    let item = one(
        &mut c,
        4,
        Op::GET,
        vec![uid(&kek_id), wrapping_spec(&key_id, Some(kwp), 1)],
    )
    .await;
    assert_eq!(reason(&item), Some(PERMISSION_DENIED));

    // RSA-OAEP (SHA-256) wrapping of the TTLV-encoded Key Value.
    let request = vec![Ttlv::structure(
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
            attr(
                "Cryptographic Usage Mask",
                Ttlv::integer(Tag::ATTRIBUTE_VALUE, 0x8 | 0x10),
            ),
            activation(),
        ],
    )];
    let item = one(&mut c, 4, Op::CREATE_KEY_PAIR, request).await;
    let private = text_of(payload(&item), Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER);
    let public = text_of(payload(&item), Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);
    let oaep = Ttlv::structure(
        Tag::CRYPTOGRAPHIC_PARAMETERS,
        vec![
            Ttlv::enumeration(Tag::PADDING_METHOD, 2u32),
            Ttlv::enumeration(Tag::HASHING_ALGORITHM, 6u32),
            Ttlv::enumeration(Tag::MASK_GENERATOR_HASHING_ALGORITHM, 6u32),
        ],
    );
    let item = one(
        &mut c,
        4,
        Op::GET,
        vec![uid(&key_id), wrapping_spec(&public, Some(oaep.clone()), 2)],
    )
    .await;
    let wrapped = wrapped_value(&item);
    let item = one(
        &mut c,
        4,
        Op::DECRYPT,
        vec![uid(&private), oaep, Ttlv::bytes(Tag::DATA, wrapped)],
    )
    .await;
    let encoded = bytes_of(payload(&item), Tag::DATA);
    let value = kmip_server::ttlv::decode(&encoded, &kmip_server::ttlv::Limits::DEFAULT).unwrap();
    assert_eq!(value.tag, Tag::KEY_VALUE);
    assert_eq!(bytes_of(&value, Tag::KEY_MATERIAL), key);

    // Compressed EC points are not served.
    let item = one(
        &mut c,
        4,
        Op::GET,
        vec![
            uid(&key_id),
            Ttlv::enumeration(Tag::KEY_COMPRESSION_TYPE, 2u32),
        ],
    )
    .await;
    assert_eq!(reason(&item), Some(17));
    server.shutdown().await;
}

#[tokio::test]
async fn query_lease_allocation_async_and_unsupported_objects() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let query = |f: u32| vec![Ttlv::enumeration(Tag::QUERY_FUNCTION, f)];
    let item = one(&mut c, 4, Op::QUERY, query(11)).await;
    let capability = payload(&item).child(Tag::CAPABILITY_INFORMATION).unwrap();
    assert!(
        !capability
            .child(Tag::ASYNCHRONOUS_CAPABILITY)
            .unwrap()
            .as_bool()
            .unwrap()
    );
    let item = one(&mut c, 4, Op::QUERY, query(8)).await;
    assert!(payload(&item).child(Tag::RNG_PARAMETERS).is_some());
    let item = one(&mut c, 4, Op::QUERY, query(12)).await;
    assert_eq!(
        payload(&item)
            .child(Tag::CLIENT_REGISTRATION_METHOD)
            .unwrap()
            .as_enum()
            .unwrap(),
        2
    );
    // Query Capabilities is not a KMIP 1.2 function.
    assert_eq!(
        reason(&one(&mut c, 2, Op::QUERY, query(11)).await),
        Some(INVALID_FIELD)
    );

    let item = one(&mut c, 4, Op::CREATE, active(create_aes("leased"))).await;
    let id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(&mut c, 4, Op::OBTAIN_LEASE, vec![uid(&id)]).await;
    assert_eq!(
        payload(&item)
            .child(Tag::LEASE_TIME)
            .unwrap()
            .as_interval()
            .unwrap(),
        0
    );
    let item = one(
        &mut c,
        4,
        Op::GET_USAGE_ALLOCATION,
        vec![uid(&id), Ttlv::long_integer(Tag::USAGE_LIMITS_COUNT, 10)],
    )
    .await;
    assert_eq!(reason(&item), Some(ILLEGAL_OPERATION));

    let correlation = Ttlv::bytes(Tag::ASYNCHRONOUS_CORRELATION_VALUE, b"x".to_vec());
    let item = one(&mut c, 4, Op::POLL, vec![correlation.clone()]).await;
    assert_eq!(reason(&item), Some(ITEM_NOT_FOUND));
    let item = one(&mut c, 4, Op::CANCEL, vec![correlation]).await;
    assert_eq!(
        payload(&item)
            .child(Tag::CANCELLATION_RESULT)
            .unwrap()
            .as_enum()
            .unwrap(),
        5
    );

    // Nothing is archived yet: only the on-line mask finds the keys.
    let locate = |mask: i32| vec![Ttlv::integer(Tag::STORAGE_STATUS_MASK, mask)];
    let item = one(&mut c, 4, Op::LOCATE, locate(1)).await;
    assert!(payload(&item).child(Tag::UNIQUE_IDENTIFIER).is_some());
    let item = one(&mut c, 4, Op::LOCATE, locate(2)).await;
    assert!(payload(&item).child(Tag::UNIQUE_IDENTIFIER).is_none());

    // Split Keys and Templates are not kept.
    for t in [5u32, 6] {
        let item = one(
            &mut c,
            4,
            Op::REGISTER,
            vec![Ttlv::enumeration(Tag::OBJECT_TYPE, t)],
        )
        .await;
        assert_eq!(reason(&item), Some(FEATURE_NOT_SUPPORTED));
    }
    server.shutdown().await;
}

/// The test environment's KMIP CA behind Certify.
struct TestCa(std::sync::Arc<Env>);

#[async_trait::async_trait]
impl kmip_server::certify::Certifier for TestCa {
    async fn certify(
        &self,
        request: kmip_server::certify::CertifyRequest<'_>,
    ) -> Result<Vec<u8>, kmip_server::certify::CertifyError> {
        use kmip_server::certify::{CertifyError, CertifyRequest};
        use spki::der::Decode;
        let CertifyRequest::PublicKey { spki, subject } = request else {
            return Err(CertifyError::Refused("public keys only here".into()));
        };
        let key = spki::SubjectPublicKeyInfoOwned::from_der(spki)
            .map_err(|e| CertifyError::Refused(e.to_string()))?;
        let validity = pki::x509::validity::Validity::starting_now(time::Duration::days(1))
            .map_err(|e| CertifyError::Failed(e.to_string()))?;
        let cert = self
            .0
            .ca
            .issue_client(&key, subject, validity)
            .await
            .map_err(|e| CertifyError::Refused(e.to_string()))?;
        Ok(cert.der().to_vec())
    }
}

#[tokio::test]
async fn certify_uses_the_given_ca_and_is_absent_without_one() {
    use kmip_server::processor::Processor;
    use kmip_server::ttlv::{self, Limits};
    let env = std::sync::Arc::new(Env::new().await);
    let client = kmip_server::client::KmipClient::with_all_operations("c", env.project_a);
    let peer = "127.0.0.1:1".parse().unwrap();
    let run = |processor: Processor, op: Op, p: Vec<Ttlv>| {
        let client = client.clone();
        async move {
            let bytes = ttlv::encode(&request(4, vec![(op, p)])).unwrap();
            let out = processor.process(&client, peer, &bytes).await;
            let response = ttlv::decode(&out, &Limits::DEFAULT).unwrap();
            items(&response)[0].clone()
        }
    };
    let plain = Processor::new(env.kms.clone(), Limits::DEFAULT, 8);
    let with_ca = plain
        .clone()
        .with_certifier(std::sync::Arc::new(TestCa(env.clone())));

    let template = Ttlv::structure(
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
            attr("Name", name_value("device-7")),
        ],
    );
    let item = run(plain.clone(), Op::CREATE_KEY_PAIR, vec![template]).await;
    let public = text_of(payload(&item), Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER);

    let item = run(plain.clone(), Op::CERTIFY, vec![uid(&public)]).await;
    assert_eq!(reason(&item), Some(OPERATION_NOT_SUPPORTED));
    let query = vec![Ttlv::enumeration(Tag::QUERY_FUNCTION, 1u32)];
    let listed = |item: &Ttlv| {
        payload(item)
            .children(Tag::OPERATION)
            .any(|o| o.as_enum().unwrap() == Op::CERTIFY.0)
    };
    assert!(!listed(&run(plain.clone(), Op::QUERY, query.clone()).await));
    assert!(listed(&run(with_ca.clone(), Op::QUERY, query).await));

    let item = run(with_ca.clone(), Op::CERTIFY, vec![uid(&public)]).await;
    assert_eq!(status(&item), 0, "{}", message(&item));
    let cert = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = run(with_ca.clone(), Op::GET, vec![uid(&cert)]).await;
    let der = bytes_of(
        payload(&item).child(Tag::CERTIFICATE).unwrap(),
        Tag::CERTIFICATE_VALUE,
    );
    pki::x509::issue::IssuedCertificate::from_der(&der).expect("an X.509 certificate");
    assert!(
        der.windows(8).any(|w| w == b"device-7"),
        "certified for the key's name"
    );
    let item = run(
        with_ca,
        Op::GET_ATTRIBUTES,
        vec![uid(&public), Ttlv::text(Tag::ATTRIBUTE_NAME, "Link")],
    )
    .await;
    assert_eq!(linked(&get_attribute(&item, "Link"), 0x101), Some(cert));
}
