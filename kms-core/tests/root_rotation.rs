//! `Kms::rotate_root`: a new root key term, project keys re-wrapped in the
//! background while requests are served, old terms retired, and an
//! interrupted rotation finished by the next one.

mod common;

use std::sync::Mutex;

use common::*;
use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::seal_file::SealFile;
use kms_core::ids::{ObjectId, ProjectId};
use kms_core::service::{Kms, RotationProgress, Template};
use time::{Duration, OffsetDateTime};

fn active() -> Template {
    Template {
        activation_date: Some(OffsetDateTime::now_utc() - Duration::minutes(1)),
        ..Template::default()
    }
}

/// `n` projects, each with one AES key and a ciphertext under it.
async fn populate(kms: &Kms, n: usize) -> Vec<(ProjectId, ObjectId, Vec<u8>)> {
    let org = kms.create_organization(&actor(), "rotation").await.unwrap();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let project = kms
            .create_project(&actor(), org, &format!("p{i}"))
            .await
            .unwrap();
        let key = kms
            .create_key(&actor(), project, KeySpec::Aes256, active())
            .await
            .unwrap();
        let ct = kms
            .encrypt(
                &actor(),
                project,
                key,
                b"aad",
                format!("secret {i}").as_bytes(),
            )
            .await
            .unwrap();
        out.push((project, key, ct));
    }
    out
}

async fn all_decrypt(kms: &Kms, data: &[(ProjectId, ObjectId, Vec<u8>)]) {
    for (i, (project, key, ct)) in data.iter().enumerate() {
        kms.forget_cached_key(*project, *key);
        let pt = kms
            .decrypt(&actor(), *project, *key, b"aad", ct)
            .await
            .unwrap();
        assert!(pt.ct_eq(format!("secret {i}").as_bytes()));
    }
}

fn seal_terms(dir: &std::path::Path) -> (u32, Vec<u32>) {
    let file = SealFile::load(&SealFile::path(dir)).unwrap();
    (
        file.current_term,
        file.terms.iter().map(|t| t.term).collect(),
    )
}

#[tokio::test]
async fn rotation_rewraps_every_project_key_and_retires_the_old_term() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, first) = install(dir.path()).await;
    kms.rotate_project_key(&actor(), first).await.unwrap();
    let data = populate(&kms, 5).await;
    assert_eq!(seal_terms(dir.path()), (1, vec![1]));

    let seen = Mutex::new(Vec::new());
    let report = kms
        .rotate_root(&actor(), &|p: RotationProgress| {
            seen.lock().unwrap().push(p)
        })
        .await
        .unwrap();
    // 1 project with 2 key versions, 5 with one each, and the system
    // project.
    assert_eq!(report.term, 2);
    assert_eq!(report.rewrapped, 8);
    assert_eq!(report.retired, vec![1]);
    assert!(!report.resumed);
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.first().map(|p| (p.rewrapped, p.total)), Some((0, 8)));
    assert_eq!(seen.last().map(|p| (p.rewrapped, p.total)), Some((8, 8)));
    assert_eq!(seal_terms(dir.path()), (2, vec![2]));
    assert_eq!(kms.root_terms(), vec![2]);

    // Still serving, with keys unwrapped again from the database.
    all_decrypt(&kms, &data).await;
    let org = kms.create_organization(&actor(), "after").await.unwrap();
    kms.create_project(&actor(), org, "new").await.unwrap();
    assert!(kms.verify_audit().await.is_ok());
    kms.close().await;

    // And after a restart, with only term 2 in root.seal.
    let kms = reopen(dir.path()).await.unwrap();
    all_decrypt(&kms, &data).await;
    assert!(kms.verify_audit().await.is_ok());

    // A second rotation moves everything on again.
    let report = kms.rotate_root(&actor(), &|_| {}).await.unwrap();
    assert_eq!((report.term, report.retired.clone()), (3, vec![2]));
    // The 8 from before and the project created since.
    assert_eq!(report.rewrapped, 9);
    all_decrypt(&kms, &data).await;
    kms.close().await;
}

#[tokio::test]
async fn an_interrupted_rotation_leaves_a_working_install_and_is_finished_later() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, _) = install(dir.path()).await;
    // More than one batch of 64 project keys.
    let data = populate(&kms, 140).await;

    // The "crash": the task stops after the first batch is committed.
    let crashing = kms.clone();
    let outcome = tokio::spawn(async move {
        crashing
            .rotate_root(&actor(), &|p: RotationProgress| {
                if p.rewrapped > 0 && p.rewrapped < p.total {
                    panic!("simulated crash after {} of {}", p.rewrapped, p.total);
                }
            })
            .await
    })
    .await;
    assert!(
        outcome.is_err(),
        "the rotation should have been interrupted"
    );
    kms.close().await;
    assert_eq!(seal_terms(dir.path()), (2, vec![1, 2]));

    // Both terms are still sealed: every key opens, the chain verifies.
    let kms = reopen(dir.path()).await.unwrap();
    assert_eq!(kms.root_terms(), vec![1, 2]);
    all_decrypt(&kms, &data).await;
    assert!(kms.verify_audit().await.is_ok());

    // Rotating again finishes the interrupted rotation instead of starting
    // a third term.
    let report = kms.rotate_root(&actor(), &|_| {}).await.unwrap();
    assert!(report.resumed);
    assert_eq!(report.term, 2);
    assert_eq!(report.retired, vec![1]);
    // 140 projects, one with a second key version, and the system project.
    assert_eq!(report.rewrapped, 142 - 64);
    assert_eq!(seal_terms(dir.path()), (2, vec![2]));
    all_decrypt(&kms, &data).await;
    kms.close().await;

    let kms = reopen(dir.path()).await.unwrap();
    all_decrypt(&kms, &data).await;
    assert!(kms.verify_audit().await.is_ok());
    kms.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_served_during_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let data = populate(&kms, 100).await;
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, active())
        .await
        .unwrap();

    let rotating = kms.clone();
    let rotation = tokio::spawn(async move { rotating.rotate_root(&actor(), &|_| {}).await });
    let mut served = 0;
    while !rotation.is_finished() || served < 50 {
        let ct = kms
            .encrypt(&actor(), project, key, b"", b"during")
            .await
            .unwrap();
        kms.forget_cached_key(project, key);
        assert!(
            kms.decrypt(&actor(), project, key, b"", &ct)
                .await
                .unwrap()
                .ct_eq(b"during")
        );
        if served % 10 == 0 {
            kms.create_key(&actor(), project, KeySpec::Aes256, active())
                .await
                .unwrap();
        }
        served += 1;
    }
    let report = rotation.await.unwrap().unwrap();
    assert_eq!(report.retired, vec![1]);
    all_decrypt(&kms, &data).await;
    assert!(kms.verify_audit().await.is_ok());
    kms.close().await;
}

#[tokio::test]
async fn a_rotated_install_does_not_open_with_another_root() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, _) = install(dir.path()).await;
    kms.rotate_root(&actor(), &|_| {}).await.unwrap();
    kms.close().await;
    std::fs::remove_file(dir.path().join("root.key")).unwrap();
    // key_file_root makes a new key file: a different root of trust.
    assert!(reopen(dir.path()).await.is_err());
}
