//! Key formats: Register in every format this server reads, Get in every
//! format it writes, and check they are the same key — byte for byte
//! across formats, and by signing with the registered private key and
//! verifying under the original public key with aws-lc-rs (through
//! kms-core's `VerifyingKey`). Then hostile key material: missing and
//! inconsistent components, wrong curves, off-curve points, formats a
//! version does not define — each a clean failure with the right Result
//! Reason.

mod direct;

use direct::reasons::*;
use direct::*;
use kmip_server::ttlv::enums::{KeyFormatType as F, Operation as Op};
use kmip_server::ttlv::{BigInteger, Tag, Ttlv, Value};
use kms_core::crypto::SecretBytes;
use kms_core::crypto::keygen::{self, GeneratedKey, KeySpec};
use kms_core::crypto::signature::{SignatureScheme, VerifyingKey};

const PUBLIC_KEY: u32 = 3;
const PRIVATE_KEY: u32 = 4;
const RSA: u32 = 4;
const ECDSA: u32 = 6;
const SIGN: i32 = 0x1;
const VERIFY: i32 = 0x2;

fn pair(spec: KeySpec) -> (SecretBytes, Vec<u8>) {
    match keygen::generate(spec).expect("keygen") {
        GeneratedKey::Pair {
            private_pkcs8,
            public_spki,
        } => (private_pkcs8, public_spki),
        GeneratedKey::Symmetric(_) => panic!("a pair"),
    }
}

fn raw(bytes: &[u8]) -> Ttlv {
    Ttlv::bytes(Tag::KEY_MATERIAL, bytes.to_vec())
}

fn algorithm_and_length(algorithm: u32, bits: i32) -> Vec<Ttlv> {
    vec![
        Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, algorithm),
        Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, bits),
    ]
}

/// Registers `material` (a Key Material item) as a private or public key
/// in `format` at KMIP 1.`minor`; returns the response item.
async fn try_register(
    env: &Direct,
    minor: i32,
    private: bool,
    format: F,
    material: Ttlv,
    extra: Vec<Ttlv>,
) -> Ttlv {
    let (object_type, tag, mask) = if private {
        (PRIVATE_KEY, Tag::PRIVATE_KEY, SIGN)
    } else {
        (PUBLIC_KEY, Tag::PUBLIC_KEY, VERIFY)
    };
    let block = key_block(format.0, material, extra);
    env.one(minor, Op::REGISTER, register(object_type, tag, mask, block))
        .await
}

async fn registered(
    env: &Direct,
    minor: i32,
    private: bool,
    format: F,
    material: Ttlv,
    extra: Vec<Ttlv>,
) -> String {
    let item = try_register(env, minor, private, format, material, extra).await;
    uid(success(&item))
}

async fn try_get(env: &Direct, minor: i32, id: &str, format: F) -> Ttlv {
    env.one(
        minor,
        Op::GET,
        vec![
            Ttlv::text(Tag::UNIQUE_IDENTIFIER, id),
            Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, format.0),
        ],
    )
    .await
}

/// The Key Material a Get in `format` returns, after checking the Key
/// Block names that format.
async fn material(env: &Direct, minor: i32, id: &str, format: F) -> Ttlv {
    let item = try_get(env, minor, id, format).await;
    let payload = success(&item);
    let object = payload
        .child(Tag::PRIVATE_KEY)
        .or_else(|| payload.child(Tag::PUBLIC_KEY))
        .expect("a key object");
    let block = object.child(Tag::KEY_BLOCK).expect("key block");
    assert_eq!(
        block
            .child(Tag::KEY_FORMAT_TYPE)
            .unwrap()
            .as_enum()
            .unwrap(),
        format.0
    );
    block
        .child(Tag::KEY_VALUE)
        .and_then(|v| v.child(Tag::KEY_MATERIAL))
        .cloned()
        .expect("key material")
}

/// Signs with the private key `id` through KMIP and verifies the signature
/// under `spki` with aws-lc-rs.
async fn signs_for(env: &Direct, id: &str, spki: &[u8], scheme: SignatureScheme) {
    let message = b"formats round trip".to_vec();
    let payload = env
        .ok(
            4,
            Op::SIGN,
            vec![
                Ttlv::text(Tag::UNIQUE_IDENTIFIER, id),
                Ttlv::bytes(Tag::DATA, message.clone()),
            ],
        )
        .await;
    let signature = bytes(&payload, Tag::SIGNATURE_DATA);
    VerifyingKey::from_spki_der(spki)
        .expect("public key")
        .verify(scheme, &message, &signature)
        .expect("the signature verifies under the original public key");
}

/// Registers the key (given as PKCS#8 or SPKI in `base`) in every format
/// of `formats`, Gets each in every format, and checks every Get equals
/// the one from the key registered in `base`.
async fn round_trips(
    env: &Direct,
    minor: i32,
    private: bool,
    base: (F, &[u8]),
    formats: &[F],
    extra: &[Ttlv],
) -> Vec<String> {
    let original = registered(env, minor, private, base.0, raw(base.1), extra.to_vec()).await;
    let mut reference = Vec::new();
    for f in formats {
        reference.push(material(env, minor, &original, *f).await);
    }
    let mut ids = Vec::new();
    for (from, as_registered) in formats.iter().zip(&reference) {
        let id = registered(
            env,
            minor,
            private,
            *from,
            as_registered.clone(),
            extra.to_vec(),
        )
        .await;
        for (to, want) in formats.iter().zip(&reference) {
            assert!(
                material(env, minor, &id, *to).await == *want,
                "registered as {from:?}, got as {to:?}: not the same key"
            );
        }
        ids.push(id);
    }
    ids
}

#[tokio::test]
async fn rsa_keys_round_trip_in_every_format() {
    let env = Direct::new(Default::default()).await;
    let (pkcs8, spki) = pair(KeySpec::Rsa2048);
    let extra = algorithm_and_length(RSA, 2048);
    let private = [F::PKCS_8, F::PKCS_1, F::TRANSPARENT_RSA_PRIVATE_KEY];
    for id in round_trips(&env, 4, true, (F::PKCS_8, pkcs8.expose()), &private, &extra).await {
        signs_for(&env, &id, &spki, SignatureScheme::RsaPkcs1Sha256).await;
    }
    let public = [F::X_509, F::PKCS_1, F::TRANSPARENT_RSA_PUBLIC_KEY];
    for id in round_trips(&env, 4, false, (F::X_509, &spki), &public, &extra).await {
        let spki_back = material(&env, 4, &id, F::X_509).await;
        assert_eq!(spki_back.as_bytes().unwrap(), spki.as_slice());
    }
    // Transparent RSA keys exist in every version.
    round_trips(&env, 0, true, (F::PKCS_8, pkcs8.expose()), &private, &extra).await;
}

#[tokio::test]
async fn ec_keys_round_trip_in_every_format() {
    let env = Direct::new(Default::default()).await;
    let curves = [
        (KeySpec::EcP256, 256, SignatureScheme::EcdsaSha256),
        (KeySpec::EcP384, 384, SignatureScheme::EcdsaSha384),
        (KeySpec::EcP521, 521, SignatureScheme::EcdsaSha512),
    ];
    for (spec, bits, scheme) in curves {
        let (pkcs8, spki) = pair(spec);
        let extra = algorithm_and_length(ECDSA, bits);
        let private = [
            F::PKCS_8,
            F::EC_PRIVATE_KEY,
            F::TRANSPARENT_EC_PRIVATE_KEY,
            F::TRANSPARENT_ECDSA_PRIVATE_KEY,
            F::TRANSPARENT_ECDH_PRIVATE_KEY,
        ];
        for id in round_trips(&env, 4, true, (F::PKCS_8, pkcs8.expose()), &private, &extra).await {
            signs_for(&env, &id, &spki, scheme).await;
        }
        let public = [
            F::X_509,
            F::TRANSPARENT_EC_PUBLIC_KEY,
            F::TRANSPARENT_ECDSA_PUBLIC_KEY,
            F::TRANSPARENT_ECMQV_PUBLIC_KEY,
        ];
        for id in round_trips(&env, 4, false, (F::X_509, &spki), &public, &extra).await {
            let spki_back = material(&env, 4, &id, F::X_509).await;
            assert_eq!(spki_back.as_bytes().unwrap(), spki.as_slice());
        }
        // KMIP 1.2 has the ECDSA formats and ECPrivateKey, not the EC ones.
        let v12 = [
            F::PKCS_8,
            F::EC_PRIVATE_KEY,
            F::TRANSPARENT_ECDSA_PRIVATE_KEY,
        ];
        round_trips(&env, 2, true, (F::PKCS_8, pkcs8.expose()), &v12, &extra).await;
    }
}

#[tokio::test]
async fn transparent_keys_carry_the_numbers_of_the_key() {
    let env = Direct::new(Default::default()).await;
    let (pkcs8, spki) = pair(KeySpec::EcP256);
    let id = registered(&env, 4, true, F::PKCS_8, raw(pkcs8.expose()), vec![]).await;
    let m = material(&env, 4, &id, F::TRANSPARENT_EC_PRIVATE_KEY).await;
    assert_eq!(
        m.child(Tag::RECOMMENDED_CURVE).unwrap().as_enum().unwrap(),
        7
    );
    let d = m.child(Tag::D).unwrap().as_big_integer().unwrap();
    assert!(d.to_unsigned().unwrap().len() <= 32);
    let public = registered(&env, 4, false, F::X_509, raw(&spki), vec![]).await;
    let m = material(&env, 4, &public, F::TRANSPARENT_EC_PUBLIC_KEY).await;
    // The SPKI of a P-256 key ends with its 65-byte uncompressed point.
    let q = m.child(Tag::Q_STRING).unwrap().as_bytes().unwrap();
    assert_eq!(q.len(), 65);
    assert_eq!(q, &spki[spki.len() - 65..]);
    // Without a Key Block algorithm and length, the key's own are kept.
    let transparent = registered(
        &env,
        4,
        true,
        F::TRANSPARENT_EC_PRIVATE_KEY,
        material(&env, 4, &id, F::TRANSPARENT_EC_PRIVATE_KEY).await,
        vec![],
    )
    .await;
    let attrs = env
        .ok(
            4,
            Op::GET_ATTRIBUTES,
            vec![Ttlv::text(Tag::UNIQUE_IDENTIFIER, &*transparent)],
        )
        .await;
    let named = |name: &str| {
        attrs
            .children(Tag::ATTRIBUTE)
            .find(|a| a.child(Tag::ATTRIBUTE_NAME).unwrap().as_text().unwrap() == name)
            .and_then(|a| a.child(Tag::ATTRIBUTE_VALUE).cloned())
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(named("Cryptographic Algorithm").as_enum().unwrap(), ECDSA);
    assert_eq!(named("Cryptographic Length").as_i32().unwrap(), 256);
}

fn big(tag: Tag, magnitude: &[u8]) -> Ttlv {
    Ttlv::new(tag, Value::BigInteger(BigInteger::from_unsigned(magnitude)))
}

/// `structure` with the field `tag` replaced by `with` (or removed).
fn replace(structure: &Ttlv, tag: Tag, with: Option<Ttlv>) -> Ttlv {
    let mut children: Vec<Ttlv> = structure
        .items()
        .iter()
        .filter(|c| c.tag != tag)
        .cloned()
        .collect();
    children.extend(with);
    Ttlv::structure(structure.tag, children)
}

#[tokio::test]
async fn hostile_rsa_components_are_refused() {
    let env = Direct::new(Default::default()).await;
    let (pkcs8, _) = pair(KeySpec::Rsa2048);
    let id = registered(&env, 4, true, F::PKCS_8, raw(pkcs8.expose()), vec![]).await;
    let good = material(&env, 4, &id, F::TRANSPARENT_RSA_PRIVATE_KEY).await;
    let register = |m: Ttlv| try_register(&env, 4, true, F::TRANSPARENT_RSA_PRIVATE_KEY, m, vec![]);

    // No Modulus: the one field KMIP requires.
    fails_with(
        &register(replace(&good, Tag::MODULUS, None)).await,
        INVALID_FIELD,
    );
    // A subset KMIP allows but this server cannot use.
    let only_d = Ttlv::structure(
        Tag::KEY_MATERIAL,
        vec![
            good.child(Tag::MODULUS).unwrap().clone(),
            good.child(Tag::PRIVATE_EXPONENT).unwrap().clone(),
            good.child(Tag::PUBLIC_EXPONENT).unwrap().clone(),
        ],
    );
    fails_with(&register(only_d).await, FEATURE_NOT_SUPPORTED);
    // Only a Public Exponent besides the Modulus: not a private key.
    let public_only = Ttlv::structure(
        Tag::KEY_MATERIAL,
        vec![
            good.child(Tag::MODULUS).unwrap().clone(),
            good.child(Tag::PUBLIC_EXPONENT).unwrap().clone(),
        ],
    );
    fails_with(&register(public_only).await, INVALID_FIELD);
    // Inconsistent: the CRT coefficient and a prime exponent swapped.
    let dp = good.child(Tag::PRIME_EXPONENT_P).unwrap().clone();
    let dq = good.child(Tag::PRIME_EXPONENT_Q).unwrap().clone();
    let swapped = replace(
        &replace(
            &good,
            Tag::PRIME_EXPONENT_P,
            Some(Ttlv::new(Tag::PRIME_EXPONENT_P, dq.value)),
        ),
        Tag::PRIME_EXPONENT_Q,
        Some(Ttlv::new(Tag::PRIME_EXPONENT_Q, dp.value)),
    );
    fails_with(&register(swapped).await, INVALID_FIELD);
    // A modulus off by one.
    let mut n = good
        .child(Tag::MODULUS)
        .unwrap()
        .as_big_integer()
        .unwrap()
        .to_unsigned()
        .unwrap()
        .to_vec();
    if let Some(last) = n.last_mut() {
        *last ^= 2;
    }
    fails_with(
        &register(replace(&good, Tag::MODULUS, Some(big(Tag::MODULUS, &n)))).await,
        INVALID_FIELD,
    );
    // A negative number.
    let negative = Ttlv::new(
        Tag::P,
        Value::BigInteger(BigInteger::from_twos_complement(&[0xff; 8])),
    );
    fails_with(
        &register(replace(&good, Tag::P, Some(negative))).await,
        INVALID_FIELD,
    );
    // A field that has no place in the structure.
    fails_with(
        &register(replace(&good, Tag::D, Some(big(Tag::D, &[1])))).await,
        INVALID_FIELD,
    );
    // A Key Block whose length is not the key's.
    fails_with(
        &try_register(
            &env,
            4,
            true,
            F::TRANSPARENT_RSA_PRIVATE_KEY,
            good.clone(),
            algorithm_and_length(RSA, 4096),
        )
        .await,
        INVALID_FIELD,
    );
    // ... or whose algorithm is not the key's.
    fails_with(
        &try_register(
            &env,
            4,
            true,
            F::TRANSPARENT_RSA_PRIVATE_KEY,
            good.clone(),
            algorithm_and_length(ECDSA, 2048),
        )
        .await,
        INVALID_FIELD,
    );
    // Public keys with a zero modulus or an absurd exponent.
    for (n, e) in [
        (vec![0u8], vec![1u8, 0, 1]),
        (vec![0xc5; 256], vec![0xff; 9]),
    ] {
        let bad = Ttlv::structure(
            Tag::KEY_MATERIAL,
            vec![big(Tag::MODULUS, &n), big(Tag::PUBLIC_EXPONENT, &e)],
        );
        fails_with(
            &try_register(&env, 4, false, F::TRANSPARENT_RSA_PUBLIC_KEY, bad, vec![]).await,
            INVALID_FIELD,
        );
    }
    // An RSA key asked for in an EC format, and the other way round.
    fails_with(
        &try_get(&env, 4, &id, F::TRANSPARENT_EC_PRIVATE_KEY).await,
        KEY_FORMAT_TYPE_NOT_SUPPORTED,
    );
    fails_with(
        &try_get(&env, 4, &id, F::EC_PRIVATE_KEY).await,
        KEY_FORMAT_TYPE_NOT_SUPPORTED,
    );
    let (ec, _) = pair(KeySpec::EcP256);
    let ec_id = registered(&env, 4, true, F::PKCS_8, raw(ec.expose()), vec![]).await;
    fails_with(
        &try_get(&env, 4, &ec_id, F::TRANSPARENT_RSA_PRIVATE_KEY).await,
        KEY_FORMAT_TYPE_NOT_SUPPORTED,
    );
}

#[tokio::test]
async fn hostile_ec_material_is_refused() {
    let env = Direct::new(Default::default()).await;
    let (p256, spki256) = pair(KeySpec::EcP256);
    let (_, spki384) = pair(KeySpec::EcP384);
    let id = registered(&env, 4, true, F::PKCS_8, raw(p256.expose()), vec![]).await;
    let good = material(&env, 4, &id, F::TRANSPARENT_EC_PRIVATE_KEY).await;
    let private = |m: Ttlv| try_register(&env, 4, true, F::TRANSPARENT_EC_PRIVATE_KEY, m, vec![]);
    let public = |m: Ttlv| try_register(&env, 4, false, F::TRANSPARENT_EC_PUBLIC_KEY, m, vec![]);
    let curve = |value: u32| Ttlv::enumeration(Tag::RECOMMENDED_CURVE, value);

    // D missing, zero, or not below the group order.
    fails_with(&private(replace(&good, Tag::D, None)).await, INVALID_FIELD);
    fails_with(
        &private(replace(&good, Tag::D, Some(big(Tag::D, &[0])))).await,
        INVALID_FIELD,
    );
    fails_with(
        &private(replace(&good, Tag::D, Some(big(Tag::D, &[0xff; 32])))).await,
        INVALID_FIELD,
    );
    // No curve; a curve this server does not use; an unknown value.
    fails_with(
        &private(replace(&good, Tag::RECOMMENDED_CURVE, None)).await,
        INVALID_FIELD,
    );
    fails_with(
        &private(replace(&good, Tag::RECOMMENDED_CURVE, Some(curve(0x19)))).await,
        FEATURE_NOT_SUPPORTED,
    );
    fails_with(
        &private(replace(&good, Tag::RECOMMENDED_CURVE, Some(curve(0xffff)))).await,
        FEATURE_NOT_SUPPORTED,
    );
    // The P-256 scalar declared as P-384 is a valid P-384 key: the curve
    // named is the curve used, so the Key Block's 256 bits disagree.
    fails_with(
        &try_register(
            &env,
            4,
            true,
            F::TRANSPARENT_EC_PRIVATE_KEY,
            replace(&good, Tag::RECOMMENDED_CURVE, Some(curve(0x0A))),
            algorithm_and_length(ECDSA, 256),
        )
        .await,
        INVALID_FIELD,
    );
    // A point not on the curve; a P-384 point said to be P-256.
    let q = |spki: &[u8], n: usize| spki[spki.len() - n..].to_vec();
    let mut off_curve = q(&spki256, 65);
    off_curve[64] ^= 1;
    let point = |c: u32, p: Vec<u8>| {
        Ttlv::structure(
            Tag::KEY_MATERIAL,
            vec![curve(c), Ttlv::bytes(Tag::Q_STRING, p)],
        )
    };
    fails_with(&public(point(7, off_curve)).await, INVALID_FIELD);
    fails_with(&public(point(7, q(&spki384, 97))).await, INVALID_FIELD);
    fails_with(&public(point(7, vec![])).await, INVALID_FIELD);
    success(&public(point(7, q(&spki256, 65))).await);
    // The EC formats are KMIP 1.3's: at 1.2 they are not formats at all.
    fails_with(
        &try_register(
            &env,
            2,
            true,
            F::TRANSPARENT_EC_PRIVATE_KEY,
            good.clone(),
            vec![],
        )
        .await,
        KEY_FORMAT_TYPE_NOT_SUPPORTED,
    );
    fails_with(
        &try_get(&env, 2, &id, F::TRANSPARENT_EC_PRIVATE_KEY).await,
        KEY_FORMAT_TYPE_NOT_SUPPORTED,
    );
    // ECPrivateKey: garbage, a PKCS#8 in its place, an empty string.
    let sec1 = |bytes: &[u8]| try_register(&env, 4, true, F::EC_PRIVATE_KEY, raw(bytes), vec![]);
    fails_with(&sec1(b"\x30\x03\x02\x01\x01").await, INVALID_FIELD);
    fails_with(&sec1(p256.expose()).await, INVALID_FIELD);
    fails_with(&sec1(b"").await, INVALID_FIELD);
    // An ECPrivateKey whose public key is not its scalar's.
    let der = material(&env, 4, &id, F::EC_PRIVATE_KEY).await;
    let mut der = der.as_bytes().unwrap().to_vec();
    let last = der.len() - 1;
    der[last] ^= 1;
    fails_with(&sec1(&der).await, INVALID_FIELD);
    // A public key offered as a private one and the other way round.
    fails_with(
        &try_register(
            &env,
            4,
            true,
            F::TRANSPARENT_EC_PUBLIC_KEY,
            point(7, q(&spki256, 65)),
            vec![],
        )
        .await,
        KEY_FORMAT_TYPE_NOT_SUPPORTED,
    );
    fails_with(
        &try_register(
            &env,
            4,
            false,
            F::TRANSPARENT_EC_PRIVATE_KEY,
            good.clone(),
            vec![],
        )
        .await,
        KEY_FORMAT_TYPE_NOT_SUPPORTED,
    );
}
