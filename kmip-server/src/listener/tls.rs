//! The listener's rustls configuration: aws-lc-rs, TLS 1.3 and 1.2 with
//! AES-GCM suites (ECDHE-ECDSA and ECDHE-RSA for 1.2, as PyKMIP and most
//! KMIP clients negotiate), and a required client certificate verified
//! against the KMIP CA and its CRL by `WebPkiClientVerifier`. A revoked
//! certificate, one from another CA or none at all fails the handshake.
//!
//! The configuration is swapped while serving through a
//! `tokio::sync::watch` channel: send a new one (with a new CRL, say) and
//! every later handshake uses it; open connections keep theirs.

use std::sync::Arc;

use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("the KMIP CA certificate is not a usable trust anchor: {0}")]
    CaCertificate(rustls::Error),
    #[error("the client certificate verifier could not be built: {0}")]
    Verifier(String),
    #[error("the server certificate or key is unusable: {0}")]
    ServerCertificate(rustls::Error),
}

/// aws-lc-rs with the suites a KMIP server offers.
pub fn provider() -> Arc<CryptoProvider> {
    use aws_lc_rs::cipher_suite as cs;
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        ..aws_lc_rs::default_provider()
    })
}

/// The certificates and keys a listener configuration is made of.
pub struct TlsMaterial {
    /// The KMIP CA certificate (DER) client certificates must chain to.
    pub client_ca: Vec<u8>,
    /// The CA's current CRLs (DER).
    pub crls: Vec<Vec<u8>>,
    /// The server certificate first, then any intermediates (DER).
    pub server_chain: Vec<Vec<u8>>,
    /// The server's private key (PKCS#8 DER).
    pub server_key: PrivateKeyDer<'static>,
}

/// Builds the server configuration.
pub fn server_config(m: TlsMaterial) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let provider = provider();
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(m.client_ca))
        .map_err(TlsConfigError::CaCertificate)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .with_crls(m.crls.into_iter().map(CertificateRevocationListDer::from))
        .build()
        .map_err(|e| TlsConfigError::Verifier(e.to_string()))?;
    let chain = m
        .server_chain
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsConfigError::ServerCertificate)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, m.server_key)
        .map_err(TlsConfigError::ServerCertificate)?;
    // KMIP has no ALPN identifier; sessions are not resumed across
    // configuration swaps, so a revoked client cannot resume its way in.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}
