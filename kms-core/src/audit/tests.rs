use super::*;

fn chain() -> AuditChain {
    AuditChain::new(&[9u8; 32])
}

fn build(n: usize) -> (Vec<AuditRecord>, ChainHead) {
    let c = chain();
    let mut records = Vec::new();
    let (mut seq, mut hash) = (0, GENESIS);
    for i in 0..n {
        let e = AuditEvent::now("tester", "object.create")
            .object(format!("obj-{i}"))
            .project("p");
        let r = c.link(seq, hash, e);
        seq = r.seq;
        hash = r.hash;
        records.push(r);
    }
    (records, c.seal_head(seq, &hash))
}

#[test]
fn intact_chain_verifies() {
    let (records, head) = build(10);
    assert_eq!(verify_chain(&chain(), &records, Some(&head)), Ok(10));
    assert_eq!(verify_chain(&chain(), &[], None), Ok(0));
}

#[test]
fn edited_record_is_named() {
    let (mut records, head) = build(10);
    records[4].event.result = "failure".into();
    assert_eq!(
        verify_chain(&chain(), &records, Some(&head)),
        Err(AuditError::RecordAltered { seq: 5 })
    );

    // Editing and re-hashing it breaks the next link instead.
    let (mut records, head) = build(10);
    records[4].event.actor = "mallory".into();
    records[4].hash = record_hash(5, &records[4].prev_hash, &records[4].event);
    assert_eq!(
        verify_chain(&chain(), &records, Some(&head)),
        Err(AuditError::BrokenLink {
            seq: 6,
            expected_prev: 5
        })
    );
}

#[test]
fn deleted_record_is_named() {
    let (mut records, head) = build(10);
    records.remove(3);
    assert_eq!(
        verify_chain(&chain(), &records, Some(&head)),
        Err(AuditError::BrokenLink {
            seq: 5,
            expected_prev: 3
        })
    );
}

#[test]
fn reordered_records_are_named() {
    let (mut records, head) = build(10);
    records.swap(2, 3);
    assert!(matches!(
        verify_chain(&chain(), &records, Some(&head)),
        Err(AuditError::BrokenLink { seq: 4, .. })
    ));
}

#[test]
fn truncated_tail_and_forged_head() {
    let (mut records, head) = build(10);
    records.truncate(8);
    assert_eq!(
        verify_chain(&chain(), &records, Some(&head)),
        Err(AuditError::HeadMismatch { last: 8, head: 10 })
    );
    // A head forged without the audit key.
    let forged = AuditChain::new(&[1u8; 32]).seal_head(8, &records[7].hash);
    assert_eq!(
        verify_chain(&chain(), &records, Some(&forged)),
        Err(AuditError::HeadNotAuthentic)
    );
    // Records without any head.
    assert!(matches!(
        verify_chain(&chain(), &records, None),
        Err(AuditError::HeadMismatch { .. })
    ));
}

#[test]
fn fields_are_unambiguous() {
    let a = AuditEvent {
        object: Some("ab".into()),
        project: Some("c".into()),
        ..AuditEvent::now("x", "y")
    };
    let b = AuditEvent {
        object: Some("a".into()),
        project: Some("bc".into()),
        time_us: a.time_us,
        ..a.clone()
    };
    assert_ne!(record_hash(1, &GENESIS, &a), record_hash(1, &GENESIS, &b));
    let c = AuditEvent {
        object: None,
        ..a.clone()
    };
    let d = AuditEvent {
        object: Some(String::new()),
        ..a.clone()
    };
    assert_ne!(record_hash(1, &GENESIS, &c), record_hash(1, &GENESIS, &d));
}

/// The record hash is the documented byte layout, whatever the code that
/// assembles it: chains written by earlier versions must keep verifying.
#[test]
fn record_hash_is_the_documented_layout() {
    let event = AuditEvent {
        time_us: 1_700_000_000_123_456,
        actor: "identity:7b3c".into(),
        action: "transit.encrypt".into(),
        object: Some("01a25023-20f8-76ac-92cc-f91b389ac19b".into()),
        project: None,
        result: "success".into(),
        source: Some("127.0.0.1".into()),
    };
    let prev = [7u8; 32];
    let mut expected = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    expected.update(b"strongroom/audit/v1");
    expected.update(&prev);
    expected.update(&42i64.to_be_bytes());
    expected.update(&event.time_us.to_be_bytes());
    for field in [
        Some("identity:7b3c"),
        Some("transit.encrypt"),
        Some("01a25023-20f8-76ac-92cc-f91b389ac19b"),
        None,
        Some("success"),
        Some("127.0.0.1"),
    ] {
        match field {
            None => expected.update(&[0]),
            Some(s) => {
                expected.update(&[1]);
                expected.update(&(s.len() as u64).to_be_bytes());
                expected.update(s.as_bytes());
            }
        }
    }
    assert_eq!(
        record_hash(42, &prev, &event).as_slice(),
        expected.finish().as_ref()
    );
    // Formatting an id directly matches `Display`.
    let id = uuid::Uuid::now_v7();
    let e = AuditEvent::now("a", "b").object_id(&id).project_id(&id);
    assert_eq!(e.object.as_deref(), Some(id.to_string().as_str()));
    assert_eq!(e.project, e.object);
}
