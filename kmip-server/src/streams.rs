//! Multi-part ("streaming") Encrypt and Decrypt (KMIP 1.3+ Correlation
//! Value, Init Indicator, Final Indicator): the table of operations in
//! progress.
//!
//! A stream is opened by a request with Init Indicator True and answered
//! with a random 128-bit Correlation Value; later requests name it and add
//! Data; the one with Final Indicator True ends it. The server buffers the
//! parts and runs the cipher once, over the whole message, when the final
//! part arrives. That is what makes AES-GCM decryption safe by parts: no
//! plaintext leaves before the tag over the whole ciphertext is verified.
//! KMIP lets a multi-part response carry no Data until the end, so every
//! part before the last is answered with the Correlation Value only.
//!
//! The table is shared by every connection of a [`crate::processor::Processor`];
//! a stream belongs to the client (project and name) that opened it, and
//! another client naming its Correlation Value finds nothing. Limits
//! ([`StreamLimits`]) bound what a client can make the server hold: open
//! streams per client and in all, bytes per stream and in all, and an idle
//! time after which a stream is forgotten. A request that would pass a
//! limit fails and, if it named a stream, ends that stream: a client
//! never has to guess what state a failed part left behind.
//!
//! Buffered data is kept in zeroizing chunks (a growing vector would leave
//! copies of earlier parts behind in freed memory) and joined once at the
//! end into a buffer of the exact size.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kms_core::ids::ProjectId;
use zeroize::Zeroizing;

use crate::message::{OpResult, OperationError};
use crate::ttlv::Ttlv;

/// Length of a Correlation Value this server issues.
pub const CORRELATION_LEN: usize = 16;

/// What a client may make the server hold for streams in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Open streams one client may have.
    pub per_client: usize,
    /// Open streams in all.
    pub total: usize,
    /// Data one stream may buffer.
    pub stream_bytes: usize,
    /// Data all streams together may buffer.
    pub total_bytes: usize,
    /// A stream with no part for this long is forgotten.
    pub idle: Duration,
}

impl StreamLimits {
    /// 8 streams per client, 1,024 in all, 16 MiB per stream, 256 MiB in
    /// all, 5 minutes idle.
    pub const DEFAULT: StreamLimits = StreamLimits {
        per_client: 8,
        total: 1024,
        stream_bytes: 16 << 20,
        total_bytes: 256 << 20,
        idle: Duration::from_secs(300),
    };
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which operation a stream runs (a Decrypt part cannot continue an
/// Encrypt stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamOp {
    Encrypt,
    Decrypt,
}

/// Who opened a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub project: ProjectId,
    pub client: String,
}

struct Stream {
    owner: Owner,
    op: StreamOp,
    /// The opening request's payload without its Data and indicators: the
    /// key, parameters, IV and additional data the final run uses.
    template: Ttlv,
    parts: Vec<Zeroizing<Vec<u8>>>,
    bytes: usize,
    touched: Instant,
}

/// A finished stream: its template and all its data, in order.
pub struct Finished {
    pub template: Ttlv,
    pub data: Zeroizing<Vec<u8>>,
}

/// The streams in progress.
pub struct StreamTable {
    limits: StreamLimits,
    streams: Mutex<HashMap<[u8; CORRELATION_LEN], Stream>>,
}

impl StreamTable {
    pub fn new(limits: StreamLimits) -> Self {
        Self {
            limits,
            streams: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> StreamLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; CORRELATION_LEN], Stream>> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a stream with its first `data`; returns its Correlation Value.
    pub fn open(
        &self,
        owner: Owner,
        op: StreamOp,
        template: Ttlv,
        data: &[u8],
    ) -> OpResult<[u8; CORRELATION_LEN]> {
        let mut correlation = [0u8; CORRELATION_LEN];
        kms_core::crypto::rng::fill(&mut correlation)
            .map_err(|e| OperationError::GeneralFailure(e.to_string()))?;
        let mut streams = self.lock();
        self.expire(&mut streams);
        let mine = streams.values().filter(|s| s.owner == owner).count();
        if mine >= self.limits.per_client {
            return Err(OperationError::PermissionDenied(format!(
                "client {} already has {mine} streams open, the most allowed; \
                 finish one or let it expire",
                owner.client
            )));
        }
        if streams.len() >= self.limits.total {
            return Err(OperationError::GeneralFailure(
                "the server holds as many streams as it allows; try again later".into(),
            ));
        }
        self.check_room(&streams, 0, data.len())?;
        let mut stream = Stream {
            owner,
            op,
            template,
            parts: Vec::new(),
            bytes: 0,
            touched: Instant::now(),
        };
        push(&mut stream, data);
        streams.insert(correlation, stream);
        Ok(correlation)
    }

    /// Adds a part to the stream `correlation` names. `check` sees the
    /// stream's template and may refuse the part. With `last`, the stream
    /// ends and is returned whole. On any failure the stream is dropped.
    pub fn part(
        &self,
        owner: &Owner,
        op: StreamOp,
        correlation: &[u8],
        data: &[u8],
        last: bool,
        check: impl FnOnce(&Ttlv) -> OpResult<()>,
    ) -> OpResult<Option<Finished>> {
        let mut streams = self.lock();
        self.expire(&mut streams);
        let key: [u8; CORRELATION_LEN] = correlation.try_into().map_err(|_| no_stream())?;
        // Another client's stream is as absent as an unknown one.
        match streams.get(&key) {
            Some(s) if s.owner == *owner && s.op == op => {}
            _ => return Err(no_stream()),
        }
        let outcome = streams.get(&key).map_or(Err(no_stream()), |s| {
            check(&s.template).and_then(|()| self.check_room(&streams, s.bytes, data.len()))
        });
        if let Err(e) = outcome {
            streams.remove(&key);
            return Err(e);
        }
        let stream = streams.get_mut(&key).ok_or_else(no_stream)?;
        push(stream, data);
        stream.touched = Instant::now();
        if !last {
            return Ok(None);
        }
        let stream = streams.remove(&key).ok_or_else(no_stream)?;
        drop(streams);
        let mut joined = Zeroizing::new(Vec::with_capacity(stream.bytes));
        for part in &stream.parts {
            joined.extend_from_slice(part);
        }
        Ok(Some(Finished {
            template: stream.template,
            data: joined,
        }))
    }

    /// How many streams are open (for tests and metrics).
    pub fn open_streams(&self) -> usize {
        let mut streams = self.lock();
        self.expire(&mut streams);
        streams.len()
    }

    fn expire(&self, streams: &mut HashMap<[u8; CORRELATION_LEN], Stream>) {
        let idle = self.limits.idle;
        streams.retain(|_, s| s.touched.elapsed() < idle);
    }

    /// Whether a stream holding `held` bytes may take `more`.
    fn check_room(
        &self,
        streams: &HashMap<[u8; CORRELATION_LEN], Stream>,
        held: usize,
        more: usize,
    ) -> OpResult<()> {
        let too_large = |what: &str, max: usize| {
            Err(OperationError::ResponseTooLarge(format!(
                "{what} would hold more than {max} bytes; send smaller messages"
            )))
        };
        if held.saturating_add(more) > self.limits.stream_bytes {
            return too_large("the stream", self.limits.stream_bytes);
        }
        let all: usize = streams.values().map(|s| s.bytes).sum();
        if all.saturating_add(more) > self.limits.total_bytes {
            return too_large("the server's open streams", self.limits.total_bytes);
        }
        Ok(())
    }
}

fn push(stream: &mut Stream, data: &[u8]) {
    if !data.is_empty() {
        stream.parts.push(Zeroizing::new(data.to_vec()));
        stream.bytes += data.len();
    }
}

fn no_stream() -> OperationError {
    OperationError::ItemNotFound(
        "no open stream has that Correlation Value (unknown, finished, failed or expired)".into(),
    )
}
