//! # Google Cloud KMS root of trust
//!
//! With this provider the root key of a Strongroom install is sealed by a
//! symmetric crypto key in Google Cloud KMS. The sealed root in `root.seal`
//! is useless without that key: a copy of the data directory on another
//! machine, or in another Google Cloud project, cannot be opened.
//!
//! The client is the official `google-cloud-kms-v1` crate (Google's
//! google-cloud-rust), speaking the Cloud KMS v1 REST API (JSON over
//! HTTPS).
//!
//! ## Setting it up
//!
//! 1. Create a key ring and a symmetric encryption key (purpose
//!    `ENCRYPT_DECRYPT`, any protection level: software, HSM or external):
//!
//!    ```text
//!    gcloud kms keyrings create strongroom --location europe-west1
//!    gcloud kms keys create root --keyring strongroom --location europe-west1 \
//!        --purpose encryption --protection-level hsm
//!    ```
//!
//! 2. Grant the identity Strongroom runs as
//!    `roles/cloudkms.cryptoKeyEncrypterDecrypter` on that key (the
//!    permissions `cloudkms.cryptoKeyVersions.useToEncrypt` and
//!    `useToDecrypt`). Nothing else is needed.
//!
//! 3. Configure the key ([`GcpKmsConfig`]):
//!
//!    | field | meaning |
//!    |---|---|
//!    | `key_name` | `projects/P/locations/L/keyRings/R/cryptoKeys/K` (checked at start-up) |
//!    | `endpoint_url` | optional; a regional or Private Service Connect endpoint, or a local test endpoint |
//!    | `credentials` | `application-default` (the default) or `anonymous` (local test endpoints only) |
//!
//!    Credentials are **never** part of Strongroom's configuration. They come
//!    from Application Default Credentials: the JSON file named by
//!    `GOOGLE_APPLICATION_CREDENTIALS` (service account, workload identity
//!    federation), the file `gcloud auth application-default login` writes,
//!    or the service account attached to the GCE VM, GKE pod or Cloud Run
//!    service (metadata server).
//!
//! ## What is stored, and what binds it
//!
//! Sealing calls `Encrypt` on the 32-byte root key with the additional
//! authenticated data (AAD)
//!
//! ```text
//! "strongroom/root-seal/v1/" ‖ install id ‖ "/" ‖ term (4 bytes, big-endian) ‖ "/gcp-kms/root-key"
//! ```
//!
//! ([`SealContext::aad`](kms_core::hierarchy::SealContext::aad) followed by
//! [`AAD_PURPOSE`]) and stores `"SRG1" ‖ ciphertext` (the 4-byte header is
//! the format version; Cloud KMS's ciphertext names the key version that
//! made it). Unsealing calls `Decrypt` on the configured key with the same
//! AAD, so a sealed root moved to another install or relabelled with
//! another term does not open, and neither does one sealed under another
//! crypto key. The plaintext must be exactly 32 bytes.
//!
//! Every request carries CRC32C checksums of its plaintext, ciphertext and
//! AAD, as Google recommends; the provider requires Cloud KMS to confirm
//! them (`verifiedPlaintextCrc32c`, `verifiedAdditionalAuthenticatedDataCrc32c`)
//! and checks the checksums of the answer (`ciphertextCrc32c`,
//! `plaintextCrc32c`), so bytes damaged in transit are an
//! [`GcpKmsError::Integrity`] error and never a wrong root key. It also
//! checks that `Encrypt` answered with a version of the configured key.
//!
//! Cloud KMS is called at `init`, at every start (a self-test that seals and
//! unseals a probe, then one `Decrypt` per root key term in use) and during
//! root migration or rotation, **never per request**: the unsealed root
//! lives in memory for the life of the process.
//!
//! Rotating the Cloud KMS key (a new primary version) needs nothing from
//! Strongroom: old seals still open while their version is enabled. Do not
//! disable or destroy a version while a seal made with it is in use:
//! migrate or rotate the root first (`strongroom root migrate`).
//!
//! ## Retries and time limits
//!
//! Every call is marked idempotent and retried on `UNAVAILABLE`,
//! `RESOURCE_EXHAUSTED` (HTTP 429) and connection or read failures: up to 4
//! attempts with exponential backoff and full jitter (200 ms doubling to at
//! most 5 s), 5 s per attempt and 10 s for the whole call, token fetching
//! included ([`Resilience`], adjustable with
//! [`GcpKmsRoot::with_resilience`]). An unreachable Cloud KMS makes start-up
//! fail within those bounds; the service refuses to start rather than run
//! without its root.
//!
//! ## Errors
//!
//! Each failure an operator handles differently has its own
//! [`GcpKmsError`] variant, and reaches kms-core as
//! `RootError::Provider { provider: "gcp-kms", reason }` with the same text:
//!
//! | situation | variant |
//! |---|---|
//! | malformed `key_name` | [`GcpKmsError::ResourceName`] |
//! | other bad configuration | [`GcpKmsError::Config`] |
//! | no credentials found, or `UNAUTHENTICATED` | [`GcpKmsError::Credentials`] |
//! | `PERMISSION_DENIED` | [`GcpKmsError::PermissionDenied`] |
//! | `NOT_FOUND` | [`GcpKmsError::KeyNotFound`] |
//! | version disabled or destroyed (`FAILED_PRECONDITION`) | [`GcpKmsError::KeyDisabled`] |
//! | other install or term, other key, damaged (`INVALID_ARGUMENT` on Decrypt) | [`GcpKmsError::InvalidCiphertext`] |
//! | still `RESOURCE_EXHAUSTED` after every retry | [`GcpKmsError::Throttled`] |
//! | DNS, refused connection, TLS, reset, `UNAVAILABLE` | [`GcpKmsError::Network`] |
//! | no answer within the time limit | [`GcpKmsError::Timeout`] |
//! | a CRC32C check failed | [`GcpKmsError::Integrity`] |
//!
//! ## Secrets
//!
//! Neither credentials nor plaintext are logged or put in an error. The
//! unsealed root key is moved out of the client's response into a
//! zeroizing [`SecretBytes`](kms_core::crypto::SecretBytes) at once. The
//! client library itself serialises the request and parses the response in
//! buffers it does not zeroize (the base64 text of the root key on the
//! wire); they are freed when the call returns. That is inherent to calling
//! Cloud KMS over HTTPS, and happens only at start-up, init and root
//! changes.
//!
//! ## Example
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use hsm::gcp_kms::{GcpKmsConfig, GcpKmsRoot};
//! use kms_core::service::{Kms, OpenOptions};
//!
//! let config = GcpKmsConfig::new(
//!     "projects/acme-prod/locations/europe-west1/keyRings/strongroom/cryptoKeys/root",
//! );
//! let root = GcpKmsRoot::connect(&config).await?;
//! let kms = Kms::open(&OpenOptions::sqlite_in("/var/lib/strongroom"), Arc::new(root)).await?;
//! # let _ = kms; Ok(()) }
//! ```

mod config;
mod errors;
mod provider;

pub use config::{GcpCredentials, GcpKmsConfig, Resilience, validate_key_name};
pub use errors::{GcpKmsError, PROVIDER};
pub use provider::{
    AAD_PURPOSE, DEFAULT_ENDPOINT, GcpKmsRoot, SEAL_MAGIC, additional_authenticated_data,
};
