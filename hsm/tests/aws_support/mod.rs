//! A `moto_server` per test, standing in for AWS KMS on a loopback port.
//!
//! `moto_server` is found through `STRONGROOM_MOTO_SERVER`, then `PATH`,
//! then `.ci/venv/bin/moto_server` at the workspace root (`.ci/run` creates
//! that venv). When it is missing the test prints a notice and passes,
//! unless `CI=true`, where it fails.
//!
//! The server runs with `tests/aws_moto_patch` on `PYTHONPATH`: its
//! `sitecustomize.py` adds two behaviours of real AWS KMS that moto does not
//! model (disabled keys, `IncorrectKeyException`); see that file. The process is killed when the
//! [`Moto`] guard drops, also when a test panics.
#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kms::config::Credentials;

/// Fake credentials: moto accepts any.
pub const ACCESS_KEY: &str = "AKIASTRONGROOMTEST00";
pub const SECRET_KEY: &str = "strongroom-test-secret-not-a-real-key";
pub const REGION: &str = "us-east-1";

/// What `aws_moto_patch/sitecustomize.py` prints once it has patched moto.
const PATCH_MARKER: &str = "strongroom-moto-patch: loaded";

/// A running moto_server; killed on drop.
pub struct Moto {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    pub endpoint: String,
}

impl Moto {
    /// Starts a server, or returns `None` (after a notice) when moto is not
    /// installed outside CI.
    pub fn start() -> Option<Moto> {
        let Some(server) = locate() else {
            let msg = "moto_server not found (set STRONGROOM_MOTO_SERVER, put it on PATH, or run .ci/run to create .ci/venv)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg}");
            }
            eprintln!("NOTICE: skipping AWS KMS test: {msg}");
            return None;
        };
        let mut last = String::new();
        for _ in 0..3 {
            match spawn(&server) {
                Ok(moto) => return Some(moto),
                Err(e) => last = e,
            }
        }
        panic!("moto_server {} did not start: {last}", server.display());
    }

    /// The SDK configuration tests use: explicit fake credentials, a fixed
    /// region and this server's endpoint; nothing read from the process
    /// environment.
    pub fn sdk_config(&self) -> SdkConfig {
        sdk_config(&self.endpoint)
    }

    /// A plain SDK client for setting up keys.
    pub fn client(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk_config())
    }

    /// Creates a symmetric encryption key and returns its id and ARN.
    pub async fn create_key(&self) -> (String, String) {
        let out = self
            .client()
            .create_key()
            .description("strongroom test root")
            .send()
            .await
            .expect("CreateKey");
        let meta = out.key_metadata.expect("key metadata");
        (meta.key_id, meta.arn.expect("key arn"))
    }
}

/// An SDK configuration with explicit credentials and region for `endpoint`.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_kms::config::SharedCredentialsProvider::new(
            Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "strongroom-tests"),
        ))
        .build()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn locate() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STRONGROOM_MOTO_SERVER") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join("moto_server");
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/venv/bin/moto_server");
    venv.is_file().then_some(venv)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn spawn(server: &Path) -> Result<Moto, String> {
    let port = free_port();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let log = dir.path().join("moto.log");
    let log_file = File::create(&log).map_err(|e| e.to_string())?;
    let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
    let patch = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws_moto_patch");
    let mut python_path = std::ffi::OsString::from(patch.as_os_str());
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        python_path.push(":");
        python_path.push(existing);
    }
    let mut cmd = Command::new(server);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("PYTHONPATH", python_path);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .env("PYTHONUNBUFFERED", "1")
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut moto = Moto {
        child,
        log,
        _dir: dir,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = moto.child.try_wait() {
            return Err(format!("exited with {status}: {}", moto.log_text()));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            // Another server could hold the port if ours failed to bind:
            // make sure ours is still running.
            std::thread::sleep(Duration::from_millis(200));
            if let Ok(Some(status)) = moto.child.try_wait() {
                return Err(format!("exited with {status}: {}", moto.log_text()));
            }
            let log = moto.log_text();
            if !log.contains(PATCH_MARKER) {
                panic!(
                    "moto_server started without tests/aws_moto_patch/sitecustomize.py \
                     (another sitecustomize shadows it?): {log}"
                );
            }
            return Ok(moto);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no answer on port {port} in 60 s: {}",
                moto.log_text()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Moto {
    fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

/// A loopback HTTP server that answers every request with one fixed AWS
/// JSON error, counting the requests: for the failures moto cannot produce
/// (throttling, access denied), seen through the real SDK.
pub struct ScriptedKms {
    pub endpoint: String,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ScriptedKms {
    /// Answers `status` with `{"__type": code, "message": message}`.
    pub fn error(status: u16, code: &str, message: &str) -> ScriptedKms {
        use std::io::Write;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
        let response = format!(
            "HTTP/1.1 {status} Error\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: test\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let counter = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let counter = Arc::clone(&counter);
                let response = response.clone();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        // One request: headers, then Content-Length bytes.
                        let request_end = loop {
                            if let Some(end) = request_length(&buf) {
                                break end;
                            }
                            match stream.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        buf.drain(..request_end);
                        counter.fetch_add(1, Ordering::SeqCst);
                        if stream.write_all(response.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        ScriptedKms { endpoint, requests }
    }

    /// How many requests arrived so far.
    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The length of the first complete HTTP request in `buf`, if there is one.
fn request_length(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let body_len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (buf.len() >= head_end + body_len).then_some(head_end + body_len)
}
