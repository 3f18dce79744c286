//! The AWS KMS root of trust against a real `moto_server` (see
//! `aws_support`): seal and unseal, restarts, context binding, the fault
//! cases an operator meets, and a whole kms-core install on top of it.

mod aws_support;
mod rotation_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_support::Moto;
use hsm::aws_kms::{AwsKmsConfig, AwsKmsError, AwsKmsRoot, Resilience, SEAL_MAGIC};
use kms_core::crypto::keygen::KeySpec;
use kms_core::hierarchy::software::SoftwareRoot;
use kms_core::hierarchy::{RootError, RootKey, RootKind, RootOfTrust, SealContext, SealedRoot};
use kms_core::ids::InstallId;
use kms_core::service::{Actor, Kms, OpenOptions, Template};

fn root_for(moto: &Moto, key_id: &str) -> AwsKmsRoot {
    let config = AwsKmsConfig::new(key_id).with_endpoint_url(&moto.endpoint);
    AwsKmsRoot::from_sdk_config(&config, &moto.sdk_config()).expect("provider")
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
async fn seal_unseal_round_trip() {
    let Some(moto) = Moto::start() else { return };
    let (key_id, arn) = moto.create_key().await;
    let root = root_for(&moto, &key_id);
    assert_eq!(root.kind(), RootKind::AwsKms);
    assert!(root.describe().contains(&key_id), "{}", root.describe());

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

    // The same key named by ARN and by alias opens it too.
    moto.client()
        .create_alias()
        .alias_name("alias/strongroom-root")
        .target_key_id(&key_id)
        .send()
        .await
        .expect("CreateAlias");
    for name in [arn.as_str(), "alias/strongroom-root"] {
        let opened = root_for(&moto, name)
            .unseal(&sealed, &ctx)
            .await
            .unwrap_or_else(|e| panic!("unseal via {name}: {e}"));
        assert!(same_key(&key, &opened));
    }
}

#[tokio::test]
async fn a_new_provider_instance_unseals() {
    let Some(moto) = Moto::start() else { return };
    let (key_id, _) = moto.create_key().await;
    let key = RootKey::generate(1).unwrap();
    let ctx = context(1);
    let sealed = {
        let first = root_for(&moto, &key_id);
        first.seal(&key, &ctx).await.expect("seal")
    };
    // As after a restart: new SDK client, only the stored bytes kept.
    let stored = SealedRoot(sealed.0.clone());
    let second = root_for(&moto, &key_id);
    let opened = second.unseal(&stored, &ctx).await.expect("unseal");
    assert!(same_key(&key, &opened));
}

#[tokio::test]
async fn another_install_or_term_does_not_open() {
    let Some(moto) = Moto::start() else { return };
    let (key_id, _) = moto.create_key().await;
    let root = root_for(&moto, &key_id);
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
            matches!(err, AwsKmsError::InvalidCiphertext { .. }),
            "{err:?}"
        );
        let err = root.unseal(&sealed, &wrong).await.unwrap_err();
        assert!(
            matches!(&err, RootError::Provider { provider: "aws-kms", reason } if reason.contains("another install or term")),
            "{err}"
        );
    }

    // A damaged ciphertext, and bytes that are no AWS KMS seal at all.
    let mut damaged = sealed.clone();
    let last = damaged.0.len() - 1;
    damaged.0[last] ^= 1;
    let err = root.unseal_root(&damaged, &ctx).await.unwrap_err();
    assert!(
        matches!(err, AwsKmsError::InvalidCiphertext { .. }),
        "{err:?}"
    );
    let err = root
        .unseal_root(&SealedRoot(b"SRS1 software seal".to_vec()), &ctx)
        .await
        .unwrap_err();
    assert!(matches!(err, AwsKmsError::SealFormat(_)), "{err:?}");

    // The genuine context still opens it.
    assert!(same_key(&key, &root.unseal(&sealed, &ctx).await.unwrap()));
}

#[tokio::test]
async fn a_disabled_key_is_reported_as_disabled() {
    let Some(moto) = Moto::start() else { return };
    let (key_id, _) = moto.create_key().await;
    let root = root_for(&moto, &key_id);
    let key = RootKey::generate(1).unwrap();
    let ctx = context(1);
    let sealed = root.seal(&key, &ctx).await.expect("seal");

    moto.client()
        .disable_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("DisableKey");
    let err = root.unseal_root(&sealed, &ctx).await.unwrap_err();
    assert!(matches!(err, AwsKmsError::KeyDisabled { .. }), "{err:?}");
    let err = root.seal_root(&key, &ctx).await.unwrap_err();
    assert!(matches!(err, AwsKmsError::KeyDisabled { .. }), "{err:?}");
    let text = RootError::from(err).to_string();
    eprintln!("disabled key: {text}");
    assert!(
        text.contains("aws-kms") && text.contains("disabled") && text.contains(&key_id),
        "{text}"
    );

    moto.client()
        .enable_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("EnableKey");
    assert!(same_key(&key, &root.unseal(&sealed, &ctx).await.unwrap()));
}

#[tokio::test]
async fn an_unknown_key_is_reported_as_not_found() {
    let Some(moto) = Moto::start() else { return };
    let missing = "0b1e7a55-0000-4000-8000-000000000000";
    for name in [missing, "alias/no-such-alias"] {
        let root = root_for(&moto, name);
        let err = root
            .seal_root(&RootKey::generate(1).unwrap(), &context(1))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AwsKmsError::KeyNotFound { .. }),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains(name), "{err}");
        eprintln!("unknown key: {err}");
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_fast_with_a_network_error() {
    // A port nothing listens on: bind one, then close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let config = AwsKmsConfig::new("alias/strongroom-root").with_endpoint_url(&endpoint);
    let root = AwsKmsRoot::from_sdk_config(&config, &aws_support::sdk_config(&endpoint))
        .unwrap()
        .with_resilience(Resilience {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(50),
            ..Resilience::default()
        });
    let started = Instant::now();
    let err = root
        .seal_root(&RootKey::generate(1).unwrap(), &context(1))
        .await
        .unwrap_err();
    let took = started.elapsed();
    eprintln!("unreachable endpoint after {took:?}: {err}");
    assert!(matches!(err, AwsKmsError::Network { .. }), "{err:?}");
    assert!(err.to_string().contains(&endpoint), "{err}");
    assert!(took < Duration::from_secs(12), "took {took:?}");

    // Through the trait, as Kms::init sees it: refuses to start.
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let err = Kms::init(&OpenOptions::sqlite_in(dir.path()), Arc::new(root))
        .await
        .err()
        .expect("init must fail without KMS");
    assert!(
        matches!(&err, kms_core::Error::Root(RootError::Provider { provider: "aws-kms", reason }) if reason.contains("cannot reach AWS KMS")),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(12));
    assert!(!dir.path().join("root.seal").exists());
}

#[tokio::test]
async fn the_default_time_limit_bounds_a_silent_endpoint() {
    // A listener that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let config = AwsKmsConfig::new("alias/strongroom-root").with_endpoint_url(&endpoint);
    let root = AwsKmsRoot::from_sdk_config(&config, &aws_support::sdk_config(&endpoint))
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
    assert!(matches!(err, AwsKmsError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(listener);
}

#[tokio::test]
async fn an_install_rooted_in_aws_kms_restarts_and_refuses_other_roots() {
    let Some(moto) = Moto::start() else { return };
    let (key_id, _) = moto.create_key().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions::sqlite_in(dir.path());

    let kms = Kms::init(&opts, Arc::new(root_for(&moto, &key_id)))
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
        .encrypt(&actor(), project, key, b"aad", b"rooted in AWS KMS")
        .await
        .unwrap();
    kms.close().await;
    let seal = std::fs::read_to_string(dir.path().join("root.seal")).unwrap();
    assert!(
        seal.contains("\"provider\":\"awskms\"") || seal.contains("\"provider\": \"awskms\""),
        "{seal}"
    );

    // Restart with a new provider instance.
    let kms = Kms::open(&opts, Arc::new(root_for(&moto, &key_id)))
        .await
        .expect("open");
    let pt = kms
        .decrypt(&actor(), project, key, b"aad", &ct)
        .await
        .unwrap();
    assert!(pt.ct_eq(b"rooted in AWS KMS"));
    kms.close().await;

    // Another AWS KMS key cannot open it.
    let (other_key, _) = moto.create_key().await;
    let err = Kms::open(&opts, Arc::new(root_for(&moto, &other_key)))
        .await
        .err()
        .expect("another key must not open the install");
    assert!(
        matches!(&err, kms_core::Error::Root(RootError::Provider { provider: "aws-kms", reason }) if reason.contains("does not open")),
        "{err}"
    );

    // Nor can the software root.
    let software = SoftwareRoot::create_key_file(&dir.path().join("root.key")).unwrap();
    assert!(Kms::open(&opts, Arc::new(software)).await.is_err());

    // With the key disabled, the install refuses to start.
    moto.client()
        .disable_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    let err = Kms::open(&opts, Arc::new(root_for(&moto, &key_id)))
        .await
        .err()
        .expect("a disabled key must stop start-up");
    assert!(err.to_string().contains("disabled"), "{err}");

    // Re-enabled, the original key still opens it.
    moto.client()
        .enable_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    let kms = Kms::open(&opts, Arc::new(root_for(&moto, &key_id)))
        .await
        .expect("reopen");
    assert!(
        kms.decrypt(&actor(), project, key, b"aad", &ct)
            .await
            .unwrap()
            .ct_eq(b"rooted in AWS KMS")
    );
    kms.close().await;
}

#[tokio::test]
async fn missing_credentials_are_named() {
    // An SdkConfig with no credentials provider at all.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let config = AwsKmsConfig::new("alias/strongroom-root").with_endpoint_url(&endpoint);
    let root = AwsKmsRoot::from_sdk_config(&config, &sdk).unwrap();
    let err = root
        .seal_root(&RootKey::generate(1).unwrap(), &context(1))
        .await
        .unwrap_err();
    eprintln!("no credentials: {err} / {err:?}");
    assert!(matches!(err, AwsKmsError::Credentials { .. }), "{err:?}");
}

#[tokio::test]
async fn connect_uses_the_standard_chain() {
    // Whatever the standard chain finds here (nothing, in CI), the provider
    // either works against moto or names the credentials as the problem.
    let Some(moto) = Moto::start() else { return };
    let (key_id, _) = moto.create_key().await;
    let config = AwsKmsConfig::new(&key_id)
        .with_region(aws_support::REGION)
        .with_endpoint_url(&moto.endpoint);
    let root = AwsKmsRoot::connect(&config).await.expect("connect");
    assert_eq!(root.region(), aws_support::REGION);
    let started = Instant::now();
    match root
        .seal_root(&RootKey::generate(1).unwrap(), &context(1))
        .await
    {
        Ok(_) => {}
        Err(AwsKmsError::Credentials { .. }) => {}
        Err(e) => panic!("{e:?}"),
    }
    eprintln!("standard chain took {:?}", started.elapsed());
}

fn scripted_root(server: &aws_support::ScriptedKms) -> AwsKmsRoot {
    let config = AwsKmsConfig::new("alias/strongroom-root").with_endpoint_url(&server.endpoint);
    AwsKmsRoot::from_sdk_config(&config, &aws_support::sdk_config(&server.endpoint))
        .unwrap()
        .with_resilience(Resilience {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            ..Resilience::default()
        })
}

#[tokio::test]
async fn throttling_is_retried_then_reported() {
    let server = aws_support::ScriptedKms::error(400, "ThrottlingException", "Rate exceeded");
    let root = scripted_root(&server);
    let err = root
        .seal_root(&RootKey::generate(1).unwrap(), &context(1))
        .await
        .unwrap_err();
    eprintln!("throttled: {err}");
    assert!(
        matches!(err, AwsKmsError::Throttled { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(server.requests(), 3, "every attempt was made");
}

#[tokio::test]
async fn access_denied_is_reported_without_retrying() {
    let server = aws_support::ScriptedKms::error(
        400,
        "AccessDeniedException",
        "User: arn:aws:iam::111122223333:user/strongroom is not authorized to perform: kms:Decrypt",
    );
    let root = scripted_root(&server);
    let sealed = SealedRoot([SEAL_MAGIC.as_slice(), b"ciphertext"].concat());
    let err = root.unseal_root(&sealed, &context(1)).await.unwrap_err();
    eprintln!("access denied: {err}");
    assert!(matches!(err, AwsKmsError::AccessDenied { .. }), "{err:?}");
    assert!(err.to_string().contains("kms:Decrypt"), "{err}");
    assert_eq!(server.requests(), 1, "access denied is not retried");
}

/// Root unwrap latency against moto_server on loopback (run with
/// `--ignored --nocapture`). Moto is a Python stand-in, so this measures the
/// client path (SDK, signing, HTTP) plus moto, not AWS itself.
#[tokio::test]
#[ignore = "measurement, not a check"]
async fn unseal_latency_against_moto() {
    let Some(moto) = Moto::start() else { return };
    let (key_id, _) = moto.create_key().await;
    let root = root_for(&moto, &key_id);
    let key = RootKey::generate(1).unwrap();
    let ctx = context(1);
    let sealed = root.seal(&key, &ctx).await.unwrap();
    for _ in 0..10 {
        root.unseal(&sealed, &ctx).await.unwrap();
    }
    let n = 200;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        root.unseal(&sealed, &ctx).await.unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / n as u32;
    eprintln!(
        "aws-kms unseal via moto: mean {mean:?}, median {:?}, p95 {:?} ({n} calls)",
        times[n / 2],
        times[n * 95 / 100]
    );
}

#[tokio::test]
async fn migrate_to_aws_kms_rotate_there_and_back() {
    let Some(moto) = Moto::start() else { return };
    let (key_id, _) = moto.create_key().await;
    rotation_support::migrate_rotate_restart_and_back(|| async {
        Arc::new(root_for(&moto, &key_id)) as Arc<dyn RootOfTrust>
    })
    .await;
}
