//! Decoding unwrapped key material must not panic and must round-trip.
#![no_main]

use kms_core::object::KeyMaterial;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(m) = KeyMaterial::decode(data) {
        assert_eq!(m.encode().expose(), data);
    }
});
