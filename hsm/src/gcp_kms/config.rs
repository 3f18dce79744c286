//! What the operator configures: which Cloud KMS key, where, with which
//! credentials, and how patiently.

use std::time::Duration;

use super::errors::GcpKmsError;

/// Which Cloud KMS crypto key seals the root key, and how to reach it.
///
/// No secret is ever part of this configuration: credentials come from
/// Application Default Credentials (see [`GcpCredentials`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpKmsConfig {
    /// The crypto key's full resource name,
    /// `projects/P/locations/L/keyRings/R/cryptoKeys/K`. It must be a
    /// symmetric key of purpose `ENCRYPT_DECRYPT`; Encrypt uses its primary
    /// version, Decrypt finds the version in the ciphertext.
    pub key_name: String,
    /// Another endpoint than `https://cloudkms.googleapis.com`: a regional or
    /// Private Service Connect endpoint, or a local stand-in in tests.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Where credentials come from.
    #[serde(default)]
    pub credentials: GcpCredentials,
}

/// Where the client's credentials come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GcpCredentials {
    /// Application Default Credentials: `GOOGLE_APPLICATION_CREDENTIALS`,
    /// then the gcloud ADC file, then the metadata server of GCE, GKE or
    /// Cloud Run.
    #[default]
    ApplicationDefault,
    /// No credentials at all. Only for a local test endpoint: it needs an
    /// explicit `endpoint_url`, and Google's public endpoint would refuse it.
    Anonymous,
}

impl GcpCredentials {
    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            GcpCredentials::ApplicationDefault => "application-default",
            GcpCredentials::Anonymous => "anonymous",
        }
    }
}

impl GcpKmsConfig {
    /// A configuration for `key_name` with the public endpoint and
    /// Application Default Credentials.
    pub fn new(key_name: impl Into<String>) -> Self {
        Self {
            key_name: key_name.into(),
            endpoint_url: None,
            credentials: GcpCredentials::ApplicationDefault,
        }
    }

    /// Sets the endpoint URL.
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Sets where credentials come from.
    pub fn with_credentials(mut self, credentials: GcpCredentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Checks every field; the first problem found is the error.
    pub(crate) fn validate(&self) -> Result<(), GcpKmsError> {
        validate_key_name(&self.key_name)?;
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(GcpKmsError::Config(format!(
                "endpoint_url {url:?} must start with https:// (or http:// for a local test endpoint)"
            )));
        }
        if self.credentials == GcpCredentials::Anonymous && self.endpoint_url.is_none() {
            return Err(GcpKmsError::Config(
                "credentials = \"anonymous\" is only for a local test endpoint: set endpoint_url, or use \"application-default\"".into(),
            ));
        }
        Ok(())
    }
}

/// Longest resource id Cloud KMS allows for a key ring or a crypto key.
const MAX_ID: usize = 63;

/// Checks `projects/P/locations/L/keyRings/R/cryptoKeys/K`.
///
/// The client library would turn most malformed names into a request to a
/// wrong URL or a binding error on first use; checking here makes a typo a
/// configuration error at start-up that names the bad segment.
pub fn validate_key_name(name: &str) -> Result<(), GcpKmsError> {
    let bad = |reason: String| GcpKmsError::ResourceName {
        name: name.to_string(),
        reason,
    };
    let parts: Vec<&str> = name.split('/').collect();
    let [
        "projects",
        project,
        "locations",
        location,
        "keyRings",
        ring,
        "cryptoKeys",
        key,
    ] = parts.as_slice()
    else {
        if name.contains("/cryptoKeyVersions/") {
            return Err(bad(
                "name the crypto key, not one of its versions: Encrypt uses the primary version and Decrypt reads the version from the ciphertext".into(),
            ));
        }
        return Err(bad(
            "expected projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY".into(),
        ));
    };
    // Project ids may be domain-scoped (`example.com:project`); project
    // numbers are digits. Locations are lower-case words with dashes.
    check_segment("project", project, 100, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | ':')
    })
    .map_err(&bad)?;
    check_segment("location", location, MAX_ID, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    })
    .map_err(&bad)?;
    let id_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-');
    check_segment("key ring", ring, MAX_ID, id_char).map_err(&bad)?;
    check_segment("crypto key", key, MAX_ID, id_char).map_err(&bad)?;
    Ok(())
}

fn check_segment(
    what: &str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if value.len() > max {
        return Err(format!("the {what} is longer than {max} characters"));
    }
    if let Some(c) = value.chars().find(|c| !allowed(*c)) {
        return Err(format!("the {what} {value:?} contains {c:?}"));
    }
    Ok(())
}

/// Retries and time limits for every Cloud KMS call.
///
/// The defaults suit start-up, where one call decides whether the service
/// runs: up to four attempts with exponential backoff and full jitter
/// (200 ms doubling to at most 5 s), retrying `UNAVAILABLE`,
/// `RESOURCE_EXHAUSTED` (HTTP 429) and failures to connect or to read the
/// answer; 5 s per attempt (connection included) and 10 s for the whole
/// call. An unreachable Cloud KMS therefore stops start-up within about
/// 10 s with a network or timeout error instead of hanging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resilience {
    /// Attempts per call, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The first retry's backoff ceiling; it doubles per attempt.
    pub initial_backoff: Duration,
    /// The largest backoff between two attempts.
    pub max_backoff: Duration,
    /// The limit for one attempt, from connecting to the last byte.
    pub attempt_timeout: Duration,
    /// The limit for the whole call, retries and backoff included.
    pub operation_timeout: Duration,
}

impl Default for Resilience {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "projects/strongroom-prod/locations/europe-west1/keyRings/strongroom/cryptoKeys/root";

    #[test]
    fn a_key_name_is_accepted() {
        GcpKmsConfig::new(KEY).validate().unwrap();
        GcpKmsConfig::new("projects/123456789/locations/global/keyRings/r_1/cryptoKeys/K-2")
            .validate()
            .unwrap();
        GcpKmsConfig::new("projects/example.com:prod/locations/us/keyRings/r/cryptoKeys/k")
            .validate()
            .unwrap();
    }

    #[test]
    fn bad_names_say_what_is_wrong() {
        for (name, needle) in [
            ("", "expected projects/"),
            ("root", "expected projects/"),
            (
                "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
                "not one of its versions",
            ),
            (
                "projects/p/locations/l/keyRings/r/cryptoKeys/",
                "crypto key is empty",
            ),
            (
                "projects/p/locations/l/keyRing/r/cryptoKeys/k",
                "expected projects/",
            ),
            (
                "projects/p/locations/l/keyRings/r/cryptoKeys/k ",
                "contains ' '",
            ),
            ("projects/P!/locations/l/keyRings/r/cryptoKeys/k", "project"),
            (
                "projects/p/locations/EU/keyRings/r/cryptoKeys/k",
                "location",
            ),
            (
                "/projects/p/locations/l/keyRings/r/cryptoKeys/k",
                "expected projects/",
            ),
            (
                "projects/p/locations/l/keyRings/r/cryptoKeys/k?x",
                "contains '?'",
            ),
        ] {
            let err = GcpKmsConfig::new(name).validate().unwrap_err();
            assert!(
                matches!(&err, GcpKmsError::ResourceName { .. }),
                "{name}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains(needle), "{name}: {text}");
        }
        let long = format!(
            "projects/p/locations/l/keyRings/{}/cryptoKeys/k",
            "r".repeat(64)
        );
        assert!(GcpKmsConfig::new(long).validate().is_err());
    }

    #[test]
    fn endpoint_and_credentials_are_checked() {
        let err = GcpKmsConfig::new(KEY)
            .with_endpoint_url("cloudkms.googleapis.com")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("must start with https://"), "{err}");
        let err = GcpKmsConfig::new(KEY)
            .with_credentials(GcpCredentials::Anonymous)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("local test endpoint"), "{err}");
        GcpKmsConfig::new(KEY)
            .with_endpoint_url("http://127.0.0.1:1")
            .with_credentials(GcpCredentials::Anonymous)
            .validate()
            .unwrap();
    }
}
