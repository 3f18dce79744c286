//! # kmip-server — KMIP 1.0–1.4 over mutual TLS
//!
//! This crate is Strongroom's KMIP server: the TTLV codec (written here
//! because the `kmip-protocol` crate only serializes requests and parses
//! responses — it is the test client), request and response messages with
//! batches, one file per KMIP operation, and the mutual-TLS listener on port
//! 5696 that maps client certificates to KMIP clients in projects.
//!
//! Every operation goes through [`kms_core::service::Kms`], so the
//! lifecycle, the key hierarchy and the audit log apply unchanged; this
//! crate must never touch storage or unwrap a key on its own. The binary in
//! the `api` crate already runs one tokio runtime with a slot for this
//! listener beside the HTTPS one.
//!
//! ## The parts
//!
//! | module | does |
//! |---|---|
//! | [`ttlv`] | the binary encoding: strict bounded decoder, encoder, framing |
//! | [`xml`] | the XML encoding and the OASIS test-vector reader |
//! | [`message`] | Request and Response Messages, batch items, Result Reasons ([`message::OperationError`], the one mapping from `kms_core::Error`), attributes by protocol version |
//! | [`operations`] | one file per operation; [`operations::dispatch`] checks version support and the client's permissions |
//! | [`processor`] | bytes in, bytes out: decode, run the batch (Stop / Continue; Undo refused), Maximum Response Size, encode |
//! | [`streams`] | multi-part Encrypt/Decrypt in progress (Correlation Value), bounded per client and in all, forgotten when idle |
//! | [`certify`] | the [`certify::Certifier`] trait a CA implements to back KMIP Certify |
//! | [`client`] | [`client::KmipClient`] (name, project, permitted operations) and the [`client::ClientDirectory`] that finds one for a certificate |
//! | [`listener`] | tokio + rustls: mutual TLS against the KMIP CA and its CRL, hot-swappable configuration, every limit, graceful shutdown |
//!
//! ## How a request flows
//!
//! 1. [`listener::serve`] accepts a connection (or closes it at once when
//!    `max_connections` are open) and completes the TLS handshake within
//!    the handshake timeout. rustls's `WebPkiClientVerifier` refuses a
//!    missing certificate, one from another CA and one the CRL revokes.
//! 2. The end-entity certificate is looked up in the
//!    [`client::ClientDirectory`]; a certificate that names no client ends
//!    the connection before any request is read.
//! 3. Each message is framed by [`ttlv::read_message`] (a declared length
//!    over the limit ends the connection before any allocation; the idle and
//!    read timeouts apply), then handed to [`processor::Processor::process`].
//! 4. The processor decodes it (depth, item and size limits), reads the
//!    header and batch items ([`message::RequestMessage`]), negotiates the
//!    version (1.0–1.4; a later 1.x is served as 1.4; another major is
//!    Invalid Message) and runs the items in order through
//!    [`operations::dispatch`] with a [`operations::Context`] holding the
//!    `Kms`, the client (its project scopes every lookup), the audit actor
//!    `kmip:<client name>` with the peer address, and the ID Placeholder.
//! 5. Each operation reads its payload, calls `Kms`, and builds its
//!    Response Payload; a failure is an [`message::OperationError`] whose
//!    variant is the Result Reason.
//! 6. The [`message::ResponseMessage`] echoes the request's version, each
//!    item's Operation and Unique Batch Item ID, and is written back before
//!    the next request on the connection is read, so responses are in order.
//!
//! ## Wiring it (from `api`)
//!
//! ```ignore
//! use kmip_server::listener::{self, tls, Handler, ListenerConfig, ListenerLimits};
//! let config = tls::server_config(tls::TlsMaterial { client_ca, crls, server_chain, server_key })?;
//! let (tls_tx, tls_rx) = tokio::sync::watch::channel(config);   // keep tls_tx to swap in new CRLs
//! let limits = ListenerLimits::DEFAULT;
//! let mut handler = Handler::new(kms.clone(), directory, &limits);
//! // Optional: back KMIP Certify with the install's CA (see `certify`).
//! handler.processor = handler.processor.with_certifier(std::sync::Arc::new(kmip_ca));
//! let handler = std::sync::Arc::new(handler);
//! let listener = tokio::net::TcpListener::bind(addr).await?;
//! tasks.spawn(listener::serve(listener, ListenerConfig { tls: tls_rx, limits }, handler, shutdown_rx));
//! ```
#![forbid(unsafe_code)]

pub mod certify;
pub mod client;
pub mod listener;
pub mod message;
pub mod operations;
pub mod processor;
pub mod streams;
pub mod ttlv;
pub mod xml;
