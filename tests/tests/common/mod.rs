//! Helpers shared by the end-to-end tests that run the `strongroom` binary.
#![allow(dead_code)]

pub mod api_client;
pub mod kmip_client;
pub mod softhsm;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

/// api's `src/main.rs`, built by this package (see tests/Cargo.toml).
pub const BIN: &str = env!("CARGO_BIN_EXE_strongroom-e2e");

/// How long a start-up or a shutdown may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A `strongroom` command with a clean environment: no `STRONGROOM_*` or
/// `RUST_LOG` from the developer's shell leaks in.
pub fn strongroom(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key
            .to_str()
            .is_some_and(|k| k.starts_with("STRONGROOM_") || k == "RUST_LOG")
        {
            cmd.env_remove(key);
        }
    }
    // The KMIP listener on a free port unless a test says otherwise (a flag
    // or the config file's own setting through a test's env override), so
    // tests running in parallel never fight over 5696.
    cmd.env("STRONGROOM_KMIP_LISTEN", "127.0.0.1:0");
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// A running `strongroom` process, killed when dropped.
pub struct Process {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Process {
    pub fn spawn(mut cmd: Command) -> Process {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start strongroom");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        let out_buf = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                out_buf.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let mut err = child.stderr.take().unwrap();
        let err_buf = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = err.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                err_buf
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Process {
            child,
            lines,
            stdout,
            stderr,
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        // Let the reader thread catch up with a process that just exited.
        std::thread::sleep(Duration::from_millis(50));
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the "ready" line on standard output.
    pub fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) if line == "ready" => return Ok(()),
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.wait_exit();
                    return Err(format!(
                        "exited ({status}) before ready; stderr:\n{}",
                        self.stderr()
                    ));
                }
            }
        }
        Err(format!(
            "not ready after {PATIENCE:?}; stderr:\n{}",
            self.stderr()
        ))
    }

    /// Waits for the process to exit on its own; kills it (and fails) if it
    /// takes longer than [`PATIENCE`].
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("strongroom did not exit; stderr:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM")
    }

    /// Sends a signal (`TERM`, `INT`) and waits for the exit.
    pub fn signal(&mut self, name: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let flag = format!("-{name}");
        let sent = Command::new("kill").args([&flag, &pid]).status().unwrap();
        assert!(sent.success(), "kill {flag} {pid} failed");
        self.wait_exit()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `serve --dev` on a free port and waits until it is ready.
pub fn start_dev(data: &Path, extra: &[&str]) -> Process {
    let mut args = vec![
        "serve",
        "--dev",
        "--data-dir",
        data.to_str().unwrap(),
        "--api-listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let mut process = Process::spawn(strongroom(&args));
    process.wait_ready().unwrap();
    process
}

/// The port of the HTTPS API, from the address block `serve` prints.
pub fn api_port(stdout: &str) -> u16 {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("HTTPS API"))
        .and_then(|rest| rest.trim().strip_prefix("https://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no API address in:\n{stdout}"))
        .parse()
        .unwrap()
}

/// Runs a command that must end by itself; returns (status, stdout, stderr).
pub fn run(cmd: Command) -> (ExitStatus, String, String) {
    let mut process = Process::spawn(cmd);
    let status = process.wait_exit();
    // Drain the readers.
    let stderr = process.stderr();
    (status, process.stdout(), stderr)
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn read_bootstrap(data: &Path) -> Value {
    let path = data.join("bootstrap.json");
    assert_eq!(mode(&path), 0o600, "bootstrap.json must be 0600");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

pub fn port_of(bootstrap: &Value) -> u16 {
    let url = bootstrap["apiUrl"].as_str().unwrap();
    let port = url
        .strip_prefix("https://127.0.0.1:")
        .unwrap_or_else(|| panic!("apiUrl {url} is not https://127.0.0.1:PORT"));
    let port: u16 = port.parse().unwrap();
    assert_ne!(port, 0, "apiUrl must carry the bound port");
    port
}

pub fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 36
            && s.chars().filter(|&c| c == '-').count() == 4
            && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
    })
}

/// `GET path` over TLS, verifying the server against `ca_pem` for
/// `server_name`, with the given TLS versions. Returns (status, body).
pub fn https_get(
    port: u16,
    server_name: &str,
    ca_pem: &[u8],
    path: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> std::io::Result<(u16, String)> {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n");
    let text = https_raw(
        port,
        server_name,
        ca_pem,
        request.as_bytes(),
        versions,
        false,
    )?;
    let (status, _, body) = split_response(&text)?;
    Ok((status, body.to_owned()))
}

/// An HTTP/1.1 response as (status, head, body).
pub fn split_response(text: &str) -> std::io::Result<(u16, &str, &str)> {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("malformed response: {text:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
    Ok((status, head, body))
}

/// Sends `request` (a whole HTTP/1.1 request) on a fresh TLS connection and
/// returns everything the server sent until it closed the connection, head
/// included; with `half_close`, shuts the sending side (TLS close_notify,
/// then TCP FIN) right after the request.
pub fn https_raw(
    port: u16,
    server_name: &str,
    ca_pem: &[u8],
    request: &[u8],
    versions: &[&'static rustls::SupportedProtocolVersion],
    half_close: bool,
) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from(server_name.to_owned()).unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        let mut tls = tokio::time::timeout(Duration::from_secs(30), connector.connect(name, tcp))
            .await
            .map_err(|_| std::io::Error::other("TLS handshake timed out"))??;
        tls.write_all(request).await?;
        if half_close {
            tls.shutdown().await?;
        }
        let mut response = Vec::new();
        match tls.read_to_end(&mut response).await {
            Ok(_) => {}
            // A peer that closes without close_notify: keep what arrived.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
            Err(e) => return Err(e),
        }
        Ok(String::from_utf8_lossy(&response).into_owned())
    })
}

pub const TLS_ANY: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

pub fn get_json(port: u16, ca: &[u8], path: &str) -> (u16, Value) {
    let (status, body) = https_get(port, "localhost", ca, path, TLS_ANY).unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body:?}"));
    (status, json)
}

/// The one `error: …` line a failed command prints.
pub fn error_line(stderr: &str) -> &str {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "expected one error line, got:\n{stderr}");
    errors[0]
}
