//! `strongroom kmip client create | cert | revoke | list`.
//!
//! Each command becomes an admin [`Request`]. With a server running on the
//! data directory the request goes through its admin socket, so the
//! listener's directory and CRL change at once; otherwise the command opens
//! the install and applies it to the records itself (the server reads them
//! when it starts). Either way [`execute`] does the work.
//!
//! `cert` never sends a private key anywhere: without `--csr` the key pair
//! is generated here, in the command's process, and only the public key
//! goes to the server; `client.key` is written 0600.

use std::path::{Path, PathBuf};

use ::pki::x509::{GeneratedKeyPair, generate_p256, parse_csr};
use anyhow::{Context, bail};
use kms_core::ids::ProjectId;
use kms_core::service::Actor;

use super::pki::KmipPki;
use super::service::{ClientSummary, KmipAdmin};
use crate::admin::{self, Reply, Request};
use crate::config::Config;
use crate::{fsutil, install};

/// Default lifetime of a client certificate.
pub const DEFAULT_TTL: &str = "90d";
/// Largest CSR file read.
const MAX_CSR: u64 = 64 * 1024;

/// A parsed `kmip client …` command.
#[derive(Debug)]
pub enum KmipCommand {
    Create {
        name: String,
        project: ProjectId,
        operations: String,
    },
    Cert {
        name: String,
        out: PathBuf,
        csr: Option<PathBuf>,
        ttl: std::time::Duration,
    },
    Revoke {
        name: String,
    },
    List,
}

/// Runs a KMIP administration request against `kmip` (in the server, or
/// locally).
pub async fn execute(kmip: &KmipAdmin, actor: &Actor, request: Request) -> anyhow::Result<Reply> {
    match request {
        Request::KmipClientCreate {
            name,
            project,
            operations,
        } => Ok(Reply::KmipClient {
            client: kmip
                .create_client(actor, &name, project, &operations)
                .await?,
        }),
        Request::KmipClientCert {
            name,
            public_key,
            ttl_seconds,
        } => {
            let der = hex::decode(&public_key).context("the public key is not hex")?;
            if ttl_seconds <= 0 {
                bail!("the certificate lifetime must be positive");
            }
            let certificate = kmip
                .issue_certificate(actor, &name, &der, time::Duration::seconds(ttl_seconds))
                .await?;
            Ok(Reply::KmipCertificate { certificate })
        }
        Request::KmipClientRevoke { name } => Ok(Reply::KmipRevoked {
            certificates: kmip.revoke_client(actor, &name).await?,
        }),
        Request::KmipClientList => Ok(Reply::KmipClients {
            clients: kmip.list_clients().await?,
        }),
        other => bail!("not a KMIP request: {other:?}"),
    }
}

/// `strongroom kmip client …`.
pub async fn run(mut config: Config, command: KmipCommand) -> anyhow::Result<()> {
    install::prepare_data_dir(&mut config, false)?;
    let mut generated: Option<GeneratedKeyPair> = None;
    let (request, out) = match command {
        KmipCommand::Create {
            name,
            project,
            operations,
        } => (
            Request::KmipClientCreate {
                name,
                project,
                operations,
            },
            None,
        ),
        KmipCommand::Cert {
            name,
            out,
            csr,
            ttl,
        } => {
            let public_key = match &csr {
                Some(path) => csr_public_key(path)?,
                None => {
                    let pair = generate_p256()?;
                    let der = der::Encode::to_der(pair.public_key())?;
                    generated = Some(pair);
                    der
                }
            };
            let ttl_seconds = i64::try_from(ttl.as_secs()).context("--ttl is too long")?;
            (
                Request::KmipClientCert {
                    name,
                    public_key: hex::encode(public_key),
                    ttl_seconds,
                },
                Some(out),
            )
        }
        KmipCommand::Revoke { name } => (Request::KmipClientRevoke { name }, None),
        KmipCommand::List => (Request::KmipClientList, None),
    };
    let reply = match admin::request(&config.data_dir, &request, |_| {}).await? {
        Some(reply) => reply,
        None => local(&config, request).await?,
    };
    show(reply, out.as_deref(), generated.as_ref())
}

/// Applies `request` with no server running.
async fn local(config: &Config, request: Request) -> anyhow::Result<Reply> {
    let kms = install::open_existing(config).await?;
    let result = async {
        let pki =
            KmipPki::ensure(&kms, &config.kmip.hostnames, config.kmip.ca_key_location()).await?;
        let admin = KmipAdmin::new(&kms, pki);
        execute(&admin, &Actor::new("cli", None), request).await
    }
    .await;
    kms.close().await;
    result
}

fn csr_public_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .with_context(|| format!("cannot read the CSR {}", path.display()))?
        .take(MAX_CSR + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CSR {
        bail!("the CSR {} is larger than {MAX_CSR} bytes", path.display());
    }
    let csr = parse_csr(&bytes).with_context(|| format!("the CSR {}", path.display()))?;
    Ok(der::Encode::to_der(csr.public_key())?)
}

fn show(
    reply: Reply,
    out: Option<&Path>,
    generated: Option<&GeneratedKeyPair>,
) -> anyhow::Result<()> {
    match reply {
        Reply::KmipClient { client } => {
            println!("created KMIP client {}", line(&client));
        }
        Reply::KmipCertificate { certificate } => {
            let out = out.context("a certificate needs an output directory")?;
            write_certificate(
                out,
                &certificate.certificate_pem,
                &certificate.ca_pem,
                generated,
            )?;
            let expires = time::OffsetDateTime::from_unix_timestamp(certificate.not_after)?;
            println!(
                "issued certificate {} (valid until {expires}) into {}",
                certificate.serial,
                out.display()
            );
        }
        Reply::KmipRevoked { certificates } => {
            println!(
                "revoked the client and {certificates} certificate(s); new handshakes with them are refused"
            );
        }
        Reply::KmipClients { clients } => {
            for c in &clients {
                println!("{}", line(c));
            }
        }
        Reply::Failed { message } => bail!("{message}"),
        other => bail!("unexpected answer from the server: {other:?}"),
    }
    Ok(())
}

fn line(c: &ClientSummary) -> String {
    format!(
        "{} project={} operations={} enabled={} certificates={}",
        c.name,
        c.project,
        c.operations.join(","),
        c.enabled,
        c.live_certificates
    )
}

/// Writes `client.pem`, `ca.pem` and (for a generated key) `client.key`
/// (0600) into `out`, creating it 0700 if needed.
pub fn write_certificate(
    out: &Path,
    certificate_pem: &str,
    ca_pem: &str,
    key: Option<&GeneratedKeyPair>,
) -> anyhow::Result<()> {
    fsutil::ensure_dir(out, 0o700)?;
    if let Some(key) = key {
        let pem = key.private_key_pem()?;
        fsutil::write_atomic(&out.join("client.key"), pem.as_bytes(), 0o600)?;
    }
    fsutil::write_atomic(&out.join("client.pem"), certificate_pem.as_bytes(), 0o644)?;
    fsutil::write_atomic(&out.join("ca.pem"), ca_pem.as_bytes(), 0o644)?;
    Ok(())
}
