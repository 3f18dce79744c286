//! Front-end records through the service: revisions, authentication of
//! every row, the audit trail, and the system project.

mod common;

use common::*;
use kms_core::Error;
use kms_core::service::system_project_id;
use kms_core::store::StoreError;

#[tokio::test]
async fn records_round_trip_and_refuse_edited_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let v1 = serde_json::json!({"operations": ["get"]});
    let r1 = kms
        .put_record(&actor(), project, "kmip-client", "alice", &v1, None)
        .await
        .unwrap();
    assert_eq!(r1, 1);
    let got = kms
        .record(project, "kmip-client", "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.revision, &got.value), (1, &v1));

    // Updates name the revision they read.
    let v2 = serde_json::json!({"operations": ["get", "locate"]});
    assert!(matches!(
        kms.put_record(&actor(), project, "kmip-client", "alice", &v2, None)
            .await,
        Err(Error::Store(StoreError::AlreadyExists(_)))
    ));
    assert_eq!(
        kms.put_record(&actor(), project, "kmip-client", "alice", &v2, Some(1))
            .await
            .unwrap(),
        2
    );
    assert!(matches!(
        kms.put_record(&actor(), project, "kmip-client", "alice", &v1, Some(1))
            .await,
        Err(Error::Store(StoreError::RecordConflict(_)))
    ));
    // Another project sees nothing.
    let system = kms.system_project();
    assert!(
        kms.record(system, "kmip-client", "alice")
            .await
            .unwrap()
            .is_none()
    );

    // A row edited in the database fails authentication, in both reads.
    let db = raw_db(dir.path()).await;
    sqlx::query("UPDATE records SET value = CAST(? AS BLOB) WHERE key = 'alice'")
        .bind(r#"{"operations":["get","locate","destroy"]}"#)
        .execute(&db)
        .await
        .unwrap();
    assert!(matches!(
        kms.record(project, "kmip-client", "alice").await,
        Err(Error::Integrity { .. })
    ));
    assert!(matches!(
        kms.records(project, "kmip-client").await,
        Err(Error::Integrity { .. })
    ));
    // So does a row moved under another key.
    sqlx::query("DELETE FROM records")
        .execute(&db)
        .await
        .unwrap();
    kms.put_record(&actor(), project, "kmip-client", "bob", &v1, None)
        .await
        .unwrap();
    sqlx::query("UPDATE records SET key = 'mallory' WHERE key = 'bob'")
        .execute(&db)
        .await
        .unwrap();
    assert!(matches!(
        kms.record(project, "kmip-client", "mallory").await,
        Err(Error::Integrity { .. })
    ));
    sqlx::query("UPDATE records SET key = 'bob' WHERE key = 'mallory'")
        .execute(&db)
        .await
        .unwrap();
    let bob = kms
        .record(project, "kmip-client", "bob")
        .await
        .unwrap()
        .unwrap();
    kms.delete_record(&actor(), project, "kmip-client", "bob", bob.revision)
        .await
        .unwrap();
    assert!(
        kms.records(project, "kmip-client")
            .await
            .unwrap()
            .is_empty()
    );

    // Every write was audited, and the chain holds.
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(actions.iter().filter(|a| *a == "record.put").count(), 3);
    assert_eq!(actions.iter().filter(|a| *a == "record.delete").count(), 1);
    kms.verify_audit().await.unwrap();
    kms.close().await;
}

#[tokio::test]
async fn records_are_listed_whole_across_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    // More than one page (1,000) of records.
    let writes = (0..1203).map(|i| {
        let kms = kms.clone();
        async move {
            kms.put_record(&actor(), project, "cert", &format!("{i:05}"), &i, None)
                .await
                .unwrap()
        }
    });
    futures_join_all(writes).await;
    let all = kms.records(project, "cert").await.unwrap();
    assert_eq!(all.len(), 1203);
    assert!(all.windows(2).all(|w| w[0].key < w[1].key));
    assert_eq!(all[1202].value, 1202);
    kms.close().await;
}

/// Runs the futures concurrently (so the group commit batches them).
async fn futures_join_all<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>)
where
    F::Output: Send,
{
    let mut set = tokio::task::JoinSet::new();
    for f in futures {
        set.spawn(f);
    }
    while set.join_next().await.is_some() {}
}

#[tokio::test]
async fn the_system_project_is_derived_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, _) = install(dir.path()).await;
    let system = kms.system_project();
    assert_eq!(system, system_project_id(kms.install_id()));
    assert_eq!(system.as_uuid().get_version_num(), 8);
    kms.put_record(
        &actor(),
        system,
        "kmip-ca",
        "state",
        &serde_json::json!({"ca": 1}),
        None,
    )
    .await
    .unwrap();
    kms.close().await;

    let kms = reopen(dir.path()).await.unwrap();
    assert_eq!(kms.system_project(), system);
    let state = kms
        .record(system, "kmip-ca", "state")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.value["ca"], 1);
    kms.close().await;
}

#[tokio::test]
async fn open_creates_a_missing_system_project() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, _) = install(dir.path()).await;
    let system = kms.system_project();
    kms.close().await;
    // An install from before system projects: remove it.
    let db = raw_db(dir.path()).await;
    for table in ["project_keys WHERE project", "projects WHERE id"] {
        sqlx::query(&format!("DELETE FROM {table} = ?"))
            .bind(system.as_bytes().as_slice())
            .execute(&db)
            .await
            .unwrap();
    }
    db.close().await;
    let kms = reopen(dir.path()).await.unwrap();
    kms.put_record(&actor(), system, "kmip-ca", "state", &1, None)
        .await
        .unwrap();
    kms.close().await;
}
