//! The service: the one API every front end calls.
//!
//! [`Kms`] ties the pieces of kms-core together. The KMIP server, the HTTPS
//! API and the certificate authorities call it, never the store or the
//! hierarchy directly, so that for every caller:
//!
//! * the lifecycle is checked ([`crate::lifecycle`]) before any use;
//! * key material is unwrapped through the hierarchy and cached per project;
//! * every state change is audited in the same database transaction as the
//!   change, and every use of a key is audited through a batching queue;
//! * every object row read back is authenticated (row MAC) before it is used.
//!
//! Authorization (which caller may act on which project) is decided by the
//! front ends before they call in; the service takes the caller's project as
//! an argument and never lets an object of another project be seen.
//!
//! ## Start-up
//! [`Kms::init`] creates an install: a root key sealed by the root of trust
//! into `root.seal`, the database schema, the first audit record.
//! [`Kms::open`] unseals the root once (never per request), checks that the
//! database's audit head is authenticated by this root (so a database and a
//! seal file from different installs refuse to start together), and starts
//! the audit writer.

mod audit_queue;
mod codec;
mod derive;
mod keys;
mod kmip_ops;
mod lifecycle_ops;
mod objects;
mod projects;
mod records;
mod rekey;
mod resident_ops;
mod ring;
mod root_ops;
mod root_rotation;
mod storage_ops;
pub mod transit;
mod usage_limits;
mod use_ops;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use derive::{Derivation, DerivedObject};
pub use keys::{KeyProfile, UsableKey};
pub use kmip_ops::{SymmetricCiphertext, SymmetricMode, WrapScheme};
pub use objects::{CreatedPair, KeyLocation, Template};
pub use records::{
    MAX_RECORD_NAME, MAX_RECORD_VALUE, Record, system_organization_id, system_project_id,
};
pub use root_rotation::{RotationProgress, RotationReport};
pub use transit::Transit;

use crate::audit::{AuditChain, AuditEvent, AuditRecord, ChainVerifier};
use crate::cache::{CacheStats, KeyCache};
use crate::error::{Error, Result};
use crate::hierarchy::seal_file::{SealFile, SealedTerm};
use crate::hierarchy::{RootError, RootKey, RootOfTrust, SealContext};
use crate::ids::InstallId;
use crate::object::ManagedObject;
use crate::store::{self, AuditQuery, Store, StoreOptions, Transaction};

/// How to open an install.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Holds `root.seal` (and, for SQLite, usually the database).
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Maximum number of unwrapped keys kept in memory.
    pub cache_capacity: usize,
    /// How long a cached key is trusted before it is re-read; bounds how long
    /// a change made by another node takes to apply here.
    pub cache_ttl: Duration,
    pub store: StoreOptions,
}

impl OpenOptions {
    pub fn new(data_dir: impl Into<PathBuf>, database_url: impl Into<String>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: database_url.into(),
            cache_capacity: 10_000,
            cache_ttl: Duration::from_secs(30),
            store: StoreOptions::default(),
        }
    }

    /// The default SQLite database inside `data_dir`.
    pub fn sqlite_in(data_dir: impl Into<PathBuf>) -> Self {
        let dir: PathBuf = data_dir.into();
        let url = format!("sqlite://{}", dir.join("strongroom.db").display());
        Self::new(dir, url)
    }
}

/// Who is acting, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    name: Arc<str>,
    source: Option<Arc<str>>,
}

impl Actor {
    /// The server itself (date-driven transitions, start-up).
    pub fn system() -> Self {
        Self {
            name: Arc::from("system"),
            source: None,
        }
    }

    /// A caller named `name` (identity, KMIP client), from `source` (address).
    pub fn new(name: impl Into<String>, source: Option<String>) -> Self {
        Self {
            name: Arc::from(name.into()),
            source: source.map(Arc::from),
        }
    }

    /// [`new`](Self::new) with a name and source the caller keeps (a
    /// session's name, a connection's address).
    pub fn named(name: Arc<str>, source: Option<Arc<str>>) -> Self {
        Self { name, source }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// An audit event by this actor.
    pub(crate) fn event(&self, action: &str) -> AuditEvent {
        AuditEvent::now(self.name.to_string(), action)
            .source(self.source.as_deref().map(str::to_string))
    }
}

/// The key management service. Cheap to clone.
#[derive(Clone)]
pub struct Kms {
    inner: Arc<Inner>,
}

struct Inner {
    install: InstallId,
    store: Arc<dyn Store>,
    ring: ring::RootRing,
    projects: projects::ProjectKeys,
    cache: KeyCache<UsableKey>,
    /// Authenticated, decrypted objects as Get returns them, so a Get of a
    /// hot object costs no database read; invalidated with `cache` (see
    /// [`Kms::forget`]).
    objects: KeyCache<ManagedObject>,
    /// Named-key metadata and list indexes ([`transit`]), bounded and
    /// expiring like `cache`.
    transit: transit::TransitState,
    audit: audit_queue::AuditQueue,
    chain: Arc<AuditChain>,
    /// The root of trust that seals `root.seal` now: the one this process
    /// unsealed with, until a migration replaces it.
    root: std::sync::RwLock<Arc<dyn RootOfTrust>>,
    data_dir: PathBuf,
    /// Held while `root.seal` is being rewritten (rotation, migration), so
    /// two of them never interleave in one process.
    seal_file: tokio::sync::Mutex<()>,
    /// Where HSM-resident keys live, once configured (`set_resident_keys`).
    resident: std::sync::OnceLock<Arc<dyn crate::resident::ResidentKeys>>,
}

impl Kms {
    /// Creates a new install. Refuses if `root.seal` exists in the data
    /// directory. The root of trust is self-tested first.
    pub async fn init(opts: &OpenOptions, root: Arc<dyn RootOfTrust>) -> Result<Kms> {
        let seal_path = SealFile::path(&opts.data_dir);
        if seal_path.exists() {
            return Err(RootError::AlreadyInitialised(seal_path.display().to_string()).into());
        }
        check_data_dir(&opts.data_dir)?;
        let install = InstallId::generate();
        root.self_test(install).await?;
        let root_key = RootKey::generate(1)?;
        let sealed = root
            .seal(&root_key, &SealContext { install, term: 1 })
            .await?;
        let ring = ring::RootRing::new(root_key)?;
        let chain = Arc::new(ring.audit_chain());
        let store = store::open(&opts.database_url, Arc::clone(&chain), opts.store.clone()).await?;
        if store.audit_head().await?.is_some() {
            store.close().await;
            return Err(Error::InvalidRequest(
                "the database already holds another install's data; use an empty database".into(),
            ));
        }
        let file = SealFile {
            format: 1,
            install_id: install,
            provider: root.kind(),
            provider_description: root.describe(),
            current_term: 1,
            terms: vec![SealedTerm::new(
                1,
                &sealed,
                time::OffsetDateTime::now_utc().unix_timestamp(),
            )],
        };
        file.store(&seal_path, true)?;
        let kms = Self::assemble(install, store, chain, ring, root.clone(), opts);
        let event = Actor::system().event("install.init").result("success");
        kms.inner
            .store
            .commit(Transaction::new().audit(event))
            .await?;
        kms.ensure_system_project().await?;
        tracing::info!(install = %install, root = %root.describe(), "initialised a new install");
        Ok(kms)
    }

    /// Opens an existing install: unseals the root once and checks that the
    /// database belongs to it.
    pub async fn open(opts: &OpenOptions, root: Arc<dyn RootOfTrust>) -> Result<Kms> {
        check_data_dir(&opts.data_dir)?;
        let file = SealFile::load(&SealFile::path(&opts.data_dir))?;
        let install = file.install_id;
        root.self_test(install).await?;
        let mut keys = Vec::with_capacity(file.terms.len());
        for term in &file.terms {
            let sealed = term.sealed().map_err(|reason| RootError::SealFile {
                path: SealFile::path(&opts.data_dir).display().to_string(),
                reason,
            })?;
            keys.push(
                root.unseal(
                    &sealed,
                    &SealContext {
                        install,
                        term: term.term,
                    },
                )
                .await?,
            );
        }
        let ring = ring::RootRing::from_terms(keys, file.current_term)?;
        let chain = Arc::new(ring.audit_chain());
        let store = store::open(&opts.database_url, Arc::clone(&chain), opts.store.clone()).await?;
        match store.audit_head().await? {
            Some(head) if chain.head_is_authentic(&head) => {}
            Some(_) => {
                store.close().await;
                return Err(Error::Integrity {
                    what: "audit chain head".into(),
                    reason: "not authenticated by this install's root key: the database belongs to another install, or was tampered with",
                });
            }
            None => {
                store.close().await;
                return Err(Error::Integrity {
                    what: "database".into(),
                    reason: "has no audit chain: it is empty or not this install's database",
                });
            }
        }
        tracing::info!(install = %install, root = %root.describe(), store = store.backend(), "opened install");
        let kms = Self::assemble(install, store, chain, ring, root, opts);
        // Installs made before the system project existed get it now.
        if !opts.store.read_only {
            kms.ensure_system_project().await?;
        }
        Ok(kms)
    }

    fn assemble(
        install: InstallId,
        store: Arc<dyn Store>,
        chain: Arc<AuditChain>,
        ring: ring::RootRing,
        root: Arc<dyn RootOfTrust>,
        opts: &OpenOptions,
    ) -> Kms {
        Kms {
            inner: Arc::new(Inner {
                install,
                audit: audit_queue::AuditQueue::start(Arc::clone(&store)),
                store,
                ring,
                projects: projects::ProjectKeys::default(),
                cache: KeyCache::new(opts.cache_capacity, opts.cache_ttl),
                objects: KeyCache::new(opts.cache_capacity, opts.cache_ttl),
                transit: transit::TransitState::new(opts.cache_capacity, opts.cache_ttl),
                chain,
                root: std::sync::RwLock::new(root),
                data_dir: opts.data_dir.clone(),
                seal_file: tokio::sync::Mutex::new(()),
                resident: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The root of trust that seals `root.seal` now.
    pub(crate) fn root_of_trust(&self) -> Arc<dyn RootOfTrust> {
        Arc::clone(&self.inner.root.read().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn install_id(&self) -> InstallId {
        self.inner.install
    }

    /// The store, for front ends that keep their own tables (identities, …)
    /// in the same database. Object rows must only be written through `Kms`.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Ready to serve: the root is unsealed (it is, once `open` returned)
    /// and the database answers.
    pub async fn ready(&self) -> Result<()> {
        self.inner.store.ping().await?;
        self.inner.audit.healthy()?;
        Ok(())
    }

    /// Cache statistics, for metrics.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// Drops one object's cached key, so the next use unwraps it again.
    /// Operators use it after editing an object elsewhere; benchmarks use it
    /// to measure a cache miss.
    pub fn forget_cached_key(&self, project: crate::ids::ProjectId, id: crate::ids::ObjectId) {
        self.forget(project, id);
    }

    /// Drops everything cached about one object. Every change to a stored
    /// object calls it after its commit.
    pub(crate) fn forget(&self, project: crate::ids::ProjectId, id: crate::ids::ObjectId) {
        self.inner.cache.invalidate(project, id);
        self.inner.objects.invalidate(project, id);
    }

    /// Drops everything cached about a project's objects (its key-encryption
    /// key changed).
    pub(crate) fn forget_project(&self, project: crate::ids::ProjectId) {
        self.inner.cache.invalidate_project(project);
        self.inner.objects.invalidate_project(project);
    }

    /// Waits until every key-use audit event queued so far is committed.
    pub async fn flush_audit(&self) -> Result<()> {
        self.inner.audit.flush().await
    }

    /// One project's audit records matching `query`, and how many match in
    /// all (ignoring offset and limit). Key-use events still queued are
    /// committed first, so a use that was just answered is listed. The
    /// query names its project: nothing of another project is returned.
    pub async fn query_audit(&self, query: &AuditQuery) -> Result<(Vec<AuditRecord>, u64)> {
        self.flush_audit().await?;
        let store = &self.inner.store;
        let records = store.find_audit(query).await?;
        let total = store.count_audit(query).await?;
        Ok((records, total))
    }

    /// One page of a project's audit records matching `query`, without
    /// flushing the queue or counting (for exports that page through with
    /// [`AuditQuery::after_seq`] after one [`Kms::flush_audit`]).
    pub async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        Ok(self.inner.store.find_audit(query).await?)
    }

    /// Verifies the whole audit chain. Returns the number of records, or the
    /// error naming the first bad one.
    pub async fn verify_audit(&self) -> Result<i64> {
        self.flush_audit().await?;
        let store = &self.inner.store;
        let head = store.audit_head().await?;
        let end = head.as_ref().map_or(0, |h| h.seq);
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        'pages: loop {
            let page = store.audit_records(after, 1000).await?;
            if page.is_empty() {
                break;
            }
            for record in &page {
                if record.seq > end {
                    // Appended after the head was read.
                    break 'pages;
                }
                verifier.next(record)?;
                after = record.seq;
            }
        }
        Ok(verifier.finish(&self.inner.chain, head.as_ref())?)
    }

    /// Flushes the audit queue and closes the store. Further calls fail.
    pub async fn close(&self) {
        if let Err(e) = self.inner.audit.flush().await {
            tracing::error!(error = %e, "could not flush the audit queue at shutdown");
        }
        self.inner.audit.stop().await;
        self.inner.store.close().await;
    }
}

/// The data directory must exist and be writable; say which of the two is wrong.
fn check_data_dir(dir: &std::path::Path) -> Result<()> {
    let shown = dir.display().to_string();
    let meta = std::fs::metadata(dir)
        .map_err(|e| Error::InvalidRequest(format!("data directory {shown} is not usable: {e}")))?;
    if !meta.is_dir() {
        return Err(Error::InvalidRequest(format!(
            "data directory {shown} is not a directory"
        )));
    }
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => {
            Err(crate::store::StoreError::ReadOnly(format!("data directory {shown}: {e}")).into())
        }
    }
}
