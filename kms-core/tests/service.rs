//! The service end to end on SQLite: hierarchy, lifecycle, isolation, cache
//! invalidation, integrity of rows and of the audit chain.

mod common;

use std::sync::Arc;

use common::*;
use kms_core::Error;
use kms_core::audit::AuditError;
use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::RootError;
use kms_core::hierarchy::software::{Argon2Params, SoftwareRoot};
use kms_core::lifecycle::State;
use kms_core::object::{Name, RevocationReason, RevocationReasonCode, UsageMask};
use kms_core::service::{Kms, OpenOptions, Template};
use time::{Duration, OffsetDateTime};

fn active() -> Template {
    Template {
        activation_date: Some(OffsetDateTime::now_utc() - Duration::seconds(60)),
        ..Template::default()
    }
}

fn reason(code: RevocationReasonCode) -> RevocationReason {
    RevocationReason {
        code,
        message: None,
    }
}

#[tokio::test]
async fn keys_survive_restart_and_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, active())
        .await
        .unwrap();
    let ct = kms
        .encrypt(&actor(), project, key, b"context", b"hello")
        .await
        .unwrap();
    kms.close().await;

    let kms = reopen(dir.path()).await.unwrap();
    let pt = kms
        .decrypt(&actor(), project, key, b"context", &ct)
        .await
        .unwrap();
    assert!(pt.ct_eq(b"hello"));
    assert!(matches!(
        kms.decrypt(&actor(), project, key, b"other", &ct).await,
        Err(Error::Crypto(_))
    ));
    assert!(kms.verify_audit().await.unwrap() >= 5);
}

#[tokio::test]
async fn init_never_overwrites_an_install() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, _) = install(dir.path()).await;
    kms.close().await;
    let again = Kms::init(
        &OpenOptions::sqlite_in(dir.path()),
        key_file_root(dir.path()),
    )
    .await;
    assert!(matches!(
        again,
        Err(Error::Root(RootError::AlreadyInitialised(_)))
    ));
    reopen(dir.path()).await.expect("the install still opens");
}

#[tokio::test]
async fn wrong_passphrase_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let small = Argon2Params {
        m_cost: 256,
        t_cost: 1,
        p_cost: 1,
    };
    let root = SoftwareRoot::from_passphrase("right".to_string().into()).with_argon2_params(small);
    let kms = Kms::init(&OpenOptions::sqlite_in(dir.path()), Arc::new(root))
        .await
        .unwrap();
    kms.close().await;
    let wrong = SoftwareRoot::from_passphrase("wrong".to_string().into());
    let opened = Kms::open(&OpenOptions::sqlite_in(dir.path()), Arc::new(wrong)).await;
    assert!(
        matches!(opened, Err(Error::Root(RootError::WrongPassphrase))),
        "{:?}",
        opened.err()
    );
    let right = SoftwareRoot::from_passphrase("right".to_string().into());
    Kms::open(&OpenOptions::sqlite_in(dir.path()), Arc::new(right))
        .await
        .expect("right passphrase opens");
}

#[tokio::test]
async fn missing_or_uninitialised_data_dir_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = Kms::init(&OpenOptions::sqlite_in(&missing), key_file_root(dir.path()))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("nope"), "{err}");
    let err = reopen(dir.path()).await.err().unwrap();
    assert!(
        matches!(err, Error::Root(RootError::NotInitialised(_))),
        "{err}"
    );
}

#[tokio::test]
async fn seal_file_and_database_of_different_installs_refuse_to_start() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (kms_a, _) = install(a.path()).await;
    kms_a.close().await;
    let (kms_b, _) = install(b.path()).await;
    kms_b.close().await;
    // B's seal file and key with A's database.
    let opts = OpenOptions::new(
        b.path(),
        format!("sqlite://{}", a.path().join("strongroom.db").display()),
    );
    let err = Kms::open(&opts, key_file_root(b.path()))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::Integrity { .. }), "{err}");
    // A fresh init must not take over a database that has data.
    let c = tempfile::tempdir().unwrap();
    let opts = OpenOptions::new(
        c.path(),
        format!("sqlite://{}", a.path().join("strongroom.db").display()),
    );
    assert!(Kms::init(&opts, key_file_root(c.path())).await.is_err());
}

#[tokio::test]
async fn lifecycle_through_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let a = actor();
    let key = kms
        .create_key(&a, project, KeySpec::Aes128, Template::default())
        .await
        .unwrap();
    assert_eq!(
        kms.attributes(project, key).await.unwrap().state,
        State::PreActive
    );
    let denied = kms.encrypt(&a, project, key, b"", b"x").await;
    assert!(matches!(
        denied,
        Err(Error::WrongLifecycleState {
            state: State::PreActive,
            ..
        })
    ));

    let attrs = kms.activate(&a, project, key).await.unwrap();
    assert_eq!(attrs.state, State::Active);
    assert!(attrs.activation_date.is_some());
    let ct = kms.encrypt(&a, project, key, b"", b"x").await.unwrap();
    // Active keys cannot be destroyed before they are revoked (KMIP 3.22).
    assert!(matches!(
        kms.destroy(&a, project, key).await,
        Err(Error::WrongLifecycleState { .. })
    ));

    let attrs = kms
        .revoke(
            &a,
            project,
            key,
            reason(RevocationReasonCode::CessationOfOperation),
            None,
        )
        .await
        .unwrap();
    assert_eq!(attrs.state, State::Deactivated);
    // The cached key was invalidated: no new protection, old data still opens.
    assert!(matches!(
        kms.encrypt(&a, project, key, b"", b"x").await,
        Err(Error::WrongLifecycleState { .. })
    ));
    assert!(kms.decrypt(&a, project, key, b"", &ct).await.is_ok());

    let attrs = kms.destroy(&a, project, key).await.unwrap();
    assert_eq!(attrs.state, State::Destroyed);
    assert!(attrs.destroy_date.is_some());
    assert!(kms.decrypt(&a, project, key, b"", &ct).await.is_err());
    assert!(matches!(
        kms.get(&a, project, key).await,
        Err(Error::WrongLifecycleState { .. })
    ));
    let material: Option<Vec<u8>> = sqlx::query_scalar("SELECT material FROM objects WHERE id = ?")
        .bind(key.as_bytes().to_vec())
        .fetch_one(&raw_db(dir.path()).await)
        .await
        .unwrap();
    assert!(
        material.is_none(),
        "destroy erases the wrapped material from the row"
    );

    let attrs = kms
        .revoke(
            &a,
            project,
            key,
            reason(RevocationReasonCode::KeyCompromise),
            None,
        )
        .await
        .unwrap();
    assert_eq!(attrs.state, State::DestroyedCompromised);
    assert!(attrs.compromise_date.is_some());
}

#[tokio::test]
async fn compromise_blocks_protection_immediately() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let key = kms
        .create_key(&actor(), project, KeySpec::HmacSha256, active())
        .await
        .unwrap();
    let tag = kms.mac(&actor(), project, key, b"data").await.unwrap();
    assert!(
        kms.mac_verify(&actor(), project, key, b"data", &tag)
            .await
            .unwrap()
    );
    kms.revoke(
        &actor(),
        project,
        key,
        reason(RevocationReasonCode::KeyCompromise),
        None,
    )
    .await
    .unwrap();
    assert!(matches!(
        kms.mac(&actor(), project, key, b"data").await,
        Err(Error::WrongLifecycleState { .. })
    ));
    assert!(
        kms.mac_verify(&actor(), project, key, b"data", &tag)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn usage_mask_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let encrypt_only = Template {
        usage_mask: Some(UsageMask::ENCRYPT),
        ..active()
    };
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, encrypt_only)
        .await
        .unwrap();
    let ct = kms
        .encrypt(&actor(), project, key, b"", b"x")
        .await
        .unwrap();
    assert!(matches!(
        kms.decrypt(&actor(), project, key, b"", &ct).await,
        Err(Error::UsageNotPermitted(..))
    ));
    let hmac = kms
        .create_key(&actor(), project, KeySpec::HmacSha512, active())
        .await
        .unwrap();
    assert!(
        kms.encrypt(&actor(), project, hmac, b"", b"x")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn projects_cannot_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, a) = install(dir.path()).await;
    let org = kms
        .create_organization(&actor(), "other org")
        .await
        .unwrap();
    let b = kms.create_project(&actor(), org, "other").await.unwrap();
    let key = kms
        .create_key(&actor(), a, KeySpec::Aes256, active())
        .await
        .unwrap();
    let ct = kms.encrypt(&actor(), a, key, b"", b"x").await.unwrap();
    // Cached under project a; project b gets exactly "not found".
    for result in [
        kms.encrypt(&actor(), b, key, b"", b"x").await.map(|_| ()),
        kms.decrypt(&actor(), b, key, b"", &ct).await.map(|_| ()),
        kms.attributes(b, key).await.map(|_| ()),
        kms.get(&actor(), b, key).await.map(|_| ()),
    ] {
        assert!(matches!(result, Err(Error::ObjectNotFound(id)) if id == key));
    }
    assert!(kms.locate(b, Default::default()).await.unwrap().is_empty());
    assert_eq!(kms.locate(a, Default::default()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn key_pairs_are_linked_and_typed() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let pair = kms
        .create_key_pair(&actor(), project, KeySpec::EcP256, active(), active())
        .await
        .unwrap();
    let private = kms.get(&actor(), project, pair.private_key).await.unwrap();
    let public = kms.get(&actor(), project, pair.public_key).await.unwrap();
    assert_eq!(
        private.attributes.object_type,
        kms_core::object::ObjectType::PrivateKey
    );
    assert_eq!(
        public.attributes.object_type,
        kms_core::object::ObjectType::PublicKey
    );
    assert_eq!(
        private.attributes.links[0].linked_object_id,
        pair.public_key.to_string()
    );
    assert_eq!(
        public.attributes.links[0].linked_object_id,
        pair.private_key.to_string()
    );
    assert!(
        format!("{:?}", private.material).contains(".."),
        "Debug never shows key bytes"
    );
}

#[tokio::test]
async fn dates_drive_transitions() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    // Activation Date already passed at creation: created Active.
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, active())
        .await
        .unwrap();
    assert_eq!(
        kms.attributes(project, key).await.unwrap().state,
        State::Active
    );
    // Deactivation Date moved into the past: Deactivated at once.
    let attrs = kms
        .modify_attributes(&actor(), project, key, |a| {
            a.deactivation_date = Some(now - Duration::seconds(1));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(attrs.state, State::Deactivated);
    // Activation Date in the near future: Pre-Active, then Active once it passes.
    let soon = Template {
        activation_date: Some(now + Duration::seconds(2)),
        ..Template::default()
    };
    let later = kms
        .create_key(&actor(), project, KeySpec::Aes256, soon)
        .await
        .unwrap();
    assert_eq!(
        kms.attributes(project, later).await.unwrap().state,
        State::PreActive
    );
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_eq!(
        kms.attributes(project, later).await.unwrap().state,
        State::Active
    );
    assert!(
        kms.encrypt(&actor(), project, later, b"", b"x")
            .await
            .is_ok()
    );
    // The sweep makes it durable and audited.
    assert_eq!(kms.sweep_lifecycle().await.unwrap(), 1);
    assert_eq!(kms.sweep_lifecycle().await.unwrap(), 0);
    assert!(kms.verify_audit().await.is_ok());
}

#[tokio::test]
async fn server_owned_attributes_cannot_be_modified() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, Template::default())
        .await
        .unwrap();
    let tester = actor();
    let r = kms.modify_attributes(&tester, project, key, |a| {
        a.state = State::Active;
        Ok(())
    });
    assert!(r.await.is_err());
    let renamed = kms
        .modify_attributes(&actor(), project, key, |a| {
            a.names.push(Name::text("payments"));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(renamed.primary_name(), Some("payments"));
    let bad = kms.modify_attributes(&tester, project, key, |a| {
        a.custom
            .insert("not-x".into(), kms_core::object::CustomValue::Boolean(true));
        Ok(())
    });
    assert!(matches!(bad.await, Err(Error::InvalidAttribute { .. })));
}

/// Get is served from the object cache; every change must show through it.
#[tokio::test]
async fn get_sees_every_change_through_the_object_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let a = actor();
    let key = kms
        .create_key(&a, project, KeySpec::Aes256, Template::default())
        .await
        .unwrap();
    let first = kms.get(&a, project, key).await.unwrap();
    assert_eq!(first.attributes.state, State::PreActive);
    kms.modify_attributes(&a, project, key, |x| {
        x.names.push(Name::text("ledger"));
        Ok(())
    })
    .await
    .unwrap();
    let renamed = kms.get(&a, project, key).await.unwrap();
    assert_eq!(renamed.attributes.primary_name(), Some("ledger"));
    assert!(renamed.revision > first.revision);
    kms.activate(&a, project, key).await.unwrap();
    assert_eq!(
        kms.get(&a, project, key).await.unwrap().attributes.state,
        State::Active
    );
    kms.revoke(
        &a,
        project,
        key,
        reason(RevocationReasonCode::CessationOfOperation),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        kms.get(&a, project, key).await.unwrap().attributes.state,
        State::Deactivated
    );
    kms.destroy(&a, project, key).await.unwrap();
    assert!(matches!(
        kms.get(&a, project, key).await,
        Err(Error::WrongLifecycleState { .. })
    ));
}

// ---- integrity: rows and blobs edited outside Strongroom ----

async fn two_keys(
    dir: &std::path::Path,
) -> (
    Kms,
    kms_core::ids::ProjectId,
    kms_core::ids::ObjectId,
    kms_core::ids::ObjectId,
) {
    let (kms, project) = install(dir).await;
    let k1 = kms
        .create_key(&actor(), project, KeySpec::Aes256, active())
        .await
        .unwrap();
    let k2 = kms
        .create_key(&actor(), project, KeySpec::Aes256, active())
        .await
        .unwrap();
    (kms, project, k1, k2)
}

#[tokio::test]
async fn a_blob_moved_to_another_row_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project, k1, k2) = two_keys(dir.path()).await;
    let db = raw_db(dir.path()).await;
    sqlx::query(
        "UPDATE objects SET material = (SELECT material FROM objects WHERE id = ?) WHERE id = ?",
    )
    .bind(k2.as_bytes().to_vec())
    .bind(k1.as_bytes().to_vec())
    .execute(&db)
    .await
    .unwrap();
    let err = kms
        .encrypt(&actor(), project, k1, b"", b"x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "{err}");
    assert!(
        err.to_string().contains(&k1.to_string()),
        "the error names the object: {err}"
    );
    // k2 is untouched.
    assert!(kms.encrypt(&actor(), project, k2, b"", b"x").await.is_ok());
}

#[tokio::test]
async fn a_project_key_moved_to_another_project_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, a) = install(dir.path()).await;
    let org = kms.create_organization(&actor(), "o").await.unwrap();
    let b = kms.create_project(&actor(), org, "b").await.unwrap();
    let key_in_b = kms
        .create_key(&actor(), b, KeySpec::Aes256, active())
        .await
        .unwrap();
    kms.close().await;
    let db = raw_db(dir.path()).await;
    sqlx::query("UPDATE project_keys SET wrapped = (SELECT wrapped FROM project_keys WHERE project = ?) WHERE project = ?")
        .bind(a.as_bytes().to_vec())
        .bind(b.as_bytes().to_vec())
        .execute(&db)
        .await
        .unwrap();
    // A fresh process has no unwrapped project keys in memory.
    let kms = reopen(dir.path()).await.unwrap();
    let err = kms
        .encrypt(&actor(), b, key_in_b, b"", b"x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "{err}");
}

#[tokio::test]
async fn corrupted_and_edited_rows_fail_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project, k1, k2) = two_keys(dir.path()).await;
    let db = raw_db(dir.path()).await;
    // Truncated attributes.
    sqlx::query("UPDATE objects SET attributes = substr(attributes, 1, 20) WHERE id = ?")
        .bind(k1.as_bytes().to_vec())
        .execute(&db)
        .await
        .unwrap();
    assert!(matches!(
        kms.attributes(project, k1).await,
        Err(Error::Integrity { .. })
    ));
    // An edited state column (a destroyed key made to look active, say).
    sqlx::query("UPDATE objects SET state = 1 WHERE id = ?")
        .bind(k2.as_bytes().to_vec())
        .execute(&db)
        .await
        .unwrap();
    assert!(matches!(
        kms.attributes(project, k2).await,
        Err(Error::Integrity { .. })
    ));
    // Locate reports the bad rows rather than skipping them.
    assert!(matches!(
        kms.locate(project, Default::default()).await,
        Err(Error::Integrity { .. })
    ));
}

async fn audited_install(dir: &std::path::Path) -> Kms {
    let (kms, project) = install(dir).await;
    for _ in 0..5 {
        let key = kms
            .create_key(&actor(), project, KeySpec::Aes256, active())
            .await
            .unwrap();
        kms.encrypt(&actor(), project, key, b"", b"x")
            .await
            .unwrap();
    }
    kms.flush_audit().await.unwrap();
    assert!(kms.verify_audit().await.unwrap() >= 13);
    kms
}

#[tokio::test]
async fn audit_edit_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let kms = audited_install(dir.path()).await;
    let db = raw_db(dir.path()).await;
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 7")
        .execute(&db)
        .await
        .unwrap();
    assert!(matches!(
        kms.verify_audit().await,
        Err(Error::Audit(AuditError::RecordAltered { seq: 7 }))
    ));
}

#[tokio::test]
async fn audit_delete_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let kms = audited_install(dir.path()).await;
    let db = raw_db(dir.path()).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 5")
        .execute(&db)
        .await
        .unwrap();
    let err = kms.verify_audit().await.unwrap_err();
    assert!(
        matches!(err, Error::Audit(AuditError::BrokenLink { seq: 6, .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains("record 6"),
        "names the first bad record: {err}"
    );
}

#[tokio::test]
async fn audit_reorder_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let kms = audited_install(dir.path()).await;
    let db = raw_db(dir.path()).await;
    // Swap the contents of records 3 and 4, keeping their sequence numbers.
    let mut tx = db.begin().await.unwrap();
    sqlx::query("UPDATE audit_log SET seq = -1 WHERE seq = 3")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET seq = 3 WHERE seq = 4")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET seq = 4 WHERE seq = -1")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(kms.verify_audit().await, Err(Error::Audit(_))));
}

#[tokio::test]
async fn audit_truncated_tail_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let kms = audited_install(dir.path()).await;
    let db = raw_db(dir.path()).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .execute(&db)
        .await
        .unwrap();
    assert!(matches!(
        kms.verify_audit().await,
        Err(Error::Audit(AuditError::HeadMismatch { .. }))
    ));
}

#[tokio::test]
async fn every_use_and_change_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, Template::default())
        .await
        .unwrap();
    let _ = kms
        .encrypt(&actor(), project, key, b"", b"denied while pre-active")
        .await;
    // Uses are audited through the queue and state changes in their own
    // transaction; nothing orders the two paths against each other, so the
    // queue is flushed to fix the order this test reads back.
    kms.flush_audit().await.unwrap();
    kms.activate(&actor(), project, key).await.unwrap();
    kms.encrypt(&actor(), project, key, b"", b"x")
        .await
        .unwrap();
    kms.flush_audit().await.unwrap();
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT actor, action, result, source FROM audit_log WHERE object = ? ORDER BY seq",
    )
    .bind(key.to_string())
    .fetch_all(&raw_db(dir.path()).await)
    .await
    .unwrap();
    let actions: Vec<(&str, &str)> = rows
        .iter()
        .map(|(_, a, r, _)| (a.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("object.create", "success"),
            ("key.encrypt", "wrong_lifecycle_state"),
            ("object.activate", "success"),
            ("key.encrypt", "success")
        ]
    );
    assert!(
        rows.iter().all(
            |(actor, _, _, source)| actor == "tester" && source.as_deref() == Some("127.0.0.1")
        )
    );
}

#[tokio::test]
async fn sign_and_verify_with_every_asymmetric_spec() {
    use kms_core::crypto::signature::SignatureScheme as S;
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    for (spec, scheme) in [
        (KeySpec::EcP256, S::EcdsaSha256),
        (KeySpec::EcP384, S::EcdsaSha384),
        (KeySpec::EcP521, S::EcdsaSha512),
        (KeySpec::Ed25519, S::Ed25519),
        (KeySpec::Rsa2048, S::RsaPssSha256),
        (KeySpec::Rsa2048, S::RsaPkcs1Sha512),
    ] {
        let pair = kms
            .create_key_pair(&actor(), project, spec, active(), active())
            .await
            .unwrap();
        let sig = kms
            .sign(
                &actor(),
                project,
                pair.private_key,
                scheme,
                b"message",
                false,
            )
            .await
            .unwrap();
        assert!(
            kms.verify(
                &actor(),
                project,
                pair.public_key,
                scheme,
                b"message",
                false,
                &sig
            )
            .await
            .unwrap()
        );
        assert!(
            kms.verify(
                &actor(),
                project,
                pair.private_key,
                scheme,
                b"message",
                false,
                &sig
            )
            .await
            .unwrap()
        );
        assert!(
            !kms.verify(
                &actor(),
                project,
                pair.public_key,
                scheme,
                b"messagE",
                false,
                &sig
            )
            .await
            .unwrap()
        );
        // A public key never signs.
        assert!(
            kms.sign(
                &actor(),
                project,
                pair.public_key,
                scheme,
                b"message",
                false
            )
            .await
            .is_err()
        );
    }
}
