//! The development TLS authority of `strongroom serve --dev`.
//!
//! [`generate`] makes a fresh ECDSA P-256 certificate authority and a server
//! certificate it signs for `localhost`, `127.0.0.1` and `::1`. Everything is
//! returned as PEM; the private keys are in [`Zeroizing`] strings so they are
//! wiped when dropped, and [`DevTls`]'s `Debug` shows only the certificates.
//!
//! This authority is for development and tests. Its key sits in the data
//! directory next to everything it protects, so it proves nothing to anyone
//! but the machine that made it.
//!
//! ```
//! let tls = pki::dev_tls::generate().unwrap();
//! assert!(tls.ca_certificate_pem.starts_with("-----BEGIN CERTIFICATE-----"));
//! assert!(format!("{tls:?}").contains("redacted"));
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// The names the development server certificate is valid for.
pub const SERVER_DNS_NAMES: &[&str] = &["localhost"];

/// The addresses the development server certificate is valid for.
pub const SERVER_IP_ADDRESSES: &[IpAddr] = &[
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
];

/// How long the development CA certificate is valid.
pub const CA_VALIDITY: Duration = Duration::days(3650);

/// How long the development server certificate is valid (the 825-day limit
/// that common TLS clients enforce for server certificates).
pub const SERVER_VALIDITY: Duration = Duration::days(825);

/// A development CA and the server certificate it issued, all PEM.
pub struct DevTls {
    /// The CA certificate clients trust (`-----BEGIN CERTIFICATE-----`).
    pub ca_certificate_pem: String,
    /// The CA's PKCS#8 private key. Keep it to issue more certificates from
    /// the same CA; it is wiped on drop.
    pub ca_key_pem: Zeroizing<String>,
    /// The server certificate, signed by the CA.
    pub server_certificate_pem: String,
    /// The server's PKCS#8 private key; wiped on drop.
    pub server_key_pem: Zeroizing<String>,
}

impl fmt::Debug for DevTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevTls")
            .field("ca_certificate_pem", &self.ca_certificate_pem)
            .field("ca_key_pem", &"<redacted>")
            .field("server_certificate_pem", &self.server_certificate_pem)
            .field("server_key_pem", &"<redacted>")
            .finish()
    }
}

/// Why the development certificates could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot generate the development TLS certificates: {0}")]
pub struct DevTlsError(#[from] rcgen::Error);

/// Generates a new development CA and a server certificate for
/// [`SERVER_DNS_NAMES`] and [`SERVER_IP_ADDRESSES`].
pub fn generate() -> Result<DevTls, DevTlsError> {
    let now = OffsetDateTime::now_utc();
    // A little slack for clocks that are slightly behind ours.
    let not_before = now - Duration::hours(1);

    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut ca = CertificateParams::default();
    // A name of its own, so that two dev CAs in one trust store never pass
    // for each other.
    let ca_serial = random_serial()?;
    let tag: String = ca_serial.as_ref()[1..5]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    ca.distinguished_name = name(&format!("Strongroom development CA {tag}"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = not_before;
    ca.not_after = now + CA_VALIDITY;
    ca.serial_number = Some(ca_serial);
    let ca_cert = ca.self_signed(&ca_key)?;

    let server_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut server = CertificateParams::default();
    server.distinguished_name = name("localhost");
    server.is_ca = IsCa::ExplicitNoCa;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.subject_alt_names = SERVER_DNS_NAMES
        .iter()
        .map(|dns| Ok(SanType::DnsName((*dns).try_into()?)))
        .chain(
            SERVER_IP_ADDRESSES
                .iter()
                .map(|ip| Ok(SanType::IpAddress(*ip))),
        )
        .collect::<Result<_, rcgen::Error>>()?;
    server.not_before = not_before;
    server.not_after = now + SERVER_VALIDITY;
    server.serial_number = Some(random_serial()?);
    server.use_authority_key_identifier_extension = true;
    let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key)?;

    Ok(DevTls {
        ca_certificate_pem: ca_cert.pem(),
        ca_key_pem: Zeroizing::new(ca_key.serialize_pem()),
        server_certificate_pem: server_cert.pem(),
        server_key_pem: Zeroizing::new(server_key.serialize_pem()),
    })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Strongroom");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A positive random 128-bit serial number (RFC 5280 allows up to 20 octets).
fn random_serial() -> Result<SerialNumber, rcgen::Error> {
    let mut bytes = [0u8; 16];
    kms_core::crypto::rng::fill(&mut bytes).map_err(|_| rcgen::Error::RingUnspecified)?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    #[test]
    fn generates_parseable_pem() {
        let tls = generate().unwrap();
        assert!(CertificateDer::from_pem_slice(tls.ca_certificate_pem.as_bytes()).is_ok());
        assert!(CertificateDer::from_pem_slice(tls.server_certificate_pem.as_bytes()).is_ok());
        assert!(PrivateKeyDer::from_pem_slice(tls.server_key_pem.as_bytes()).is_ok());
        assert!(PrivateKeyDer::from_pem_slice(tls.ca_key_pem.as_bytes()).is_ok());
    }

    #[test]
    fn each_call_makes_a_new_ca() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a.ca_certificate_pem, b.ca_certificate_pem);
        assert_ne!(*a.ca_key_pem, *b.ca_key_pem);
    }

    #[test]
    fn another_dev_ca_is_an_unknown_issuer() {
        use rustls::RootCertStore;
        use rustls::client::WebPkiServerVerifier;
        use rustls::pki_types::{ServerName, UnixTime};
        use std::sync::Arc;

        let a = generate().unwrap();
        let b = generate().unwrap();
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(a.ca_certificate_pem.as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        let server = CertificateDer::from_pem_slice(b.server_certificate_pem.as_bytes()).unwrap();
        let err = rustls::client::danger::ServerCertVerifier::verify_server_cert(
            verifier.as_ref(),
            &server,
            &[],
            &ServerName::try_from("localhost").unwrap(),
            &[],
            UnixTime::now(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        );
    }

    #[test]
    fn debug_hides_private_keys() {
        let tls = generate().unwrap();
        let shown = format!("{tls:?}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        assert!(!shown.contains(tls.server_key_pem.as_str()));
        assert!(shown.contains("BEGIN CERTIFICATE"));
    }

    #[test]
    fn server_certificate_chains_to_the_ca() {
        use rustls::RootCertStore;
        use rustls::client::WebPkiServerVerifier;
        use rustls::client::danger::ServerCertVerifier;
        use rustls::pki_types::{ServerName, UnixTime};
        use std::sync::Arc;

        let tls = generate().unwrap();
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(tls.ca_certificate_pem.as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        let server = CertificateDer::from_pem_slice(tls.server_certificate_pem.as_bytes()).unwrap();
        for name in ["localhost", "127.0.0.1", "::1"] {
            let name = ServerName::try_from(name).unwrap();
            verifier
                .verify_server_cert(&server, &[], &name, &[], UnixTime::now())
                .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        }
        let other = ServerName::try_from("example.com").unwrap();
        assert!(
            verifier
                .verify_server_cert(&server, &[], &other, &[], UnixTime::now())
                .is_err()
        );
    }
}
