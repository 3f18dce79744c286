//! The CA's certificates and CRL in real TLS handshakes: a tokio-rustls
//! server (aws-lc-rs provider) with the issued server certificate, verifying
//! clients with `WebPkiClientVerifier` built from the CA and its CRL.

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::*;
use kms_core::crypto::keygen::KeySpec;
use pki::x509::{
    CertificateAuthority, CrlParams, GeneratedKeyPair, IssuedCertificate, KmsSigner,
    RevokedCertificate, SignedCrl, SubjectAltNames, generate_p256, keygen::generate_pair,
};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

const TIMEOUT: StdDuration = StdDuration::from_secs(10);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn key_der(key: &GeneratedKeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8().expose().to_vec()))
}

fn roots(ca: &CertificateAuthority<KmsSigner>) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.certificate().der().to_vec()))
        .expect("CA certificate is a valid trust anchor");
    Arc::new(roots)
}

fn server_config(
    ca: &CertificateAuthority<KmsSigner>,
    crl: &SignedCrl,
    server: &IssuedCertificate,
    server_key: &GeneratedKeyPair,
) -> Arc<ServerConfig> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca), provider())
        .with_crls([CertificateRevocationListDer::from(crl.der().to_vec())])
        .build()
        .expect("client verifier");
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(server.der().to_vec())],
            key_der(server_key),
        )
        .expect("server certificate and key");
    Arc::new(config)
}

fn client_config(
    ca: &CertificateAuthority<KmsSigner>,
    client: Option<(&IssuedCertificate, &GeneratedKeyPair)>,
    version: &'static SupportedProtocolVersion,
) -> Arc<ClientConfig> {
    let verifier = WebPkiServerVerifier::builder_with_provider(roots(ca), provider())
        .build()
        .expect("server verifier");
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_webpki_verifier(verifier);
    let config = match client {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                key_der(key),
            )
            .expect("client certificate and key"),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// One connection: the server's view (handshake and a ping) and the
/// client's (a pong came back).
async fn connect(
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    server_name: &str,
) -> (Result<(), String>, Result<(), String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_side = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut tls = TlsAcceptor::from(server)
            .accept(tcp)
            .await
            .map_err(|e| e.to_string())?;
        let mut ping = [0u8; 4];
        tls.read_exact(&mut ping).await.map_err(|e| e.to_string())?;
        tls.write_all(b"pong").await.map_err(|e| e.to_string())?;
        tls.shutdown().await.map_err(|e| e.to_string())
    });
    let name = ServerName::try_from(server_name.to_owned()).unwrap();
    let client_side = async {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let mut tls = TlsConnector::from(client)
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        // In TLS 1.3 the server judges the client certificate after the
        // client thinks the handshake is done: the refusal arrives here.
        tls.write_all(b"ping").await.map_err(|e| e.to_string())?;
        let mut pong = [0u8; 4];
        tls.read_exact(&mut pong).await.map_err(|e| e.to_string())?;
        if &pong == b"pong" {
            Ok(())
        } else {
            Err("wrong reply".to_owned())
        }
    };
    let client_result = tokio::time::timeout(TIMEOUT, client_side)
        .await
        .unwrap_or_else(|_| Err("client timed out".into()));
    let server_result = tokio::time::timeout(TIMEOUT, server_side)
        .await
        .map_err(|_| "server timed out".to_owned())
        .and_then(|joined| joined.map_err(|e| e.to_string()))
        .and_then(|r| r);
    (server_result, client_result)
}

struct Setup {
    ca: CertificateAuthority<KmsSigner>,
    server: Arc<ServerConfig>,
    good: (IssuedCertificate, GeneratedKeyPair),
    revoked: (IssuedCertificate, GeneratedKeyPair),
    foreign: (IssuedCertificate, GeneratedKeyPair),
    foreign_ca: CertificateAuthority<KmsSigner>,
}

async fn client(
    ca: &CertificateAuthority<KmsSigner>,
    name: &str,
) -> (IssuedCertificate, GeneratedKeyPair) {
    let key = generate_p256().unwrap();
    let cert = ca
        .issue_client(key.public_key(), name, days(30))
        .await
        .unwrap();
    (cert, key)
}

async fn setup(
    kms: &kms_core::service::Kms,
    project: kms_core::ids::ProjectId,
    spec: KeySpec,
) -> Setup {
    let ca = ca(kms, project, spec, "Strongroom KMIP CA").await;
    let server_key = generate_p256().unwrap();
    let names = SubjectAltNames::parse(["localhost", "127.0.0.1", "::1"]).unwrap();
    let server_cert = ca
        .issue_server(server_key.public_key(), &names, days(365))
        .await
        .unwrap();
    let good = client(&ca, "good").await;
    let revoked = client(&ca, "revoked").await;
    let foreign_ca = common::ca(kms, project, KeySpec::EcP256, "Strongroom KMIP CA").await;
    let foreign = client(&foreign_ca, "good").await;
    let crl = ca
        .crl(
            &[RevokedCertificate {
                serial: revoked.0.serial().clone(),
                revoked_at: OffsetDateTime::now_utc(),
                reason: None,
            }],
            &CrlParams::starting_now(Duration::days(7)).unwrap(),
        )
        .await
        .unwrap();
    let server = server_config(&ca, &crl, &server_cert, &server_key);
    Setup {
        ca,
        server,
        good,
        revoked,
        foreign,
        foreign_ca,
    }
}

async fn check_clients(s: &Setup, version: &'static SupportedProtocolVersion) {
    let v = format!("{:?}", version.version);
    // The good client, by host name and by IP address.
    for name in ["localhost", "127.0.0.1"] {
        let cfg = client_config(&s.ca, Some((&s.good.0, &s.good.1)), version);
        let (server, client) = connect(s.server.clone(), cfg, name).await;
        assert_eq!(server, Ok(()), "{v} {name}: server refused the good client");
        assert_eq!(client, Ok(()), "{v} {name}: good client failed");
    }

    let cfg = client_config(&s.ca, Some((&s.revoked.0, &s.revoked.1)), version);
    let (server, client) = connect(s.server.clone(), cfg, "localhost").await;
    let err = server.expect_err("revoked client accepted");
    assert!(err.contains("Revoked"), "{v}: {err}");
    assert!(client.is_err(), "{v}: revoked client got a reply");

    // Same subject, same CA name, another CA key: not ours.
    let cfg = client_config(&s.ca, Some((&s.foreign.0, &s.foreign.1)), version);
    let (server, client) = connect(s.server.clone(), cfg, "localhost").await;
    let err = server.expect_err("client of another CA accepted");
    // UnknownIssuer or a signature that does not verify, depending on
    // whether the two CA keys are of the same type.
    assert!(err.contains("invalid peer certificate"), "{v}: {err}");
    assert!(client.is_err());

    let cfg = client_config(&s.ca, None, version);
    let (server, client) = connect(s.server.clone(), cfg, "localhost").await;
    assert!(
        server.is_err(),
        "{v}: client without a certificate accepted"
    );
    assert!(client.is_err());

    // The client checks the server's names too.
    let cfg = client_config(&s.ca, Some((&s.good.0, &s.good.1)), version);
    let (_, client) = connect(s.server.clone(), cfg, "kms.example").await;
    let err = client.expect_err("server accepted for a name it does not have");
    assert!(err.contains("not valid for name"), "{v}: {err}");

    // A client trusting only the other CA refuses our server.
    let cfg = client_config(&s.foreign_ca, Some((&s.foreign.0, &s.foreign.1)), version);
    let (_, client) = connect(s.server.clone(), cfg, "localhost").await;
    assert!(client.is_err(), "{v}: server of another CA accepted");
}

#[tokio::test]
async fn p256_ca_tls13_and_tls12() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let s = setup(&kms, project, KeySpec::EcP256).await;
    check_clients(&s, &rustls::version::TLS13).await;
    check_clients(&s, &rustls::version::TLS12).await;
}

#[tokio::test]
async fn rsa_ca_tls13() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let s = setup(&kms, project, KeySpec::Rsa2048).await;
    check_clients(&s, &rustls::version::TLS13).await;
}

#[tokio::test]
async fn rsa_server_key_serves_tls12_and_tls13() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let ca = ca(&kms, project, KeySpec::EcP256, "Strongroom KMIP CA").await;
    let server_key = generate_pair(KeySpec::Rsa2048).unwrap();
    let names = SubjectAltNames::parse(["localhost"]).unwrap();
    let server_cert = ca
        .issue_server(server_key.public_key(), &names, days(30))
        .await
        .unwrap();
    let good = client(&ca, "good").await;
    let crl = ca
        .crl(&[], &CrlParams::starting_now(Duration::days(1)).unwrap())
        .await
        .unwrap();
    let server = server_config(&ca, &crl, &server_cert, &server_key);
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let cfg = client_config(&ca, Some((&good.0, &good.1)), version);
        let (s, c) = connect(server.clone(), cfg, "localhost").await;
        assert_eq!((s, c), (Ok(()), Ok(())));
    }
}
