//! From request bytes to response bytes: decode, read the message, run the
//! batch, encode. This is where batch semantics live.
//!
//! - A message that cannot be decoded or whose header cannot be read is
//!   answered with one failed batch item without Operation (Invalid
//!   Message), at the version the bytes show if any, else 1.4.
//! - Batch items run in order (so Batch Order Option is always honoured).
//!   On a failure, Stop (the default) ends the batch and answers the items
//!   run so far; Continue runs the rest. Undo is not supported, and a
//!   request asking for it is rejected as a whole (KMIP 1.4 §6.13).
//! - An Asynchronous Indicator is accepted and the request processed
//!   synchronously: the server decides which operations are asynchronous
//!   (§6.8), and this one runs none so.
//! - Multi-part Encrypt/Decrypt state lives in one [`StreamTable`] shared
//!   by every connection the processor serves (see [`crate::streams`]).
//! - A response larger than the Maximum Response Size is replaced by one
//!   whose items fail with Response Too Large.

use std::net::SocketAddr;
use std::sync::Arc;

use kms_core::service::{Actor, Kms};
use zeroize::Zeroizing;

use crate::certify::Certifier;
use crate::client::KmipClient;
use crate::message::{
    ContinuationOption, OperationError, Outcome, ProtocolVersion, RequestMessage,
    ResponseBatchItem, ResponseMessage,
};
use crate::operations::{Context, dispatch};
use crate::streams::{StreamLimits, StreamTable};
use crate::ttlv::{self, Limits, Tag, Ttlv};

/// Runs KMIP messages against one `Kms`.
#[derive(Clone)]
pub struct Processor {
    kms: Kms,
    limits: Limits,
    max_batch_count: usize,
    certifier: Option<Arc<dyn Certifier>>,
    streams: Arc<StreamTable>,
}

impl Processor {
    pub fn new(kms: Kms, limits: Limits, max_batch_count: usize) -> Self {
        Self {
            kms,
            limits,
            max_batch_count,
            certifier: None,
            streams: Arc::new(StreamTable::new(StreamLimits::DEFAULT)),
        }
    }

    /// Bounds multi-part Encrypt/Decrypt with `limits` (see
    /// [`crate::streams`]). Streams already open are forgotten.
    pub fn with_stream_limits(mut self, limits: StreamLimits) -> Self {
        self.streams = Arc::new(StreamTable::new(limits));
        self
    }

    /// The streams in progress.
    pub fn streams(&self) -> &StreamTable {
        &self.streams
    }

    /// Backs KMIP Certify with `certifier` (see [`crate::certify`]).
    pub fn with_certifier(mut self, certifier: Arc<dyn Certifier>) -> Self {
        self.certifier = Some(certifier);
        self
    }

    /// Answers one request message from `client` at `peer`. Never fails:
    /// every problem becomes a KMIP failure in the response.
    pub async fn process(
        &self,
        client: &KmipClient,
        peer: SocketAddr,
        request: &[u8],
    ) -> Zeroizing<Vec<u8>> {
        let response = self.respond(client, peer, request).await;
        encode(&response.to_ttlv())
    }

    async fn respond(
        &self,
        client: &KmipClient,
        peer: SocketAddr,
        request: &[u8],
    ) -> ResponseMessage {
        let best_guess = raw_version(request).unwrap_or(ProtocolVersion::V1_4);
        let tree = match ttlv::decode(request, &self.limits) {
            Ok(tree) => tree,
            Err(e) => {
                return ResponseMessage::whole_message_failed(
                    best_guess,
                    OperationError::InvalidMessage(e.to_string()),
                );
            }
        };
        let message = match RequestMessage::from_ttlv(&tree, self.max_batch_count) {
            Ok(m) => m,
            Err(e) => {
                return ResponseMessage::whole_message_failed(
                    e.version.unwrap_or(best_guess),
                    e.error,
                );
            }
        };
        let version = match ProtocolVersion::negotiate(message.header.requested_version) {
            Ok(v) => v,
            Err(e) => return ResponseMessage::whole_message_failed(ProtocolVersion::V1_4, e),
        };
        if message.header.batch_error_continuation == ContinuationOption::Undo {
            return ResponseMessage::whole_message_failed(
                version,
                OperationError::FeatureNotSupported(
                    "Batch Error Continuation Option Undo is not supported; use Stop or Continue"
                        .into(),
                ),
            );
        }
        let actor = Actor::new(format!("kmip:{}", client.name), Some(peer.to_string()));
        let mut ctx = Context::new(&self.kms, client, &actor, version);
        ctx.certifier = self.certifier.as_deref();
        ctx.streams = Some(&self.streams);
        let mut items = Vec::with_capacity(message.items.len());
        for item in &message.items {
            let answered = match item {
                Err(bad) => ResponseBatchItem::failed(
                    bad.operation,
                    bad.unique_batch_item_id.clone(),
                    bad.error.clone(),
                ),
                Ok(item) => ResponseBatchItem {
                    operation: Some(item.operation),
                    unique_batch_item_id: item.unique_batch_item_id.clone(),
                    outcome: match dispatch(&ctx, item.operation, &item.payload).await {
                        Ok(payload) => Outcome::Success(payload),
                        Err(e) => Outcome::Failed(e),
                    },
                },
            };
            let failed = answered.is_failure();
            if let Outcome::Failed(e) = &answered.outcome {
                tracing::info!(client = %client.name, %peer, reason = ?e.reason(), "KMIP batch item failed: {e}");
            }
            items.push(answered);
            if failed && message.header.batch_error_continuation == ContinuationOption::Stop {
                break;
            }
        }
        let response = ResponseMessage { version, items };
        match message.header.maximum_response_size {
            Some(max) if encoded_len(&response) > max => too_large(response, max),
            _ => response,
        }
    }
}

fn encoded_len(response: &ResponseMessage) -> usize {
    ttlv::encoded_len(&response.to_ttlv()).unwrap_or(usize::MAX)
}

fn too_large(response: ResponseMessage, max: usize) -> ResponseMessage {
    let items = response
        .items
        .into_iter()
        .map(|item| {
            ResponseBatchItem::failed(
                item.operation,
                item.unique_batch_item_id,
                OperationError::ResponseTooLarge(format!(
                    "the response exceeds the Maximum Response Size of {max} bytes"
                )),
            )
        })
        .collect();
    ResponseMessage {
        version: response.version,
        items,
    }
}

fn encode(response: &Ttlv) -> Zeroizing<Vec<u8>> {
    match ttlv::encode(response) {
        Ok(bytes) => bytes,
        Err(e) => {
            // Only a response over 4 GiB could fail; answer with a failure.
            tracing::error!(error = %e, "KMIP response could not be encoded");
            let fallback = ResponseMessage::whole_message_failed(
                ProtocolVersion::V1_4,
                OperationError::GeneralFailure("the response could not be encoded".into()),
            );
            ttlv::encode(&fallback.to_ttlv()).unwrap_or_default()
        }
    }
}

/// The Protocol Version of a request whose bytes do not decode, read from
/// where every Request Message puts it: the first field of the header.
fn raw_version(bytes: &[u8]) -> Option<ProtocolVersion> {
    // (offset, tag, item type, length) of Protocol Version and its fields.
    let expect = |offset: usize, tag: Tag, item_type: u8, len: u8| -> Option<()> {
        let [_, t0, t1, t2] = tag.0.to_be_bytes();
        let want = [t0, t1, t2, item_type, 0, 0, 0, len];
        (bytes.get(offset..offset + 8)? == want.as_slice()).then_some(())
    };
    let int = |offset: usize| -> Option<i32> {
        Some(i32::from_be_bytes(
            *bytes.get(offset..)?.first_chunk::<4>()?,
        ))
    };
    expect(16, Tag::PROTOCOL_VERSION, 1, 0x20)?;
    expect(24, Tag::PROTOCOL_VERSION_MAJOR, 2, 4)?;
    expect(40, Tag::PROTOCOL_VERSION_MINOR, 2, 4)?;
    ProtocolVersion::negotiate(ProtocolVersion::new(int(32)?, int(48)?)).ok()
}
