//! AES-256-GCM through `Kms::encrypt` with a cached key, against raw
//! aws-lc-rs doing the same work (random nonce, seal, output buffer) in the
//! same run; and the cached-key lookup on a hit against a miss.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kms_core::crypto::keygen::KeySpec;
use kms_core::service::{Actor, Template};

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
    let template = Template {
        activation_date: Some(time_now_minus_minute()),
        ..Template::default()
    };
    let key = rt
        .block_on(kms.create_key(&actor, project, KeySpec::Aes256, template))
        .unwrap();

    let raw_key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    let rng = SystemRandom::new();

    let mut group = c.benchmark_group("aes256gcm_encrypt");
    for size in [64usize, 4096] {
        let plaintext = vec![0x5a; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("raw_aws_lc_rs", size),
            &plaintext,
            |b, pt| b.iter(|| raw_seal(&raw_key, &rng, pt)),
        );
        // The key path of kms-core without the audit record: the cache
        // lookup (project-isolated, TTL-checked) and the seal.
        group.bench_with_input(
            BenchmarkId::new("cache_hit_then_seal", size),
            &plaintext,
            |b, pt| {
                b.to_async(&rt).iter(|| async {
                    let cached = kms.usable_key(project, key).await.unwrap();
                    (cached, raw_seal(&raw_key, &rng, pt))
                })
            },
        );
        // The full audited operation: every use appends a durable,
        // hash-chained audit record, so under sustained load this measures
        // how fast the audit writer persists records.
        group.bench_with_input(
            BenchmarkId::new("kms_core_cached", size),
            &plaintext,
            |b, pt| {
                b.to_async(&rt)
                    .iter(|| kms.encrypt(&actor, project, key, b"aad", pt))
            },
        );
    }
    group.finish();

    let mut group = c.benchmark_group("key_cache");
    group.bench_function("hit", |b| {
        b.to_async(&rt).iter(|| kms.usable_key(project, key))
    });
    group.bench_function("miss_unwrap_from_database", |b| {
        b.to_async(&rt).iter(|| async {
            kms.forget_cached_key(project, key);
            kms.usable_key(project, key).await
        })
    });
    group.finish();
    rt.block_on(kms.close());
}

fn time_now_minus_minute() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() - time::Duration::minutes(1)
}

criterion_group!(benches, bench);
criterion_main!(benches);
