//! Graceful shutdown: one [`Shutdown`] trigger, many [`ShutdownSignal`]s.
//!
//! SIGTERM or SIGINT (or a listener failing) triggers it once; every listener
//! holds a signal, stops accepting, and lets its in-flight requests finish
//! within [`DRAIN_TIMEOUT`]. A second SIGTERM/SIGINT during the drain exits
//! at once.

use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// How long in-flight requests get to finish after shutdown starts.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The trigger side.
#[derive(Debug)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
}

/// The listening side; cheap to clone.
#[derive(Clone, Debug)]
pub struct ShutdownSignal {
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    pub fn new() -> Self {
        let (tx, _) = watch::channel(false);
        Self { tx }
    }

    /// A signal that resolves when [`Shutdown::trigger`] is called.
    pub fn signal(&self) -> ShutdownSignal {
        ShutdownSignal {
            rx: self.tx.subscribe(),
        }
    }

    /// Starts the shutdown (idempotent).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl ShutdownSignal {
    /// Resolves once shutdown has been triggered (at once if it already was).
    pub async fn triggered(&mut self) {
        // An error means the trigger was dropped: treat that as shutdown too.
        let _ = self.rx.wait_for(|&stop| stop).await;
    }

    /// Whether shutdown has been triggered.
    /// The underlying channel, for tasks that take a `watch::Receiver<bool>`
    /// (the KMIP listener).
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.rx.clone()
    }

    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }
}

/// The operating-system signals that stop the server.
pub struct OsSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl OsSignals {
    /// Installs the SIGTERM and SIGINT handlers. Call it early, so a signal
    /// that arrives during start-up is not lost to the default handler.
    pub fn install() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the next SIGTERM or SIGINT and returns its name.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn signals_resolve_after_trigger() {
        let shutdown = Shutdown::new();
        let mut a = shutdown.signal();
        let b = shutdown.signal();
        assert!(!b.is_triggered());
        shutdown.trigger();
        a.triggered().await;
        assert!(b.is_triggered());
        // A signal taken after the trigger resolves at once.
        shutdown.signal().triggered().await;
    }
}
