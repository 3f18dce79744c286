//! HSM-resident keys against a real SoftHSM2 token, through the service
//! (`Kms`) as every front end uses them: signing keys and AES keys made in
//! the token, used there, verified outside it; their private halves never
//! readable; the lifecycle applied; many signers at once; restarts, and a
//! database copied without the token.

mod common;

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::signature::{self as lc, UnparsedPublicKey, VerificationAlgorithm};
use common::*;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass};
use hsm::pkcs11::Pkcs11ResidentKeys;
use kms_core::Error;
use kms_core::crypto::CryptoError;
use kms_core::crypto::digest::{DigestAlgorithm, digest};
use kms_core::crypto::keygen::KeySpec;
use kms_core::crypto::signature::SignatureScheme;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::ids::{ObjectId, ProjectId};
use kms_core::object::{
    KeyMaterial, ObjectType, RevocationReason, RevocationReasonCode, UsageMask,
};
use kms_core::resident::ResidentError;
use kms_core::service::{Actor, KeyLocation, Kms, OpenOptions, Template};

macro_rules! hsm_or_skip {
    () => {
        match softhsm() {
            Some(hsm) => hsm,
            None => return,
        }
    };
}

fn actor() -> Actor {
    Actor::new("tester", Some("127.0.0.1".into()))
}

/// An HSM-resident key, Active at once.
fn in_hsm() -> Template {
    Template {
        location: KeyLocation::Hsm,
        activation_date: Some(time::OffsetDateTime::now_utc()),
        ..Template::default()
    }
}

fn active() -> Template {
    Template {
        activation_date: Some(time::OffsetDateTime::now_utc()),
        ..Template::default()
    }
}

/// A software-rooted install (the root is not what is tested here) in
/// `dir`, its key file in `keys`, with the token's resident key store.
async fn install(
    dir: &Path,
    keys: &Path,
    store: Option<Arc<Pkcs11ResidentKeys>>,
) -> (Kms, ProjectId) {
    let root = SoftwareRoot::create_key_file(&keys.join("root.key")).unwrap();
    let kms = Kms::init(&OpenOptions::sqlite_in(dir), Arc::new(root))
        .await
        .unwrap();
    if let Some(store) = store {
        kms.set_resident_keys(store).unwrap();
    }
    let org = kms.create_organization(&actor(), "org").await.unwrap();
    let project = kms.create_project(&actor(), org, "p").await.unwrap();
    (kms, project)
}

async fn reopen(dir: &Path, keys: &Path, store: Option<Arc<Pkcs11ResidentKeys>>) -> Kms {
    let root = SoftwareRoot::from_key_file(&keys.join("root.key")).unwrap();
    let kms = Kms::open(&OpenOptions::sqlite_in(dir), Arc::new(root))
        .await
        .unwrap();
    if let Some(store) = store {
        kms.set_resident_keys(store).unwrap();
    }
    kms
}

async fn store(hsm: &SoftHsm, token: &str) -> Arc<Pkcs11ResidentKeys> {
    Arc::new(
        Pkcs11ResidentKeys::open(hsm.config(token, "unused"))
            .await
            .unwrap(),
    )
}

/// The SPKI of a public key object, read through `Kms::get`.
async fn spki_of(kms: &Kms, project: ProjectId, public: ObjectId) -> Vec<u8> {
    match kms.get(&actor(), project, public).await.unwrap().material {
        Some(KeyMaterial::PublicKeySpki(der)) => der,
        other => panic!("expected an SPKI, got {other:?}"),
    }
}

/// The aws-lc-rs verifier for `scheme` on a key of `spec`: an independent
/// check that does not go through Strongroom's own verifier.
fn independent(spec: KeySpec, scheme: SignatureScheme) -> &'static dyn VerificationAlgorithm {
    use SignatureScheme as S;
    match (spec, scheme) {
        (_, S::RsaPkcs1Sha256) => &lc::RSA_PKCS1_2048_8192_SHA256,
        (_, S::RsaPkcs1Sha512) => &lc::RSA_PKCS1_2048_8192_SHA512,
        (_, S::RsaPssSha256) => &lc::RSA_PSS_2048_8192_SHA256,
        (_, S::RsaPssSha384) => &lc::RSA_PSS_2048_8192_SHA384,
        (KeySpec::EcP256, S::EcdsaSha256) => &lc::ECDSA_P256_SHA256_ASN1,
        (KeySpec::EcP256, S::EcdsaSha256Fixed) => &lc::ECDSA_P256_SHA256_FIXED,
        (KeySpec::EcP256, S::EcdsaSha384) => &lc::ECDSA_P256_SHA384_ASN1,
        (KeySpec::EcP384, S::EcdsaSha384) => &lc::ECDSA_P384_SHA384_ASN1,
        (KeySpec::EcP384, S::EcdsaSha384Fixed) => &lc::ECDSA_P384_SHA384_FIXED,
        (KeySpec::EcP384, S::EcdsaSha256) => &lc::ECDSA_P384_SHA256_ASN1,
        other => panic!("no independent verifier for {other:?}"),
    }
}

fn schemes(spec: KeySpec) -> &'static [SignatureScheme] {
    use SignatureScheme as S;
    match spec {
        KeySpec::EcP256 => &[S::EcdsaSha256, S::EcdsaSha256Fixed, S::EcdsaSha384],
        KeySpec::EcP384 => &[S::EcdsaSha384, S::EcdsaSha384Fixed, S::EcdsaSha256],
        _ => &[
            S::RsaPkcs1Sha256,
            S::RsaPkcs1Sha512,
            S::RsaPssSha256,
            S::RsaPssSha384,
        ],
    }
}

/// The token objects whose label names `id` (as `Pkcs11ResidentKeys`
/// labels them), seen from the test's own session.
fn token_objects(
    session: &cryptoki::session::Session,
    project: ProjectId,
    id: ObjectId,
) -> Vec<cryptoki::object::ObjectHandle> {
    let label = format!("strongroom {project} {id}");
    session
        .find_objects(&[Attribute::Label(label.into_bytes())])
        .unwrap()
}

#[tokio::test]
async fn resident_signing_keys_sign_in_the_token_and_verify_anywhere() {
    let hsm = hsm_or_skip!();
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (kms, project) = install(dir.path(), keys.path(), Some(store(hsm, "res-sign").await)).await;
    let message = b"a message signed inside the HSM";
    for spec in [
        KeySpec::EcP256,
        KeySpec::EcP384,
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
    ] {
        let pair = kms
            .create_key_pair(&actor(), project, spec, in_hsm(), active())
            .await
            .unwrap();
        let spki = spki_of(&kms, project, pair.public_key).await;
        let attrs = kms.attributes(project, pair.private_key).await.unwrap();
        assert_eq!(attrs.object_type, ObjectType::PrivateKey);
        assert_eq!(attrs.cryptographic_usage_mask, UsageMask::SIGN);
        assert_eq!(attrs.resident_in.as_deref(), Some("pkcs11"));
        let public = kms.attributes(project, pair.public_key).await.unwrap();
        assert_eq!(
            public.resident_in, None,
            "the public key is an ordinary object"
        );
        assert_eq!(
            attrs.digests[0].digest_value,
            digest(DigestAlgorithm::Sha256, &spki),
            "the private key's digest is its public key's"
        );
        for &scheme in schemes(spec) {
            let sig = kms
                .sign(&actor(), project, pair.private_key, scheme, message, false)
                .await
                .unwrap_or_else(|e| panic!("{spec:?} {scheme:?}: {e}"));
            for id in [pair.private_key, pair.public_key] {
                assert!(
                    kms.verify(&actor(), project, id, scheme, message, false, &sig)
                        .await
                        .unwrap(),
                    "{spec:?} {scheme:?}"
                );
            }
            UnparsedPublicKey::new(independent(spec, scheme), &spki)
                .verify(message, &sig)
                .unwrap_or_else(|_| panic!("aws-lc-rs rejects {spec:?} {scheme:?}"));
            let mut bad = sig.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(
                !kms.verify(
                    &actor(),
                    project,
                    pair.public_key,
                    scheme,
                    message,
                    false,
                    &bad
                )
                .await
                .unwrap()
            );
            // A precomputed digest signs the same message.
            let hash = digest(scheme.digest_algorithm().unwrap(), message);
            let sig = kms
                .sign(&actor(), project, pair.private_key, scheme, &hash, true)
                .await
                .unwrap();
            UnparsedPublicKey::new(independent(spec, scheme), &spki)
                .verify(message, &sig)
                .unwrap_or_else(|_| panic!("digest path: aws-lc-rs rejects {spec:?} {scheme:?}"));
        }
        // The private half is not returned; the public half is.
        let err = kms
            .get(&actor(), project, pair.private_key)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NotExtractable(id) if id == pair.private_key),
            "{err}"
        );
        assert!(err.to_string().contains("HSM-resident"), "{err}");
    }
    // Ed25519 and P-521 cannot be resident; asking says so.
    for spec in [KeySpec::Ed25519, KeySpec::EcP521] {
        let err = kms
            .create_key_pair(&actor(), project, spec, in_hsm(), active())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    }
    assert!(kms.verify_audit().await.unwrap() > 10);
    kms.close().await;
}

#[tokio::test]
async fn resident_aes_keys_encrypt_in_the_token() {
    let hsm = hsm_or_skip!();
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (kms, project) = install(dir.path(), keys.path(), Some(store(hsm, "res-aes").await)).await;
    for spec in [KeySpec::Aes128, KeySpec::Aes256] {
        let key = kms
            .create_key(&actor(), project, spec, in_hsm())
            .await
            .unwrap();
        let sealed = kms
            .encrypt(&actor(), project, key, b"aad", b"plaintext")
            .await
            .unwrap();
        assert_eq!(sealed.len(), 12 + 9 + 16, "nonce ‖ ciphertext ‖ tag");
        let again = kms
            .encrypt(&actor(), project, key, b"aad", b"plaintext")
            .await
            .unwrap();
        assert_ne!(sealed[..12], again[..12], "a fresh nonce every time");
        let opened = kms
            .decrypt(&actor(), project, key, b"aad", &sealed)
            .await
            .unwrap();
        assert!(opened.ct_eq(b"plaintext"));
        for (aad, ct) in [
            (&b"aad"[..], {
                let mut t = sealed.clone();
                t[15] ^= 1;
                t
            }),
            (&b"other aad"[..], sealed.clone()),
            (&b"aad"[..], sealed[..20].to_vec()),
        ] {
            let err = kms
                .decrypt(&actor(), project, key, aad, &ct)
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::Crypto(CryptoError::AuthenticationFailed)),
                "{err}"
            );
        }
        let err = kms.get(&actor(), project, key).await.unwrap_err();
        assert!(matches!(err, Error::NotExtractable(_)), "{err}");
        // A resident AES key does not sign.
        let err = kms
            .sign(
                &actor(),
                project,
                key,
                SignatureScheme::EcdsaSha256,
                b"m",
                false,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UsageNotPermitted(..)), "{err}");
    }
    // Uses the token key does not have are refused up front.
    let err = kms
        .create_key(
            &actor(),
            project,
            KeySpec::Aes256,
            Template {
                usage_mask: Some(UsageMask::WRAP_KEY),
                ..in_hsm()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidAttribute { .. }), "{err}");
    let err = kms
        .create_key(&actor(), project, KeySpec::HmacSha256, in_hsm())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    kms.close().await;

    // Without a resident key store, asking for an HSM key is a clear refusal.
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (kms, project) = install(dir.path(), keys.path(), None).await;
    let err = kms
        .create_key(&actor(), project, KeySpec::Aes256, in_hsm())
        .await
        .unwrap_err();
    match &err {
        Error::InvalidRequest(msg) => assert!(msg.contains("none is configured"), "{msg}"),
        other => panic!("expected InvalidRequest, got {other}"),
    }
    kms.close().await;
}

#[tokio::test]
async fn the_private_half_cannot_be_read_out_of_the_token() {
    let hsm = hsm_or_skip!();
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (kms, project) = install(
        dir.path(),
        keys.path(),
        Some(store(hsm, "res-extract").await),
    )
    .await;
    let ec = kms
        .create_key_pair(&actor(), project, KeySpec::EcP256, in_hsm(), active())
        .await
        .unwrap();
    let rsa = kms
        .create_key_pair(&actor(), project, KeySpec::Rsa2048, in_hsm(), active())
        .await
        .unwrap();
    let aes = kms
        .create_key(&actor(), project, KeySpec::Aes256, in_hsm())
        .await
        .unwrap();
    let session = test_session(hsm, "res-extract");
    // A wrapping key of the test's own, to try to take the keys out.
    let wrapping = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(32u64.into()),
                Attribute::Token(false),
                Attribute::Wrap(true),
                Attribute::Encrypt(true),
            ],
        )
        .unwrap();
    for (id, secret_attrs) in [
        (ec.private_key, vec![AttributeType::Value]),
        (
            rsa.private_key,
            vec![
                AttributeType::PrivateExponent,
                AttributeType::Prime1,
                AttributeType::Prime2,
            ],
        ),
        (aes, vec![AttributeType::Value]),
    ] {
        let objects = token_objects(&session, project, id);
        assert_eq!(
            objects.len(),
            1,
            "one token object per resident key (the public half is not kept)"
        );
        let key = objects[0];
        let info = session.get_attribute_info(key, &secret_attrs).unwrap();
        for (t, i) in secret_attrs.iter().zip(&info) {
            assert!(
                matches!(i, AttributeInfo::Sensitive),
                "{t:?} must be sensitive, got {i:?}"
            );
        }
        assert!(
            session
                .get_attributes(key, &secret_attrs)
                .unwrap()
                .is_empty()
        );
        let flags = session
            .get_attributes(
                key,
                &[
                    AttributeType::Token,
                    AttributeType::Private,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::Modifiable,
                ],
            )
            .unwrap();
        assert_eq!(
            flags,
            vec![
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Modifiable(false),
            ]
        );
        let wrapped = session.wrap_key(&Mechanism::AesKeyWrapPad, wrapping, key);
        assert!(wrapped.is_err(), "the token wrapped a resident key out");
    }
    // pkcs11-tool, which can see the keys, cannot read the AES key out
    // (for private keys it has no export at all and writes nothing; the
    // cryptoki checks above are the proof for them).
    let token = token_label("res-extract");
    let read = |kind: &str, id: ObjectId| {
        hsm.pkcs11_tool(&[
            "--token-label",
            &token,
            "--login",
            "--pin",
            USER_PIN,
            "--read-object",
            "--type",
            kind,
            "--label",
            &format!("strongroom {project} {id}"),
        ])
    };
    let listed = hsm.pkcs11_tool(&[
        "--token-label",
        &token,
        "--login",
        "--pin",
        USER_PIN,
        "--list-objects",
    ]);
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listing.contains(&aes.to_string()), "{listing}");
    assert!(listing.contains(&ec.private_key.to_string()), "{listing}");
    let secret = read("secrkey", aes);
    assert!(
        !secret.status.success() && secret.stdout.is_empty(),
        "pkcs11-tool read the AES key out: {}",
        String::from_utf8_lossy(&secret.stderr)
    );
    let private = read("privkey", ec.private_key);
    assert!(private.stdout.is_empty(), "pkcs11-tool wrote a private key");
    kms.close().await;
}

#[tokio::test]
async fn the_lifecycle_applies_and_destroy_deletes_the_token_key() {
    let hsm = hsm_or_skip!();
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (kms, project) = install(
        dir.path(),
        keys.path(),
        Some(store(hsm, "res-lifecycle").await),
    )
    .await;
    let pre_active = Template {
        location: KeyLocation::Hsm,
        ..Template::default()
    };
    let pair = kms
        .create_key_pair(&actor(), project, KeySpec::EcP256, pre_active, active())
        .await
        .unwrap();
    let who = actor();
    let sign = || {
        kms.sign(
            &who,
            project,
            pair.private_key,
            SignatureScheme::EcdsaSha256,
            b"m",
            false,
        )
    };
    assert!(matches!(
        sign().await.unwrap_err(),
        Error::WrongLifecycleState { .. }
    ));
    kms.activate(&actor(), project, pair.private_key)
        .await
        .unwrap();
    sign().await.unwrap();
    kms.revoke(
        &actor(),
        project,
        pair.private_key,
        RevocationReason {
            code: RevocationReasonCode::CessationOfOperation,
            message: None,
        },
        None,
    )
    .await
    .unwrap();
    assert!(matches!(
        sign().await.unwrap_err(),
        Error::WrongLifecycleState { .. }
    ));
    let session = test_session(hsm, "res-lifecycle");
    assert_eq!(token_objects(&session, project, pair.private_key).len(), 1);
    kms.destroy(&actor(), project, pair.private_key)
        .await
        .unwrap();
    assert!(
        token_objects(&session, project, pair.private_key).is_empty(),
        "Destroy deletes the key from the token"
    );
    assert!(sign().await.is_err());
    // The public key object lives on and still verifies old signatures.
    assert_eq!(
        kms.attributes(project, pair.public_key)
            .await
            .unwrap()
            .state,
        kms_core::lifecycle::State::Active
    );

    // A symmetric key too, destroyed straight from Pre-Active.
    let aes = kms
        .create_key(
            &actor(),
            project,
            KeySpec::Aes256,
            Template {
                location: KeyLocation::Hsm,
                ..Template::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(token_objects(&session, project, aes).len(), 1);
    kms.destroy(&actor(), project, aes).await.unwrap();
    assert!(token_objects(&session, project, aes).is_empty());
    assert!(kms.verify_audit().await.unwrap() > 8);
    kms.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_parallel_signs_through_the_session_pool() {
    let hsm = hsm_or_skip!();
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut config = hsm.config("res-concurrent", "unused");
    config.sessions = 4;
    let store = Arc::new(Pkcs11ResidentKeys::open(config).await.unwrap());
    assert_eq!(store.sessions(), 4);
    let (kms, project) = install(dir.path(), keys.path(), Some(store)).await;
    let ec = kms
        .create_key_pair(&actor(), project, KeySpec::EcP256, in_hsm(), active())
        .await
        .unwrap();
    let rsa = kms
        .create_key_pair(&actor(), project, KeySpec::Rsa2048, in_hsm(), active())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..64u32 {
        let kms = kms.clone();
        tasks.push(tokio::spawn(async move {
            let (pair, scheme) = if i % 8 == 0 {
                (rsa, SignatureScheme::RsaPssSha256)
            } else {
                (ec, SignatureScheme::EcdsaSha256)
            };
            let message = format!("message {i}");
            let sig = kms
                .sign(
                    &actor(),
                    project,
                    pair.private_key,
                    scheme,
                    message.as_bytes(),
                    false,
                )
                .await?;
            let ok = kms
                .verify(
                    &actor(),
                    project,
                    pair.public_key,
                    scheme,
                    message.as_bytes(),
                    false,
                    &sig,
                )
                .await?;
            Ok::<bool, Error>(ok)
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().unwrap());
    }
    kms.close().await;
}

#[tokio::test]
async fn resident_keys_survive_a_restart_and_a_copy_without_the_token_cannot_sign() {
    let hsm = hsm_or_skip!();
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (kms, project) = install(
        dir.path(),
        keys.path(),
        Some(store(hsm, "res-restart").await),
    )
    .await;
    let pair = kms
        .create_key_pair(&actor(), project, KeySpec::EcP384, in_hsm(), active())
        .await
        .unwrap();
    let aes = kms
        .create_key(&actor(), project, KeySpec::Aes256, in_hsm())
        .await
        .unwrap();
    let sealed = kms
        .encrypt(&actor(), project, aes, b"", b"kept across restarts")
        .await
        .unwrap();
    kms.close().await;
    drop(kms);
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
    }

    // A restart: a new store on the same token, a new service.
    let kms = reopen(
        dir.path(),
        keys.path(),
        Some(store(hsm, "res-restart").await),
    )
    .await;
    let sig = kms
        .sign(
            &actor(),
            project,
            pair.private_key,
            SignatureScheme::EcdsaSha384,
            b"m",
            false,
        )
        .await
        .unwrap();
    assert!(
        kms.verify(
            &actor(),
            project,
            pair.public_key,
            SignatureScheme::EcdsaSha384,
            b"m",
            false,
            &sig
        )
        .await
        .unwrap()
    );
    let opened = kms
        .decrypt(&actor(), project, aes, b"", &sealed)
        .await
        .unwrap();
    assert!(opened.ct_eq(b"kept across restarts"));
    kms.close().await;

    // The copied database, without a token: nothing signs or decrypts.
    let kms = reopen(copy.path(), keys.path(), None).await;
    let err = kms
        .sign(
            &actor(),
            project,
            pair.private_key,
            SignatureScheme::EcdsaSha384,
            b"m",
            false,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    assert!(
        kms.decrypt(&actor(), project, aes, b"", &sealed)
            .await
            .is_err()
    );
    kms.close().await;

    // Nor with another token: the key is not there.
    let kms = reopen(
        copy.path(),
        keys.path(),
        Some(store(hsm, "res-other").await),
    )
    .await;
    let err = kms
        .sign(
            &actor(),
            project,
            pair.private_key,
            SignatureScheme::EcdsaSha384,
            b"m",
            false,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Resident(ResidentError::KeyMissing { .. })),
        "{err}"
    );
    kms.close().await;
}

#[tokio::test]
async fn a_lost_session_is_recovered_and_the_key_found_again() {
    let hsm = hsm_or_skip!();
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let resident = store(hsm, "res-recovery").await;
    let (kms, project) = install(dir.path(), keys.path(), Some(Arc::clone(&resident))).await;
    let pair = kms
        .create_key_pair(&actor(), project, KeySpec::Rsa2048, in_hsm(), active())
        .await
        .unwrap();
    let who = actor();
    let sign = || {
        kms.sign(
            &who,
            project,
            pair.private_key,
            SignatureScheme::RsaPkcs1Sha256,
            b"m",
            false,
        )
    };
    let before = sign().await.unwrap();
    resident.simulate_session_loss();
    let after = sign().await.unwrap();
    assert_eq!(
        before, after,
        "PKCS#1 v1.5 is deterministic: the same key signed"
    );
    assert_eq!(resident.recoveries(), 1);
    kms.close().await;
}
