//! For the key-format and streaming tests: a real `Kms` (software root in
//! a temporary directory, SQLite) and KMIP requests handed straight to the
//! [`Processor`], as clients of two projects. What they test is the
//! operation layer; the TLS path is the same code behind the listener.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use kmip_server::client::KmipClient;
use kmip_server::processor::Processor;
use kmip_server::streams::StreamLimits;
use kmip_server::ttlv::enums::Operation;
use kmip_server::ttlv::{self, Limits, Tag, Ttlv, Value};
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::service::{Actor, Kms, OpenOptions};

pub struct Direct {
    _dir: tempfile::TempDir,
    pub kms: Kms,
    pub processor: Processor,
    pub alice: KmipClient,
    pub bob: KmipClient,
}

impl Direct {
    pub async fn new(limits: StreamLimits) -> Direct {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = SoftwareRoot::create_key_file(&dir.path().join("root.key")).expect("root");
        let kms = Kms::init(&OpenOptions::sqlite_in(dir.path()), Arc::new(root))
            .await
            .expect("init");
        let actor = Actor::new("tests", None);
        let org = kms.create_organization(&actor, "org").await.expect("org");
        let a = kms.create_project(&actor, org, "a").await.expect("a");
        let b = kms.create_project(&actor, org, "b").await.expect("b");
        let processor = Processor::new(kms.clone(), Limits::DEFAULT, 64).with_stream_limits(limits);
        Direct {
            _dir: dir,
            kms,
            processor,
            alice: KmipClient::with_all_operations("alice", a),
            bob: KmipClient::with_all_operations("bob", b),
        }
    }

    /// One batch item from `client` at KMIP 1.`minor`; returns the
    /// response's batch item.
    pub async fn as_client(
        &self,
        client: &KmipClient,
        minor: i32,
        op: Operation,
        payload: Vec<Ttlv>,
    ) -> Ttlv {
        let request = Ttlv::structure(
            Tag::REQUEST_MESSAGE,
            vec![
                Ttlv::structure(
                    Tag::REQUEST_HEADER,
                    vec![
                        Ttlv::structure(
                            Tag::PROTOCOL_VERSION,
                            vec![
                                Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, 1),
                                Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, minor),
                            ],
                        ),
                        Ttlv::integer(Tag::BATCH_COUNT, 1),
                    ],
                ),
                Ttlv::structure(
                    Tag::BATCH_ITEM,
                    vec![
                        Ttlv::enumeration(Tag::OPERATION, op),
                        Ttlv::structure(Tag::REQUEST_PAYLOAD, payload),
                    ],
                ),
            ],
        );
        let bytes = ttlv::encode(&request).expect("encode");
        let peer: SocketAddr = "127.0.0.1:5696".parse().expect("address");
        let answer = self.processor.process(client, peer, &bytes).await;
        let response = ttlv::decode(&answer, &Limits::DEFAULT).expect("decode");
        response
            .child(Tag::BATCH_ITEM)
            .cloned()
            .expect("a batch item")
    }

    /// Like [`Direct::as_client`] for alice.
    pub async fn one(&self, minor: i32, op: Operation, payload: Vec<Ttlv>) -> Ttlv {
        self.as_client(&self.alice, minor, op, payload).await
    }

    /// The payload of an item that must have succeeded.
    pub async fn ok(&self, minor: i32, op: Operation, payload: Vec<Ttlv>) -> Ttlv {
        let item = self.one(minor, op, payload).await;
        success(&item).clone()
    }
}

/// The Response Payload of a successful item (panics with the Result
/// Message otherwise).
pub fn success(item: &Ttlv) -> &Ttlv {
    assert_eq!(
        item.child(Tag::RESULT_STATUS)
            .and_then(|s| s.as_enum().ok()),
        Some(0),
        "failed: reason {:?}: {}",
        reason(item),
        item.child(Tag::RESULT_MESSAGE)
            .and_then(|m| m.as_text().ok())
            .unwrap_or_default()
    );
    item.child(Tag::RESPONSE_PAYLOAD).expect("payload")
}

/// The Result Reason of a failed item.
pub fn reason(item: &Ttlv) -> Option<u32> {
    item.child(Tag::RESULT_REASON)
        .and_then(|r| r.as_enum().ok())
}

/// Asserts that `item` failed with `want` and carries no payload.
pub fn fails_with(item: &Ttlv, want: u32) {
    assert_eq!(
        reason(item),
        Some(want),
        "{:?}",
        item.child(Tag::RESULT_MESSAGE)
    );
    assert!(item.child(Tag::RESPONSE_PAYLOAD).is_none());
}

pub fn uid(payload: &Ttlv) -> String {
    payload
        .child(Tag::UNIQUE_IDENTIFIER)
        .and_then(|u| u.as_text().ok())
        .expect("unique identifier")
        .to_owned()
}

pub fn bytes(payload: &Ttlv, tag: Tag) -> Vec<u8> {
    payload
        .child(tag)
        .and_then(|b| b.as_bytes().ok())
        .unwrap_or_else(|| panic!("{tag} missing"))
        .to_vec()
}

fn attribute(name: &str, value: Value) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE,
        vec![
            Ttlv::text(Tag::ATTRIBUTE_NAME, name),
            Ttlv::new(Tag::ATTRIBUTE_VALUE, value),
        ],
    )
}

/// A Template-Attribute with a usage mask and an Activation Date a minute
/// ago (so the object is Active at once).
pub fn active_template(usage_mask: i32) -> Ttlv {
    Ttlv::structure(
        Tag::TEMPLATE_ATTRIBUTE,
        vec![
            attribute("Cryptographic Usage Mask", Value::Integer(usage_mask)),
            attribute(
                "Activation Date",
                Value::DateTime(time::OffsetDateTime::now_utc().unix_timestamp() - 60),
            ),
        ],
    )
}

/// A Key Block in `format` around `material` (bytes or a structure).
pub fn key_block(format: u32, material: Ttlv, extra: Vec<Ttlv>) -> Ttlv {
    let mut children = vec![
        Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, format),
        Ttlv::structure(Tag::KEY_VALUE, vec![material]),
    ];
    children.extend(extra);
    Ttlv::structure(Tag::KEY_BLOCK, children)
}

/// A Register payload for an object of `object_type` (its KMIP value)
/// wrapped in `object_tag`.
pub fn register(object_type: u32, object_tag: Tag, usage_mask: i32, block: Ttlv) -> Vec<Ttlv> {
    vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, object_type),
        active_template(usage_mask),
        Ttlv::structure(object_tag, vec![block]),
    ]
}

/// Registers a raw AES key for Encrypt and Decrypt; returns its id.
pub async fn register_aes(env: &Direct, key: &[u8]) -> String {
    let block = key_block(
        1,
        Ttlv::bytes(Tag::KEY_MATERIAL, key.to_vec()),
        vec![
            Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, 3u32),
            Ttlv::integer(
                Tag::CRYPTOGRAPHIC_LENGTH,
                i32::try_from(key.len() * 8).unwrap(),
            ),
        ],
    );
    let payload = env
        .ok(
            4,
            Operation::REGISTER,
            register(2, Tag::SYMMETRIC_KEY, 0x4 | 0x8, block),
        )
        .await;
    uid(&payload)
}

/// Result Reason values.
pub mod reasons {
    pub const ITEM_NOT_FOUND: u32 = 1;
    pub const RESPONSE_TOO_LARGE: u32 = 2;
    pub const INVALID_MESSAGE: u32 = 4;
    pub const INVALID_FIELD: u32 = 7;
    pub const FEATURE_NOT_SUPPORTED: u32 = 8;
    pub const CRYPTOGRAPHIC_FAILURE: u32 = 10;
    pub const PERMISSION_DENIED: u32 = 12;
    pub const KEY_FORMAT_TYPE_NOT_SUPPORTED: u32 = 16;
    pub const GENERAL_FAILURE: u32 = 0x100;
}
