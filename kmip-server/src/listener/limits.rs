//! What one peer may make the listener do.

use std::time::Duration;

use crate::streams::StreamLimits;
use crate::ttlv::Limits;

/// Bounds on connections and messages. Every one is enforced and tested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenerLimits {
    /// Connections open at once; one more is closed as soon as accepted.
    pub max_connections: usize,
    /// From accept to a finished TLS handshake.
    pub handshake_timeout: Duration,
    /// Between messages on an open connection.
    pub idle_timeout: Duration,
    /// From the first byte of a message to its last; a client stalling
    /// mid-message is dropped after this.
    pub read_timeout: Duration,
    /// Writing one response.
    pub write_timeout: Duration,
    /// Message size, nesting depth and item count (a larger declared
    /// length is refused from the header, before allocating).
    pub message: Limits,
    /// Batch items in one request.
    pub max_batch_count: usize,
    /// What multi-part Encrypt/Decrypt streams may hold.
    pub streams: StreamLimits,
}

impl ListenerLimits {
    pub const DEFAULT: ListenerLimits = ListenerLimits {
        max_connections: 1024,
        handshake_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(300),
        read_timeout: Duration::from_secs(30),
        write_timeout: Duration::from_secs(30),
        message: Limits::DEFAULT,
        max_batch_count: 64,
        streams: StreamLimits::DEFAULT,
    };
}

impl Default for ListenerLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
