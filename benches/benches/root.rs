//! The root of trust, measured:
//!
//! * `root_unseal`: one unseal of a sealed root key, per provider — the
//!   software root with a key file (dev mode), with an Argon2id passphrase
//!   (production cost), and PKCS#11 on SoftHSM2. Cloud providers are
//!   measured by the ignored latency tests in `hsm/tests` (they need
//!   moto_server or the Cloud KMS stand-in).
//! * `aes256gcm_64b_by_root`: cached-key AES-256-GCM through kms-core on a
//!   PKCS#11-rooted install against a software-rooted one, in the same run.
//!   The root is unsealed once at start-up, never per request, so the two
//!   should not differ (target: PKCS#11-rooted ≥ 0.95× software-rooted).
//!
//! `cargo bench -p benches --bench root -- --measurement-time 5`

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hsm::pkcs11::Pkcs11Root;
use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::hierarchy::{RootKey, RootOfTrust, SealContext};
use kms_core::ids::{InstallId, ObjectId, ProjectId};
use kms_core::service::{Actor, Kms, OpenOptions, Template};

fn bench(c: &mut Criterion) {
    let token_dir = tempfile::tempdir().expect("tempdir");
    let pkcs11 = benches::softhsm_token(token_dir.path(), 8);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");

    let mut roots: Vec<(&str, Arc<dyn RootOfTrust>)> = vec![
        (
            "software_key_file",
            Arc::new(SoftwareRoot::create_key_file(&dir.path().join("root.key")).expect("key")),
        ),
        (
            "software_passphrase_argon2id",
            Arc::new(SoftwareRoot::from_passphrase(
                "a bench passphrase".to_string().into(),
            )),
        ),
    ];
    match &pkcs11 {
        Some(config) => {
            let root = rt
                .block_on(Pkcs11Root::create_key(config.clone()))
                .expect("PKCS#11 root key in SoftHSM2");
            roots.push(("pkcs11_softhsm2", Arc::new(root)));
        }
        None => eprintln!("SoftHSM2 is not installed: PKCS#11 cases skipped"),
    }

    let context = SealContext {
        install: InstallId::generate(),
        term: 1,
    };
    let probe = RootKey::generate(1).expect("root key");
    let mut group = c.benchmark_group("root_unseal");
    for (name, root) in &roots {
        let sealed = rt.block_on(root.seal(&probe, &context)).expect("seal");
        if name.contains("argon2id") {
            group.sample_size(10);
        } else {
            group.sample_size(50);
        }
        group.bench_function(*name, |b| {
            b.to_async(&rt)
                .iter(|| async { root.unseal(&sealed, &context).await.expect("unseal") })
        });
    }
    group.finish();

    // Two installs, the same work: only the root of trust differs.
    let mut installs: Vec<(&str, Kms, ProjectId, ObjectId)> = Vec::new();
    let software_dir = tempfile::tempdir().expect("tempdir");
    let pkcs11_dir = tempfile::tempdir().expect("tempdir");
    for (name, root, data) in [
        ("software_rooted", &roots[0].1, software_dir.path()),
        (
            "pkcs11_rooted",
            &roots[roots.len() - 1].1,
            pkcs11_dir.path(),
        ),
    ] {
        if name == "pkcs11_rooted" && pkcs11.is_none() {
            continue;
        }
        let (kms, project) = rt.block_on(benches::install_with(
            &OpenOptions::sqlite_in(data),
            Arc::clone(root),
        ));
        let key = rt
            .block_on(kms.create_key(&actor(), project, KeySpec::Aes256, active()))
            .expect("key");
        installs.push((name, kms, project, key));
    }
    let plaintext = [0x5au8; 64];
    let mut group = c.benchmark_group("aes256gcm_64b_by_root");
    group.throughput(Throughput::Elements(1)).sample_size(50);
    for (name, kms, project, key) in &installs {
        group.bench_function(format!("{name}/cache_hit"), |b| {
            b.to_async(&rt)
                .iter(|| async { kms.usable_key(*project, *key).await.expect("key") })
        });
        group.bench_function(format!("{name}/encrypt"), |b| {
            b.to_async(&rt).iter(|| async {
                kms.encrypt(&actor(), *project, *key, b"aad", &plaintext)
                    .await
                    .expect("encrypt")
            })
        });
    }
    group.finish();
    for (_, kms, _, _) in &installs {
        rt.block_on(kms.close());
    }
}

fn actor() -> Actor {
    Actor::new("bench", None)
}

fn active() -> Template {
    Template {
        activation_date: Some(time::OffsetDateTime::now_utc() - time::Duration::minutes(1)),
        ..Template::default()
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
