//! Dev mode's zero-configuration start: the install, its TLS certificates, a
//! default organization and project, and `bootstrap.json`, which tells
//! scripts and tests where everything is.
//!
//! First start: `Kms::init` with a generated key file, a development CA and
//! server certificate, an organization and a project named `default`. Later
//! starts reuse all of it.
//!
//! ```text
//! DATA/                    0700
//!   root.key               0600  dev root key (stands in for a passphrase)
//!   root.seal                    the sealed root key (kms-core)
//!   strongroom.db                SQLite (unless a database URL is configured)
//!   tls/                   0700
//!     ca.pem                     the CA that verifies the HTTPS API server
//!     ca.key               0600  its key, to issue more dev certificates
//!     server.pem, server.key     the server certificate and key (0600)
//!   kmip/                  0700  the admin KMIP client (see `kmip::dev`)
//!     client.pem, client.key     its certificate and key (0600)
//!     ca.pem                     the KMIP CA
//!   bootstrap.json         0600  see [`Bootstrap`]
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use kms_core::hierarchy::seal_file;
use kms_core::ids::{OrganizationId, ProjectId};
use kms_core::service::{Actor, Kms, OpenOptions};
use serde::{Deserialize, Serialize};

use crate::config::TlsFiles;
use crate::fsutil;

/// The file name of the bootstrap document in the data directory.
pub const BOOTSTRAP_FILE: &str = "bootstrap.json";
/// The name of the organization and of the project dev mode creates.
pub const DEFAULT_NAME: &str = "default";

/// `bootstrap.json`. The keys are camelCase and scripts rely on them.
/// Readers must ignore keys they do not know.
///
/// `identityClientId` and `identityClientSecret` are the Universal Auth
/// credentials of the install's first identity (super admin, admin of
/// `organizationId`): log in with them at
/// `POST /api/v1/auth/universal-auth/login`. The secret is generated once
/// and written only here (the server keeps its Argon2id hash).
///
/// Two CAs: `caCertificate` is the development CA that issued the HTTPS
/// API's certificate (its key is a file in `DATA/tls`); `kmipCaCertificate`
/// is the KMIP CA (its key a managed key in the system project), which
/// issued the KMIP server certificate and `kmipClientCertificate`. A KMIP
/// client trusts `kmipCaCertificate` and presents `kmipClientCertificate`
/// with `kmipClientKey`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bootstrap {
    /// `https://HOST:PORT` of the HTTPS API, with the port actually bound.
    pub api_url: String,
    /// `HOST:PORT` of the KMIP listener.
    pub kmip_address: String,
    /// Path of the PEM CA certificate that verifies the HTTPS API server.
    pub ca_certificate: PathBuf,
    /// The KMIP CA certificate (PEM): verifies the KMIP server. (Absent from
    /// files written before the KMIP listener existed, hence the defaults.)
    #[serde(default)]
    pub kmip_ca_certificate: PathBuf,
    /// The dev admin KMIP client: all operations, in `projectId`.
    #[serde(default)]
    pub kmip_client_certificate: PathBuf,
    /// Its private key (PEM, 0600).
    #[serde(default)]
    pub kmip_client_key: PathBuf,
    pub organization_id: OrganizationId,
    /// A default project the admin administers.
    pub project_id: ProjectId,
    /// `HOST:PORT` of the HTTPS API.
    #[serde(default)]
    pub api_address: String,
    /// The first identity's Universal Auth client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_client_id: Option<String>,
    /// Its client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_client_secret: Option<FileSecret>,
}

/// A credential that is written to a 0600 file: zeroized on drop, never in
/// `Debug`.
#[derive(
    Clone, PartialEq, Eq, Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop,
)]
#[serde(transparent)]
pub struct FileSecret(String);

impl FileSecret {
    pub fn new(secret: &secrecy::SecretString) -> Self {
        use secrecy::ExposeSecret;
        Self(secret.expose_secret().to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for FileSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileSecret(***)")
    }
}

impl Bootstrap {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(BOOTSTRAP_FILE)
    }

    /// Reads an existing `bootstrap.json`; `None` if there is none or it is
    /// unreadable (dev mode then recreates what it needs).
    pub fn load(data_dir: &Path) -> Option<Self> {
        let text = std::fs::read(Self::path(data_dir)).ok()?;
        match serde_json::from_slice(&text) {
            Ok(b) => Some(b),
            Err(e) => {
                tracing::warn!(error = %e, "ignoring an unreadable {BOOTSTRAP_FILE}");
                None
            }
        }
    }

    /// Writes it atomically, mode 0600.
    pub fn store(&self, data_dir: &Path) -> anyhow::Result<PathBuf> {
        let path = Self::path(data_dir);
        // It holds the first identity's secret: zeroized once written.
        let mut json = zeroize::Zeroizing::new(
            serde_json::to_vec_pretty(self).context("cannot encode bootstrap.json")?,
        );
        json.push(b'\n');
        fsutil::write_atomic(&path, &json, 0o600)?;
        Ok(path)
    }
}

/// Where the dev TLS files are.
#[derive(Clone, Debug)]
pub struct DevTlsPaths {
    pub ca_certificate: PathBuf,
    pub ca_key: PathBuf,
    pub server: TlsFiles,
}

impl DevTlsPaths {
    pub fn in_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("tls");
        Self {
            ca_certificate: dir.join("ca.pem"),
            ca_key: dir.join("ca.key"),
            server: TlsFiles {
                cert: dir.join("server.pem"),
                key: dir.join("server.key"),
            },
        }
    }
}

/// Reuses the dev TLS files in `DATA/tls`, or generates them when any of the
/// CA certificate, server certificate or server key is missing.
pub fn ensure_dev_tls(data_dir: &Path) -> anyhow::Result<DevTlsPaths> {
    let paths = DevTlsPaths::in_dir(data_dir);
    let needed = [&paths.ca_certificate, &paths.server.cert, &paths.server.key];
    if needed.iter().all(|p| p.exists()) {
        for key in [&paths.server.key, &paths.ca_key] {
            if let Some(mode) = fsutil::loose_mode(key) {
                tracing::warn!(
                    "{} is accessible to other users (mode {mode:03o}); run: chmod 600 {}",
                    key.display(),
                    key.display()
                );
            }
        }
        return Ok(paths);
    }
    if needed.iter().any(|p| p.exists()) {
        tracing::warn!(
            "the dev TLS files in {} are incomplete; generating a new CA and server certificate",
            data_dir.join("tls").display()
        );
    }
    let dir = data_dir.join("tls");
    fsutil::ensure_dir(&dir, 0o700)?;
    let tls = pki::dev_tls::generate()?;
    fsutil::write_atomic(&paths.ca_key, tls.ca_key_pem.as_bytes(), 0o600)?;
    fsutil::write_atomic(&paths.server.key, tls.server_key_pem.as_bytes(), 0o600)?;
    fsutil::write_atomic(
        &paths.server.cert,
        tls.server_certificate_pem.as_bytes(),
        0o644,
    )?;
    // Last: its presence marks the set as complete.
    fsutil::write_atomic(
        &paths.ca_certificate,
        tls.ca_certificate_pem.as_bytes(),
        0o644,
    )?;
    tracing::info!(ca = %paths.ca_certificate.display(), "generated a development CA and server certificate");
    Ok(paths)
}

/// Opens the dev install, or creates it on first start (with a new key file).
/// Returns the service and whether it was created now.
pub async fn open_or_init(opts: &OpenOptions) -> anyhow::Result<(Kms, bool)> {
    let data_dir = &opts.data_dir;
    let initialised = data_dir.join(seal_file::FILE_NAME).exists();
    if initialised {
        let root = crate::root::dev_root(data_dir, false)?;
        let kms = Kms::open(opts, root)
            .await
            .with_context(|| format!("cannot open the dev install in {}", data_dir.display()))?;
        Ok((kms, false))
    } else {
        let root = crate::root::dev_root(data_dir, true)?;
        let kms = Kms::init(opts, root)
            .await
            .with_context(|| format!("cannot create a dev install in {}", data_dir.display()))?;
        Ok((kms, true))
    }
}

/// The default organization and project: those named in an existing
/// `bootstrap.json`, unless the install was created just now.
pub async fn default_tenancy(
    kms: &Kms,
    data_dir: &Path,
    fresh: bool,
) -> anyhow::Result<(OrganizationId, ProjectId)> {
    if !fresh && let Some(existing) = Bootstrap::load(data_dir) {
        return Ok((existing.organization_id, existing.project_id));
    }
    let actor = Actor::system();
    let organization = kms
        .create_organization(&actor, DEFAULT_NAME)
        .await
        .context("cannot create the default organization")?;
    let project = kms
        .create_project(&actor, organization, DEFAULT_NAME)
        .await
        .context("cannot create the default project")?;
    tracing::info!(%organization, %project, "created the default organization and project");
    Ok((organization, project))
}

/// The install's first identity: reused when `bootstrap.json` names one the
/// server still knows (its secret is only in that file), else created —
/// super admin, admin of `organization`, Universal Auth with default
/// settings, one client secret without limits. Also records the
/// organization for `GET /api/v1/organizations`.
pub async fn ensure_admin_identity(
    kms: &Kms,
    previous: Option<&Bootstrap>,
    organization: OrganizationId,
) -> anyhow::Result<(String, FileSecret)> {
    use crate::http::auth::provision;
    use crate::http::auth::records::{self, OrgRole, Records, UniversalAuth};
    let actor = Actor::system();
    let org = *organization.as_uuid();
    crate::http::routes::organizations::remember(kms, &actor, org, DEFAULT_NAME)
        .await
        .map_err(|e| anyhow::anyhow!("cannot record the default organization: {e}"))?;
    if let Some(b) = previous
        && let (Some(id), Some(secret)) = (&b.identity_client_id, &b.identity_client_secret)
        && Records::system(kms)
            .get::<UniversalAuth>(records::UNIVERSAL_AUTH, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .is_some()
    {
        return Ok((id.clone(), secret.clone()));
    }
    let created = async {
        let identity =
            provision::create_identity(kms, &actor, "admin", org, OrgRole::Admin, true).await?;
        let config = provision::default_universal_auth(identity.id);
        provision::attach_universal_auth(kms, &actor, &identity, 1, &config).await?;
        let limits = provision::SecretLimits {
            description: "bootstrap".into(),
            ttl: 0,
            num_uses_limit: 0,
        };
        let (_, secret) = provision::create_client_secret(kms, &actor, identity.id, limits).await?;
        Ok::<_, crate::http::ApiError>((config.client_id.to_string(), FileSecret::new(&secret)))
    };
    let (id, secret) = created
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the first identity: {e}"))?;
    tracing::info!(client_id = %id, "created the first identity (super admin); its credentials are in {BOOTSTRAP_FILE}");
    Ok((id, secret))
}

/// How clients reach a listener bound to `addr`: an unspecified address
/// (`0.0.0.0`, `::`) is reached through the loopback of its family.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// `https://HOST:PORT` for a bound address (IPv6 in brackets).
pub fn https_url(addr: SocketAddr) -> String {
    format!("https://{}", reachable(addr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn urls_use_loopback_for_unspecified() {
        assert_eq!(
            https_url("0.0.0.0:8443".parse().unwrap()),
            "https://127.0.0.1:8443"
        );
        assert_eq!(
            https_url("[::]:8443".parse().unwrap()),
            "https://[::1]:8443"
        );
        assert_eq!(
            https_url("10.0.0.1:1".parse().unwrap()),
            "https://10.0.0.1:1"
        );
    }

    #[test]
    fn bootstrap_json_shape() {
        let dir = tempfile::tempdir().unwrap();
        let b = Bootstrap {
            api_url: "https://127.0.0.1:1".into(),
            kmip_address: "127.0.0.1:5696".into(),
            ca_certificate: dir.path().join("tls/ca.pem"),
            kmip_ca_certificate: dir.path().join("kmip/ca.pem"),
            kmip_client_certificate: dir.path().join("kmip/client.pem"),
            kmip_client_key: dir.path().join("kmip/client.key"),
            organization_id: OrganizationId::generate(),
            project_id: ProjectId::generate(),
            api_address: "127.0.0.1:1".into(),
            identity_client_id: Some("c".into()),
            identity_client_secret: Some(FileSecret("s".into())),
        };
        assert!(!format!("{b:?}").contains("\"s\""));
        let path = b.store(dir.path()).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "apiAddress",
                "apiUrl",
                "caCertificate",
                "identityClientId",
                "identityClientSecret",
                "kmipAddress",
                "kmipCaCertificate",
                "kmipClientCertificate",
                "kmipClientKey",
                "organizationId",
                "projectId"
            ]
        );
        assert_eq!(Bootstrap::load(dir.path()).unwrap(), b);
    }

    #[test]
    fn dev_tls_is_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = ensure_dev_tls(dir.path()).unwrap();
        let ca = std::fs::read(&first.ca_certificate).unwrap();
        for key in [&first.ca_key, &first.server.key] {
            assert_eq!(std::fs::metadata(key).unwrap().mode() & 0o777, 0o600);
        }
        assert_eq!(
            std::fs::metadata(dir.path().join("tls")).unwrap().mode() & 0o777,
            0o700
        );
        let second = ensure_dev_tls(dir.path()).unwrap();
        assert_eq!(std::fs::read(&second.ca_certificate).unwrap(), ca);
        // A missing server key regenerates the set.
        std::fs::remove_file(&second.server.key).unwrap();
        let third = ensure_dev_tls(dir.path()).unwrap();
        assert_ne!(std::fs::read(&third.ca_certificate).unwrap(), ca);
        assert!(third.server.key.exists());
    }
}
