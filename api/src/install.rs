//! Opening an install from the configuration: shared by `serve`, `init` and
//! `audit verify`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use kms_core::hierarchy::seal_file;
use kms_core::service::{Kms, OpenOptions};

use crate::config::{Config, Mode};
use crate::fsutil;

/// The kms-core options for this configuration. `config.data_dir` must
/// already be absolute (see [`prepare_data_dir`]).
pub fn open_options(config: &Config) -> OpenOptions {
    let mut opts = OpenOptions::new(config.data_dir.clone(), config.database_url());
    if let Some(capacity) = config.cache.capacity {
        opts.cache_capacity = capacity;
    }
    opts
}

/// Makes the data directory usable and records its absolute path in the
/// configuration. Dev mode and `init` create it (0700, the parent must
/// exist); the other commands need an existing one.
pub fn prepare_data_dir(config: &mut Config, create: bool) -> anyhow::Result<PathBuf> {
    let dir = config.data_dir.clone();
    let absolute = if create {
        fsutil::ensure_data_dir(&dir)?
    } else {
        if !dir.exists() {
            bail!(
                "data directory {} does not exist: run `strongroom init` first (or check data_dir)",
                dir.display()
            );
        }
        let absolute = std::fs::canonicalize(&dir)
            .with_context(|| format!("cannot resolve data directory {}", dir.display()))?;
        fsutil::check_writable_dir(&absolute)?;
        absolute
    };
    if let Some(mode) = fsutil::loose_mode(&absolute) {
        tracing::warn!(
            "data directory {} is accessible to other users (mode {mode:03o}); run: chmod 700 {}",
            absolute.display(),
            absolute.display()
        );
    }
    config.set_data_dir(absolute.clone());
    Ok(absolute)
}

/// Opens an existing install (dev or configured) without creating anything.
pub async fn open_existing(config: &Config) -> anyhow::Result<Kms> {
    let opts = open_options(config);
    let seal = config.data_dir.join(seal_file::FILE_NAME);
    if !seal.exists() {
        bail!(
            "no install in {}: {} does not exist ({})",
            config.data_dir.display(),
            seal.display(),
            match config.mode {
                Mode::Dev => "run `strongroom serve --dev` once to create it",
                Mode::Production => "run `strongroom init` to create it",
            }
        );
    }
    let root = match config.mode {
        Mode::Dev => crate::root::dev_root(&config.data_dir, false)?,
        Mode::Production => crate::root::configured_root(config, false).await?,
    };
    let kms = Kms::open(&opts, root)
        .await
        .with_context(|| format!("cannot open the install in {}", config.data_dir.display()))?;
    attach_resident_keys(config, &kms).await?;
    Ok(kms)
}

/// With a PKCS#11 root, the same token also holds HSM-resident keys: keys a
/// project creates with `KeyLocation::Hsm`, which never leave it.
pub async fn attach_resident_keys(config: &Config, kms: &Kms) -> anyhow::Result<()> {
    if let crate::config::RootConfig::Pkcs11(pkcs11) = &config.root
        && config.mode == Mode::Production
    {
        let store = hsm::pkcs11::Pkcs11ResidentKeys::open(pkcs11.clone())
            .await
            .context("HSM-resident keys (PKCS#11)")?;
        kms.set_resident_keys(std::sync::Arc::new(store))?;
    }
    Ok(())
}
