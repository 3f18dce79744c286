//! Archive and Recover, Usage Limits (durable, transactional spending) and
//! the Process Start / Protect Stop Dates, end to end on SQLite.

mod common;

use common::*;
use kms_core::Error;
use kms_core::crypto::SecretBytes;
use kms_core::crypto::cipher::{BlockMode, Padding};
use kms_core::crypto::keygen::KeySpec;
use kms_core::object::{
    AlternativeName, AlternativeNameType, KeyMaterial, SecretDataType, UsageLimits, UsageLimitsUnit,
};
use kms_core::service::{SymmetricMode, Template};
use time::{Duration, OffsetDateTime};

fn active() -> Template {
    Template {
        activation_date: Some(OffsetDateTime::now_utc() - Duration::hours(1)),
        ..Template::default()
    }
}

fn limited(total: i64, unit: UsageLimitsUnit) -> Template {
    Template {
        usage_limits: Some(UsageLimits::new(total, unit)),
        ..active()
    }
}

#[tokio::test]
async fn archived_objects_refuse_everything_but_recover_and_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let key = kms
        .create_key(&actor(), project, KeySpec::Aes256, active())
        .await
        .unwrap();
    // A cached key must not outlive its archiving.
    let ct = kms
        .encrypt(&actor(), project, key, b"", b"x")
        .await
        .unwrap();
    let archived = kms.archive(&actor(), project, key).await.unwrap();
    assert!(archived.is_archived());
    let refused = |r: Result<(), Error>| matches!(r, Err(Error::ObjectArchived(id)) if id == key);
    assert!(refused(
        kms.encrypt(&actor(), project, key, b"", b"x")
            .await
            .map(drop)
    ));
    assert!(refused(kms.get(&actor(), project, key).await.map(drop)));
    assert!(refused(kms.attributes(project, key).await.map(drop)));
    assert!(refused(kms.archive(&actor(), project, key).await.map(drop)));
    assert!(refused(
        kms.activate(&actor(), project, key).await.map(drop)
    ));
    kms.close().await;

    let kms = reopen(dir.path()).await.unwrap();
    assert!(refused(
        kms.decrypt(&actor(), project, key, b"", &ct)
            .await
            .map(drop)
    ));
    let found = kms.locate(project, Default::default()).await.unwrap();
    assert!(
        found
            .iter()
            .any(|a| a.unique_identifier == key && a.is_archived())
    );
    let recovered = kms.recover(&actor(), project, key).await.unwrap();
    assert!(!recovered.is_archived() && recovered.archive_date.is_none());
    let pt = kms.decrypt(&actor(), project, key, b"", &ct).await.unwrap();
    assert!(pt.ct_eq(b"x"));
    // Recovering an on-line object changes nothing.
    let again = kms.recover(&actor(), project, key).await.unwrap();
    assert_eq!(again.last_change_date, recovered.last_change_date);
    assert!(kms.verify_audit().await.unwrap() > 5);
}

#[tokio::test]
async fn usage_limits_count_is_durable_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let key = kms
        .create_key(
            &actor(),
            project,
            KeySpec::Aes256,
            limited(3, UsageLimitsUnit::Object),
        )
        .await
        .unwrap();
    for _ in 0..2 {
        kms.encrypt(&actor(), project, key, b"", b"0123456789")
            .await
            .unwrap();
    }
    kms.close().await;

    let kms = reopen(dir.path()).await.unwrap();
    let a = kms.attributes(project, key).await.unwrap();
    assert_eq!(a.usage_limits.map(|l| l.count), Some(1));
    // The raw-material path spends from the same count.
    let mode = SymmetricMode::Block(BlockMode::Ecb, Padding::None);
    let out = kms
        .encrypt_symmetric(&actor(), project, key, mode, None, b"", &[0; 16])
        .await
        .unwrap();
    assert!(matches!(
        kms.encrypt(&actor(), project, key, b"", b"x").await,
        Err(Error::UsageLimitExhausted(id, 1, 0)) if id == key
    ));
    // Processing is not limited.
    kms.decrypt_symmetric(
        &actor(),
        project,
        key,
        mode,
        None,
        b"",
        &out.ciphertext,
        &[],
    )
    .await
    .unwrap();
    assert!(kms.verify_audit().await.unwrap() > 5);
}

#[tokio::test]
async fn concurrent_uses_never_overspend() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    // 100 bytes, 10 per use: exactly ten of twenty concurrent uses fit.
    let key = kms
        .create_key(
            &actor(),
            project,
            KeySpec::Aes256,
            limited(100, UsageLimitsUnit::Byte),
        )
        .await
        .unwrap();
    let uses = (0..20).map(|_| {
        let kms = kms.clone();
        tokio::spawn(async move { kms.encrypt(&actor(), project, key, b"", &[0; 10]).await })
    });
    let mut spent = 0;
    for outcome in futures_join(uses).await {
        match outcome {
            Ok(_) => spent += 1,
            Err(Error::UsageLimitExhausted(..)) => {}
            Err(other) => panic!("unexpected failure: {other}"),
        }
    }
    assert_eq!(spent, 10);
    let a = kms.attributes(project, key).await.unwrap();
    assert_eq!(a.usage_limits.map(|l| l.count), Some(0));
}

/// Awaits every task, in order.
async fn futures_join<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn usage_allocation_takes_from_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let key = kms
        .create_key(
            &actor(),
            project,
            KeySpec::Aes256,
            limited(10, UsageLimitsUnit::Byte),
        )
        .await
        .unwrap();
    let left = kms.allocate_usage(&actor(), project, key, 6).await.unwrap();
    assert_eq!((left.total, left.count), (10, 4));
    assert!(matches!(
        kms.allocate_usage(&actor(), project, key, 5).await,
        Err(Error::UsageLimitExhausted(_, 5, 4))
    ));
    assert!(matches!(
        kms.allocate_usage(&actor(), project, key, 0).await,
        Err(Error::InvalidAttribute { .. })
    ));
    // Spent limits are fixed; a client never sets the count.
    assert!(matches!(
        kms.modify_attributes(&actor(), project, key, |a| {
            a.usage_limits = Some(UsageLimits::new(50, UsageLimitsUnit::Byte));
            Ok(())
        })
        .await,
        Err(Error::InvalidAttribute { .. })
    ));
    let free = kms
        .create_key(&actor(), project, KeySpec::Aes256, active())
        .await
        .unwrap();
    assert!(matches!(
        kms.allocate_usage(&actor(), project, free, 1).await,
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        kms.modify_attributes(&actor(), project, free, |a| {
            a.usage_limits = Some(UsageLimits {
                total: 5,
                count: 1,
                unit: UsageLimitsUnit::Object,
            });
            Ok(())
        })
        .await,
        Err(Error::InvalidAttribute { .. })
    ));
}

#[tokio::test]
async fn process_start_and_protect_stop_dates_gate_uses() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    let key = kms
        .create_key(
            &actor(),
            project,
            KeySpec::Aes256,
            Template {
                process_start_date: Some(now + Duration::hours(1)),
                ..active()
            },
        )
        .await
        .unwrap();
    let ct = kms
        .encrypt(&actor(), project, key, b"", b"x")
        .await
        .unwrap();
    assert!(matches!(
        kms.decrypt(&actor(), project, key, b"", &ct).await,
        Err(Error::OutsideUsePeriod { .. })
    ));
    let mode = SymmetricMode::Block(BlockMode::Ecb, Padding::None);
    assert!(matches!(
        kms.decrypt_symmetric(&actor(), project, key, mode, None, b"", &[0; 16], &[])
            .await,
        Err(Error::OutsideUsePeriod { .. })
    ));

    let stopped = kms
        .create_key(
            &actor(),
            project,
            KeySpec::Aes256,
            Template {
                protect_stop_date: Some(now - Duration::minutes(1)),
                ..active()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        kms.encrypt(&actor(), project, stopped, b"", b"x").await,
        Err(Error::OutsideUsePeriod { .. })
    ));
    assert!(matches!(
        kms.encrypt_symmetric(&actor(), project, stopped, mode, None, b"", &[0; 16])
            .await,
        Err(Error::OutsideUsePeriod { .. })
    ));
    // Reached: neither moved nor deleted.
    for change in [Some(now + Duration::hours(1)), None] {
        assert!(matches!(
            kms.modify_attributes(&actor(), project, stopped, |a| {
                a.protect_stop_date = change;
                Ok(())
            })
            .await,
            Err(Error::InvalidAttribute {
                name: "Protect Stop Date",
                ..
            })
        ));
    }

    // Keys only.
    let secret = KeyMaterial::SecretData {
        kind: SecretDataType::Password,
        value: SecretBytes::from_slice(b"hunter2"),
    };
    assert!(matches!(
        kms.register(
            &actor(),
            project,
            secret,
            None,
            None,
            Template {
                protect_stop_date: Some(now),
                ..Template::default()
            },
        )
        .await,
        Err(Error::InvalidAttribute { .. })
    ));
}

#[tokio::test]
async fn alternative_names_are_kept_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let (kms, project) = install(dir.path()).await;
    let tape = AlternativeName {
        value: "XXA012A1".into(),
        name_type: AlternativeNameType::UninterpretedTextString,
    };
    let key = kms
        .create_key(
            &actor(),
            project,
            KeySpec::Aes256,
            Template {
                alternative_names: vec![tape.clone()],
                ..Template::default()
            },
        )
        .await
        .unwrap();
    let a = kms.attributes(project, key).await.unwrap();
    assert_eq!(a.alternative_names, [tape]);
    let empty = AlternativeName {
        value: String::new(),
        name_type: AlternativeNameType::Uri,
    };
    assert!(matches!(
        kms.modify_attributes(&actor(), project, key, |a| {
            a.alternative_names.push(empty);
            Ok(())
        })
        .await,
        Err(Error::InvalidAttribute { .. })
    ));
}
