//! What can go wrong talking to AWS KMS, one variant per thing an operator
//! does differently about it.

use std::error::Error as _;
use std::time::Duration;

use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use kms_core::hierarchy::RootError;

/// The provider name in [`RootError::Provider`].
pub const PROVIDER: &str = "aws-kms";

/// An AWS KMS root-of-trust failure. Messages name the key, the call and
/// what to check; they never contain credentials or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsKmsError {
    /// The configuration is unusable (empty key id, conflicting region, …).
    #[error("configuration: {0}")]
    Config(String),
    /// No credentials could be found, or AWS rejected them.
    #[error(
        "{operation}: AWS credentials missing or rejected ({detail}); check the standard AWS credential chain (AWS_ACCESS_KEY_ID / AWS_PROFILE / instance role)"
    )]
    Credentials {
        operation: &'static str,
        detail: String,
    },
    /// AWS still throttled the call after every retry.
    #[error(
        "{operation} on {key_id}: throttled by AWS KMS, still after retrying (up to {attempts} attempts; {detail}); lower the request rate or raise the KMS quota"
    )]
    Throttled {
        operation: &'static str,
        key_id: String,
        attempts: u32,
        detail: String,
    },
    /// The credentials are valid but not allowed to use the key.
    #[error(
        "{operation} on {key_id}: access denied ({detail}); the key policy or IAM policy must allow kms:{operation}"
    )]
    AccessDenied {
        operation: &'static str,
        key_id: String,
        detail: String,
    },
    /// The key exists but is disabled (`DisabledException`).
    #[error(
        "{operation} on {key_id}: the KMS key is disabled; enable it (aws kms enable-key) to start this install"
    )]
    KeyDisabled {
        operation: &'static str,
        key_id: String,
    },
    /// No such key or alias in this account and region (`NotFoundException`).
    #[error(
        "{operation} on {key_id}: the KMS key was not found in this account and region ({detail})"
    )]
    KeyNotFound {
        operation: &'static str,
        key_id: String,
        detail: String,
    },
    /// The key cannot be used in its state: pending deletion or import,
    /// unavailable custom key store, wrong key usage or spec.
    #[error("{operation} on {key_id}: the KMS key cannot be used ({code}: {detail})")]
    KeyUnusable {
        operation: &'static str,
        key_id: String,
        code: String,
        detail: String,
    },
    /// The ciphertext does not open: it was sealed for another install or
    /// term (encryption context), under another key, or it is damaged.
    #[error(
        "{operation} on {key_id}: the sealed root does not open ({code}): it was sealed for another install or term, under another KMS key, or it is damaged"
    )]
    InvalidCiphertext {
        operation: &'static str,
        key_id: String,
        code: String,
    },
    /// AWS KMS could not be reached: DNS, connection refused, TLS, reset.
    #[error("{operation}: cannot reach AWS KMS at {endpoint}: {detail}")]
    Network {
        operation: &'static str,
        endpoint: String,
        detail: String,
    },
    /// A call or an attempt exceeded its time limit.
    #[error("{operation}: AWS KMS at {endpoint} did not answer within {limit:?} ({detail})")]
    Timeout {
        operation: &'static str,
        endpoint: String,
        limit: Duration,
        detail: String,
    },
    /// Any other error returned by the service.
    #[error("{operation} on {key_id}: AWS KMS error {code}: {detail}")]
    Service {
        operation: &'static str,
        key_id: String,
        code: String,
        detail: String,
    },
    /// The answer could not be used (unparseable response, missing field,
    /// a plaintext that is not 32 bytes).
    #[error("{operation}: unexpected response from AWS KMS: {detail}")]
    BadResponse {
        operation: &'static str,
        detail: String,
    },
    /// The stored sealed root is not in this provider's format.
    #[error("the sealed root is not an AWS KMS seal: {0}")]
    SealFormat(String),
}

impl From<AwsKmsError> for RootError {
    fn from(e: AwsKmsError) -> Self {
        RootError::Provider {
            provider: PROVIDER,
            reason: e.to_string(),
        }
    }
}

/// What a failed call was doing, for classification.
pub(crate) struct CallSite<'a> {
    pub operation: &'static str,
    pub key_id: &'a str,
    pub endpoint: &'a str,
    pub attempts: u32,
    pub operation_timeout: Duration,
}

impl CallSite<'_> {
    /// Sorts an SDK error into the variant an operator acts on.
    pub(crate) fn classify<E, R>(&self, err: SdkError<E, R>) -> AwsKmsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                self.classify_code(e.code().unwrap_or("Unknown"), e.message().unwrap_or(""))
            }
            SdkError::TimeoutError(_) => AwsKmsError::Timeout {
                operation: self.operation,
                endpoint: self.endpoint.to_string(),
                limit: self.operation_timeout,
                detail: chain(&err),
            },
            SdkError::DispatchFailure(dispatch) => {
                let detail = chain(&err);
                if dispatch.is_timeout() {
                    AwsKmsError::Timeout {
                        operation: self.operation,
                        endpoint: self.endpoint.to_string(),
                        limit: self.operation_timeout,
                        detail,
                    }
                } else if mentions_credentials(&detail) {
                    AwsKmsError::Credentials {
                        operation: self.operation,
                        detail,
                    }
                } else {
                    AwsKmsError::Network {
                        operation: self.operation,
                        endpoint: self.endpoint.to_string(),
                        detail,
                    }
                }
            }
            SdkError::ConstructionFailure(_) => {
                let detail = chain(&err);
                if mentions_credentials(&detail) {
                    AwsKmsError::Credentials {
                        operation: self.operation,
                        detail,
                    }
                } else {
                    AwsKmsError::Config(format!("{}: request not built: {detail}", self.operation))
                }
            }
            _ => AwsKmsError::BadResponse {
                operation: self.operation,
                detail: chain(&err),
            },
        }
    }

    /// Sorts a service error by its AWS error code.
    pub(crate) fn classify_code(&self, code: &str, message: &str) -> AwsKmsError {
        let operation = self.operation;
        let key_id = self.key_id.to_string();
        let detail = if message.is_empty() {
            code.to_string()
        } else {
            message.to_string()
        };
        match code {
            "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "LimitExceededException" => AwsKmsError::Throttled {
                operation,
                key_id,
                attempts: self.attempts,
                detail,
            },
            "AccessDeniedException" | "AccessDenied" => AwsKmsError::AccessDenied {
                operation,
                key_id,
                detail,
            },
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "MissingAuthenticationToken" => AwsKmsError::Credentials {
                operation,
                detail: format!("{code}: {detail}"),
            },
            "DisabledException" => AwsKmsError::KeyDisabled { operation, key_id },
            "NotFoundException" => AwsKmsError::KeyNotFound {
                operation,
                key_id,
                detail,
            },
            "InvalidCiphertextException" | "IncorrectKeyException" => {
                AwsKmsError::InvalidCiphertext {
                    operation,
                    key_id,
                    code: code.to_string(),
                }
            }
            "KMSInvalidStateException"
            | "KeyUnavailableException"
            | "InvalidKeyUsageException"
            | "UnsupportedOperationException" => AwsKmsError::KeyUnusable {
                operation,
                key_id,
                code: code.to_string(),
                detail,
            },
            _ => AwsKmsError::Service {
                operation,
                key_id,
                code: code.to_string(),
                detail,
            },
        }
    }
}

/// The error and its sources on one line (the SDK's top-level messages,
/// such as "dispatch failure", say little on their own).
fn chain<E, R>(err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let mut out = String::new();
    let mut source = err.source();
    while let Some(s) = source {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s.to_string());
        source = s.source();
    }
    if out.is_empty() {
        out = DisplayErrorContext(err).to_string();
    }
    out
}

fn mentions_credentials(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("credential") || d.contains("identity")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> CallSite<'static> {
        CallSite {
            operation: "Decrypt",
            key_id: "alias/root",
            endpoint: "https://kms.eu-west-1.amazonaws.com",
            attempts: 4,
            operation_timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn service_codes_map_to_distinct_errors() {
        let s = site();
        assert!(matches!(
            s.classify_code("ThrottlingException", "Rate exceeded"),
            AwsKmsError::Throttled { attempts: 4, .. }
        ));
        assert!(matches!(
            s.classify_code("AccessDeniedException", "not authorized"),
            AwsKmsError::AccessDenied { .. }
        ));
        assert!(matches!(
            s.classify_code("DisabledException", "x"),
            AwsKmsError::KeyDisabled { .. }
        ));
        assert!(matches!(
            s.classify_code("NotFoundException", "x"),
            AwsKmsError::KeyNotFound { .. }
        ));
        assert!(matches!(
            s.classify_code("InvalidCiphertextException", ""),
            AwsKmsError::InvalidCiphertext { .. }
        ));
        assert!(matches!(
            s.classify_code("IncorrectKeyException", ""),
            AwsKmsError::InvalidCiphertext { .. }
        ));
        assert!(matches!(
            s.classify_code("KMSInvalidStateException", "pending deletion"),
            AwsKmsError::KeyUnusable { .. }
        ));
        assert!(matches!(
            s.classify_code("UnrecognizedClientException", "bad token"),
            AwsKmsError::Credentials { .. }
        ));
        assert!(matches!(
            s.classify_code("KMSInternalException", "oops"),
            AwsKmsError::Service { .. }
        ));
    }

    #[test]
    fn messages_name_the_problem_and_the_fix() {
        let s = site();
        let throttled = s
            .classify_code("ThrottlingException", "Rate exceeded")
            .to_string();
        assert!(
            throttled.contains("throttled") && throttled.contains("up to 4 attempts"),
            "{throttled}"
        );
        let denied = s.classify_code("AccessDeniedException", "no").to_string();
        assert!(
            denied.contains("access denied") && denied.contains("kms:Decrypt"),
            "{denied}"
        );
        let disabled: RootError = s.classify_code("DisabledException", "").into();
        let text = disabled.to_string();
        assert!(
            text.contains("aws-kms") && text.contains("disabled") && text.contains("alias/root"),
            "{text}"
        );
    }
}
