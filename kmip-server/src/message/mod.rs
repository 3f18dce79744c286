//! # Messages — requests, responses and batches (KMIP 1.4 §6, §7)
//!
//! [`RequestMessage::from_ttlv`] reads a decoded request: the header (with
//! Protocol Version, Maximum Response Size, Asynchronous Indicator,
//! Authentication, Batch Error Continuation Option, Batch Order Option,
//! Time Stamp, Batch Count) and each batch item. Unknown or repeated fields
//! are refused as KMIP 1.4 §11.1 says: Invalid Field for a field the
//! message's version does not have, Invalid Message for a repeated one or
//! a payload that cannot be read. A header that cannot be read fails the
//! whole message; a batch item that cannot be read fails only itself.
//!
//! [`ResponseMessage`] is the answer: a header with the request's Protocol
//! Version, a Time Stamp and the Batch Count, then one batch item per
//! request item, echoing its Operation and Unique Batch Item ID, with a
//! Result Status and either the Response Payload or a Result Reason and
//! Result Message.
//!
//! [`OperationError`] is every way an item can fail, one variant per KMIP
//! Result Reason; `From<kms_core::Error>` is the one place domain errors
//! are mapped (KMIP 1.x reports an object in the wrong lifecycle state as
//! Permission Denied: "Wrong Key Lifecycle State" only exists from 2.0).
//!
//! [`attributes`] converts KMIP 1.x `Attribute` structures (Attribute Name,
//! Attribute Index, Attribute Value) to and from kms-core's typed
//! attributes, refusing names the request's version does not define.

pub mod attributes;
mod error;
mod request;
mod response;
mod version;

pub use error::{OpResult, OperationError};
pub use request::{
    ContinuationOption, MessageError, RequestBatchItem, RequestHeader, RequestMessage,
    UnreadableItem, check_fields, sniff_version,
};
pub use response::{Outcome, ResponseBatchItem, ResponseMessage};
pub use version::ProtocolVersion;
