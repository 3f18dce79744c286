//! [`AwsKmsRoot`]: the [`RootOfTrust`] that seals the root key with AWS KMS
//! `Encrypt` and opens it with `Decrypt`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kms::Client;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::primitives::Blob;
use kms_core::crypto::SecretBytes;
use kms_core::hierarchy::{RootError, RootKey, RootKind, RootOfTrust, SealContext, SealedRoot};

use super::config::{AwsKmsConfig, Resilience};
use super::errors::{AwsKmsError, CallSite};

/// The header of a sealed root: format version 1 of the AWS KMS seal,
/// followed by the `CiphertextBlob` exactly as KMS returned it.
pub const SEAL_MAGIC: &[u8; 4] = b"SRA1";

/// Encryption-context keys. KMS authenticates the context with the
/// ciphertext: `Decrypt` succeeds only with exactly the same pairs.
pub const CONTEXT_INSTALL: &str = "strongroom:install";
/// The root key term the ciphertext holds.
pub const CONTEXT_TERM: &str = "strongroom:term";
/// What the ciphertext is (always [`PURPOSE_ROOT_KEY`]).
pub const CONTEXT_PURPOSE: &str = "strongroom:purpose";
/// The value of [`CONTEXT_PURPOSE`].
pub const PURPOSE_ROOT_KEY: &str = "root-key";

/// A root of trust backed by a symmetric AWS KMS key.
///
/// Build it with [`AwsKmsRoot::connect`] (standard credential chain) or
/// [`AwsKmsRoot::from_sdk_config`] (an `SdkConfig` you assembled, e.g. with
/// explicit credentials), then hand it to `Kms::init` / `Kms::open` as an
/// `Arc<dyn RootOfTrust>`.
pub struct AwsKmsRoot {
    client: Client,
    key_id: String,
    region: String,
    endpoint: String,
    resilience: Resilience,
}

impl AwsKmsRoot {
    /// Loads region, credentials and endpoint settings from the standard AWS
    /// chain (`aws_config::defaults(BehaviorVersion::latest())`), with the
    /// region and endpoint of `config` taking precedence.
    ///
    /// No call is made to AWS here: credentials are resolved on first use,
    /// and a missing or wrong credential is reported by the first seal or
    /// unseal (at start-up, by the self-test).
    pub async fn connect(config: &AwsKmsConfig) -> Result<Self, AwsKmsError> {
        let region = config.validate()?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
        if let Some(url) = &config.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        Self::from_sdk_config(config, &sdk)
    }

    /// Builds the provider from an already loaded `SdkConfig`. The region
    /// and endpoint of `config` override those of `sdk`; the retry and
    /// timeout settings are always this provider's ([`Resilience`]).
    pub fn from_sdk_config(config: &AwsKmsConfig, sdk: &SdkConfig) -> Result<Self, AwsKmsError> {
        let region = match config.validate()? {
            Some(region) => region,
            None => sdk.region().map(|r| r.to_string()).ok_or_else(|| {
                AwsKmsError::Config(
                    "no AWS region: set region in the configuration, use a key ARN, or set AWS_REGION"
                        .into(),
                )
            })?,
        };
        let endpoint_url = config
            .endpoint_url
            .clone()
            .or_else(|| sdk.endpoint_url().map(str::to_string));
        let mut builder =
            aws_sdk_kms::config::Builder::from(sdk).region(Region::new(region.clone()));
        if let Some(url) = &endpoint_url {
            builder = builder.endpoint_url(url);
        }
        let resilience = Resilience::default();
        let client = Client::from_conf(apply(builder, &resilience).build());
        let endpoint =
            endpoint_url.unwrap_or_else(|| format!("https://kms.{region}.amazonaws.com"));
        Ok(Self {
            client,
            key_id: config.key_id.clone(),
            region,
            endpoint,
            resilience,
        })
    }

    /// Replaces the retry and timeout settings.
    pub fn with_resilience(mut self, resilience: Resilience) -> Self {
        let builder = self.client.config().to_builder();
        self.client = Client::from_conf(apply(builder, &resilience).build());
        self.resilience = resilience;
        self
    }

    /// The configured key id, ARN or alias.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The region calls go to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The retry and timeout settings in force.
    pub fn resilience(&self) -> Resilience {
        self.resilience
    }

    /// `Encrypt`s the root key under the configured KMS key, with the
    /// encryption context of `context`. Returns `SRA1 ‖ CiphertextBlob`.
    pub async fn seal_root(
        &self,
        root: &RootKey,
        context: &SealContext,
    ) -> Result<SealedRoot, AwsKmsError> {
        tracing::debug!(key = %self.key_id, install = %context.install, term = context.term, "aws-kms: sealing root key");
        // The SDK takes ownership of the plaintext; it lives only for the
        // duration of the call (see the module documentation).
        let plaintext = Blob::new(root.expose_for_sealing().to_vec());
        let out = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(plaintext)
            .set_encryption_context(Some(encryption_context(context)))
            .send()
            .await
            .map_err(|e| self.site("Encrypt").classify(e))?;
        let blob = out
            .ciphertext_blob
            .filter(|b| !b.as_ref().is_empty())
            .ok_or_else(|| AwsKmsError::BadResponse {
                operation: "Encrypt",
                detail: "no CiphertextBlob in the response".into(),
            })?;
        let mut sealed = Vec::with_capacity(SEAL_MAGIC.len() + blob.as_ref().len());
        sealed.extend_from_slice(SEAL_MAGIC);
        sealed.extend_from_slice(blob.as_ref());
        Ok(SealedRoot(sealed))
    }

    /// `Decrypt`s a sealed root with the configured KMS key and the
    /// encryption context of `context`; checks that 32 bytes come back.
    pub async fn unseal_root(
        &self,
        sealed: &SealedRoot,
        context: &SealContext,
    ) -> Result<RootKey, AwsKmsError> {
        let ciphertext = sealed
            .0
            .strip_prefix(SEAL_MAGIC.as_slice())
            .ok_or_else(|| {
                AwsKmsError::SealFormat(
                    "it does not start with SRA1 (was it sealed by another provider?)".into(),
                )
            })?;
        if ciphertext.is_empty() {
            return Err(AwsKmsError::SealFormat("the ciphertext is empty".into()));
        }
        tracing::debug!(key = %self.key_id, install = %context.install, term = context.term, "aws-kms: unsealing root key");
        let mut out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(ciphertext.to_vec()))
            .set_encryption_context(Some(encryption_context(context)))
            .send()
            .await
            .map_err(|e| self.site("Decrypt").classify(e))?;
        // Move the plaintext out of the SDK's Blob into a zeroizing buffer
        // at once, and drop the rest of the response.
        let plaintext = out
            .plaintext
            .take()
            .map(|b| SecretBytes::from_vec(b.into_inner()));
        drop(out);
        let plaintext = plaintext.ok_or_else(|| AwsKmsError::BadResponse {
            operation: "Decrypt",
            detail: "no Plaintext in the response".into(),
        })?;
        if plaintext.len() != RootKey::LEN {
            return Err(AwsKmsError::BadResponse {
                operation: "Decrypt",
                detail: format!(
                    "the plaintext has {} bytes, a root key has {}",
                    plaintext.len(),
                    RootKey::LEN
                ),
            });
        }
        RootKey::from_bytes(context.term, plaintext).map_err(|e| AwsKmsError::BadResponse {
            operation: "Decrypt",
            detail: e.to_string(),
        })
    }

    fn site(&self, operation: &'static str) -> CallSite<'_> {
        CallSite {
            operation,
            key_id: &self.key_id,
            endpoint: &self.endpoint,
            attempts: self.resilience.max_attempts,
            operation_timeout: self.resilience.operation_timeout,
        }
    }
}

/// The encryption context binding a ciphertext to an install and a term.
pub fn encryption_context(context: &SealContext) -> HashMap<String, String> {
    HashMap::from([
        (CONTEXT_INSTALL.to_string(), context.install.to_string()),
        (CONTEXT_TERM.to_string(), context.term.to_string()),
        (CONTEXT_PURPOSE.to_string(), PURPOSE_ROOT_KEY.to_string()),
    ])
}

fn apply(builder: aws_sdk_kms::config::Builder, r: &Resilience) -> aws_sdk_kms::config::Builder {
    builder
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(r.max_attempts.max(1))
                .with_initial_backoff(r.initial_backoff)
                .with_max_backoff(r.max_backoff),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(r.connect_timeout)
                .operation_attempt_timeout(r.attempt_timeout)
                .operation_timeout(r.operation_timeout)
                .build(),
        )
}

impl std::fmt::Debug for AwsKmsRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKmsRoot")
            .field("key_id", &self.key_id)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RootOfTrust for AwsKmsRoot {
    fn kind(&self) -> RootKind {
        RootKind::AwsKms
    }

    fn describe(&self) -> String {
        format!(
            "AWS KMS key {} in {} ({})",
            self.key_id, self.region, self.endpoint
        )
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
