//! Certificate profiles: which extensions a certificate of each kind carries.
//!
//! | profile | basicConstraints | keyUsage (critical) | extKeyUsage | subjectAltName |
//! |---|---|---|---|---|
//! | [`Profile::CertificateAuthority`] | `CA:TRUE`, `pathlen` as given, critical | keyCertSign, cRLSign | — | — |
//! | [`Profile::TlsServer`] | `CA:FALSE`, critical | digitalSignature (+ keyEncipherment for RSA keys) | serverAuth | required: the DNS names and IPs |
//! | [`Profile::TlsClient`] | `CA:FALSE`, critical | digitalSignature | clientAuth | — |
//!
//! Every certificate also gets a subject key identifier and, when it is not
//! self-signed, an authority key identifier; [`issue`](super::issue) adds
//! those, since they depend on the keys and not on the profile.
//!
//! keyEncipherment is there for RSA server keys because TLS 1.2's RSA key
//! exchange encrypts the premaster secret to the certificate's key; ECDSA and
//! Ed25519 keys only sign.

use const_oid::AssociatedOid;
use const_oid::db::rfc5280::{ID_KP_CLIENT_AUTH, ID_KP_SERVER_AUTH};
use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::Encode;
use der::asn1::OctetString;
use flagset::FlagSet;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};
use x509_cert::name::Name;

use super::error::{Error, Result};
use super::names::SubjectAltNames;

/// What a certificate is for. See the module docs for the extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Profile {
    /// A certificate authority. `path_len` bounds how many intermediate CAs
    /// may follow it; `Some(0)` means it issues only end-entity certificates.
    CertificateAuthority { path_len: Option<u8> },
    /// A TLS server, valid for these names (at least one).
    TlsServer(SubjectAltNames),
    /// A TLS client.
    TlsClient,
}

impl Profile {
    /// A short name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Profile::CertificateAuthority { .. } => "CA",
            Profile::TlsServer(_) => "TLS server",
            Profile::TlsClient => "TLS client",
        }
    }

    /// The profile's extensions for a certificate on `subject_key`.
    /// RFC 5280 §4.2.1.6: when the subject is empty, the names are the only
    /// identity and the subjectAltName extension is critical.
    pub(crate) fn extensions(
        &self,
        subject: &Name,
        subject_key: &SubjectPublicKeyInfoOwned,
    ) -> Result<Vec<Extension>> {
        match self {
            Profile::CertificateAuthority { path_len } => Ok(vec![
                basic_constraints(true, *path_len)?,
                key_usage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)?,
            ]),
            Profile::TlsServer(names) => {
                if names.is_empty() {
                    return Err(Error::Profile {
                        profile: self.name(),
                        reason: "a server certificate needs at least one DNS name or IP address",
                    });
                }
                let usage = if subject_key.algorithm.oid == RSA_ENCRYPTION {
                    KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment
                } else {
                    KeyUsages::DigitalSignature.into()
                };
                Ok(vec![
                    basic_constraints(false, None)?,
                    key_usage(usage)?,
                    extension(&ExtendedKeyUsage(vec![ID_KP_SERVER_AUTH]), false)?,
                    extension(
                        &SubjectAltName(names.to_general_names()?),
                        subject.is_empty(),
                    )?,
                ])
            }
            Profile::TlsClient => Ok(vec![
                basic_constraints(false, None)?,
                key_usage(KeyUsages::DigitalSignature.into())?,
                extension(&ExtendedKeyUsage(vec![ID_KP_CLIENT_AUTH]), false)?,
            ]),
        }
    }
}

fn basic_constraints(ca: bool, path_len_constraint: Option<u8>) -> Result<Extension> {
    extension(
        &BasicConstraints {
            ca,
            path_len_constraint,
        },
        true,
    )
}

fn key_usage(usages: FlagSet<KeyUsages>) -> Result<Extension> {
    extension(&KeyUsage(usages), true)
}

/// `value` as an X.509 extension.
pub(crate) fn extension<T: Encode + AssociatedOid>(value: &T, critical: bool) -> Result<Extension> {
    let der = value
        .to_der()
        .map_err(Error::der("encoding an extension"))?;
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(der).map_err(Error::der("encoding an extension"))?,
    })
}
