//! The tamper-evident audit log.
//!
//! Every state change and every use of a key appends an [`AuditEvent`]. The
//! store turns events into [`AuditRecord`]s inside the same database
//! transaction as the change they describe, linking each record to the one
//! before it:
//!
//! ```text
//! hash(n) = SHA-256("strongroom/audit/v1" ‖ hash(n-1) ‖ seq(n) ‖ fields(n))
//! head    = (seq, hash(last), HMAC-SHA-256(audit key, "head" ‖ seq ‖ hash(last)))
//! ```
//!
//! The audit key is derived from the root key, so only a process that has
//! unsealed the root can move the head. Editing a record breaks its hash;
//! deleting or reordering breaks the link or the sequence; cutting records
//! off the end no longer matches the authenticated head. [`verify_chain`]
//! names the first record that fails.

use std::sync::RwLock;

use aws_lc_rs::{digest, hmac};
use serde::{Deserialize, Serialize};

/// The hash of the record before the first one.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// What happened, before it has a place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unix time in microseconds.
    pub time_us: i64,
    /// Who: an identity, a KMIP client, or `system`.
    pub actor: String,
    /// What: `object.create`, `key.encrypt`, `project.create`, …
    pub action: String,
    /// The object acted on, if any.
    pub object: Option<String>,
    /// The project the object or action belongs to, if any.
    pub project: Option<String>,
    /// `success` or a failure reason code.
    pub result: String,
    /// The network address the request came from, if any.
    pub source: Option<String>,
}

impl AuditEvent {
    /// A successful event by `actor`, stamped now.
    pub fn now(actor: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            time_us: now_micros(),
            actor: actor.into(),
            action: action.into(),
            object: None,
            project: None,
            result: "success".into(),
            source: None,
        }
    }

    pub fn object(mut self, object: impl ToString) -> Self {
        self.object = Some(object.to_string());
        self
    }

    pub fn project(mut self, project: impl ToString) -> Self {
        self.project = Some(project.to_string());
        self
    }

    /// [`object`](Self::object) for an id, formatted without going through
    /// `fmt` (this is on every key use's path).
    pub fn object_id(mut self, id: &uuid::Uuid) -> Self {
        self.object = Some(uuid_text(id));
        self
    }

    /// [`project`](Self::project) for an id, formatted without `fmt`.
    pub fn project_id(mut self, id: &uuid::Uuid) -> Self {
        self.project = Some(uuid_text(id));
        self
    }

    pub fn result(mut self, result: impl Into<String>) -> Self {
        self.result = result.into();
        self
    }

    pub fn source(mut self, source: Option<String>) -> Self {
        self.source = source;
        self
    }
}

/// The hyphenated lower-case form, as `Display` writes it.
fn uuid_text(id: &uuid::Uuid) -> String {
    let mut buf = uuid::Uuid::encode_buffer();
    id.hyphenated().encode_lower(&mut buf).to_owned()
}

/// An event in its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub event: AuditEvent,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// An event in its place in the chain, borrowed from the transaction that
/// commits it: what a store inserts.
#[derive(Clone, Copy, Debug)]
pub struct LinkedEvent<'a> {
    pub seq: i64,
    pub event: &'a AuditEvent,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// The authenticated end of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: [u8; 32],
    pub mac: Vec<u8>,
}

/// Why the audit log could not be written or trusted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditError {
    #[error("audit record {seq} has been altered: its hash does not match its contents")]
    RecordAltered { seq: i64 },
    #[error(
        "audit record {seq} does not follow record {expected_prev}: a record was deleted or reordered"
    )]
    BrokenLink { seq: i64, expected_prev: i64 },
    #[error("audit record {seq} has the wrong sequence number (expected {expected})")]
    WrongSequence { seq: i64, expected: i64 },
    #[error("the audit chain head is not authentic: it was forged or the key is wrong")]
    HeadNotAuthentic,
    #[error(
        "the audit chain ends at record {last} but its authenticated head says {head}: records were removed or added"
    )]
    HeadMismatch { last: i64, head: i64 },
}

/// Links events into the chain and authenticates its head. Holds the audit
/// keys, derived from the root key terms; they never leave this type.
///
/// One key seals new heads (the current root term's). During a root
/// rotation the older terms' keys are still accepted for a head they
/// sealed, so a process that crashed mid-rotation, or a head written just
/// before the switch, still authenticates; when the old terms are retired
/// their keys go too ([`AuditChain::set_keys`]).
pub struct AuditChain {
    keys: RwLock<ChainKeys>,
}

struct ChainKeys {
    current: hmac::Key,
    older: Vec<hmac::Key>,
}

impl AuditChain {
    /// `audit_key` is the root-derived key (see `hierarchy::RootKey::derive`).
    pub fn new(audit_key: &[u8]) -> Self {
        Self::with_older_keys(audit_key, &[])
    }

    /// A chain sealing with `current` that also accepts heads sealed with
    /// any of `older`.
    pub fn with_older_keys(current: &[u8], older: &[&[u8]]) -> Self {
        Self {
            keys: RwLock::new(ChainKeys::new(current, older)),
        }
    }

    /// Replaces the keys: new heads are sealed with `current`; heads sealed
    /// with `older` are still accepted.
    pub fn set_keys(&self, current: &[u8], older: &[&[u8]]) {
        let keys = ChainKeys::new(current, older);
        match self.keys.write() {
            Ok(mut guard) => *guard = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }

    /// The record that follows `prev` (seq `prev_seq`, hash `prev_hash`).
    pub fn link(&self, prev_seq: i64, prev_hash: [u8; 32], event: AuditEvent) -> AuditRecord {
        let linked = self.link_ref(prev_seq, prev_hash, &event);
        AuditRecord {
            seq: linked.seq,
            prev_hash,
            hash: linked.hash,
            event,
        }
    }

    /// Like [`link`](Self::link), borrowing the event: the store inserts
    /// records straight from the committing transaction, without a copy.
    pub fn link_ref<'a>(
        &self,
        prev_seq: i64,
        prev_hash: [u8; 32],
        event: &'a AuditEvent,
    ) -> LinkedEvent<'a> {
        let seq = prev_seq + 1;
        LinkedEvent {
            seq,
            event,
            prev_hash,
            hash: record_hash(seq, &prev_hash, event),
        }
    }

    /// The MAC that authenticates a head at `seq` with `hash`.
    pub fn seal_head(&self, seq: i64, hash: &[u8; 32]) -> ChainHead {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let mac = hmac::sign(&keys.current, &head_message(seq, hash))
            .as_ref()
            .to_vec();
        ChainHead {
            seq,
            hash: *hash,
            mac,
        }
    }

    /// Whether `head` was sealed with one of this chain's keys.
    pub fn head_is_authentic(&self, head: &ChainHead) -> bool {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let message = head_message(head.seq, &head.hash);
        std::iter::once(&keys.current)
            .chain(keys.older.iter())
            .any(|key| hmac::verify(key, &message, &head.mac).is_ok())
    }
}

impl ChainKeys {
    fn new(current: &[u8], older: &[&[u8]]) -> Self {
        Self {
            current: hmac::Key::new(hmac::HMAC_SHA256, current),
            older: older
                .iter()
                .map(|k| hmac::Key::new(hmac::HMAC_SHA256, k))
                .collect(),
        }
    }
}

impl std::fmt::Debug for AuditChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditChain(..)")
    }
}

fn head_message(seq: i64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(48);
    m.extend_from_slice(b"strongroom/audit-head/v1");
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// What a record hash starts with (the module docs give the whole layout).
const RECORD_DOMAIN: &[u8] = b"strongroom/audit/v1";

/// The hash of a record: covers its position, its predecessor and every field.
pub fn record_hash(seq: i64, prev_hash: &[u8; 32], e: &AuditEvent) -> [u8; 32] {
    // The message is assembled in one buffer and hashed in one call: a
    // digest update per field cost more than the hashing itself.
    let fields = [
        Some(e.actor.as_str()),
        Some(e.action.as_str()),
        e.object.as_deref(),
        e.project.as_deref(),
        Some(e.result.as_str()),
        e.source.as_deref(),
    ];
    let len = RECORD_DOMAIN.len()
        + prev_hash.len()
        + 2 * std::mem::size_of::<i64>()
        + fields
            .iter()
            .map(|f| f.map_or(1, |s| 9 + s.len()))
            .sum::<usize>();
    let mut message = Vec::with_capacity(len);
    message.extend_from_slice(RECORD_DOMAIN);
    message.extend_from_slice(prev_hash);
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(&e.time_us.to_be_bytes());
    for field in fields {
        // Length-prefixed, with a marker for absent fields, so no two
        // different events hash the same bytes.
        match field {
            None => message.push(0),
            Some(s) => {
                message.push(1);
                message.extend_from_slice(&(s.len() as u64).to_be_bytes());
                message.extend_from_slice(s.as_bytes());
            }
        }
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, &message).as_ref());
    out
}

/// Incremental verifier: feed records in sequence order, then the head.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: [u8; 32],
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS,
        }
    }
}

impl ChainVerifier {
    /// Checks the next record.
    pub fn next(&mut self, r: &AuditRecord) -> Result<(), AuditError> {
        if r.seq != self.last_seq + 1 {
            if r.prev_hash != self.last_hash {
                return Err(AuditError::BrokenLink {
                    seq: r.seq,
                    expected_prev: self.last_seq,
                });
            }
            return Err(AuditError::WrongSequence {
                seq: r.seq,
                expected: self.last_seq + 1,
            });
        }
        if record_hash(r.seq, &r.prev_hash, &r.event) != r.hash {
            return Err(AuditError::RecordAltered { seq: r.seq });
        }
        if r.prev_hash != self.last_hash {
            return Err(AuditError::BrokenLink {
                seq: r.seq,
                expected_prev: self.last_seq,
            });
        }
        self.last_seq = r.seq;
        self.last_hash = r.hash;
        Ok(())
    }

    /// Checks the end of the chain against its authenticated head. Returns
    /// the number of records verified.
    pub fn finish(self, chain: &AuditChain, head: Option<&ChainHead>) -> Result<i64, AuditError> {
        match head {
            None if self.last_seq == 0 => Ok(0),
            None => Err(AuditError::HeadMismatch {
                last: self.last_seq,
                head: 0,
            }),
            Some(head) => {
                if !chain.head_is_authentic(head) {
                    return Err(AuditError::HeadNotAuthentic);
                }
                if head.seq != self.last_seq || head.hash != self.last_hash {
                    return Err(AuditError::HeadMismatch {
                        last: self.last_seq,
                        head: head.seq,
                    });
                }
                Ok(self.last_seq)
            }
        }
    }
}

/// Verifies a whole chain held in memory (the store streams it in pages).
pub fn verify_chain(
    chain: &AuditChain,
    records: &[AuditRecord],
    head: Option<&ChainHead>,
) -> Result<i64, AuditError> {
    let mut v = ChainVerifier::default();
    for r in records {
        v.next(r)?;
    }
    v.finish(chain, head)
}

/// Now, in Unix microseconds.
pub fn now_micros() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000) as i64
}

#[cfg(test)]
mod tests;
