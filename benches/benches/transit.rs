//! The named-key layer (`Kms::transit`) against raw aws-lc-rs in the same
//! run: AES-256-GCM encryption of 64 bytes, ECDSA P-256 and RSA-2048
//! (PKCS#1 v1.5, SHA-256) signatures. Each transit call is the whole
//! audited operation: metadata cache, prepared-key cache, the primitive,
//! the envelope and one queued audit record.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use criterion::{Criterion, criterion_group, criterion_main};
use kms_core::service::Actor;
use kms_core::service::transit::{KeyAlgorithm, NewKey, SigningAlgorithm};

fn raw_seal(key: &LessSafeKey, rng: &SystemRandom, plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce).unwrap();
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(b"aad"),
            &mut out[NONCE_LEN..],
        )
        .unwrap();
    out.extend_from_slice(tag.as_ref());
    out
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = rt.block_on(benches::fresh_install(dir.path(), None));
    let actor = Actor::new("bench", None);
    let transit = kms.transit();
    let create = |name: &str, algorithm| {
        rt.block_on(transit.create(&actor, project, NewKey::new(name, algorithm)))
            .unwrap()
            .id
    };
    let aes = create("aes", KeyAlgorithm::Aes256Gcm);
    let p256 = create("p256", KeyAlgorithm::EccNistP256);
    let rsa = create("rsa", KeyAlgorithm::Rsa2048);
    let rng = SystemRandom::new();
    let plaintext = [0x5au8; 64];

    let mut group = c.benchmark_group("transit_encrypt_64");
    let raw_key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    group.bench_function("raw_aws_lc_rs", |b| {
        b.iter(|| raw_seal(&raw_key, &rng, &plaintext))
    });
    group.bench_function("transit", |b| {
        b.to_async(&rt)
            .iter(|| transit.encrypt(&actor, project, aes, &plaintext, b""))
    });
    group.finish();

    let message = [0x42u8; 64];
    let mut group = c.benchmark_group("transit_sign_p256");
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let raw_ec = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
    group.bench_function("raw_aws_lc_rs", |b| {
        b.iter(|| raw_ec.sign(&rng, &message).unwrap())
    });
    group.bench_function("transit", |b| {
        b.to_async(&rt).iter(|| {
            transit.sign(
                &actor,
                project,
                p256,
                SigningAlgorithm::EcdsaSha256,
                &message,
                false,
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group("transit_sign_rsa2048");
    let raw_rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let mut signature = vec![0u8; raw_rsa.public_modulus_len()];
    group.bench_function("raw_aws_lc_rs", |b| {
        b.iter(|| {
            raw_rsa
                .sign(&RSA_PKCS1_SHA256, &rng, &message, &mut signature)
                .unwrap()
        })
    });
    group.bench_function("transit", |b| {
        b.to_async(&rt).iter(|| {
            transit.sign(
                &actor,
                project,
                rsa,
                SigningAlgorithm::RsassaPkcs1V15Sha256,
                &message,
                false,
            )
        })
    });
    group.finish();
    rt.block_on(kms.close());
}

criterion_group!(benches, bench);
criterion_main!(benches);
