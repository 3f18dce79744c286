//! KMIP TTLV from the network: decoding any bytes must not panic, and what
//! decodes must be canonical (re-encoding gives the same bytes) and decode
//! again to the same tree. The framing helper must agree with the decoder
//! on where a structure ends.
#![no_main]

use kmip_server::ttlv::{Limits, decode, encode, split_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::DEFAULT;
    let framed = split_frame(data, &limits);
    let Ok(tree) = decode(data, &limits) else { return };
    let bytes = encode(&tree).expect("a decoded tree re-encodes");
    assert_eq!(bytes.as_slice(), data, "only canonical encodings decode");
    assert_eq!(decode(&bytes, &limits).as_ref(), Ok(&tree));
    if tree.item_type() == kmip_server::ttlv::ItemType::Structure {
        assert_eq!(framed.ok().flatten(), Some(data.len()));
    }
});
