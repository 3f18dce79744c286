//! Dev mode's KMIP admin client.
//!
//! On a dev start the server makes sure a client named `admin` exists in the
//! default project with every operation, and that `DATA/kmip/` holds a
//! current certificate for it:
//!
//! ```text
//! DATA/kmip/           0700
//!   client.pem               the admin client certificate
//!   client.key         0600  its private key (dev mode only)
//!   ca.pem                   the KMIP CA, which also issued the server certificate
//! ```
//!
//! The files are reissued when the CA changed, the certificate has less than
//! a week left, or any of them is missing.

use std::path::{Path, PathBuf};

use ::pki::x509::{IssuedCertificate, generate_p256};
use kms_core::ids::ProjectId;
use kms_core::service::Actor;
use time::{Duration, OffsetDateTime};

use super::commands::write_certificate;
use super::service::KmipAdmin;

/// The dev admin client's name.
pub const ADMIN_CLIENT: &str = "admin";
const DEV_LIFETIME: Duration = Duration::days(365);
const RENEW_BEFORE: Duration = Duration::days(7);

/// Where the dev KMIP client files are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevKmipFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub ca_certificate: PathBuf,
}

impl DevKmipFiles {
    pub fn in_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("kmip");
        Self {
            certificate: dir.join("client.pem"),
            key: dir.join("client.key"),
            ca_certificate: dir.join("ca.pem"),
        }
    }
}

/// Makes sure the admin client and its files exist and are current.
pub async fn ensure_admin_client(
    admin: &KmipAdmin,
    data_dir: &Path,
    project: ProjectId,
) -> anyhow::Result<DevKmipFiles> {
    let files = DevKmipFiles::in_dir(data_dir);
    let actor = Actor::system();
    if admin.pki().registry().client(ADMIN_CLIENT).await?.is_none() {
        admin
            .create_client(&actor, ADMIN_CLIENT, project, "all")
            .await?;
    }
    if current(&files, admin.pki().ca_pem()) {
        return Ok(files);
    }
    let key = generate_p256()?;
    let der = der::Encode::to_der(key.public_key())?;
    let issued = admin
        .issue_certificate(&actor, ADMIN_CLIENT, &der, DEV_LIFETIME)
        .await?;
    write_certificate(
        files.certificate.parent().unwrap_or(data_dir),
        &issued.certificate_pem,
        &issued.ca_pem,
        Some(&key),
    )?;
    tracing::info!(dir = %data_dir.join("kmip").display(), "issued the dev KMIP admin client certificate");
    Ok(files)
}

/// Whether the files exist, name this CA, and the certificate lasts a while.
fn current(files: &DevKmipFiles, ca_pem: &str) -> bool {
    if !files.key.exists() {
        return false;
    }
    let Ok(ca) = std::fs::read_to_string(&files.ca_certificate) else {
        return false;
    };
    let Ok(cert) = std::fs::read_to_string(&files.certificate) else {
        return false;
    };
    ca == ca_pem
        && IssuedCertificate::from_pem(&cert)
            .is_ok_and(|c| c.not_after() - OffsetDateTime::now_utc() > RENEW_BEFORE)
}
