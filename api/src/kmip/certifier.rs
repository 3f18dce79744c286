//! KMIP Certify, answered by the install's KMIP CA.
//!
//! kmip-server's Certify operation hands the request to a
//! [`kmip_server::certify::Certifier`]; [`KmipCertifier`] is the one the
//! binary gives it. It issues TLS client certificates (the CA's
//! `TlsClient` profile: digitalSignature, extendedKeyUsage clientAuth),
//! valid for [`CERTIFY_LIFETIME`] or until the CA expires, whichever is
//! first:
//!
//! * for a **PKCS#10 request**: the request's self-signature is verified
//!   and CA extensions are refused (`pki::x509::csr`); the subject is
//!   `CN=` the request's common name, which must be present — other
//!   subject attributes and requested extensions are advisory and dropped;
//! * for a **Public Key object** of the client's project: `CN=` the key's
//!   first Name (or its identifier).
//!
//! The operation then registers the certificate as a Certificate object in
//! the client's project, linked to the public key.
//!
//! A certificate issued here does not let anyone into the KMIP listener:
//! the listener maps a client certificate to a client only by its SHA-256
//! in the records `strongroom kmip client cert` writes, and Certify writes
//! none. Each signature goes through `Kms::sign` (audited, lifecycle- and
//! usage-checked, in the HSM when `kmip.ca_key = "hsm"`).

use ::pki::x509::names::{common_name, common_name_of};
use ::pki::x509::{
    CertificateAuthority, Error as X509Error, KmsSigner, Profile, SubjectPublicKeyInfoOwned,
    Validity, parse_csr,
};
use async_trait::async_trait;
use der::Decode;
use kmip_server::certify::{Certifier, CertifyError, CertifyRequest};
use time::{Duration, OffsetDateTime};

/// How long a certificate from Certify is valid (at most: never beyond the
/// CA certificate).
pub const CERTIFY_LIFETIME: Duration = Duration::days(365);

/// The KMIP CA as KMIP Certify sees it.
pub struct KmipCertifier {
    ca: CertificateAuthority<KmsSigner>,
}

impl std::fmt::Debug for KmipCertifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmipCertifier")
            .field("ca", &self.ca)
            .finish()
    }
}

impl KmipCertifier {
    pub fn new(ca: CertificateAuthority<KmsSigner>) -> Self {
        Self { ca }
    }

    /// From now (five minutes back, for clocks a little behind) for
    /// [`CERTIFY_LIFETIME`], cut at the CA's own end.
    fn validity(&self) -> Result<Validity, CertifyError> {
        let now = OffsetDateTime::now_utc();
        let ca_end = self.ca.certificate().certificate().not_after();
        Validity::new(
            now - Duration::minutes(5),
            (now + CERTIFY_LIFETIME).min(ca_end),
        )
        .map_err(|e| CertifyError::Failed(format!("the KMIP CA cannot issue now: {e}")))
    }

    async fn issue(
        &self,
        subject_cn: &str,
        public_key: SubjectPublicKeyInfoOwned,
    ) -> Result<Vec<u8>, CertifyError> {
        let subject = common_name(subject_cn).map_err(refused_or_failed)?;
        let issued = self
            .ca
            .issue(subject, public_key, Profile::TlsClient, self.validity()?)
            .await
            .map_err(refused_or_failed)?;
        Ok(issued.der().to_vec())
    }
}

#[async_trait]
impl Certifier for KmipCertifier {
    async fn certify(&self, request: CertifyRequest<'_>) -> Result<Vec<u8>, CertifyError> {
        match request {
            CertifyRequest::Pkcs10(der) => {
                let csr = parse_csr(der).map_err(refused_or_failed)?;
                let cn = common_name_of(csr.subject()).ok_or_else(|| {
                    CertifyError::Refused(
                        "the certificate request's subject has no common name".into(),
                    )
                })?;
                self.issue(&cn, csr.public_key().clone()).await
            }
            CertifyRequest::PublicKey { spki, subject } => {
                let public_key = SubjectPublicKeyInfoOwned::from_der(spki).map_err(|e| {
                    CertifyError::Refused(format!("the public key is not a valid SPKI: {e}"))
                })?;
                self.issue(subject, public_key).await
            }
        }
    }
}

/// The CA's failures (its key, its signature) are General Failure; what is
/// wrong with the request (a bad CSR, a key or name the profile refuses) is
/// Invalid Field.
fn refused_or_failed(e: X509Error) -> CertifyError {
    match e {
        X509Error::Kms(_) | X509Error::SignatureCheckFailed | X509Error::UnsupportedSigner(_) => {
            CertifyError::Failed(format!("the KMIP CA could not sign: {e}"))
        }
        other => CertifyError::Refused(other.to_string()),
    }
}
