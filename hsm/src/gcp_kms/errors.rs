//! What can go wrong talking to Cloud KMS, one variant per thing an operator
//! does differently about it.

use std::error::Error as _;
use std::time::Duration;

use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::error::rpc::Code;
use kms_core::hierarchy::RootError;

/// The provider name in [`RootError::Provider`].
pub const PROVIDER: &str = "gcp-kms";

/// A Cloud KMS root-of-trust failure. Messages name the key, the call and
/// what to check; they never contain credentials or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GcpKmsError {
    /// The crypto key's resource name is malformed.
    #[error("configuration: key_name {name:?} is not a Cloud KMS crypto key name: {reason}")]
    ResourceName { name: String, reason: String },
    /// Another unusable setting (endpoint, credentials source).
    #[error("configuration: {0}")]
    Config(String),
    /// No credentials could be found, or Google rejected them
    /// (`UNAUTHENTICATED`).
    #[error(
        "{operation}: Google Cloud credentials missing or rejected ({detail}); check Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or the attached service account)"
    )]
    Credentials {
        operation: &'static str,
        detail: String,
    },
    /// The credentials are valid but may not use the key
    /// (`PERMISSION_DENIED`).
    #[error(
        "{operation} on {key}: permission denied ({detail}); grant roles/cloudkms.cryptoKeyEncrypterDecrypter on the key to the identity Strongroom runs as"
    )]
    PermissionDenied {
        operation: &'static str,
        key: String,
        detail: String,
    },
    /// No such key, key ring, location or project (`NOT_FOUND`).
    #[error("{operation} on {key}: the crypto key was not found ({detail})")]
    KeyNotFound {
        operation: &'static str,
        key: String,
        detail: String,
    },
    /// The key version is disabled, scheduled for destruction or destroyed,
    /// or the key has no usable primary version (`FAILED_PRECONDITION`).
    #[error(
        "{operation} on {key}: the key version is disabled or destroyed ({detail}); enable it (gcloud kms keys versions enable) to start this install"
    )]
    KeyDisabled {
        operation: &'static str,
        key: String,
        detail: String,
    },
    /// The ciphertext does not open (`INVALID_ARGUMENT` on Decrypt): it was
    /// sealed for another install or term (AAD), under another key, or it is
    /// damaged.
    #[error(
        "{operation} on {key}: the sealed root does not open ({detail}): it was sealed for another install or term, under another crypto key, or it is damaged"
    )]
    InvalidCiphertext {
        operation: &'static str,
        key: String,
        detail: String,
    },
    /// Cloud KMS still throttled the call after every retry
    /// (`RESOURCE_EXHAUSTED`, HTTP 429).
    #[error(
        "{operation} on {key}: throttled by Cloud KMS, still after retrying (up to {attempts} attempts; {detail}); lower the request rate or raise the quota"
    )]
    Throttled {
        operation: &'static str,
        key: String,
        attempts: u32,
        detail: String,
    },
    /// Cloud KMS could not be reached or said it is unavailable: DNS,
    /// connection refused or reset, TLS, `UNAVAILABLE`.
    #[error("{operation}: cannot reach Cloud KMS at {endpoint}: {detail}")]
    Network {
        operation: &'static str,
        endpoint: String,
        detail: String,
    },
    /// An attempt or the whole call exceeded its time limit.
    #[error("{operation}: Cloud KMS at {endpoint} did not answer within {limit:?} ({detail})")]
    Timeout {
        operation: &'static str,
        endpoint: String,
        limit: Duration,
        detail: String,
    },
    /// A CRC32C check failed: the request or the answer was damaged in
    /// transit. Retrying is safe; a repeat points at the network path.
    #[error("{operation} on {key}: integrity check failed: {detail}")]
    Integrity {
        operation: &'static str,
        key: String,
        detail: String,
    },
    /// Any other error returned by the service.
    #[error("{operation} on {key}: Cloud KMS error {code}: {detail}")]
    Service {
        operation: &'static str,
        key: String,
        code: String,
        detail: String,
    },
    /// The answer could not be used (unparseable, missing field, a key
    /// version of another key, a plaintext that is not 32 bytes).
    #[error("{operation}: unexpected response from Cloud KMS: {detail}")]
    BadResponse {
        operation: &'static str,
        detail: String,
    },
    /// The stored sealed root is not in this provider's format.
    #[error("the sealed root is not a Cloud KMS seal: {0}")]
    SealFormat(String),
}

impl From<GcpKmsError> for RootError {
    fn from(e: GcpKmsError) -> Self {
        RootError::Provider {
            provider: PROVIDER,
            reason: e.to_string(),
        }
    }
}

/// What a failed call was doing, for classification.
pub(crate) struct CallSite<'a> {
    pub operation: &'static str,
    pub key: &'a str,
    pub endpoint: &'a str,
    pub attempts: u32,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
}

impl CallSite<'_> {
    /// Sorts a client error into the variant an operator acts on.
    pub(crate) fn classify(&self, err: &GaxError) -> GcpKmsError {
        // A retry loop that ran out of time wraps the last attempt's error.
        if err.is_exhausted()
            && let Some(inner) = err.source().and_then(|s| s.downcast_ref::<GaxError>())
        {
            return self.classify(inner);
        }
        if let Some(status) = err.status() {
            return self.classify_status(status.code, &status.message);
        }
        let detail = chain(err);
        if err.is_authentication() {
            return GcpKmsError::Credentials {
                operation: self.operation,
                detail,
            };
        }
        if err.is_timeout() {
            // A timed-out attempt is not retried: the attempt's limit (or
            // what was left of the call's) is what ran out.
            let limit = self.attempt_timeout.min(self.operation_timeout);
            return self.timeout_after(limit, detail);
        }
        if err.is_exhausted() {
            return self.timeout(detail);
        }
        if err.is_connect() || err.is_io() {
            return self.network(detail);
        }
        if err.is_binding() {
            return GcpKmsError::ResourceName {
                name: self.key.to_string(),
                reason: detail,
            };
        }
        match err.http_status_code() {
            // An error body that is not Google's JSON: a proxy or a wrong
            // endpoint answered. Sort by HTTP status as far as it tells.
            Some(429) => self.classify_status(Code::ResourceExhausted, &detail),
            Some(502..=504) => self.network(detail),
            Some(code) => GcpKmsError::Service {
                operation: self.operation,
                key: self.key.to_string(),
                code: format!("HTTP {code}"),
                detail,
            },
            None => GcpKmsError::BadResponse {
                operation: self.operation,
                detail,
            },
        }
    }

    /// Sorts a service error by its canonical code.
    pub(crate) fn classify_status(&self, code: Code, message: &str) -> GcpKmsError {
        let operation = self.operation;
        let key = self.key.to_string();
        let detail = if message.is_empty() {
            code.name().to_string()
        } else {
            message.to_string()
        };
        match code {
            Code::PermissionDenied => GcpKmsError::PermissionDenied {
                operation,
                key,
                detail,
            },
            Code::NotFound => GcpKmsError::KeyNotFound {
                operation,
                key,
                detail,
            },
            Code::FailedPrecondition => GcpKmsError::KeyDisabled {
                operation,
                key,
                detail,
            },
            // On Decrypt, INVALID_ARGUMENT is how Cloud KMS says "this
            // ciphertext does not open with this key and AAD"; on Encrypt it
            // means a malformed request, which is ours to fix.
            Code::InvalidArgument if operation == "Decrypt" => GcpKmsError::InvalidCiphertext {
                operation,
                key,
                detail,
            },
            Code::ResourceExhausted => GcpKmsError::Throttled {
                operation,
                key,
                attempts: self.attempts,
                detail,
            },
            Code::Unauthenticated => GcpKmsError::Credentials {
                operation,
                detail: format!("UNAUTHENTICATED: {detail}"),
            },
            Code::Unavailable => self.network(format!("UNAVAILABLE: {detail}")),
            Code::DeadlineExceeded => self.timeout(format!("DEADLINE_EXCEEDED: {detail}")),
            other => GcpKmsError::Service {
                operation,
                key,
                code: other.name().to_string(),
                detail,
            },
        }
    }

    fn network(&self, detail: String) -> GcpKmsError {
        GcpKmsError::Network {
            operation: self.operation,
            endpoint: self.endpoint.to_string(),
            detail,
        }
    }

    /// The whole call ran out of time.
    pub(crate) fn timeout(&self, detail: String) -> GcpKmsError {
        self.timeout_after(self.operation_timeout, detail)
    }

    fn timeout_after(&self, limit: Duration, detail: String) -> GcpKmsError {
        GcpKmsError::Timeout {
            operation: self.operation,
            endpoint: self.endpoint.to_string(),
            limit,
            detail,
        }
    }
}

/// The error and its sources on one line; a source already contained in
/// the text so far is skipped (the client's messages often repeat theirs).
fn chain(err: &GaxError) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_gax::error::CredentialsError;
    use google_cloud_gax::error::rpc::Status;

    fn site(operation: &'static str) -> CallSite<'static> {
        CallSite {
            operation,
            key: "projects/p/locations/l/keyRings/r/cryptoKeys/root",
            endpoint: "https://cloudkms.googleapis.com",
            attempts: 4,
            attempt_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(10),
        }
    }

    fn service(code: Code, message: &str) -> GaxError {
        GaxError::service(Status::default().set_code(code).set_message(message))
    }

    #[test]
    fn status_codes_map_to_distinct_errors() {
        let d = site("Decrypt");
        let e = site("Encrypt");
        for (site, code, check) in [
            (
                &d,
                Code::PermissionDenied,
                (|e| matches!(e, GcpKmsError::PermissionDenied { .. })) as fn(&GcpKmsError) -> bool,
            ),
            (&d, Code::NotFound, |e| {
                matches!(e, GcpKmsError::KeyNotFound { .. })
            }),
            (&d, Code::FailedPrecondition, |e| {
                matches!(e, GcpKmsError::KeyDisabled { .. })
            }),
            (&d, Code::InvalidArgument, |e| {
                matches!(e, GcpKmsError::InvalidCiphertext { .. })
            }),
            (&e, Code::InvalidArgument, |e| {
                matches!(e, GcpKmsError::Service { .. })
            }),
            (&d, Code::ResourceExhausted, |e| {
                matches!(e, GcpKmsError::Throttled { attempts: 4, .. })
            }),
            (&d, Code::Unauthenticated, |e| {
                matches!(e, GcpKmsError::Credentials { .. })
            }),
            (&d, Code::Unavailable, |e| {
                matches!(e, GcpKmsError::Network { .. })
            }),
            (&d, Code::DeadlineExceeded, |e| {
                matches!(e, GcpKmsError::Timeout { .. })
            }),
            (&d, Code::Internal, |e| {
                matches!(e, GcpKmsError::Service { .. })
            }),
        ] {
            let err = site.classify(&service(code, "message"));
            assert!(check(&err), "{code:?} on {}: {err:?}", site.operation);
        }
    }

    #[test]
    fn client_side_failures_are_sorted() {
        let s = site("Encrypt");
        let auth = GaxError::authentication(CredentialsError::from_msg(
            false,
            "no Application Default Credentials",
        ));
        assert!(matches!(s.classify(&auth), GcpKmsError::Credentials { .. }));
        let timeout = GaxError::timeout("deadline");
        assert!(matches!(
            s.classify(&timeout),
            GcpKmsError::Timeout { limit, .. } if limit == Duration::from_secs(5)
        ));
        let refused = GaxError::connect("connection refused");
        assert!(matches!(s.classify(&refused), GcpKmsError::Network { .. }));
        let exhausted = GaxError::exhausted(service(Code::ResourceExhausted, "quota"));
        assert!(matches!(
            s.classify(&exhausted),
            GcpKmsError::Throttled { .. }
        ));
    }

    #[test]
    fn messages_name_the_problem_and_the_fix() {
        let s = site("Decrypt");
        let denied = s
            .classify_status(
                Code::PermissionDenied,
                "Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied",
            )
            .to_string();
        assert!(
            denied.contains("permission denied") && denied.contains("cryptoKeyEncrypterDecrypter"),
            "{denied}"
        );
        let disabled: RootError = s
            .classify_status(Code::FailedPrecondition, "is not enabled")
            .into();
        let text = disabled.to_string();
        assert!(
            text.contains("gcp-kms")
                && text.contains("disabled")
                && text.contains("cryptoKeys/root"),
            "{text}"
        );
        let throttled = s
            .classify_status(Code::ResourceExhausted, "Quota exceeded")
            .to_string();
        assert!(throttled.contains("up to 4 attempts"), "{throttled}");
    }
}
