//! # Listener — KMIP over mutual TLS (KMIP 1.4 §10.2, port 5696)
//!
//! [`serve`] accepts TCP connections, performs the TLS handshake with the
//! current configuration (see [`tls`]: client certificate required and
//! checked against the KMIP CA and its CRL), maps the certificate to a
//! [`KmipClient`](crate::client::KmipClient) through the
//! [`ClientDirectory`], and then answers messages on the connection one
//! after another through the [`Processor`].
//!
//! Every limit is in [`ListenerLimits`]: connections beyond the maximum are
//! closed as soon as accepted; the handshake, the wait between messages,
//! the reading of one message and the writing of one response each have a
//! timeout; a declared message length over the maximum ends the
//! connection before anything is allocated for it; bytes that frame but do
//! not decode (deep nesting, bad types, unknown tags) are answered with an
//! Invalid Message response and the connection stays open.
//!
//! Shutdown: when the `shutdown` channel turns `true`, no new connection is
//! accepted, idle connections close, and a request being processed is
//! answered first; `serve` returns when every connection has ended.
//!
//! ```ignore
//! let (tls_tx, tls_rx) = tokio::sync::watch::channel(tls::server_config(material)?);
//! let handler = Arc::new(Handler::new(kms, directory, &limits));
//! tokio::spawn(serve(listener, ListenerConfig { tls: tls_rx, limits }, handler, shutdown_rx));
//! // later, with a new CRL:
//! tls_tx.send(tls::server_config(new_material)?)?;
//! ```

mod connection;
mod limits;
pub mod tls;

use std::sync::Arc;

use kms_core::service::Kms;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::client::ClientDirectory;
use crate::processor::Processor;

pub use connection::ConnectionEnd;
pub use limits::ListenerLimits;

/// What answers requests: the processor and the client directory.
pub struct Handler {
    pub processor: Processor,
    pub directory: Arc<dyn ClientDirectory>,
}

impl Handler {
    pub fn new(kms: Kms, directory: Arc<dyn ClientDirectory>, limits: &ListenerLimits) -> Self {
        Self {
            processor: Processor::new(kms, limits.message, limits.max_batch_count)
                .with_stream_limits(limits.streams),
            directory,
        }
    }
}

/// The listener's configuration: the TLS configuration (replaceable while
/// serving) and the limits.
pub struct ListenerConfig {
    pub tls: watch::Receiver<Arc<ServerConfig>>,
    pub limits: ListenerLimits,
}

/// Serves KMIP on `listener` until `shutdown` becomes `true`, then waits
/// for open connections to end. Returns an error only if accepting fails
/// in a way that will not get better.
pub async fn serve(
    listener: TcpListener,
    config: ListenerConfig,
    handler: Arc<Handler>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let limits = config.limits;
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|stop| *stop) => break,
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) if is_transient(&e) => {
                tracing::warn!(error = %e, "KMIP accept failed; continuing");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = limits.max_connections, "KMIP connection refused: too many connections");
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = TlsAcceptor::from(config.tls.borrow().clone());
        let handler = handler.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let end =
                connection::serve_connection(tcp, peer, acceptor, handler, limits, shutdown).await;
            tracing::debug!(%peer, "KMIP connection ended: {end}");
            drop(slot);
        });
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Accept errors that concern one connection or a passing shortage.
fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionAborted | K::ConnectionReset | K::Interrupted | K::WouldBlock | K::TimedOut
    ) || e
        .raw_os_error()
        .is_some_and(|code| code == 23 || code == 24) // ENFILE, EMFILE
}
