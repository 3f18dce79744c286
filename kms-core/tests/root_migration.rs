//! `Kms::migrate_root`: re-sealing the root under another root of trust is
//! atomic, audited, and leaves every key readable.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use kms_core::Error;
use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::software::{Argon2Params, SoftwareRoot};
use kms_core::hierarchy::{RootError, RootKey, RootKind, RootOfTrust, SealContext, SealedRoot};
use kms_core::service::{Kms, OpenOptions, Template};
use time::{Duration, OffsetDateTime};

fn passphrase_root(p: &str) -> Arc<dyn RootOfTrust> {
    let small = Argon2Params {
        m_cost: 256,
        t_cost: 1,
        p_cost: 1,
    };
    Arc::new(SoftwareRoot::from_passphrase(p.to_string().into()).with_argon2_params(small))
}

/// A root of trust whose device fails after seal: the migration must not
/// touch `root.seal`.
struct Broken;

#[async_trait]
impl RootOfTrust for Broken {
    fn kind(&self) -> RootKind {
        RootKind::Pkcs11
    }
    fn describe(&self) -> String {
        "broken test root".into()
    }
    async fn seal(&self, _: &RootKey, _: &SealContext) -> Result<SealedRoot, RootError> {
        Err(RootError::Provider {
            provider: "broken",
            reason: "device unplugged".into(),
        })
    }
    async fn unseal(&self, _: &SealedRoot, _: &SealContext) -> Result<RootKey, RootError> {
        Err(RootError::Provider {
            provider: "broken",
            reason: "device unplugged".into(),
        })
    }
}

#[tokio::test]
async fn migrate_from_key_file_to_passphrase_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let active = Template {
        activation_date: Some(OffsetDateTime::now_utc() - Duration::minutes(1)),
        ..Template::default()
    };
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, active)
        .await
        .unwrap();
    let ct = kms
        .encrypt(&actor(), project, key, b"", b"before")
        .await
        .unwrap();
    let seal_before = std::fs::read(dir.path().join("root.seal")).unwrap();

    kms.migrate_root(&actor(), passphrase_root("new passphrase"))
        .await
        .unwrap();
    assert_ne!(
        std::fs::read(dir.path().join("root.seal")).unwrap(),
        seal_before
    );
    kms.close().await;

    // The old root no longer opens the install; the new one does.
    let old = reopen(dir.path()).await;
    assert!(
        matches!(old, Err(Error::Root(RootError::WrongPassphrase))),
        "{:?}",
        old.err()
    );
    let opts = OpenOptions::sqlite_in(dir.path());
    let kms = Kms::open(&opts, passphrase_root("new passphrase"))
        .await
        .unwrap();
    assert!(
        kms.decrypt(&actor(), project, key, b"", &ct)
            .await
            .unwrap()
            .ct_eq(b"before")
    );
    assert!(kms.verify_audit().await.is_ok());

    // And back to a key file.
    kms.migrate_root(&actor(), key_file_root(dir.path()))
        .await
        .unwrap();
    kms.close().await;
    let kms = reopen(dir.path()).await.unwrap();
    assert!(
        kms.decrypt(&actor(), project, key, b"", &ct)
            .await
            .unwrap()
            .ct_eq(b"before")
    );
}

#[tokio::test]
async fn a_failing_target_leaves_the_install_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, _) = install(dir.path()).await;
    let seal_before = std::fs::read(dir.path().join("root.seal")).unwrap();
    let err = kms
        .migrate_root(&actor(), Arc::new(Broken))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("device unplugged"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("root.seal")).unwrap(),
        seal_before
    );
    kms.flush_audit().await.unwrap();
    let results: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, result FROM audit_log WHERE action LIKE 'root.migrate%' ORDER BY seq",
    )
    .fetch_all(&raw_db(dir.path()).await)
    .await
    .unwrap();
    assert_eq!(
        results[0],
        ("root.migrate.begin".to_string(), "success".to_string())
    );
    assert_eq!(results[1].0, "root.migrate");
    assert!(results[1].1.starts_with("failed"), "{:?}", results[1]);
    kms.close().await;
    reopen(dir.path())
        .await
        .expect("the old root still opens the install");
}
