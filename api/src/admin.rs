//! The admin socket: how `strongroom root …` reaches a running server.
//!
//! A root rotation or migration must run inside the process that serves
//! requests: that process holds the unsealed root terms, seals new ones and
//! re-wraps project keys while it keeps serving. So `strongroom serve`
//! listens on a Unix socket, `admin.sock`, in the data directory, and the
//! command line sends its request there when a server is running. With no
//! server running, the command opens the install itself.
//!
//! Who may connect is decided by the file system: the socket is created
//! mode 0600 inside the 0700 data directory, so only the account that can
//! already read `root.seal` and the database can use it.
//!
//! The protocol is JSON lines. The client writes one [`Request`]; the
//! server answers with any number of [`Reply::Progress`] lines and ends with
//! one [`Reply::Rotated`], [`Reply::Migrated`] or [`Reply::Failed`]. If the
//! client goes away, the operation carries on in the server.
//!
//! The socket also guards the data directory: a second `strongroom serve`
//! on the same directory finds the first one listening and refuses to start.
//! A socket file left by a crashed server (nobody listening) is replaced.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use kms_core::ids::ProjectId;
use kms_core::service::{Actor, Kms, RotationProgress, RotationReport};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use crate::kmip::service::{ClientSummary, IssuedClientCertificate, KmipAdmin};
use crate::shutdown::ShutdownSignal;

/// The socket's file name in the data directory.
pub const SOCKET_NAME: &str = "admin.sock";
/// The longest request line accepted.
const MAX_REQUEST: u64 = 16 * 1024;
/// How long a client has to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Rotate the root key (or finish an interrupted rotation).
    RootRotate,
    /// Re-seal the root under the root of trust configured in `config`.
    RootMigrate {
        config: PathBuf,
    },
    /// Create a KMIP client.
    KmipClientCreate {
        name: String,
        project: ProjectId,
        operations: String,
    },
    /// Issue a certificate for a KMIP client on `public_key` (hex DER
    /// SubjectPublicKeyInfo; the command line keeps the private key).
    KmipClientCert {
        name: String,
        public_key: String,
        ttl_seconds: i64,
    },
    /// Disable a KMIP client and revoke its certificates.
    KmipClientRevoke {
        name: String,
    },
    KmipClientList,
}

/// What the server answers, one JSON line each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Reply {
    Progress {
        term: u32,
        rewrapped: u64,
        total: u64,
    },
    Rotated {
        term: u32,
        resumed: bool,
        rewrapped: u64,
        retired: Vec<u32>,
    },
    Migrated {
        to: String,
    },
    KmipClient {
        client: ClientSummary,
    },
    KmipCertificate {
        certificate: IssuedClientCertificate,
    },
    KmipRevoked {
        certificates: usize,
    },
    KmipClients {
        clients: Vec<ClientSummary>,
    },
    Failed {
        message: String,
    },
}

impl From<RotationReport> for Reply {
    fn from(r: RotationReport) -> Self {
        Reply::Rotated {
            term: r.term,
            resumed: r.resumed,
            rewrapped: r.rewrapped,
            retired: r.retired,
        }
    }
}

/// The socket path for `data_dir`.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

/// Binds the admin socket, refusing if a server already listens on it.
pub async fn bind(data_dir: &Path) -> anyhow::Result<UnixListener> {
    let path = socket_path(data_dir);
    if path.exists() {
        if UnixStream::connect(&path).await.is_ok() {
            bail!(
                "another strongroom server is running on {} (its admin socket {} answers)",
                data_dir.display(),
                path.display()
            );
        }
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot remove the stale admin socket {}", path.display()))?;
    }
    let listener = UnixListener::bind(&path)
        .with_context(|| format!("cannot create the admin socket {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict the admin socket {}", path.display()))?;
    Ok(listener)
}

/// Serves admin requests until `shutdown`, then removes the socket file.
pub async fn serve(
    listener: UnixListener,
    path: PathBuf,
    kms: Kms,
    kmip: Arc<KmipAdmin>,
    mut shutdown: ShutdownSignal,
) -> anyhow::Result<()> {
    let data_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let kms = kms.clone();
                    let kmip = kmip.clone();
                    let data_dir = data_dir.clone();
                    tokio::spawn(async move {
                        if let Err(e) = handle(stream, kms, kmip, data_dir).await {
                            tracing::warn!(error = format!("{e:#}"), "admin socket connection failed");
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "admin socket accept failed"),
            },
            _ = shutdown.triggered() => break,
        }
    }
    let _ = std::fs::remove_file(&path);
    Ok(())
}

async fn handle(
    stream: UnixStream,
    kms: Kms,
    kmip: Arc<KmipAdmin>,
    data_dir: PathBuf,
) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let request = match tokio::time::timeout(REQUEST_TIMEOUT, read_request(read)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            send(
                &mut write,
                &Reply::Failed {
                    message: format!("{e:#}"),
                },
            )
            .await?;
            return Ok(());
        }
        Err(_) => bail!("no request within {REQUEST_TIMEOUT:?}"),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    // The operation runs in its own task: it finishes even if the client
    // goes away.
    tokio::spawn(run(request, kms, kmip, data_dir, tx));
    while let Some(reply) = rx.recv().await {
        if send(&mut write, &reply).await.is_err() {
            break;
        }
    }
    Ok(())
}

async fn read_request(read: impl AsyncRead + Unpin) -> anyhow::Result<Request> {
    let mut line = String::new();
    BufReader::new(read.take(MAX_REQUEST))
        .read_line(&mut line)
        .await
        .context("cannot read the request")?;
    serde_json::from_str(line.trim_end()).context("not a valid admin request")
}

async fn run(
    request: Request,
    kms: Kms,
    kmip: Arc<KmipAdmin>,
    data_dir: PathBuf,
    replies: mpsc::UnboundedSender<Reply>,
) {
    let actor = Actor::new("admin-socket", None);
    let outcome = match request {
        Request::RootRotate => {
            let progress = {
                let replies = replies.clone();
                move |p: RotationProgress| {
                    let _ = replies.send(Reply::Progress {
                        term: p.term,
                        rewrapped: p.rewrapped,
                        total: p.total,
                    });
                }
            };
            kms.rotate_root(&actor, &progress)
                .await
                .map(Reply::from)
                .map_err(anyhow::Error::from)
        }
        Request::RootMigrate { config } => migrate(&kms, &actor, &config, &data_dir).await,
        kmip_request => crate::kmip::commands::execute(&kmip, &actor, kmip_request).await,
    };
    let reply = outcome.unwrap_or_else(|e| Reply::Failed {
        message: format!("{e:#}"),
    });
    let _ = replies.send(reply);
}

async fn migrate(
    kms: &Kms,
    actor: &Actor,
    config: &Path,
    data_dir: &Path,
) -> anyhow::Result<Reply> {
    let to = crate::root::migration_target(config, data_dir).await?;
    let shown = to.describe();
    kms.migrate_root(actor, to).await?;
    Ok(Reply::Migrated { to: shown })
}

async fn send(write: &mut (impl AsyncWriteExt + Unpin), reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
    line.push(b'\n');
    write.write_all(&line).await
}

/// Sends `request` to the server running on `data_dir`, if one is, and
/// calls `on_reply` for every reply until the last. `Ok(None)` when no
/// server is listening.
pub async fn request(
    data_dir: &Path,
    request: &Request,
    mut on_reply: impl FnMut(&Reply),
) -> anyhow::Result<Option<Reply>> {
    let path = socket_path(data_dir);
    let stream = match UnixStream::connect(&path).await {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot reach the server at {}", path.display()));
        }
    };
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    write.write_all(&line).await?;
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let reply: Reply = serde_json::from_str(&line)
            .with_context(|| format!("unexpected answer from the server: {line}"))?;
        on_reply(&reply);
        if !matches!(reply, Reply::Progress { .. }) {
            return Ok(Some(reply));
        }
    }
    bail!("the server closed the admin connection before answering")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_are_json_lines() {
        let r = serde_json::to_string(&Request::RootRotate).unwrap();
        assert_eq!(r, r#"{"command":"root-rotate"}"#);
        let back: Request =
            serde_json::from_str(r#"{"command":"root-migrate","config":"/x.toml"}"#).unwrap();
        assert_eq!(
            back,
            Request::RootMigrate {
                config: "/x.toml".into()
            }
        );
        assert!(serde_json::from_str::<Request>(r#"{"command":"drop-tables"}"#).is_err());
        let p = serde_json::to_string(&Reply::Progress {
            term: 2,
            rewrapped: 1,
            total: 3,
        })
        .unwrap();
        assert_eq!(
            p,
            r#"{"reply":"progress","term":2,"rewrapped":1,"total":3}"#
        );
    }
}
