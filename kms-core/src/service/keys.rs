//! Keys prepared for use, as the cache holds them.

use time::OffsetDateTime;

use crate::crypto::aead::{AeadAlgorithm, AeadKey};
use crate::crypto::hmac::{HmacAlgorithm, HmacKey};
use crate::crypto::signature::{SigningKey, VerifyingKey};
use crate::error::{Error, Result};
use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::{self, Operation, State};
use crate::object::{
    Attributes, CryptographicAlgorithm, CryptographicParameters, KeyMaterial, UsageMask, UsePeriod,
};
use crate::resident::ResidentMaterial;

/// The working form of a key: parsed and expanded once, when it enters the
/// cache, so a request pays only for the operation itself.
pub(super) enum Prepared {
    Aead(AeadKey),
    Hmac(HmacKey),
    /// A private key and its public half, both parsed once.
    Signing(SigningKey, VerifyingKey),
    /// A public key, parsed once.
    Verifying(VerifyingKey),
    /// A private key in an HSM (where it is, and its public half).
    ResidentSigning(ResidentMaterial, VerifyingKey),
    /// An AES key in an HSM.
    ResidentAead(ResidentMaterial),
    /// Objects no cryptographic operation uses (Secret Data, Opaque Objects,
    /// certificates): nothing is kept, the material is dropped and zeroized.
    Unusable,
}

/// A key the service can use, with the attributes that decide whether it may.
pub struct UsableKey {
    pub(super) id: ObjectId,
    pub(super) project: ProjectId,
    state: State,
    activation_date: Option<OffsetDateTime>,
    deactivation_date: Option<OffsetDateTime>,
    usage: UsageMask,
    period: UsePeriod,
    /// The key has Usage Limits: every protecting use spends from the
    /// stored count (`usage_limits`), never from anything cached here.
    limited: bool,
    profile: KeyProfile,
    pub(super) prepared: Prepared,
}

/// What a protocol needs to know about a key to choose how to use it (its
/// algorithm, length and Cryptographic Parameters), kept with the cached
/// key so that choosing costs no database read per request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyProfile {
    pub algorithm: Option<CryptographicAlgorithm>,
    pub length: Option<u32>,
    pub parameters: Option<CryptographicParameters>,
}

impl UsableKey {
    pub(super) fn prepare(attributes: &Attributes, material: KeyMaterial) -> Result<Self> {
        let prepared = match (&material, attributes.cryptographic_algorithm) {
            (KeyMaterial::Symmetric(k), Some(CryptographicAlgorithm::Aes)) => Prepared::Aead(
                AeadKey::new(AeadAlgorithm::for_key_len(k.len())?, k.expose())?,
            ),
            (
                KeyMaterial::Symmetric(k),
                Some(
                    alg @ (CryptographicAlgorithm::HmacSha256
                    | CryptographicAlgorithm::HmacSha384
                    | CryptographicAlgorithm::HmacSha512),
                ),
            ) => {
                let h = match alg {
                    CryptographicAlgorithm::HmacSha256 => HmacAlgorithm::Sha256,
                    CryptographicAlgorithm::HmacSha384 => HmacAlgorithm::Sha384,
                    _ => HmacAlgorithm::Sha512,
                };
                Prepared::Hmac(HmacKey::new(h, k.expose())?)
            }
            (KeyMaterial::PrivateKeyPkcs8(der), _) => {
                let signing = SigningKey::from_pkcs8(der.expose())?;
                let verifying = signing.verifying_key()?;
                Prepared::Signing(signing, verifying)
            }
            (KeyMaterial::Resident(r), _) => {
                match (&r.public_spki, attributes.cryptographic_algorithm) {
                    (Some(spki), _) => {
                        Prepared::ResidentSigning(r.clone(), VerifyingKey::from_spki_der(spki)?)
                    }
                    (None, Some(CryptographicAlgorithm::Aes)) => Prepared::ResidentAead(r.clone()),
                    (None, _) => Prepared::Unusable,
                }
            }
            (KeyMaterial::PublicKeySpki(der), _) => {
                Prepared::Verifying(VerifyingKey::from_spki_der(der)?)
            }
            _ => Prepared::Unusable,
        };
        Ok(Self {
            id: attributes.unique_identifier,
            project: attributes.project,
            state: attributes.state,
            activation_date: attributes.activation_date,
            deactivation_date: attributes.deactivation_date,
            usage: attributes.cryptographic_usage_mask,
            period: attributes.use_period(),
            limited: attributes.usage_limits.is_some(),
            profile: KeyProfile {
                algorithm: attributes.cryptographic_algorithm,
                length: attributes.cryptographic_length,
                parameters: attributes.cryptographic_parameters.clone(),
            },
            prepared,
        })
    }

    /// The object this key belongs to.
    pub fn id(&self) -> ObjectId {
        self.id
    }

    /// Its algorithm, length and Cryptographic Parameters.
    pub fn profile(&self) -> &KeyProfile {
        &self.profile
    }

    /// The project this key belongs to.
    pub fn project(&self) -> ProjectId {
        self.project
    }

    /// The state now, with date-driven transitions applied.
    pub fn state_at(&self, now: OffsetDateTime) -> State {
        lifecycle::effective_state(
            self.state,
            self.activation_date,
            self.deactivation_date,
            now,
        )
        .0
    }

    /// Whether protecting uses must spend from the stored Usage Limits.
    pub(super) fn limited(&self) -> bool {
        self.limited
    }

    /// Checks that the lifecycle, the Process Start / Protect Stop Dates
    /// and the usage mask allow `operation` for `usage`.
    pub(super) fn check(
        &self,
        operation: Operation,
        usage: UsageMask,
        name: &'static str,
    ) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        lifecycle::require(self.state_at(now), operation)?;
        self.period.check(self.id, operation, now)?;
        if !self.usage.contains(usage) {
            return Err(Error::UsageNotPermitted(self.id, name));
        }
        Ok(())
    }
}

impl std::fmt::Debug for UsableKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UsableKey({}, {:?}, ..)", self.id, self.state)
    }
}
