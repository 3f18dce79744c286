//! # api — the `strongroom` binary and its HTTPS API
//!
//! This crate owns everything between the operator and [`kms_core`]:
//!
//! * the command line ([`cli`]): `serve`, `init`, `audit verify`;
//! * the command-line client of the HTTPS API ([`client`]): `login`,
//!   `whoami`, `key …`, `encrypt`, `decrypt`, `sign`, `verify`;
//! * the configuration ([`config`]): a strict TOML file, `STRONGROOM_*`
//!   environment overrides and flags, in that order of increasing precedence;
//! * choosing the root of trust ([`root`]) and opening the install
//!   ([`install`]);
//! * dev mode's zero-configuration start and `bootstrap.json`
//!   ([`bootstrap`]);
//! * the process shape ([`serve`]): one tokio runtime, the listeners sharing
//!   one [`http::AppState`], the lifecycle sweeper, graceful shutdown
//!   ([`shutdown`]);
//! * the HTTPS API ([`http`]) over rustls ([`tls`]);
//! * the KMIP front end ([`kmip`]): its CA and server certificate, the
//!   client registry and directory, `strongroom kmip client …`;
//! * logs ([`logging`]).
//!
//! It holds no key management logic of its own: every request reaches keys
//! through [`kms_core::service::Kms`], which applies the lifecycle, the key
//! hierarchy and the audit log. Certificates come from the `pki` crate; the
//! KMIP listener, from `kmip-server`.
//!
//! ## Rules this crate keeps
//! * Secrets (passphrases, TLS and root keys) are read straight into
//!   zeroizing types, are never taken from command-line arguments, and are
//!   never logged or printed.
//! * Files holding secrets are created 0600 and the data directory 0700;
//!   files are replaced atomically.
//! * Every failure exits non-zero with one line that names what to fix.
//! * No `unsafe`.

#![forbid(unsafe_code)]

pub mod admin;
pub mod bootstrap;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod fsutil;
pub mod http;
pub mod install;
pub mod kmip;
pub mod logging;
pub mod root;
pub mod root_commands;
pub mod serve;
pub mod shutdown;
pub mod tls;
