//! Machine identities, Universal Auth, roles and authorization.
//!
//! * [`records`] — what is stored (kms-core records: MACed, revisioned,
//!   audited) and where;
//! * [`secrets`] — client secrets (Argon2id) and access tokens (SHA-256);
//! * [`service`] — login, renew, revoke, token → session, with caches;
//! * [`lockout`], [`trusted_ips`] — the two brakes on a leaked or guessed
//!   credential;
//! * [`permissions`] — resources, actions, built-in roles;
//! * [`caller`] — the `Caller` extractor and `Caller::authorize`, the one
//!   place every route's access is decided;
//! * [`provision`] — creating identities, their Universal Auth settings
//!   and client secrets (shared by the routes and the bootstrap).

pub mod caller;
pub mod lockout;
pub mod permissions;
pub mod provision;
pub mod records;
pub mod secrets;
pub mod service;
pub mod trusted_ips;

pub use caller::Caller;
pub use permissions::{Action, Permission, Resource};
pub use service::Auth;
