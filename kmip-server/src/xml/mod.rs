//! # The KMIP XML encoding
mod names;
pub use names::normalize_name;
