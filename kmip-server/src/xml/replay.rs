//! # Replaying an OASIS test-vector file against a server
//!
//! A test-vector file is a sequence of request / expected-response pairs
//! whose values may be placeholders (`$UNIQUE_IDENTIFIER_0`, `$NOW-3600`,
//! `$DATA_0`, …). [`Replay`] walks such a file without doing any I/O, so
//! every transport (the processor called directly, a TLS connection to a
//! listener in the same process, the real `strongroom` binary) drives it
//! the same way:
//!
//! ```text
//! let mut replay = Replay::new(&xml, &Limits::DEFAULT)?;
//! while let Some(request) = replay.next_request() {
//!     let response = send(request?).await?;   // TTLV bytes out, a decoded Ttlv back
//!     replay.check(&response)?;
//! }
//! ```
//!
//! [`Replay::next_request`] binds the next request's placeholders from what
//! the server answered so far and encodes it; [`Replay::check`] compares the
//! answer with the expected response and binds the placeholders it names.
//!
//! ## What "matches" means
//! A response matches when its shape does: the number of batch items, and in
//! each the Operation, Result Status and Result Reason. Inside a response
//! payload what the server returns is its own business (which operations
//! Query lists, the key bytes it generated): only placeholders are bound
//! there.
//!
//! ## What the runner does that a server does not
//! Two things, both artefacts of the files rather than of KMIP:
//! attribute names in the v1.0 files that contain runs of spaces
//! ("Cryptographic   Usage Mask", left by the files' conversion) are
//! normalised to single spaces, and values a later request names by
//! placeholder (`$DATA_0`, `$IV_COUNTER_NONCE`) are bound from the server's
//! responses even where the expected response shows a literal value.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::{Placeholder, XmlError, XmlItem, XmlValue, parse_test_case};
use crate::ttlv::{self, EncodeError, Limits, Tag, Ttlv, Value};

/// Why a test-vector file did not replay.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file is not a readable test case.
    #[error("cannot read the test case: {0}")]
    Parse(#[from] XmlError),
    /// A request without its expected response.
    #[error("the test case ends with a request that has no expected response")]
    OddMessageCount,
    /// A request names a placeholder no earlier response bound.
    #[error("message {index}: {reason}")]
    Unbound { index: usize, reason: String },
    /// A bound request cannot be encoded (a tree the encoder refuses).
    #[error("message {index}: cannot encode the request: {source}")]
    Encode {
        index: usize,
        #[source]
        source: EncodeError,
    },
    /// The transport failed; the caller says how.
    #[error("message {index}: {reason}")]
    Transport { index: usize, reason: String },
    /// The response's shape is not the expected one. `differences` lists
    /// each mismatch; `server_messages` the Result Messages the server
    /// gave, which usually say why.
    #[error("message {index}: {} ({})", differences.join("; "), server_messages.join("; "))]
    Mismatch {
        index: usize,
        differences: Vec<String>,
        server_messages: Vec<String>,
    },
}

/// Values the server produced, by the placeholder that names them.
type Bound = HashMap<Placeholder, Value>;

/// One test-vector file being replayed (see the module docs).
#[derive(Debug)]
pub struct Replay {
    messages: Vec<XmlItem>,
    /// The exchange under way: requests are `messages[2n]`, the expected
    /// responses `messages[2n + 1]`.
    exchange: usize,
    bound: Bound,
    /// How many values of each produced tag were seen (`$DATA_n`).
    produced: HashMap<Tag, u32>,
}

impl Replay {
    /// Reads a test-vector file.
    pub fn new(xml: &str, limits: &Limits) -> Result<Self, ReplayError> {
        let messages = parse_test_case(xml, limits)?;
        if messages.len() % 2 != 0 {
            return Err(ReplayError::OddMessageCount);
        }
        Ok(Self {
            messages,
            exchange: 0,
            bound: Bound::new(),
            produced: HashMap::new(),
        })
    }

    /// How many request / response exchanges the file holds.
    pub fn exchanges(&self) -> usize {
        self.messages.len() / 2
    }

    /// The index of the exchange under way (for a transport's error).
    pub fn index(&self) -> usize {
        self.exchange
    }

    /// The next request, bound and encoded as TTLV; `None` once every
    /// request was answered and checked. Calling it again before
    /// [`Replay::check`] returns the same request.
    pub fn next_request(&self) -> Option<Result<zeroize::Zeroizing<Vec<u8>>, ReplayError>> {
        let request = self.messages.get(self.exchange * 2)?;
        Some(self.encode(request))
    }

    fn encode(&self, request: &XmlItem) -> Result<zeroize::Zeroizing<Vec<u8>>, ReplayError> {
        let index = self.exchange;
        let mut tree = resolve(request, &self.bound)
            .map_err(|reason| ReplayError::Unbound { index, reason })?;
        normalise_attribute_names(&mut tree);
        ttlv::encode(&tree).map_err(|source| ReplayError::Encode { index, source })
    }

    /// Compares `response` with the expected response of the exchange under
    /// way, binds what it names, and moves on to the next exchange.
    pub fn check(&mut self, response: &Ttlv) -> Result<(), ReplayError> {
        let index = self.exchange;
        let Some(expected) = self.messages.get(index * 2 + 1) else {
            return Err(ReplayError::OddMessageCount);
        };
        let mut differences = Vec::new();
        compare(expected, response, &mut self.bound, &mut differences);
        bind_produced(response, &mut self.bound, &mut self.produced);
        self.exchange += 1;
        if differences.is_empty() {
            return Ok(());
        }
        let server_messages = response
            .children(Tag::BATCH_ITEM)
            .filter_map(|b| b.child(Tag::RESULT_MESSAGE))
            .filter_map(|m| m.as_text().ok().map(str::to_owned))
            .collect();
        Err(ReplayError::Mismatch {
            index,
            differences,
            server_messages,
        })
    }

    /// A transport failure at the exchange under way, as a [`ReplayError`].
    pub fn transport_error(&self, reason: impl std::fmt::Display) -> ReplayError {
        ReplayError::Transport {
            index: self.exchange,
            reason: reason.to_string(),
        }
    }
}

/// The request with its placeholders bound: `$NOW` from the clock, the
/// rest from earlier responses.
fn resolve(request: &XmlItem, bound: &Bound) -> Result<Ttlv, String> {
    request
        .resolve(&mut |_, _, p| match p {
            Placeholder::Now { offset_seconds } => Ok(Value::DateTime(
                OffsetDateTime::now_utc()
                    .unix_timestamp()
                    .saturating_add(offset_seconds),
            )),
            other => bound
                .get(&other)
                .cloned()
                .ok_or_else(|| format!("{other:?} is not bound by an earlier response")),
        })
        .map_err(|e| e.to_string())
}

/// "Cryptographic   Usage Mask" → "Cryptographic Usage Mask".
fn normalise_attribute_names(item: &mut Ttlv) {
    match &mut item.value {
        Value::TextString(name) if item.tag == Tag::ATTRIBUTE_NAME => {
            *name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        Value::Structure(children) => children.iter_mut().for_each(normalise_attribute_names),
        _ => {}
    }
}

/// Binds, from a response, the values later requests may name by
/// placeholder although the expected response shows them literally: the
/// n-th Data returned is `$DATA_n`, the last IV `$IV_COUNTER_NONCE`, and so
/// on. A placeholder the expected response binds explicitly wins.
fn bind_produced(response: &Ttlv, bound: &mut Bound, produced: &mut HashMap<Tag, u32>) {
    for item in response.children(Tag::BATCH_ITEM) {
        let Some(payload) = item.child(Tag::RESPONSE_PAYLOAD) else {
            continue;
        };
        for field in payload.items() {
            let placeholder = match field.tag {
                Tag::DATA => {
                    let n = produced.entry(Tag::DATA).or_default();
                    let this = *n;
                    *n = n.saturating_add(1);
                    Placeholder::Data(this)
                }
                Tag::IV_COUNTER_NONCE => Placeholder::IvCounterNonce,
                Tag::AUTHENTICATED_ENCRYPTION_TAG => Placeholder::AuthenticatedEncryptionTag,
                Tag::SIGNATURE_DATA => Placeholder::SignatureData,
                Tag::MAC_DATA => Placeholder::MacData,
                Tag::CORRELATION_VALUE => Placeholder::CorrelationValue,
                _ => continue,
            };
            bound
                .entry(placeholder)
                .or_insert_with(|| field.value.clone());
        }
    }
}

/// Walks expected and actual together (children matched by tag and
/// occurrence), binding placeholders and noting differences in the fields
/// that make a response's shape.
fn compare(expected: &XmlItem, actual: &Ttlv, bound: &mut Bound, diffs: &mut Vec<String>) {
    let in_payload = expected.tag == Tag::RESPONSE_PAYLOAD;
    match (&expected.value, &actual.value) {
        (XmlValue::Placeholder { placeholder, .. }, value)
            if !matches!(placeholder, Placeholder::Now { .. }) =>
        {
            bound.insert(*placeholder, value.clone());
        }
        (XmlValue::Structure(want), Value::Structure(have)) => {
            let mut seen: HashMap<Tag, usize> = HashMap::new();
            for child in want {
                let n = seen.entry(child.tag).or_default();
                let found = have.iter().filter(|c| c.tag == child.tag).nth(*n);
                *n += 1;
                match found {
                    Some(a) if in_payload => bind_only(child, a, bound),
                    Some(a) => compare(child, a, bound, diffs),
                    None if is_shape(child.tag) && !in_payload => {
                        diffs.push(format!("missing {}", child.tag))
                    }
                    None => {}
                }
            }
            if expected.tag == Tag::RESPONSE_MESSAGE {
                let want_items = want.iter().filter(|c| c.tag == Tag::BATCH_ITEM).count();
                let have_items = have.iter().filter(|c| c.tag == Tag::BATCH_ITEM).count();
                if want_items != have_items {
                    diffs.push(format!("{have_items} batch items, expected {want_items}"));
                }
            }
        }
        (XmlValue::Scalar(want), have) if is_shape(expected.tag) && want != have => {
            diffs.push(format!("{}: {have:?}, expected {want:?}", expected.tag));
        }
        _ => {}
    }
}

/// Inside a payload: binds placeholders, records no differences.
fn bind_only(expected: &XmlItem, actual: &Ttlv, bound: &mut Bound) {
    if matches!(expected.value, XmlValue::Scalar(_)) {
        return;
    }
    let mut ignored = Vec::new();
    // Tag 0 so a nested Response Payload is not mistaken for this one.
    let detached = XmlItem {
        tag: Tag(0),
        value: expected.value.clone(),
    };
    compare(&detached, actual, bound, &mut ignored);
}

/// The fields whose values make a response's shape.
fn is_shape(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::OPERATION | Tag::RESULT_STATUS | Tag::RESULT_REASON | Tag::BATCH_ITEM
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = r#"<KMIP>
<RequestMessage>
  <RequestHeader>
    <ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="0"/></ProtocolVersion>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Destroy"/>
    <RequestPayload><UniqueIdentifier type="TextString" value="1"/></RequestPayload>
  </BatchItem>
</RequestMessage>
<ResponseMessage>
  <ResponseHeader>
    <ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="0"/></ProtocolVersion>
    <TimeStamp type="DateTime" value="$NOW"/>
    <BatchCount type="Integer" value="1"/>
  </ResponseHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Destroy"/>
    <ResultStatus type="Enumeration" value="Success"/>
    <ResponsePayload><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></ResponsePayload>
  </BatchItem>
</ResponseMessage>
</KMIP>"#;

    fn response(status: u32) -> Ttlv {
        Ttlv::structure(
            Tag::RESPONSE_MESSAGE,
            vec![Ttlv::structure(
                Tag::BATCH_ITEM,
                vec![
                    Ttlv::enumeration(Tag::OPERATION, 0x14u32),
                    Ttlv::enumeration(Tag::RESULT_STATUS, status),
                    Ttlv::structure(
                        Tag::RESPONSE_PAYLOAD,
                        vec![Ttlv::text(Tag::UNIQUE_IDENTIFIER, "1")],
                    ),
                ],
            )],
        )
    }

    #[test]
    fn a_matching_response_passes_and_ends_the_case() {
        let mut replay = Replay::new(CASE, &Limits::DEFAULT).unwrap();
        assert_eq!(replay.exchanges(), 1);
        let request = replay.next_request().unwrap().unwrap();
        assert!(ttlv::decode(&request, &Limits::DEFAULT).is_ok());
        replay.check(&response(0)).unwrap();
        assert!(replay.next_request().is_none());
        assert_eq!(
            replay.bound.get(&Placeholder::UniqueIdentifier(0)),
            Some(&Value::TextString("1".into()))
        );
    }

    #[test]
    fn a_different_result_status_is_a_mismatch() {
        let mut replay = Replay::new(CASE, &Limits::DEFAULT).unwrap();
        match replay.check(&response(1)) {
            Err(ReplayError::Mismatch { differences, .. }) => {
                assert!(differences[0].contains("Result"), "{differences:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_batch_item_is_a_mismatch() {
        let mut replay = Replay::new(CASE, &Limits::DEFAULT).unwrap();
        let empty = Ttlv::structure(Tag::RESPONSE_MESSAGE, vec![]);
        assert!(matches!(
            replay.check(&empty),
            Err(ReplayError::Mismatch { .. })
        ));
    }
}
