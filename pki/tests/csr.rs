//! Certificate signing requests made by OpenSSL: accepted when genuine,
//! refused when tampered with, oversized, or asking for a CA certificate.

mod common;

use common::*;
use pki::x509::{Error, csr::MAX_CSR_INPUT_LEN, names::common_name_of, parse_csr};

fn refused_because(result: Result<pki::x509::VerifiedCsr, Error>, needle: &str) {
    match result {
        Err(e) => assert!(e.to_string().contains(needle), "{e} lacks {needle:?}"),
        Ok(_) => panic!("accepted; expected a refusal mentioning {needle:?}"),
    }
}

#[test]
fn genuine_requests_of_each_key_type_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let sh = Scratch::new(dir.path());
    for (name, key_args, extra) in [
        ("p256", P256, &[][..]),
        ("p256-sha384", P256, &["-sha384"][..]),
        ("p384", P384, &[][..]),
        ("rsa", RSA2048, &[][..]),
        ("ed25519", ED25519, &[][..]),
    ] {
        let pem = sh.csr(name, key_args, extra);
        let csr = parse_csr(&pem).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            common_name_of(csr.subject()).as_deref(),
            Some("requested-name")
        );
        // The DER form of the same request is accepted too.
        let der_name = format!("{name}.der");
        sh.openssl_ok(&[
            "req",
            "-in",
            &format!("{name}.csr"),
            "-outform",
            "DER",
            "-out",
            &der_name,
        ]);
        let der = parse_csr(&sh.read(&der_name)).unwrap();
        assert_eq!(der.public_key(), csr.public_key());
    }
}

#[test]
fn tampered_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sh = Scratch::new(dir.path());
    sh.csr("req", P256, &[]);
    sh.openssl_ok(&[
        "req", "-in", "req.csr", "-outform", "DER", "-out", "req.der",
    ]);
    let der = sh.read("req.der");
    assert!(parse_csr(&der).is_ok());

    // The last byte is inside the signature's `s` integer.
    let mut bad_signature = der.clone();
    if let Some(last) = bad_signature.last_mut() {
        *last ^= 0x01;
    }
    refused_because(parse_csr(&bad_signature), "signature does not verify");

    // A changed subject no longer matches the signature.
    let needle = b"requested-name";
    let at = der
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("subject in request");
    let mut bad_subject = der.clone();
    bad_subject[at] = b'R';
    refused_because(parse_csr(&bad_subject), "signature does not verify");

    // Cut short, or trailing bytes: not a request.
    assert!(parse_csr(&der[..der.len() - 1]).is_err());
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(parse_csr(&trailing).is_err());
}

#[test]
fn requests_for_ca_powers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sh = Scratch::new(dir.path());
    let ca = sh.csr(
        "ca",
        P256,
        &["-addext", "basicConstraints=critical,CA:TRUE"],
    );
    refused_because(parse_csr(&ca), "asks for a CA certificate");
    let signer = sh.csr("signer", P256, &["-addext", "keyUsage=keyCertSign"]);
    refused_because(parse_csr(&signer), "sign certificates or CRLs");
    let crl_signer = sh.csr("crl", P256, &["-addext", "keyUsage=cRLSign"]);
    refused_because(parse_csr(&crl_signer), "sign certificates or CRLs");

    // Other requested extensions are accepted and reported, not applied.
    let end_entity = sh.csr(
        "ee",
        P256,
        &[
            "-addext",
            "basicConstraints=CA:FALSE",
            "-addext",
            "subjectAltName=DNS:client.example",
        ],
    );
    let csr = parse_csr(&end_entity).unwrap();
    assert_eq!(csr.requested_extensions().len(), 2);
}

#[test]
fn unsupported_keys_and_malformed_input_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sh = Scratch::new(dir.path());
    let p521 = sh.csr("p521", P521, &[]);
    refused_because(parse_csr(&p521), "P-521");

    let huge = vec![b'A'; MAX_CSR_INPUT_LEN + 1];
    assert!(matches!(parse_csr(&huge), Err(Error::TooLarge { .. })));
    assert!(matches!(
        parse_csr(b"\x30\x80garbage"),
        Err(Error::Der { .. })
    ));
    assert!(parse_csr(b"").is_err());
    let not_a_request = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        parse_csr(not_a_request.as_bytes()),
        Err(Error::Pem(_))
    ));
}
