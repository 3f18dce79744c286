//! One client connection: handshake, identify the client, then read a
//! message, answer it, and wait for the next, until the client leaves, a
//! limit is hit or the server shuts down. Responses go out in request order
//! because each is written before the next request is read.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

use super::{Handler, ListenerLimits};
use crate::ttlv::{FrameError, read_message};

/// Why a connection ended (for the log).
#[derive(Debug, thiserror::Error)]
pub enum ConnectionEnd {
    #[error("TLS handshake timed out")]
    HandshakeTimeout,
    #[error("TLS handshake failed: {0}")]
    Handshake(std::io::Error),
    #[error("the client certificate belongs to no KMIP client")]
    UnknownClient,
    #[error("idle for longer than the idle timeout")]
    Idle,
    #[error("a message took longer than the read timeout")]
    ReadTimeout,
    #[error("unframeable message: {0}")]
    Frame(#[from] FrameError),
    #[error("writing a response: {0}")]
    Write(std::io::Error),
    #[error("writing a response timed out")]
    WriteTimeout,
    #[error("closed by the client")]
    Closed,
    #[error("server shutting down")]
    Shutdown,
}

pub async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    handler: Arc<Handler>,
    limits: ListenerLimits,
    mut shutdown: watch::Receiver<bool>,
) -> ConnectionEnd {
    let tls = match timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
        Err(_) => return ConnectionEnd::HandshakeTimeout,
        Ok(Err(e)) => return ConnectionEnd::Handshake(e),
        Ok(Ok(tls)) => tls,
    };
    let cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|c| c.as_ref().to_vec());
    let client = match cert {
        Some(der) => handler.directory.client_for(&der).await,
        None => None,
    };
    let Some(client) = client else {
        return ConnectionEnd::UnknownClient;
    };
    tracing::debug!(client = %client.name, %peer, "KMIP client connected");
    let mut stream = BufReader::new(tls);
    loop {
        // Wait for the first byte of the next message: the idle timeout.
        let ready = tokio::select! {
            r = timeout(limits.idle_timeout, stream.fill_buf()) => r,
            _ = shutdown.wait_for(|stop| *stop) => return ConnectionEnd::Shutdown,
        };
        match ready {
            Err(_) => return ConnectionEnd::Idle,
            Ok(Err(_)) => return ConnectionEnd::Closed,
            Ok(Ok([])) => return ConnectionEnd::Closed,
            Ok(Ok(_)) => {}
        }
        // The rest of it: the read timeout.
        let request = match timeout(
            limits.read_timeout,
            read_message(&mut stream, &limits.message),
        )
        .await
        {
            Err(_) => return ConnectionEnd::ReadTimeout,
            Ok(Err(e)) => return ConnectionEnd::Frame(e),
            Ok(Ok(None)) => return ConnectionEnd::Closed,
            Ok(Ok(Some(bytes))) => bytes,
        };
        let response = handler.processor.process(&client, peer, &request).await;
        let inner = stream.get_mut();
        match timeout(limits.write_timeout, async {
            inner.write_all(&response).await?;
            inner.flush().await
        })
        .await
        {
            Err(_) => return ConnectionEnd::WriteTimeout,
            Ok(Err(e)) => return ConnectionEnd::Write(e),
            Ok(Ok(())) => {}
        }
    }
}
