//! HSM-resident keys in a PKCS#11 token.
//!
//! [`Pkcs11ResidentKeys`] implements [`kms_core::resident::ResidentKeys`]:
//! Strongroom objects whose key is generated in the token, never leaves it,
//! and is used there. It takes the same [`Pkcs11Config`] as the root (module,
//! token, PIN, pool size; the root's `key_label` is not used), so the root
//! and the resident keys can share one token, and opens its own pool of
//! read-write sessions (creating and deleting token objects needs them).
//!
//! ## Keys
//!
//! | spec | mechanism | private / secret key attributes |
//! |---|---|---|
//! | RSA 2048/3072/4096 | `CKM_RSA_PKCS_KEY_PAIR_GEN`, e = 65537 | `CKA_SIGN` only |
//! | ECDSA P-256/P-384 | `CKM_EC_KEY_PAIR_GEN` (named curve) | `CKA_SIGN` only |
//! | AES-128/256 | `CKM_AES_KEY_GEN` | `CKA_ENCRYPT`, `CKA_DECRYPT` only |
//!
//! Every key is `CKA_TOKEN`, `CKA_PRIVATE`, `CKA_SENSITIVE`, not
//! `CKA_EXTRACTABLE`, not `CKA_MODIFIABLE`, with no `CKA_UNWRAP` or
//! `CKA_DERIVE` (nor `CKA_WRAP` for AES keys, `CKA_DECRYPT` for private
//! keys). Its
//! `CKA_ID` is 16 random bytes, which is the handle Strongroom records; its
//! `CKA_LABEL` names the Strongroom object. The public half of a pair is
//! generated as a *session* object, read (`CKA_MODULUS` and
//! `CKA_PUBLIC_EXPONENT`, or `CKA_EC_POINT`), turned into a DER
//! `SubjectPublicKeyInfo` and deleted: Strongroom keeps the public key
//! itself.
//!
//! ## Operations
//!
//! * Signing: `CKM_RSA_PKCS` over a `DigestInfo`, `CKM_RSA_PKCS_PSS` (MGF1
//!   of the same hash, salt = hash length) or `CKM_ECDSA` over a digest, as
//!   prepared by `kms_core::crypto::external_signature`.
//! * AES-GCM: `CKM_AES_GCM` with a 96-bit IV drawn from Strongroom's DRBG
//!   (SoftHSM and most tokens want the IV from the caller), 128-bit tags;
//!   output `IV ‖ ciphertext ‖ tag`.
//!
//! Each operation takes its own session from the pool and runs on a
//! blocking thread, so as many operations run at once as the pool has
//! sessions. Object handles are cached by `CKA_ID` and found again after the
//! pool recovers from a lost session or login.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use kms_core::crypto::digest::DigestAlgorithm;
use kms_core::crypto::external_signature::{self, ExternalOperation};
use kms_core::crypto::keygen::KeySpec;
use kms_core::crypto::signature::EcCurve;
use kms_core::crypto::{SecretBytes, rng};
use kms_core::resident::{ResidentError, ResidentKey, ResidentKeys};
use zeroize::Zeroizing;

use super::config::Pkcs11Config;
use super::error::Pkcs11Error;
use super::pool::{Failure, SessionPool, Token};

const ID_LEN: usize = 16;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const TAG_BITS: u64 = 128;
/// Largest plaintext or ciphertext sent to the token in one call.
const MAX_AEAD_INPUT: usize = 64 * 1024 * 1024;

/// DER OBJECT IDENTIFIERs of the named curves (`CKA_EC_PARAMS`).
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// HSM-resident keys in one PKCS#11 token. See the module docs.
pub struct Pkcs11ResidentKeys {
    pool: Arc<SessionPool>,
    handles: Arc<HandleCache>,
    description: String,
}

impl std::fmt::Debug for Pkcs11ResidentKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11ResidentKeys")
            .field("token", &self.description)
            .finish_non_exhaustive()
    }
}

impl Pkcs11ResidentKeys {
    /// Loads the module, finds the token, logs in, checks the mechanisms
    /// resident keys need and opens the session pool.
    pub async fn open(config: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        let pool = tokio::task::spawn_blocking(move || {
            let token = Token::connect(config)?;
            token.require_mechanisms(&[
                (
                    MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                    "CKM_RSA_PKCS_KEY_PAIR_GEN",
                ),
                (MechanismType::ECC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN"),
                (MechanismType::AES_KEY_GEN, "CKM_AES_KEY_GEN"),
                (MechanismType::RSA_PKCS, "CKM_RSA_PKCS"),
                (MechanismType::RSA_PKCS_PSS, "CKM_RSA_PKCS_PSS"),
                (MechanismType::ECDSA, "CKM_ECDSA"),
                (MechanismType::AES_GCM, "CKM_AES_GCM"),
            ])?;
            SessionPool::open_sessions(token, true)
        })
        .await
        .map_err(|e| Pkcs11Error::Task(e.to_string()))??;
        let description = format!(
            "PKCS#11 {} (module {}, {} sessions)",
            pool.token.description,
            pool.token.config.module.display(),
            pool.size()
        );
        tracing::info!(store = %description, "PKCS#11 HSM-resident key store open");
        Ok(Self {
            pool: Arc::new(pool),
            handles: Arc::new(HandleCache::default()),
            description,
        })
    }

    /// Sessions in the pool: how many operations run at once.
    pub fn sessions(&self) -> usize {
        self.pool.size()
    }

    /// How many operations had to recover and were retried.
    pub fn recoveries(&self) -> u64 {
        self.pool.recoveries()
    }

    /// Test hook: the next operation fails as if the token had dropped its
    /// sessions, so the pool reconnects and handles are found again.
    #[doc(hidden)]
    pub fn simulate_session_loss(&self) {
        self.pool.inject_session_loss();
    }

    /// Runs `op` with the handle of the key `id` of `class`.
    async fn with_key<T, F>(&self, id: &[u8], class: ObjectClass, op: F) -> Result<T, Pkcs11Error>
    where
        T: Send + 'static,
        F: Fn(&Session, ObjectHandle) -> Result<T, Failure> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        let handles = Arc::clone(&self.handles);
        let id = id.to_vec();
        self.pool
            .run_session(move |session| {
                let key = handles.find(&pool, session, &id, class)?;
                op(session, key)
            })
            .await
    }
}

/// Object handles by `CKA_ID` and class, valid for one pool epoch.
#[derive(Default)]
struct HandleCache {
    inner: Mutex<Handles>,
}

#[derive(Default)]
struct Handles {
    epoch: u64,
    by_id: HashMap<(Vec<u8>, u64), ObjectHandle>,
}

impl HandleCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Handles> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn find(
        &self,
        pool: &SessionPool,
        session: &Session,
        id: &[u8],
        class: ObjectClass,
    ) -> Result<ObjectHandle, Failure> {
        let epoch = pool.epoch();
        let key = (id.to_vec(), class_code(class));
        {
            let mut cache = self.lock();
            if cache.epoch != epoch {
                *cache = Handles {
                    epoch,
                    by_id: HashMap::new(),
                };
            }
            if let Some(handle) = cache.by_id.get(&key) {
                return Ok(*handle);
            }
        }
        let found = session.find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])?;
        let handle = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(Failure::Explained(Pkcs11Error::ResidentKeyMissing {
                    id: hex::encode(id),
                    token: pool.token.description.clone(),
                }));
            }
            many => {
                return Err(Failure::Explained(Pkcs11Error::ResidentKeyAmbiguous {
                    id: hex::encode(id),
                    token: pool.token.description.clone(),
                    count: many.len(),
                }));
            }
        };
        let mut cache = self.lock();
        if cache.epoch == epoch {
            cache.by_id.insert(key, handle);
        }
        Ok(handle)
    }

    fn forget(&self, id: &[u8]) {
        self.lock().by_id.retain(|(k, _), _| k != id);
    }
}

fn class_code(class: ObjectClass) -> u64 {
    if class == ObjectClass::PRIVATE_KEY {
        1
    } else {
        2
    }
}

/// Attributes every resident private or secret key carries.
fn protected(id: &[u8], label: &str) -> Vec<Attribute> {
    vec![
        Attribute::Id(id.to_vec()),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Modifiable(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
    ]
}

/// What to generate for a spec.
enum Plan {
    Aes(u64),
    Rsa(u64),
    Ec(EcCurve, &'static [u8]),
}

fn plan(spec: KeySpec) -> Result<Plan, ResidentError> {
    Ok(match spec {
        KeySpec::Aes128 => Plan::Aes(16),
        KeySpec::Aes256 => Plan::Aes(32),
        KeySpec::Rsa2048 => Plan::Rsa(2048),
        KeySpec::Rsa3072 => Plan::Rsa(3072),
        KeySpec::Rsa4096 => Plan::Rsa(4096),
        KeySpec::EcP256 => Plan::Ec(EcCurve::P256, OID_P256),
        KeySpec::EcP384 => Plan::Ec(EcCurve::P384, OID_P384),
        other => {
            return Err(ResidentError::Unsupported(format!(
                "a PKCS#11 token does not hold {other:?} keys for Strongroom"
            )));
        }
    })
}

fn generate_in(
    session: &Session,
    plan: &Plan,
    id: &[u8],
    label: &str,
) -> Result<Option<Vec<u8>>, Failure> {
    let mut private = protected(id, label);
    match plan {
        Plan::Aes(len) => {
            private.extend([
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen((*len).into()),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Wrap(false),
                Attribute::Sign(false),
                Attribute::Verify(false),
            ]);
            session.generate_key(&Mechanism::AesKeyGen, &private)?;
            Ok(None)
        }
        Plan::Rsa(bits) => {
            private.extend([Attribute::Sign(true), Attribute::Decrypt(false)]);
            let public = [
                Attribute::Token(false),
                Attribute::Verify(true),
                Attribute::Encrypt(false),
                Attribute::ModulusBits((*bits).into()),
                Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
            ];
            let (pub_h, _) =
                session.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)?;
            let attrs = read_and_drop(
                session,
                pub_h,
                &[AttributeType::Modulus, AttributeType::PublicExponent],
            )?;
            let (mut n, mut e) = (None, None);
            for a in attrs {
                match a {
                    Attribute::Modulus(v) => n = Some(v),
                    Attribute::PublicExponent(v) => e = Some(v),
                    _ => {}
                }
            }
            let (Some(n), Some(e)) = (n, e) else {
                return Err(public_key_unreadable());
            };
            Ok(Some(
                external_signature::spki_from_rsa(&n, &e).map_err(|_| public_key_unreadable())?,
            ))
        }
        Plan::Ec(curve, oid) => {
            private.extend([Attribute::Sign(true), Attribute::Decrypt(false)]);
            let public = [
                Attribute::Token(false),
                Attribute::Verify(true),
                Attribute::EcParams(oid.to_vec()),
            ];
            let (pub_h, _) =
                session.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)?;
            let attrs = read_and_drop(session, pub_h, &[AttributeType::EcPoint])?;
            let point = attrs
                .into_iter()
                .find_map(|a| match a {
                    Attribute::EcPoint(p) => Some(p),
                    _ => None,
                })
                .ok_or_else(public_key_unreadable)?;
            let point = unwrap_ec_point(*curve, &point).ok_or_else(public_key_unreadable)?;
            Ok(Some(
                external_signature::spki_from_ec_point(*curve, point)
                    .map_err(|_| public_key_unreadable())?,
            ))
        }
    }
}

fn public_key_unreadable() -> Failure {
    Failure::Explained(Pkcs11Error::PublicKeyUnreadable)
}

/// Reads the public key's attributes and deletes the session object.
fn read_and_drop(
    session: &Session,
    public: ObjectHandle,
    wanted: &[AttributeType],
) -> Result<Vec<Attribute>, Failure> {
    let attrs = session.get_attributes(public, wanted);
    session.destroy_object(public)?;
    Ok(attrs?)
}

/// `CKA_EC_POINT` is a DER OCTET STRING holding the uncompressed point
/// (PKCS#11 2.40 §2.3.3); some tokens return the bare point. Tell them apart
/// by length, never by content.
fn unwrap_ec_point(curve: EcCurve, value: &[u8]) -> Option<&[u8]> {
    let point_len = 2 * curve.field_len() + 1;
    if value.len() == point_len {
        return Some(value);
    }
    match value {
        [0x04, len, point @ ..] if usize::from(*len) == point_len && point.len() == point_len => {
            Some(point)
        }
        [0x04, 0x81, len, point @ ..]
            if usize::from(*len) == point_len && point.len() == point_len =>
        {
            Some(point)
        }
        _ => None,
    }
}

fn pss_params(hash: DigestAlgorithm) -> Result<PkcsPssParams, Failure> {
    let (hash_alg, mgf) = match hash {
        DigestAlgorithm::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
        DigestAlgorithm::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
        DigestAlgorithm::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
        _ => {
            return Err(Failure::Explained(Pkcs11Error::Config(
                "RSA-PSS with this hash is not offered".into(),
            )));
        }
    };
    Ok(PkcsPssParams {
        hash_alg,
        mgf,
        s_len: (hash.output_len() as u64).into(),
    })
}

/// A failed GCM tag check: SoftHSM2 answers it with CKR_GENERAL_ERROR, the
/// standard with CKR_ENCRYPTED_DATA_INVALID or _LEN_RANGE.
fn not_authentic(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange | RvError::GeneralError,
            _
        )
    )
}

#[async_trait]
impl ResidentKeys for Pkcs11ResidentKeys {
    fn provider(&self) -> &'static str {
        "pkcs11"
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    async fn generate(&self, spec: KeySpec, label: &str) -> Result<ResidentKey, ResidentError> {
        let plan = plan(spec)?;
        let id = rng::random_bytes(ID_LEN).map_err(|e| ResidentError::Provider {
            provider: "pkcs11",
            reason: e.to_string(),
        })?;
        let label = label.to_string();
        let handle = id.clone();
        let public_spki = self
            .pool
            .run_session(move |session| generate_in(session, &plan, &id, &label))
            .await?;
        tracing::info!(store = %self.description, id = %hex::encode(&handle), spec = ?spec,
            "generated an HSM-resident key");
        Ok(ResidentKey {
            handle,
            public_spki,
        })
    }

    async fn sign(
        &self,
        handle: &[u8],
        operation: ExternalOperation,
        input: &[u8],
    ) -> Result<Vec<u8>, ResidentError> {
        let input = input.to_vec();
        Ok(self
            .with_key(handle, ObjectClass::PRIVATE_KEY, move |session, key| {
                let signature = match operation {
                    ExternalOperation::RsaPkcs1 => session.sign(&Mechanism::RsaPkcs, key, &input),
                    ExternalOperation::RsaPss(hash) => {
                        let params = pss_params(hash)?;
                        session.sign(&Mechanism::RsaPkcsPss(params), key, &input)
                    }
                    ExternalOperation::Ecdsa(_) => session.sign(&Mechanism::Ecdsa, key, &input),
                };
                Ok(signature?)
            })
            .await?)
    }

    async fn encrypt(
        &self,
        handle: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ResidentError> {
        if plaintext.len() > MAX_AEAD_INPUT {
            return Err(ResidentError::Unsupported(format!(
                "plaintexts above {MAX_AEAD_INPUT} bytes are not sent to the token"
            )));
        }
        let iv = rng::random_bytes(IV_LEN).map_err(|e| ResidentError::Provider {
            provider: "pkcs11",
            reason: e.to_string(),
        })?;
        let plaintext = Zeroizing::new(plaintext.to_vec());
        let aad = aad.to_vec();
        let iv_used = iv.clone();
        let sealed = self
            .with_key(handle, ObjectClass::SECRET_KEY, move |session, key| {
                let mut iv = iv_used.clone();
                let params = GcmParams::new(&mut iv, &aad, TAG_BITS.into())?;
                Ok(session.encrypt(&Mechanism::AesGcm(params), key, &plaintext)?)
            })
            .await?;
        let mut out = Vec::with_capacity(IV_LEN + sealed.len());
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    async fn decrypt(
        &self,
        handle: &[u8],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, ResidentError> {
        if sealed.len() < IV_LEN + TAG_LEN || sealed.len() > MAX_AEAD_INPUT {
            return Err(ResidentError::AuthenticationFailed);
        }
        let (iv, ciphertext) = sealed.split_at(IV_LEN);
        let (iv, ciphertext, aad) = (iv.to_vec(), ciphertext.to_vec(), aad.to_vec());
        let plaintext = self
            .with_key(handle, ObjectClass::SECRET_KEY, move |session, key| {
                let mut iv = iv.clone();
                let params = GcmParams::new(&mut iv, &aad, TAG_BITS.into())?;
                match session.decrypt(&Mechanism::AesGcm(params), key, &ciphertext) {
                    Ok(p) => Ok(Some(SecretBytes::from_vec(p))),
                    Err(e) if not_authentic(&e) => Ok(None),
                    Err(e) => Err(e.into()),
                }
            })
            .await?;
        plaintext.ok_or(ResidentError::AuthenticationFailed)
    }

    async fn destroy(&self, handle: &[u8]) -> Result<(), ResidentError> {
        let id = handle.to_vec();
        self.handles.forget(handle);
        let deleted = self
            .pool
            .run_session(move |session| {
                let found = session.find_objects(&[Attribute::Id(id.clone())])?;
                for object in &found {
                    session.destroy_object(*object)?;
                }
                Ok(found.len())
            })
            .await?;
        self.handles.forget(handle);
        tracing::info!(store = %self.description, id = %hex::encode(handle), objects = deleted,
            "deleted an HSM-resident key from the token");
        Ok(())
    }
}
