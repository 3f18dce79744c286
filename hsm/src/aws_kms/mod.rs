//! # AWS KMS root of trust
//!
//! With this provider the root key of a Strongroom install is sealed by a
//! symmetric key in AWS KMS. The sealed root in `root.seal` is useless
//! without that KMS key: a copy of the data directory on another machine,
//! or in another AWS account, cannot be opened.
//!
//! ## Setting it up
//!
//! 1. Create a symmetric encryption key (`SYMMETRIC_DEFAULT`, usage
//!    `ENCRYPT_DECRYPT`), ideally with an alias:
//!
//!    ```text
//!    aws kms create-key --description "Strongroom root" --key-usage ENCRYPT_DECRYPT
//!    aws kms create-alias --alias-name alias/strongroom-root --target-key-id <KeyId>
//!    ```
//!
//! 2. Allow the identity Strongroom runs as to call `kms:Encrypt` and
//!    `kms:Decrypt` on that key, preferably only with Strongroom's encryption
//!    context (a condition on `kms:EncryptionContext:strongroom:purpose` =
//!    `root-key`). Nothing else is needed: no `DescribeKey`, no `GenerateDataKey`.
//!
//! 3. Configure the key ([`AwsKmsConfig`]):
//!
//!    | field | meaning |
//!    |---|---|
//!    | `key_id` | key id, key ARN, `alias/…` or alias ARN |
//!    | `region` | optional; defaults to the ARN's region, then `AWS_REGION` / the profile |
//!    | `endpoint_url` | optional; a VPC or FIPS endpoint, or a local test endpoint |
//!
//!    Credentials are **never** part of Strongroom's configuration. They come
//!    from the standard AWS chain: `AWS_ACCESS_KEY_ID` /
//!    `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, `AWS_PROFILE` and the
//!    shared files, SSO, web identity (EKS), the ECS task role or the EC2
//!    instance role.
//!
//! ## What is stored, and what binds it
//!
//! Sealing calls KMS `Encrypt` on the 32-byte root key with the encryption
//! context
//!
//! ```text
//! strongroom:install = <install id>
//! strongroom:term    = <root key term, decimal>
//! strongroom:purpose = root-key
//! ```
//!
//! and stores `"SRA1" ‖ CiphertextBlob` (the 4-byte header is the format
//! version). Unsealing calls `Decrypt` with the configured key id and the
//! same context, so a sealed root moved to another install or relabelled
//! with another term does not open, and neither does one sealed under
//! another KMS key. The plaintext must be exactly 32 bytes. Because the
//! context appears in CloudTrail, every use of the root key is visible there
//! with the install it belongs to; the context holds nothing secret.
//!
//! KMS is called at `init`, at every start (a self-test that seals and
//! unseals a probe, then one `Decrypt` per root key term in use) and during
//! root migration or rotation, **never per request**: the unsealed root lives
//! in memory for the life of the process.
//!
//! If you configure an alias and later point it at another key, old seals
//! no longer open (KMS answers `IncorrectKeyException`, reported as
//! [`AwsKmsError::InvalidCiphertext`]): migrate the root first
//! (`strongroom root migrate`), then move the alias.
//!
//! ## Retries and time limits
//!
//! Every call uses the SDK's standard retry mode, 4 attempts with
//! exponential backoff and jitter (200 ms to 5 s), 3 s to connect, 5 s per
//! attempt and 10 s for the whole call ([`Resilience`], adjustable with
//! [`AwsKmsRoot::with_resilience`]). An unreachable KMS makes start-up fail
//! within those bounds; the service refuses to start rather than run
//! without its root.
//!
//! ## Errors
//!
//! Each failure an operator handles differently has its own
//! [`AwsKmsError`] variant, and reaches kms-core as
//! `RootError::Provider { provider: "aws-kms", reason }` with the same text:
//!
//! | situation | variant |
//! |---|---|
//! | bad configuration, no region | [`AwsKmsError::Config`] |
//! | no credentials found, or AWS rejects them | [`AwsKmsError::Credentials`] |
//! | still throttled after every retry | [`AwsKmsError::Throttled`] |
//! | identity not allowed to use the key | [`AwsKmsError::AccessDenied`] |
//! | key disabled (`DisabledException`) | [`AwsKmsError::KeyDisabled`] |
//! | no such key or alias (`NotFoundException`) | [`AwsKmsError::KeyNotFound`] |
//! | pending deletion, unavailable, wrong key usage | [`AwsKmsError::KeyUnusable`] |
//! | other install or term, other key, damaged (`InvalidCiphertextException`, `IncorrectKeyException`) | [`AwsKmsError::InvalidCiphertext`] |
//! | DNS, refused connection, TLS, reset | [`AwsKmsError::Network`] |
//! | no answer within the time limit | [`AwsKmsError::Timeout`] |
//!
//! ## Secrets
//!
//! Neither credentials nor plaintext are logged or put in an error. The
//! unsealed root key is moved out of the SDK's response buffer into a
//! zeroizing [`SecretBytes`](kms_core::crypto::SecretBytes) at once. The
//! SDK itself serialises the request and parses the response in buffers it
//! does not zeroize (the base64 text of the root key on the wire); they are
//! freed when the call returns. That is inherent to calling KMS over HTTPS,
//! and happens only at start-up, init and root changes.
//!
//! ## Example
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use hsm::aws_kms::{AwsKmsConfig, AwsKmsRoot};
//! use kms_core::service::{Kms, OpenOptions};
//!
//! let config = AwsKmsConfig::new("alias/strongroom-root").with_region("eu-west-1");
//! let root = AwsKmsRoot::connect(&config).await?;
//! let kms = Kms::open(&OpenOptions::sqlite_in("/var/lib/strongroom"), Arc::new(root)).await?;
//! # let _ = kms; Ok(()) }
//! ```

mod config;
mod errors;
mod provider;

pub use config::{AwsKmsConfig, Resilience};
pub use errors::{AwsKmsError, PROVIDER};
pub use provider::{
    AwsKmsRoot, CONTEXT_INSTALL, CONTEXT_PURPOSE, CONTEXT_TERM, PURPOSE_ROOT_KEY, SEAL_MAGIC,
    encryption_context,
};
