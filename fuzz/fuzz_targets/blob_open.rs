//! Wrapped blobs read back from the database: any bytes must give an error,
//! never a panic, and never open without the right key and binding.
#![no_main]

use kms_core::crypto::aead::{AeadAlgorithm, AeadKey};
use kms_core::hierarchy::blob::{self, Binding, Purpose, WrappedBy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = AeadKey::new(AeadAlgorithm::Aes256Gcm, &[3u8; 32]) else { return };
    let owner = [1u8; 16];
    let binding = Binding { purpose: Purpose::ObjectMaterial, owner: &owner, owner_version: 1 };
    let _ = blob::wrapped_by(data);
    assert!(blob::open(&key, WrappedBy::ProjectKeyVersion(1), &binding, data).is_err());
});
