//! Chooses and builds the root of trust from the configuration.
//!
//! * Dev mode: the software root with a generated key file, `root.key` in the
//!   data directory (0600), standing in for a passphrase.
//! * Otherwise, `[root] provider` picks the provider: `software`, whose
//!   passphrase comes from `STRONGROOM_ROOT_PASSPHRASE` or from
//!   `root.passphrase_file` — never from a command-line argument, which
//!   other users could read from the process list — or `pkcs11`, `aws-kms`
//!   or `gcp-kms` (the `hsm` crate), whose credentials come from their own
//!   standard sources, never from this configuration.
//!
//! Secrets read here go straight into [`secrecy`] / [`zeroize`] types.

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use kms_core::hierarchy::RootOfTrust;
use kms_core::hierarchy::software::SoftwareRoot;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::config::{Config, RootConfig, env};

/// The key file of dev mode, inside the data directory.
pub const DEV_KEY_FILE: &str = "root.key";

/// Longest passphrase file read (a passphrase, not a document).
const MAX_PASSPHRASE_FILE: u64 = 64 * 1024;

/// The dev-mode root: opens `DATA/root.key`, creating it first when `create`
/// is true and it does not exist. A key file readable by others is refused.
pub fn dev_root(data_dir: &Path, create: bool) -> anyhow::Result<Arc<dyn RootOfTrust>> {
    let path = data_dir.join(DEV_KEY_FILE);
    let root = if create && !path.exists() {
        SoftwareRoot::create_key_file(&path)
            .with_context(|| format!("cannot create the dev root key file {}", path.display()))?
    } else {
        SoftwareRoot::from_key_file(&path).context("cannot use the dev root key file")?
    };
    Ok(Arc::new(root))
}

/// The configured root of trust of a production install. With `create`
/// (`strongroom init`), an HSM provider first generates its root-wrapping
/// key inside the token.
pub async fn configured_root(
    config: &Config,
    create: bool,
) -> anyhow::Result<Arc<dyn RootOfTrust>> {
    match &config.root {
        RootConfig::Software { passphrase_file } => {
            let passphrase = passphrase(passphrase_file.as_deref())?;
            Ok(Arc::new(SoftwareRoot::from_passphrase(passphrase)))
        }
        RootConfig::Pkcs11(pkcs11) => {
            let root = if create {
                hsm::pkcs11::Pkcs11Root::create_key(pkcs11.clone()).await
            } else {
                hsm::pkcs11::Pkcs11Root::open(pkcs11.clone()).await
            };
            Ok(Arc::new(root.context("PKCS#11 root of trust")?))
        }
        RootConfig::AwsKms(aws) => {
            let root = hsm::aws_kms::AwsKmsRoot::connect(aws)
                .await
                .context("AWS KMS root of trust")?;
            Ok(Arc::new(root))
        }
        RootConfig::GcpKms(gcp) => {
            let root = hsm::gcp_kms::GcpKmsRoot::connect(gcp)
                .await
                .context("Google Cloud KMS root of trust")?;
            Ok(Arc::new(root))
        }
    }
}

/// The root of trust a migration moves to: the `[root]` section of the
/// configuration file `path`, and nothing else from it. `STRONGROOM_*`
/// variables are not applied: they describe the install's current root.
/// An HSM target gets a fresh root-wrapping key in its token, as at init.
pub async fn migration_target(
    path: &Path,
    data_dir: &Path,
) -> anyhow::Result<Arc<dyn RootOfTrust>> {
    let no_env = crate::config::Env::from_pairs([]);
    let this_install = crate::config::Overrides {
        data_dir: Some(data_dir.to_path_buf()),
        ..crate::config::Overrides::default()
    };
    let target = crate::config::load(
        Some(path),
        crate::config::Mode::Production,
        &no_env,
        &this_install,
    )
    .with_context(|| format!("migration target {}", path.display()))?;
    if let RootConfig::Software { passphrase_file } = &target.root {
        // The process environment holds the current root's passphrase, if
        // any: the target must name its own file.
        let Some(file) = passphrase_file else {
            bail!(
                "migration target {}: a software root needs root.passphrase_file",
                path.display()
            );
        };
        let passphrase = read_passphrase_file(file)?;
        return Ok(Arc::new(SoftwareRoot::from_passphrase(passphrase)));
    }
    configured_root(&target, true).await
}

/// The software root's passphrase: `STRONGROOM_ROOT_PASSPHRASE` if set, else
/// the first line of the passphrase file.
fn passphrase(file: Option<&Path>) -> anyhow::Result<SecretString> {
    if let Some(value) = std::env::var_os(env::ROOT_PASSPHRASE).filter(|v| !v.is_empty()) {
        let value = Zeroizing::new(value.into_string().map_err(|_| {
            anyhow::anyhow!(
                "environment variable {} is not valid UTF-8",
                env::ROOT_PASSPHRASE
            )
        })?);
        return Ok(SecretString::from(value.as_str().to_owned()));
    }
    match file {
        Some(path) => read_passphrase_file(path),
        None => bail!(
            "no root passphrase: set {} or root.passphrase_file (or {})",
            env::ROOT_PASSPHRASE,
            env::ROOT_PASSPHRASE_FILE
        ),
    }
}

/// Reads a passphrase file: it must be readable by its owner only, and its
/// first line (without the line ending) is the passphrase.
pub fn read_passphrase_file(path: &Path) -> anyhow::Result<SecretString> {
    let shown = path.display();
    let mut file =
        fs::File::open(path).with_context(|| format!("cannot open passphrase file {shown}"))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat passphrase file {shown}"))?;
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "passphrase file {shown} is readable or writable by other users (mode {mode:03o}); run: chmod 600 {shown}"
        );
    }
    let mut text = Zeroizing::new(String::new());
    file.by_ref()
        .take(MAX_PASSPHRASE_FILE + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read passphrase file {shown} (it must be UTF-8 text)"))?;
    if text.len() as u64 > MAX_PASSPHRASE_FILE {
        bail!("passphrase file {shown} is too large to be a passphrase");
    }
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        bail!("passphrase file {shown} is empty: its first line is the passphrase");
    }
    Ok(SecretString::from(line.to_owned()))
}

/// Where the dev-mode key file is (for messages).
pub fn dev_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DEV_KEY_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn passphrase_file_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pass");
        fs::write(&path, "correct horse battery staple\r\nsecond line\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let p = read_passphrase_file(&path).unwrap();
        assert_eq!(p.expose_secret(), "correct horse battery staple");
    }

    #[test]
    fn passphrase_file_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pass");
        fs::write(&path, "secret\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let err = format!("{:#}", read_passphrase_file(&path).unwrap_err());
        assert!(err.contains("chmod 600"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(!err.contains("secret\n"));
    }

    #[test]
    fn empty_passphrase_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pass");
        fs::write(&path, "\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read_passphrase_file(&path).is_err());
    }
}
