//! Durable object creation (acknowledged after the commit is on disk):
//! one writer, and 16 concurrent writers, on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kms_core::crypto::keygen::KeySpec;
use kms_core::ids::ProjectId;
use kms_core::service::{Actor, Kms, Template};

async fn create_n(kms: &Kms, project: ProjectId, writers: usize, n: u64) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(writers);
    for w in 0..writers {
        let kms = kms.clone();
        let per = n / writers as u64 + u64::from((w as u64) < n % writers as u64);
        tasks.push(tokio::spawn(async move {
            let actor = Actor::new("bench", None);
            for _ in 0..per {
                kms.create_key(&actor, project, KeySpec::Aes256, Template::default())
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

fn bench_backend(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    backend: &str,
    url: Option<String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = rt.block_on(benches::fresh_install(dir.path(), url.as_deref()));
    let mut group = c.benchmark_group(format!("create_durable_{backend}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    for writers in [1usize, 16] {
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{writers}_writers"), |b| {
            b.to_async(rt).iter_custom(|iters| {
                let kms = kms.clone();
                async move { create_n(&kms, project, writers, iters).await }
            })
        });
    }
    group.finish();
    rt.block_on(kms.close());
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    bench_backend(c, &rt, "sqlite", None);
    match rt.block_on(benches::fresh_postgres_database("create")) {
        Some(url) => bench_backend(c, &rt, "postgres", Some(url)),
        None => {
            eprintln!("STRONGROOM_TEST_POSTGRES_URL unset: PostgreSQL creation benchmark skipped")
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
