//! SQLite migration 0004: audit records written as text rows by an earlier
//! version move into `audit_names` + `audit_entries` unchanged — the chain
//! still verifies against its authenticated head, project queries still
//! find them — and records written afterwards through the bulk path (ids
//! bound directly) and the single-record path (the view's trigger) extend
//! the same chain.

use std::sync::Arc;

use kms_core::audit::{self, AuditChain, AuditEvent};
use kms_core::ids::ProjectId;
use kms_core::store::{self, AuditQuery, StoreOptions, Transaction};
use sqlx::Connection;

const AUDIT_KEY: &[u8] = b"migration test audit key 32 byte";

/// Applies only migrations 0001–0003 (copied to a directory of their own),
/// as a database created by the previous version has them.
async fn previous_version(url: &str, dir: &std::path::Path) {
    let old = dir.join("migrations");
    std::fs::create_dir_all(&old).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0004" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let options = url
        .parse::<sqlx::sqlite::SqliteConnectOptions>()
        .unwrap()
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn text_records_migrate_and_the_chain_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("strongroom.db").display());
    previous_version(&url, dir.path()).await;

    // Three records and their head, written as the previous version did.
    let chain = AuditChain::new(AUDIT_KEY);
    let project = ProjectId::generate();
    let events = [
        AuditEvent::now("system", "project.create").project(project),
        AuditEvent::now("identity:a", "transit.encrypt")
            .project(project)
            .object("key-1")
            .source(Some("10.0.0.1".into())),
        AuditEvent::now("identity:a", "transit.decrypt")
            .project(project)
            .object("key-1")
            .result("invalid_ciphertext"),
    ];
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (mut seq, mut hash) = (0, audit::GENESIS);
    for e in events {
        let r = chain.link(seq, hash, e);
        sqlx::query(
            "INSERT INTO audit_log (seq, time_us, actor, action, object, project, result, \
             source, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.seq)
        .bind(r.event.time_us)
        .bind(&r.event.actor)
        .bind(&r.event.action)
        .bind(&r.event.object)
        .bind(&r.event.project)
        .bind(&r.event.result)
        .bind(&r.event.source)
        .bind(r.prev_hash.as_slice())
        .bind(r.hash.as_slice())
        .execute(&mut conn)
        .await
        .unwrap();
        (seq, hash) = (r.seq, r.hash);
    }
    let head = chain.seal_head(seq, &hash);
    sqlx::query("UPDATE audit_head SET seq = ?, hash = ?, mac = ? WHERE id = 1")
        .bind(head.seq)
        .bind(head.hash.as_slice())
        .bind(head.mac.as_slice())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    // Opening with this version runs migration 0004.
    let chain = Arc::new(AuditChain::new(AUDIT_KEY));
    let s = store::open(&url, Arc::clone(&chain), StoreOptions::default())
        .await
        .unwrap();
    let migrated = s.audit_records(0, 0).await.unwrap();
    assert_eq!(migrated.len(), 3);
    assert_eq!(migrated[1].event.source.as_deref(), Some("10.0.0.1"));
    assert_eq!(migrated[2].event.result, "invalid_ciphertext");
    assert_eq!(migrated[0].event.object, None);
    let head = s.audit_head().await.unwrap();
    assert_eq!(
        audit::verify_chain(&chain, &migrated, head.as_ref()).unwrap(),
        3
    );

    // The bulk path (several records in one transaction) and the
    // single-record path, with names old and new.
    let mut bulk = Transaction::new();
    for i in 0..5 {
        bulk = bulk.audit(
            AuditEvent::now("identity:a", "transit.encrypt")
                .project(project)
                .object("key-1")
                .source(Some(format!("10.0.0.{i}"))),
        );
    }
    s.commit(bulk).await.unwrap();
    s.commit(
        Transaction::new().audit(AuditEvent::now("identity:b", "transit.sign").project(project)),
    )
    .await
    .unwrap();

    let all = s.audit_records(0, 0).await.unwrap();
    let head = s.audit_head().await.unwrap();
    assert_eq!(audit::verify_chain(&chain, &all, head.as_ref()).unwrap(), 9);
    assert_eq!(all[7].event.source.as_deref(), Some("10.0.0.4"));
    assert_eq!(all[8].event.actor, "identity:b");
    assert_eq!(all[8].event.object, None);

    // Project queries through the view find old and new records.
    let mut by_key = AuditQuery::project(project);
    by_key.object = Some("key-1".into());
    assert_eq!(s.count_audit(&by_key).await.unwrap(), 7);
    assert_eq!(
        s.count_audit(&AuditQuery::project(project)).await.unwrap(),
        9
    );
    s.close().await;

    // Each distinct string is stored once.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let duplicates: i64 =
        sqlx::query_scalar("SELECT COUNT(*) - COUNT(DISTINCT name) FROM audit_names")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(duplicates, 0);
    let sources: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_names WHERE name LIKE '10.0.0.%'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(sources, 5);
    conn.close().await.unwrap();
}
