//! The GCP KMS root of trust through the real `google-cloud-kms-v1` client
//! against a local stand-in for the Cloud KMS REST API (see `gcp_support`):
//! seal and unseal, restarts, AAD binding, the fault cases an operator
//! meets, and a whole kms-core install on top of it.

mod gcp_support;
mod rotation_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gcp_support::GcpStandIn;
use hsm::gcp_kms::{GcpCredentials, GcpKmsConfig, GcpKmsError, GcpKmsRoot, Resilience, SEAL_MAGIC};
use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::hierarchy::{RootError, RootKey, RootKind, RootOfTrust, SealContext, SealedRoot};
use kms_core::ids::InstallId;
use kms_core::service::{Actor, Kms, OpenOptions, Template};

fn config_for(endpoint: &str, key_name: &str) -> GcpKmsConfig {
    GcpKmsConfig::new(key_name)
        .with_endpoint_url(endpoint)
        .with_credentials(GcpCredentials::Anonymous)
}

/// Quick retries, so the fault tests stay fast.
fn quick() -> Resilience {
    Resilience {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..Resilience::default()
    }
}

async fn root_for(standin: &GcpStandIn, key_name: &str) -> GcpKmsRoot {
    GcpKmsRoot::connect(&config_for(&standin.endpoint, key_name))
        .await
        .expect("provider")
        .with_resilience(quick())
}

fn context(term: u32) -> SealContext {
    SealContext {
        install: InstallId::generate(),
        term,
    }
}

fn same_key(a: &RootKey, b: &RootKey) -> bool {
    a.term() == b.term() && a.expose_for_sealing() == b.expose_for_sealing()
}

fn actor() -> Actor {
    Actor::new("tester", Some("127.0.0.1".into()))
}

#[tokio::test]
async fn seal_unseal_round_trip_through_the_real_client() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let root = root_for(&standin, &name).await;
    assert_eq!(root.kind(), RootKind::GcpKms);
    assert!(root.describe().contains(&name), "{}", root.describe());

    let key = RootKey::generate(3).unwrap();
    let ctx = context(3);
    let sealed = root.seal(&key, &ctx).await.expect("seal");
    assert!(sealed.0.starts_with(SEAL_MAGIC));
    assert!(
        !sealed
            .0
            .windows(RootKey::LEN)
            .any(|w| w == key.expose_for_sealing()),
        "the root key appears in clear in the seal"
    );
    let opened = root.unseal(&sealed, &ctx).await.expect("unseal");
    assert!(same_key(&key, &opened));
    root.self_test(ctx.install).await.expect("self-test");

    // As after a restart: a new client, only the stored bytes kept.
    let stored = SealedRoot(sealed.0.clone());
    let again = root_for(&standin, &name).await;
    assert!(same_key(&key, &again.unseal(&stored, &ctx).await.unwrap()));

    // A key rotation on the Cloud KMS side: old seals still open, new seals
    // use the new primary version.
    assert_eq!(standin.rotate(&name), 2);
    assert!(same_key(&key, &root.unseal(&sealed, &ctx).await.unwrap()));
    let resealed = root.seal(&key, &ctx).await.unwrap();
    assert_eq!(&resealed.0[4..8], &2u32.to_be_bytes(), "stand-in version");
    assert!(same_key(&key, &root.unseal(&resealed, &ctx).await.unwrap()));
}

#[tokio::test]
async fn another_install_or_term_does_not_open() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let root = root_for(&standin, &name).await;
    let key = RootKey::generate(1).unwrap();
    let ctx = context(1);
    let sealed = root.seal(&key, &ctx).await.expect("seal");

    let other_install = SealContext {
        install: InstallId::generate(),
        term: 1,
    };
    let other_term = SealContext {
        install: ctx.install,
        term: 2,
    };
    for wrong in [other_install, other_term] {
        let err = root.unseal_root(&sealed, &wrong).await.unwrap_err();
        assert!(
            matches!(err, GcpKmsError::InvalidCiphertext { .. }),
            "{err:?}"
        );
        let err = root.unseal(&sealed, &wrong).await.unwrap_err();
        assert!(
            matches!(&err, RootError::Provider { provider: "gcp-kms", reason } if reason.contains("another install or term")),
            "{err}"
        );
    }

    // A damaged ciphertext, and bytes that are no Cloud KMS seal at all.
    let mut damaged = sealed.clone();
    let last = damaged.0.len() - 1;
    damaged.0[last] ^= 1;
    let err = root.unseal_root(&damaged, &ctx).await.unwrap_err();
    assert!(
        matches!(err, GcpKmsError::InvalidCiphertext { .. }),
        "{err:?}"
    );
    for not_ours in [b"SRS1 software seal".as_slice(), b"SRG1".as_slice()] {
        let err = root
            .unseal_root(&SealedRoot(not_ours.to_vec()), &ctx)
            .await
            .unwrap_err();
        assert!(matches!(err, GcpKmsError::SealFormat(_)), "{err:?}");
    }

    // The genuine context still opens it.
    assert!(same_key(&key, &root.unseal(&sealed, &ctx).await.unwrap()));
}

#[tokio::test]
async fn a_ciphertext_from_another_key_does_not_open() {
    let standin = GcpStandIn::start().await;
    let first = standin.create_key("first");
    let second = standin.create_key("second");
    let key = RootKey::generate(1).unwrap();
    let ctx = context(1);
    let sealed = root_for(&standin, &first)
        .await
        .seal(&key, &ctx)
        .await
        .unwrap();
    let err = root_for(&standin, &second)
        .await
        .unseal_root(&sealed, &ctx)
        .await
        .unwrap_err();
    eprintln!("another key: {err}");
    assert!(
        matches!(err, GcpKmsError::InvalidCiphertext { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&second), "{err}");
}

#[tokio::test]
async fn a_disabled_key_is_reported_as_disabled() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let root = root_for(&standin, &name).await;
    let key = RootKey::generate(1).unwrap();
    let ctx = context(1);
    let sealed = root.seal(&key, &ctx).await.expect("seal");

    standin.set_enabled(&name, false);
    let err = root.unseal_root(&sealed, &ctx).await.unwrap_err();
    assert!(matches!(err, GcpKmsError::KeyDisabled { .. }), "{err:?}");
    let err = root.seal_root(&key, &ctx).await.unwrap_err();
    assert!(matches!(err, GcpKmsError::KeyDisabled { .. }), "{err:?}");
    let text = RootError::from(err).to_string();
    eprintln!("disabled key: {text}");
    assert!(
        text.contains("gcp-kms") && text.contains("disabled") && text.contains(&name),
        "{text}"
    );

    standin.set_enabled(&name, true);
    assert!(same_key(&key, &root.unseal(&sealed, &ctx).await.unwrap()));
}

#[tokio::test]
async fn an_unknown_key_is_reported_as_not_found() {
    let standin = GcpStandIn::start().await;
    let missing = GcpStandIn::key_name("no-such-key");
    let root = root_for(&standin, &missing).await;
    let err = root
        .seal_root(&RootKey::generate(1).unwrap(), &context(1))
        .await
        .unwrap_err();
    eprintln!("unknown key: {err}");
    assert!(matches!(err, GcpKmsError::KeyNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(&missing), "{err}");
    assert_eq!(standin.requests(), 1, "not found is not retried");
}

#[tokio::test]
async fn permission_denied_is_reported_without_retrying() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let root = root_for(&standin, &name).await;
    let ctx = context(1);
    let sealed = root
        .seal(&RootKey::generate(1).unwrap(), &ctx)
        .await
        .unwrap();
    let before = standin.requests();

    standin.set_denied(&name, true);
    let err = root.unseal_root(&sealed, &ctx).await.unwrap_err();
    eprintln!("permission denied: {err}");
    assert!(
        matches!(err, GcpKmsError::PermissionDenied { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("useToDecrypt") && err.to_string().contains(&name),
        "{err}"
    );
    assert_eq!(
        standin.requests() - before,
        1,
        "permission denied is not retried"
    );

    standin.set_denied(&name, false);
    root.unseal_root(&sealed, &ctx)
        .await
        .expect("allowed again");
}

#[tokio::test]
async fn throttling_is_retried_then_succeeds() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let root = root_for(&standin, &name).await;
    let key = RootKey::generate(1).unwrap();
    let ctx = context(1);

    standin.throttle(2);
    let sealed = root.seal(&key, &ctx).await.expect("seal after two 429s");
    assert_eq!(
        standin.requests(),
        3,
        "two throttled attempts, then success"
    );
    standin.throttle(2);
    assert!(same_key(&key, &root.unseal(&sealed, &ctx).await.unwrap()));
    assert_eq!(standin.requests(), 6);
}

#[tokio::test]
async fn persistent_throttling_is_reported_after_every_attempt() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let root = root_for(&standin, &name).await;
    standin.throttle(u32::MAX);
    let err = root
        .seal_root(&RootKey::generate(1).unwrap(), &context(1))
        .await
        .unwrap_err();
    eprintln!("throttled: {err}");
    assert!(
        matches!(err, GcpKmsError::Throttled { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(standin.requests(), 3, "every attempt was made");
}

#[tokio::test]
async fn damaged_answers_fail_the_integrity_check() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let root = root_for(&standin, &name).await;
    let key = RootKey::generate(1).unwrap();
    let ctx = context(1);
    let sealed = root.seal(&key, &ctx).await.unwrap();

    standin.damage_checksums(true);
    let err = root.seal_root(&key, &ctx).await.unwrap_err();
    assert!(matches!(err, GcpKmsError::Integrity { .. }), "{err:?}");
    let err = root.unseal_root(&sealed, &ctx).await.unwrap_err();
    eprintln!("damaged answer: {err}");
    assert!(matches!(err, GcpKmsError::Integrity { .. }), "{err:?}");
}

#[tokio::test]
async fn a_stopped_server_gives_a_network_error_within_the_time_limit() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let root = root_for(&standin, &name).await;
    let ctx = context(1);
    let sealed = root
        .seal(&RootKey::generate(1).unwrap(), &ctx)
        .await
        .unwrap();

    standin.stop();
    let started = Instant::now();
    let err = root.unseal_root(&sealed, &ctx).await.unwrap_err();
    let took = started.elapsed();
    eprintln!("stopped server after {took:?}: {err}");
    assert!(matches!(err, GcpKmsError::Network { .. }), "{err:?}");
    assert!(err.to_string().contains(&standin.endpoint), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // Through the trait, as Kms::init sees it: refuses to start.
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let err = Kms::init(&OpenOptions::sqlite_in(dir.path()), Arc::new(root))
        .await
        .err()
        .expect("init must fail without Cloud KMS");
    assert!(
        matches!(&err, kms_core::Error::Root(RootError::Provider { provider: "gcp-kms", reason }) if reason.contains("cannot reach Cloud KMS")),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(12));
    assert!(!dir.path().join("root.seal").exists());
}

#[tokio::test]
async fn a_silent_endpoint_is_bounded_by_the_time_limit() {
    // A listener that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let root = GcpKmsRoot::connect(&config_for(&endpoint, &GcpStandIn::key_name("root")))
        .await
        .unwrap()
        .with_resilience(Resilience {
            attempt_timeout: Duration::from_millis(500),
            operation_timeout: Duration::from_secs(2),
            ..Resilience::default()
        });
    let started = Instant::now();
    let err = root
        .seal_root(&RootKey::generate(1).unwrap(), &context(1))
        .await
        .unwrap_err();
    eprintln!("silent endpoint: {err}");
    assert!(
        matches!(err, GcpKmsError::Timeout { limit, .. } if limit == Duration::from_millis(500)),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    drop(listener);
}

#[tokio::test]
async fn bad_configuration_is_rejected_before_any_call() {
    for (config, needle) in [
        (
            GcpKmsConfig::new("projects/p/keyRings/r/cryptoKeys/k"),
            "not a Cloud KMS crypto key name",
        ),
        (
            GcpKmsConfig::new("projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1"),
            "not one of its versions",
        ),
        (
            GcpKmsConfig::new(GcpStandIn::key_name("root"))
                .with_credentials(GcpCredentials::Anonymous),
            "local test endpoint",
        ),
    ] {
        let err = GcpKmsRoot::connect(&config).await.unwrap_err();
        eprintln!("bad configuration: {err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    let err = GcpKmsRoot::connect(&GcpKmsConfig::new("root"))
        .await
        .unwrap_err();
    assert!(matches!(err, GcpKmsError::ResourceName { .. }), "{err:?}");
}

#[tokio::test]
async fn an_install_rooted_in_gcp_kms_restarts_and_refuses_other_roots() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions::sqlite_in(dir.path());

    let kms = Kms::init(&opts, Arc::new(root_for(&standin, &name).await))
        .await
        .expect("init");
    let org = kms.create_organization(&actor(), "org").await.unwrap();
    let project = kms.create_project(&actor(), org, "project").await.unwrap();
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, Template::default())
        .await
        .unwrap();
    kms.activate(&actor(), project, key).await.unwrap();
    let ct = kms
        .encrypt(&actor(), project, key, b"aad", b"rooted in Cloud KMS")
        .await
        .unwrap();
    kms.close().await;
    let seal = std::fs::read_to_string(dir.path().join("root.seal")).unwrap();
    assert!(
        seal.contains("\"provider\":\"gcpkms\"") || seal.contains("\"provider\": \"gcpkms\""),
        "{seal}"
    );

    // Restart with a new provider instance.
    let kms = Kms::open(&opts, Arc::new(root_for(&standin, &name).await))
        .await
        .expect("open");
    let pt = kms
        .decrypt(&actor(), project, key, b"aad", &ct)
        .await
        .unwrap();
    assert!(pt.ct_eq(b"rooted in Cloud KMS"));
    kms.close().await;

    // A copy of the data directory is no use without the key: not with
    // another Cloud KMS key, not with the software root, not while the key
    // is disabled.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
    }
    let copy_opts = OpenOptions::sqlite_in(copy.path());
    let other = standin.create_key("other");
    let err = Kms::open(&copy_opts, Arc::new(root_for(&standin, &other).await))
        .await
        .err()
        .expect("another key must not open the install");
    assert!(
        matches!(&err, kms_core::Error::Root(RootError::Provider { provider: "gcp-kms", reason }) if reason.contains("does not open")),
        "{err}"
    );
    let software = SoftwareRoot::create_key_file(&copy.path().join("root.key")).unwrap();
    assert!(Kms::open(&copy_opts, Arc::new(software)).await.is_err());

    standin.set_enabled(&name, false);
    let err = Kms::open(&copy_opts, Arc::new(root_for(&standin, &name).await))
        .await
        .err()
        .expect("a disabled key must stop start-up");
    assert!(err.to_string().contains("disabled"), "{err}");

    // Re-enabled, the original key opens the original install again.
    standin.set_enabled(&name, true);
    let kms = Kms::open(&opts, Arc::new(root_for(&standin, &name).await))
        .await
        .expect("reopen");
    assert!(
        kms.decrypt(&actor(), project, key, b"aad", &ct)
            .await
            .unwrap()
            .ct_eq(b"rooted in Cloud KMS")
    );
    kms.close().await;
}

#[tokio::test]
async fn migrate_from_software_to_gcp_kms_and_back() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let opts = OpenOptions::sqlite_in(dir.path());
    let key_file = keys.path().join("root.key");

    // An install on the software root, with a key in use.
    let kms = Kms::init(
        &opts,
        Arc::new(SoftwareRoot::create_key_file(&key_file).unwrap()),
    )
    .await
    .unwrap();
    let org = kms.create_organization(&actor(), "org").await.unwrap();
    let project = kms.create_project(&actor(), org, "project").await.unwrap();
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, Template::default())
        .await
        .unwrap();
    kms.activate(&actor(), project, key).await.unwrap();
    let ct = kms
        .encrypt(&actor(), project, key, b"", b"migrated")
        .await
        .unwrap();

    // Software -> Cloud KMS.
    kms.migrate_root(&actor(), Arc::new(root_for(&standin, &name).await))
        .await
        .expect("migrate to Cloud KMS");
    kms.close().await;
    drop(kms);
    let err = Kms::open(
        &opts,
        Arc::new(SoftwareRoot::from_key_file(&key_file).unwrap()),
    )
    .await
    .err()
    .expect("the software root no longer opens the install");
    assert!(matches!(err, kms_core::Error::Root(_)), "{err}");
    let kms = Kms::open(&opts, Arc::new(root_for(&standin, &name).await))
        .await
        .expect("open on Cloud KMS");
    let pt = kms.decrypt(&actor(), project, key, b"", &ct).await.unwrap();
    assert!(pt.ct_eq(b"migrated"));

    // Cloud KMS -> software (a new key file).
    let back_file = keys.path().join("back.key");
    let back = SoftwareRoot::create_key_file(&back_file).unwrap();
    kms.migrate_root(&actor(), Arc::new(back))
        .await
        .expect("migrate back");
    kms.close().await;
    drop(kms);
    // Cloud KMS is no longer needed: even disabled, the install opens.
    standin.set_enabled(&name, false);
    let kms = Kms::open(
        &opts,
        Arc::new(SoftwareRoot::from_key_file(&back_file).unwrap()),
    )
    .await
    .unwrap();
    let pt = kms.decrypt(&actor(), project, key, b"", &ct).await.unwrap();
    assert!(pt.ct_eq(b"migrated"));
    assert!(kms.verify_audit().await.unwrap() > 0);
    kms.close().await;
}

#[tokio::test]
async fn a_failed_migration_to_gcp_kms_leaves_the_old_root() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let opts = OpenOptions::sqlite_in(dir.path());
    let key_file = keys.path().join("root.key");
    let kms = Kms::init(
        &opts,
        Arc::new(SoftwareRoot::create_key_file(&key_file).unwrap()),
    )
    .await
    .unwrap();

    standin.set_denied(&name, true);
    let err = kms
        .migrate_root(&actor(), Arc::new(root_for(&standin, &name).await))
        .await
        .expect_err("migrating to a key we may not use fails");
    assert!(err.to_string().contains("permission denied"), "{err}");
    kms.close().await;
    drop(kms);

    let kms = Kms::open(
        &opts,
        Arc::new(SoftwareRoot::from_key_file(&key_file).unwrap()),
    )
    .await
    .expect("the software root still opens the install");
    kms.close().await;
}

/// Root unwrap latency against the stand-in on loopback (run with
/// `--ignored --nocapture`): the client path (request building, JSON,
/// HTTP/1.1 on a kept-alive connection, CRC32C) plus the stand-in's
/// AES-GCM, not Google's service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a check"]
async fn unseal_latency_against_the_stand_in() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let root = root_for(&standin, &name).await;
    let key = RootKey::generate(1).unwrap();
    let ctx = context(1);
    let sealed = root.seal(&key, &ctx).await.unwrap();
    for _ in 0..20 {
        root.unseal(&sealed, &ctx).await.unwrap();
    }
    let n = 500;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        root.unseal(&sealed, &ctx).await.unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / n as u32;
    eprintln!(
        "gcp-kms unseal via the stand-in: mean {mean:?}, median {:?}, p95 {:?} ({n} calls)",
        times[n / 2],
        times[n * 95 / 100]
    );
}

#[tokio::test]
async fn the_stand_in_refuses_and_reports_requests_it_does_not_know() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("root");
    let mut stream = tokio::net::TcpStream::connect(standin.addr).await.unwrap();
    let request = format!(
        "POST /v1/{name}:asymmetricSign HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(response.contains("\"NOT_FOUND\""), "{response}");
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(standin)));
    assert!(dropped.is_err(), "an unknown request must fail the test");
}

#[tokio::test]
async fn migrate_to_gcp_kms_rotate_there_and_back() {
    let standin = GcpStandIn::start().await;
    let name = standin.create_key("rotate");
    rotation_support::migrate_rotate_restart_and_back(|| async {
        Arc::new(root_for(&standin, &name).await) as Arc<dyn RootOfTrust>
    })
    .await;
}
