//! # benches — how fast Strongroom is, measured
//!
//! Criterion benchmarks (`cargo bench -p benches`) and load clients
//! (`cargo run --release -p benches --bin …`). Each compares against a
//! baseline measured in the same run where a target is a ratio.
//!
//! | what | where | target |
//! |---|---|---|
//! | AES-256-GCM 64 B / 4 KiB through `Kms::encrypt` (cached key) vs raw aws-lc-rs | `benches/aes_gcm.rs` | ≥ 0.8× raw at 64 B |
//! | cached-key hit vs miss (unwrap from the database) | `benches/aes_gcm.rs` | — |
//! | durable creates/s, 1 and 16 writers, SQLite and PostgreSQL | `benches/create.rs`, `bin/create_load.rs` | SQLite ≥ 2,000 / ≥ 5,000; PostgreSQL ≥ 1,000 / ≥ 3,000 |
//! | signatures/s, ECDSA P-256 and RSA-2048, HSM-resident (SoftHSM2) vs software keys, through `Kms::sign`; 16 concurrent HSM signers vs 1 | `benches/hsm_sign.rs` | 16 vs 1 ≥ 1.7× |
//! | root unseal latency per provider (software key file, Argon2id passphrase, PKCS#11 on SoftHSM2); cached-key AES-GCM on a PKCS#11-rooted install vs a software-rooted one | `benches/root.rs` | PKCS#11-rooted ≥ 0.95× software-rooted |
//! | `serve --dev` start-up to ready with 100,000 objects, idle RSS | `bin/startup.rs` | ≤ 1 s, ≤ 50 MB |
//! | KMIP Get, Create, Encrypt 64 B (AES-GCM) ops/s over 1 and 16 persistent mutual-TLS connections to `strongroom serve --dev`, vs the same kms-core calls in-process; mutual-TLS handshakes/s; server RSS with 1,000 idle connections | `bin/kmip_load.rs` | Get, Encrypt ≥ 25,000 (16) / ≥ 10,000 (1); Create ≥ 5,000 (16); ≥ 1,000 handshakes/s; ≤ 100 MB |
//! | HTTPS API requests/s, p50 and p99 of encrypt 64 B, sign (P-256, RSA-2048 PSS) and verify at 1, 16 and 64 keep-alive connections to `strongroom serve --dev`, vs the authenticated no-op `whoami` and raw aws-lc-rs signing (1 and 2 threads) in the same run | `bin/api_load.rs` | encrypt ≥ 20,000/s and ≥ 0.70× whoami at 64; P-256 sign ≥ 10,000/s; RSA-2048 sign ≥ 0.80× raw (2 threads); p99 ≤ 5 ms at 16 |
//!
//! PostgreSQL runs use `STRONGROOM_TEST_POSTGRES_URL` (see `.ci/postgres.sh`).
//!
//! ## Reading the RSA-2048 figures of `api_load`
//!
//! Client and server share the machine's cores, and RSA-2048 keeps both
//! cores busy, so every request pays for more than the server's own code.
//! Measured with `perf` at 16 connections on two cores (per request, about
//! 340 µs of server CPU):
//!
//! - the signature itself: about 280 µs, the same as raw aws-lc-rs;
//! - being preempted: the load client is woken by every answer and runs on
//!   a core a signing worker was using (about 1.1 involuntary context
//!   switches per request, most by reschedule interrupts in the middle of
//!   the RSA arithmetic): about 25–30 µs;
//! - TLS, hyper, axum and the layers, the handler and JSON: about 25 µs,
//!   two to three times what the same code costs under `whoami` load,
//!   because the RSA arithmetic has evicted its caches;
//! - the audit record (queue, chain, SQLite): about 10 µs.
//!
//! The 0.80× target leaves about 70 µs per request for everything but the
//! signature, so the ratio sits on its line (0.75–0.83 from run to run).
//! A later profile (357 µs of server CPU per request) agreed: the
//! signature 267–280 µs against raw aws-lc-rs's 274 µs, wake-ups and
//! context switches about 15 µs, the audit record's SQLite work 8 µs
//! (batches are small at 5,000 signatures a second), the rest the request
//! path under the RSA arithmetic's cache pressure.
//!
//! p99 at 16 connections is not the server's own time. Little's law fixes
//! the mean at 16 ÷ requests/s, about 3 ms, and the client sees an almost
//! flat spread around it (p1 0.4 ms, p10 1.9, p50 3.1, p90 4.5, p99
//! 5.8–6.1 ms). A diagnostic build split each request on one clock: the
//! client stamped its write and its read of the answer, and the handler
//! stamped its start and end into a header. Over about 20,000 requests
//! per run:
//!
//! - before the handler starts (the request waits in its socket or in a
//!   tokio queue): p10 1.5, p50 2.7, p90 4.1, p99 4.7–5.0 ms. Requests
//!   start far from the order they were sent in: on average 2.4 requests
//!   sent later start earlier (p90 7). All 16 connections see the same
//!   spread (mean 3.13–3.21 ms each), so it is the order of requests, not
//!   an unlucky connection;
//! - the handler, signature included: p50 0.30, p99 0.65 ms;
//! - from the handler's end to the client's read: p50 0.05 ms, but 1% of
//!   answers wait 2.0–2.5 ms, the load client's thread waiting for a core
//!   (the two signing workers are always runnable). With the client's
//!   threads given a 0.1 ms slice (`sched_setattr`, Linux 6.12 and later),
//!   p99 fell to 5.2–5.4 ms.
//!
//! Both are now addressed:
//! - `api_load` gives its own threads a 100 µs slice once the server runs
//!   (`--client-slice-us`; [`short_scheduler_slice`]), so that what it
//!   measures is the server's latency and not its own wait for a core;
//! - an RSA signature first yields once to tokio (`sign_in_turn` in
//!   `kms-core`'s `service::keys`), which runs a yielded task again only
//!   after its next poll of the network: requests already read go first,
//!   and signatures start in about the order their requests arrived.
//!   Measured in one session with the short-slice client, four
//!   alternating server instances each (2 × 3 s rounds): p99 at 16
//!   connections 4.78–5.39 ms against 5.14–5.45 without the yield, and at
//!   64 connections 16.9–18.0 ms against 19.4–20.3. The ratio to raw
//!   signing read 0.74–0.78 against 0.76–0.78 at 16 connections and
//!   0.77–0.80 against 0.76–0.79 at 64, the two slower instances with the
//!   yield being slower throughout. It costs a task poll and a poll of the
//!   network per RSA signature.
//!
//! Measured and found not to help:
//! - serving the signatures from a first-in-first-out pool of one thread
//!   per core, at normal priority (ratio 0.67–0.71 against 0.71–0.74
//!   inline in the same session) or at nice 10 (0.59–0.64);
//! - `synchronous=NORMAL` for SQLite and a 20 ms audit gathering window,
//!   alone or together: within the noise (RSA-2048 0.78–0.82 against
//!   0.77–0.78, encrypt/whoami 0.69–0.73 against 0.70–0.74), and each
//!   widens a loss window, so neither is used;
//! - a fair semaphore around signing;
//! - tokio's `event_interval` at 1, alone and together with no LIFO slot
//!   (`--cfg tokio_unstable`): p99 5.15–5.73 ms;
//! - yielding the core (`sched_yield`) after each RSA signature, so that a
//!   client woken meanwhile runs at once instead of at the end of the
//!   worker's slice: ratio 0.73–0.77 and p99 5.22–5.45 ms against
//!   0.74–0.81 and 5.39–5.97 ms without, three alternating rounds each;
//! - putting the signatures back in the order requests were sent, with
//!   the split above watching (two runs each, p99 against 5.96–6.36 ms
//!   for the build of the time in the same hour):
//!   - yielding to tokio once before signing (since shipped, above): 0.9–2.0
//!     requests overtaken on average instead of 2.4, p99 5.48–5.93 ms;
//!   - that, with no LIFO slot (`--cfg tokio_unstable`): p99 5.30–5.78 ms;
//!     no LIFO slot and `event_interval` 1 without the yield: 6.12–6.44;
//!   - a first-in-first-out semaphore of two permits around signing,
//!     with and without `event_interval` 1: p99 5.43–6.13 ms;
//!   - one current-thread runtime per core, connections to the less
//!     loaded one: p99 15–16 ms. Tried again with the client printing
//!     more percentiles, it first gave the same (p99 13.8–14.8 ms, a
//!     two-humped spread with p10 0.44 ms), because that build handed each
//!     accepted socket over still registered with the accepting runtime's
//!     I/O driver (we think the first did too): its readiness then reached
//!     the connection's runtime from another thread, through a queue a
//!     current-thread runtime looks at only now and then. Registered anew
//!     in the connection's runtime (`into_std`, `from_std`): in order again
//!     (p10–p90 2.7–4.1 ms against 2.1–4.7) and 1–2.5% more requests per
//!     second in two pairs, but p99 no lower with the 100 µs client
//!     (6.0–6.3 against 6.1–6.2 ms) and a little lower with a
//!     `SCHED_FIFO` one (5.0–5.4 against 5.4–5.6 ms, three pairs), the
//!     machine 15–20% slower than usual. Not used: it ties each HTTP/1.1
//!     connection and all of an HTTP/2 connection's streams to one core,
//!     and leaves a core idle when the busy connections share the other;
//! - three and four tokio workers on the two cores: p99 7.1–7.6 and
//!   10.2–10.5 ms, against 5.29–5.46 with two in the same minutes;
//! - a 0.1 or 0.3 ms slice for the server's workers (`sched_setattr`), so
//!   that a woken client waits less for them: p99 5.37–5.83 ms, and the
//!   1% of answers that wait 2 ms for the client stayed;
//! - with the yield shipped, a fair semaphore of one permit per worker
//!   around signing (diagnostic builds, fresh server instances
//!   alternating; the client printed more percentiles):
//!   - taken after the yield: no difference (p99 4.76–5.54 against
//!     4.85–5.65 ms, ratio 0.72–0.80 against 0.75–0.79, twelve pairs);
//!   - taken at the first poll, without the yield: the spread stayed as
//!     wide (p10 1.9, p90 4.45 ms against 2.1 and 4.5). A request reaches
//!     the semaphore only when its worker runs it, and a worker that
//!     releases a permit signs for the next waiter at once (tokio puts the
//!     woken task in its LIFO slot), so requests wait unread or unrun in
//!     per-worker queues, not in the semaphore;
//!   - taken at the first poll, then the yield, then the signature: now
//!     in order (p10–p90 3.1–4.0 ms against 2.1–4.5), p99 0.3–0.9 ms
//!     lower, but 25 µs more server CPU per request (426–432 against
//!     401–407 µs; our reading: a request now signs and answers on
//!     whichever core frees first, away from its connection's warm state)
//!     and about 5% fewer requests per second (0–6% in seven pairs), so
//!     the ratio lost what p99 gained. p99 still read 5.6–6.0 ms with the
//!     100 µs client, and 4.93 and 5.12 ms with a `SCHED_FIFO` client, in
//!     an hour when this machine was 15% slower than usual;
//! - what remains of the tail is partly the client's: a scheduler trace
//!   (`perf sched`) showed the load client's threads waiting 0.3–3 ms for
//!   a core on a few wake-ups in a hundred despite their short slice. A
//!   `SCHED_FIFO` client (`api_load --client-sched fifo`, see
//!   [`realtime_client`]) against the same build, alternating with the
//!   slice: p99 at 16 connections lower in ten pairs of ten (5.59–6.27
//!   against 6.03–6.72 ms, in hours when this machine was 15–20% slower
//!   than usual), but 1.5% fewer requests per second on average (−5% to
//!   +4%; the client now preempts a signing worker on every answer). Two
//!   full runs minutes apart, the machine at its usual speed: RSA-2048 at
//!   16 connections p99 5.11 ms and 0.745× raw with it, 5.33 ms and
//!   0.780× with the slice; and at the fast routes it costs far more, as
//!   the client no longer gathers several answers per wake-up (whoami at
//!   64 connections 42,958 against 68,079 requests/s). It is not the
//!   default: it trades one target for another and needs privileges;
//! - steering the client's wake-ups: half of them land on the other core
//!   (about 2,800 reschedule interrupts a second at 16 connections), and
//!   on this virtual machine a wake-up across cores costs the busy core
//!   about 15 µs (a pinned spinning thread lost 5% of its work to 3,300
//!   such wake-ups a second; a wake-up on the same core costs about 1 µs).
//!   The kernel puts the woken client back on the core it last ran on,
//!   whichever core wrote the answer; a C model with two pinned writers
//!   and a reader that wakes no other thread split the same way (51–62%
//!   on the writer's core), so the client cannot steer it.
//!
//! Per request at 16 connections (CPU time of each process over the
//! middle of a run, the machine 0.0–0.3% idle): the server 336–370 µs
//! (of which SQLite's thread, writing the audit records, about 8 µs: at
//! 5,000 requests a second a 5 ms window gathers only about 27 records per
//! commit), the load client 23–29 µs. Raw aws-lc-rs needs 272–305 µs a signature
//! per core, so the 0.80× line leaves about 70 µs a request for the client
//! and everything the server does besides the signature; six runs (the
//! `sched_yield` rounds above, both ways) measured 65–102 µs (ratio 0.81
//! at 65, 0.73 at 102).
//!
//! ## Reading the encrypt / whoami ratio of `api_load`
//!
//! Encrypt costs about 9 µs of server CPU more than `whoami` (25.5
//! against 16 µs at 64 connections), and about 1 µs more of the client's
//! (9.6 against 8.7 µs). Builds with the audit write switched off
//! showed where: without the SQLite insert of the key-use record, about
//! 4–5 µs less; without the record at all, 5–6 µs less. The rest is the
//! handler (body, JSON, two cache lookups, AES-GCM, the envelope), each
//! piece a fraction of a microsecond. Storing fewer bytes per record (no
//! previous hash, 97 instead of 130 bytes) made no difference measurable
//! here, and neither did larger pages (8 and 16 KiB: encrypt 1–3 µs
//! slower, a commit writes as many frames, each larger).
//!
//! The ratio sits on its line. It read 0.70 in full runs (0.65–0.74 over
//! a day) before the key-operation counter and the audit source stopped
//! costing a label hash and an address format per request (0.45 µs less
//! server CPU per encrypt). Since then, with both sides measured
//! interleaved (`--rounds`), full runs read 0.733, 0.660 and 0.716, and
//! eleven fresh server instances measured one by one 0.685–0.761 (0.72
//! typical). Within one run the rounds agreed to within 0.017 and 0.047;
//! between server instances the spread is wider, from whoami and encrypt
//! each varying by ±4% on this machine.

//! ## What made the common path cheaper
//!
//! Measured as server CPU per request under `whoami` and `encrypt` load,
//! alternating builds:
//!
//! - mimalloc in place of glibc's allocator: 1.5–2 µs less per request,
//!   and 3–4% more RSA-2048 signatures per second. It costs memory: idle
//!   RSS after start-up with 100,000 objects (`startup`) is 31 MB against
//!   26 MB with glibc (42 MB before transparent huge pages were turned
//!   off for it), and 59 MB against 51 MB with 1,000 idle KMIP connections
//!   (`kmip_load`);
//! - together, a further 0.5–2 µs (the machine's noise is of that size):
//!   hyper's `half_close`: hyper no longer reads ahead in the middle of a
//!   request to look for the client's end of stream. That read allocated
//!   a new read buffer every request, because the request's headers still
//!   pointed into the old one; and uuid's `fast-rng`, so that a request
//!   id costs no `getrandom` system call.

use std::path::Path;
use std::sync::Arc;

use kms_core::hierarchy::RootOfTrust;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::ids::ProjectId;
use kms_core::service::{Actor, Kms, OpenOptions};

/// A fresh install with one project, in `dir`, on `database_url` (SQLite in
/// `dir` when `None`), with a software root (a key file in `dir`).
pub async fn fresh_install(dir: &Path, database_url: Option<&str>) -> (Kms, ProjectId) {
    let root: Arc<dyn RootOfTrust> =
        Arc::new(SoftwareRoot::create_key_file(&dir.join("root.key")).expect("key file"));
    let opts = match database_url {
        Some(url) => OpenOptions::new(dir, url),
        None => OpenOptions::sqlite_in(dir),
    };
    install_with(&opts, root).await
}

/// A fresh install with one project, sealed by `root`.
pub async fn install_with(opts: &OpenOptions, root: Arc<dyn RootOfTrust>) -> (Kms, ProjectId) {
    let kms = Kms::init(opts, root).await.expect("init");
    let actor = Actor::new("bench", None);
    let org = kms.create_organization(&actor, "bench").await.expect("org");
    let project = kms
        .create_project(&actor, org, "bench")
        .await
        .expect("project");
    (kms, project)
}

/// A fresh, empty schema in the PostgreSQL database named by
/// `STRONGROOM_TEST_POSTGRES_URL`, as a URL whose `search_path` points at it.
/// `None` if the variable is unset or the server does not answer.
pub async fn fresh_postgres_database(label: &str) -> Option<String> {
    use sqlx::Connection as _;
    let admin = std::env::var("STRONGROOM_TEST_POSTGRES_URL").ok()?;
    let schema = format!("bench_{label}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
    sqlx::raw_sql(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut conn)
        .await
        .ok()?;
    let _ = conn.close().await;
    let sep = if admin.contains('?') { '&' } else { '?' };
    Some(format!("{admin}{sep}options[search_path]={schema}"))
}

/// The SoftHSM2 module the PKCS#11 benchmarks use.
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const SOFTHSM_TOKEN: &str = "strongroom-bench";
const SOFTHSM_PIN_ENV: &str = "STRONGROOM_BENCH_PKCS11_PIN";

/// Creates a SoftHSM2 token in `dir` and points the module at it, for a
/// pool of `sessions`. Must run before the module is loaded and before any
/// other thread reads the environment (SoftHSM reads `SOFTHSM2_CONF` once).
/// `None` if SoftHSM2 is not installed.
pub fn softhsm_token(dir: &Path, sessions: usize) -> Option<hsm::pkcs11::Pkcs11Config> {
    use hsm::pkcs11::{PinSource, Pkcs11Config};
    if !Path::new(SOFTHSM_MODULE).exists() {
        return None;
    }
    let tokens = dir.join("tokens");
    std::fs::create_dir(&tokens).ok()?;
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .ok()?;
    let pin = "bench-user-pin";
    let out = std::process::Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args(["--init-token", "--free", "--label", SOFTHSM_TOKEN])
        .args(["--so-pin", "bench-so-pin", "--pin", pin])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    // SAFETY (edition 2024 marks set_var unsafe): benchmarks call this first,
    // before the runtime, the module or any other thread exists.
    unsafe {
        std::env::set_var("SOFTHSM2_CONF", &conf);
        std::env::set_var(SOFTHSM_PIN_ENV, pin);
    }
    let mut config = Pkcs11Config::new(
        SOFTHSM_MODULE,
        SOFTHSM_TOKEN,
        PinSource::Env(SOFTHSM_PIN_ENV.into()),
        "strongroom-bench-root",
    );
    config.sessions = sessions;
    Some(config)
}

/// A `strongroom serve --dev` child process on loopback with random ports,
/// in its own temp dir, killed when dropped; the load clients drive it.
pub struct DevServer {
    child: std::process::Child,
    bootstrap: serde_json::Value,
    _dir: tempfile::TempDir,
}

impl DevServer {
    /// Starts `binary` with the extra environment `env` and waits (at most
    /// two minutes) for its `ready` line.
    pub fn start(binary: &Path, env: &[(&str, &str)]) -> Result<DevServer, String> {
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let data = dir.path().join("data");
        let child = Command::new(binary)
            .args(["serve", "--dev", "--api-listen", "127.0.0.1:0"])
            .args(["--kmip-listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        // Owned first, so an error below still kills it.
        let mut server = DevServer {
            child,
            bootstrap: serde_json::Value::Null,
            _dir: dir,
        };
        wait_ready(&mut server.child)?;
        let text = std::fs::read(data.join("bootstrap.json"))
            .map_err(|e| format!("bootstrap.json: {e}"))?;
        server.bootstrap =
            serde_json::from_slice(&text).map_err(|e| format!("bootstrap.json: {e}"))?;
        Ok(server)
    }

    /// A text field of `bootstrap.json` (`apiUrl`, `kmipAddress`, …).
    pub fn field(&self, key: &str) -> Result<String, String> {
        self.bootstrap[key]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("bootstrap.json has no {key}"))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for the line `ready` on the child's standard output (piped), then
/// keeps draining it so the child never blocks on a full pipe.
pub fn wait_ready(child: &mut std::process::Child) -> Result<(), String> {
    use std::io::{BufRead, BufReader};
    let out = child.stdout.take().ok_or("no piped stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line == "ready" {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(120))
        .map_err(|_| "strongroom did not become ready within 120 s".to_owned())
}

/// Asks Linux (6.12 or later) to give every thread of this process a
/// scheduler slice of `slice`, and returns how many threads took it.
///
/// A load client shares the machine's cores with the server it measures.
/// When an answer arrives while both cores run server work (RSA signing
/// keeps them busy), the default slice lets the client's thread wait up to
/// a few milliseconds for a core before it reads the answer, and that wait
/// would count as the server's latency. With a short slice the kernel lets
/// a woken client run at once; the client uses no more processor time.
/// Threads started later inherit it from the thread that starts them, so
/// call this after starting any server process, which must keep the
/// default.
pub fn short_scheduler_slice(slice: std::time::Duration) -> Result<usize, String> {
    let nanos = u64::try_from(slice.as_nanos()).map_err(|_| "slice too long".to_owned())?;
    on_every_thread(|tid| set_slice(tid, nanos))
}

/// The kernel's `struct sched_attr` (`SCHED_ATTR_SIZE_VER1`).
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
    util_min: u32,
    util_max: u32,
}

const SCHED_ATTR_SIZE: u32 = std::mem::size_of::<SchedAttr>() as u32;

/// Sets thread `tid`'s slice, keeping its nice value, and reads it back:
/// a kernel older than 6.12 accepts the call but ignores the slice, and
/// the client must not then claim a slice it does not have.
fn set_slice(tid: i32, nanos: u64) -> Result<(), String> {
    let mut attr = sched_attr(tid)?;
    attr.runtime = nanos;
    set_sched_attr(tid, &attr)?;
    match sched_attr(tid)?.runtime {
        got if got == nanos => Ok(()),
        _ => Err("this kernel ignores a slice asked for (Linux 6.12 and later take it)".into()),
    }
}

/// Asks Linux to run every thread of this process under `SCHED_FIFO` at
/// the lowest real-time priority, and returns how many threads took it.
/// It needs `CAP_SYS_NICE` (root, or an `RLIMIT_RTPRIO` above 0).
///
/// The short slice of [`short_scheduler_slice`] lets a woken client run
/// at once on most wake-ups but not all: the kernel's scheduler (EEVDF)
/// preempts the running thread only for a woken thread that is eligible,
/// and a scheduler trace at 16 connections of RSA-2048 signing showed the
/// client's threads waiting 0.3–3 ms for a core on a few wake-ups in a
/// hundred, time counted as the server's latency. A real-time thread
/// always preempts a normal one. The client's threads only wait for
/// answers and write requests, so they use no more processor time, and
/// Linux's real-time throttling (95% of each second by default) bounds
/// what a runaway client could take. Threads started later inherit the
/// policy: a baseline that must run as the server does calls
/// [`normal_scheduling`] first.
pub fn realtime_client() -> Result<usize, String> {
    on_every_thread(|tid| {
        let mut attr = sched_attr(tid)?;
        attr.policy = SCHED_FIFO;
        attr.priority = 1;
        attr.runtime = 0;
        set_sched_attr(tid, &attr)
    })
}

/// Puts the calling thread under the normal policy and the kernel's
/// default slice, whatever it inherited (its nice value stays): for a
/// baseline that is compared with a server running so.
pub fn normal_scheduling() -> Result<(), String> {
    // Thread id 0 is the calling thread.
    let mut attr = sched_attr(0)?;
    attr.policy = SCHED_NORMAL;
    attr.priority = 0;
    attr.runtime = 0;
    set_sched_attr(0, &attr)
}

const SCHED_NORMAL: u32 = 0;
const SCHED_FIFO: u32 = 1;

/// Applies `change` to every thread of this process; how many there were.
fn on_every_thread(change: impl Fn(i32) -> Result<(), String>) -> Result<usize, String> {
    let tasks =
        std::fs::read_dir("/proc/self/task").map_err(|e| format!("/proc/self/task: {e}"))?;
    let mut changed = 0;
    for tid in tasks
        .flatten()
        .filter_map(|task| task.file_name().to_str().and_then(|t| t.parse().ok()))
    {
        change(tid)?;
        changed += 1;
    }
    Ok(changed)
}

/// Sets thread `tid`'s scheduling attributes.
fn set_sched_attr(tid: i32, attr: &SchedAttr) -> Result<(), String> {
    // SAFETY (FFI: libc has no wrapper for sched_setattr): the kernel reads
    // `attr`, a live, initialised struct of the size it is told.
    let rc = unsafe { libc::syscall(libc::SYS_sched_setattr, tid, attr as *const SchedAttr, 0u32) };
    if rc != 0 {
        return Err(format!(
            "sched_setattr: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Thread `tid`'s scheduling attributes (policy, nice, slice).
fn sched_attr(tid: i32) -> Result<SchedAttr, String> {
    let mut attr = SchedAttr::default();
    // SAFETY (FFI: libc has no wrapper for sched_getattr): the kernel writes
    // at most `SCHED_ATTR_SIZE` bytes into `attr`, which is that large.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_getattr,
            tid,
            &mut attr as *mut SchedAttr,
            SCHED_ATTR_SIZE,
            0u32,
        )
    };
    if rc != 0 {
        return Err(format!(
            "sched_getattr: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(attr)
}

/// The resident memory of process `pid` in MiB (`VmRSS`), 0 if unreadable.
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    kib as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A baseline thread started by a client thread with a short slice
    /// runs with the kernel's default slice again, under the normal policy.
    #[test]
    fn normal_scheduling_drops_an_inherited_slice() {
        std::thread::spawn(|| {
            let before = sched_attr(0).expect("sched_getattr");
            // A kernel before 6.12 takes no slice: nothing to drop there.
            let short = set_slice(0, 100_000).is_ok();
            normal_scheduling().expect("normal scheduling");
            let after = sched_attr(0).expect("sched_getattr");
            assert_eq!(after.policy, SCHED_NORMAL);
            assert_eq!(after.nice, before.nice);
            if short {
                assert_ne!(after.runtime, 100_000);
            }
        })
        .join()
        .expect("the test thread");
    }
}
