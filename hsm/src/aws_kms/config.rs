//! What the operator configures: which KMS key, where, and how patiently.

use std::time::Duration;

use super::errors::AwsKmsError;

/// Which AWS KMS key seals the root key, and where to reach it.
///
/// Credentials are deliberately absent: they come from the standard AWS
/// chain (environment, shared config and credentials files, SSO, web
/// identity, ECS/EC2 instance roles), so no secret ever sits in
/// Strongroom's configuration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsKmsConfig {
    /// The KMS key: a key id (`1234abcd-…`), a key ARN
    /// (`arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…`), an alias
    /// (`alias/strongroom-root`) or an alias ARN. It must be a symmetric
    /// encryption key (`SYMMETRIC_DEFAULT`).
    pub key_id: String,
    /// The AWS region. When absent, the region of a key ARN is used, then
    /// the standard chain (`AWS_REGION`, the profile).
    #[serde(default)]
    pub region: Option<String>,
    /// Another endpoint than the public one for the region: a VPC endpoint,
    /// a FIPS endpoint, or a local stand-in such as `moto_server` in tests.
    #[serde(default)]
    pub endpoint_url: Option<String>,
}

impl AwsKmsConfig {
    /// A configuration for `key_id` with the region and endpoint left to the
    /// standard chain.
    pub fn new(key_id: impl Into<String>) -> Self {
        Self {
            key_id: key_id.into(),
            region: None,
            endpoint_url: None,
        }
    }

    /// Sets the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets the endpoint URL.
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Checks the fields and returns the region to use, if the configuration
    /// determines one (explicit, or from a key ARN).
    pub(crate) fn validate(&self) -> Result<Option<String>, AwsKmsError> {
        let key = self.key_id.trim();
        if key.is_empty() {
            return Err(AwsKmsError::Config("key_id is empty".into()));
        }
        if key != self.key_id || key.chars().any(char::is_whitespace) {
            return Err(AwsKmsError::Config(format!(
                "key_id {:?} contains whitespace",
                self.key_id
            )));
        }
        if let Some(region) = &self.region
            && (region.is_empty()
                || region
                    .chars()
                    .any(|c| !(c.is_ascii_alphanumeric() || c == '-')))
        {
            return Err(AwsKmsError::Config(format!(
                "region {region:?} is not an AWS region name"
            )));
        }
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(AwsKmsError::Config(format!(
                "endpoint_url {url:?} must start with https:// (or http:// for a local test endpoint)"
            )));
        }
        let arn_region = arn_region(key)?;
        match (&self.region, arn_region) {
            (Some(explicit), Some(arn)) if *explicit != arn => Err(AwsKmsError::Config(format!(
                "region {explicit} does not match the region {arn} of key ARN {key}"
            ))),
            (Some(explicit), _) => Ok(Some(explicit.clone())),
            (None, arn) => Ok(arn),
        }
    }
}

/// The region named by a KMS ARN (`arn:PARTITION:kms:REGION:ACCOUNT:key/…`
/// or `…:alias/…`), `None` for a bare key id or alias.
fn arn_region(key_id: &str) -> Result<Option<String>, AwsKmsError> {
    if !key_id.starts_with("arn:") {
        return Ok(None);
    }
    let parts: Vec<&str> = key_id.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _partition, "kms", region, _account, resource]
            if !region.is_empty()
                && (resource.starts_with("key/") || resource.starts_with("alias/")) =>
        {
            Ok(Some((*region).to_string()))
        }
        _ => Err(AwsKmsError::Config(format!(
            "key_id {key_id} is not a KMS key or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
        ))),
    }
}

/// Retries and time limits for every KMS call.
///
/// The defaults suit start-up, where one call decides whether the service
/// runs: four attempts in the SDK's *standard* retry mode (exponential
/// backoff with jitter from 200 ms to at most 5 s, retrying throttling,
/// transient service errors and connection failures), 3 s to connect, 5 s
/// per attempt, and 10 s for the whole call including retries. A start-up
/// against an unreachable KMS therefore fails after at most about 10 s with a
/// network or timeout error instead of hanging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resilience {
    /// Attempts per call, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The first retry's backoff (before jitter); it doubles per attempt.
    pub initial_backoff: Duration,
    /// The longest backoff between two attempts.
    pub max_backoff: Duration,
    /// The limit to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// The limit for one attempt.
    pub attempt_timeout: Duration,
    /// The limit for the whole call, retries included.
    pub operation_timeout: Duration,
}

impl Default for Resilience {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_comes_from_config_or_arn() {
        let arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(
            AwsKmsConfig::new(arn).validate().unwrap().as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            AwsKmsConfig::new("alias/root")
                .with_region("us-east-2")
                .validate()
                .unwrap()
                .as_deref(),
            Some("us-east-2")
        );
        assert_eq!(AwsKmsConfig::new("alias/root").validate().unwrap(), None);
        let conflict = AwsKmsConfig::new(arn).with_region("us-east-1").validate();
        assert!(matches!(conflict, Err(AwsKmsError::Config(m)) if m.contains("does not match")));
    }

    #[test]
    fn bad_fields_are_named() {
        for (config, needle) in [
            (AwsKmsConfig::new(""), "key_id is empty"),
            (AwsKmsConfig::new(" alias/x"), "whitespace"),
            (AwsKmsConfig::new("arn:aws:s3:::bucket"), "not a KMS key"),
            (
                AwsKmsConfig::new("alias/x").with_region("eu west"),
                "not an AWS region",
            ),
            (
                AwsKmsConfig::new("alias/x").with_endpoint_url("kms.local:4566"),
                "must start with https://",
            ),
        ] {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
