//! # kms-core — Strongroom's domain
//!
//! This crate owns what a key management service *is*, without any network
//! code: the managed objects and their attributes ([`object`]), the KMIP
//! lifecycle ([`lifecycle`]), the key hierarchy and the roots of trust
//! ([`hierarchy`]), keys that live in an HSM ([`resident`]), every cryptographic primitive ([`crypto`]), storage
//! ([`store`]), the tamper-evident audit log ([`audit`]), the cache of
//! unwrapped keys ([`cache`]) and the service that ties them together
//! ([`service`]).
//!
//! Everything above it — the KMIP server, the HTTPS API, the certificate
//! authorities, the HSM providers — calls [`service::Kms`]; none of them
//! touches storage or unwraps a key on its own. That is how the lifecycle,
//! the hierarchy and the audit log apply to every caller unchanged.
//!
//! ## Rules this crate keeps
//! * Nothing secret is persisted unwrapped; every wrapped blob is bound to
//!   its owner through AES-GCM associated data ([`hierarchy::blob`]).
//! * Key material lives in [`crypto::SecretBytes`] or in aws-lc-rs key
//!   objects; no `Debug` impl prints it, no error carries it.
//! * Every state change and every use of a key is audited.
//! * No `unsafe`.

#![forbid(unsafe_code)]

pub mod audit;
pub mod cache;
pub mod crypto;
pub mod error;
pub mod hierarchy;
pub mod ids;
pub mod lifecycle;
pub mod object;
pub mod resident;
pub mod service;
pub mod store;

pub use error::{Error, Result};
