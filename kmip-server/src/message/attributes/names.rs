//! Attribute names by protocol version (KMIP 1.0–1.4 §3).

use crate::message::error::{OpResult, OperationError};
use crate::message::version::ProtocolVersion;

/// Every standard attribute name with the minor version of KMIP 1 that
/// introduced it.
const DEFINED: &[(&str, i32)] = &[
    ("Unique Identifier", 0),
    ("Name", 0),
    ("Object Type", 0),
    ("Cryptographic Algorithm", 0),
    ("Cryptographic Domain Parameters", 0),
    ("Cryptographic Length", 0),
    ("Cryptographic Parameters", 0),
    ("Certificate Type", 0),
    ("Certificate Identifier", 0),
    ("Certificate Subject", 0),
    ("Certificate Issuer", 0),
    ("Digest", 0),
    ("Operation Policy Name", 0),
    ("Cryptographic Usage Mask", 0),
    ("Lease Time", 0),
    ("Usage Limits", 0),
    ("State", 0),
    ("Initial Date", 0),
    ("Activation Date", 0),
    ("Process Start Date", 0),
    ("Protect Stop Date", 0),
    ("Deactivation Date", 0),
    ("Destroy Date", 0),
    ("Compromise Occurrence Date", 0),
    ("Compromise Date", 0),
    ("Revocation Reason", 0),
    ("Archive Date", 0),
    ("Object Group", 0),
    ("Link", 0),
    ("Application Specific Information", 0),
    ("Contact Information", 0),
    ("Last Change Date", 0),
    ("Certificate Length", 1),
    ("X.509 Certificate Identifier", 1),
    ("X.509 Certificate Subject", 1),
    ("X.509 Certificate Issuer", 1),
    ("Digital Signature Algorithm", 1),
    ("Fresh", 1),
    ("Alternative Name", 2),
    ("Key Value Present", 2),
    ("Key Value Location", 2),
    ("Original Creation Date", 2),
    ("Random Number Generator", 3),
    ("PKCS#12 Friendly Name", 4),
    ("Description", 4),
    ("Comment", 4),
    ("Sensitive", 4),
    ("Always Sensitive", 4),
    ("Extractable", 4),
    ("Never Extractable", 4),
];

/// Whether `name` is a custom attribute: `x-` set by clients, `y-` by
/// servers (KMIP 1.4 §3.39).
pub fn is_custom(name: &str) -> bool {
    name.starts_with("x-") || name.starts_with("y-")
}

/// Refuses a name that `version` does not define (KMIP 1.4 §11.1: an
/// unknown field in the request's own version is an Invalid Field).
pub fn check_defined(name: &str, version: ProtocolVersion) -> OpResult<()> {
    if is_custom(name) {
        return Ok(());
    }
    match DEFINED.iter().find(|(n, _)| *n == name) {
        Some((_, minor)) if *minor <= version.minor => Ok(()),
        Some((_, minor)) => Err(OperationError::InvalidField(format!(
            "attribute {name} is not defined in KMIP {version} (it was added in 1.{minor})"
        ))),
        None => Err(OperationError::InvalidField(format!(
            "{name:?} is not a KMIP {version} attribute name"
        ))),
    }
}
