//! One scenario every root of trust must pass: a software-rooted install
//! with a key in use migrates to the provider, rotates its root key there
//! (twice), restarts on a fresh provider instance, and migrates back to a
//! new software key file — and the key stays readable and the audit chain
//! intact at every step.

use std::future::Future;
use std::sync::Arc;

use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::RootOfTrust;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::service::{Actor, Kms, OpenOptions, Template};

fn actor() -> Actor {
    Actor::new("tester", Some("127.0.0.1".into()))
}

/// Runs the scenario; `provider` makes a new instance of the root of trust
/// under test (its key must already exist).
pub async fn migrate_rotate_restart_and_back<F, Fut>(provider: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn RootOfTrust>>,
{
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let opts = OpenOptions::sqlite_in(dir.path());
    let kms = Kms::init(
        &opts,
        Arc::new(SoftwareRoot::create_key_file(&keys.path().join("a.key")).unwrap()),
    )
    .await
    .unwrap();
    let org = kms.create_organization(&actor(), "org").await.unwrap();
    let project = kms.create_project(&actor(), org, "project").await.unwrap();
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, Template::default())
        .await
        .unwrap();
    kms.activate(&actor(), project, key).await.unwrap();
    let ct = kms
        .encrypt(&actor(), project, key, b"", b"rotated")
        .await
        .unwrap();

    // Onto the provider, then a new root term sealed by it.
    kms.migrate_root(&actor(), provider().await)
        .await
        .expect("migrate to the provider");
    let report = kms.rotate_root(&actor(), &|_| {}).await.expect("rotate");
    assert_eq!((report.term, report.retired.clone()), (2, vec![1]));
    assert!(report.rewrapped >= 1, "{report:?}");
    kms.close().await;
    drop(kms);

    // A restart on a fresh instance unseals the new term only.
    let kms = Kms::open(&opts, provider().await)
        .await
        .expect("open after rotation");
    assert_eq!(kms.root_terms(), vec![2]);
    let pt = kms.decrypt(&actor(), project, key, b"", &ct).await.unwrap();
    assert!(pt.ct_eq(b"rotated"));
    let report = kms
        .rotate_root(&actor(), &|_| {})
        .await
        .expect("rotate again");
    assert_eq!(report.term, 3);
    assert!(kms.verify_audit().await.unwrap() > 0);

    // And back to software.
    let back = keys.path().join("b.key");
    kms.migrate_root(
        &actor(),
        Arc::new(SoftwareRoot::create_key_file(&back).unwrap()),
    )
    .await
    .expect("migrate back to software");
    kms.close().await;
    drop(kms);
    let kms = Kms::open(&opts, Arc::new(SoftwareRoot::from_key_file(&back).unwrap()))
        .await
        .expect("open on software");
    let pt = kms.decrypt(&actor(), project, key, b"", &ct).await.unwrap();
    assert!(pt.ct_eq(b"rotated"));
    assert!(kms.verify_audit().await.unwrap() > 0);
    kms.close().await;
}
