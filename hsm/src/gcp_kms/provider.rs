//! [`GcpKmsRoot`]: the [`RootOfTrust`] that seals the root key with Cloud
//! KMS `Encrypt` and opens it with `Decrypt`.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use google_cloud_auth::credentials::anonymous;
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::options::RequestOptionsBuilder;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt};
use google_cloud_gax::retry_throttler::CircuitBreaker;
use google_cloud_kms_v1::client::KeyManagementService;
use kms_core::crypto::SecretBytes;
use kms_core::hierarchy::{RootError, RootKey, RootKind, RootOfTrust, SealContext, SealedRoot};

use super::config::{GcpCredentials, GcpKmsConfig, Resilience};
use super::errors::{CallSite, GcpKmsError};

/// The header of a sealed root: format version 1 of the Cloud KMS seal,
/// followed by the ciphertext exactly as Cloud KMS returned it.
pub const SEAL_MAGIC: &[u8; 4] = b"SRG1";

/// Appended to [`SealContext::aad`] in the additional authenticated data,
/// so a Cloud KMS ciphertext of the root key cannot be passed off as any
/// other Strongroom ciphertext under the same crypto key.
pub const AAD_PURPOSE: &[u8] = b"/gcp-kms/root-key";

/// Cloud KMS's public endpoint, used when none is configured.
pub const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com";

/// A root of trust backed by a symmetric Cloud KMS crypto key.
///
/// Build it with [`GcpKmsRoot::connect`], then hand it to `Kms::init` /
/// `Kms::open` as an `Arc<dyn RootOfTrust>`.
pub struct GcpKmsRoot {
    client: KeyManagementService,
    key_name: String,
    endpoint: String,
    resilience: Resilience,
}

impl GcpKmsRoot {
    /// Checks the configuration and builds the client.
    ///
    /// With Application Default Credentials, a credentials file that is
    /// named (`GOOGLE_APPLICATION_CREDENTIALS`) but missing or unreadable is
    /// an error here; a missing or wrong credential otherwise shows on the
    /// first seal or unseal (at start-up, the self-test). No call is made to
    /// Cloud KMS here.
    pub async fn connect(config: &GcpKmsConfig) -> Result<Self, GcpKmsError> {
        config.validate()?;
        let mut builder = KeyManagementService::builder();
        if let Some(url) = &config.endpoint_url {
            builder = builder.with_endpoint(url.trim_end_matches('/'));
        }
        if config.credentials == GcpCredentials::Anonymous {
            builder = builder.with_credentials(anonymous::Builder::new().build());
        }
        let client = builder.build().await.map_err(|e| {
            let detail = source_chain(&e);
            if e.is_default_credentials() {
                GcpKmsError::Credentials {
                    operation: "connect",
                    detail,
                }
            } else {
                GcpKmsError::Config(format!("cannot build the Cloud KMS client: {detail}"))
            }
        })?;
        Ok(Self {
            client,
            key_name: config.key_name.clone(),
            endpoint: config
                .endpoint_url
                .clone()
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            resilience: Resilience::default(),
        })
    }

    /// Replaces the retry and timeout settings.
    pub fn with_resilience(mut self, resilience: Resilience) -> Self {
        self.resilience = resilience;
        self
    }

    /// The configured crypto key's resource name.
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// The endpoint calls go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The retry and timeout settings in force.
    pub fn resilience(&self) -> Resilience {
        self.resilience
    }

    /// `Encrypt`s the root key under the configured crypto key with the AAD
    /// of `context`. Returns `SRG1 ‖ ciphertext`.
    pub async fn seal_root(
        &self,
        root: &RootKey,
        context: &SealContext,
    ) -> Result<SealedRoot, GcpKmsError> {
        tracing::debug!(key = %self.key_name, install = %context.install, term = context.term, "gcp-kms: sealing root key");
        let aad = additional_authenticated_data(context);
        let plaintext = root.expose_for_sealing();
        let request = self
            .client
            .encrypt()
            .set_name(&self.key_name)
            // The client takes ownership of the plaintext; it lives only for
            // the duration of the call (see the module documentation).
            .set_plaintext(plaintext.to_vec())
            .set_plaintext_crc32c(i64::from(crc32c::crc32c(plaintext)))
            .set_additional_authenticated_data(aad.clone())
            .set_additional_authenticated_data_crc32c(i64::from(crc32c::crc32c(&aad)));
        let out = self
            .call("Encrypt", self.with_policy(request).send())
            .await?;
        self.check_version_name(&out.name)?;
        if !out.verified_plaintext_crc32c || !out.verified_additional_authenticated_data_crc32c {
            return Err(self.integrity(
                "Encrypt",
                "Cloud KMS did not confirm the request checksums (verifiedPlaintextCrc32c / verifiedAdditionalAuthenticatedDataCrc32c)",
            ));
        }
        if out.ciphertext.is_empty() {
            return Err(GcpKmsError::BadResponse {
                operation: "Encrypt",
                detail: "no ciphertext in the response".into(),
            });
        }
        if out.ciphertext_crc32c != Some(i64::from(crc32c::crc32c(&out.ciphertext))) {
            return Err(self.integrity(
                "Encrypt",
                "the ciphertext does not match ciphertextCrc32c: the answer was damaged in transit",
            ));
        }
        let mut sealed = Vec::with_capacity(SEAL_MAGIC.len() + out.ciphertext.len());
        sealed.extend_from_slice(SEAL_MAGIC);
        sealed.extend_from_slice(&out.ciphertext);
        Ok(SealedRoot(sealed))
    }

    /// `Decrypt`s a sealed root with the configured crypto key and the AAD
    /// of `context`; checks the plaintext checksum and that 32 bytes come
    /// back.
    pub async fn unseal_root(
        &self,
        sealed: &SealedRoot,
        context: &SealContext,
    ) -> Result<RootKey, GcpKmsError> {
        let ciphertext = sealed
            .0
            .strip_prefix(SEAL_MAGIC.as_slice())
            .ok_or_else(|| {
                GcpKmsError::SealFormat(
                    "it does not start with SRG1 (was it sealed by another provider?)".into(),
                )
            })?;
        if ciphertext.is_empty() {
            return Err(GcpKmsError::SealFormat("the ciphertext is empty".into()));
        }
        tracing::debug!(key = %self.key_name, install = %context.install, term = context.term, "gcp-kms: unsealing root key");
        let aad = additional_authenticated_data(context);
        let request = self
            .client
            .decrypt()
            .set_name(&self.key_name)
            .set_ciphertext(ciphertext.to_vec())
            .set_ciphertext_crc32c(i64::from(crc32c::crc32c(ciphertext)))
            .set_additional_authenticated_data_crc32c(i64::from(crc32c::crc32c(&aad)))
            .set_additional_authenticated_data(aad);
        let out = self
            .call("Decrypt", self.with_policy(request).send())
            .await?;
        // Move the plaintext out of the response into a zeroizing buffer at
        // once (without a copy when the buffer is not shared), then check it.
        let expected_crc = out.plaintext_crc32c;
        let plaintext = SecretBytes::from_vec(Vec::from(out.plaintext));
        if expected_crc != Some(i64::from(crc32c::crc32c(plaintext.expose()))) {
            return Err(self.integrity(
                "Decrypt",
                "the plaintext does not match plaintextCrc32c: the answer was damaged in transit",
            ));
        }
        if plaintext.len() != RootKey::LEN {
            return Err(GcpKmsError::BadResponse {
                operation: "Decrypt",
                detail: format!(
                    "the plaintext has {} bytes, a root key has {}",
                    plaintext.len(),
                    RootKey::LEN
                ),
            });
        }
        RootKey::from_bytes(context.term, plaintext).map_err(|e| GcpKmsError::BadResponse {
            operation: "Decrypt",
            detail: e.to_string(),
        })
    }

    /// Every request: idempotent (encrypting or decrypting the same bytes
    /// twice changes nothing), so transient failures are retried; bounded
    /// attempts and time.
    fn with_policy<R: RequestOptionsBuilder>(&self, request: R) -> R {
        let r = &self.resilience;
        let builder = || {
            ExponentialBackoffBuilder::new()
                .with_initial_delay(r.initial_backoff)
                .with_maximum_delay(r.max_backoff.max(r.initial_backoff))
        };
        // `build` refuses a zero initial delay; `clamp` would raise a small
        // maximum to 1 s, so it is only the fallback.
        let backoff = builder().build().unwrap_or_else(|_| builder().clamp());
        request
            .with_idempotency(true)
            .with_attempt_timeout(r.attempt_timeout)
            .with_retry_policy(
                Aip194Strict
                    .continue_on_too_many_requests()
                    .with_attempt_limit(r.max_attempts.max(1))
                    .with_time_limit(r.operation_timeout),
            )
            .with_backoff_policy(backoff)
            // The root of trust makes a handful of calls per process; the
            // attempt limit bounds retries. The default adaptive throttler
            // would drop retries at random on a fresh client, exactly when a
            // start-up most needs them.
            .with_retry_throttler(CircuitBreaker::clamp(1, 0, 0))
    }

    /// Runs one call under the operation time limit (which also bounds
    /// fetching a token from the credentials source) and sorts its error.
    async fn call<T>(
        &self,
        operation: &'static str,
        send: impl Future<Output = google_cloud_kms_v1::Result<T>>,
    ) -> Result<T, GcpKmsError> {
        let site = self.site(operation);
        // A little beyond the retry policy's own limit, so that its more
        // precise error normally wins.
        let limit = self.resilience.operation_timeout + Duration::from_millis(500);
        match tokio::time::timeout(limit, send).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(site.classify(&e)),
            Err(_) => Err(site.timeout("the call was abandoned".into())),
        }
    }

    /// The response must name a version of the configured key:
    /// `KEY/cryptoKeyVersions/N`.
    fn check_version_name(&self, name: &str) -> Result<(), GcpKmsError> {
        let version = name
            .strip_prefix(self.key_name.as_str())
            .and_then(|rest| rest.strip_prefix("/cryptoKeyVersions/"));
        match version {
            Some(v) if !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(())
            }
            _ => Err(GcpKmsError::BadResponse {
                operation: "Encrypt",
                detail: format!(
                    "the response names {name:?}, not a version of {}",
                    self.key_name
                ),
            }),
        }
    }

    fn integrity(&self, operation: &'static str, detail: &str) -> GcpKmsError {
        GcpKmsError::Integrity {
            operation,
            key: self.key_name.clone(),
            detail: detail.to_string(),
        }
    }

    fn site(&self, operation: &'static str) -> CallSite<'_> {
        CallSite {
            operation,
            key: &self.key_name,
            endpoint: &self.endpoint,
            attempts: self.resilience.max_attempts.max(1),
            attempt_timeout: self.resilience.attempt_timeout,
            operation_timeout: self.resilience.operation_timeout,
        }
    }
}

/// The AAD binding a ciphertext to an install and a term:
/// [`SealContext::aad`] followed by [`AAD_PURPOSE`].
pub fn additional_authenticated_data(context: &SealContext) -> Vec<u8> {
    let mut aad = context.aad();
    aad.extend_from_slice(AAD_PURPOSE);
    aad
}

fn source_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl std::fmt::Debug for GcpKmsRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpKmsRoot")
            .field("key_name", &self.key_name)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RootOfTrust for GcpKmsRoot {
    fn kind(&self) -> RootKind {
        RootKind::GcpKms
    }

    fn describe(&self) -> String {
        format!("Cloud KMS key {} ({})", self.key_name, self.endpoint)
    }

    async fn seal(&self, root: &RootKey, context: &SealContext) -> Result<SealedRoot, RootError> {
        Ok(self.seal_root(root, context).await?)
    }

    async fn unseal(
        &self,
        sealed: &SealedRoot,
        context: &SealContext,
    ) -> Result<RootKey, RootError> {
        Ok(self.unseal_root(sealed, context).await?)
    }
}
