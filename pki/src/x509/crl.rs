//! Certificate revocation lists (RFC 5280 §5).
//!
//! [`sign_crl`] writes a v2 CRL: the issuer's name, `thisUpdate` and
//! `nextUpdate`, one entry per revoked serial number (with its revocation
//! date and, if known, a reason code), and two CRL extensions — the CRL
//! number, which must grow from one CRL to the next, and the authority key
//! identifier that ties the CRL to the CA key. The `TBSCertList` DER is
//! signed by the same [`Signer`] as the CA's certificates, and the signature
//! is verified before the CRL is returned.
//!
//! TLS verifiers (rustls' `WebPkiClientVerifier`, `openssl verify
//! -crl_check`) load the CRL next to the CA certificate and refuse a peer
//! whose serial is listed. [`CrlParams::starting_now`] numbers CRLs by the
//! millisecond of their `thisUpdate`, which grows without state to keep, even
//! across nodes whose clocks agree to within the time between two CRLs.

use der::asn1::{OctetString, Uint};
use der::{Decode, Encode};
use time::{Duration, OffsetDateTime};
use x509_cert::certificate::Version;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason};
use x509_cert::serial_number::SerialNumber;

use super::error::{Error, Result};
use super::issue::{Issuer, sign_checked};
use super::pem;
use super::profile::extension;
use super::signer::Signer;
use super::validity::{from_x509_time, x509_time};

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedCertificate {
    pub serial: SerialNumber,
    pub revoked_at: OffsetDateTime,
    pub reason: Option<CrlReason>,
}

/// When a CRL was made, until when it is current, and its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrlParams {
    pub number: u64,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
}

impl CrlParams {
    /// A CRL made now, current for `lifetime`, numbered by the current Unix
    /// time in milliseconds.
    pub fn starting_now(lifetime: Duration) -> Result<Self> {
        if !lifetime.is_positive() {
            return Err(Error::InvalidValidity("a CRL lifetime must be positive"));
        }
        let now = OffsetDateTime::now_utc();
        let number = u64::try_from(now.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| Error::InvalidValidity("the clock is before 1970"))?;
        Ok(Self {
            number,
            this_update: now,
            next_update: now
                .checked_add(lifetime)
                .ok_or(Error::InvalidValidity("the CRL lifetime is too long"))?,
        })
    }
}

/// A signed CRL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCrl {
    der: Vec<u8>,
    list: CertificateList,
}

impl SignedCrl {
    /// Parses a DER CRL.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let list = CertificateList::from_der(der).map_err(Error::der("reading a CRL"))?;
        Ok(Self {
            der: der.to_vec(),
            list,
        })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The CRL as PEM, `X509 CRL` label.
    pub fn pem(&self) -> Result<String> {
        pem::encode(pem::X509_CRL, &self.der)
    }

    /// The parsed CRL.
    pub fn list(&self) -> &CertificateList {
        &self.list
    }

    /// The serial numbers the CRL revokes.
    pub fn revoked_serials(&self) -> impl Iterator<Item = &SerialNumber> {
        self.list
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| &r.serial_number)
    }

    pub fn this_update(&self) -> OffsetDateTime {
        from_x509_time(&self.list.tbs_cert_list.this_update)
    }

    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.list
            .tbs_cert_list
            .next_update
            .as_ref()
            .map(from_x509_time)
    }
}

/// Signs a CRL for `issuer` listing `revoked`.
pub async fn sign_crl<S: Signer + ?Sized>(
    signer: &S,
    issuer: Issuer<'_>,
    params: &CrlParams,
    revoked: &[RevokedCertificate],
) -> Result<SignedCrl> {
    if params.next_update <= params.this_update {
        return Err(Error::InvalidValidity(
            "nextUpdate must be later than thisUpdate",
        ));
    }
    let entries = revoked
        .iter()
        .map(entry)
        .collect::<Result<Vec<RevokedCert>>>()?;
    let number =
        Uint::new(&params.number.to_be_bytes()).map_err(Error::der("encoding a CRL number"))?;
    let extensions = vec![
        extension(
            &AuthorityKeyIdentifier {
                key_identifier: Some(
                    OctetString::new(issuer.key_identifier)
                        .map_err(Error::der("encoding a key id"))?,
                ),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
            false,
        )?,
        extension(&CrlNumber(number), false)?,
    ];
    let algorithm = signer.algorithm();
    let tbs = TbsCertList {
        version: Version::V2,
        signature: algorithm.clone(),
        issuer: issuer.name.clone(),
        this_update: x509_time(params.this_update)?,
        next_update: Some(x509_time(params.next_update)?),
        // RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked.
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(Error::der("encoding a CRL"))?;
    let signature = sign_checked(signer, &tbs_der).await?;
    let list = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: der::asn1::BitString::from_bytes(&signature)
            .map_err(Error::der("encoding a signature"))?,
    };
    let der = list.to_der().map_err(Error::der("encoding a CRL"))?;
    Ok(SignedCrl { der, list })
}

fn entry(revoked: &RevokedCertificate) -> Result<RevokedCert> {
    let crl_entry_extensions = match revoked.reason {
        Some(reason) => Some(vec![extension(&reason, false)?]),
        None => None,
    };
    Ok(RevokedCert {
        serial_number: revoked.serial.clone(),
        revocation_date: x509_time(revoked.revoked_at)?,
        crl_entry_extensions,
    })
}
