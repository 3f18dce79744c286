//! Signatures per second through `Kms::sign`: ECDSA P-256 and RSA-2048 with
//! HSM-resident keys (SoftHSM2) against software keys, in the same run; and
//! HSM-resident P-256 signing by 1 task against 16 concurrent tasks, which
//! shows whether the session pool lets signers run in parallel.
//!
//! Needs SoftHSM2 (`/usr/lib/softhsm/libsofthsm2.so` and `softhsm2-util`);
//! without it the benchmark says so and measures nothing. The token lives in
//! a temporary directory (`SOFTHSM2_CONF`), made fresh for each run.
//!
//! `cargo bench -p benches --bench hsm_sign -- --measurement-time 5`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hsm::pkcs11::Pkcs11ResidentKeys;
use kms_core::crypto::keygen::KeySpec;
use kms_core::crypto::signature::SignatureScheme;
use kms_core::ids::{ObjectId, ProjectId};
use kms_core::service::{Actor, CreatedPair, KeyLocation, Kms, Template};

/// Sessions in the resident keys' pool: as many as the widest test below.
const SESSIONS: usize = 16;

fn template(location: KeyLocation) -> Template {
    Template {
        location,
        activation_date: Some(time::OffsetDateTime::now_utc() - time::Duration::minutes(1)),
        ..Template::default()
    }
}

async fn pair(kms: &Kms, project: ProjectId, spec: KeySpec, location: KeyLocation) -> CreatedPair {
    kms.create_key_pair(
        &Actor::new("bench", None),
        project,
        spec,
        template(location),
        template(KeyLocation::Software),
    )
    .await
    .expect("create key pair")
}

/// `n` signatures split over `tasks` concurrent tasks.
async fn sign_n(
    kms: &Kms,
    project: ProjectId,
    key: ObjectId,
    scheme: SignatureScheme,
    tasks: usize,
    n: u64,
) -> Duration {
    let start = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let kms = kms.clone();
        let per = n / tasks as u64 + u64::from((t as u64) < n % tasks as u64);
        handles.push(tokio::spawn(async move {
            let actor = Actor::new("bench", None);
            for _ in 0..per {
                kms.sign(&actor, project, key, scheme, b"a message to sign", false)
                    .await
                    .expect("sign");
            }
        }));
    }
    for h in handles {
        h.await.expect("signer task");
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let token_dir = tempfile::tempdir().expect("tempdir");
    let Some(config) = benches::softhsm_token(token_dir.path(), SESSIONS) else {
        eprintln!("SoftHSM2 is not installed: HSM signing benchmark skipped");
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (kms, project) = rt.block_on(benches::fresh_install(dir.path(), None));
    let store = rt
        .block_on(Pkcs11ResidentKeys::open(config))
        .expect("open the SoftHSM2 token");
    kms.set_resident_keys(Arc::new(store))
        .expect("resident key store");

    let cases = [
        ("ecdsa_p256", KeySpec::EcP256, SignatureScheme::EcdsaSha256),
        (
            "rsa_2048",
            KeySpec::Rsa2048,
            SignatureScheme::RsaPkcs1Sha256,
        ),
    ];
    let mut group = c.benchmark_group("sign");
    group.throughput(Throughput::Elements(1)).sample_size(20);
    let mut hsm_p256 = None;
    for (name, spec, scheme) in cases {
        for (location, where_) in [
            (KeyLocation::Software, "software"),
            (KeyLocation::Hsm, "hsm"),
        ] {
            let key = rt.block_on(pair(&kms, project, spec, location)).private_key;
            if location == KeyLocation::Hsm && spec == KeySpec::EcP256 {
                hsm_p256 = Some(key);
            }
            group.bench_function(format!("{name}_{where_}"), |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let kms = kms.clone();
                    async move { sign_n(&kms, project, key, scheme, 1, iters).await }
                })
            });
        }
    }
    group.finish();

    let key = hsm_p256.expect("an HSM P-256 key");
    let mut group = c.benchmark_group("sign_hsm_concurrent_ecdsa_p256");
    group.throughput(Throughput::Elements(1)).sample_size(20);
    for tasks in [1usize, 16] {
        group.bench_function(format!("{tasks}_tasks"), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let kms = kms.clone();
                async move {
                    sign_n(
                        &kms,
                        project,
                        key,
                        SignatureScheme::EcdsaSha256,
                        tasks,
                        iters,
                    )
                    .await
                }
            })
        });
    }
    group.finish();
    rt.block_on(kms.close());
}

criterion_group!(benches, bench);
criterion_main!(benches);
