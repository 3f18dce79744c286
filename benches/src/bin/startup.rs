//! Load client: `serve --dev` start-up time to ready with N stored objects,
//! and idle resident memory.
//!
//! `cargo build --release -p api -p benches && target/release/startup [N] [PATH-TO-strongroom]`
//!
//! 1. Starts `strongroom serve --dev` on a fresh data directory (init), stops it.
//! 2. Creates N objects (default 100,000) in that install through kms-core.
//! 3. Starts the server again and times spawn → its `ready` line on standard output.
//! 4. Waits 5 s idle and reads VmRSS from /proc.

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
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn strongroom")
}

/// Starts the server on `dir` and returns it with the time from spawn to
/// its `ready` line.
fn start_timed(binary: &Path, dir: &Path) -> (Child, Duration) {
    let spawned = Instant::now();
    let mut child = start(binary, dir);
    benches::wait_ready(&mut child).unwrap_or_else(|e| panic!("{e}"));
    (child, spawned.elapsed())
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
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

    let (mut first, cold) = start_timed(&binary, &data);
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

    let (mut second, warm) = start_timed(&binary, &data);
    println!(
        "start-up to ready with {} objects: {:.0} ms (target <= 1000 ms)",
        n / 16 * 16,
        warm.as_secs_f64() * 1e3
    );
    std::thread::sleep(Duration::from_secs(5));
    println!(
        "idle resident memory: {:.1} MB (target <= 50 MB)",
        benches::rss_mib(second.id())
    );
    stop(&mut second);
}
