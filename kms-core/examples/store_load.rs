//! A quick load client for the storage layer: times durable creates (one
//! `InsertObject` + one audit event per commit) from one sequential writer
//! and from several concurrent writers, then verifies the audit chain.
//!
//! ```text
//! cargo run --release -p kms-core --example store_load -- URL [N] [WRITERS]
//! ```
//!
//! `URL` is `sqlite:/path/to/file.db` (the directory must exist; the file is
//! created) or a `postgres://` URL (use a scratch database: the example adds
//! rows). `N` creates per phase (default 5,000), `WRITERS` concurrent writers
//! in the second phase (default 16).

use std::sync::Arc;
use std::time::Instant;

use kms_core::audit::{self, AuditChain, AuditEvent};
use kms_core::ids::{ObjectId, OrganizationId, ProjectId};
use kms_core::store::{
    self, ObjectRecord, OrganizationRecord, ProjectRecord, Store, StoreOptions, Transaction, Write,
};

fn create(project: ProjectId, n: i64) -> Transaction {
    let id = ObjectId::generate();
    let record = ObjectRecord {
        id,
        project,
        revision: 1,
        object_type: 2,
        name: Some(format!("load-{n}")),
        algorithm: Some(3),
        state: 1,
        initial_date: 1_700_000_000 + n,
        activation_date: None,
        deactivation_date: None,
        destroy_date: None,
        last_change_date: 1_700_000_000 + n,
        attributes: br#"{"cryptographic_algorithm":"AES","cryptographic_length":256}"#.to_vec(),
        material: Some(vec![0x5A; 60]),
        kek_version: 1,
        mac: vec![0xC3; 32],
    };
    Transaction::new().write(Write::InsertObject(record)).audit(
        AuditEvent::now("load", "object.create")
            .object(id)
            .project(project),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: store_load URL [N] [WRITERS]")?;
    let n: i64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(5_000);
    let writers: i64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(16);

    let chain = Arc::new(AuditChain::new(b"store_load audit key............"));
    let store: Arc<dyn Store> = store::open(&url, chain.clone(), StoreOptions::default()).await?;
    let org = OrganizationRecord {
        id: OrganizationId::generate(),
        name: "load".into(),
        created_at: 0,
    };
    let project = ProjectRecord {
        id: ProjectId::generate(),
        organization: org.id,
        name: "load".into(),
        created_at: 0,
    };
    let pid = project.id;
    store
        .commit(
            Transaction::new()
                .write(Write::InsertOrganization(org))
                .write(Write::InsertProject(project)),
        )
        .await?;

    let start = Instant::now();
    for i in 0..n {
        store.commit(create(pid, i)).await?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}: {n} sequential creates in {secs:.2} s = {:.0}/s",
        store.backend(),
        n as f64 / secs
    );

    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < n {
                store.commit(create(pid, n + i)).await?;
                i += writers;
            }
            Ok::<_, store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}: {n} creates from {writers} concurrent writers in {secs:.2} s = {:.0}/s",
        store.backend(),
        n as f64 / secs
    );

    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let page = store.audit_records(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        records.extend(page);
    }
    let head = store.audit_head().await?;
    let verified = audit::verify_chain(&chain, &records, head.as_ref())?;
    println!("audit chain verified: {verified} records");
    store.close().await;
    Ok(())
}
