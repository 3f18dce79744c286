//! Load client: KMIP operations per second over persistent mutual-TLS
//! connections to the real `strongroom` binary, against the same kms-core
//! calls made in-process in the same run; handshakes per second; the
//! server's resident memory with many idle connections open.
//!
//! ```text
//! cargo build --release -p api -p benches
//! target/release/kmip_load [--seconds 5] [--idle 1000] [--binary target/release/strongroom]
//! ```
//!
//! 1. Starts `strongroom serve --dev` on a fresh data directory, with the
//!    API and KMIP listeners on free loopback ports, and reads the KMIP
//!    address and the dev admin client's certificate, key and CA from
//!    `bootstrap.json`.
//! 2. Reads the server's VmRSS idle, then with `--idle` mutual-TLS
//!    connections open (each has answered one Discover Versions, so the
//!    server has identified its client), then closes them.
//! 3. For Create (AES-256), Get (one pre-created key) and Encrypt (64 B,
//!    AES-GCM with a server-drawn IV, on one pre-created active key): runs
//!    1 connection (sequential requests) and 16 connections (one task and
//!    one persistent connection each) for `--seconds`; then the same
//!    kms-core calls (`Kms::create_key`, `Kms::get`, `Kms::encrypt`) on a
//!    fresh in-process install with 1 and 16 tasks.
//! 4. Discover Versions on 1 and 16 connections: the transport alone.
//! 5. Full handshakes per second on 16 tasks (session resumption off):
//!    new TCP + TLS connection and one Discover Versions; and the
//!    handshake alone.
//! 6. Prints one table: workload, connections, ops/s over KMIP, ops/s
//!    in-process, the ratio, the target and whether it was met.
//!
//! Client and server share the machine's cores, so every KMIP number here
//! also pays for the client's TLS and TTLV work; the load average is
//! printed for context.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use benches::DevServer;
use kmip_server::ttlv::enums::Operation as Op;
use kmip_server::ttlv::{self, Limits, Tag, Ttlv};
use kms_core::crypto::keygen::KeySpec;
use kms_core::ids::{ObjectId, ProjectId};
use kms_core::service::{Actor, Kms, Template};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

type Conn = TlsStream<TcpStream>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Plaintext size for the Encrypt workload.
const PLAINTEXT_LEN: usize = 64;
/// Connections for the concurrent workloads.
const MANY: usize = 16;

/// Command-line settings.
struct Args {
    seconds: f64,
    idle: usize,
    binary: PathBuf,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            seconds: 5.0,
            idle: 1000,
            binary: std::env::current_exe()
                .expect("path of this executable")
                .with_file_name("strongroom"),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().unwrap_or_else(|| usage(&flag));
            match flag.as_str() {
                "--seconds" => args.seconds = value.parse().unwrap_or_else(|_| usage(&flag)),
                "--idle" => args.idle = value.parse().unwrap_or_else(|_| usage(&flag)),
                "--binary" => args.binary = PathBuf::from(value),
                _ => usage(&flag),
            }
        }
        args
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "bad or incomplete flag {flag}\n\
         usage: kmip_load [--seconds S] [--idle N] [--binary PATH-TO-strongroom]"
    );
    std::process::exit(2)
}

// ---------------------------------------------------------------- server

/// The `strongroom serve --dev` child process and how to reach its KMIP
/// listener.
struct Server {
    dev: DevServer,
    address: String,
    tls: Arc<rustls::ClientConfig>,
}

impl Server {
    fn start(binary: &Path) -> Server {
        let dev = DevServer::start(binary, &[]).unwrap_or_else(|e| panic!("{e}"));
        let field = |k: &str| dev.field(k).unwrap_or_else(|e| panic!("{e}"));
        let address = field("kmipAddress");
        let tls = client_config(
            Path::new(&field("kmipClientCertificate")),
            Path::new(&field("kmipClientKey")),
            Path::new(&field("kmipCaCertificate")),
        );
        Server { dev, address, tls }
    }

    fn rss_mb(&self) -> f64 {
        benches::rss_mib(self.dev.pid())
    }

    async fn connect(&self) -> Result<Conn, BoxError> {
        let tcp = TcpStream::connect(&self.address).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from("localhost")?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls));
        Ok(connector.connect(name, tcp).await?)
    }
}

/// The dev admin client's identity; no session resumption, so every new
/// connection is a full mutual-TLS handshake.
fn client_config(certificate: &Path, key: &Path, ca: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("KMIP CA file") {
        roots.add(cert.expect("KMIP CA PEM")).expect("KMIP CA");
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .expect("client certificate file")
        .map(|c| c.expect("client certificate PEM"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).expect("client key");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .expect("client certificate and key");
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

// ---------------------------------------------------------------- KMIP

/// A KMIP 1.4 request with one batch item.
fn request(op: Op, payload: Vec<Ttlv>) -> Vec<u8> {
    let header = Ttlv::structure(
        Tag::REQUEST_HEADER,
        vec![
            Ttlv::structure(
                Tag::PROTOCOL_VERSION,
                vec![
                    Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, 1),
                    Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, 4),
                ],
            ),
            Ttlv::integer(Tag::BATCH_COUNT, 1),
        ],
    );
    let item = Ttlv::structure(
        Tag::BATCH_ITEM,
        vec![
            Ttlv::enumeration(Tag::OPERATION, op),
            Ttlv::structure(Tag::REQUEST_PAYLOAD, payload),
        ],
    );
    ttlv::encode(&Ttlv::structure(Tag::REQUEST_MESSAGE, vec![header, item]))
        .expect("encodable request")
        .to_vec()
}

fn attribute(name: &str, value: Ttlv) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE,
        vec![
            Ttlv::text(Tag::ATTRIBUTE_NAME, name),
            Ttlv::new(Tag::ATTRIBUTE_VALUE, value.value),
        ],
    )
}

/// Create: a 256-bit AES key usable for Encrypt and Decrypt.
fn create_request() -> Vec<u8> {
    let attributes = vec![
        attribute(
            "Cryptographic Algorithm",
            Ttlv::enumeration(Tag::ATTRIBUTE_VALUE, 3u32),
        ),
        attribute(
            "Cryptographic Length",
            Ttlv::integer(Tag::ATTRIBUTE_VALUE, 256),
        ),
        attribute(
            "Cryptographic Usage Mask",
            Ttlv::integer(Tag::ATTRIBUTE_VALUE, 0x4 | 0x8),
        ),
    ];
    request(
        Op::CREATE,
        vec![
            Ttlv::enumeration(Tag::OBJECT_TYPE, 2u32),
            Ttlv::structure(Tag::TEMPLATE_ATTRIBUTE, attributes),
        ],
    )
}

fn on_key(op: Op, id: &str, mut rest: Vec<Ttlv>) -> Vec<u8> {
    rest.insert(0, Ttlv::text(Tag::UNIQUE_IDENTIFIER, id));
    request(op, rest)
}

/// Sends one encoded request and returns the response payload of its
/// single batch item; a failed item is an error.
async fn call(conn: &mut Conn, request: &[u8]) -> Result<Ttlv, BoxError> {
    conn.write_all(request).await?;
    conn.flush().await?;
    let bytes = ttlv::read_message(conn, &Limits::DEFAULT)
        .await?
        .ok_or("the server closed the connection")?;
    let response = ttlv::decode(&bytes, &Limits::DEFAULT)?;
    let item = response
        .child(Tag::BATCH_ITEM)
        .ok_or("response without a batch item")?;
    let status = item
        .child(Tag::RESULT_STATUS)
        .ok_or("batch item without a result status")?
        .as_enum()?;
    if status != 0 {
        let message = item
            .child(Tag::RESULT_MESSAGE)
            .and_then(|m| m.as_text().ok())
            .unwrap_or("");
        return Err(format!("operation failed (status {status}): {message}").into());
    }
    Ok(item
        .child(Tag::RESPONSE_PAYLOAD)
        .cloned()
        .unwrap_or_else(|| Ttlv::structure(Tag::RESPONSE_PAYLOAD, vec![])))
}

/// Creates and activates an AES-256 key over KMIP; returns its id.
async fn kmip_active_key(server: &Server) -> String {
    let mut conn = server.connect().await.expect("connect");
    let created = call(&mut conn, &create_request()).await.expect("Create");
    let id = created
        .child(Tag::UNIQUE_IDENTIFIER)
        .and_then(|u| u.as_text().ok())
        .expect("Create returns a Unique Identifier")
        .to_owned();
    call(&mut conn, &on_key(Op::ACTIVATE, &id, vec![]))
        .await
        .expect("Activate");
    id
}

/// Operations per second of `request` over `connections` persistent
/// connections, one task each, sequential requests on each.
async fn kmip_rate(
    server: &Arc<Server>,
    connections: usize,
    request: Vec<u8>,
    run: Duration,
) -> f64 {
    let request = Arc::new(request);
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(server.connect().await.expect("connect"));
    }
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + run;
    let mut tasks = Vec::new();
    for mut conn in conns {
        let (request, done) = (Arc::clone(&request), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                call(&mut conn, &request).await.expect("KMIP operation");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// New connections per second on `tasks` tasks: a full mutual-TLS
/// handshake and, with `discover`, one Discover Versions on it.
async fn handshake_rate(server: &Arc<Server>, tasks: usize, discover: bool, run: Duration) -> f64 {
    let discover_versions = Arc::new(request(Op::DISCOVER_VERSIONS, vec![]));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + run;
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (server, done) = (Arc::clone(server), Arc::clone(&done));
        let discover_versions = Arc::clone(&discover_versions);
        handles.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let mut conn = server.connect().await.expect("handshake");
                if discover {
                    call(&mut conn, &discover_versions)
                        .await
                        .expect("Discover Versions");
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for h in handles {
        h.await.expect("handshake task");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Opens `n` connections that have each answered a Discover Versions.
async fn open_idle(server: &Arc<Server>, n: usize) -> Vec<Conn> {
    let discover_versions = Arc::new(request(Op::DISCOVER_VERSIONS, vec![]));
    let mut handles = Vec::new();
    for worker in 0..MANY {
        let (server, dv) = (Arc::clone(server), Arc::clone(&discover_versions));
        let share = n / MANY + usize::from(worker < n % MANY);
        handles.push(tokio::spawn(async move {
            let mut conns = Vec::with_capacity(share);
            for _ in 0..share {
                let mut conn = server.connect().await.expect("idle connection");
                call(&mut conn, &dv).await.expect("Discover Versions");
                conns.push(conn);
            }
            conns
        }));
    }
    let mut all = Vec::with_capacity(n);
    for h in handles {
        all.extend(h.await.expect("opener task"));
    }
    all
}

// ---------------------------------------------------------------- in-process

#[derive(Clone, Copy, Debug)]
enum Workload {
    Create,
    Get,
    Encrypt,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Create => "Create AES-256",
            Workload::Get => "Get",
            Workload::Encrypt => "Encrypt 64 B AES-GCM",
        }
    }

    /// The issue's targets in operations per second, by connection count.
    fn target(self, connections: usize) -> Option<f64> {
        match (self, connections) {
            (Workload::Create, MANY) => Some(5_000.0),
            (Workload::Create, _) => None,
            (_, 1) => Some(10_000.0),
            (_, _) => Some(25_000.0),
        }
    }
}

/// A fresh in-process install with one active AES-256 key.
struct InProcess {
    kms: Kms,
    project: ProjectId,
    key: ObjectId,
    _dir: tempfile::TempDir,
}

impl InProcess {
    async fn new() -> InProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let (kms, project) = benches::fresh_install(dir.path(), None).await;
        let actor = Actor::new("kmip-load", None);
        let key = kms
            .create_key(&actor, project, KeySpec::Aes256, Template::default())
            .await
            .expect("create");
        kms.activate(&actor, project, key).await.expect("activate");
        InProcess {
            kms,
            project,
            key,
            _dir: dir,
        }
    }

    /// Operations per second of `workload` on `tasks` tasks.
    async fn rate(&self, workload: Workload, tasks: usize, run: Duration) -> f64 {
        let done = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let deadline = start + run;
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let (kms, project, key) = (self.kms.clone(), self.project, self.key);
            let done = Arc::clone(&done);
            handles.push(tokio::spawn(async move {
                let actor = Actor::new("kmip-load", None);
                let plaintext = [0x5au8; PLAINTEXT_LEN];
                while Instant::now() < deadline {
                    match workload {
                        Workload::Create => kms
                            .create_key(&actor, project, KeySpec::Aes256, Template::default())
                            .await
                            .map(drop),
                        Workload::Get => kms.get(&actor, project, key).await.map(drop),
                        Workload::Encrypt => kms
                            .encrypt(&actor, project, key, &[], &plaintext)
                            .await
                            .map(drop),
                    }
                    .expect("in-process operation");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for h in handles {
            h.await.expect("in-process task");
        }
        done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
    }
}

// ---------------------------------------------------------------- report

struct Row {
    workload: String,
    connections: usize,
    kmip: f64,
    in_process: Option<f64>,
    target: Option<f64>,
}

fn print_table(rows: &[Row]) {
    println!(
        "\n| workload | connections | ops/s over KMIP | ops/s in-process | KMIP / in-process | target | met |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    for r in rows {
        let in_process = r.in_process.map_or("—".into(), |v| format!("{v:.0}"));
        let ratio = r
            .in_process
            .map_or("—".into(), |v| format!("{:.2}", r.kmip / v));
        let target = r.target.map_or("—".into(), |t| format!("≥ {t:.0}"));
        let met = r
            .target
            .map_or("—", |t| if r.kmip >= t { "met" } else { "NOT met" });
        println!(
            "| {} | {} | {:.0} | {in_process} | {ratio} | {target} | {met} |",
            r.workload, r.connections, r.kmip
        );
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let run = args.duration();
    println!(
        "kmip_load: {} s per workload, {} cores, load average {}",
        args.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let server = Arc::new(Server::start(&args.binary));
    println!("server pid {} on {}", server.dev.pid(), server.address);

    // Memory first, on a server that has done nothing else yet.
    let idle_before = server.rss_mb();
    let idle = open_idle(&server, args.idle).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_with = server.rss_mb();
    drop(idle);
    println!(
        "server RSS: {idle_before:.1} MB idle, {idle_with:.1} MB with {} idle mutual-TLS connections (target ≤ 100 MB): {}",
        args.idle,
        if idle_with <= 100.0 { "met" } else { "NOT met" }
    );

    let key = kmip_active_key(&server).await;
    let plaintext = vec![0x5au8; PLAINTEXT_LEN];
    let local = InProcess::new().await;
    let mut rows = Vec::new();
    for workload in [Workload::Get, Workload::Encrypt, Workload::Create] {
        let request = match workload {
            Workload::Create => create_request(),
            Workload::Get => on_key(Op::GET, &key, vec![]),
            Workload::Encrypt => on_key(
                Op::ENCRYPT,
                &key,
                vec![Ttlv::bytes(Tag::DATA, plaintext.clone())],
            ),
        };
        for connections in [1, MANY] {
            let kmip = kmip_rate(&server, connections, request.clone(), run).await;
            let in_process = local.rate(workload, connections, run).await;
            eprintln!(
                "{} × {connections}: {kmip:.0}/s over KMIP, {in_process:.0}/s in-process (load {})",
                workload.name(),
                load_average()
            );
            rows.push(Row {
                workload: workload.name().into(),
                connections,
                kmip,
                in_process: Some(in_process),
                target: workload.target(connections),
            });
        }
    }
    // The transport alone: TLS, framing and TTLV with no kms-core call,
    // the floor under every KMIP row above.
    for connections in [1, MANY] {
        let discover_versions = request(Op::DISCOVER_VERSIONS, vec![]);
        let kmip = kmip_rate(&server, connections, discover_versions, run).await;
        eprintln!("Discover Versions × {connections}: {kmip:.0}/s over KMIP");
        rows.push(Row {
            workload: "Discover Versions (no kms-core call)".into(),
            connections,
            kmip,
            in_process: None,
            target: None,
        });
    }
    for (discover, name) in [
        (true, "new connection + Discover Versions"),
        (false, "new connection (handshake only)"),
    ] {
        let rate = handshake_rate(&server, MANY, discover, run).await;
        eprintln!("{name} × {MANY}: {rate:.0}/s (load {})", load_average());
        rows.push(Row {
            workload: name.into(),
            connections: MANY,
            kmip: rate,
            in_process: None,
            target: Some(1_000.0),
        });
    }
    print_table(&rows);
    println!(
        "\nserver RSS at the end: {:.1} MB; load average {}",
        server.rss_mb(),
        load_average()
    );
    local.kms.close().await;
}
