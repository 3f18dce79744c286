//! Shared by the KMIP end-to-end tests: a real `Kms` (software root in a
//! temporary directory), a KMIP CA made with `pki::x509` on a key held by
//! that `Kms`, server and client certificates, the listener on
//! 127.0.0.1:0, and a TTLV client over tokio-rustls.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use kmip_server::client::{InMemoryDirectory, KmipClient};
use kmip_server::listener::tls::{self, TlsMaterial};
use kmip_server::listener::{Handler, ListenerConfig, ListenerLimits, serve};
use kmip_server::ttlv::enums::Operation;
use kmip_server::ttlv::{self, Limits, Tag, Ttlv};
use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::ids::ProjectId;
use kms_core::service::{Actor, Kms, OpenOptions, Template};
use pki::x509::{
    CertificateAuthority, CrlParams, GeneratedKeyPair, IssuedCertificate, KmsSigner,
    RevokedCertificate, SignedCrl, SubjectAltNames, Validity, generate_p256,
};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use time::{Duration, OffsetDateTime};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

pub const TIMEOUT: StdDuration = StdDuration::from_secs(20);

pub fn actor() -> Actor {
    Actor::new("kmip-tests", Some("127.0.0.1".into()))
}

/// A certificate and its key.
pub struct Identity {
    pub cert: IssuedCertificate,
    pub key: GeneratedKeyPair,
}

pub struct Env {
    pub _dir: tempfile::TempDir,
    pub kms: Kms,
    pub project_a: ProjectId,
    pub project_b: ProjectId,
    pub ca: CertificateAuthority<KmsSigner>,
    pub server: Identity,
    /// Every operation, project A.
    pub alice: Identity,
    /// Every operation, project B.
    pub bob: Identity,
    /// Only Query and Discover Versions, project A.
    pub limited: Identity,
    /// Issued by our CA, then revoked in the CRL.
    pub revoked: Identity,
    /// Issued by our CA but in no directory entry.
    pub stranger: Identity,
    /// Issued by another CA with the same name.
    pub foreign: Identity,
    pub directory: Arc<InMemoryDirectory>,
}

fn validity(days: i64) -> Validity {
    Validity::starting_now(Duration::days(days)).expect("validity")
}

pub async fn issue_client(ca: &CertificateAuthority<KmsSigner>, name: &str) -> Identity {
    let key = generate_p256().expect("key");
    let cert = ca
        .issue_client(key.public_key(), name, validity(30))
        .await
        .expect("client certificate");
    Identity { cert, key }
}

async fn make_ca(kms: &Kms, project: ProjectId) -> CertificateAuthority<KmsSigner> {
    let active = Template {
        activation_date: Some(OffsetDateTime::now_utc() - Duration::seconds(60)),
        ..Template::default()
    };
    let pair = kms
        .create_key_pair(&actor(), project, KeySpec::EcP256, active.clone(), active)
        .await
        .expect("CA key");
    let signer = KmsSigner::new(kms.clone(), actor(), project, pair.private_key, None)
        .await
        .expect("signer");
    CertificateAuthority::create(signer, "Strongroom KMIP CA", validity(3650))
        .await
        .expect("CA")
}

impl Env {
    pub async fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = SoftwareRoot::create_key_file(&dir.path().join("root.key")).expect("root");
        let kms = Kms::init(&OpenOptions::sqlite_in(dir.path()), Arc::new(root))
            .await
            .expect("init");
        let org = kms.create_organization(&actor(), "org").await.expect("org");
        let project_a = kms.create_project(&actor(), org, "a").await.expect("a");
        let project_b = kms.create_project(&actor(), org, "b").await.expect("b");
        let ca_project = kms.create_project(&actor(), org, "ca").await.expect("ca");
        let ca = make_ca(&kms, ca_project).await;
        let foreign_ca = make_ca(&kms, ca_project).await;
        let server_key = generate_p256().expect("server key");
        let names = SubjectAltNames::parse(["localhost", "127.0.0.1"]).expect("names");
        let server_cert = ca
            .issue_server(server_key.public_key(), &names, validity(365))
            .await
            .expect("server certificate");
        let env = Env {
            alice: issue_client(&ca, "alice").await,
            bob: issue_client(&ca, "bob").await,
            limited: issue_client(&ca, "limited").await,
            revoked: issue_client(&ca, "revoked").await,
            stranger: issue_client(&ca, "stranger").await,
            foreign: issue_client(&foreign_ca, "alice").await,
            server: Identity {
                cert: server_cert,
                key: server_key,
            },
            ca,
            kms,
            project_a,
            project_b,
            directory: Arc::new(InMemoryDirectory::new()),
            _dir: dir,
        };
        let dir = &env.directory;
        dir.insert(
            env.alice.cert.der(),
            KmipClient::with_all_operations("alice", project_a),
        );
        dir.insert(
            env.bob.cert.der(),
            KmipClient::with_all_operations("bob", project_b),
        );
        dir.insert(
            env.revoked.cert.der(),
            KmipClient::with_all_operations("revoked", project_a),
        );
        dir.insert(
            env.limited.cert.der(),
            KmipClient {
                name: "limited".into(),
                project: project_a,
                operations: [Operation::QUERY, Operation::DISCOVER_VERSIONS].into(),
            },
        );
        env
    }

    pub async fn crl(&self, revoked: &[&Identity]) -> SignedCrl {
        let list: Vec<RevokedCertificate> = revoked
            .iter()
            .map(|i| RevokedCertificate {
                serial: i.cert.serial().clone(),
                revoked_at: OffsetDateTime::now_utc(),
                reason: None,
            })
            .collect();
        self.ca
            .crl(
                &list,
                &CrlParams::starting_now(Duration::days(7)).expect("crl params"),
            )
            .await
            .expect("crl")
    }

    pub fn server_config(&self, crl: &SignedCrl) -> Arc<ServerConfig> {
        tls::server_config(TlsMaterial {
            client_ca: self.ca.certificate().der().to_vec(),
            crls: vec![crl.der().to_vec()],
            server_chain: vec![self.server.cert.der().to_vec()],
            server_key: key_der(&self.server.key),
        })
        .expect("server config")
    }

    /// Starts a listener with `limits`; the CRL revokes `revoked`.
    pub async fn start(&self, limits: ListenerLimits) -> Server {
        let crl = self.crl(&[&self.revoked]).await;
        let (tls_tx, tls_rx) = watch::channel(self.server_config(&crl));
        let (stop_tx, stop_rx) = watch::channel(false);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handler = Arc::new(Handler::new(
            self.kms.clone(),
            self.directory.clone(),
            &limits,
        ));
        let task = tokio::spawn(serve(
            listener,
            ListenerConfig {
                tls: tls_rx,
                limits,
            },
            handler,
            stop_rx,
        ));
        Server {
            addr,
            tls: tls_tx,
            stop: stop_tx,
            task,
        }
    }

    pub fn client_config(&self, who: Option<&Identity>) -> Arc<ClientConfig> {
        self.client_config_for(who, rustls::DEFAULT_VERSIONS)
    }

    /// A client offering only `versions` of TLS.
    pub fn client_config_for(
        &self,
        who: Option<&Identity>,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca.certificate().der().to_vec()))
            .expect("root");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .expect("verifier");
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("versions")
            .with_webpki_verifier(verifier);
        Arc::new(match who {
            Some(id) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from(id.cert.der().to_vec())],
                    key_der(&id.key),
                )
                .expect("client auth"),
            None => builder.with_no_client_auth(),
        })
    }

    /// A TLS connection as `who`.
    pub async fn connect(
        &self,
        server: &Server,
        who: Option<&Identity>,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        self.connect_with(server, self.client_config(who)).await
    }

    pub async fn connect_with(
        &self,
        server: &Server,
        config: Arc<ClientConfig>,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(server.addr).await?;
        let name = ServerName::try_from("localhost").expect("name");
        TlsConnector::from(config).connect(name, tcp).await
    }
}

pub fn key_der(key: &GeneratedKeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8().expose().to_vec()))
}

pub struct Server {
    pub addr: SocketAddr,
    pub tls: watch::Sender<Arc<ServerConfig>>,
    pub stop: watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub async fn shutdown(self) {
        self.stop.send(true).expect("stop");
        tokio::time::timeout(TIMEOUT, self.task)
            .await
            .expect("server stops in time")
            .expect("server task")
            .expect("serve");
    }
}

/// Sends `request` and reads one response message.
pub async fn send_raw(stream: &mut TlsStream<TcpStream>, request: &[u8]) -> std::io::Result<Ttlv> {
    stream.write_all(request).await?;
    stream.flush().await?;
    receive(stream).await
}

pub async fn receive(stream: &mut TlsStream<TcpStream>) -> std::io::Result<Ttlv> {
    let read = tokio::time::timeout(TIMEOUT, ttlv::read_message(stream, &Limits::DEFAULT))
        .await
        .map_err(|_| std::io::Error::other("no response in time"))?
        .map_err(std::io::Error::other)?
        .ok_or_else(|| std::io::Error::other("connection closed"))?;
    ttlv::decode(&read, &Limits::DEFAULT).map_err(std::io::Error::other)
}

pub async fn send(stream: &mut TlsStream<TcpStream>, request: &Ttlv) -> Ttlv {
    let bytes = ttlv::encode(request).expect("encode");
    send_raw(stream, &bytes).await.expect("response")
}

// ---------------------------------------------------------------- requests

pub fn version(major: i32, minor: i32) -> Ttlv {
    Ttlv::structure(
        Tag::PROTOCOL_VERSION,
        vec![
            Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, major),
            Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, minor),
        ],
    )
}

/// A request at `minor` with `extra` header fields (placed before Batch
/// Count) and one batch item per (operation, payload children).
pub fn request_with(minor: i32, extra: Vec<Ttlv>, items: Vec<(Operation, Vec<Ttlv>)>) -> Ttlv {
    let mut header = vec![version(1, minor)];
    header.extend(extra);
    header.push(Ttlv::integer(Tag::BATCH_COUNT, items.len() as i32));
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

pub fn request(minor: i32, items: Vec<(Operation, Vec<Ttlv>)>) -> Ttlv {
    request_with(minor, Vec::new(), items)
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

pub fn name_value(name: &str) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE_VALUE,
        vec![
            Ttlv::text(Tag::NAME_VALUE, name),
            Ttlv::enumeration(Tag::NAME_TYPE, 1u32),
        ],
    )
}

/// A Create payload for an AES-256 key named `name`.
pub fn create_aes(name: &str) -> Vec<Ttlv> {
    vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, 2u32),
        Ttlv::structure(
            Tag::TEMPLATE_ATTRIBUTE,
            vec![
                attr(
                    "Cryptographic Algorithm",
                    Ttlv::enumeration(Tag::ATTRIBUTE_VALUE, 3u32),
                ),
                attr(
                    "Cryptographic Length",
                    Ttlv::integer(Tag::ATTRIBUTE_VALUE, 256),
                ),
                attr(
                    "Cryptographic Usage Mask",
                    Ttlv::integer(Tag::ATTRIBUTE_VALUE, 0x4 | 0x8),
                ),
                attr("Name", name_value(name)),
            ],
        ),
    ]
}

pub fn uid(id: &str) -> Ttlv {
    Ttlv::text(Tag::UNIQUE_IDENTIFIER, id)
}

// --------------------------------------------------------------- responses

pub fn header(response: &Ttlv) -> &Ttlv {
    response
        .child(Tag::RESPONSE_HEADER)
        .expect("response header")
}

pub fn response_version(response: &Ttlv) -> (i32, i32) {
    let v = header(response)
        .child(Tag::PROTOCOL_VERSION)
        .expect("version");
    (
        v.child(Tag::PROTOCOL_VERSION_MAJOR)
            .unwrap()
            .as_i32()
            .unwrap(),
        v.child(Tag::PROTOCOL_VERSION_MINOR)
            .unwrap()
            .as_i32()
            .unwrap(),
    )
}

pub fn items(response: &Ttlv) -> Vec<&Ttlv> {
    response.children(Tag::BATCH_ITEM).collect()
}

/// Result Status of a batch item (0 success, 1 failed).
pub fn status(item: &Ttlv) -> u32 {
    item.child(Tag::RESULT_STATUS)
        .expect("status")
        .as_enum()
        .unwrap()
}

pub fn reason(item: &Ttlv) -> Option<u32> {
    item.child(Tag::RESULT_REASON).map(|r| r.as_enum().unwrap())
}

pub fn message(item: &Ttlv) -> String {
    item.child(Tag::RESULT_MESSAGE)
        .map(|m| m.as_text().unwrap().to_owned())
        .unwrap_or_default()
}

pub fn payload(item: &Ttlv) -> &Ttlv {
    assert_eq!(
        status(item),
        0,
        "batch item failed: {:?} {}",
        reason(item),
        message(item)
    );
    item.child(Tag::RESPONSE_PAYLOAD).expect("payload")
}

pub fn text_of(item: &Ttlv, tag: Tag) -> String {
    item.child(tag)
        .expect("field")
        .as_text()
        .unwrap()
        .to_owned()
}

pub fn bytes_of(item: &Ttlv, tag: Tag) -> Vec<u8> {
    item.child(tag).expect("field").as_bytes().unwrap().to_vec()
}

/// Sends a single-item request and returns that item.
pub async fn one(
    stream: &mut TlsStream<TcpStream>,
    minor: i32,
    op: Operation,
    payload: Vec<Ttlv>,
) -> Ttlv {
    let response = send(stream, &request(minor, vec![(op, payload)])).await;
    let mut all = items(&response).into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(all.len(), 1, "one batch item expected: {response:?}");
    all.remove(0)
}

/// Result Reason values.
pub mod reasons {
    pub const ITEM_NOT_FOUND: u32 = 1;
    pub const RESPONSE_TOO_LARGE: u32 = 2;
    pub const INVALID_MESSAGE: u32 = 4;
    pub const OPERATION_NOT_SUPPORTED: u32 = 5;
    pub const INVALID_FIELD: u32 = 7;
    pub const FEATURE_NOT_SUPPORTED: u32 = 8;
    pub const CRYPTOGRAPHIC_FAILURE: u32 = 10;
    pub const ILLEGAL_OPERATION: u32 = 11;
    pub const PERMISSION_DENIED: u32 = 12;
    pub const INDEX_OUT_OF_BOUNDS: u32 = 14;
    pub const KEY_FORMAT_TYPE_NOT_SUPPORTED: u32 = 16;
}
