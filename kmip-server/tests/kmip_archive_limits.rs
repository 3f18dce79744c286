//! Archive and Recover, Usage Limits with Get Usage Allocation, Process
//! Start and Protect Stop Dates, Alternative Name and Application Specific
//! Information, over mutual TLS to a live listener.

mod common;

use common::reasons::*;
use common::*;
use kmip_server::listener::ListenerLimits;
use kmip_server::ttlv::enums::Operation as Op;
use kmip_server::ttlv::{Tag, Ttlv, Value};
use time::OffsetDateTime;

/// Result Reason Object Archived (KMIP 1.4 §9.1.3.2.29).
const OBJECT_ARCHIVED: u32 = 0x0D;

fn date_attr(name: &str, offset_seconds: i64) -> Ttlv {
    attr(
        name,
        Ttlv::new(
            Tag::ATTRIBUTE_VALUE,
            Value::DateTime(OffsetDateTime::now_utc().unix_timestamp() + offset_seconds),
        ),
    )
}

/// An Active AES-256 key (Encrypt and Decrypt) with `extra` attributes.
fn create_active(name: &str, extra: Vec<Ttlv>) -> Vec<Ttlv> {
    let mut payload = create_aes(name);
    if let Value::Structure(children) = &mut payload[1].value {
        children.push(date_attr("Activation Date", -3600));
        children.extend(extra);
    }
    payload
}

fn usage_limits(total: i64, unit: u32) -> Ttlv {
    attr(
        "Usage Limits",
        Ttlv::structure(
            Tag::ATTRIBUTE_VALUE,
            vec![
                Ttlv::long_integer(Tag::USAGE_LIMITS_TOTAL, total),
                Ttlv::enumeration(Tag::USAGE_LIMITS_UNIT, unit),
            ],
        ),
    )
}

fn alternative_name(value: &str) -> Ttlv {
    attr(
        "Alternative Name",
        Ttlv::structure(
            Tag::ATTRIBUTE_VALUE,
            vec![
                Ttlv::text(Tag::ALTERNATIVE_NAME_VALUE, value),
                Ttlv::enumeration(Tag::ALTERNATIVE_NAME_TYPE, 1u32),
            ],
        ),
    )
}

/// AES-ECB over `data` (a whole number of blocks).
fn ecb(id: &str, data: &[u8]) -> Vec<Ttlv> {
    vec![
        uid(id),
        Ttlv::structure(
            Tag::CRYPTOGRAPHIC_PARAMETERS,
            vec![Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, 2u32)],
        ),
        Ttlv::bytes(Tag::DATA, data.to_vec()),
    ]
}

fn get_attributes(id: &str, name: &str) -> Vec<Ttlv> {
    vec![uid(id), Ttlv::text(Tag::ATTRIBUTE_NAME, name)]
}

/// The Attribute Values of `name` in a Get Attributes answer.
fn values(item: &Ttlv, name: &str) -> Vec<Ttlv> {
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

fn located(item: &Ttlv) -> Vec<String> {
    payload(item)
        .children(Tag::UNIQUE_IDENTIFIER)
        .map(|u| u.as_text().unwrap().to_owned())
        .collect()
}

fn count_left(item: &Ttlv) -> i64 {
    values(item, "Usage Limits")[0]
        .child(Tag::USAGE_LIMITS_COUNT)
        .unwrap()
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn archived_objects_are_off_line_until_recovered() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let item = one(&mut c, 4, Op::CREATE, create_active("shelved", vec![])).await;
    let id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(&mut c, 4, Op::CREATE, create_active("on-line", vec![])).await;
    let other = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    // Warm the key cache: Archive must still stop the cached key.
    payload(&one(&mut c, 4, Op::ENCRYPT, ecb(&id, &[0; 16])).await);

    let item = one(&mut c, 4, Op::ARCHIVE, vec![uid(&id)]).await;
    assert_eq!(text_of(payload(&item), Tag::UNIQUE_IDENTIFIER), id);
    for (op, body) in [
        (Op::GET, vec![uid(&id)]),
        (Op::ENCRYPT, ecb(&id, &[0; 16])),
        (Op::DECRYPT, ecb(&id, &[0; 16])),
        (Op::GET_ATTRIBUTES, vec![uid(&id)]),
        (Op::ACTIVATE, vec![uid(&id)]),
        (Op::DESTROY, vec![uid(&id)]),
        (Op::ARCHIVE, vec![uid(&id)]),
    ] {
        let item = one(&mut c, 4, op, body).await;
        assert_eq!(reason(&item), Some(OBJECT_ARCHIVED), "{op:?}");
    }

    let mask = |m: i32| vec![Ttlv::integer(Tag::STORAGE_STATUS_MASK, m)];
    assert_eq!(
        located(&one(&mut c, 4, Op::LOCATE, vec![]).await),
        std::slice::from_ref(&other)
    );
    assert_eq!(
        located(&one(&mut c, 4, Op::LOCATE, mask(1)).await),
        std::slice::from_ref(&other)
    );
    assert_eq!(
        located(&one(&mut c, 4, Op::LOCATE, mask(2)).await),
        std::slice::from_ref(&id)
    );
    let mut both = located(&one(&mut c, 4, Op::LOCATE, mask(3)).await);
    both.sort();
    let mut expected = vec![id.clone(), other.clone()];
    expected.sort();
    assert_eq!(both, expected);

    payload(&one(&mut c, 4, Op::RECOVER, vec![uid(&id)]).await);
    let item = one(
        &mut c,
        4,
        Op::GET_ATTRIBUTES,
        get_attributes(&id, "Archive Date"),
    )
    .await;
    assert!(values(&item, "Archive Date").is_empty());
    payload(&one(&mut c, 4, Op::ENCRYPT, ecb(&id, &[0; 16])).await);
    assert_eq!(
        located(&one(&mut c, 4, Op::LOCATE, mask(2)).await),
        Vec::<String>::new()
    );
    // Recovering an on-line object changes nothing.
    payload(&one(&mut c, 4, Op::RECOVER, vec![uid(&other)]).await);

    // Both are KMIP 1.0 operations, listed by Query at every version.
    for minor in [0, 4] {
        let query = vec![Ttlv::enumeration(Tag::QUERY_FUNCTION, 1u32)];
        let item = one(&mut c, minor, Op::QUERY, query).await;
        let ops: Vec<u32> = payload(&item)
            .children(Tag::OPERATION)
            .map(|o| o.as_enum().unwrap())
            .collect();
        assert!(ops.contains(&Op::ARCHIVE.0) && ops.contains(&Op::RECOVER.0));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn usage_limits_are_spent_by_encrypt_and_allocation() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let item = one(
        &mut c,
        4,
        Op::CREATE,
        create_active("limited", vec![usage_limits(40, 1)]),
    )
    .await;
    let id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(
        &mut c,
        4,
        Op::GET_ATTRIBUTES,
        get_attributes(&id, "Usage Limits"),
    )
    .await;
    assert_eq!(count_left(&item), 40);

    let item = one(&mut c, 4, Op::ENCRYPT, ecb(&id, &[7; 32])).await;
    let ciphertext = bytes_of(payload(&item), Tag::DATA);
    let item = one(
        &mut c,
        4,
        Op::GET_ATTRIBUTES,
        get_attributes(&id, "Usage Limits"),
    )
    .await;
    assert_eq!(count_left(&item), 8);

    let allocate = |n: i64| vec![uid(&id), Ttlv::long_integer(Tag::USAGE_LIMITS_COUNT, n)];
    payload(&one(&mut c, 4, Op::GET_USAGE_ALLOCATION, allocate(8)).await);
    let item = one(&mut c, 4, Op::GET_USAGE_ALLOCATION, allocate(1)).await;
    assert_eq!(reason(&item), Some(PERMISSION_DENIED));
    let item = one(&mut c, 4, Op::ENCRYPT, ecb(&id, &[7; 16])).await;
    assert_eq!(reason(&item), Some(PERMISSION_DENIED));
    // Processing is never limited.
    let item = one(&mut c, 4, Op::DECRYPT, ecb(&id, &ciphertext)).await;
    assert_eq!(bytes_of(payload(&item), Tag::DATA), [7; 32]);

    // Once spent, the limits are fixed.
    let modify = vec![uid(&id), usage_limits(100, 1)];
    let item = one(&mut c, 4, Op::MODIFY_ATTRIBUTE, modify).await;
    assert_eq!(reason(&item), Some(INVALID_FIELD));

    // A key without Usage Limits has nothing to allocate from.
    let item = one(&mut c, 4, Op::CREATE, create_active("unlimited", vec![])).await;
    let free = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(
        &mut c,
        4,
        Op::GET_USAGE_ALLOCATION,
        vec![uid(&free), Ttlv::long_integer(Tag::USAGE_LIMITS_COUNT, 1)],
    )
    .await;
    assert_eq!(reason(&item), Some(ILLEGAL_OPERATION));
    server.shutdown().await;
}

#[tokio::test]
async fn process_start_and_protect_stop_gate_decrypt_and_encrypt() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let late = vec![date_attr("Process Start Date", 3600)];
    let item = one(&mut c, 4, Op::CREATE, create_active("late", late)).await;
    let late = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(&mut c, 4, Op::ENCRYPT, ecb(&late, &[1; 16])).await;
    let ciphertext = bytes_of(payload(&item), Tag::DATA);
    let item = one(&mut c, 4, Op::DECRYPT, ecb(&late, &ciphertext)).await;
    assert_eq!(reason(&item), Some(PERMISSION_DENIED));
    // Not reached yet, so it may still move; it can never be deleted.
    let modify = vec![uid(&late), date_attr("Process Start Date", -60)];
    payload(&one(&mut c, 4, Op::MODIFY_ATTRIBUTE, modify).await);
    let item = one(&mut c, 4, Op::DECRYPT, ecb(&late, &ciphertext)).await;
    assert_eq!(bytes_of(payload(&item), Tag::DATA), [1; 16]);
    let delete = vec![
        uid(&late),
        Ttlv::text(Tag::ATTRIBUTE_NAME, "Process Start Date"),
    ];
    let item = one(&mut c, 4, Op::DELETE_ATTRIBUTE, delete).await;
    assert_eq!(reason(&item), Some(PERMISSION_DENIED));

    let stopped = vec![date_attr("Protect Stop Date", -60)];
    let item = one(&mut c, 4, Op::CREATE, create_active("stopped", stopped)).await;
    let stopped = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    let item = one(&mut c, 4, Op::ENCRYPT, ecb(&stopped, &[1; 16])).await;
    assert_eq!(reason(&item), Some(PERMISSION_DENIED));
    payload(&one(&mut c, 4, Op::DECRYPT, ecb(&stopped, &[1; 16])).await);
    // Reached, so fixed.
    let modify = vec![uid(&stopped), date_attr("Protect Stop Date", 3600)];
    let item = one(&mut c, 4, Op::MODIFY_ATTRIBUTE, modify).await;
    assert_eq!(reason(&item), Some(INVALID_FIELD));
    let item = one(
        &mut c,
        4,
        Op::GET_ATTRIBUTES,
        get_attributes(&stopped, "Protect Stop Date"),
    )
    .await;
    assert_eq!(values(&item, "Protect Stop Date").len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn alternative_names_exist_from_kmip_1_2_and_are_located() {
    let env = Env::new().await;
    let server = env.start(ListenerLimits::DEFAULT).await;
    let mut c = env.connect(&server, Some(&env.alice)).await.unwrap();
    let tape = vec![
        alternative_name("XXA012A1"),
        alternative_name("XXA012A2"),
        attr(
            "Application Specific Information",
            Ttlv::structure(
                Tag::ATTRIBUTE_VALUE,
                vec![
                    Ttlv::text(Tag::APPLICATION_NAMESPACE, "LIBRARY-LTO"),
                    Ttlv::text(Tag::APPLICATION_DATA, "123456789ABCDEF"),
                ],
            ),
        ),
    ];
    let item = one(&mut c, 4, Op::CREATE, create_active("tape", tape)).await;
    let id = text_of(payload(&item), Tag::UNIQUE_IDENTIFIER);
    payload(&one(&mut c, 4, Op::CREATE, create_active("other", vec![])).await);

    let item = one(&mut c, 4, Op::GET_ATTRIBUTES, vec![uid(&id)]).await;
    let names = values(&item, "Alternative Name");
    assert_eq!(names.len(), 2);
    assert_eq!(text_of(&names[1], Tag::ALTERNATIVE_NAME_VALUE), "XXA012A2");
    let info = values(&item, "Application Specific Information");
    assert_eq!(text_of(&info[0], Tag::APPLICATION_NAMESPACE), "LIBRARY-LTO");

    let find = |v: &str| vec![alternative_name(v)];
    assert_eq!(
        located(&one(&mut c, 4, Op::LOCATE, find("XXA012A2")).await),
        std::slice::from_ref(&id)
    );
    assert!(located(&one(&mut c, 4, Op::LOCATE, find("nope")).await).is_empty());

    // KMIP 1.1 defines no Alternative Name: refused in, left out.
    let item = one(&mut c, 1, Op::CREATE, create_active("old", find("X"))).await;
    assert_eq!(reason(&item), Some(INVALID_FIELD));
    let item = one(&mut c, 1, Op::GET_ATTRIBUTES, vec![uid(&id)]).await;
    assert!(values(&item, "Alternative Name").is_empty());
    let item = one(&mut c, 1, Op::GET_ATTRIBUTE_LIST, vec![uid(&id)]).await;
    assert!(
        payload(&item)
            .children(Tag::ATTRIBUTE_NAME)
            .all(|n| n.as_text().unwrap() != "Alternative Name")
    );

    // Deleting one instance keeps the other.
    let delete = vec![
        uid(&id),
        Ttlv::text(Tag::ATTRIBUTE_NAME, "Alternative Name"),
        Ttlv::integer(Tag::ATTRIBUTE_INDEX, 0),
    ];
    payload(&one(&mut c, 4, Op::DELETE_ATTRIBUTE, delete).await);
    let item = one(
        &mut c,
        4,
        Op::GET_ATTRIBUTES,
        get_attributes(&id, "Alternative Name"),
    )
    .await;
    let names = values(&item, "Alternative Name");
    assert_eq!(names.len(), 1);
    assert_eq!(text_of(&names[0], Tag::ALTERNATIVE_NAME_VALUE), "XXA012A2");
    server.shutdown().await;
}
