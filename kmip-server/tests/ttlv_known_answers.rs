//! Known-answer encodings: every example of KMIP 1.4 §9.1.2, and requests
//! serialized by the crates.io `kmip-protocol` client.

use kmip_server::ttlv::{
    AccessError, BigInteger, ItemType, Limits, Tag, Ttlv, Value, decode, encode, enums, masks,
};

fn hex(text: &str) -> Vec<u8> {
    let digits: String = text.chars().filter(char::is_ascii_hexdigit).collect();
    ::hex::decode(digits).expect("test hex")
}

const T: Tag = Tag(0x420020);

/// Decodes `bytes` to `expected` and encodes `expected` back to `bytes`.
fn known_answer(spec_hex: &str, expected: Ttlv) {
    let bytes = hex(spec_hex);
    let decoded = decode(&bytes, &Limits::DEFAULT).expect("spec example decodes");
    assert_eq!(decoded, expected);
    assert_eq!(
        encode(&expected).expect("encodes").as_slice(),
        bytes.as_slice()
    );
}

#[test]
fn integer_8() {
    known_answer(
        "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00",
        Ttlv::integer(T, 8),
    );
}

#[test]
fn long_integer_123456789000000000() {
    known_answer(
        "42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00",
        Ttlv::long_integer(T, 123_456_789_000_000_000),
    );
}

#[test]
fn big_integer_1234567890000000000000000000() {
    let spec = "42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00";
    let n: u128 = 1_234_567_890_000_000_000_000_000_000;
    let value = BigInteger::from_unsigned(&n.to_be_bytes());
    assert_eq!(value.as_bytes().len(), 16);
    known_answer(spec, Ttlv::new(T, Value::BigInteger(value)));
}

#[test]
fn enumeration_255() {
    known_answer(
        "42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
        Ttlv::enumeration(T, 255u32),
    );
}

#[test]
fn boolean_true() {
    known_answer(
        "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01",
        Ttlv::boolean(T, true),
    );
}

#[test]
fn text_string_hello_world() {
    known_answer(
        "42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00",
        Ttlv::text(T, "Hello World"),
    );
}

#[test]
fn byte_string_010203() {
    known_answer(
        "42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00",
        Ttlv::bytes(T, vec![1, 2, 3]),
    );
}

#[test]
fn date_time_friday_march_14_2008_11_56_40() {
    known_answer(
        "42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8",
        Ttlv::date_time(T, 1_205_495_800),
    );
    let xml = kmip_server::xml::to_xml(&Ttlv::date_time(Tag::ACTIVATION_DATE, 1_205_495_800));
    assert!(xml.contains("value=\"2008-03-14T11:56:40+00:00\""), "{xml}");
}

#[test]
fn interval_10_days() {
    known_answer(
        "42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00",
        Ttlv::interval(T, 10 * 24 * 3600),
    );
}

#[test]
fn structure_of_enumeration_254_and_integer_255() {
    known_answer(
        "42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 \
         | 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
        Ttlv::structure(
            T,
            vec![
                Ttlv::enumeration(Tag(0x420004), 254u32),
                Ttlv::integer(Tag(0x420005), 255),
            ],
        ),
    );
}

#[test]
fn big_integers_are_sign_extended_to_the_shortest_multiple_of_8() {
    let minus_one = BigInteger::from_twos_complement(&[0xff]);
    assert_eq!(minus_one.as_bytes(), &[0xff; 8]);
    let redundant = BigInteger::from_twos_complement(&[0xff; 17]);
    assert_eq!(redundant.as_bytes(), &[0xff; 8]);
    let positive_high_bit = BigInteger::from_unsigned(&[0x80]);
    assert_eq!(positive_high_bit.as_bytes(), &[0, 0, 0, 0, 0, 0, 0, 0x80]);
    let nine = BigInteger::from_unsigned(&[1; 9]);
    assert_eq!(nine.as_bytes().len(), 16);
    assert_eq!(nine.to_unsigned().expect("positive").as_slice(), &[1; 9]);
    assert!(minus_one.to_unsigned().is_none());
    assert_eq!(BigInteger::from_twos_complement(&[]).as_bytes(), &[0; 8]);
}

#[test]
fn generated_constants_name_kmip_values() {
    assert_eq!(Tag::ACTIVATION_DATE, Tag(0x420001));
    assert_eq!(Tag::UNIQUE_IDENTIFIER, Tag(0x420094));
    assert_eq!(Tag::REQUEST_MESSAGE.xml_name(), Some("RequestMessage"));
    assert_eq!(Tag::IV_COUNTER_NONCE.kmip_name(), Some("IV/Counter/Nonce"));
    assert_eq!(
        Tag::from_xml_name("IVCounterNonce"),
        Some(Tag::IV_COUNTER_NONCE)
    );
    assert_eq!(enums::ObjectType::SYMMETRIC_KEY, enums::ObjectType(2));
    assert_eq!(
        enums::CryptographicAlgorithm::DES3.kmip_name(),
        Some("3DES")
    );
    assert_eq!(enums::KeyFormatType::PKCS_1, enums::KeyFormatType(3));
    assert_eq!(enums::Operation::CREATE, enums::Operation(1));
    let mask = masks::CryptographicUsageMask::ENCRYPT | masks::CryptographicUsageMask::DECRYPT;
    assert_eq!(mask, masks::CryptographicUsageMask(12));
    assert!(mask.contains(masks::CryptographicUsageMask::DECRYPT));
    assert_eq!(masks::StorageStatusMask::ARCHIVAL_STORAGE.0, 2);
    assert_eq!(
        format!("{}", Tag::UNIQUE_IDENTIFIER),
        "UniqueIdentifier (0x420094)"
    );
    assert_eq!(format!("{}", Tag(0x540001)), "0x540001");
    // Constants work as patterns, which is how the message layer matches.
    match enums::ObjectType(2) {
        enums::ObjectType::SYMMETRIC_KEY => {}
        other => panic!("matched {other:?}"),
    }
}

#[test]
fn accessors_name_the_missing_tag_and_the_expected_type() {
    let header = Ttlv::structure(
        Tag::REQUEST_HEADER,
        vec![
            Ttlv::integer(Tag::BATCH_COUNT, 2),
            Ttlv::text(Tag::UNIQUE_IDENTIFIER, "a"),
            Ttlv::text(Tag::UNIQUE_IDENTIFIER, "b"),
        ],
    );
    assert_eq!(
        header.required(Tag::BATCH_COUNT).and_then(Ttlv::as_i32),
        Ok(2)
    );
    let ids: Vec<&str> = header
        .children(Tag::UNIQUE_IDENTIFIER)
        .map(|c| c.as_text().expect("text"))
        .collect();
    assert_eq!(ids, ["a", "b"]);
    let missing = header.required(Tag::PROTOCOL_VERSION).expect_err("missing");
    assert_eq!(
        missing,
        AccessError::Missing {
            parent: Tag::REQUEST_HEADER,
            tag: Tag::PROTOCOL_VERSION
        }
    );
    assert_eq!(
        missing.to_string(),
        "RequestHeader (0x420077) has no required ProtocolVersion (0x420069)"
    );
    let wrong = header
        .required(Tag::BATCH_COUNT)
        .and_then(Ttlv::as_text)
        .expect_err("wrong type");
    assert_eq!(
        wrong,
        AccessError::WrongType {
            tag: Tag::BATCH_COUNT,
            expected: ItemType::TextString,
            found: ItemType::Integer
        }
    );
    assert!(header.as_i64().is_err() && header.as_structure().is_ok());
}

#[test]
fn debug_never_prints_key_material_or_passwords() {
    let item = Ttlv::structure(
        Tag::CREDENTIAL_VALUE,
        vec![
            Ttlv::text(Tag::USERNAME, "alice"),
            Ttlv::text(Tag::PASSWORD, "hunter2"),
            Ttlv::bytes(Tag::KEY_MATERIAL, b"SECRETKEY".to_vec()),
            Ttlv::new(
                Tag::D,
                Value::BigInteger(BigInteger::from_unsigned(b"PRIVATEEXP")),
            ),
        ],
    );
    let debug = format!("{item:?}");
    assert!(debug.contains("alice"));
    for secret in ["hunter2", "SECRETKEY", "PRIVATEEXP", "53454352"] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

mod kmip_protocol_client {
    use super::*;
    use kmip_protocol::request::to_vec;
    use kmip_protocol::types::common::{
        CryptographicAlgorithm, CryptographicUsageMask, ObjectType,
    };
    use kmip_protocol::types::request::{Attribute, RequestPayload, TemplateAttribute};

    fn batch_item(message: &Ttlv) -> &Ttlv {
        message.required(Tag::BATCH_ITEM).expect("batch item")
    }

    fn check_header(message: &Ttlv) {
        assert_eq!(message.tag, Tag::REQUEST_MESSAGE);
        let header = message.required(Tag::REQUEST_HEADER).expect("header");
        let version = header.required(Tag::PROTOCOL_VERSION).expect("version");
        assert_eq!(
            version
                .required(Tag::PROTOCOL_VERSION_MAJOR)
                .and_then(Ttlv::as_i32),
            Ok(1)
        );
        assert_eq!(
            header.required(Tag::BATCH_COUNT).and_then(Ttlv::as_i32),
            Ok(1)
        );
    }

    fn attribute_names(parent: &Ttlv) -> Vec<String> {
        parent
            .children(Tag::ATTRIBUTE)
            .map(|a| {
                a.required(Tag::ATTRIBUTE_NAME)
                    .and_then(Ttlv::as_text)
                    .expect("name")
                    .to_owned()
            })
            .collect()
    }

    /// Decodes and checks the encoding is canonical: re-encoding gives the
    /// client's bytes exactly.
    fn decode_canonical(bytes: &[u8]) -> Ttlv {
        let message = decode(bytes, &Limits::DEFAULT).expect("client request decodes");
        assert_eq!(encode(&message).expect("encodes").as_slice(), bytes);
        message
    }

    #[test]
    fn create_request_decodes() {
        let payload = RequestPayload::Create(
            ObjectType::SymmetricKey,
            TemplateAttribute::unnamed(vec![
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
                Attribute::CryptographicLength(256),
                Attribute::CryptographicUsageMask(CryptographicUsageMask::Encrypt),
            ]),
        );
        let bytes = to_vec(payload, None).expect("client serializes");
        let message = decode_canonical(&bytes);
        check_header(&message);
        let item = batch_item(&message);
        assert_eq!(
            item.required(Tag::OPERATION)
                .and_then(Ttlv::as_enum)
                .map(enums::Operation),
            Ok(enums::Operation::CREATE)
        );
        let payload = item.required(Tag::REQUEST_PAYLOAD).expect("payload");
        assert_eq!(
            payload
                .required(Tag::OBJECT_TYPE)
                .and_then(Ttlv::as_enum)
                .map(enums::ObjectType),
            Ok(enums::ObjectType::SYMMETRIC_KEY)
        );
        let template = payload.required(Tag::TEMPLATE_ATTRIBUTE).expect("template");
        assert_eq!(
            attribute_names(template),
            [
                "Cryptographic Algorithm",
                "Cryptographic Length",
                "Cryptographic Usage Mask"
            ]
        );
        let values: Vec<&Ttlv> = template
            .children(Tag::ATTRIBUTE)
            .map(|a| a.required(Tag::ATTRIBUTE_VALUE).expect("value"))
            .collect();
        assert_eq!(
            values[0].as_enum().map(enums::CryptographicAlgorithm),
            Ok(enums::CryptographicAlgorithm::AES)
        );
        assert_eq!(values[1].as_i32(), Ok(256));
        assert_eq!(
            values[2].as_i32(),
            Ok(masks::CryptographicUsageMask::ENCRYPT.into())
        );
    }

    #[test]
    fn locate_request_decodes() {
        let payload = RequestPayload::Locate(vec![
            Attribute::ObjectType(ObjectType::SymmetricKey),
            Attribute::Name("my key".into()),
        ]);
        let bytes = to_vec(payload, None).expect("client serializes");
        let message = decode_canonical(&bytes);
        check_header(&message);
        let item = batch_item(&message);
        assert_eq!(
            item.required(Tag::OPERATION)
                .and_then(Ttlv::as_enum)
                .map(enums::Operation),
            Ok(enums::Operation::LOCATE)
        );
        let payload = item.required(Tag::REQUEST_PAYLOAD).expect("payload");
        assert_eq!(attribute_names(payload), ["Object Type", "Name"]);
        let name = payload
            .children(Tag::ATTRIBUTE)
            .nth(1)
            .and_then(|a| a.child(Tag::ATTRIBUTE_VALUE))
            .expect("name value");
        assert_eq!(
            name.required(Tag::NAME_VALUE).and_then(Ttlv::as_text),
            Ok("my key")
        );
    }
}
