//! Keys prepared for use, as the cache holds them.

use time::OffsetDateTime;

use crate::crypto::CryptoError;
use crate::crypto::aead::{AeadAlgorithm, AeadKey};
use crate::crypto::hmac::{HmacAlgorithm, HmacKey};
use crate::crypto::signature::{KeyType, SignatureScheme, SigningKey, VerifyingKey};
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

/// Signs `data` (a digest of the message when `is_digest`) with a software
/// private key, in turn with the requests already read.
///
/// An RSA signature holds its worker thread for a quarter of a millisecond
/// (2048 bits) to several (4096), and a tokio worker reads the network only
/// between tasks. Before one, the task therefore yields once: tokio runs a
/// yielded task again only after its next poll of the network, so requests
/// that arrived meanwhile are read and reach this point first, and RSA
/// signatures start in about the order their requests arrived. Without the
/// yield a request read later often signed earlier, and the slowest
/// hundredth of RSA-2048 requests waited longer: about 0.2 ms at 16
/// connections, 2–3 ms at 64 (see `benches`). ECDSA and Ed25519 take tens
/// of microseconds and go straight on.
pub(super) async fn sign_in_turn(
    key: &SigningKey,
    scheme: SignatureScheme,
    data: &[u8],
    is_digest: bool,
) -> std::result::Result<Vec<u8>, CryptoError> {
    if matches!(key.key_type(), KeyType::Rsa { .. }) {
        tokio::task::yield_now().await;
    }
    if is_digest {
        key.sign_digest(scheme, data)
    } else {
        key.sign(scheme, data)
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::crypto::keygen::{self, GeneratedKey, KeySpec};

    fn signing_key(spec: KeySpec) -> SigningKey {
        let Ok(GeneratedKey::Pair { private_pkcs8, .. }) = keygen::generate(spec) else {
            panic!("a key pair");
        };
        SigningKey::from_pkcs8(private_pkcs8.expose()).expect("PKCS#8")
    }

    /// Polls once: `None` if the future gave its turn away.
    fn first_poll(key: &SigningKey, scheme: SignatureScheme) -> Option<Vec<u8>> {
        let mut cx = Context::from_waker(Waker::noop());
        match pin!(sign_in_turn(key, scheme, b"message", false)).poll(&mut cx) {
            Poll::Ready(signature) => Some(signature.expect("signature")),
            Poll::Pending => None,
        }
    }

    #[test]
    fn an_rsa_signature_waits_one_turn_and_an_ecdsa_one_does_not() {
        let rsa = signing_key(KeySpec::Rsa2048);
        assert!(first_poll(&rsa, SignatureScheme::RsaPssSha256).is_none());
        let ec = signing_key(KeySpec::EcP256);
        assert!(first_poll(&ec, SignatureScheme::EcdsaSha256).is_some());
    }

    #[tokio::test]
    async fn an_rsa_signature_is_made_after_its_turn() {
        let rsa = signing_key(KeySpec::Rsa2048);
        let signature = sign_in_turn(&rsa, SignatureScheme::RsaPssSha256, b"m", false)
            .await
            .expect("signature");
        let verified = rsa
            .verifying_key()
            .expect("public half")
            .verify(SignatureScheme::RsaPssSha256, b"m", &signature)
            .expect("a fitting scheme");
        assert!(verified);
    }
}
