//! SQLite migration 0005: a record's previous hash is read from the record
//! before it instead of being stored with it. The chain verifies as before,
//! tampering is still caught, and the view refuses a previous hash it
//! cannot store.

use std::sync::Arc;

use kms_core::audit::{self, AuditChain, AuditError, AuditEvent};
use kms_core::ids::ProjectId;
use kms_core::store::{self, StoreOptions, Transaction};
use sqlx::Connection;

const AUDIT_KEY: &[u8] = b"prev-hash test audit key 32 byte";

#[tokio::test]
async fn the_previous_hash_comes_from_the_previous_record() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("strongroom.db").display());
    let chain = Arc::new(AuditChain::new(AUDIT_KEY));
    let s = store::open(&url, Arc::clone(&chain), StoreOptions::default())
        .await
        .unwrap();
    let project = ProjectId::generate();
    let mut bulk = Transaction::new();
    for i in 0..4 {
        bulk = bulk.audit(
            AuditEvent::now("identity:a", "transit.encrypt")
                .project(project)
                .object(format!("key-{i}")),
        );
    }
    s.commit(bulk).await.unwrap();
    s.commit(Transaction::new().audit(AuditEvent::now("identity:b", "transit.sign")))
        .await
        .unwrap();

    let records = s.audit_records(0, 0).await.unwrap();
    assert_eq!(records[0].prev_hash, audit::GENESIS);
    for pair in records.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    let head = s.audit_head().await.unwrap();
    assert_eq!(
        audit::verify_chain(&chain, &records, head.as_ref()).unwrap(),
        5
    );

    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pragma_table_info('audit_entries') WHERE name = 'prev_hash'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(stored, 0, "the previous hash is not stored");

    // The view refuses a previous hash it would not keep.
    let edit = sqlx::query("UPDATE audit_log SET prev_hash = zeroblob(32) WHERE seq = 3")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(edit.to_string().contains("derived"), "{edit}");
    let r = &records[4];
    let insert = |prev: Vec<u8>| {
        sqlx::query(
            "INSERT INTO audit_log (seq, time_us, actor, action, object, project, result, \
             source, prev_hash, hash) VALUES (6, ?, 'identity:b', 'transit.sign', NULL, NULL, \
             'success', NULL, ?, ?)",
        )
        .bind(r.event.time_us)
        .bind(prev)
        .bind(r.hash.as_slice())
    };
    let unlinked = insert(audit::GENESIS.to_vec())
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(
        unlinked.to_string().contains("previous record"),
        "{unlinked}"
    );
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 5, "nothing was written");
    insert(r.hash.to_vec()).execute(&mut conn).await.unwrap();

    // An edited record, or a deleted one, still breaks the chain where it
    // happened.
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    let records = s.audit_records(0, 0).await.unwrap();
    assert!(matches!(
        audit::verify_chain(&chain, &records, head.as_ref()),
        Err(AuditError::RecordAltered { seq: 2 })
    ));
    sqlx::query("DELETE FROM audit_log WHERE seq IN (1, 2)")
        .execute(&mut conn)
        .await
        .unwrap();
    // The first record left has no row before it, so it shows the genesis
    // hash, and the verifier names it as out of sequence.
    let records = s.audit_records(0, 0).await.unwrap();
    assert_eq!(records[0].prev_hash, audit::GENESIS);
    assert!(matches!(
        audit::verify_chain(&chain, &records, head.as_ref()),
        Err(AuditError::WrongSequence {
            seq: 3,
            expected: 1
        })
    ));
    conn.close().await.unwrap();
    s.close().await;
}
