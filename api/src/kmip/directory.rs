//! The listener's [`ClientDirectory`], backed by the KMIP records.
//!
//! The listener asks it, after every handshake, which client a verified
//! certificate belongs to. Answers come from memory: a map from the
//! certificate's SHA-256 to its [`KmipClient`], rebuilt by [`refresh`]
//! (at start, after every change made through the admin socket, and by the
//! periodic reload). A certificate is in the map only while it is not
//! revoked, not expired, and its client is enabled, so a revocation takes
//! effect in the directory even before the new CRL reaches rustls.
//!
//! [`refresh`]: RecordDirectory::refresh

use std::collections::HashMap;
use std::sync::RwLock;

use kmip_server::client::{ClientDirectory, KmipClient};
use kms_core::crypto::digest::{DigestAlgorithm, digest};

use super::registry::{self, CertificateRecord, ClientRecord, Registry};

/// Clients by the SHA-256 of their certificates.
pub struct RecordDirectory {
    registry: Registry,
    by_certificate: RwLock<HashMap<Vec<u8>, KmipClient>>,
}

impl RecordDirectory {
    pub fn new(registry: Registry) -> Self {
        Self {
            registry,
            by_certificate: RwLock::new(HashMap::new()),
        }
    }

    /// Re-reads the client and certificate records. On failure the previous
    /// map stays (the records did not change by failing to read them).
    pub async fn refresh(&self) -> anyhow::Result<()> {
        let clients = self.registry.clients().await?;
        let certificates = self.registry.certificates().await?;
        let map = build(
            &clients,
            certificates.iter().map(|(c, _)| c),
            registry::now(),
        );
        *self
            .by_certificate
            .write()
            .unwrap_or_else(|p| p.into_inner()) = map;
        Ok(())
    }
}

fn build<'a>(
    clients: &[ClientRecord],
    certificates: impl Iterator<Item = &'a CertificateRecord>,
    now: i64,
) -> HashMap<Vec<u8>, KmipClient> {
    let clients: HashMap<&str, &ClientRecord> =
        clients.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut map = HashMap::new();
    for cert in certificates {
        if cert.revoked_at.is_some() || cert.not_after < now {
            continue;
        }
        let Some(client) = clients.get(cert.client.as_str()).filter(|c| c.enabled) else {
            continue;
        };
        let Ok(hash) = hex::decode(&cert.sha256) else {
            tracing::warn!(serial = %cert.serial, "a KMIP certificate record has a malformed hash; ignoring it");
            continue;
        };
        map.insert(
            hash,
            KmipClient {
                name: client.name.clone(),
                project: client.project,
                operations: registry::operations_of(client),
            },
        );
    }
    map
}

#[async_trait::async_trait]
impl ClientDirectory for RecordDirectory {
    async fn client_for(&self, end_entity_cert_der: &[u8]) -> Option<KmipClient> {
        let key = digest(DigestAlgorithm::Sha256, end_entity_cert_der);
        self.by_certificate
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kms_core::ids::ProjectId;

    fn cert(client: &str, sha: u8, not_after: i64, revoked: bool) -> CertificateRecord {
        CertificateRecord {
            serial: format!("{sha:02x}"),
            client: client.into(),
            project: ProjectId::generate(),
            sha256: hex::encode([sha; 32]),
            issued_at: 0,
            not_after,
            revoked_at: revoked.then_some(5),
        }
    }

    #[test]
    fn only_live_certificates_of_enabled_clients_map() {
        let project = ProjectId::generate();
        let client = |name: &str, enabled| ClientRecord {
            name: name.into(),
            project,
            operations: vec!["Get".into()],
            enabled,
            created_at: 0,
        };
        let clients = [client("a", true), client("b", false)];
        let certs = [
            cert("a", 1, 100, false),
            cert("a", 2, 100, true),
            cert("a", 3, 5, false),
            cert("b", 4, 100, false),
            cert("nobody", 5, 100, false),
        ];
        let map = build(&clients, certs.iter(), 10);
        assert_eq!(map.len(), 1);
        let a = &map[&vec![1u8; 32]];
        assert_eq!((a.name.as_str(), a.project), ("a", project));
        assert_eq!(a.operations.len(), 1);
    }
}
