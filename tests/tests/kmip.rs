//! The KMIP listener of the real `strongroom` binary: dev mode's admin
//! client over mutual TLS, clients in other projects with fewer operations,
//! certificates from CSRs, revocation while serving, restarts, and the
//! configured limits.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use kmip_server::ttlv::enums::Operation as Op;
use kmip_server::ttlv::{self, Limits, Tag, Ttlv};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const ITEM_NOT_FOUND: u32 = 1;
const INVALID_MESSAGE: u32 = 4;
const PERMISSION_DENIED: u32 = 12;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Who connects: a certificate, its key, and the CA that verifies the
/// server.
#[derive(Clone, Debug)]
struct Identity {
    certificate: PathBuf,
    key: PathBuf,
    ca: PathBuf,
}

impl Identity {
    fn admin(bootstrap: &Value) -> Self {
        let path = |k: &str| PathBuf::from(bootstrap[k].as_str().unwrap());
        Self {
            certificate: path("kmipClientCertificate"),
            key: path("kmipClientKey"),
            ca: path("kmipCaCertificate"),
        }
    }

    fn in_dir(dir: &Path) -> Self {
        Self {
            certificate: dir.join("client.pem"),
            key: dir.join("client.key"),
            ca: dir.join("ca.pem"),
        }
    }

    fn config(&self) -> Arc<rustls::ClientConfig> {
        self.config_for(&[&rustls::version::TLS13, &rustls::version::TLS12])
    }

    fn config_for(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<rustls::ClientConfig> {
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
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap(),
        )
    }
}

type Conn = TlsStream<TcpStream>;

async fn connect(address: &str, who: &Identity) -> std::io::Result<Conn> {
    connect_with(address, who.config()).await
}

async fn connect_with(address: &str, config: Arc<rustls::ClientConfig>) -> std::io::Result<Conn> {
    let tcp = TcpStream::connect(address).await?;
    let connector = tokio_rustls::TlsConnector::from(config);
    let name = ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(Duration::from_secs(20), connector.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("handshake timed out"))?
}

async fn send(conn: &mut Conn, request: &Ttlv) -> std::io::Result<Ttlv> {
    conn.write_all(&ttlv::encode(request).unwrap()).await?;
    conn.flush().await?;
    let bytes = tokio::time::timeout(
        Duration::from_secs(20),
        ttlv::read_message(conn, &Limits::DEFAULT),
    )
    .await
    .map_err(|_| std::io::Error::other("no response in time"))?
    .map_err(std::io::Error::other)?
    .ok_or_else(|| std::io::Error::other("connection closed"))?;
    ttlv::decode(&bytes, &Limits::DEFAULT).map_err(std::io::Error::other)
}

fn request(items: Vec<(Op, Vec<Ttlv>)>) -> Ttlv {
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
async fn one(conn: &mut Conn, op: Op, payload: Vec<Ttlv>) -> Ttlv {
    let response = send(conn, &request(vec![(op, payload)])).await.unwrap();
    response.children(Tag::BATCH_ITEM).next().unwrap().clone()
}

fn reason(item: &Ttlv) -> Option<u32> {
    item.child(Tag::RESULT_REASON).map(|r| r.as_enum().unwrap())
}

fn payload(item: &Ttlv) -> &Ttlv {
    let status = item.child(Tag::RESULT_STATUS).unwrap().as_enum().unwrap();
    assert_eq!(status, 0, "batch item failed: {item:?}");
    item.child(Tag::RESPONSE_PAYLOAD).unwrap()
}

fn attr(name: &str, value: Ttlv) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE,
        vec![
            Ttlv::text(Tag::ATTRIBUTE_NAME, name),
            Ttlv::new(Tag::ATTRIBUTE_VALUE, value.value),
        ],
    )
}

fn create_aes() -> Vec<Ttlv> {
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
            ],
        ),
    ]
}

fn uid(id: &str) -> Ttlv {
    Ttlv::text(Tag::UNIQUE_IDENTIFIER, id)
}

/// Creates, activates and uses an AES key as `who`; returns its id.
async fn create_and_encrypt(address: &str, who: &Identity) -> String {
    let mut c = connect(address, who).await.unwrap();
    let item = one(&mut c, Op::CREATE, create_aes()).await;
    let id = payload(&item)
        .child(Tag::UNIQUE_IDENTIFIER)
        .unwrap()
        .as_text()
        .unwrap()
        .to_owned();
    payload(&one(&mut c, Op::ACTIVATE, vec![uid(&id)]).await);
    let item = one(&mut c, Op::GET, vec![uid(&id)]).await;
    assert!(payload(&item).child(Tag::SYMMETRIC_KEY).is_some());
    let item = one(
        &mut c,
        Op::ENCRYPT,
        vec![uid(&id), Ttlv::bytes(Tag::DATA, b"secret".to_vec())],
    )
    .await;
    assert_eq!(
        payload(&item)
            .child(Tag::DATA)
            .unwrap()
            .as_bytes()
            .unwrap()
            .len(),
        6
    );
    id
}

/// Whether `who` is turned away: the handshake fails, or (TLS 1.3, where
/// the client finishes first) the first request gets no answer.
async fn refused(address: &str, who: &Identity) -> bool {
    match connect(address, who).await {
        Err(_) => true,
        Ok(mut c) => send(&mut c, &request(vec![(Op::DISCOVER_VERSIONS, vec![])]))
            .await
            .is_err(),
    }
}

fn kmip_address(bootstrap: &Value) -> String {
    let address = bootstrap["kmipAddress"].as_str().unwrap().to_owned();
    assert!(!address.ends_with(":0"), "{address}");
    address
}

fn cli(data: &Path, args: &[&str]) -> String {
    let mut all = vec!["kmip", "client"];
    all.extend_from_slice(&args[..1]);
    all.extend_from_slice(&["--dev", "--data-dir", data.to_str().unwrap()]);
    all.extend_from_slice(&args[1..]);
    let (status, stdout, stderr) = run(strongroom(&all));
    assert!(status.success(), "{all:?}: {stderr}");
    stdout
}

fn cli_fails(data: &Path, args: &[&str]) -> String {
    let mut all = vec!["kmip", "client"];
    all.extend_from_slice(&args[..1]);
    all.extend_from_slice(&["--dev", "--data-dir", data.to_str().unwrap()]);
    all.extend_from_slice(&args[1..]);
    let (status, _, stderr) = run(strongroom(&all));
    assert_eq!(status.code(), Some(1), "{all:?} should fail: {stderr}");
    stderr
}

/// A second project, made through the library while no server runs (there
/// is no project command yet).
fn second_project(data: &Path) -> String {
    runtime().block_on(async {
        let root = api::root::dev_root(data, false).unwrap();
        let kms =
            kms_core::service::Kms::open(&kms_core::service::OpenOptions::sqlite_in(data), root)
                .await
                .unwrap();
        let actor = kms_core::service::Actor::new("test", None);
        let org = kms.create_organization(&actor, "other").await.unwrap();
        let project = kms.create_project(&actor, org, "other").await.unwrap();
        kms.close().await;
        project.to_string()
    })
}

#[test]
fn clients_projects_permissions_csr_revocation_and_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = start_dev(&data, &["--kmip-listen", "127.0.0.1:0"]);
    let data = data.canonicalize().unwrap();
    let bootstrap = read_bootstrap(&data);
    let admin = Identity::admin(&bootstrap);
    assert_eq!(admin.certificate, data.join("kmip/client.pem"));
    assert_eq!(mode(&admin.key), 0o600);
    let ca = std::fs::read(&admin.ca).unwrap();
    let rt = runtime();
    let address = kmip_address(&bootstrap);
    let admin_key = rt.block_on(create_and_encrypt(&address, &admin));
    assert!(server.terminate().success());
    drop(server);

    // Restart: same CA, same admin client, its key still there.
    let other_project = second_project(&data);
    let server = start_dev(&data, &["--kmip-listen", "127.0.0.1:0"]);
    let bootstrap = read_bootstrap(&data);
    assert_eq!(
        std::fs::read(&admin.ca).unwrap(),
        ca,
        "the KMIP CA must be kept"
    );
    let address = kmip_address(&bootstrap);
    rt.block_on(async {
        let mut c = connect(&address, &admin).await.unwrap();
        payload(&one(&mut c, Op::GET, vec![uid(&admin_key)]).await);
    });

    // A reader in another project, through the running server.
    let out = cli(
        &data,
        &[
            "create",
            "--project",
            &other_project,
            "--name",
            "reader",
            "--operations",
            "get,Locate",
        ],
    );
    assert!(
        out.contains("reader") && out.contains("Locate,Get"),
        "{out}"
    );
    let stderr = cli_fails(
        &data,
        &[
            "create",
            "--project",
            &other_project,
            "--name",
            "x",
            "--operations",
            "get,frobnicate",
        ],
    );
    assert!(stderr.contains("frobnicate"), "{stderr}");
    let reader_dir = tmp.path().join("reader");
    cli(
        &data,
        &[
            "cert",
            "--name",
            "reader",
            "--out",
            reader_dir.to_str().unwrap(),
            "--ttl",
            "30d",
        ],
    );
    assert_eq!(mode(&reader_dir.join("client.key")), 0o600);
    assert_eq!(std::fs::read(reader_dir.join("ca.pem")).unwrap(), ca);
    let reader = Identity::in_dir(&reader_dir);
    rt.block_on(async {
        let mut c = connect(&address, &reader).await.unwrap();
        let item = one(&mut c, Op::CREATE, create_aes()).await;
        assert_eq!(reason(&item), Some(PERMISSION_DENIED));
        let item = one(&mut c, Op::GET, vec![uid(&admin_key)]).await;
        assert_eq!(reason(&item), Some(ITEM_NOT_FOUND));
        let item = one(&mut c, Op::LOCATE, vec![]).await;
        assert!(payload(&item).child(Tag::UNIQUE_IDENTIFIER).is_none());
    });

    // A certificate for a key the client made itself (OpenSSL CSR).
    let csr_dir = tmp.path().join("csr");
    std::fs::create_dir(&csr_dir).unwrap();
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(csr_dir.join("client.key"))
        .arg("-out")
        .arg(csr_dir.join("request.csr"))
        .args(["-subj", "/CN=reader"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let csr_out = tmp.path().join("csr-out");
    cli(
        &data,
        &[
            "cert",
            "--name",
            "reader",
            "--out",
            csr_out.to_str().unwrap(),
            "--csr",
            csr_dir.join("request.csr").to_str().unwrap(),
        ],
    );
    assert!(!csr_out.join("client.key").exists());
    let from_csr = Identity {
        certificate: csr_out.join("client.pem"),
        key: csr_dir.join("client.key"),
        ca: csr_out.join("ca.pem"),
    };
    rt.block_on(async {
        let mut c = connect(&address, &from_csr).await.unwrap();
        payload(&one(&mut c, Op::LOCATE, vec![]).await);
    });

    // Revoked while the server runs: both certificates are refused at once,
    // the admin still works.
    let out = cli(&data, &["revoke", "--name", "reader"]);
    assert!(out.contains("2 certificate"), "{out}");
    rt.block_on(async {
        assert!(
            refused(&address, &reader).await,
            "revoked certificate accepted"
        );
        assert!(
            refused(&address, &from_csr).await,
            "revoked certificate accepted"
        );
        let mut c = connect(&address, &admin).await.unwrap();
        payload(&one(&mut c, Op::GET, vec![uid(&admin_key)]).await);
    });
    let stderr = cli_fails(
        &data,
        &[
            "cert",
            "--name",
            "reader",
            "--out",
            reader_dir.to_str().unwrap(),
        ],
    );
    assert!(stderr.contains("revoked"), "{stderr}");
    let list = cli(&data, &["list"]);
    assert!(
        list.contains("reader") && list.contains("enabled=false"),
        "{list}"
    );
    assert!(
        list.contains("admin") && list.contains("enabled=true"),
        "{list}"
    );
    drop(server);

    // With no server running the commands work on the records directly,
    // and the next start serves what they did.
    let writer_dir = tmp.path().join("writer");
    cli(
        &data,
        &[
            "create",
            "--project",
            &other_project,
            "--name",
            "writer",
            "--operations",
            "all",
        ],
    );
    cli(
        &data,
        &[
            "cert",
            "--name",
            "writer",
            "--out",
            writer_dir.to_str().unwrap(),
        ],
    );
    let server = start_dev(&data, &["--kmip-listen", "127.0.0.1:0"]);
    let address = kmip_address(&read_bootstrap(&data));
    let writer = Identity::in_dir(&writer_dir);
    rt.block_on(async {
        let id = create_and_encrypt(&address, &writer).await;
        assert_ne!(id, admin_key);
        assert!(
            refused(&address, &reader).await,
            "revocation lost at restart"
        );
        // Clients of the default project do not see the writer's key.
        let mut c = connect(&address, &admin).await.unwrap();
        let item = one(&mut c, Op::GET, vec![uid(&id)]).await;
        assert_eq!(reason(&item), Some(ITEM_NOT_FOUND));
    });
    drop(server);

    // The audit chain holds every record write.
    let (status, _, stderr) = run(strongroom(&[
        "audit",
        "verify",
        "--dev",
        "--data-dir",
        data.to_str().unwrap(),
    ]));
    assert!(status.success(), "{stderr}");
}

/// Whether the server closes `c` (EOF or reset) within `within`.
async fn closed_within(c: &mut (impl AsyncReadExt + Unpin), within: Duration) -> bool {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(within, c.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(_) => false,
    }
}

#[test]
fn configured_limits_are_enforced() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut cmd = strongroom(&[
        "serve",
        "--dev",
        "--data-dir",
        data.to_str().unwrap(),
        "--api-listen",
        "127.0.0.1:0",
    ]);
    cmd.env("STRONGROOM_KMIP_MAX_CONNECTIONS", "2")
        .env("STRONGROOM_KMIP_HANDSHAKE_TIMEOUT", "1s")
        .env("STRONGROOM_KMIP_IDLE_TIMEOUT", "2s")
        .env("STRONGROOM_KMIP_MAX_MESSAGE_SIZE", "2048")
        .env("STRONGROOM_KMIP_MAX_BATCH_ITEMS", "2");
    let mut server = Process::spawn(cmd);
    server.wait_ready().unwrap();
    let bootstrap = read_bootstrap(&data);
    let admin = Identity::admin(&bootstrap);
    let address = kmip_address(&bootstrap);
    runtime().block_on(async {
        // Max batch items: 3 is refused as a whole, 2 are answered.
        let mut c = connect(&address, &admin).await.unwrap();
        let three = (0..3).map(|_| (Op::DISCOVER_VERSIONS, vec![])).collect();
        let response = send(&mut c, &request(three)).await.unwrap();
        let item = response.children(Tag::BATCH_ITEM).next().unwrap();
        assert_eq!(reason(item), Some(INVALID_MESSAGE));
        let two = (0..2).map(|_| (Op::DISCOVER_VERSIONS, vec![])).collect();
        let response = send(&mut c, &request(two)).await.unwrap();
        assert_eq!(response.children(Tag::BATCH_ITEM).count(), 2);

        // Max connections 2: a third is closed as soon as it is accepted.
        let mut second = connect(&address, &admin).await.unwrap();
        payload(&one(&mut second, Op::DISCOVER_VERSIONS, vec![]).await);
        assert!(
            refused(&address, &admin).await,
            "a third connection was served"
        );
        drop(second);
        // Give the server a moment to notice the close, then there is room.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut again = connect(&address, &admin).await.unwrap();
        payload(&one(&mut again, Op::DISCOVER_VERSIONS, vec![]).await);
        drop(again);
        tokio::time::sleep(Duration::from_millis(300)).await;

        // Max message size: a message declaring more is dropped unanswered.
        let big = request(vec![(
            Op::DISCOVER_VERSIONS,
            vec![Ttlv::bytes(Tag::DATA, vec![0u8; 4096])],
        )]);
        let bytes = ttlv::encode(&big).unwrap();
        c.write_all(&bytes[..64]).await.unwrap();
        c.flush().await.unwrap();
        assert!(
            closed_within(&mut c, Duration::from_secs(5)).await,
            "oversized message not dropped"
        );

        // Idle timeout 2 s.
        let mut idle = connect(&address, &admin).await.unwrap();
        payload(&one(&mut idle, Op::DISCOVER_VERSIONS, vec![]).await);
        let started = Instant::now();
        assert!(
            closed_within(&mut idle, Duration::from_secs(10)).await,
            "idle connection kept"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(1500),
            "closed after {waited:?}"
        );

        // Handshake timeout 1 s: a TCP connection that never says hello.
        let mut silent = TcpStream::connect(&address).await.unwrap();
        let started = Instant::now();
        assert!(
            closed_within(&mut silent, Duration::from_secs(10)).await,
            "silent connection kept"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(700) && waited < Duration::from_secs(5),
            "closed after {waited:?}"
        );
    });
    assert!(server.terminate().success());
}
