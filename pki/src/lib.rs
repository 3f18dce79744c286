//! # pki — Strongroom's certificates
//!
//! This crate owns every X.509 certificate Strongroom makes for itself or for
//! its clients:
//!
//! * [`dev_tls`]: the throwaway certificate authority of `strongroom serve
//!   --dev`. It issues one server certificate for `localhost`, `127.0.0.1` and
//!   `::1`, so that the HTTPS API (and later the KMIP listener) speak TLS from
//!   the first start, verified by a CA certificate that scripts and tests can
//!   pin.
//!
//! * [`x509`]: the managed X.509 certificate authority — a CA whose key is a
//!   `kms-core` managed object (wrapped by the root of trust or resident in
//!   an HSM) and never enters this crate; server and client certificates,
//!   certificate signing requests and CRLs. The KMIP listener's CA is built
//!   on it, and so will the general X.509 CA be.
//!
//! ## Rules this crate keeps
//! * Private keys leave this crate only as PEM inside
//!   [`zeroize::Zeroizing`] strings or as
//!   [`kms_core::crypto::SecretBytes`], and no `Debug` impl prints them.
//!   CA private keys never enter it: they sign inside `kms-core`.
//! * It writes no files: callers decide where (and with which permissions)
//!   certificates and keys are stored.
//! * No `unsafe`.

#![forbid(unsafe_code)]

pub mod dev_tls;
pub mod x509;
