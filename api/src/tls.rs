//! TLS for Strongroom's listeners: rustls with the aws-lc-rs provider,
//! TLS 1.3 and 1.2 only, certificates and keys from PEM files.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::config::TlsFiles;

/// The crypto provider every Strongroom TLS endpoint uses.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A server configuration for the HTTPS API: the certificate chain and key
/// in `files`, no client certificates, ALPN `h2` and `http/1.1`.
pub fn https_server_config(files: &TlsFiles) -> anyhow::Result<Arc<ServerConfig>> {
    let certs = read_certificates(&files.cert)?;
    let key = read_private_key(&files.key)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS: the crypto provider does not support TLS 1.2/1.3")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(|| {
            format!(
                "TLS key {} does not match certificate {} or is unusable",
                files.key.display(),
                files.cert.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Every certificate in a PEM file, leaf first.
pub fn read_certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let pem = fs::read(path)
        .with_context(|| format!("cannot read TLS certificate {}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("TLS certificate {} is not valid PEM", path.display()))?;
    if certs.is_empty() {
        bail!(
            "TLS certificate {} holds no certificate (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub fn read_private_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let pem = Zeroizing::new(
        fs::read(path).with_context(|| format!("cannot read TLS key {}", path.display()))?,
    );
    PrivateKeyDer::from_pem_slice(&pem)
        .with_context(|| format!("TLS key {} holds no usable private key", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_dev_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let tls = pki::dev_tls::generate().unwrap();
        let files = TlsFiles {
            cert: dir.path().join("server.pem"),
            key: dir.path().join("server.key"),
        };
        fs::write(&files.cert, &tls.server_certificate_pem).unwrap();
        fs::write(&files.key, tls.server_key_pem.as_bytes()).unwrap();
        let config = https_server_config(&files).unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2");
    }

    #[test]
    fn mismatched_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = pki::dev_tls::generate().unwrap();
        let b = pki::dev_tls::generate().unwrap();
        let files = TlsFiles {
            cert: dir.path().join("server.pem"),
            key: dir.path().join("server.key"),
        };
        fs::write(&files.cert, &a.server_certificate_pem).unwrap();
        fs::write(&files.key, b.server_key_pem.as_bytes()).unwrap();
        let err = format!("{:#}", https_server_config(&files).unwrap_err());
        assert!(err.contains("does not match"), "{err}");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles {
            cert: dir.path().join("missing.pem"),
            key: dir.path().join("missing.key"),
        };
        let err = format!("{:#}", https_server_config(&files).unwrap_err());
        assert!(err.contains("missing.pem"), "{err}");
        fs::write(&files.cert, "not pem").unwrap();
        let err = format!("{:#}", https_server_config(&files).unwrap_err());
        assert!(err.contains("no certificate"), "{err}");
    }
}
