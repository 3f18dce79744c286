//! Helpers shared by the pki integration tests: a real kms-core install with
//! a software root in a temporary directory, CA keys made by `Kms`, and
//! `openssl` run in a scratch directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::ids::ProjectId;
use kms_core::service::{Actor, Kms, OpenOptions, Template};
use pki::x509::{CertificateAuthority, KmsSigner, Validity};
use time::{Duration, OffsetDateTime};

pub fn actor() -> Actor {
    Actor::new("pki-tests", Some("127.0.0.1".into()))
}

/// A fresh install in `dir` with one organization and project.
pub async fn install(dir: &Path) -> (Kms, ProjectId) {
    let root = SoftwareRoot::create_key_file(&dir.join("root.key")).expect("root key file");
    let kms = Kms::init(&OpenOptions::sqlite_in(dir), Arc::new(root))
        .await
        .expect("init");
    let org = kms
        .create_organization(&actor(), "org")
        .await
        .expect("organization");
    let project = kms
        .create_project(&actor(), org, "kmip")
        .await
        .expect("project");
    (kms, project)
}

pub fn active() -> Template {
    Template {
        activation_date: Some(OffsetDateTime::now_utc() - Duration::seconds(60)),
        ..Template::default()
    }
}

/// A CA key pair of `spec` in `project`, and a signer for it.
pub async fn ca_signer(kms: &Kms, project: ProjectId, spec: KeySpec) -> KmsSigner {
    let pair = kms
        .create_key_pair(&actor(), project, spec, active(), active())
        .await
        .expect("CA key pair");
    KmsSigner::new(kms.clone(), actor(), project, pair.private_key, None)
        .await
        .expect("signer")
}

/// A CA named `name` on a fresh key of `spec`, valid for ten years.
pub async fn ca(
    kms: &Kms,
    project: ProjectId,
    spec: KeySpec,
    name: &str,
) -> CertificateAuthority<KmsSigner> {
    let signer = ca_signer(kms, project, spec).await;
    CertificateAuthority::create(signer, name, years(10))
        .await
        .expect("create CA")
}

pub fn days(n: i64) -> Validity {
    Validity::starting_now(Duration::days(n)).expect("validity")
}

pub fn years(n: i64) -> Validity {
    days(365 * n)
}

/// A directory where openssl reads and writes files.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(dir: &Path) -> Self {
        let dir = dir.join("openssl");
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Self { dir }
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).expect("write scratch file");
        path
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).expect("read scratch file")
    }

    /// Runs openssl in the scratch directory.
    pub fn openssl(&self, args: &[&str]) -> Output {
        Command::new("openssl")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("openssl runs")
    }

    /// Runs openssl and returns its stdout, failing the test on error.
    pub fn openssl_ok(&self, args: &[&str]) -> String {
        let out = self.openssl(args);
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `openssl verify` of `cert` against `ca.pem` with extra `args`:
    /// whether it passed, and what it said.
    pub fn verify(&self, cert: &str, args: &[&str]) -> (bool, String) {
        let mut all = vec!["verify", "-CAfile", "ca.pem"];
        all.extend_from_slice(args);
        all.push(cert);
        let out = self.openssl(&all);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// A CSR made by openssl with a fresh key; `extra` goes to `openssl req`.
    pub fn csr(&self, name: &str, key_args: &[&str], extra: &[&str]) -> Vec<u8> {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let mut args = vec!["req", "-new", "-nodes", "-subj", "/CN=requested-name"];
        args.extend_from_slice(key_args);
        args.extend_from_slice(&["-keyout", &key, "-out", &csr]);
        args.extend_from_slice(extra);
        self.openssl_ok(&args);
        self.read(&csr)
    }
}

pub const P256: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
pub const P384: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"];
pub const P521: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"];
pub const RSA2048: &[&str] = &["-newkey", "rsa:2048"];
pub const ED25519: &[&str] = &["-newkey", "ed25519"];
