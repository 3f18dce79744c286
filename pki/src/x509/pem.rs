//! PEM (RFC 7468) in and out.
//!
//! Output uses LF line endings and 64-column lines, which OpenSSL, rustls and
//! every other reader accept. Input must be exactly one PEM block with the
//! expected label, at most [`MAX_PEM_LEN`] bytes; text around the block is
//! refused rather than guessed at (RFC 7468's strict form). A private key is
//! encoded into a [`Zeroizing`] string, so its base64 does not outlive its use.

use der::pem::{self as rfc7468, LineEnding};
use zeroize::Zeroizing;

use super::error::{Error, Result};

pub const CERTIFICATE: &str = "CERTIFICATE";
pub const X509_CRL: &str = "X509 CRL";
pub const CERTIFICATE_REQUEST: &str = "CERTIFICATE REQUEST";
/// The label some older tools (Netscape, early OpenSSL) write on requests.
pub const NEW_CERTIFICATE_REQUEST: &str = "NEW CERTIFICATE REQUEST";
pub const PRIVATE_KEY: &str = "PRIVATE KEY";

/// The largest PEM input read, in bytes. Certificates, requests and CRLs of
/// this CA are a few kilobytes.
pub const MAX_PEM_LEN: usize = 1024 * 1024;

/// `der` as a PEM block labelled `label`.
pub fn encode(label: &str, der: &[u8]) -> Result<String> {
    rfc7468::encode_string(label, LineEnding::LF, der).map_err(pem_error)
}

/// Secret `der` (a private key) as a PEM block in a zeroizing string.
pub fn encode_secret(label: &str, der: &[u8]) -> Result<Zeroizing<String>> {
    let len = rfc7468::encoded_len(label, LineEnding::LF, der).map_err(pem_error)?;
    let mut buf = Zeroizing::new(vec![0u8; len]);
    let written = rfc7468::encode(label, LineEnding::LF, der, &mut buf)
        .map_err(pem_error)?
        .len();
    buf.truncate(written);
    let bytes = std::mem::take(&mut *buf);
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            Err(Error::Pem("the encoder wrote non-UTF-8".into()))
        }
    }
}

/// The DER inside the single PEM block of `text`, whose label must be `label`.
pub fn decode(text: &str, label: &str) -> Result<Vec<u8>> {
    decode_one_of(text, &[label]).map(|(_, der)| der)
}

/// The label (one of `labels`) and DER of the single PEM block of `text`.
pub fn decode_one_of<'l>(text: &str, labels: &[&'l str]) -> Result<(&'l str, Vec<u8>)> {
    if text.len() > MAX_PEM_LEN {
        return Err(Error::TooLarge {
            what: "PEM input",
            len: text.len(),
            max: MAX_PEM_LEN,
        });
    }
    let (found, der) = rfc7468::decode_vec(text.as_bytes()).map_err(pem_error)?;
    let label = labels.iter().find(|l| **l == found).ok_or_else(|| {
        Error::Pem(format!(
            "expected a {} block, found {:.40}",
            labels.join(" or "),
            found
        ))
    })?;
    Ok((label, der))
}

fn pem_error(e: rfc7468::Error) -> Error {
    Error::Pem(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_label_check() {
        let text = encode(CERTIFICATE, b"\x30\x03\x02\x01\x01").unwrap();
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert_eq!(decode(&text, CERTIFICATE).unwrap(), b"\x30\x03\x02\x01\x01");
        assert!(decode(&text, X509_CRL).is_err());
        let secret = encode_secret(PRIVATE_KEY, b"secret").unwrap();
        assert_eq!(decode(&secret, PRIVATE_KEY).unwrap(), b"secret");
    }

    #[test]
    fn garbage_and_oversize_input_is_refused() {
        assert!(decode("not pem", CERTIFICATE).is_err());
        let huge = "A".repeat(MAX_PEM_LEN + 1);
        assert!(matches!(
            decode(&huge, CERTIFICATE),
            Err(Error::TooLarge { .. })
        ));
    }
}
