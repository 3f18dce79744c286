//! Building and signing certificates.
//!
//! [`sign_certificate`] turns an [`IssueRequest`] (subject, public key,
//! validity, [`Profile`]) into a signed X.509 v3 certificate:
//!
//! * the serial number is 128 random bits with the top bit cleared (so the
//!   DER `INTEGER` is positive and at most 16 bytes) and never zero — unique
//!   without a counter that would have to be stored and shared between nodes;
//! * the subject key identifier is the first 160 bits of the SHA-256 of the
//!   subject public key (RFC 7093 §2, method 1), and the authority key
//!   identifier repeats the issuer's;
//! * the profile's extensions follow (see [`profile`](super::profile));
//! * the `TBSCertificate` DER goes to the [`Signer`], and the signature is
//!   verified under the signer's public key before the certificate is
//!   assembled: a certificate that would not verify is never handed out.

use der::asn1::{BitString, OctetString};
use der::{Decode, Encode};
use kms_core::crypto::digest::{DigestAlgorithm, digest};
use spki::SubjectPublicKeyInfoOwned;
use time::OffsetDateTime;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use super::algorithms;
use super::error::{Error, Result};
use super::pem;
use super::profile::{Profile, extension};
use super::signer::Signer;
use super::validity::{Validity, from_x509_time};

/// Length of a serial number in bytes.
const SERIAL_LEN: usize = 16;

/// Length of a key identifier in bytes (160 bits, RFC 7093 method 1).
const KEY_ID_LEN: usize = 20;

/// What to certify.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    pub subject: Name,
    pub public_key: SubjectPublicKeyInfoOwned,
    pub validity: Validity,
    pub profile: Profile,
}

/// The issuer of a certificate that is not self-signed.
#[derive(Clone, Copy, Debug)]
pub struct Issuer<'a> {
    pub name: &'a Name,
    pub key_identifier: &'a [u8],
}

/// A signed certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCertificate {
    der: Vec<u8>,
    certificate: Certificate,
}

impl IssuedCertificate {
    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let certificate =
            Certificate::from_der(der).map_err(Error::der("reading a certificate"))?;
        Ok(Self {
            der: der.to_vec(),
            certificate,
        })
    }

    /// Parses a PEM certificate (label `CERTIFICATE`).
    pub fn from_pem(pem_text: &str) -> Result<Self> {
        Self::from_der(&pem::decode(pem_text, pem::CERTIFICATE)?)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as PEM, `CERTIFICATE` label, LF line endings.
    pub fn pem(&self) -> Result<String> {
        pem::encode(pem::CERTIFICATE, &self.der)
    }

    /// The parsed certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    pub fn serial(&self) -> &SerialNumber {
        &self.certificate.tbs_certificate.serial_number
    }

    /// The serial number in lower-case hex, as `openssl x509 -serial` shows
    /// it (without leading zeros).
    pub fn serial_hex(&self) -> String {
        hex_of(self.serial().as_bytes())
    }

    pub fn subject(&self) -> &Name {
        &self.certificate.tbs_certificate.subject
    }

    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.certificate.tbs_certificate.subject_public_key_info
    }

    pub fn not_before(&self) -> OffsetDateTime {
        from_x509_time(&self.certificate.tbs_certificate.validity.not_before)
    }

    pub fn not_after(&self) -> OffsetDateTime {
        from_x509_time(&self.certificate.tbs_certificate.validity.not_after)
    }
}

/// Signs `request` with `signer`: issued by `issuer`, or self-signed when
/// `issuer` is `None` (the subject names itself and `signer` must hold the
/// subject's key).
pub async fn sign_certificate<S: Signer + ?Sized>(
    signer: &S,
    issuer: Option<Issuer<'_>>,
    request: &IssueRequest,
) -> Result<IssuedCertificate> {
    let subject_key_id = key_identifier(&request.public_key);
    let (issuer_name, authority_key_id) = match issuer {
        Some(i) => (i.name.clone(), i.key_identifier.to_vec()),
        None => {
            if signer.public_key() != request.public_key {
                return Err(Error::UnsupportedSigner(
                    "a self-signed certificate must certify the signer's own key",
                ));
            }
            (request.subject.clone(), subject_key_id.clone())
        }
    };
    let mut extensions = request
        .profile
        .extensions(&request.subject, &request.public_key)?;
    extensions.push(extension(
        &SubjectKeyIdentifier(
            OctetString::new(subject_key_id).map_err(Error::der("encoding a key id"))?,
        ),
        false,
    )?);
    extensions.push(extension(
        &AuthorityKeyIdentifier {
            key_identifier: Some(
                OctetString::new(authority_key_id).map_err(Error::der("encoding a key id"))?,
            ),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
        false,
    )?);
    let algorithm = signer.algorithm();
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: random_serial()?,
        signature: algorithm.clone(),
        issuer: issuer_name,
        validity: request.validity.to_x509()?,
        subject: request.subject.clone(),
        subject_public_key_info: request.public_key.clone(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(Error::der("encoding a certificate"))?;
    let signature = sign_checked(signer, &tbs_der).await?;
    let certificate = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature).map_err(Error::der("encoding a signature"))?,
    };
    let der = certificate
        .to_der()
        .map_err(Error::der("encoding a certificate"))?;
    Ok(IssuedCertificate { der, certificate })
}

/// Signs `tbs` and checks the signature under the signer's own public key.
pub(crate) async fn sign_checked<S: Signer + ?Sized>(signer: &S, tbs: &[u8]) -> Result<Vec<u8>> {
    let signature = signer.sign(tbs).await?;
    if !algorithms::verify(&signer.public_key(), &signer.algorithm(), tbs, &signature)? {
        return Err(Error::SignatureCheckFailed);
    }
    Ok(signature)
}

/// The key identifier of `key`: SHA-256 of the `subjectPublicKey` bits,
/// first 160 bits (RFC 7093 §2, method 1).
pub fn key_identifier(key: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    let mut id = digest(DigestAlgorithm::Sha256, key.subject_public_key.raw_bytes());
    id.truncate(KEY_ID_LEN);
    id
}

/// A random positive, nonzero serial number of at most 128 bits.
pub(crate) fn random_serial() -> Result<SerialNumber> {
    loop {
        let mut bytes = kms_core::crypto::rng::random_bytes(SERIAL_LEN)?;
        if let Some(first) = bytes.first_mut() {
            *first &= 0x7f;
        }
        if bytes.iter().any(|&b| b != 0) {
            return SerialNumber::new(&bytes).map_err(Error::der("encoding a serial number"));
        }
    }
}

/// A serial number from hex, as [`IssuedCertificate::serial_hex`] writes it
/// (at most 40 hex digits, the 20 bytes RFC 5280 allows; upper or lower
/// case; an odd count is read with a leading zero).
pub fn serial_from_hex(hex: &str) -> Result<SerialNumber> {
    const REFUSED: Error = Error::InvalidSerial("a serial number is 1 to 40 hex digits");
    if hex.is_empty() || hex.len() > 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(REFUSED);
    }
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    let bytes = padded
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or(REFUSED)
        })
        .collect::<Result<Vec<u8>>>()?;
    SerialNumber::new(&bytes).map_err(|_| REFUSED)
}

pub(crate) fn hex_of(bytes: &[u8]) -> String {
    let trimmed = match bytes.iter().position(|&b| b != 0) {
        Some(i) => &bytes[i..],
        None => &[0][..],
    };
    trimmed.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_positive_nonzero_and_distinct() {
        let a = random_serial().unwrap();
        let b = random_serial().unwrap();
        assert_ne!(a, b);
        for s in [&a, &b] {
            let bytes = s.as_bytes();
            assert!(bytes.len() <= SERIAL_LEN + 1);
            assert!(bytes.iter().any(|&x| x != 0));
            // DER: a leading byte with the top bit set would make it negative.
            assert!(bytes[0] & 0x80 == 0 || bytes[0] == 0);
        }
    }

    #[test]
    fn serials_round_trip_through_hex() {
        let s = random_serial().unwrap();
        let hex = hex_of(s.as_bytes());
        assert_eq!(serial_from_hex(&hex).unwrap(), s);
        assert_eq!(serial_from_hex(&hex.to_ascii_uppercase()).unwrap(), s);
        assert_eq!(serial_from_hex("abc").unwrap().as_bytes(), [0x0a, 0xbc]);
        for bad in ["", "xyz", "+1", &"1".repeat(41)] {
            assert!(serial_from_hex(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hex_drops_leading_zeros() {
        assert_eq!(hex_of(&[0, 0x0a, 0xff]), "0aff");
        assert_eq!(hex_of(&[0]), "00");
    }
}
