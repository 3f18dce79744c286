//! # kmip-server — KMIP 1.0–1.4 over mutual TLS
//!
//! This crate will own Strongroom's KMIP server: the TTLV codec (written
//! here because the `kmip-protocol` crate only serializes requests and parses
//! responses — it is the test client), request and response messages with
//! batches, one file per KMIP operation, and the mutual-TLS listener on port
//! 5696 that maps client certificates to KMIP clients in projects.
//!
//! Every operation goes through [`kms_core::service::Kms`], so the
//! lifecycle, the key hierarchy and the audit log apply unchanged; this
//! crate must never touch storage or unwrap a key on its own. The binary in
//! the `api` crate already runs one tokio runtime with a slot for this
//! listener beside the HTTPS one.
//!
//! Today: [`ttlv`] (the binary codec, framing, and the KMIP 1.4 tag,
//! enumeration and mask constants) and [`xml`] (the KMIP XML encoding, used
//! to replay the OASIS test vectors).

#![forbid(unsafe_code)]

pub mod ttlv;
pub mod xml;
