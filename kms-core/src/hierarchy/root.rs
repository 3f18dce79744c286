//! The root key and the trait every root of trust implements.

use async_trait::async_trait;
use aws_lc_rs::hkdf;

use super::RootError;
use crate::crypto::SecretBytes;
use crate::ids::InstallId;

/// Which kind of provider protects the root key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RootKind {
    /// A passphrase (or, in dev mode, a key file) through Argon2id. For
    /// development and evaluation: the secret sits next to the data.
    Software,
    /// A PKCS#11 token.
    Pkcs11,
    /// AWS KMS.
    AwsKms,
    /// Google Cloud KMS.
    GcpKms,
}

/// The 256-bit root key of one term. Exists only in memory after unseal and
/// is zeroized when dropped. It is never used directly: [`RootKey::derive`]
/// gives a separate key for each purpose.
pub struct RootKey {
    term: u32,
    key: SecretBytes,
}

impl RootKey {
    pub const LEN: usize = 32;

    /// A fresh random root key for `term`.
    pub fn generate(term: u32) -> Result<Self, crate::crypto::CryptoError> {
        Ok(Self {
            term,
            key: crate::crypto::rng::random_secret(Self::LEN)?,
        })
    }

    /// Wraps unsealed bytes. Fails unless they are exactly 32 bytes.
    pub fn from_bytes(term: u32, key: SecretBytes) -> Result<Self, RootError> {
        if key.len() != Self::LEN {
            return Err(RootError::Provider {
                provider: "unseal",
                reason: format!("unsealed root key has {} bytes, expected 32", key.len()),
            });
        }
        Ok(Self { term, key })
    }

    /// The term (generation) of this root key; wrapped project keys name it.
    pub fn term(&self) -> u32 {
        self.term
    }

    /// The raw key, for a root of trust to seal. Nothing else calls this.
    pub fn expose_for_sealing(&self) -> &[u8] {
        self.key.expose()
    }

    /// A 256-bit subkey for `purpose` (HKDF-SHA256, salt = "strongroom").
    pub fn derive(&self, purpose: &str) -> SecretBytes {
        derive_subkey(self.key.expose(), purpose)
    }
}

/// HKDF-SHA256 expansion of a 256-bit key into a 256-bit subkey for `purpose`.
pub(crate) fn derive_subkey(ikm: &[u8], purpose: &str) -> SecretBytes {
    struct Len32;
    impl hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"strongroom/hkdf/v1");
    let prk = salt.extract(ikm);
    let info = [purpose.as_bytes()];
    let mut out = SecretBytes::zeroed(32);
    // Expanding 32 bytes from SHA-256 cannot exceed the HKDF length limit.
    if let Ok(okm) = prk.expand(&info, Len32) {
        let _ = okm.fill(out.expose_mut());
    }
    out
}

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RootKey(term {}, ..)", self.term)
    }
}

/// What a sealed root is bound to: the install and the term. Providers put it
/// in the associated data (or encryption context) of their seal, so a sealed
/// root copied to another install or relabelled with another term fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealContext {
    pub install: InstallId,
    pub term: u32,
}

impl SealContext {
    /// The canonical bytes providers authenticate.
    pub fn aad(&self) -> Vec<u8> {
        let mut aad = b"strongroom/root-seal/v1/".to_vec();
        aad.extend_from_slice(self.install.to_string().as_bytes());
        aad.extend_from_slice(b"/");
        aad.extend_from_slice(&self.term.to_be_bytes());
        aad
    }
}

/// A root key sealed by a provider: opaque bytes only that provider opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedRoot(pub Vec<u8>);

/// A root of trust: something outside the database that seals the root key.
///
/// Implementations: [`super::software::SoftwareRoot`] here; PKCS#11, AWS KMS
/// and GCP KMS in the `hsm` crate. Each call may go to a device or across the
/// network, so they are async; they are made at start-up, at init, and during
/// root migration or rotation, never per request.
#[async_trait]
pub trait RootOfTrust: Send + Sync {
    /// Which kind of provider this is.
    fn kind(&self) -> RootKind;

    /// A one-line description for logs (no secrets): key label, ARN, path.
    fn describe(&self) -> String;

    /// Seals `root` bound to `context`.
    async fn seal(&self, root: &RootKey, context: &SealContext) -> Result<SealedRoot, RootError>;

    /// Opens a sealed root bound to `context`.
    async fn unseal(
        &self,
        sealed: &SealedRoot,
        context: &SealContext,
    ) -> Result<RootKey, RootError>;

    /// Proves the provider works (seal and unseal a probe) before the service
    /// accepts requests.
    async fn self_test(&self, install: InstallId) -> Result<(), RootError> {
        let probe = RootKey::generate(0).map_err(|e| RootError::Provider {
            provider: "self-test",
            reason: e.to_string(),
        })?;
        let context = SealContext { install, term: 0 };
        let sealed = self.seal(&probe, &context).await?;
        let opened = self.unseal(&sealed, &context).await?;
        if opened.key.ct_eq(probe.key.expose()) {
            Ok(())
        } else {
            Err(RootError::Provider {
                provider: "self-test",
                reason: "probe did not round-trip".into(),
            })
        }
    }
}
