//! The CA's certificates and CRLs checked by OpenSSL: chains verify for the
//! right purpose, extensions are the profile's, revoked certificates fail.

mod common;

use common::*;
use kms_core::crypto::keygen::KeySpec;
use pki::x509::{
    CaCertificate, CertificateAuthority, CrlParams, CrlReason, Error, KmsSigner,
    RevokedCertificate, SubjectAltNames, generate_p256, keygen::generate_pair, parse_csr,
};
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn p256_ca_issues_server_and_client_certificates_openssl_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let ca = ca(&kms, project, KeySpec::EcP256, "Strongroom KMIP CA").await;
    let sh = Scratch::new(dir.path());
    sh.write("ca.pem", ca.certificate().pem().unwrap());

    let ca_text = sh.openssl_ok(&["x509", "-in", "ca.pem", "-noout", "-text"]);
    for expected in [
        "Issuer: CN = Strongroom KMIP CA",
        "Subject: CN = Strongroom KMIP CA",
        "Signature Algorithm: ecdsa-with-SHA256",
        "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0",
        "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
        "Version: 3 (0x2)",
    ] {
        assert!(
            ca_text.contains(expected),
            "CA lacks {expected:?}:\n{ca_text}"
        );
    }
    // The CA verifies as its own trust anchor.
    assert!(sh.verify("ca.pem", &[]).0);

    let server_key = generate_p256().unwrap();
    let names = SubjectAltNames::parse(["localhost", "127.0.0.1", "::1"]).unwrap();
    let server = ca
        .issue_server(server_key.public_key(), &names, days(365))
        .await
        .unwrap();
    sh.write("server.pem", server.pem().unwrap());
    let (ok, said) = sh.verify("server.pem", &["-purpose", "sslserver"]);
    assert!(ok, "{said}");
    // The purpose check can fail: a server certificate is no client's.
    assert!(!sh.verify("server.pem", &["-purpose", "sslclient"]).0);
    let text = sh.openssl_ok(&["x509", "-in", "server.pem", "-noout", "-text"]);
    for expected in [
        "Subject: CN = localhost",
        "X509v3 Subject Alternative Name: \n                DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
        "X509v3 Extended Key Usage: \n                TLS Web Server Authentication",
        "X509v3 Key Usage: critical\n                Digital Signature\n",
        "X509v3 Basic Constraints: critical\n                CA:FALSE",
        "X509v3 Authority Key Identifier",
    ] {
        assert!(
            text.contains(expected),
            "server lacks {expected:?}:\n{text}"
        );
    }
    // The hostnames check OpenSSL does for TLS clients.
    assert!(
        sh.verify("server.pem", &["-verify_hostname", "localhost"])
            .0
    );
    assert!(sh.verify("server.pem", &["-verify_ip", "::1"]).0);
    assert!(
        !sh.verify("server.pem", &["-verify_hostname", "example.com"])
            .0
    );

    let client_key = generate_p256().unwrap();
    let client = ca
        .issue_client(client_key.public_key(), "alice", days(90))
        .await
        .unwrap();
    sh.write("client.pem", client.pem().unwrap());
    sh.write(
        "client.key",
        client_key.private_key_pem().unwrap().as_bytes(),
    );
    let (ok, said) = sh.verify("client.pem", &["-purpose", "sslclient"]);
    assert!(ok, "{said}");
    assert!(!sh.verify("client.pem", &["-purpose", "sslserver"]).0);
    let text = sh.openssl_ok(&["x509", "-in", "client.pem", "-noout", "-text"]);
    for expected in [
        "Subject: CN = alice",
        "TLS Web Client Authentication",
        "X509v3 Key Usage: critical\n                Digital Signature",
    ] {
        assert!(
            text.contains(expected),
            "client lacks {expected:?}:\n{text}"
        );
    }
    // client.key is the key client.pem certifies.
    let from_cert = sh.openssl_ok(&["x509", "-in", "client.pem", "-noout", "-pubkey"]);
    let from_key = sh.openssl_ok(&["pkey", "-in", "client.key", "-pubout"]);
    assert_eq!(from_cert, from_key);

    // A client certificate for an openssl-made request: the CA's name wins
    // over the requested one.
    let csr = sh.csr("bob", P256, &[]);
    let verified = parse_csr(&csr).unwrap();
    let from_csr = ca
        .issue_client(verified.public_key(), "bob", days(90))
        .await
        .unwrap();
    sh.write("bob.pem", from_csr.pem().unwrap());
    assert!(sh.verify("bob.pem", &["-purpose", "sslclient"]).0);
    let subject = sh.openssl_ok(&["x509", "-in", "bob.pem", "-noout", "-subject"]);
    assert_eq!(subject.trim(), "subject=CN = bob");
    let from_cert = sh.openssl_ok(&["x509", "-in", "bob.pem", "-noout", "-pubkey"]);
    let from_key = sh.openssl_ok(&["pkey", "-in", "bob.key", "-pubout"]);
    assert_eq!(from_cert, from_key);

    // Serial numbers: positive, at most 16 bytes, distinct.
    for cert in [&server, &client, &from_csr] {
        let serial = cert.serial().as_bytes();
        assert!(serial.len() <= 16 && serial[0] & 0x80 == 0);
    }
    assert_ne!(client.serial(), from_csr.serial());
    let shown = sh.openssl_ok(&["x509", "-in", "client.pem", "-noout", "-serial"]);
    assert_eq!(
        shown
            .trim()
            .trim_start_matches("serial=")
            .to_ascii_lowercase(),
        client.serial_hex()
    );
}

#[tokio::test]
async fn crl_revokes_one_client_and_not_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let ca = ca(&kms, project, KeySpec::EcP256, "Strongroom KMIP CA").await;
    let sh = Scratch::new(dir.path());
    sh.write("ca.pem", ca.certificate().pem().unwrap());

    let mut issued = Vec::new();
    for name in ["revoked", "kept"] {
        let key = generate_p256().unwrap();
        let cert = ca
            .issue_client(key.public_key(), name, days(30))
            .await
            .unwrap();
        sh.write(&format!("{name}.pem"), cert.pem().unwrap());
        issued.push(cert);
    }
    let revoked_at = OffsetDateTime::now_utc() - Duration::minutes(1);
    let crl = ca
        .crl(
            &[RevokedCertificate {
                serial: issued[0].serial().clone(),
                revoked_at,
                reason: Some(CrlReason::KeyCompromise),
            }],
            &CrlParams::starting_now(Duration::days(7)).unwrap(),
        )
        .await
        .unwrap();
    sh.write("crl.pem", crl.pem().unwrap());
    assert_eq!(crl.revoked_serials().count(), 1);

    let crl_check = ["-crl_check", "-CRLfile", "crl.pem", "-purpose", "sslclient"];
    let (ok, said) = sh.verify("revoked.pem", &crl_check);
    assert!(!ok && said.contains("certificate revoked"), "{said}");
    let (ok, said) = sh.verify("kept.pem", &crl_check);
    assert!(ok, "{said}");

    let text = sh.openssl_ok(&[
        "crl", "-in", "crl.pem", "-noout", "-text", "-CAfile", "ca.pem",
    ]);
    for expected in [
        "Version 2 (0x1)",
        "Issuer: CN = Strongroom KMIP CA",
        "X509v3 CRL Number",
        "X509v3 Authority Key Identifier",
        "Key Compromise",
        &format!(
            "Serial Number: {}",
            issued[0].serial_hex().to_ascii_uppercase()
        ),
    ] {
        assert!(text.contains(expected), "CRL lacks {expected:?}:\n{text}");
    }
    // `openssl crl -CAfile` checks the CRL's signature.
    let out = sh.openssl(&["crl", "-in", "crl.pem", "-noout", "-CAfile", "ca.pem"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("verify OK"));

    // An empty CRL is valid and revokes nothing.
    let empty = ca
        .crl(&[], &CrlParams::starting_now(Duration::days(1)).unwrap())
        .await
        .unwrap();
    sh.write("empty.pem", empty.pem().unwrap());
    let (ok, said) = sh.verify(
        "revoked.pem",
        &[
            "-crl_check",
            "-CRLfile",
            "empty.pem",
            "-purpose",
            "sslclient",
        ],
    );
    assert!(ok, "{said}");
}

#[tokio::test]
async fn rsa_ca_signs_with_pkcs1_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let ca = ca(&kms, project, KeySpec::Rsa2048, "Strongroom RSA CA").await;
    let sh = Scratch::new(dir.path());
    sh.write("ca.pem", ca.certificate().pem().unwrap());
    let ca_text = sh.openssl_ok(&["x509", "-in", "ca.pem", "-noout", "-text"]);
    assert!(ca_text.contains("Signature Algorithm: sha256WithRSAEncryption"));
    assert!(ca_text.contains("Public-Key: (2048 bit)"));

    // An RSA server key also gets keyEncipherment (TLS 1.2 RSA key exchange).
    let server_key = generate_pair(KeySpec::Rsa2048).unwrap();
    let names = SubjectAltNames::parse(["kms.internal", "10.0.0.5"]).unwrap();
    let server = ca
        .issue_server(server_key.public_key(), &names, days(30))
        .await
        .unwrap();
    sh.write("server.pem", server.pem().unwrap());
    let (ok, said) = sh.verify("server.pem", &["-purpose", "sslserver"]);
    assert!(ok, "{said}");
    let text = sh.openssl_ok(&["x509", "-in", "server.pem", "-noout", "-text"]);
    assert!(
        text.contains("Digital Signature, Key Encipherment"),
        "{text}"
    );

    let csr = sh.csr("rsa-client", RSA2048, &[]);
    let client = ca
        .issue_client(
            parse_csr(&csr).unwrap().public_key(),
            "rsa-client",
            days(30),
        )
        .await
        .unwrap();
    sh.write("client.pem", client.pem().unwrap());
    assert!(sh.verify("client.pem", &["-purpose", "sslclient"]).0);

    let crl = ca
        .crl(
            &[RevokedCertificate {
                serial: client.serial().clone(),
                revoked_at: OffsetDateTime::now_utc(),
                reason: None,
            }],
            &CrlParams::starting_now(Duration::days(1)).unwrap(),
        )
        .await
        .unwrap();
    sh.write("crl.pem", crl.pem().unwrap());
    let (ok, said) = sh.verify("client.pem", &["-crl_check", "-CRLfile", "crl.pem"]);
    assert!(!ok && said.contains("certificate revoked"), "{said}");
}

#[tokio::test]
async fn ca_reopens_from_its_certificate_and_refuses_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let created = ca(&kms, project, KeySpec::EcP256, "Strongroom KMIP CA").await;
    let stored = created.certificate().der().to_vec();
    let same_key = KmsSigner::new(
        kms.clone(),
        actor(),
        project,
        created.signer().private_key(),
        None,
    )
    .await
    .unwrap();
    let reopened =
        CertificateAuthority::open(same_key, CaCertificate::from_der(&stored).unwrap()).unwrap();
    let key = generate_p256().unwrap();
    let cert = reopened
        .issue_client(key.public_key(), "carol", days(1))
        .await
        .unwrap();
    let sh = Scratch::new(dir.path());
    sh.write("ca.pem", created.certificate().pem().unwrap());
    sh.write("carol.pem", cert.pem().unwrap());
    assert!(sh.verify("carol.pem", &["-purpose", "sslclient"]).0);

    let other_key = ca_signer(&kms, project, KeySpec::EcP256).await;
    assert!(matches!(
        CertificateAuthority::open(other_key, CaCertificate::from_der(&stored).unwrap()),
        Err(Error::InvalidCaCertificate(_))
    ));
    // An end-entity certificate is no CA certificate.
    assert!(matches!(
        CaCertificate::from_der(cert.der()),
        Err(Error::InvalidCaCertificate(_))
    ));
}

#[tokio::test]
async fn issuance_follows_the_ca_key_lifecycle_and_validity() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let signer = ca_signer(&kms, project, KeySpec::EcP256).await;
    let ca = CertificateAuthority::create(signer, "Short CA", days(30))
        .await
        .unwrap();
    let key = generate_p256().unwrap();
    // A certificate may not outlive its CA.
    assert!(matches!(
        ca.issue_client(key.public_key(), "dave", days(31)).await,
        Err(Error::OutlivesIssuer { .. })
    ));
    assert!(matches!(
        ca.issue_client(key.public_key(), "dave\n", days(1)).await,
        Err(Error::InvalidName { .. })
    ));
    assert!(matches!(
        ca.issue_server(key.public_key(), &SubjectAltNames::new(), days(1))
            .await,
        Err(Error::Profile { .. })
    ));
    // Signing goes through Kms::sign: a revoked CA key signs nothing more.
    kms.revoke(
        &actor(),
        project,
        ca.signer().private_key(),
        kms_core::object::RevocationReason {
            code: kms_core::object::RevocationReasonCode::CessationOfOperation,
            message: None,
        },
        None,
    )
    .await
    .unwrap();
    assert!(matches!(
        ca.issue_client(key.public_key(), "dave", days(1)).await,
        Err(Error::Kms(_))
    ));
}

#[tokio::test]
async fn p384_and_ed25519_cas_sign_what_openssl_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let sh = Scratch::new(dir.path());
    for (spec, algorithm) in [
        (KeySpec::EcP384, "ecdsa-with-SHA384"),
        (KeySpec::Ed25519, "ED25519"),
    ] {
        let ca = ca(&kms, project, spec, "Strongroom CA").await;
        sh.write("ca.pem", ca.certificate().pem().unwrap());
        let text = sh.openssl_ok(&["x509", "-in", "ca.pem", "-noout", "-text"]);
        assert!(
            text.contains(&format!("Signature Algorithm: {algorithm}")),
            "{text}"
        );
        let key = generate_p256().unwrap();
        let client = ca
            .issue_client(key.public_key(), "erin", days(1))
            .await
            .unwrap();
        sh.write("client.pem", client.pem().unwrap());
        let crl = ca
            .crl(&[], &CrlParams::starting_now(Duration::days(1)).unwrap())
            .await
            .unwrap();
        sh.write("crl.pem", crl.pem().unwrap());
        let (ok, said) = sh.verify(
            "client.pem",
            &["-purpose", "sslclient", "-crl_check", "-CRLfile", "crl.pem"],
        );
        assert!(ok, "{spec:?}: {said}");
    }
}

#[tokio::test]
async fn revocation_by_stored_hex_serial() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let ca = ca(&kms, project, KeySpec::EcP256, "Strongroom KMIP CA").await;
    let key = generate_p256().unwrap();
    let client = ca
        .issue_client(key.public_key(), "frank", days(1))
        .await
        .unwrap();
    // What `client revoke` would keep: the serial as text.
    let stored = client.serial_hex();
    let crl = ca
        .crl(
            &[RevokedCertificate {
                serial: pki::x509::issue::serial_from_hex(&stored).unwrap(),
                revoked_at: OffsetDateTime::now_utc(),
                reason: Some(CrlReason::CessationOfOperation),
            }],
            &CrlParams::starting_now(Duration::days(1)).unwrap(),
        )
        .await
        .unwrap();
    let sh = Scratch::new(dir.path());
    sh.write("ca.pem", ca.certificate().pem().unwrap());
    sh.write("client.pem", client.pem().unwrap());
    sh.write("crl.pem", crl.pem().unwrap());
    let (ok, said) = sh.verify("client.pem", &["-crl_check", "-CRLfile", "crl.pem"]);
    assert!(!ok && said.contains("certificate revoked"), "{said}");
}
