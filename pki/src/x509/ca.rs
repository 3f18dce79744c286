//! The certificate authority: a CA certificate and the [`Signer`] of its key.
//!
//! ```text
//! let signer = KmsSigner::new(kms, actor, project, ca_private_key, None).await?;
//! let ca = CertificateAuthority::create(signer, "Strongroom KMIP CA",
//!                                       Validity::starting_now(Duration::days(3650))?).await?;
//! // store ca.certificate().der() (the key stays in kms-core)
//! let server = ca.issue_server(&server_spki, &SubjectAltNames::parse(["kms.example", "10.0.0.5"])?,
//!                              Validity::starting_now(Duration::days(365))?).await?;
//! let client = ca.issue_client(csr.public_key(), "alice", Validity::starting_now(Duration::days(90))?).await?;
//! let crl = ca.crl(&revoked, &CrlParams::starting_now(Duration::days(7))?).await?;
//! ```
//!
//! After a restart, [`CertificateAuthority::open`] pairs the stored CA
//! certificate with a signer again and checks that they belong together.
//!
//! Issued certificates may not outlive the CA certificate: a request for a
//! longer validity is refused with [`Error::OutlivesIssuer`] rather than
//! silently shortened, so the operator sees the date that needs attention.

use spki::SubjectPublicKeyInfoOwned;
use x509_cert::ext::pkix::{BasicConstraints, SubjectKeyIdentifier};
use x509_cert::name::Name;

use super::algorithms::verifying_key;
use super::crl::{CrlParams, RevokedCertificate, SignedCrl, sign_crl};
use super::error::{Error, Result};
use super::issue::{IssueRequest, IssuedCertificate, Issuer, key_identifier, sign_certificate};
use super::names::{MAX_ATTRIBUTE_LEN, NameBuilder, SubjectAltNames, common_name};
use super::profile::Profile;
use super::signer::Signer;
use super::validity::Validity;

/// A CA certificate: a certificate with `basicConstraints` `cA` true, and the
/// key identifier its issued certificates and CRLs name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaCertificate {
    certificate: IssuedCertificate,
    key_identifier: Vec<u8>,
}

impl CaCertificate {
    /// Reads a CA certificate from DER, refusing one that is not a CA.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        Self::from_issued(IssuedCertificate::from_der(der)?)
    }

    /// Reads a CA certificate from PEM.
    pub fn from_pem(pem_text: &str) -> Result<Self> {
        Self::from_issued(IssuedCertificate::from_pem(pem_text)?)
    }

    fn from_issued(certificate: IssuedCertificate) -> Result<Self> {
        let tbs = &certificate.certificate().tbs_certificate;
        let is_ca = matches!(
            tbs.get::<BasicConstraints>(),
            Ok(Some((_, BasicConstraints { ca: true, .. })))
        );
        if !is_ca {
            return Err(Error::InvalidCaCertificate(
                "basicConstraints does not say cA: TRUE",
            ));
        }
        let key_identifier = match tbs.get::<SubjectKeyIdentifier>() {
            Ok(Some((_, ski))) => ski.0.as_bytes().to_vec(),
            Ok(None) => key_identifier(certificate.public_key()),
            Err(_) => {
                return Err(Error::InvalidCaCertificate(
                    "the subject key identifier is malformed",
                ));
            }
        };
        Ok(Self {
            certificate,
            key_identifier,
        })
    }

    pub fn der(&self) -> &[u8] {
        self.certificate.der()
    }

    /// The certificate as PEM (`ca.pem`).
    pub fn pem(&self) -> Result<String> {
        self.certificate.pem()
    }

    /// The certificate with its parsed fields.
    pub fn certificate(&self) -> &IssuedCertificate {
        &self.certificate
    }

    pub fn subject(&self) -> &Name {
        self.certificate.subject()
    }

    pub fn key_identifier(&self) -> &[u8] {
        &self.key_identifier
    }

    fn as_issuer(&self) -> Issuer<'_> {
        Issuer {
            name: self.subject(),
            key_identifier: &self.key_identifier,
        }
    }
}

/// A CA certificate and the signer of its key.
pub struct CertificateAuthority<S> {
    signer: S,
    certificate: CaCertificate,
}

impl<S> std::fmt::Debug for CertificateAuthority<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("subject", &self.certificate.subject().to_string())
            .field("serial", &self.certificate.certificate().serial_hex())
            .finish_non_exhaustive()
    }
}

impl<S: Signer> CertificateAuthority<S> {
    /// Creates a self-signed CA named `common_name` that issues end-entity
    /// certificates only (path length 0).
    pub async fn create(signer: S, common_name_value: &str, validity: Validity) -> Result<Self> {
        Self::create_with(signer, common_name(common_name_value)?, validity, Some(0)).await
    }

    /// Creates a self-signed CA with any subject and path length constraint.
    pub async fn create_with(
        signer: S,
        subject: Name,
        validity: Validity,
        path_len: Option<u8>,
    ) -> Result<Self> {
        let request = IssueRequest {
            subject,
            public_key: signer.public_key(),
            validity,
            profile: Profile::CertificateAuthority { path_len },
        };
        let issued = sign_certificate(&signer, None, &request).await?;
        Ok(Self {
            signer,
            certificate: CaCertificate::from_issued(issued)?,
        })
    }

    /// Pairs a stored CA certificate with the signer of its key.
    pub fn open(signer: S, certificate: CaCertificate) -> Result<Self> {
        if &signer.public_key() != certificate.certificate().public_key() {
            return Err(Error::InvalidCaCertificate(
                "the certificate's public key is not the signer's",
            ));
        }
        Ok(Self {
            signer,
            certificate,
        })
    }

    pub fn certificate(&self) -> &CaCertificate {
        &self.certificate
    }

    pub fn signer(&self) -> &S {
        &self.signer
    }

    /// Issues a certificate on `public_key` for `subject` with `profile`.
    /// The general form the methods below specialise.
    pub async fn issue(
        &self,
        subject: Name,
        public_key: SubjectPublicKeyInfoOwned,
        profile: Profile,
        validity: Validity,
    ) -> Result<IssuedCertificate> {
        // Only keys TLS peers can use are certified; this also refuses
        // malformed public keys before they are signed over.
        verifying_key(&public_key)?;
        let ca_not_after = self.certificate.certificate().not_after();
        if validity.not_after() > ca_not_after {
            return Err(Error::OutlivesIssuer {
                ca_not_after: ca_not_after.to_string(),
            });
        }
        let request = IssueRequest {
            subject,
            public_key,
            validity,
            profile,
        };
        sign_certificate(&self.signer, Some(self.certificate.as_issuer()), &request).await
    }

    /// Issues a TLS server certificate for `names`. The subject's common
    /// name is the first DNS name (or IP address) short enough to be one.
    pub async fn issue_server(
        &self,
        public_key: &SubjectPublicKeyInfoOwned,
        names: &SubjectAltNames,
        validity: Validity,
    ) -> Result<IssuedCertificate> {
        let shown = names
            .dns_names()
            .iter()
            .cloned()
            .chain(names.ip_addresses().iter().map(|ip| ip.to_string()))
            .find(|n| n.len() <= MAX_ATTRIBUTE_LEN);
        let subject = match shown {
            Some(cn) => common_name(&cn)?,
            None => NameBuilder::new().build(),
        };
        self.issue(
            subject,
            public_key.clone(),
            Profile::TlsServer(names.clone()),
            validity,
        )
        .await
    }

    /// Issues a TLS client certificate whose subject is `CN=<name>`.
    /// `name` must be 1 to 64 letters, digits, `.`, `_`, `-` or `@`: it
    /// identifies the client to the server, so it must not be ambiguous.
    pub async fn issue_client(
        &self,
        public_key: &SubjectPublicKeyInfoOwned,
        name: &str,
        validity: Validity,
    ) -> Result<IssuedCertificate> {
        validate_client_name(name)?;
        self.issue(
            common_name(name)?,
            public_key.clone(),
            Profile::TlsClient,
            validity,
        )
        .await
    }

    /// Signs a CRL listing `revoked`.
    pub async fn crl(
        &self,
        revoked: &[RevokedCertificate],
        params: &CrlParams,
    ) -> Result<SignedCrl> {
        sign_crl(&self.signer, self.certificate.as_issuer(), params, revoked).await
    }
}

/// Checks a client name (see [`CertificateAuthority::issue_client`]).
pub fn validate_client_name(name: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if name.is_empty() || name.len() > MAX_ATTRIBUTE_LEN || !name.chars().all(ok_char) {
        return Err(Error::InvalidName {
            field: "client name",
            reason: "must be 1 to 64 letters, digits, '.', '_', '-' or '@'",
        });
    }
    Ok(())
}
