//! The Response Message (KMIP 1.4 §7.1, §7.2).

use time::OffsetDateTime;

use crate::ttlv::enums::{Operation, ResultStatus};
use crate::ttlv::{Tag, Ttlv};

use super::error::OperationError;
use super::version::ProtocolVersion;

/// How one batch item ended.
#[derive(Debug)]
pub enum Outcome {
    /// Success, with the Response Payload.
    Success(Ttlv),
    Failed(OperationError),
}

/// One Response Batch Item.
#[derive(Debug)]
pub struct ResponseBatchItem {
    /// Absent when the request could not be read far enough to know it
    /// (KMIP 1.4 §11.1: "a Batch Item without Operation").
    pub operation: Option<Operation>,
    pub unique_batch_item_id: Option<Vec<u8>>,
    pub outcome: Outcome,
}

impl ResponseBatchItem {
    pub fn failed(
        operation: Option<Operation>,
        unique_batch_item_id: Option<Vec<u8>>,
        error: OperationError,
    ) -> Self {
        Self {
            operation,
            unique_batch_item_id,
            outcome: Outcome::Failed(error),
        }
    }

    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }

    fn to_ttlv(&self) -> Ttlv {
        let mut children = Vec::with_capacity(6);
        if let Some(op) = self.operation {
            children.push(Ttlv::enumeration(Tag::OPERATION, op));
        }
        if let Some(id) = &self.unique_batch_item_id {
            children.push(Ttlv::bytes(Tag::UNIQUE_BATCH_ITEM_ID, id.clone()));
        }
        match &self.outcome {
            Outcome::Success(payload) => {
                children.push(Ttlv::enumeration(Tag::RESULT_STATUS, ResultStatus::SUCCESS));
                children.push(payload.clone());
            }
            Outcome::Failed(error) => {
                children.push(Ttlv::enumeration(
                    Tag::RESULT_STATUS,
                    ResultStatus::OPERATION_FAILED,
                ));
                children.push(Ttlv::enumeration(Tag::RESULT_REASON, error.reason()));
                children.push(Ttlv::text(Tag::RESULT_MESSAGE, error.message()));
            }
        }
        Ttlv::structure(Tag::BATCH_ITEM, children)
    }
}

/// A Response Message.
#[derive(Debug)]
pub struct ResponseMessage {
    pub version: ProtocolVersion,
    pub items: Vec<ResponseBatchItem>,
}

impl ResponseMessage {
    /// A response to a message that failed as a whole: one batch item
    /// without an Operation (KMIP 1.4 §11.1).
    pub fn whole_message_failed(version: ProtocolVersion, error: OperationError) -> Self {
        Self {
            version,
            items: vec![ResponseBatchItem::failed(None, None, error)],
        }
    }

    pub fn to_ttlv(&self) -> Ttlv {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let count = i32::try_from(self.items.len()).unwrap_or(i32::MAX);
        let header = Ttlv::structure(
            Tag::RESPONSE_HEADER,
            vec![
                self.version.to_ttlv(),
                Ttlv::date_time(Tag::TIME_STAMP, now),
                Ttlv::integer(Tag::BATCH_COUNT, count),
            ],
        );
        let mut children = Vec::with_capacity(self.items.len() + 1);
        children.push(header);
        children.extend(self.items.iter().map(ResponseBatchItem::to_ttlv));
        Ttlv::structure(Tag::RESPONSE_MESSAGE, children)
    }
}
