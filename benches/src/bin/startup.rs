//! Load client: `serve --dev` start-up time to ready with N stored objects,
//! and idle resident memory.
//!
//! `cargo build --release -p api -p benches && target/release/startup [N] [PATH-TO-strongroom]`
//!
//! 1. Starts `strongroom serve --dev` on a fresh data directory (init), stops it.
//! 2. Creates N objects (default 100,000) in that install through kms-core.
//! 3. Starts the server again and times spawn → the "ready" log line.
//! 4. Waits 5 s idle and reads VmRSS from /proc.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::service::{Actor, Kms, OpenOptions, Template};

fn start(binary: &Path, dir: &Path) -> Child {
    Command::new(binary)
        .args([
            "serve",
            "--dev",
            "--api-listen",
            "127.0.0.1:0",
            "--kmip-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn strongroom")
}

/// Waits for a log line announcing readiness on stdout or stderr.
fn wait_ready(child: &mut Child) -> Duration {
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as _),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if line.to_ascii_lowercase().contains("ready") {
                    let _ = tx.send(Instant::now());
                }
            }
        });
    }
    let at = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server became ready");
    at - start
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let binary = std::env::args()
        .nth(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::current_exe()
                .expect("exe")
                .with_file_name("strongroom")
        });
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");

    let mut first = start(&binary, &data);
    let cold = wait_ready(&mut first);
    stop(&mut first);
    println!(
        "first start (init) to ready: {:.0} ms",
        cold.as_secs_f64() * 1e3
    );

    let root = Arc::new(SoftwareRoot::from_key_file(&data.join("root.key")).expect("dev key file"));
    let kms = Kms::open(&OpenOptions::sqlite_in(&data), root)
        .await
        .expect("open dev install");
    let bootstrap: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data.join("bootstrap.json")).expect("bootstrap.json"),
    )
    .expect("json");
    let project = bootstrap["projectId"]
        .as_str()
        .expect("projectId")
        .parse()
        .expect("uuid");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let kms = kms.clone();
        tasks.push(tokio::spawn(async move {
            let actor = Actor::new("startup-bench", None);
            for _ in 0..n / 16 {
                kms.create_key(&actor, project, KeySpec::Aes256, Template::default())
                    .await
                    .expect("create");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    kms.close().await;
    println!(
        "stored {} objects in {:.1} s",
        n / 16 * 16,
        started.elapsed().as_secs_f64()
    );

    let mut second = start(&binary, &data);
    let warm = wait_ready(&mut second);
    println!(
        "start-up to ready with {} objects: {:.0} ms (target <= 1000 ms)",
        n / 16 * 16,
        warm.as_secs_f64() * 1e3
    );
    std::thread::sleep(Duration::from_secs(5));
    let rss = rss_kib(second.id());
    println!(
        "idle resident memory: {:.1} MB (target <= 50 MB)",
        rss as f64 / 1024.0
    );
    stop(&mut second);
}
