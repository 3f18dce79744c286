//! KMIP clients: who is at the other end of a connection, in which project
//! they act and which operations they may ask for.
//!
//! The listener verifies the client certificate against the KMIP CA (and
//! its CRL) during the handshake, then asks a [`ClientDirectory`] which
//! client the certificate belongs to. A certificate the directory does not
//! know is refused before any request is read. The `api` crate implements
//! the directory over its database; [`InMemoryDirectory`] serves tests and
//! development.

use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;

use kms_core::crypto::digest::{DigestAlgorithm, digest};
use kms_core::ids::ProjectId;

use crate::ttlv::enums::Operation;

/// A client known to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmipClient {
    /// Shown in the audit log with the peer address.
    pub name: String,
    /// Every object the client creates or sees is in this project.
    pub project: ProjectId,
    /// The KMIP operations the client may request; any other is Permission
    /// Denied.
    pub operations: BTreeSet<Operation>,
}

impl KmipClient {
    /// A client permitted every operation this server implements.
    pub fn with_all_operations(name: impl Into<String>, project: ProjectId) -> Self {
        Self {
            name: name.into(),
            project,
            operations: crate::operations::IMPLEMENTED.iter().copied().collect(),
        }
    }

    pub fn may(&self, operation: Operation) -> bool {
        self.operations.contains(&operation)
    }
}

/// Resolves a verified client certificate to a client.
#[async_trait::async_trait]
pub trait ClientDirectory: Send + Sync {
    /// The client whose end-entity certificate (DER) this is, if any.
    async fn client_for(&self, end_entity_cert_der: &[u8]) -> Option<KmipClient>;
}

/// Clients held in memory, keyed by the SHA-256 of their certificate.
#[derive(Default)]
pub struct InMemoryDirectory {
    clients: RwLock<HashMap<Vec<u8>, KmipClient>>,
}

impl InMemoryDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) the client of certificate `cert_der`.
    pub fn insert(&self, cert_der: &[u8], client: KmipClient) {
        let key = digest(DigestAlgorithm::Sha256, cert_der);
        // A poisoned lock only means another thread panicked while
        // inserting; the map itself is still whole.
        let mut map = self.clients.write().unwrap_or_else(|p| p.into_inner());
        map.insert(key, client);
    }

    /// Forgets the client of `cert_der`.
    pub fn remove(&self, cert_der: &[u8]) {
        let key = digest(DigestAlgorithm::Sha256, cert_der);
        let mut map = self.clients.write().unwrap_or_else(|p| p.into_inner());
        map.remove(&key);
    }
}

#[async_trait::async_trait]
impl ClientDirectory for InMemoryDirectory {
    async fn client_for(&self, end_entity_cert_der: &[u8]) -> Option<KmipClient> {
        let key = digest(DigestAlgorithm::Sha256, end_entity_cert_der);
        let map = self.clients.read().unwrap_or_else(|p| p.into_inner());
        map.get(&key).cloned()
    }
}
