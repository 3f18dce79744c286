//! KMIP administration: create clients, issue and revoke their
//! certificates, list them, and keep a running listener's directory and CRL
//! in step.
//!
//! The same [`KmipAdmin`] runs inside the server (reached through the admin
//! socket, with a [`Live`] listener to update) and inside the command line
//! when no server runs (records only; the server reads them at its next
//! start). A running server also reloads every [`RELOAD_INTERVAL`], so a
//! change made by another node sharing the database is picked up.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kms_core::crypto::digest::{DigestAlgorithm, digest};
use kms_core::ids::ProjectId;
use kms_core::service::{Actor, Kms};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, watch};

use super::directory::RecordDirectory;
use super::pki::KmipPki;
use super::registry::{self, CertificateRecord, ClientRecord, Registry};

/// How often a running server re-reads the KMIP records.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// What a listener needs updated when the records change.
pub struct Live {
    pub tls: watch::Sender<Arc<rustls::ServerConfig>>,
    pub directory: Arc<RecordDirectory>,
    /// The serials on the CRL the listener has now, and when it was signed.
    crl: Mutex<(BTreeSet<String>, Instant)>,
}

/// A CRL this old is re-signed at the next reload even if nothing changed,
/// so the listener's CRL never reaches its nextUpdate (7 days).
const CRL_REFRESH: Duration = Duration::from_secs(24 * 3600);

/// A certificate just issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuedClientCertificate {
    pub certificate_pem: String,
    pub ca_pem: String,
    pub serial: String,
    pub not_after: i64,
}

/// One line of `kmip client list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientSummary {
    pub name: String,
    pub project: ProjectId,
    pub operations: Vec<String>,
    pub enabled: bool,
    /// Certificates neither revoked nor expired.
    pub live_certificates: usize,
}

pub struct KmipAdmin {
    kms: Kms,
    pki: KmipPki,
    live: Option<Live>,
}

impl KmipAdmin {
    pub fn new(kms: &Kms, pki: KmipPki) -> Self {
        Self {
            kms: kms.clone(),
            pki,
            live: None,
        }
    }

    fn registry(&self) -> &Registry {
        self.pki.registry()
    }

    pub fn pki(&self) -> &KmipPki {
        &self.pki
    }

    /// Builds the listener's first TLS configuration and directory, and
    /// keeps them for later updates. Returns what the listener takes.
    pub async fn go_live(
        &mut self,
    ) -> anyhow::Result<(
        watch::Receiver<Arc<rustls::ServerConfig>>,
        Arc<RecordDirectory>,
    )> {
        let certificates = self.certificates().await?;
        let crl = self.pki.crl(&certificates).await?;
        let config = self.pki.tls_config(crl).await?;
        let (tx, rx) = watch::channel(config);
        let directory = Arc::new(RecordDirectory::new(self.registry().clone()));
        directory.refresh().await?;
        self.live = Some(Live {
            tls: tx,
            directory: directory.clone(),
            crl: Mutex::new((revoked_serials(&certificates), Instant::now())),
        });
        Ok((rx, directory))
    }

    async fn certificates(&self) -> anyhow::Result<Vec<CertificateRecord>> {
        Ok(self
            .registry()
            .certificates()
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .collect())
    }

    /// Re-reads the records into the directory and, if the set of revoked
    /// certificates changed (or the CRL is a day old), signs a new CRL and
    /// swaps the listener's TLS configuration. Without a live listener it
    /// does nothing.
    pub async fn reload(&self) -> anyhow::Result<()> {
        let Some(live) = &self.live else {
            return Ok(());
        };
        live.directory.refresh().await?;
        let certificates = self.certificates().await?;
        let now_revoked = revoked_serials(&certificates);
        let mut current = live.crl.lock().await;
        if current.0 != now_revoked || current.1.elapsed() > CRL_REFRESH {
            let crl = self.pki.crl(&certificates).await?;
            live.tls.send_replace(self.pki.tls_config(crl).await?);
            tracing::info!(revoked = now_revoked.len(), "KMIP CRL updated");
            *current = (now_revoked, Instant::now());
        }
        Ok(())
    }

    /// Reloads every [`RELOAD_INTERVAL`] until the process ends; a failed
    /// reload is logged and retried at the next tick.
    pub fn spawn_reloader(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RELOAD_INTERVAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = this.reload().await {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "KMIP reload failed; keeping the current clients and CRL"
                    );
                }
            }
        })
    }

    /// Creates client `name` in `project` with `operations`.
    pub async fn create_client(
        &self,
        actor: &Actor,
        name: &str,
        project: ProjectId,
        operations: &str,
    ) -> anyhow::Result<ClientSummary> {
        ::pki::x509::validate_client_name(name)?;
        let ops = registry::parse_operations(operations)?;
        if project == self.kms.system_project() {
            bail!("KMIP clients cannot act in the system project");
        }
        if self.kms.store().project(project).await?.is_none() {
            bail!("project {project} not found");
        }
        if self.registry().client(name).await?.is_some() {
            bail!("a KMIP client named {name:?} already exists");
        }
        let record = ClientRecord {
            name: name.to_string(),
            project,
            operations: registry::operation_names(&ops),
            enabled: true,
            created_at: registry::now(),
        };
        self.registry().put_client(actor, &record, None).await?;
        self.reload().await?;
        Ok(summary(&record, 0))
    }

    /// Issues a certificate for client `name` on `public_key` (DER SPKI).
    pub async fn issue_certificate(
        &self,
        actor: &Actor,
        name: &str,
        public_key_der: &[u8],
        lifetime: time::Duration,
    ) -> anyhow::Result<IssuedClientCertificate> {
        use der::Decode;
        let Some((client, _)) = self.registry().client(name).await? else {
            bail!(
                "no KMIP client named {name:?}; create it first with `strongroom kmip client create`"
            );
        };
        if !client.enabled {
            bail!("KMIP client {name:?} was revoked; create a new client instead");
        }
        let public_key = ::pki::x509::SubjectPublicKeyInfoOwned::from_der(public_key_der)
            .context("the public key is not a DER SubjectPublicKeyInfo")?;
        let issued = self.pki.issue_client(&public_key, name, lifetime).await?;
        let record = CertificateRecord {
            serial: issued.serial_hex(),
            client: name.to_string(),
            project: client.project,
            sha256: hex::encode(digest(DigestAlgorithm::Sha256, issued.der())),
            issued_at: registry::now(),
            not_after: issued.not_after().unix_timestamp(),
            revoked_at: None,
        };
        self.registry()
            .put_certificate(actor, &record, None)
            .await?;
        self.reload().await?;
        Ok(IssuedClientCertificate {
            certificate_pem: issued.pem()?,
            ca_pem: self.pki.ca_pem().to_string(),
            serial: record.serial,
            not_after: record.not_after,
        })
    }

    /// Disables client `name` and revokes every certificate it holds.
    /// Returns how many certificates were revoked now.
    pub async fn revoke_client(&self, actor: &Actor, name: &str) -> anyhow::Result<usize> {
        let Some((mut client, revision)) = self.registry().client(name).await? else {
            bail!("no KMIP client named {name:?}");
        };
        if client.enabled {
            client.enabled = false;
            self.registry()
                .put_client(actor, &client, Some(revision))
                .await?;
        }
        let now = registry::now();
        let mut revoked = 0;
        for (mut cert, revision) in self.registry().certificates().await? {
            if cert.client == name && cert.revoked_at.is_none() {
                cert.revoked_at = Some(now);
                self.registry()
                    .put_certificate(actor, &cert, Some(revision))
                    .await?;
                revoked += 1;
            }
        }
        self.reload().await?;
        Ok(revoked)
    }

    pub async fn list_clients(&self) -> anyhow::Result<Vec<ClientSummary>> {
        let certificates = self.certificates().await?;
        let now = registry::now();
        Ok(self
            .registry()
            .clients()
            .await?
            .iter()
            .map(|c| {
                let live = certificates
                    .iter()
                    .filter(|k| k.client == c.name && k.revoked_at.is_none() && k.not_after >= now)
                    .count();
                summary(c, live)
            })
            .collect())
    }
}

fn summary(c: &ClientRecord, live_certificates: usize) -> ClientSummary {
    ClientSummary {
        name: c.name.clone(),
        project: c.project,
        operations: c.operations.clone(),
        enabled: c.enabled,
        live_certificates,
    }
}

fn revoked_serials(certificates: &[CertificateRecord]) -> BTreeSet<String> {
    certificates
        .iter()
        .filter(|c| c.revoked_at.is_some())
        .map(|c| c.serial.clone())
        .collect()
}
