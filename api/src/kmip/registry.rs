//! What the KMIP front end keeps about itself, as records in the system
//! project (see `kms_core::service::Kms::put_record`).
//!
//! | kind | key | value |
//! |---|---|---|
//! | `kmip-ca` | `state` | [`CaState`]: the CA and server key object ids, the CA and server certificates (PEM), the server's host names |
//! | `kmip-client` | client name | [`ClientRecord`]: project, permitted operations, enabled |
//! | `kmip-certificate` | serial (hex) | [`CertificateRecord`]: client, project, SHA-256 of the DER, validity, revocation date |
//!
//! Rows are authenticated by kms-core, so a client record edited in the
//! database (to widen its operations, say) is refused, not served.

use std::collections::BTreeSet;

use anyhow::{Context, bail};
use kmip_server::operations::IMPLEMENTED;
use kmip_server::ttlv::enums::Operation;
use kms_core::ids::{ObjectId, ProjectId};
use kms_core::service::{Actor, Kms, Record};
use serde::{Deserialize, Serialize};

pub const CA_KIND: &str = "kmip-ca";
pub const CA_KEY: &str = "state";
pub const CLIENT_KIND: &str = "kmip-client";
pub const CERTIFICATE_KIND: &str = "kmip-certificate";

/// The KMIP CA and the listener's own certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaState {
    /// The CA's Private Key object (system project).
    pub ca_private_key: ObjectId,
    pub ca_certificate: String,
    /// The listener's Private Key object (system project), exported into
    /// memory at start for rustls.
    pub server_private_key: ObjectId,
    pub server_certificate: String,
    pub hostnames: Vec<String>,
}

/// A KMIP client: who it is, where it acts, what it may ask for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientRecord {
    pub name: String,
    pub project: ProjectId,
    /// KMIP operation names ("Create Key Pair").
    pub operations: Vec<String>,
    /// `false` once revoked: its certificates are on the CRL and no new one
    /// is issued.
    pub enabled: bool,
    pub created_at: i64,
}

/// One issued client certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateRecord {
    pub serial: String,
    pub client: String,
    pub project: ProjectId,
    /// Hex SHA-256 of the certificate DER: how the listener's directory
    /// finds the client of a verified certificate.
    pub sha256: String,
    pub issued_at: i64,
    pub not_after: i64,
    pub revoked_at: Option<i64>,
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses `create,get,locate` (KMIP operation names in any case, spaces,
/// `-` or `_` between words, or `all`) into the operations this server
/// implements.
pub fn parse_operations(list: &str) -> anyhow::Result<BTreeSet<Operation>> {
    let mut out = BTreeSet::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if word.eq_ignore_ascii_case("all") {
            out.extend(IMPLEMENTED.iter().copied());
            continue;
        }
        let wanted = normalise(word);
        let Some(op) = IMPLEMENTED
            .iter()
            .copied()
            .find(|op| op.kmip_name().is_some_and(|n| normalise(n) == wanted))
        else {
            let known: Vec<String> = IMPLEMENTED
                .iter()
                .filter_map(|op| op.kmip_name())
                .map(normalise)
                .collect();
            bail!(
                "unknown or unsupported KMIP operation {word:?}; use `all` or some of: {}",
                known.join(", ")
            );
        };
        out.insert(op);
    }
    if out.is_empty() {
        bail!("no operations given: name at least one (or `all`)");
    }
    Ok(out)
}

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Operations stored by name back into the set; an unknown name (written
/// by a later version) is dropped with a warning rather than granted.
pub fn operations_of(record: &ClientRecord) -> BTreeSet<Operation> {
    let mut out = BTreeSet::new();
    for name in &record.operations {
        match IMPLEMENTED.iter().find(|op| op.kmip_name() == Some(name)) {
            Some(op) => {
                out.insert(*op);
            }
            None => {
                tracing::warn!(client = %record.name, operation = %name, "ignoring an unknown operation in a KMIP client record")
            }
        }
    }
    out
}

pub fn operation_names(ops: &BTreeSet<Operation>) -> Vec<String> {
    ops.iter()
        .filter_map(|op| op.kmip_name().map(str::to_string))
        .collect()
}

/// Typed access to the records above.
#[derive(Clone)]
pub struct Registry {
    kms: Kms,
    project: ProjectId,
}

impl Registry {
    pub fn new(kms: &Kms) -> Self {
        Self {
            kms: kms.clone(),
            project: kms.system_project(),
        }
    }

    pub async fn ca_state(&self) -> anyhow::Result<Option<(CaState, i64)>> {
        typed(self.kms.record(self.project, CA_KIND, CA_KEY).await?)
    }

    pub async fn put_ca_state(
        &self,
        actor: &Actor,
        state: &CaState,
        expected: Option<i64>,
    ) -> anyhow::Result<i64> {
        self.kms
            .put_record(actor, self.project, CA_KIND, CA_KEY, state, expected)
            .await
            .context("cannot store the KMIP CA state")
    }

    pub async fn client(&self, name: &str) -> anyhow::Result<Option<(ClientRecord, i64)>> {
        typed(self.kms.record(self.project, CLIENT_KIND, name).await?)
    }

    pub async fn clients(&self) -> anyhow::Result<Vec<ClientRecord>> {
        all(self.kms.records(self.project, CLIENT_KIND).await?)
    }

    pub async fn put_client(
        &self,
        actor: &Actor,
        client: &ClientRecord,
        expected: Option<i64>,
    ) -> anyhow::Result<i64> {
        Ok(self
            .kms
            .put_record(
                actor,
                self.project,
                CLIENT_KIND,
                &client.name,
                client,
                expected,
            )
            .await?)
    }

    pub async fn certificates(&self) -> anyhow::Result<Vec<(CertificateRecord, i64)>> {
        self.kms
            .records(self.project, CERTIFICATE_KIND)
            .await?
            .into_iter()
            .map(|r| Ok((r.decode()?, r.revision)))
            .collect()
    }

    pub async fn put_certificate(
        &self,
        actor: &Actor,
        cert: &CertificateRecord,
        expected: Option<i64>,
    ) -> anyhow::Result<i64> {
        Ok(self
            .kms
            .put_record(
                actor,
                self.project,
                CERTIFICATE_KIND,
                &cert.serial,
                cert,
                expected,
            )
            .await?)
    }
}

fn typed<T: serde::de::DeserializeOwned>(
    record: Option<Record>,
) -> anyhow::Result<Option<(T, i64)>> {
    match record {
        Some(r) => Ok(Some((r.decode()?, r.revision))),
        None => Ok(None),
    }
}

fn all<T: serde::de::DeserializeOwned>(records: Vec<Record>) -> anyhow::Result<Vec<T>> {
    records.into_iter().map(|r| Ok(r.decode()?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_lists_parse() {
        let ops = parse_operations("create, GET,locate,create_key_pair,Create-Key-Pair").unwrap();
        assert_eq!(
            operation_names(&ops),
            ["Create", "Create Key Pair", "Locate", "Get"]
        );
        assert_eq!(parse_operations("all").unwrap().len(), IMPLEMENTED.len());
        assert!(parse_operations("create,drop_tables").is_err());
        assert!(parse_operations(" , ").is_err());
    }
}
