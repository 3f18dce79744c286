//! The HTTPS listener: TCP accept, TLS handshake, HTTP/1.1 or HTTP/2.
//!
//! * At most [`Limits::max_connections`] connections at once; past that the
//!   listener stops accepting and new connections wait in the kernel backlog.
//! * A TLS handshake that takes longer than [`Limits::handshake_timeout`] is
//!   dropped, and so is an HTTP/1 request head slower than
//!   [`Limits::header_read_timeout`], so slow clients cannot hold slots.
//! * On shutdown it stops accepting at once and gives open connections
//!   [`DRAIN_TIMEOUT`] to finish their requests.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::http::auth::caller::PeerAddress;
use crate::http::linger::Lingering;
use crate::shutdown::{DRAIN_TIMEOUT, ShutdownSignal};

/// Connection limits of a listener.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `router` over TLS on `listener` until `shutdown` fires, then drains.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    limits: Limits,
    mut shutdown: ShutdownSignal,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    let acceptor = TlsAcceptor::from(tls);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // A request once read runs to its end even if the client shuts its
        // sending side meanwhile: no handler is cancelled halfway, and
        // hyper does not read ahead on every request to look for that end
        // of stream, a read that made it allocate a fresh buffer per
        // request because the request's headers still held the old one.
        .half_close(true);
    builder.http2().timer(TokioTimer::new());

    loop {
        let permit = tokio::select! {
            _ = shutdown.triggered() => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.triggered() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: back off, retry.
                    tracing::warn!(error = %e, listener = %local, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        // Taken now, so the drain waits for connections still in handshake.
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        let router = router.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let tls = match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream))
                .await
            {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let address = PeerAddress::new(peer);
            let service = router.map_request(move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(address.clone());
                request
            });
            let connection = builder.serve_connection(
                TokioIo::new(Lingering::new(tls)),
                TowerToHyperService::new(service),
            );
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }

    drop(listener);
    tracing::info!(listener = %local, "stopped accepting; draining open connections");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            listener = %local,
            "connections still open after {}s; closing them",
            DRAIN_TIMEOUT.as_secs()
        );
    }
    Ok(())
}

/// Accept errors that concern one connection, not the listener.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    )
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::routing::get;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;
    use crate::config::TlsFiles;
    use crate::shutdown::Shutdown;

    struct Fixture {
        addr: std::net::SocketAddr,
        connector: tokio_rustls::TlsConnector,
        shutdown: Shutdown,
        slow_started: Arc<tokio::sync::Notify>,
        server: tokio::task::JoinHandle<anyhow::Result<()>>,
        _dir: tempfile::TempDir,
    }

    async fn start(limits: Limits) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let tls = pki::dev_tls::generate().unwrap();
        let files = TlsFiles {
            cert: dir.path().join("server.pem"),
            key: dir.path().join("server.key"),
        };
        std::fs::write(&files.cert, &tls.server_certificate_pem).unwrap();
        std::fs::write(&files.key, tls.server_key_pem.as_bytes()).unwrap();
        let server_config = crate::tls::https_server_config(&files).unwrap();

        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(tls.ca_certificate_pem.as_bytes()).unwrap())
            .unwrap();
        let client = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();

        let slow_started = Arc::new(tokio::sync::Notify::new());
        let started = Arc::clone(&slow_started);
        let router = Router::new()
            .route("/fast", get(|| async { "fast" }))
            .route(
                "/slow",
                get(move || async move {
                    started.notify_one();
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    "slow"
                }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let server = tokio::spawn(serve(
            listener,
            server_config,
            router,
            limits,
            shutdown.signal(),
        ));
        Fixture {
            addr,
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
            shutdown,
            slow_started,
            server,
            _dir: dir,
        }
    }

    impl Fixture {
        async fn connect(&self) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
            let tcp = TcpStream::connect(self.addr).await?;
            let name = ServerName::try_from("localhost").unwrap();
            self.connector.connect(name, tcp).await
        }
    }

    async fn get_on(
        tls: &mut tokio_rustls::client::TlsStream<TcpStream>,
        path: &str,
    ) -> std::io::Result<String> {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        match tls.read_to_end(&mut response).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
            Err(e) => return Err(e),
        }
        Ok(String::from_utf8_lossy(&response).into_owned())
    }

    #[tokio::test]
    async fn in_flight_requests_finish_after_shutdown_starts() {
        let fixture = start(Limits::default()).await;
        let mut tls = fixture.connect().await.unwrap();
        let slow = tokio::spawn(async move { get_on(&mut tls, "/slow").await });
        // Once the request is in the handler, shut down.
        fixture.slow_started.notified().await;
        fixture.shutdown.trigger();
        let response = slow.await.unwrap().unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("slow"), "{response}");
        tokio::time::timeout(Duration::from_secs(5), fixture.server)
            .await
            .expect("the server drains and returns")
            .unwrap()
            .unwrap();
        // And it no longer accepts.
        assert!(TcpStream::connect(fixture.addr).await.is_err());
    }

    #[tokio::test]
    async fn stalled_handshakes_are_dropped() {
        let fixture = start(Limits {
            handshake_timeout: Duration::from_millis(200),
            ..Limits::default()
        })
        .await;
        let mut tcp = TcpStream::connect(fixture.addr).await.unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 1];
        // Say nothing: the server must hang up on its own.
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .expect("the server must close a stalled handshake")
            .unwrap_or(0);
        assert_eq!(n, 0);
        assert!(started.elapsed() >= Duration::from_millis(150));
        // Other clients are still served.
        let mut tls = fixture.connect().await.unwrap();
        assert!(get_on(&mut tls, "/fast").await.unwrap().ends_with("fast"));
        fixture.shutdown.trigger();
        fixture.server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn connections_past_the_cap_wait_for_a_free_slot() {
        let fixture = start(Limits {
            max_connections: 1,
            ..Limits::default()
        })
        .await;
        let first = fixture.connect().await.unwrap();
        // The second connection is not served while the first holds the slot.
        let second = tokio::time::timeout(Duration::from_millis(300), fixture.connect()).await;
        assert!(
            second.is_err(),
            "a second connection was served past the cap"
        );
        drop(first);
        let mut tls = tokio::time::timeout(Duration::from_secs(5), fixture.connect())
            .await
            .expect("the slot is freed when the first connection closes")
            .unwrap();
        assert!(get_on(&mut tls, "/fast").await.unwrap().ends_with("fast"));
        fixture.shutdown.trigger();
        fixture.server.await.unwrap().unwrap();
    }
}
