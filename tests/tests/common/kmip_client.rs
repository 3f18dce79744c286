//! A small raw-TTLV KMIP client over mutual TLS, for tests that talk to the
//! real binary's listener: who connects ([`Identity`]), one request at a
//! time ([`one`]), and builders for the fields tests send.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kmip_server::ttlv::enums::Operation as Op;
use kmip_server::ttlv::{self, Limits, Tag, Ttlv};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

pub type Conn = TlsStream<TcpStream>;

/// Who connects: a certificate, its key, and the CA that verifies the
/// server (the KMIP CA, which also issued the client certificate).
#[derive(Clone, Debug)]
pub struct Identity {
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl Identity {
    /// Dev mode's admin client, from `bootstrap.json`.
    pub fn admin(bootstrap: &Value) -> Self {
        let path = |k: &str| PathBuf::from(bootstrap[k].as_str().unwrap());
        Self {
            certificate: path("kmipClientCertificate"),
            key: path("kmipClientKey"),
            ca: path("kmipCaCertificate"),
        }
    }

    /// What `strongroom kmip client cert --out DIR` wrote.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            certificate: dir.join("client.pem"),
            key: dir.join("client.key"),
            ca: dir.join("ca.pem"),
        }
    }

    pub fn config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&self.ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.certificate)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(&self.key).unwrap();
        Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap(),
        )
    }
}

/// A mutual-TLS connection to `address` as `who`, the server verified as
/// `localhost`.
pub async fn connect(address: &str, who: &Identity) -> std::io::Result<Conn> {
    let tcp = TcpStream::connect(address).await?;
    let connector = tokio_rustls::TlsConnector::from(who.config());
    let name = ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(Duration::from_secs(20), connector.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("handshake timed out"))?
}

pub async fn send(conn: &mut Conn, request: &Ttlv) -> std::io::Result<Ttlv> {
    conn.write_all(&ttlv::encode(request).unwrap()).await?;
    conn.flush().await?;
    let bytes = tokio::time::timeout(
        Duration::from_secs(60),
        ttlv::read_message(conn, &Limits::DEFAULT),
    )
    .await
    .map_err(|_| std::io::Error::other("no response in time"))?
    .map_err(std::io::Error::other)?
    .ok_or_else(|| std::io::Error::other("connection closed"))?;
    ttlv::decode(&bytes, &Limits::DEFAULT).map_err(std::io::Error::other)
}

/// A KMIP 1.4 request message with one batch item per `(operation,
/// payload)`.
pub fn request(items: Vec<(Op, Vec<Ttlv>)>) -> Ttlv {
    let header = vec![
        Ttlv::structure(
            Tag::PROTOCOL_VERSION,
            vec![
                Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, 1),
                Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, 4),
            ],
        ),
        Ttlv::integer(Tag::BATCH_COUNT, items.len() as i32),
    ];
    let mut children = vec![Ttlv::structure(Tag::REQUEST_HEADER, header)];
    for (i, (op, payload)) in items.into_iter().enumerate() {
        children.push(Ttlv::structure(
            Tag::BATCH_ITEM,
            vec![
                Ttlv::enumeration(Tag::OPERATION, op),
                Ttlv::bytes(Tag::UNIQUE_BATCH_ITEM_ID, vec![i as u8 + 1]),
                Ttlv::structure(Tag::REQUEST_PAYLOAD, payload),
            ],
        ));
    }
    Ttlv::structure(Tag::REQUEST_MESSAGE, children)
}

/// One operation; returns its batch item.
pub async fn one(conn: &mut Conn, op: Op, payload: Vec<Ttlv>) -> Ttlv {
    let response = send(conn, &request(vec![(op, payload)])).await.unwrap();
    response.children(Tag::BATCH_ITEM).next().unwrap().clone()
}

pub fn reason(item: &Ttlv) -> Option<u32> {
    item.child(Tag::RESULT_REASON).map(|r| r.as_enum().unwrap())
}

/// The payload of a successful batch item (fails the test otherwise).
pub fn payload(item: &Ttlv) -> &Ttlv {
    let status = item.child(Tag::RESULT_STATUS).unwrap().as_enum().unwrap();
    assert_eq!(status, 0, "batch item failed: {item:?}");
    item.child(Tag::RESPONSE_PAYLOAD).unwrap()
}

/// The Unique Identifier a successful batch item returned.
pub fn returned_id(item: &Ttlv) -> String {
    payload(item)
        .child(Tag::UNIQUE_IDENTIFIER)
        .unwrap()
        .as_text()
        .unwrap()
        .to_owned()
}

pub fn attr(name: &str, value: Ttlv) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE,
        vec![
            Ttlv::text(Tag::ATTRIBUTE_NAME, name),
            Ttlv::new(Tag::ATTRIBUTE_VALUE, value.value),
        ],
    )
}

pub fn uid(id: &str) -> Ttlv {
    Ttlv::text(Tag::UNIQUE_IDENTIFIER, id)
}
