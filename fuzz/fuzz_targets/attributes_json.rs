//! The attribute JSON of an object row: parse and validate must not panic.
#![no_main]

use kms_core::object::Attributes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = serde_json::from_slice::<Attributes>(data) {
        let _ = a.validate();
        let _ = serde_json::to_vec(&a);
    }
});
