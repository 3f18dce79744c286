//! The OASIS KMIP test vectors (XML) replayed against the server: each
//! request is bound (identifiers, times and data the server returned
//! earlier), encoded to TTLV and answered; each response must match the
//! expected one in shape: batch count, and per item Operation, Result
//! Status and Result Reason. Every file runs in a fresh project.
//!
//! Two transports: straight into the [`Processor`], and over mutual TLS to
//! a live in-process listener (`kmip_server::listener::serve`) as a client
//! whose certificate the directory maps to the file's project.
//!
//! `MUST_PASS` is the regression list, checked over both transports. The
//! ignored surveys (`cargo test -p kmip-server --test kmip_vectors --
//! --ignored --nocapture`) print PASS or FAIL with the reason for every
//! mandatory file.
//!
//! Binding and matching are `kmip_server::xml::replay` (shared with the
//! runner in `tests/` that replays every file against the real binary).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use common::Env;
use kmip_server::client::KmipClient;
use kmip_server::listener::ListenerLimits;
use kmip_server::processor::Processor;
use kmip_server::ttlv::{self, Limits, Ttlv};
use kmip_server::xml::Replay;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// `../shared/kmip/test-vectors` beside the repository (CI clones the
/// repository next to `shared/`, wherever that is).
fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/kmip/test-vectors")
}

/// Where requests go.
enum Transport {
    Direct(Processor, KmipClient),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Transport {
    async fn exchange(&mut self, request: &[u8]) -> Result<Ttlv, String> {
        match self {
            Transport::Direct(processor, client) => {
                let peer: SocketAddr = "127.0.0.1:5696".parse().unwrap();
                let bytes = processor.process(client, peer, request).await;
                ttlv::decode(&bytes, &Limits::DEFAULT).map_err(|e| e.to_string())
            }
            Transport::Tls(stream) => common::send_raw(stream, request)
                .await
                .map_err(|e| format!("over TLS: {e}")),
        }
    }
}

/// Which way to reach the server.
#[derive(Clone, Copy)]
enum Via {
    Processor,
    MutualTls,
}

/// One server for a run of files.
struct Harness {
    env: Env,
    processor: Processor,
    server: Option<common::Server>,
}

impl Harness {
    async fn new(via: Via) -> Harness {
        let env = Env::new().await;
        let processor = Processor::new(env.kms.clone(), Limits::DEFAULT, 64);
        let server = match via {
            Via::Processor => None,
            Via::MutualTls => Some(env.start(ListenerLimits::DEFAULT).await),
        };
        Harness {
            env,
            processor,
            server,
        }
    }

    /// A fresh project and a way in as a client of it.
    async fn transport(&self, n: usize) -> Transport {
        let env = &self.env;
        let org = env
            .kms
            .create_organization(&common::actor(), "v")
            .await
            .unwrap();
        let project = env
            .kms
            .create_project(&common::actor(), org, "v")
            .await
            .unwrap();
        let name = format!("vectors-{n}");
        let client = KmipClient::with_all_operations(&name, project);
        match &self.server {
            None => Transport::Direct(self.processor.clone(), client),
            Some(server) => {
                let id = common::issue_client(&env.ca, &name).await;
                env.directory.insert(id.cert.der(), client);
                let stream = env.connect(server, Some(&id)).await.expect("TLS connect");
                Transport::Tls(Box::new(stream))
            }
        }
    }

    async fn shutdown(self) {
        if let Some(server) = self.server {
            server.shutdown().await;
        }
    }
}

/// Runs one vector file; `Err` says what did not match.
async fn run(mut transport: Transport, path: &Path) -> Result<(), String> {
    let xml = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut replay = Replay::new(&xml, &Limits::DEFAULT).map_err(|e| e.to_string())?;
    while let Some(request) = replay.next_request() {
        let request = request.map_err(|e| e.to_string())?;
        let response = transport
            .exchange(&request)
            .await
            .map_err(|e| replay.transport_error(e).to_string())?;
        replay.check(&response).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs `files`; returns the failures as "file: reason".
async fn run_all(via: Via, files: &[PathBuf], print: bool) -> Vec<String> {
    let harness = Harness::new(via).await;
    let mut failures = Vec::new();
    for (n, file) in files.iter().enumerate() {
        let name = file
            .strip_prefix(vectors())
            .unwrap_or(file)
            .display()
            .to_string();
        match run(harness.transport(n).await, file).await {
            Ok(()) if print => println!("PASS {name}"),
            Ok(()) => {}
            Err(e) => {
                if print {
                    println!("FAIL {name}: {e}");
                }
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    harness.shutdown().await;
    failures
}

fn mandatory_files() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for version in ["v1.0", "v1.3", "v1.4"] {
        let dir = vectors().join(version).join("mandatory");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        all.extend(files);
    }
    all
}

fn optional_files() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for version in ["v1.0", "v1.3", "v1.4"] {
        let dir = vectors().join(version).join("optional");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        all.extend(files);
    }
    all
}

fn must_pass_files() -> Vec<PathBuf> {
    MUST_PASS.iter().map(|f| vectors().join(f)).collect()
}

/// Mandatory vectors this server passes (169 of the 187 in v1.0, v1.3 and
/// v1.4); a regression fails the test.
const MUST_PASS: &[&str] = &[
    "v1.0/mandatory/AKLC-M-1-10.xml",
    "v1.0/mandatory/AKLC-M-1-11.xml",
    "v1.0/mandatory/AKLC-M-1-12.xml",
    "v1.0/mandatory/AKLC-M-2-10.xml",
    "v1.0/mandatory/AKLC-M-2-11.xml",
    "v1.0/mandatory/AKLC-M-2-12.xml",
    "v1.0/mandatory/AKLC-M-3-10.xml",
    "v1.0/mandatory/AKLC-M-3-11.xml",
    "v1.0/mandatory/AKLC-M-3-12.xml",
    "v1.0/mandatory/OMOS-M-1-10.xml",
    "v1.0/mandatory/OMOS-M-1-11.xml",
    "v1.0/mandatory/OMOS-M-1-12.xml",
    "v1.0/mandatory/SKFF-M-1-10.xml",
    "v1.0/mandatory/SKFF-M-1-11.xml",
    "v1.0/mandatory/SKFF-M-1-12.xml",
    "v1.0/mandatory/SKFF-M-10-10.xml",
    "v1.0/mandatory/SKFF-M-10-11.xml",
    "v1.0/mandatory/SKFF-M-10-12.xml",
    "v1.0/mandatory/SKFF-M-11-10.xml",
    "v1.0/mandatory/SKFF-M-11-11.xml",
    "v1.0/mandatory/SKFF-M-11-12.xml",
    "v1.0/mandatory/SKFF-M-12-10.xml",
    "v1.0/mandatory/SKFF-M-12-11.xml",
    "v1.0/mandatory/SKFF-M-12-12.xml",
    "v1.0/mandatory/SKFF-M-2-10.xml",
    "v1.0/mandatory/SKFF-M-2-11.xml",
    "v1.0/mandatory/SKFF-M-2-12.xml",
    "v1.0/mandatory/SKFF-M-3-10.xml",
    "v1.0/mandatory/SKFF-M-3-11.xml",
    "v1.0/mandatory/SKFF-M-3-12.xml",
    "v1.0/mandatory/SKFF-M-4-10.xml",
    "v1.0/mandatory/SKFF-M-4-11.xml",
    "v1.0/mandatory/SKFF-M-4-12.xml",
    "v1.0/mandatory/SKFF-M-5-10.xml",
    "v1.0/mandatory/SKFF-M-5-11.xml",
    "v1.0/mandatory/SKFF-M-5-12.xml",
    "v1.0/mandatory/SKFF-M-6-10.xml",
    "v1.0/mandatory/SKFF-M-6-11.xml",
    "v1.0/mandatory/SKFF-M-6-12.xml",
    "v1.0/mandatory/SKFF-M-7-10.xml",
    "v1.0/mandatory/SKFF-M-7-11.xml",
    "v1.0/mandatory/SKFF-M-7-12.xml",
    "v1.0/mandatory/SKFF-M-8-10.xml",
    "v1.0/mandatory/SKFF-M-8-11.xml",
    "v1.0/mandatory/SKFF-M-8-12.xml",
    "v1.0/mandatory/SKFF-M-9-10.xml",
    "v1.0/mandatory/SKFF-M-9-11.xml",
    "v1.0/mandatory/SKFF-M-9-12.xml",
    "v1.0/mandatory/SKLC-M-1-10.xml",
    "v1.0/mandatory/SKLC-M-1-11.xml",
    "v1.0/mandatory/SKLC-M-1-12.xml",
    "v1.0/mandatory/SKLC-M-2-10.xml",
    "v1.0/mandatory/SKLC-M-2-11.xml",
    "v1.0/mandatory/SKLC-M-2-12.xml",
    "v1.0/mandatory/SKLC-M-3-10.xml",
    "v1.0/mandatory/SKLC-M-3-11.xml",
    "v1.0/mandatory/SKLC-M-3-12.xml",
    "v1.3/mandatory/AKLC-M-1-13.xml",
    "v1.3/mandatory/AKLC-M-2-13.xml",
    "v1.3/mandatory/AKLC-M-3-13.xml",
    "v1.3/mandatory/AKLC-O-1-13.xml",
    "v1.3/mandatory/CS-AC-M-1-13.xml",
    "v1.3/mandatory/CS-AC-M-2-13.xml",
    "v1.3/mandatory/CS-AC-M-4-13.xml",
    "v1.3/mandatory/CS-AC-M-5-13.xml",
    "v1.3/mandatory/CS-AC-M-6-13.xml",
    "v1.3/mandatory/CS-AC-M-7-13.xml",
    "v1.3/mandatory/CS-AC-M-8-13.xml",
    "v1.3/mandatory/CS-BC-M-1-13.xml",
    "v1.3/mandatory/CS-BC-M-10-13.xml",
    "v1.3/mandatory/CS-BC-M-11-13.xml",
    "v1.3/mandatory/CS-BC-M-12-13.xml",
    "v1.3/mandatory/CS-BC-M-13-13.xml",
    "v1.3/mandatory/CS-BC-M-14-13.xml",
    "v1.3/mandatory/CS-BC-M-2-13.xml",
    "v1.3/mandatory/CS-BC-M-3-13.xml",
    "v1.3/mandatory/CS-BC-M-4-13.xml",
    "v1.3/mandatory/CS-BC-M-5-13.xml",
    "v1.3/mandatory/CS-BC-M-6-13.xml",
    "v1.3/mandatory/CS-BC-M-7-13.xml",
    "v1.3/mandatory/CS-BC-M-8-13.xml",
    "v1.3/mandatory/CS-BC-M-9-13.xml",
    "v1.3/mandatory/CS-RNG-M-1-13.xml",
    "v1.3/mandatory/CS-RNG-O-1-13.xml",
    "v1.3/mandatory/CS-RNG-O-2-13.xml",
    "v1.3/mandatory/CS-RNG-O-3-13.xml",
    "v1.3/mandatory/MSGENC-HTTPS-M-1-13.xml",
    "v1.3/mandatory/MSGENC-JSON-M-1-13.xml",
    "v1.3/mandatory/MSGENC-XML-M-1-13.xml",
    "v1.3/mandatory/OMOS-M-1-13.xml",
    "v1.3/mandatory/OMOS-O-1-13.xml",
    "v1.3/mandatory/SASED-M-1-13.xml",
    "v1.3/mandatory/SKFF-M-1-13.xml",
    "v1.3/mandatory/SKFF-M-10-13.xml",
    "v1.3/mandatory/SKFF-M-11-13.xml",
    "v1.3/mandatory/SKFF-M-12-13.xml",
    "v1.3/mandatory/SKFF-M-2-13.xml",
    "v1.3/mandatory/SKFF-M-3-13.xml",
    "v1.3/mandatory/SKFF-M-4-13.xml",
    "v1.3/mandatory/SKFF-M-5-13.xml",
    "v1.3/mandatory/SKFF-M-6-13.xml",
    "v1.3/mandatory/SKFF-M-7-13.xml",
    "v1.3/mandatory/SKFF-M-8-13.xml",
    "v1.3/mandatory/SKFF-M-9-13.xml",
    "v1.3/mandatory/SKLC-M-1-13.xml",
    "v1.3/mandatory/SKLC-M-2-13.xml",
    "v1.3/mandatory/SKLC-M-3-13.xml",
    "v1.3/mandatory/SKLC-O-1-13.xml",
    "v1.3/mandatory/SUITEB_128-M-1-13.xml",
    "v1.3/mandatory/SUITEB_192-M-1-13.xml",
    "v1.3/mandatory/TL-M-1-13.xml",
    "v1.3/mandatory/TL-M-2-13.xml",
    "v1.4/mandatory/AKLC-M-1-14.xml",
    "v1.4/mandatory/AKLC-M-2-14.xml",
    "v1.4/mandatory/AKLC-M-3-14.xml",
    "v1.4/mandatory/CS-AC-M-2-14.xml",
    "v1.4/mandatory/CS-AC-M-4-14.xml",
    "v1.4/mandatory/CS-AC-M-5-14.xml",
    "v1.4/mandatory/CS-AC-M-6-14.xml",
    "v1.4/mandatory/CS-AC-M-7-14.xml",
    "v1.4/mandatory/CS-AC-M-8-14.xml",
    "v1.4/mandatory/CS-AC-M-OAEP-1-14.xml",
    "v1.4/mandatory/CS-AC-M-OAEP-2-14.xml",
    "v1.4/mandatory/CS-AC-M-OAEP-3-14.xml",
    "v1.4/mandatory/CS-AC-M-OAEP-4-14.xml",
    "v1.4/mandatory/CS-AC-M-OAEP-5-14.xml",
    "v1.4/mandatory/CS-AC-M-OAEP-6-14.xml",
    "v1.4/mandatory/CS-BC-M-1-14.xml",
    "v1.4/mandatory/CS-BC-M-10-14.xml",
    "v1.4/mandatory/CS-BC-M-11-14.xml",
    "v1.4/mandatory/CS-BC-M-12-14.xml",
    "v1.4/mandatory/CS-BC-M-13-14.xml",
    "v1.4/mandatory/CS-BC-M-14-14.xml",
    "v1.4/mandatory/CS-BC-M-2-14.xml",
    "v1.4/mandatory/CS-BC-M-3-14.xml",
    "v1.4/mandatory/CS-BC-M-4-14.xml",
    "v1.4/mandatory/CS-BC-M-5-14.xml",
    "v1.4/mandatory/CS-BC-M-6-14.xml",
    "v1.4/mandatory/CS-BC-M-7-14.xml",
    "v1.4/mandatory/CS-BC-M-8-14.xml",
    "v1.4/mandatory/CS-BC-M-9-14.xml",
    "v1.4/mandatory/CS-BC-M-GCM-1-14.xml",
    "v1.4/mandatory/CS-BC-M-GCM-3-14.xml",
    "v1.4/mandatory/CS-RNG-M-1-14.xml",
    "v1.4/mandatory/MSGENC-HTTPS-M-1-14.xml",
    "v1.4/mandatory/MSGENC-JSON-M-1-14.xml",
    "v1.4/mandatory/MSGENC-XML-M-1-14.xml",
    "v1.4/mandatory/OMOS-M-1-14.xml",
    "v1.4/mandatory/SASED-M-1-14.xml",
    "v1.4/mandatory/SASED-M-2-14.xml",
    "v1.4/mandatory/SKFF-M-1-14.xml",
    "v1.4/mandatory/SKFF-M-10-14.xml",
    "v1.4/mandatory/SKFF-M-11-14.xml",
    "v1.4/mandatory/SKFF-M-12-14.xml",
    "v1.4/mandatory/SKFF-M-2-14.xml",
    "v1.4/mandatory/SKFF-M-3-14.xml",
    "v1.4/mandatory/SKFF-M-4-14.xml",
    "v1.4/mandatory/SKFF-M-5-14.xml",
    "v1.4/mandatory/SKFF-M-6-14.xml",
    "v1.4/mandatory/SKFF-M-7-14.xml",
    "v1.4/mandatory/SKFF-M-8-14.xml",
    "v1.4/mandatory/SKFF-M-9-14.xml",
    "v1.4/mandatory/SKLC-M-1-14.xml",
    "v1.4/mandatory/SKLC-M-2-14.xml",
    "v1.4/mandatory/SKLC-M-3-14.xml",
    "v1.4/mandatory/SUITEB_128-M-1-14.xml",
    "v1.4/mandatory/SUITEB_192-M-1-14.xml",
    "v1.4/mandatory/TL-M-1-14.xml",
    "v1.4/mandatory/TL-M-2-14.xml",
];

#[tokio::test]
async fn mandatory_vectors_that_must_pass() {
    let failures = run_all(Via::Processor, &must_pass_files(), false).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn mandatory_vectors_that_must_pass_over_mutual_tls() {
    let failures = run_all(Via::MutualTls, &must_pass_files(), false).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn survey(via: Via) {
    let files = mandatory_files();
    let failures = run_all(via, &files, true).await;
    let mut by_set: HashMap<&str, (usize, usize)> = HashMap::new();
    for file in &files {
        let set = if file.to_string_lossy().contains("/v1.0/") {
            "v1.0"
        } else if file.to_string_lossy().contains("/v1.3/") {
            "v1.3"
        } else {
            "v1.4"
        };
        let name = file
            .strip_prefix(vectors())
            .unwrap_or(file)
            .display()
            .to_string();
        let e = by_set.entry(set).or_default();
        e.1 += 1;
        if !failures.iter().any(|f| f.starts_with(&format!("{name}:"))) {
            e.0 += 1;
        }
    }
    let mut sets: Vec<_> = by_set.into_iter().collect();
    sets.sort();
    for (set, (pass, total)) in sets {
        println!("{set}: {pass}/{total} mandatory vectors pass");
    }
    println!(
        "{}/{} mandatory vectors pass",
        files.len() - failures.len(),
        files.len()
    );
}

#[tokio::test]
#[ignore = "a survey: prints which optional vectors pass"]
async fn survey_optional_vectors() {
    let files = optional_files();
    let failures = run_all(Via::Processor, &files, true).await;
    println!(
        "{}/{} optional vectors pass",
        files.len() - failures.len(),
        files.len()
    );
}

#[tokio::test]
#[ignore = "a survey: prints which mandatory vectors pass"]
async fn survey_all_mandatory_vectors() {
    survey(Via::Processor).await;
}

#[tokio::test]
#[ignore = "a survey: prints which mandatory vectors pass over mutual TLS"]
async fn survey_all_mandatory_vectors_over_mutual_tls() {
    survey(Via::MutualTls).await;
}
