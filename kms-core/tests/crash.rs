//! Crash consistency: a process killed with SIGKILL during a burst of
//! creates leaves every acknowledged object readable and nothing half-written.
//!
//! The test re-runs its own binary as the child (`burst_child`, which does
//! nothing unless `STRONGROOM_CRASH_CHILD` names a data directory), so no
//! other binary has to be built first.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::*;
use kms_core::crypto::keygen::KeySpec;
use kms_core::ids::{ObjectId, ProjectId};
use kms_core::service::Template;

const CHILD_ENV: &str = "STRONGROOM_CRASH_CHILD";

/// The child: 8 concurrent writers; prints each id once `create_key`
/// returned (the commit is durable), until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (kms, project) = install(std::path::Path::new(&dir)).await;
    println!("project {project}");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..8 {
        let (kms, tx) = (kms.clone(), tx.clone());
        tokio::spawn(async move {
            while let Ok(id) = kms
                .create_key(&actor(), project, KeySpec::Aes256, Template::default())
                .await
            {
                if tx.send(id).is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);
    let mut out = std::io::stdout().lock();
    while let Some(id) = rx.recv().await {
        let _ = writeln!(out, "ack {id}");
        let _ = out.flush();
    }
}

#[tokio::test]
async fn sigkill_during_creates_loses_nothing_acknowledged() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "burst_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let project: ProjectId = loop {
        let line = lines.next().expect("child output").unwrap();
        // libtest prints "test burst_child ... " on the same line first.
        if let Some((_, p)) = line.split_once("project ") {
            break p.trim().parse().unwrap();
        }
    };
    let mut acknowledged = Vec::new();
    for line in lines.by_ref() {
        if let Some(id) = line.unwrap().strip_prefix("ack ") {
            acknowledged.push(id.trim().parse::<ObjectId>().unwrap());
        }
        if acknowledged.len() == 400 {
            break;
        }
    }
    child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix.
    assert!(!child.wait().unwrap().success());
    // Ids printed between our last read and the kill were acknowledged too.
    for line in lines.map_while(Result::ok) {
        if let Some(Ok(id)) = line
            .strip_prefix("ack ")
            .map(|s| s.trim().parse::<ObjectId>())
        {
            acknowledged.push(id);
        }
    }

    let kms = reopen(dir.path())
        .await
        .expect("the install opens after SIGKILL");
    for id in &acknowledged {
        let object = kms
            .get(&actor(), project, *id)
            .await
            .expect("an acknowledged object is readable");
        assert!(object.material.is_some());
    }
    // Every stored row authenticates (nothing half-written), and none of the
    // acknowledged ones is missing.
    let all = kms
        .locate(project, Default::default())
        .await
        .expect("every row authenticates");
    assert!(
        all.len() >= acknowledged.len(),
        "{} stored < {} acknowledged",
        all.len(),
        acknowledged.len()
    );
    kms.verify_audit()
        .await
        .expect("the audit chain is intact after SIGKILL");
}
