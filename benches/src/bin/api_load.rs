//! Load client: HTTPS keys API requests per second against the real
//! `strongroom` binary, over persistent HTTP/1.1 keep-alive connections.
//!
//! ```text
//! cargo build --release -p api -p benches
//! target/release/api_load [--seconds 5] [--connections 64] [--binary target/release/strongroom]
//! ```
//!
//! 1. Starts `strongroom serve --dev` on a fresh data directory (per-identity
//!    rate limit raised out of the way), logs in with the dev identity and
//!    creates an `aes-256-gcm` key.
//! 2. For `--seconds` each, on `--connections` connections (one task and
//!    one persistent TLS connection each):
//!    * `GET /api/v1/projects/{projectId}`: an authenticated request that
//!      does nothing else (token check, rate limit, project access) — the
//!      floor;
//!    * `GET /api/v1/kms/keys/{keyId}`: the key's metadata — the same plus
//!      the key directory and the metadata cache, no cryptography, no
//!      audit record;
//!    * `POST /api/v1/kms/keys/{keyId}/encrypt` with 64 bytes: the same,
//!      plus the key directory, JSON and base64, the cached key, AES-GCM
//!      and one queued audit record.
//! 3. Prints requests per second for each, the ratio, and the targets
//!    (encrypt ≥ 20,000/s and ≥ 0.7 × the floor).
//!
//! The client shares the machine's cores with the server, so both numbers
//! pay for the client's TLS and HTTP work.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

type Conn = TlsStream<TcpStream>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    seconds: f64,
    connections: usize,
    binary: PathBuf,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            seconds: 5.0,
            connections: 64,
            binary: std::env::current_exe()
                .expect("path of this executable")
                .with_file_name("strongroom"),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().unwrap_or_else(|| usage(&flag));
            match flag.as_str() {
                "--seconds" => args.seconds = value.parse().unwrap_or_else(|_| usage(&flag)),
                "--connections" => {
                    args.connections = value.parse().unwrap_or_else(|_| usage(&flag))
                }
                "--binary" => args.binary = PathBuf::from(value),
                _ => usage(&flag),
            }
        }
        args
    }
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "bad or incomplete flag {flag}\n\
         usage: api_load [--seconds S] [--connections N] [--binary PATH-TO-strongroom]"
    );
    std::process::exit(2)
}

/// The `strongroom serve --dev` child process, killed when dropped.
struct Server {
    child: Child,
    address: String,
    tls: Arc<rustls::ClientConfig>,
    bootstrap: serde_json::Value,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(binary: &Path) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--dev",
                "--api-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(&data)
            .env_remove("RUST_LOG")
            .env("STRONGROOM_API_RATE_LIMIT", "10000000")
            .env("STRONGROOM_API_RATE_LIMIT_BURST", "10000000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        wait_ready(&mut child);
        let bootstrap: serde_json::Value = serde_json::from_slice(
            &std::fs::read(data.join("bootstrap.json")).expect("bootstrap.json"),
        )
        .expect("bootstrap.json is JSON");
        let address = bootstrap["apiAddress"]
            .as_str()
            .expect("apiAddress")
            .to_owned();
        let ca = bootstrap["caCertificate"].as_str().expect("caCertificate");
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
            roots.add(cert.expect("CA PEM")).expect("CA");
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Server {
            child,
            address,
            tls: Arc::new(tls),
            bootstrap,
            _dir: dir,
        }
    }

    fn field(&self, k: &str) -> String {
        self.bootstrap[k]
            .as_str()
            .unwrap_or_else(|| panic!("bootstrap.json has no {k}"))
            .to_owned()
    }

    async fn connect(&self) -> Result<Conn, BoxError> {
        let tcp = TcpStream::connect(&self.address).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from("localhost")?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls));
        Ok(connector.connect(name, tcp).await?)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_ready(child: &mut Child) {
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line == "ready" {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("strongroom became ready");
}

/// One HTTP/1.1 request on a kept-alive connection; returns the status and
/// the body. `buf` is reused between calls.
async fn exchange(
    conn: &mut Conn,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(u16, Vec<u8>), BoxError> {
    conn.write_all(request).await?;
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err("connection closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..header_end])?;
    let status: u16 = head.split_whitespace().nth(1).ok_or("no status")?.parse()?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .ok_or("no content-length")?;
    while buf.len() < header_end + length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err("connection closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok((status, buf[header_end..header_end + length].to_vec()))
}

fn request(method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    if let Some(t) = token {
        r.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(b) = body {
        r.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        ));
    } else {
        r.push_str("\r\n");
    }
    r.into_bytes()
}

async fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> serde_json::Value {
    let mut conn = server.connect().await.expect("connect");
    let mut buf = Vec::new();
    let (status, body) = exchange(
        &mut conn,
        &request(method, path, token, Some(&body.to_string())),
        &mut buf,
    )
    .await
    .expect("request");
    let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON answer");
    assert_eq!(status, 200, "{method} {path}: {body}");
    body
}

/// Requests per second of `req` on `connections` connections for `time`.
async fn run(server: &Arc<Server>, req: Vec<u8>, connections: usize, time: Duration) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let req = Arc::new(req);
    let start = Instant::now();
    let deadline = start + time;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (server, req, done, failed) = (
            Arc::clone(server),
            Arc::clone(&req),
            Arc::clone(&done),
            Arc::clone(&failed),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = server.connect().await.expect("connect");
            let mut buf = Vec::with_capacity(4096);
            while Instant::now() < deadline {
                match exchange(&mut conn, &req, &mut buf).await {
                    Ok((200, _)) => done.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let failed = failed.load(Ordering::Relaxed);
    if failed > 0 {
        eprintln!("warning: {failed} requests failed");
    }
    done.load(Ordering::Relaxed) as f64 / elapsed
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = Arc::new(Server::start(&args.binary));
    runtime.block_on(async {
        let login = call(
            &server,
            "POST",
            "/api/v1/auth/universal-auth/login",
            None,
            serde_json::json!({
                "clientId": server.field("identityClientId"),
                "clientSecret": server.field("identityClientSecret"),
            }),
        )
        .await;
        let token = login["accessToken"].as_str().expect("token").to_owned();
        let project = server.field("projectId");
        let key = call(
            &server,
            "POST",
            "/api/v1/kms/keys",
            Some(&token),
            serde_json::json!({"projectId": project, "name": "load"}),
        )
        .await;
        let key = key["key"]["id"].as_str().expect("key id").to_owned();
        let time = Duration::from_secs_f64(args.seconds);
        let floor_req = request(
            "GET",
            &format!("/api/v1/projects/{project}"),
            Some(&token),
            None,
        );
        let get_req = request(
            "GET",
            &format!("/api/v1/kms/keys/{key}"),
            Some(&token),
            None,
        );
        let plaintext = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrLw==";
        let encrypt_req = request(
            "POST",
            &format!("/api/v1/kms/keys/{key}/encrypt"),
            Some(&token),
            Some(&format!("{{\"plaintext\":\"{plaintext}\"}}")),
        );
        // Warm up both paths (caches, connections).
        run(&server, floor_req.clone(), args.connections, Duration::from_millis(500)).await;
        run(&server, encrypt_req.clone(), args.connections, Duration::from_millis(500)).await;
        let floor = run(&server, floor_req, args.connections, time).await;
        let get = run(&server, get_req, args.connections, time).await;
        let encrypt = run(&server, encrypt_req, args.connections, time).await;
        let ratio = encrypt / floor;
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!(
            "| workload | connections | requests/s | target | met |\n|---|---|---|---|---|"
        );
        println!(
            "| authenticated no-op (GET project) | {} | {floor:.0} | — | — |",
            args.connections
        );
        println!(
            "| key metadata (GET key) | {} | {get:.0} | — | — |",
            args.connections
        );
        println!(
            "| encrypt 64 B | {} | {encrypt:.0} | ≥ 20000 | {} |",
            args.connections,
            if encrypt >= 20_000.0 { "yes" } else { "no" }
        );
        println!(
            "| encrypt / no-op | | {ratio:.2} | ≥ 0.70 | {} |",
            if ratio >= 0.7 { "yes" } else { "no" }
        );
        println!(
            "load average: {}",
            load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
        );
    });
}
