//! The self-describing envelope of ciphertexts and MACs:
//! `strongroom:v1:<version>:<base64 of key id ‖ body>`.
//!
//! `v1` is the envelope format and `<version>` the key version that made
//! it (decimal, counted from one). The first 16 decoded bytes are the key's
//! id, the rest AES-GCM's `nonce ‖ ciphertext ‖ tag` (or an HMAC tag).
//! Carrying the key id lets a ciphertext handed to the wrong key be named as
//! such instead of failing as "not authentic"; carrying the version lets
//! ciphertexts outlive rotations. Neither is trusted on its own: both are
//! bound into the AES-GCM associated data by [`aad`].

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::error::{TransitError, TransitResult};
use crate::ids::KeyId;

const PREFIX: &str = "strongroom:v1:";

/// Longest envelope string accepted, bounding the work done on input
/// before anything is checked: a 4 MiB body and its header, base64.
const MAX_ENVELOPE: usize = PREFIX.len() + 11 + (super::MAX_PAYLOAD + 256).div_ceil(3) * 4;

/// A parsed envelope.
pub(super) struct Envelope {
    pub version: u32,
    pub key: KeyId,
    pub body: Vec<u8>,
}

/// The envelope of `body`, made by `version` of key `key`.
pub(super) fn encode(key: KeyId, version: u32, body: &[u8]) -> String {
    let mut raw = Vec::with_capacity(16 + body.len());
    raw.extend_from_slice(key.as_bytes());
    raw.extend_from_slice(body);
    let mut out = String::with_capacity(PREFIX.len() + 11 + raw.len().div_ceil(3) * 4);
    out.push_str(PREFIX);
    // Writing into a String cannot fail.
    let _ = write!(out, "{version}:");
    B64.encode_string(&raw, &mut out);
    out
}

/// Parses an envelope; says which part is wrong.
pub(super) fn parse(text: &str) -> TransitResult<Envelope> {
    if text.len() > MAX_ENVELOPE {
        return Err(TransitError::TooLarge {
            what: "the ciphertext (characters)",
            limit: MAX_ENVELOPE,
        });
    }
    let rest = text
        .strip_prefix(PREFIX)
        .ok_or(TransitError::MalformedCiphertext(
            "it does not start with strongroom:v1:",
        ))?;
    let (version, data) = rest
        .split_once(':')
        .ok_or(TransitError::MalformedCiphertext("no key version"))?;
    let version = parse_version(version)?;
    let raw = B64
        .decode(data)
        .map_err(|_| TransitError::MalformedCiphertext("the body is not base64"))?;
    let (id, body) = raw
        .split_at_checked(16)
        .ok_or(TransitError::MalformedCiphertext("too short"))?;
    let id: [u8; 16] = id
        .try_into()
        .map_err(|_| TransitError::MalformedCiphertext("too short"))?;
    Ok(Envelope {
        version,
        key: KeyId::from_uuid(uuid::Uuid::from_bytes(id)),
        body: body.to_vec(),
    })
}

/// A decimal version from 1 to `u32::MAX`, digits only (no sign, no
/// leading zero), so each version has one spelling.
fn parse_version(text: &str) -> TransitResult<u32> {
    let well_formed = !text.is_empty()
        && text.len() <= 10
        && text.bytes().all(|b| b.is_ascii_digit())
        && !text.starts_with('0');
    well_formed
        .then(|| text.parse::<u32>().ok())
        .flatten()
        .ok_or(TransitError::MalformedCiphertext(
            "the key version is not a number from 1",
        ))
}

/// The AES-GCM associated data of `version` of key `key` with the caller's
/// encryption context. The context comes last, so no prefix of one input
/// is another's.
pub(super) fn aad(key: KeyId, version: u32, context: &[u8]) -> Vec<u8> {
    const DOMAIN: &[u8] = b"strongroom/transit/v1\0";
    let mut aad = Vec::with_capacity(DOMAIN.len() + 20 + context.len());
    aad.extend_from_slice(DOMAIN);
    aad.extend_from_slice(key.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(context);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let key = KeyId::generate();
        let text = encode(key, 42, b"body");
        let env = parse(&text).expect("parses");
        assert_eq!(
            (env.version, env.key, env.body.as_slice()),
            (42, key, &b"body"[..])
        );
    }

    #[test]
    fn malformed_inputs_are_named() {
        let key = KeyId::generate();
        let good = encode(key, 3, b"x");
        for bad in [
            String::new(),
            "vault:v1:abc".to_string(),
            good.replace(":3:", ":03:"),
            good.replace(":3:", ":0:"),
            good.replace(":3:", ":+3:"),
            good.replace(":3:", ":99999999999:"),
            good.replace(":3:", ":"),
            format!("{PREFIX}1:!!!"),
            format!("{PREFIX}1:{}", B64.encode([0u8; 15])),
        ] {
            assert!(
                matches!(parse(&bad), Err(TransitError::MalformedCiphertext(_))),
                "{bad:?} must be malformed"
            );
        }
        let huge = format!("{PREFIX}1:{}", "A".repeat(MAX_ENVELOPE));
        assert!(matches!(parse(&huge), Err(TransitError::TooLarge { .. })));
    }

    #[test]
    fn aad_binds_key_version_and_context() {
        let (a, b) = (KeyId::generate(), KeyId::generate());
        assert_ne!(aad(a, 1, b""), aad(b, 1, b""));
        assert_ne!(aad(a, 1, b""), aad(a, 2, b""));
        assert_ne!(aad(a, 1, b""), aad(a, 1, b"ctx"));
    }
}
