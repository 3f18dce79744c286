//! [`SecretBytes`]: the only buffer key material is kept in.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// Bytes that are secret: zeroized on drop (including when the buffer grows),
/// never shown by `Debug`, compared in constant time.
#[derive(Clone, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// An empty buffer that can hold `capacity` bytes without moving.
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    /// Copies `bytes` into a new secret buffer.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut out = Self::with_capacity(bytes.len());
        out.0.extend_from_slice(bytes);
        out
    }

    /// Takes ownership of `bytes`; the caller's vector is moved, not copied.
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// `len` zero bytes, to be filled in place (e.g. by the RNG).
    pub fn zeroed(len: usize) -> Self {
        Self(Zeroizing::new(vec![0u8; len]))
    }

    /// Appends `bytes`. When the buffer must grow, the old allocation is
    /// zeroized before it is released, which `Vec::extend` alone would not do.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(self.0.capacity() * 2));
            grown.extend_from_slice(&self.0);
            self.0.zeroize();
            self.0 = Zeroizing::new(grown);
        }
        self.0.extend_from_slice(bytes);
    }

    /// The secret bytes. Call sites are the places to review.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Mutable access, for filling in place.
    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time equality.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.0.len() == other.len() && bool::from(self.0.as_slice().ct_eq(other))
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.0.len())
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other.expose())
    }
}

impl Eq for SecretBytes {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_bytes() {
        let s = SecretBytes::from_slice(b"\x01\x02secret");
        assert_eq!(format!("{s:?}"), "SecretBytes([REDACTED; 8])");
    }

    #[test]
    fn grows_and_compares() {
        let mut s = SecretBytes::with_capacity(1);
        s.extend_from_slice(b"ab");
        s.extend_from_slice(b"cdef");
        assert!(s.ct_eq(b"abcdef"));
        assert!(!s.ct_eq(b"abcdeg"));
        assert!(!s.ct_eq(b"abc"));
    }
}
