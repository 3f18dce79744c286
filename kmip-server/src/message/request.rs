//! The Request Message (KMIP 1.4 §7.1, §7.2): header and batch items, read
//! from a decoded TTLV tree.
//!
//! A header that cannot be read fails the whole message; a batch item that
//! cannot be read fails only itself (KMIP 1.4 §11.1). Either way the error
//! is an [`OperationError`] carrying the Result Reason to answer with.

use crate::ttlv::enums::{BatchErrorContinuationOption, Operation};
use crate::ttlv::{Tag, Ttlv};

use super::error::{OpResult, OperationError};
use super::version::ProtocolVersion;

/// What the client asked for when a batch item fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContinuationOption {
    Continue,
    Stop,
    Undo,
}

/// The Request Header.
#[derive(Clone, Debug)]
pub struct RequestHeader {
    /// The version the client wrote.
    pub requested_version: ProtocolVersion,
    pub maximum_response_size: Option<usize>,
    pub asynchronous_indicator: bool,
    pub batch_error_continuation: ContinuationOption,
    pub batch_order_option: bool,
    pub time_stamp: Option<i64>,
    pub batch_count: usize,
}

/// One Request Batch Item.
#[derive(Clone, Debug)]
pub struct RequestBatchItem {
    pub operation: Operation,
    pub unique_batch_item_id: Option<Vec<u8>>,
    pub payload: Ttlv,
}

/// A batch item that could not be read, with what could be read of it so
/// the failed response can still echo it.
#[derive(Clone, Debug)]
pub struct UnreadableItem {
    pub operation: Option<Operation>,
    pub unique_batch_item_id: Option<Vec<u8>>,
    pub error: OperationError,
}

/// A Request Message whose header was readable.
#[derive(Debug)]
pub struct RequestMessage {
    pub header: RequestHeader,
    pub items: Vec<Result<RequestBatchItem, UnreadableItem>>,
}

/// A message that fails as a whole, with the best version we could read to
/// answer at.
#[derive(Clone, Debug)]
pub struct MessageError {
    pub version: Option<ProtocolVersion>,
    pub error: OperationError,
}

/// Header fields this server reads or knowingly ignores. Authentication is
/// accepted and ignored: the client is authenticated by its TLS
/// certificate (KMIP 1.4 §6.6 leaves the requirement to server policy).
const HEADER_FIELDS: &[Tag] = &[
    Tag::PROTOCOL_VERSION,
    Tag::MAXIMUM_RESPONSE_SIZE,
    Tag::CLIENT_CORRELATION_VALUE,
    Tag::SERVER_CORRELATION_VALUE,
    Tag::ASYNCHRONOUS_INDICATOR,
    Tag::ATTESTATION_CAPABLE_INDICATOR,
    Tag::ATTESTATION_TYPE,
    Tag::AUTHENTICATION,
    Tag::BATCH_ERROR_CONTINUATION_OPTION,
    Tag::BATCH_ORDER_OPTION,
    Tag::TIME_STAMP,
    Tag::BATCH_COUNT,
];

const ITEM_FIELDS: &[Tag] = &[
    Tag::OPERATION,
    Tag::UNIQUE_BATCH_ITEM_ID,
    Tag::REQUEST_PAYLOAD,
    Tag::MESSAGE_EXTENSION,
];

/// Refuses unknown and repeated fields in `item` (KMIP 1.4 §11.1).
pub fn check_fields(item: &Ttlv, allowed: &[Tag]) -> OpResult<()> {
    let children = item.as_structure()?;
    for (i, child) in children.iter().enumerate() {
        if !allowed.contains(&child.tag) {
            return Err(OperationError::InvalidField(format!(
                "{} does not contain {}",
                item.tag, child.tag
            )));
        }
        if children.iter().take(i).any(|c| c.tag == child.tag) {
            return Err(OperationError::InvalidMessage(format!(
                "{} contains {} more than once",
                item.tag, child.tag
            )));
        }
    }
    Ok(())
}

/// The version the message says it is in, if that much can be read. Used
/// to answer an otherwise unreadable message at the client's version.
pub fn sniff_version(message: &Ttlv) -> Option<ProtocolVersion> {
    let header = message.child(Tag::REQUEST_HEADER)?;
    let version = ProtocolVersion::from_ttlv(header.child(Tag::PROTOCOL_VERSION)?).ok()?;
    ProtocolVersion::negotiate(version).ok()
}

impl RequestMessage {
    /// Reads a Request Message. `max_batch_count` bounds the work one
    /// message can ask for.
    pub fn from_ttlv(message: &Ttlv, max_batch_count: usize) -> Result<Self, MessageError> {
        let version = sniff_version(message);
        let fail = |error| MessageError { version, error };
        if message.tag != Tag::REQUEST_MESSAGE {
            return Err(fail(OperationError::InvalidMessage(format!(
                "expected a Request Message, found {}",
                message.tag
            ))));
        }
        check_message_fields(message).map_err(fail)?;
        let header_item = message
            .required(Tag::REQUEST_HEADER)
            .map_err(|e| fail(e.into()))?;
        let header = RequestHeader::from_ttlv(header_item).map_err(fail)?;
        let items: Vec<&Ttlv> = message.children(Tag::BATCH_ITEM).collect();
        if items.len() > max_batch_count {
            return Err(fail(OperationError::InvalidMessage(format!(
                "{} batch items, over the limit of {max_batch_count}",
                items.len()
            ))));
        }
        if items.len() != header.batch_count {
            return Err(fail(OperationError::InvalidMessage(format!(
                "Batch Count says {} but the message has {} batch items",
                header.batch_count,
                items.len()
            ))));
        }
        Ok(Self {
            items: items.into_iter().map(RequestBatchItem::from_ttlv).collect(),
            header,
        })
    }
}

/// A Request Message holds one Request Header and Batch Items, nothing else.
fn check_message_fields(message: &Ttlv) -> OpResult<()> {
    let children = message.as_structure()?;
    if let Some(other) = children
        .iter()
        .find(|c| c.tag != Tag::REQUEST_HEADER && c.tag != Tag::BATCH_ITEM)
    {
        return Err(OperationError::InvalidField(format!(
            "a Request Message does not contain {}",
            other.tag
        )));
    }
    if message.children(Tag::REQUEST_HEADER).count() > 1 {
        return Err(OperationError::InvalidMessage(
            "the Request Header appears more than once".into(),
        ));
    }
    Ok(())
}

impl RequestHeader {
    fn from_ttlv(header: &Ttlv) -> OpResult<Self> {
        check_fields(header, HEADER_FIELDS)?;
        let requested_version =
            ProtocolVersion::from_ttlv(header.required(Tag::PROTOCOL_VERSION)?)?;
        let maximum_response_size = match header.child(Tag::MAXIMUM_RESPONSE_SIZE) {
            Some(item) => Some(usize::try_from(item.as_i32()?).map_err(|_| {
                OperationError::InvalidField("Maximum Response Size is negative".into())
            })?),
            None => None,
        };
        let batch_error_continuation = match header.child(Tag::BATCH_ERROR_CONTINUATION_OPTION) {
            None => ContinuationOption::Stop,
            Some(item) => match BatchErrorContinuationOption(item.as_enum()?) {
                BatchErrorContinuationOption::CONTINUE => ContinuationOption::Continue,
                BatchErrorContinuationOption::STOP => ContinuationOption::Stop,
                BatchErrorContinuationOption::UNDO => ContinuationOption::Undo,
                other => {
                    return Err(OperationError::InvalidField(format!(
                        "Batch Error Continuation Option {:#x} is not defined",
                        other.0
                    )));
                }
            },
        };
        let batch_count = usize::try_from(header.required(Tag::BATCH_COUNT)?.as_i32()?)
            .map_err(|_| OperationError::InvalidField("Batch Count is negative".into()))?;
        Ok(Self {
            requested_version,
            maximum_response_size,
            asynchronous_indicator: opt_bool(header, Tag::ASYNCHRONOUS_INDICATOR)?,
            batch_error_continuation,
            batch_order_option: opt_bool(header, Tag::BATCH_ORDER_OPTION)?,
            time_stamp: header
                .child(Tag::TIME_STAMP)
                .map(Ttlv::as_date_time)
                .transpose()?,
            batch_count,
        })
    }
}

fn opt_bool(item: &Ttlv, tag: Tag) -> OpResult<bool> {
    Ok(item
        .child(tag)
        .map(Ttlv::as_bool)
        .transpose()?
        .unwrap_or(false))
}

impl RequestBatchItem {
    fn from_ttlv(item: &Ttlv) -> Result<Self, UnreadableItem> {
        let operation = item
            .child(Tag::OPERATION)
            .and_then(|o| o.as_enum().ok())
            .map(Operation);
        let unique_batch_item_id = item
            .child(Tag::UNIQUE_BATCH_ITEM_ID)
            .and_then(|i| i.as_bytes().ok())
            .map(<[u8]>::to_vec);
        let unreadable = |error| UnreadableItem {
            operation,
            unique_batch_item_id: unique_batch_item_id.clone(),
            error,
        };
        check_fields(item, ITEM_FIELDS).map_err(unreadable)?;
        let read = || -> OpResult<Self> {
            let operation = Operation(item.required(Tag::OPERATION)?.as_enum()?);
            let unique_batch_item_id = item
                .child(Tag::UNIQUE_BATCH_ITEM_ID)
                .map(|i| i.as_bytes().map(<[u8]>::to_vec))
                .transpose()?;
            let payload = item.required(Tag::REQUEST_PAYLOAD)?;
            payload.as_structure()?;
            if let Some(ext) = item.child(Tag::MESSAGE_EXTENSION) {
                let critical = ext
                    .child(Tag::CRITICALITY_INDICATOR)
                    .map(Ttlv::as_bool)
                    .transpose()?
                    .unwrap_or(false);
                if critical {
                    return Err(OperationError::FeatureNotSupported(
                        "a critical Message Extension this server does not understand".into(),
                    ));
                }
            }
            Ok(Self {
                operation,
                unique_batch_item_id,
                payload: payload.clone(),
            })
        };
        read().map_err(unreadable)
    }
}
