//! # The PKCS#11 root of trust
//!
//! The root key of a Strongroom install is sealed by an AES-256 key that was
//! generated **inside** a PKCS#11 token (an HSM, a smart card, or SoftHSM2
//! for tests) and can never leave it. The sealed root sits in the data
//! directory (`root.seal`); without the token, the database cannot be read.
//!
//! ## Configuring
//!
//! [`Pkcs11Config`] names
//!
//! * `module`: the vendor's PKCS#11 library, e.g.
//!   `/usr/lib/softhsm/libsofthsm2.so`;
//! * the token, by `token_label` (what `pkcs11-tool -L` shows as the token
//!   label), by `slot_id`, or both;
//! * `pin`: where the user PIN comes from, a file with mode 0600
//!   ([`PinSource::File`]) or an environment variable ([`PinSource::Env`]).
//!   Never a command-line argument. The PIN is held in a
//!   [`secrecy::SecretString`] (zeroized on drop) and appears in no error
//!   and no log line;
//! * `key_label`: the `CKA_LABEL` of the root-wrapping key;
//! * `sessions`: the size of the session pool (8 by default).
//!
//! ## Creating the key (`strongroom init`)
//!
//! [`Pkcs11Root::create_key`] generates the root-wrapping key in the token
//! with `CKM_AES_KEY_GEN` and these attributes:
//!
//! | attribute | value | why |
//! |---|---|---|
//! | `CKA_TOKEN` | true | persists in the token |
//! | `CKA_PRIVATE` | true | visible only after login |
//! | `CKA_SENSITIVE` | true | its value is never returned |
//! | `CKA_EXTRACTABLE` | false | it cannot be wrapped out |
//! | `CKA_ENCRYPT`, `CKA_DECRYPT` | true | the only uses it has |
//! | `CKA_WRAP`, `CKA_UNWRAP`, `CKA_SIGN`, `CKA_VERIFY`, `CKA_DERIVE` | false | no other use |
//! | `CKA_MODIFIABLE` | false | its attributes cannot be relaxed later |
//!
//! It refuses if any object with that label exists already
//! ([`Pkcs11Error::KeyExists`]): init never replaces a key that may seal
//! another install's root.
//!
//! [`Pkcs11Root::open`] (every start) finds the key by label and refuses a
//! key that is extractable or not sensitive.
//!
//! ## What a seal looks like
//!
//! `"SRP1" ‖ IV (12 random bytes) ‖ AES-256-GCM ciphertext of the 32-byte
//! root key ‖ tag (16 bytes)`, computed in the token with `CKM_AES_GCM`. The
//! associated data is [`SealContext::aad`] (install id and term) followed by
//! the header `"SRP1"`, so a sealed root copied to another install or
//! relabelled with another term does not open. CBC is never used.
//!
//! ## Sessions
//!
//! The module is loaded and initialised once per process. The pool opens
//! all its sessions at start and logs in once (PKCS#11 login state belongs to
//! the application, not to the session). Each operation takes a session for
//! its duration and runs on a blocking thread. When the token drops its
//! sessions (removed and plugged back, restarted HSM), the pool reconnects,
//! logs in again and retries the operation once; see the `pool` module
//! source for the exact return codes.
//!
//! Because login state is shared by the whole process, two roots on the
//! *same* token in one process share it too: the second root's PIN is not
//! checked again while the first is logged in. Strongroom runs one root per
//! process.
//!
//! ## Errors
//!
//! [`Pkcs11Error`] has one variant per thing an operator must fix: module not
//! found, not a PKCS#11 library, token not present (listing the tokens that
//! are), wrong PIN, PIN locked, key missing, key not protected, mechanism
//! unsupported, and the sealed root not opening with this key. Through the
//! [`RootOfTrust`] trait they arrive as `RootError::Provider { provider:
//! "pkcs11", reason }` with the same message.
//!
//! ## HSM-resident keys
//!
//! [`Pkcs11ResidentKeys`] (module `resident`) keeps Strongroom objects' keys
//! in the token: it takes the same configuration, opens its own pool of
//! read-write sessions and implements `kms_core::resident::ResidentKeys`.
//! Give it to the service with `Kms::set_resident_keys`.
//!
//! ## Example
//!
//! ```no_run
//! # async fn example() -> Result<(), hsm::pkcs11::Pkcs11Error> {
//! use hsm::pkcs11::{PinSource, Pkcs11Config, Pkcs11Root};
//!
//! let config = Pkcs11Config::new(
//!     "/usr/lib/softhsm/libsofthsm2.so",
//!     "strongroom",
//!     PinSource::Env("STRONGROOM_PKCS11_PIN".into()),
//!     "strongroom-root",
//! );
//! let root = Pkcs11Root::create_key(config).await?; // once, at init
//! // … later starts: Pkcs11Root::open(config).await?
//! # let _ = root; Ok(()) }
//! ```

mod config;
mod error;
mod pool;
mod resident;

use std::sync::Arc;

use async_trait::async_trait;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use kms_core::crypto::{SecretBytes, rng};
use kms_core::hierarchy::{RootError, RootKey, RootKind, RootOfTrust, SealContext, SealedRoot};
use zeroize::Zeroizing;

pub use config::{DEFAULT_SESSIONS, PinSource, Pkcs11Config};
pub use error::Pkcs11Error;
pub use pool::load_module;
pub use resident::Pkcs11ResidentKeys;

use pool::{SessionPool, Token};

const MAGIC: &[u8; 4] = b"SRP1";
const IV_LEN: usize = 12;
const TAG_BITS: u64 = 128;
const TAG_LEN: usize = 16;

/// A root of trust whose root-wrapping key lives in a PKCS#11 token.
pub struct Pkcs11Root {
    pool: Arc<SessionPool>,
    description: String,
}

impl std::fmt::Debug for Pkcs11Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Root")
            .field("key", &self.description)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Root {
    /// Generates the root-wrapping key in the token (for `strongroom init`)
    /// and opens the root. Refuses if an object with the key label exists.
    pub async fn create_key(config: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        blocking(move || {
            let token = Token::connect(config)?;
            token.require_mechanisms(&[(MechanismType::AES_KEY_GEN, "CKM_AES_KEY_GEN")])?;
            let session = token.open_session(true)?;
            let label = token.config.key_label.clone();
            let existing = session
                .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
                .map_err(|e| token.error(e))?;
            if !existing.is_empty() {
                return Err(Pkcs11Error::KeyExists {
                    label,
                    token: token.description.clone(),
                });
            }
            let template = [
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(32u64.into()),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Wrap(false),
                Attribute::Unwrap(false),
                Attribute::Sign(false),
                Attribute::Verify(false),
                Attribute::Derive(false),
                Attribute::Modifiable(false),
            ];
            session
                .generate_key(&Mechanism::AesKeyGen, &template)
                .map_err(|e| token.error(e))?;
            tracing::info!(
                token = %token.description,
                key = %label,
                "generated the root-wrapping AES-256 key in the PKCS#11 token"
            );
            drop(session);
            Self::from_pool(SessionPool::open(token)?)
        })
        .await
    }

    /// Opens the root: loads the module, finds the token, logs in, opens the
    /// session pool and finds the key by label.
    pub async fn open(config: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        blocking(move || Self::from_pool(SessionPool::open(Token::connect(config)?)?)).await
    }

    fn from_pool(pool: SessionPool) -> Result<Self, Pkcs11Error> {
        let config = &pool.token.config;
        let description = format!(
            "PKCS#11 key \"{}\" in {} (module {}, {} sessions)",
            config.key_label,
            pool.token.description,
            config.module.display(),
            pool.size()
        );
        tracing::info!(root = %description, "PKCS#11 root of trust open");
        Ok(Self {
            pool: Arc::new(pool),
            description,
        })
    }

    /// Sessions in the pool.
    pub fn sessions(&self) -> usize {
        self.pool.size()
    }

    /// How many operations had to recover from a lost session, a lost login
    /// or a stale key handle (and were retried once). For metrics and tests.
    pub fn recoveries(&self) -> u64 {
        self.pool.recoveries()
    }

    /// Test hook: the next operation fails as if the token had been removed
    /// and put back (`CKR_SESSION_HANDLE_INVALID`), so the pool closes every
    /// session (which logs the application out), finds the token again,
    /// opens a new session, logs in and retries. Not for production use.
    #[doc(hidden)]
    pub fn simulate_session_loss(&self) {
        self.pool.inject_session_loss();
    }

    async fn seal_bytes(&self, plaintext: &[u8], aad: Vec<u8>) -> Result<Vec<u8>, Pkcs11Error> {
        let iv = rng::random_bytes(IV_LEN).map_err(|e| Pkcs11Error::Task(e.to_string()))?;
        let plaintext = Zeroizing::new(plaintext.to_vec());
        let iv_used = iv.clone();
        let ciphertext = self
            .pool
            .run(move |session, key| {
                let mut iv = iv_used.clone();
                let params = GcmParams::new(&mut iv, &aad, TAG_BITS.into())?;
                session.encrypt(&Mechanism::AesGcm(params), key, &plaintext)
            })
            .await?;
        let mut out = Vec::with_capacity(MAGIC.len() + IV_LEN + ciphertext.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    async fn unseal_bytes(&self, sealed: &[u8], aad: Vec<u8>) -> Result<SecretBytes, Pkcs11Error> {
        if sealed.len() < MAGIC.len() + IV_LEN + TAG_LEN + 1 || &sealed[..MAGIC.len()] != MAGIC {
            return Err(Pkcs11Error::Malformed);
        }
        let iv = sealed[MAGIC.len()..MAGIC.len() + IV_LEN].to_vec();
        let ciphertext = sealed[MAGIC.len() + IV_LEN..].to_vec();
        let plaintext = self
            .pool
            .run(move |session, key| {
                let mut iv = iv.clone();
                let params = GcmParams::new(&mut iv, &aad, TAG_BITS.into())?;
                session.decrypt(&Mechanism::AesGcm(params), key, &ciphertext)
            })
            .await?;
        Ok(SecretBytes::from_vec(plaintext))
    }
}

fn seal_aad(context: &SealContext) -> Vec<u8> {
    let mut aad = context.aad();
    aad.extend_from_slice(MAGIC);
    aad
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Pkcs11Error> + Send + 'static,
) -> Result<T, Pkcs11Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Pkcs11Error::Task(e.to_string()))?
}

#[async_trait]
impl RootOfTrust for Pkcs11Root {
    fn kind(&self) -> RootKind {
        RootKind::Pkcs11
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    async fn seal(&self, root: &RootKey, context: &SealContext) -> Result<SealedRoot, RootError> {
        let sealed = self
            .seal_bytes(root.expose_for_sealing(), seal_aad(context))
            .await?;
        Ok(SealedRoot(sealed))
    }

    async fn unseal(
        &self,
        sealed: &SealedRoot,
        context: &SealContext,
    ) -> Result<RootKey, RootError> {
        let key = self.unseal_bytes(&sealed.0, seal_aad(context)).await?;
        RootKey::from_bytes(context.term, key)
    }
}
