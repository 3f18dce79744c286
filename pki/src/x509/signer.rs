//! The [`Signer`] a certificate authority signs with, and [`KmsSigner`], the
//! one backed by a private key managed by `kms-core`.
//!
//! A CA never holds its private key. It encodes the to-be-signed DER
//! (`TBSCertificate`, `TBSCertList`) and hands it to a [`Signer`], which
//! returns signature bytes in X.509 form: a DER `Ecdsa-Sig-Value` for ECDSA,
//! the modulus-sized block for RSA PKCS#1 v1.5, 64 bytes for Ed25519.
//!
//! [`KmsSigner`] calls [`Kms::sign`], so every signature is checked against
//! the key's lifecycle state and usage mask and lands in the audit log, and a
//! key that lives in an HSM signs the same way as one wrapped by the root of
//! trust.

use async_trait::async_trait;
use der::Decode;
use kms_core::crypto::signature::SignatureScheme;
use kms_core::ids::{ObjectId, ProjectId};
use kms_core::object::{KeyMaterial, LinkType};
use kms_core::service::{Actor, Kms};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::algorithms::{algorithm_identifier, default_scheme, verifying_key};
use super::error::{Error, Result};

/// Something that signs to-be-signed DER with a CA key.
#[async_trait]
pub trait Signer: Send + Sync {
    /// The signature algorithm, as it goes into `signature` and
    /// `signatureAlgorithm`.
    fn algorithm(&self) -> AlgorithmIdentifierOwned;

    /// The public half of the signing key.
    fn public_key(&self) -> SubjectPublicKeyInfoOwned;

    /// Signs `tbs`, returning the signature in X.509 form (see the module
    /// docs).
    async fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>>;
}

/// A shared signer signs as the one it shares, so a CA can be held as
/// `CertificateAuthority<Arc<dyn Signer>>`.
#[async_trait]
impl<T: Signer + ?Sized> Signer for std::sync::Arc<T> {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        (**self).algorithm()
    }

    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        (**self).public_key()
    }

    async fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>> {
        (**self).sign(tbs).await
    }
}

/// A [`Signer`] whose key is a Private Key object in a `kms-core` project.
#[derive(Clone)]
pub struct KmsSigner {
    kms: Kms,
    actor: Actor,
    project: ProjectId,
    private_key: ObjectId,
    scheme: SignatureScheme,
    algorithm: AlgorithmIdentifierOwned,
    public_key: SubjectPublicKeyInfoOwned,
}

impl std::fmt::Debug for KmsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsSigner")
            .field("project", &self.project)
            .field("private_key", &self.private_key)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl KmsSigner {
    /// A signer for `private_key`, whose public half is read from the Public
    /// Key object it links to (as [`Kms::create_key_pair`] makes them).
    /// `scheme` `None` picks [`default_scheme`] for the key type.
    pub async fn new(
        kms: Kms,
        actor: Actor,
        project: ProjectId,
        private_key: ObjectId,
        scheme: Option<SignatureScheme>,
    ) -> Result<Self> {
        let spki_der = linked_public_key(&kms, &actor, project, private_key).await?;
        Self::with_public_key(kms, actor, project, private_key, scheme, &spki_der)
    }

    /// A signer for `private_key` whose public key the caller already has
    /// (DER `SubjectPublicKeyInfo`). A public key that is not the private
    /// key's shows up at the first signature, which
    /// [`CertificateAuthority`](super::CertificateAuthority) checks.
    pub fn with_public_key(
        kms: Kms,
        actor: Actor,
        project: ProjectId,
        private_key: ObjectId,
        scheme: Option<SignatureScheme>,
        spki_der: &[u8],
    ) -> Result<Self> {
        let public_key = SubjectPublicKeyInfoOwned::from_der(spki_der)
            .map_err(Error::der("reading the CA public key"))?;
        let key_type = verifying_key(&public_key)?.key_type();
        let scheme = scheme.unwrap_or_else(|| default_scheme(key_type));
        if !scheme.is_compatible_with(key_type) {
            return Err(Error::UnsupportedSigner(
                "the signature scheme does not fit the CA key type",
            ));
        }
        Ok(Self {
            algorithm: algorithm_identifier(scheme)?,
            kms,
            actor,
            project,
            private_key,
            scheme,
            public_key,
        })
    }

    pub fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    pub fn private_key(&self) -> ObjectId {
        self.private_key
    }

    pub fn project(&self) -> ProjectId {
        self.project
    }
}

#[async_trait]
impl Signer for KmsSigner {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        self.algorithm.clone()
    }

    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.public_key.clone()
    }

    async fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>> {
        // `SignatureScheme::Ecdsa*` (not `*Fixed`) already yields the DER
        // Ecdsa-Sig-Value X.509 wants; RSA and Ed25519 have one encoding.
        Ok(self
            .kms
            .sign(
                &self.actor,
                self.project,
                self.private_key,
                self.scheme,
                tbs,
                false,
            )
            .await?)
    }
}

/// The DER SPKI of the Public Key object `private_key` links to.
async fn linked_public_key(
    kms: &Kms,
    actor: &Actor,
    project: ProjectId,
    private_key: ObjectId,
) -> Result<Vec<u8>> {
    let attributes = kms.attributes(project, private_key).await?;
    let link = attributes
        .links
        .iter()
        .find(|l| l.link_type == LinkType::PublicKeyLink)
        .ok_or(Error::UnsupportedSigner(
            "the CA private key has no Public Key Link; give its public key explicitly",
        ))?;
    let public_id: ObjectId = link
        .linked_object_id
        .parse()
        .map_err(|_| Error::UnsupportedSigner("the Public Key Link is not an object id"))?;
    match kms.get(actor, project, public_id).await?.material {
        Some(KeyMaterial::PublicKeySpki(der)) => Ok(der),
        _ => Err(Error::UnsupportedSigner(
            "the linked object holds no public key",
        )),
    }
}
