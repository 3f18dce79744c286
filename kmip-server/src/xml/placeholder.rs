//! Placeholders in the OASIS test vectors: values the test runner binds at
//! run time (identifiers the server chose, the current time, data the
//! server produced).

use std::fmt;

/// A `$NAME` value in a test vector. Every kind found in the 228 OASIS
/// KMIP 1.0–1.4 vectors has a variant; any other `$` value is an error, so
/// a new kind cannot be silently taken for text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placeholder {
    /// `$UNIQUE_IDENTIFIER_n`: the n-th identifier the server returned in
    /// this test case (bound from a response, substituted in requests).
    UniqueIdentifier(u32),
    /// `$NOW`, `$NOW-3600`, `$NOW+3600`: the current time plus an offset.
    Now { offset_seconds: i64 },
    /// `$DATA_n`: data produced by an earlier operation (e.g. ciphertext).
    Data(u32),
    /// `$KEY_MATERIAL_n`: key material returned by the server.
    KeyMaterial(u32),
    /// `$KEY_VALUE_n`: a key value (wrapped key) returned by the server.
    KeyValue(u32),
    /// `$IV_COUNTER_NONCE`: an IV the server generated.
    IvCounterNonce,
    /// `$SIGNATURE_DATA`: a signature the server produced.
    SignatureData,
    /// `$MAC_DATA`: a MAC the server produced.
    MacData,
    /// `$CORRELATION_VALUE`: the correlation value of a multi-part operation.
    CorrelationValue,
    /// `$AUTHENTICATED_ENCRYPTION_TAG`: an AEAD tag the server produced.
    AuthenticatedEncryptionTag,
}

fn indexed(text: &str, prefix: &str) -> Option<u32> {
    let digits = text.strip_prefix(prefix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl Placeholder {
    /// Parses `$…` text; `None` if it is not a known placeholder.
    pub fn parse(text: &str) -> Option<Placeholder> {
        let name = text.strip_prefix('$')?;
        if let Some(rest) = name.strip_prefix("NOW") {
            return now_offset(rest).map(|offset_seconds| Placeholder::Now { offset_seconds });
        }
        let simple = match name {
            "IV_COUNTER_NONCE" => Some(Placeholder::IvCounterNonce),
            "SIGNATURE_DATA" => Some(Placeholder::SignatureData),
            "MAC_DATA" => Some(Placeholder::MacData),
            "CORRELATION_VALUE" => Some(Placeholder::CorrelationValue),
            "AUTHENTICATED_ENCRYPTION_TAG" => Some(Placeholder::AuthenticatedEncryptionTag),
            _ => None,
        };
        simple
            .or_else(|| indexed(name, "UNIQUE_IDENTIFIER_").map(Placeholder::UniqueIdentifier))
            .or_else(|| indexed(name, "DATA_").map(Placeholder::Data))
            .or_else(|| indexed(name, "KEY_MATERIAL_").map(Placeholder::KeyMaterial))
            .or_else(|| indexed(name, "KEY_VALUE_").map(Placeholder::KeyValue))
    }
}

/// "" → 0, "-3600" → -3600, "+3600" → 3600.
fn now_offset(rest: &str) -> Option<i64> {
    if rest.is_empty() {
        return Some(0);
    }
    let (sign, digits) = match rest.split_at_checked(1)? {
        ("+", d) => (1, d),
        ("-", d) => (-1, d),
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().map(|v| sign * v)
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placeholder::UniqueIdentifier(n) => write!(f, "$UNIQUE_IDENTIFIER_{n}"),
            Placeholder::Now { offset_seconds: 0 } => f.write_str("$NOW"),
            Placeholder::Now { offset_seconds } => write!(f, "$NOW{offset_seconds:+}"),
            Placeholder::Data(n) => write!(f, "$DATA_{n}"),
            Placeholder::KeyMaterial(n) => write!(f, "$KEY_MATERIAL_{n}"),
            Placeholder::KeyValue(n) => write!(f, "$KEY_VALUE_{n}"),
            Placeholder::IvCounterNonce => f.write_str("$IV_COUNTER_NONCE"),
            Placeholder::SignatureData => f.write_str("$SIGNATURE_DATA"),
            Placeholder::MacData => f.write_str("$MAC_DATA"),
            Placeholder::CorrelationValue => f.write_str("$CORRELATION_VALUE"),
            Placeholder::AuthenticatedEncryptionTag => f.write_str("$AUTHENTICATED_ENCRYPTION_TAG"),
        }
    }
}
