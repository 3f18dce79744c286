//! Helpers shared by the kms-core integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use kms_core::hierarchy::RootOfTrust;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::ids::ProjectId;
use kms_core::service::{Actor, Kms, OpenOptions};

pub fn key_file_root(dir: &Path) -> Arc<dyn RootOfTrust> {
    let path = dir.join("root.key");
    let root = if path.exists() {
        SoftwareRoot::from_key_file(&path).expect("key file")
    } else {
        SoftwareRoot::create_key_file(&path).expect("create key file")
    };
    Arc::new(root)
}

/// A fresh install in `dir` with one organization and project.
pub async fn install(dir: &Path) -> (Kms, ProjectId) {
    let kms = Kms::init(&OpenOptions::sqlite_in(dir), key_file_root(dir))
        .await
        .expect("init");
    let actor = Actor::new("tester", Some("127.0.0.1".into()));
    let org = kms
        .create_organization(&actor, "org")
        .await
        .expect("organization");
    let project = kms
        .create_project(&actor, org, "project")
        .await
        .expect("project");
    (kms, project)
}

pub async fn reopen(dir: &Path) -> kms_core::Result<Kms> {
    Kms::open(&OpenOptions::sqlite_in(dir), key_file_root(dir)).await
}

/// A raw connection to the install's SQLite database, for tampering.
pub async fn raw_db(dir: &Path) -> sqlx::SqlitePool {
    let url = format!("sqlite://{}", dir.join("strongroom.db").display());
    sqlx::SqlitePool::connect(&url).await.expect("raw sqlite")
}

pub fn actor() -> Actor {
    Actor::new("tester", Some("127.0.0.1".into()))
}
