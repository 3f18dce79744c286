//! Conversions between the two ECDSA signature encodings.
//!
//! * DER: `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (X9.62,
//!   RFC 3279), what X.509, CMS and TLS carry.
//! * Fixed: `r ‖ s`, each left-padded to the curve's field length (IEEE P1363),
//!   what JOSE (RFC 7518), PKCS#11 and WebCrypto carry.
//!
//! AWS-LC signs in DER; these helpers give the fixed form on the way out and
//! build the DER form of a fixed signature on the way in. Neither panics on
//! any input.

/// DER `ECDSA-Sig-Value` → `r ‖ s` with each half `field_len` bytes.
/// `None` if `der` is not a well-formed signature whose integers fit.
pub(super) fn der_to_fixed(der: &[u8], field_len: usize) -> Option<Vec<u8>> {
    let (content, rest) = read_tlv(der, 0x30)?;
    if !rest.is_empty() {
        return None;
    }
    let (r, content) = read_tlv(content, 0x02)?;
    let (s, content) = read_tlv(content, 0x02)?;
    if !content.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(2 * field_len);
    push_fixed(&mut out, r, field_len)?;
    push_fixed(&mut out, s, field_len)?;
    Some(out)
}

/// `r ‖ s` (exactly `2 * field_len` bytes) → DER `ECDSA-Sig-Value`.
/// `None` if the length is wrong. Range checks (0 < r, s < n) are left to the
/// verifier, which rejects out-of-range values.
pub(super) fn fixed_to_der(fixed: &[u8], field_len: usize) -> Option<Vec<u8>> {
    if fixed.len() != field_len.checked_mul(2)? {
        return None;
    }
    let (r, s) = fixed.split_at(field_len);
    let mut content = Vec::with_capacity(fixed.len() + 6);
    push_integer(&mut content, r);
    push_integer(&mut content, s);
    let mut out = Vec::with_capacity(content.len() + 3);
    out.push(0x30);
    push_len(&mut out, content.len());
    out.extend_from_slice(&content);
    Some(out)
}

/// Reads one DER TLV with tag `tag`; returns (value, rest).
fn read_tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, input) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, input) = input.split_first()?;
    let (len, input) = match first {
        0x00..=0x7f => (usize::from(first), input),
        0x81 => {
            let (&l, input) = input.split_first()?;
            if l < 0x80 {
                return None; // not minimal
            }
            (usize::from(l), input)
        }
        0x82 => {
            let (hi, input) = (input.first()?, input.get(1..)?);
            let (lo, input) = (input.first()?, input.get(1..)?);
            let l = usize::from(*hi) << 8 | usize::from(*lo);
            if l < 0x100 {
                return None; // not minimal
            }
            (l, input)
        }
        _ => return None,
    };
    if input.len() < len {
        return None;
    }
    Some(input.split_at(len))
}

/// Appends a positive DER INTEGER's magnitude, left-padded to `field_len`.
fn push_fixed(out: &mut Vec<u8>, integer: &[u8], field_len: usize) -> Option<()> {
    let (&first, _) = integer.split_first()?;
    if first & 0x80 != 0 {
        return None; // negative
    }
    let magnitude = match integer {
        [0, rest @ ..] if !rest.is_empty() => {
            if rest.first().is_some_and(|b| b & 0x80 == 0) {
                return None; // not minimal
            }
            rest
        }
        _ => integer,
    };
    let pad = field_len.checked_sub(magnitude.len())?;
    out.extend(std::iter::repeat_n(0u8, pad));
    out.extend_from_slice(magnitude);
    Some(())
}

/// Appends `magnitude` (big-endian, unsigned) as a minimal DER INTEGER.
pub(super) fn push_integer(out: &mut Vec<u8>, magnitude: &[u8]) {
    let start = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    let trimmed = magnitude.get(start..).unwrap_or_default();
    let needs_zero = trimmed.first().is_none_or(|&b| b & 0x80 != 0);
    out.push(0x02);
    push_len(out, trimmed.len() + usize::from(needs_zero));
    if needs_zero {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
}

pub(super) fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.push(0x81);
        out.push(len as u8);
    } else {
        out.push(0x82);
        out.push((len >> 8) as u8);
        out.push(len as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_pads() {
        let mut fixed = vec![0u8; 64];
        fixed[31] = 1; // r = 1
        fixed[32] = 0x80; // s has its high bit set
        let der = fixed_to_der(&fixed, 32).unwrap();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
        assert_eq!(der_to_fixed(&der, 32).unwrap(), fixed);
    }

    #[test]
    fn rejects_malformed() {
        assert!(fixed_to_der(&[0u8; 63], 32).is_none());
        assert!(der_to_fixed(&[], 32).is_none());
        assert!(der_to_fixed(&[0x30, 0x03, 0x02, 0x01, 0x01], 32).is_none());
        assert!(der_to_fixed(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x81], 32).is_none());
        assert!(
            der_to_fixed(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01], 32).is_none()
        );
        // Trailing bytes.
        assert!(
            der_to_fixed(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00], 32).is_none()
        );
        // Long form length for a short value.
        assert!(
            der_to_fixed(&[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], 32).is_none()
        );
        // Too large for the field.
        let mut big = vec![0x30, 0x26, 0x02, 0x21];
        big.extend([1u8; 33]);
        big.extend([0x02, 0x01, 0x01]);
        assert!(der_to_fixed(&big, 32).is_none());
    }
}
