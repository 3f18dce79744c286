//! `root.seal`: the sealed root key, kept in the data directory.
//!
//! The file names the install, the provider that sealed it, and every root
//! key term still in use, each sealed by that provider:
//!
//! ```json
//! { "format": 1, "installId": "…", "provider": "software", "providerDescription": "…",
//!   "currentTerm": 1, "terms": [ { "term": 1, "sealed": "<base64>", "createdAt": 1700000000 } ] }
//! ```
//!
//! Nothing in it is secret without the provider: a sealed term opens only
//! with the passphrase, HSM key or cloud key that sealed it. The file is
//! replaced atomically (write a temporary file, fsync, rename, fsync the
//! directory), so a crash leaves either the old file or the new one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::RootError;
use super::root::{RootKind, SealedRoot};
use crate::ids::InstallId;

/// The file name inside the data directory.
pub const FILE_NAME: &str = "root.seal";

/// The parsed contents of `root.seal`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealFile {
    pub format: u32,
    pub install_id: InstallId,
    pub provider: RootKind,
    pub provider_description: String,
    pub current_term: u32,
    pub terms: Vec<SealedTerm>,
}

/// One sealed root key term.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealedTerm {
    pub term: u32,
    pub sealed: String,
    pub created_at: i64,
}

impl SealedTerm {
    pub fn new(term: u32, sealed: &SealedRoot, created_at: i64) -> Self {
        Self {
            term,
            sealed: B64.encode(&sealed.0),
            created_at,
        }
    }

    pub fn sealed(&self) -> Result<SealedRoot, String> {
        B64.decode(&self.sealed)
            .map(SealedRoot)
            .map_err(|e| format!("term {}: bad base64: {e}", self.term))
    }
}

impl SealFile {
    /// The path of the seal file in `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(FILE_NAME)
    }

    /// The term currently used for new wraps.
    pub fn current(&self) -> Option<&SealedTerm> {
        self.terms.iter().find(|t| t.term == self.current_term)
    }

    /// Reads and checks the seal file.
    pub fn load(path: &Path) -> Result<Self, RootError> {
        let err = |reason: String| RootError::SealFile {
            path: path.display().to_string(),
            reason,
        };
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RootError::NotInitialised(path.display().to_string()));
            }
            Err(e) => return Err(err(e.to_string())),
        };
        Self::parse(&bytes, &path.display().to_string())
    }

    /// Parses and checks seal file contents; `shown` names the file in errors.
    pub fn parse(bytes: &[u8], shown: &str) -> Result<Self, RootError> {
        let err = |reason: String| RootError::SealFile {
            path: shown.to_string(),
            reason,
        };
        if bytes.len() > 1 << 20 {
            return Err(err("larger than 1 MiB".into()));
        }
        let file: SealFile =
            serde_json::from_slice(bytes).map_err(|e| err(format!("not valid: {e}")))?;
        if file.format != 1 {
            return Err(err(format!("unknown format {}", file.format)));
        }
        if file.current().is_none() {
            return Err(err(format!(
                "current term {} is not among the sealed terms",
                file.current_term
            )));
        }
        Ok(file)
    }

    /// Writes the file atomically. With `create_new`, refuses to replace an
    /// existing file (init must never overwrite an install).
    pub fn store(&self, path: &Path, create_new: bool) -> Result<(), RootError> {
        let err = |reason: String| RootError::SealFile {
            path: path.display().to_string(),
            reason,
        };
        if create_new && path.exists() {
            return Err(RootError::AlreadyInitialised(path.display().to_string()));
        }
        let dir = path
            .parent()
            .ok_or_else(|| err("has no parent directory".into()))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| err(e.to_string()))?;
        let tmp = dir.join(format!(".{FILE_NAME}.tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            set_private(&f)?;
            f.write_all(&json)?;
            f.sync_all()?;
            if create_new {
                // hard_link fails if the target exists: no window where a
                // concurrent init could be overwritten.
                fs::hard_link(&tmp, path)?;
                fs::remove_file(&tmp)?;
            } else {
                fs::rename(&tmp, path)?;
            }
            fs::File::open(dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                RootError::AlreadyInitialised(path.display().to_string())
            } else {
                err(e.to_string())
            }
        })
    }
}

#[cfg(unix)]
fn set_private(f: &fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_: &fs::File) -> std::io::Result<()> {
    Ok(())
}
