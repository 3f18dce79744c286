//! # The KMIP front end: PKI, clients, and the listener's wiring
//!
//! `strongroom serve` runs `kmip_server::listener::serve` next to the HTTPS
//! API. This module supplies what that listener needs from the install:
//!
//! | module | does |
//! |---|---|
//! | [`registry`] | the records in the system project: CA state, clients, issued certificates |
//! | [`certifier`] | KMIP Certify: [`KmipCertifier`](certifier::KmipCertifier) issues client certificates from the KMIP CA for PKCS#10 requests and Public Key objects |
//! | [`pki`] | the KMIP CA (its key a managed key in the system project), the server certificate for `kmip.hostnames`, CRLs, the rustls configuration |
//! | [`directory`] | the `ClientDirectory` over the records: certificate SHA-256 → client (project, permitted operations) |
//! | [`service`] | [`KmipAdmin`](service::KmipAdmin): create clients, issue and revoke certificates, list; keeps a live listener's directory and CRL in step and reloads them every 30 s |
//! | [`commands`] | `strongroom kmip client create / cert / revoke / list`, through the admin socket when a server runs |
//! | [`dev`] | dev mode's admin client certificate in `DATA/kmip/` |
//!
//! ## Start-up
//! [`start`] opens (or creates) the CA, reads the server key out of kms-core
//! into memory, signs a CRL from the recorded revocations, builds the rustls
//! configuration and the directory, gives the processor the CA as its
//! Certify certifier, and returns the handler and the configuration channel
//! the listener takes.

pub mod certifier;
pub mod commands;
pub mod dev;
pub mod directory;
pub mod pki;
pub mod registry;
pub mod service;

use std::sync::Arc;

use kmip_server::listener::{Handler, ListenerConfig};
use kms_core::service::Kms;

use crate::config::KmipConfig;
use service::KmipAdmin;

/// What [`start`] prepares for the listener.
pub struct KmipRuntime {
    pub admin: Arc<KmipAdmin>,
    pub listener_config: ListenerConfig,
    pub handler: Arc<Handler>,
}

/// Opens (or creates) the KMIP PKI and prepares the listener.
pub async fn start(kms: &Kms, config: &KmipConfig) -> anyhow::Result<KmipRuntime> {
    let pki = pki::KmipPki::ensure(kms, &config.hostnames, config.ca_key_location()).await?;
    let certifier = Arc::new(pki.certifier()?);
    let mut admin = KmipAdmin::new(kms, pki);
    let (tls, directory) = admin.go_live().await?;
    let limits = config.limits();
    let mut handler = Handler::new(kms.clone(), directory, &limits);
    handler.processor = handler.processor.with_certifier(certifier);
    let handler = Arc::new(handler);
    Ok(KmipRuntime {
        admin: Arc::new(admin),
        listener_config: ListenerConfig { tls, limits },
        handler,
    })
}
