//! `root.seal` contents: parsing must not panic on any bytes.
#![no_main]

use kms_core::hierarchy::seal_file::SealFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = SealFile::parse(data, "fuzz");
});
