//! The software root of trust, for development and evaluation.
//!
//! The root key is sealed with AES-256-GCM under a key derived from either
//!
//! * an operator **passphrase**, through Argon2id (64 MiB, 3 passes by
//!   default; the parameters travel with the sealed blob so they can be
//!   raised later), or
//! * in dev mode, a **key file** of 32 random bytes (hex) with mode 0600,
//!   through HKDF. Start-up refuses a key file other users can read.
//!
//! Either way the secret sits on the same machine as the data, which is why
//! production installs use a PKCS#11, AWS KMS or GCP KMS root instead.
//!
//! Sealed blob layout: `"SRS1" ‖ kdf (1 = Argon2id, 2 = key file) ‖ m_cost
//! ‖ t_cost ‖ p_cost (u32 BE each) ‖ salt (16) ‖ nonce ‖ ciphertext ‖ tag`,
//! with associated data `SealContext::aad() ‖ header`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::RootError;
use super::root::{RootKey, RootKind, RootOfTrust, SealContext, SealedRoot, derive_subkey};
use crate::crypto::aead::{AeadAlgorithm, AeadKey};
use crate::crypto::{SecretBytes, rng};

const MAGIC: &[u8; 4] = b"SRS1";
const HEADER_LEN: usize = 4 + 1 + 12 + 16;
const KDF_ARGON2ID: u8 = 1;
const KDF_KEY_FILE: u8 = 2;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            m_cost: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl Argon2Params {
    /// Upper bounds so a crafted seal file cannot make start-up allocate
    /// gigabytes or spin for hours.
    fn within_limits(&self) -> bool {
        (8..=4 * 1024 * 1024).contains(&self.m_cost)
            && (1..=64).contains(&self.t_cost)
            && (1..=16).contains(&self.p_cost)
    }
}

enum Secret {
    Passphrase(SecretString),
    KeyFile { path: PathBuf, key: SecretBytes },
}

/// The software root of trust.
pub struct SoftwareRoot {
    secret: Secret,
    params: Argon2Params,
}

impl SoftwareRoot {
    /// A root protected by an operator passphrase.
    pub fn from_passphrase(passphrase: SecretString) -> Self {
        Self {
            secret: Secret::Passphrase(passphrase),
            params: Argon2Params::default(),
        }
    }

    /// Overrides the Argon2id costs used for new seals (tests use small ones).
    pub fn with_argon2_params(mut self, params: Argon2Params) -> Self {
        self.params = params;
        self
    }

    /// A root protected by an existing key file. Refuses a file that other
    /// users can read or write.
    pub fn from_key_file(path: &Path) -> Result<Self, RootError> {
        let shown = path.display().to_string();
        let meta = fs::metadata(path).map_err(|e| RootError::KeyFile {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        check_private(&shown, &meta)?;
        let text = fs::read_to_string(path)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| RootError::KeyFile {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        let mut key = SecretBytes::zeroed(32);
        hex::decode_to_slice(text.trim(), key.expose_mut()).map_err(|_| RootError::KeyFile {
            path: shown.clone(),
            reason: "must hold exactly 64 hexadecimal characters".into(),
        })?;
        Ok(Self {
            secret: Secret::KeyFile {
                path: path.to_path_buf(),
                key,
            },
            params: Argon2Params::default(),
        })
    }

    /// Creates a new random key file with mode 0600 (dev mode). Fails if the
    /// file exists.
    pub fn create_key_file(path: &Path) -> Result<Self, RootError> {
        let shown = path.display().to_string();
        let io = |e: std::io::Error| RootError::KeyFile {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let key = rng::random_secret(32).map_err(|e| RootError::KeyFile {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let mut text = zeroize::Zeroizing::new(hex::encode(key.expose()));
        text.push('\n');
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(path).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        Ok(Self {
            secret: Secret::KeyFile {
                path: path.to_path_buf(),
                key,
            },
            params: Argon2Params::default(),
        })
    }

    fn sealing_key(
        &self,
        kdf: u8,
        params: Argon2Params,
        salt: &[u8],
    ) -> Result<AeadKey, RootError> {
        let kek = match (&self.secret, kdf) {
            (Secret::Passphrase(p), KDF_ARGON2ID) => {
                if p.expose_secret().is_empty() {
                    return Err(RootError::MissingPassphrase);
                }
                argon2id(p.expose_secret().as_bytes(), salt, params)?
            }
            (Secret::KeyFile { key, .. }, KDF_KEY_FILE) => {
                let mut ikm = SecretBytes::with_capacity(key.len() + salt.len());
                ikm.extend_from_slice(key.expose());
                ikm.extend_from_slice(salt);
                derive_subkey(ikm.expose(), "software-root-key-file")
            }
            // Sealed with the other kind of secret than the one configured.
            _ => return Err(RootError::WrongPassphrase),
        };
        AeadKey::new(AeadAlgorithm::Aes256Gcm, kek.expose()).map_err(|e| RootError::Provider {
            provider: "software",
            reason: e.to_string(),
        })
    }

    fn kdf(&self) -> u8 {
        match self.secret {
            Secret::Passphrase(_) => KDF_ARGON2ID,
            Secret::KeyFile { .. } => KDF_KEY_FILE,
        }
    }
}

fn argon2id(passphrase: &[u8], salt: &[u8], p: Argon2Params) -> Result<SecretBytes, RootError> {
    let provider = |e: argon2::Error| RootError::Provider {
        provider: "software",
        reason: format!("argon2id: {e}"),
    };
    let params = argon2::Params::new(p.m_cost, p.t_cost, p.p_cost, Some(32)).map_err(provider)?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = SecretBytes::zeroed(32);
    argon
        .hash_password_into(passphrase, salt, out.expose_mut())
        .map_err(provider)?;
    Ok(out)
}

#[cfg(unix)]
fn check_private(path: &str, meta: &fs::Metadata) -> Result<(), RootError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(RootError::KeyFilePermissions {
            path: path.to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &str, _: &fs::Metadata) -> Result<(), RootError> {
    Ok(())
}

#[async_trait]
impl RootOfTrust for SoftwareRoot {
    fn kind(&self) -> RootKind {
        RootKind::Software
    }

    fn describe(&self) -> String {
        match &self.secret {
            Secret::Passphrase(_) => "software root (passphrase, Argon2id)".into(),
            Secret::KeyFile { path, .. } => format!("software root (key file {})", path.display()),
        }
    }

    async fn seal(&self, root: &RootKey, context: &SealContext) -> Result<SealedRoot, RootError> {
        let kdf = self.kdf();
        let params = self.params;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(kdf);
        for n in [params.m_cost, params.t_cost, params.p_cost] {
            header.extend_from_slice(&n.to_be_bytes());
        }
        let salt = rng::random_bytes(16).map_err(|e| RootError::Provider {
            provider: "software",
            reason: e.to_string(),
        })?;
        header.extend_from_slice(&salt);
        let key = self.sealing_key(kdf, params, &salt)?;
        let mut aad = context.aad();
        aad.extend_from_slice(&header);
        let mut out = header;
        key.seal_append(&aad, root.expose_for_sealing(), &mut out)
            .map_err(|e| RootError::Provider {
                provider: "software",
                reason: e.to_string(),
            })?;
        Ok(SealedRoot(out))
    }

    async fn unseal(
        &self,
        sealed: &SealedRoot,
        context: &SealContext,
    ) -> Result<RootKey, RootError> {
        let malformed = || RootError::Provider {
            provider: "software",
            reason: "sealed root is malformed".into(),
        };
        let bytes = &sealed.0;
        if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC {
            return Err(malformed());
        }
        let (header, body) = bytes.split_at(HEADER_LEN);
        let n =
            |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let params = Argon2Params {
            m_cost: n(5),
            t_cost: n(9),
            p_cost: n(13),
        };
        if !params.within_limits() {
            return Err(malformed());
        }
        let key = self.sealing_key(header[4], params, &header[17..33])?;
        let mut aad = context.aad();
        aad.extend_from_slice(header);
        let root = key
            .open(&aad, body)
            .map_err(|_| RootError::WrongPassphrase)?;
        RootKey::from_bytes(context.term, root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::InstallId;

    fn small(root: SoftwareRoot) -> SoftwareRoot {
        root.with_argon2_params(Argon2Params {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
        })
    }

    #[tokio::test]
    async fn passphrase_round_trip_and_wrong_passphrase() {
        let root = small(SoftwareRoot::from_passphrase(
            "correct horse".to_string().into(),
        ));
        let ctx = SealContext {
            install: InstallId::generate(),
            term: 1,
        };
        let key = RootKey::generate(1).unwrap();
        let sealed = root.seal(&key, &ctx).await.unwrap();
        let opened = root.unseal(&sealed, &ctx).await.unwrap();
        assert_eq!(opened.expose_for_sealing(), key.expose_for_sealing());

        let wrong = SoftwareRoot::from_passphrase("battery staple".to_string().into());
        assert!(matches!(
            wrong.unseal(&sealed, &ctx).await,
            Err(RootError::WrongPassphrase)
        ));

        // Bound to the install and the term.
        let other = SealContext {
            install: InstallId::generate(),
            term: 1,
        };
        assert!(matches!(
            root.unseal(&sealed, &other).await,
            Err(RootError::WrongPassphrase)
        ));
        let other_term = SealContext {
            term: 2,
            ..ctx.clone()
        };
        assert!(matches!(
            root.unseal(&sealed, &other_term).await,
            Err(RootError::WrongPassphrase)
        ));
    }

    #[tokio::test]
    async fn key_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let root = SoftwareRoot::create_key_file(&path).unwrap();
        assert!(
            SoftwareRoot::create_key_file(&path).is_err(),
            "never overwrites"
        );
        let ctx = SealContext {
            install: InstallId::generate(),
            term: 1,
        };
        let key = RootKey::generate(1).unwrap();
        let sealed = root.seal(&key, &ctx).await.unwrap();
        let again = SoftwareRoot::from_key_file(&path).unwrap();
        assert_eq!(
            again
                .unseal(&sealed, &ctx)
                .await
                .unwrap()
                .expose_for_sealing(),
            key.expose_for_sealing()
        );

        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        match SoftwareRoot::from_key_file(&path) {
            Err(RootError::KeyFilePermissions { mode, .. }) => assert_eq!(mode, 0o644),
            other => panic!("expected a permissions error, got {:?}", other.err()),
        }
    }

    #[tokio::test]
    async fn crafted_params_are_refused() {
        let root = SoftwareRoot::from_passphrase("pw".to_string().into());
        let ctx = SealContext {
            install: InstallId::generate(),
            term: 1,
        };
        let mut blob = MAGIC.to_vec();
        blob.push(KDF_ARGON2ID);
        for n in [u32::MAX, 1, 1] {
            blob.extend_from_slice(&n.to_be_bytes());
        }
        blob.extend_from_slice(&[0u8; 16 + 12 + 48]);
        assert!(matches!(
            root.unseal(&SealedRoot(blob), &ctx).await,
            Err(RootError::Provider { .. })
        ));
        assert!(root.unseal(&SealedRoot(vec![1, 2, 3]), &ctx).await.is_err());
    }
}
