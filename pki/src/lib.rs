//! # pki — Strongroom's certificates
//!
//! This crate owns every X.509 certificate Strongroom makes for itself or for
//! its clients. Today that is one thing:
//!
//! * [`dev_tls`]: the throwaway certificate authority of `strongroom serve
//!   --dev`. It issues one server certificate for `localhost`, `127.0.0.1` and
//!   `::1`, so that the HTTPS API (and later the KMIP listener) speak TLS from
//!   the first start, verified by a CA certificate that scripts and tests can
//!   pin.
//!
//! Later work adds the managed certificate authorities here (root and
//! intermediate CAs whose keys live in the key hierarchy of `kms-core`, KMIP
//! client certificates, certificate signing requests). Those will replace the
//! development authority for production installs; its API stays small so the
//! swap does not ripple outwards.
//!
//! ## Rules this crate keeps
//! * Private keys leave this crate only as PEM inside
//!   [`zeroize::Zeroizing`] strings, and no `Debug` impl prints them.
//! * It writes no files: callers decide where (and with which permissions)
//!   certificates and keys are stored.
//! * No `unsafe`.

#![forbid(unsafe_code)]

pub mod dev_tls;
