//! Certificate signing requests (PKCS#10, RFC 2986).
//!
//! [`parse_csr`] reads a request as PEM (`CERTIFICATE REQUEST`, or the older
//! `NEW CERTIFICATE REQUEST`) or DER and returns a [`VerifiedCsr`] only if:
//!
//! * the input is at most [`MAX_CSR_INPUT_LEN`] bytes and the request is
//!   canonical DER (re-encoding it gives the same bytes, so the signature is
//!   checked over exactly what was sent);
//! * the public key is RSA (2048 to 8192 bits), ECDSA on P-256 or P-384, or
//!   Ed25519 — the keys TLS peers verify;
//! * the signature algorithm is ECDSA, RSA PKCS#1 v1.5 (SHA-256/384/512) or
//!   Ed25519, fits the key, and the self-signature verifies (proof that the
//!   requester holds the private key);
//! * the requested extensions do not ask for a CA certificate
//!   (`basicConstraints` with `cA` true, or `keyUsage` with `keyCertSign` or
//!   `cRLSign`).
//!
//! Apart from that check, requested extensions and the requested subject are
//! advisory: the CA decides both from the profile and the name it is given.

use const_oid::AssociatedOid;
use const_oid::db::rfc5912::ID_EXTENSION_REQ;
use der::{Decode, Encode};
use kms_core::crypto::signature::{EcCurve, KeyType};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::name::Name;
use x509_cert::request::{CertReq, ExtensionReq};

use super::algorithms::{scheme_of, verifying_key};
use super::error::{Error, Result};
use super::pem;

/// The largest request accepted, PEM or DER, in bytes. An RSA-8192 request
/// with a few extensions is under 3 KiB as PEM.
pub const MAX_CSR_INPUT_LEN: usize = 16 * 1024;

/// A request whose signature verified and which asks for nothing a client may
/// not have.
#[derive(Clone, Debug)]
pub struct VerifiedCsr {
    request: CertReq,
    requested_extensions: Vec<Extension>,
}

impl VerifiedCsr {
    /// The subject the requester asked for (advisory).
    pub fn subject(&self) -> &Name {
        &self.request.info.subject
    }

    /// The public key to certify.
    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.request.info.public_key
    }

    /// The extensions the requester asked for (advisory).
    pub fn requested_extensions(&self) -> &[Extension] {
        &self.requested_extensions
    }
}

/// Parses and verifies a request (see the module docs).
pub fn parse_csr(input: &[u8]) -> Result<VerifiedCsr> {
    if input.len() > MAX_CSR_INPUT_LEN {
        return Err(Error::TooLarge {
            what: "the certificate signing request",
            len: input.len(),
            max: MAX_CSR_INPUT_LEN,
        });
    }
    let der = if input.trim_ascii_start().starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(input)
            .map_err(|_| Error::Pem("the request is not UTF-8 text".into()))?;
        pem::decode_one_of(
            text.trim(),
            &[pem::CERTIFICATE_REQUEST, pem::NEW_CERTIFICATE_REQUEST],
        )?
        .1
    } else {
        input.to_vec()
    };
    let request = CertReq::from_der(&der).map_err(Error::der("reading the request"))?;
    if request.to_der().ok().as_deref() != Some(der.as_slice()) {
        return Err(Error::CsrRefused("the request is not canonical DER"));
    }
    verify_signature(&request)?;
    let requested_extensions = requested_extensions(&request)?;
    refuse_ca_extensions(&requested_extensions)?;
    Ok(VerifiedCsr {
        request,
        requested_extensions,
    })
}

fn verify_signature(request: &CertReq) -> Result<()> {
    let scheme = scheme_of(&request.algorithm)
        .ok_or_else(|| Error::CsrAlgorithm(request.algorithm.oid.to_string()))?;
    let key = verifying_key(&request.info.public_key).map_err(|_| {
        Error::CsrRefused("the public key is not an RSA, ECDSA or Ed25519 key in canonical DER")
    })?;
    if matches!(key.key_type(), KeyType::Ec(EcCurve::P521)) {
        return Err(Error::CsrRefused(
            "P-521 keys are not accepted (use P-256, P-384, RSA or Ed25519)",
        ));
    }
    if !scheme.is_compatible_with(key.key_type()) {
        return Err(Error::CsrRefused(
            "the signature algorithm does not fit the public key",
        ));
    }
    let signature = request.signature.as_bytes().ok_or(Error::CsrRefused(
        "the signature is not a whole number of bytes",
    ))?;
    let info = request
        .info
        .to_der()
        .map_err(Error::der("encoding the request info"))?;
    if !key.verify(scheme, &info, signature)? {
        return Err(Error::CsrRefused("the signature does not verify"));
    }
    Ok(())
}

/// The extensions of every `extensionRequest` attribute.
fn requested_extensions(request: &CertReq) -> Result<Vec<Extension>> {
    let mut out = Vec::new();
    for attribute in request.info.attributes.iter() {
        if attribute.oid != ID_EXTENSION_REQ {
            continue;
        }
        for value in attribute.values.iter() {
            let req: ExtensionReq = value
                .decode_as()
                .map_err(Error::der("reading the requested extensions"))?;
            out.extend(req.0);
        }
    }
    Ok(out)
}

fn refuse_ca_extensions(extensions: &[Extension]) -> Result<()> {
    for ext in extensions {
        if ext.extn_id == BasicConstraints::OID {
            let bc = BasicConstraints::from_der(ext.extn_value.as_bytes())
                .map_err(Error::der("reading the requested basicConstraints"))?;
            if bc.ca {
                return Err(Error::CsrRefused("the request asks for a CA certificate"));
            }
        } else if ext.extn_id == KeyUsage::OID {
            let ku = KeyUsage::from_der(ext.extn_value.as_bytes())
                .map_err(Error::der("reading the requested keyUsage"))?;
            if ku.key_cert_sign() || ku.crl_sign() {
                return Err(Error::CsrRefused(
                    "the request asks to sign certificates or CRLs",
                ));
            }
        }
    }
    Ok(())
}
