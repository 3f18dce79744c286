//! Load client: durable creates per second from 1 and 16 concurrent writers,
//! on SQLite and (when `STRONGROOM_TEST_POSTGRES_URL` is set) PostgreSQL.
//!
//! `cargo run --release -p benches --bin create_load [COUNT]`

use std::time::Instant;

use kms_core::crypto::keygen::KeySpec;
use kms_core::service::{Actor, Template};

#[tokio::main]
async fn main() {
    let count: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut backends = vec![("sqlite", None)];
    if let Some(url) = benches::fresh_postgres_database("load").await {
        backends.push(("postgres", Some(url)));
    }
    for (backend, url) in backends {
        let dir = tempfile::tempdir().expect("temp dir");
        let (kms, project) = benches::fresh_install(dir.path(), url.as_deref()).await;
        for writers in [1u64, 16] {
            let start = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..writers {
                let kms = kms.clone();
                tasks.push(tokio::spawn(async move {
                    let actor = Actor::new("load", None);
                    for _ in 0..count / writers {
                        kms.create_key(&actor, project, KeySpec::Aes256, Template::default())
                            .await
                            .expect("create");
                    }
                }));
            }
            for t in tasks {
                t.await.expect("writer");
            }
            let secs = start.elapsed().as_secs_f64();
            let done = count / writers * writers;
            println!(
                "{backend:8} {writers:2} writers: {done} creates in {secs:.2} s = {:.0} objects/s",
                done as f64 / secs
            );
        }
        kms.close().await;
    }
}
