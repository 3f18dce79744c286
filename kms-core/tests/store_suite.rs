//! The storage test suite: every test is written once against
//! `Arc<dyn Store>` and runs on both backends.
//!
//! * `sqlite::*` — a fresh database file in a temp dir per test.
//! * `postgres::*` — the server named by `STRONGROOM_TEST_POSTGRES_URL`
//!   (`.ci/postgres.sh` starts one and exports it). Each test creates its own
//!   schema in that database and opens the store with
//!   `options[search_path]=<schema>`, so tests run in parallel without
//!   seeing each other. If the variable is unset the PostgreSQL tests fail
//!   when `CI=true`, and otherwise print a notice and pass vacuously.
//!
//! Backend-specific checks (a missing or read-only SQLite directory, an
//! unreachable PostgreSQL server) follow the shared suite.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kms_core::audit::{self, AuditChain, AuditEvent, AuditRecord};
use kms_core::ids::{ObjectId, OrganizationId, ProjectId};
use kms_core::store::{
    self, ActionFilter, AuditQuery, ObjectQuery, ObjectRecord, OrganizationRecord,
    ProjectKeyRecord, ProjectRecord, RecordKey, RecordRow, Store, StoreError, StoreOptions,
    Transaction, Write,
};
use sqlx::Connection;

const AUDIT_KEY: &[u8] = b"store suite audit key, 32 bytes!";

fn chain() -> Arc<AuditChain> {
    Arc::new(AuditChain::new(AUDIT_KEY))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// One test's database.
struct Env {
    kind: Kind,
    url: String,
    store: Arc<dyn Store>,
    /// PostgreSQL: the admin URL and this test's schema.
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Env {
    async fn sqlite() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("strongroom.db").display());
        let store = store::open(&url, chain(), StoreOptions::default())
            .await
            .expect("open sqlite store");
        Env {
            kind: Kind::Sqlite,
            url,
            store,
            pg: None,
            _dir: Some(dir),
        }
    }

    /// `None` (after a notice) when no PostgreSQL is configured outside CI.
    async fn postgres(test: &str) -> Option<Env> {
        let admin = match std::env::var("STRONGROOM_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!(
                        "STRONGROOM_TEST_POSTGRES_URL is not set, so the PostgreSQL storage tests \
                         cannot run; CI must `source .ci/postgres.sh` before `cargo test`"
                    );
                }
                eprintln!(
                    "notice: STRONGROOM_TEST_POSTGRES_URL is unset; skipping PostgreSQL test \
                     {test} (run `source .ci/postgres.sh` to enable)"
                );
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut short: String = test.chars().take(32).collect();
        short.make_ascii_lowercase();
        let schema = format!("t_{short}_{}_{nanos}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to STRONGROOM_TEST_POSTGRES_URL");
        sqlx::raw_sql(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut conn)
            .await
            .expect("create test schema");
        let _ = conn.close().await;
        let sep = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{sep}options[search_path]={schema}");
        let store = store::open(&url, chain(), StoreOptions::default())
            .await
            .expect("open postgres store");
        Some(Env {
            kind: Kind::Postgres,
            url,
            store,
            pg: Some((admin, schema)),
            _dir: None,
        })
    }

    /// Closes the store and opens the same database again.
    async fn reopen(&mut self) {
        self.store.close().await;
        self.store = store::open(&self.url, chain(), StoreOptions::default())
            .await
            .expect("reopen store");
    }

    /// Runs raw SQL against the test database, bypassing the store (to
    /// corrupt rows). `sql` is written for this backend by the caller.
    async fn raw(&self, sql: &str) {
        match self.kind {
            Kind::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("raw sqlite connection");
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("raw sql");
                let _ = conn.close().await;
            }
            Kind::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("raw postgres connection");
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("raw sql");
                let _ = conn.close().await;
            }
        }
    }

    /// A blob literal for this backend.
    fn blob(&self, bytes: &[u8]) -> String {
        match self.kind {
            Kind::Sqlite => format!("X'{}'", hex::encode(bytes)),
            Kind::Postgres => format!("'\\x{}'::bytea", hex::encode(bytes)),
        }
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((admin, schema)) = &self.pg {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                let _ = sqlx::raw_sql(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Fixtures

fn org() -> OrganizationRecord {
    OrganizationRecord {
        id: OrganizationId::generate(),
        name: "acme".into(),
        created_at: 1_700_000_000,
    }
}

fn project(org: &OrganizationRecord, name: &str) -> ProjectRecord {
    ProjectRecord {
        id: ProjectId::generate(),
        organization: org.id,
        name: name.into(),
        created_at: 1_700_000_001,
    }
}

fn object(project: ProjectId, n: i64) -> ObjectRecord {
    ObjectRecord {
        id: ObjectId::generate(),
        project,
        revision: 1,
        object_type: 2,
        name: Some(format!("key-{n}")),
        algorithm: Some(3),
        state: 1,
        initial_date: 1_000 + n,
        activation_date: None,
        deactivation_date: None,
        destroy_date: None,
        last_change_date: 1_000 + n,
        attributes: format!("{{\"n\":{n}}}").into_bytes(),
        material: Some(vec![0xAB; 48]),
        kek_version: 1,
        mac: vec![n as u8; 32],
    }
}

fn event(action: &str, object: Option<ObjectId>) -> AuditEvent {
    let mut e = AuditEvent::now("tester", action).source(Some("127.0.0.1".into()));
    if let Some(o) = object {
        e = e.object(o);
    }
    e
}

/// An organization and a project, committed.
async fn setup(store: &Arc<dyn Store>) -> (OrganizationRecord, ProjectRecord) {
    let o = org();
    let p = project(&o, "main");
    store
        .commit(
            Transaction::new()
                .write(Write::InsertOrganization(o.clone()))
                .write(Write::InsertProject(p.clone()))
                .audit(event("project.create", None).project(p.id)),
        )
        .await
        .expect("setup commit");
    (o, p)
}

fn create(p: ProjectId, n: i64) -> (ObjectRecord, Transaction) {
    let o = object(p, n);
    let tx = Transaction::new()
        .write(Write::InsertObject(o.clone()))
        .audit(event("object.create", Some(o.id)).project(p));
    (o, tx)
}

async fn all_audit(store: &Arc<dyn Store>) -> Vec<AuditRecord> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.audit_records(after, 1000).await.expect("audit page");
        let Some(last) = page.last() else { break };
        after = last.seq;
        out.extend(page);
    }
    out
}

/// Verifies the whole chain against the head; returns the record count.
async fn verify(store: &Arc<dyn Store>) -> i64 {
    let records = all_audit(store).await;
    let head = store.audit_head().await.expect("audit head");
    audit::verify_chain(&chain(), &records, head.as_ref()).expect("audit chain verifies")
}

// ---------------------------------------------------------------------------
// The shared suite

async fn organizations_projects_and_keys(env: &mut Env) {
    let s = &env.store;
    s.ping().await.expect("ping");
    assert!(s.backend() == "sqlite" || s.backend() == "postgres");
    let (o, p) = setup(s).await;
    assert_eq!(s.organization(o.id).await.unwrap(), Some(o.clone()));
    assert_eq!(
        s.organization(OrganizationId::generate()).await.unwrap(),
        None
    );
    assert_eq!(s.project(p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(s.project(ProjectId::generate()).await.unwrap(), None);

    let p2 = project(&o, "second");
    let k1 = ProjectKeyRecord {
        project: p.id,
        version: 1,
        root_term: 1,
        wrapped: vec![1; 60],
        created_at: 5,
    };
    let k2 = ProjectKeyRecord {
        version: 2,
        wrapped: vec![2; 60],
        ..k1.clone()
    };
    let k3 = ProjectKeyRecord {
        project: p2.id,
        version: 1,
        root_term: 2,
        wrapped: vec![3; 60],
        created_at: 6,
    };
    s.commit(
        Transaction::new()
            .write(Write::InsertProject(p2.clone()))
            .write(Write::InsertProjectKey(k2.clone()))
            .write(Write::InsertProjectKey(k1.clone()))
            .write(Write::InsertProjectKey(k3.clone())),
    )
    .await
    .unwrap();
    let mut projects = s.projects().await.unwrap();
    projects.sort_by_key(|p| p.name.clone());
    assert_eq!(projects, vec![p.clone(), p2.clone()]);
    assert_eq!(
        s.project_keys(p.id).await.unwrap(),
        vec![k1.clone(), k2.clone()]
    );
    assert_eq!(s.project_keys_under_root_term(1).await.unwrap().len(), 2);
    assert_eq!(
        s.project_keys_under_root_term(2).await.unwrap(),
        vec![k3.clone()]
    );

    // Root rotation re-wraps a version under a new term.
    let k1b = ProjectKeyRecord {
        root_term: 2,
        wrapped: vec![9; 61],
        ..k1.clone()
    };
    s.commit(Transaction::new().write(Write::RewrapProjectKey(k1b.clone())))
        .await
        .unwrap();
    assert_eq!(
        s.project_keys(p.id).await.unwrap(),
        vec![k1b.clone(), k2.clone()]
    );
    assert_eq!(s.project_keys_under_root_term(2).await.unwrap().len(), 2);
    let missing = ProjectKeyRecord {
        version: 7,
        ..k1.clone()
    };
    assert!(matches!(
        s.commit(Transaction::new().write(Write::RewrapProjectKey(missing)))
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Duplicates and dangling references.
    assert!(matches!(
        s.commit(Transaction::new().write(Write::InsertOrganization(o.clone())))
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        s.commit(Transaction::new().write(Write::InsertProjectKey(k1.clone())))
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    let orphan = project(&org(), "orphan");
    match s
        .commit(Transaction::new().write(Write::InsertProject(orphan)))
        .await
    {
        Err(StoreError::NotFound(what)) => assert!(what.contains("organization"), "{what}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

async fn objects_insert_get_update(env: &mut Env) {
    let s = &env.store;
    let (o, p) = setup(s).await;
    let (obj, tx) = create(p.id, 1);
    s.commit(tx).await.unwrap();
    assert_eq!(s.object(p.id, obj.id).await.unwrap(), Some(obj.clone()));
    assert_eq!(s.object(p.id, ObjectId::generate()).await.unwrap(), None);

    // Another project's object is invisible.
    let other = project(&o, "other");
    s.commit(Transaction::new().write(Write::InsertProject(other.clone())))
        .await
        .unwrap();
    assert_eq!(s.object(other.id, obj.id).await.unwrap(), None);

    // A conditional update.
    let mut v2 = obj.clone();
    v2.revision = 2;
    v2.state = 2;
    v2.activation_date = Some(5_000);
    v2.name = None;
    v2.algorithm = None;
    v2.material = None;
    v2.destroy_date = Some(6_000);
    v2.mac = vec![7; 32];
    s.commit(
        Transaction::new()
            .write(Write::UpdateObject(v2.clone()))
            .audit(event("object.activate", Some(obj.id))),
    )
    .await
    .unwrap();
    assert_eq!(s.object(p.id, obj.id).await.unwrap(), Some(v2.clone()));

    // A stale writer (also expects revision 1 → 2) conflicts.
    let mut stale = obj.clone();
    stale.revision = 2;
    stale.state = 3;
    match s
        .commit(Transaction::new().write(Write::UpdateObject(stale.clone())))
        .await
    {
        Err(StoreError::Conflict(id)) => assert_eq!(id, obj.id),
        other => panic!("expected Conflict, got {other:?}"),
    }
    // The same with an audit event (one fused statement on both backends).
    match s
        .commit(
            Transaction::new()
                .write(Write::UpdateObject(stale))
                .audit(event("object.revoke", Some(obj.id))),
        )
        .await
    {
        Err(StoreError::Conflict(id)) => assert_eq!(id, obj.id),
        other => panic!("expected Conflict, got {other:?}"),
    }
    // Skipping a revision conflicts too.
    let mut skip = v2.clone();
    skip.revision = 4;
    assert!(matches!(
        s.commit(Transaction::new().write(Write::UpdateObject(skip)))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Updating through the wrong project conflicts (the row is not there).
    let mut wrong = v2.clone();
    wrong.revision = 3;
    wrong.project = other.id;
    assert!(matches!(
        s.commit(Transaction::new().write(Write::UpdateObject(wrong)))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Updating an object that does not exist conflicts.
    let mut ghost = object(p.id, 99);
    ghost.revision = 2;
    assert!(matches!(
        s.commit(Transaction::new().write(Write::UpdateObject(ghost)))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.object(p.id, obj.id).await.unwrap(), Some(v2.clone()));

    // Duplicate insert.
    match s
        .commit(Transaction::new().write(Write::InsertObject(obj.clone())))
        .await
    {
        Err(StoreError::AlreadyExists(what)) => assert!(what.contains(&obj.id.to_string())),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    match s
        .commit(
            Transaction::new()
                .write(Write::InsertObject(obj.clone()))
                .audit(event("object.create", Some(obj.id))),
        )
        .await
    {
        Err(StoreError::AlreadyExists(what)) => assert!(what.contains(&obj.id.to_string())),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    // An object in a project that does not exist.
    let (_, tx) = create(ProjectId::generate(), 2);
    assert!(matches!(s.commit(tx).await, Err(StoreError::NotFound(_))));

    // Failed commits left no audit records: setup, create, activate, other
    // project (no event).
    assert_eq!(verify(s).await, 3);
}

async fn find_and_count(env: &mut Env) {
    let s = &env.store;
    let (o, p) = setup(s).await;
    let q = project(&o, "q");
    s.commit(Transaction::new().write(Write::InsertProject(q.clone())))
        .await
        .unwrap();
    let mut mine = Vec::new();
    let mut tx = Transaction::new();
    for n in 0..30 {
        let mut r = object(p.id, n);
        r.object_type = if n % 3 == 0 { 7 } else { 2 };
        r.algorithm = if n % 5 == 0 {
            None
        } else {
            Some(3 + (n % 2) as u32)
        };
        r.state = if n < 10 { 1 } else { 2 };
        r.activation_date = (n % 4 == 0).then_some(500 + n);
        r.deactivation_date = (n % 6 == 0).then_some(700 + n);
        r.name = Some(if n == 17 {
            "special".into()
        } else {
            format!("k{n}")
        });
        // Same initial date for a pair, to exercise the id tie-break.
        r.initial_date = 1_000 + (n / 2);
        tx = tx.write(Write::InsertObject(r.clone()));
        mine.push(r);
    }
    for n in 0..5 {
        let mut r = object(q.id, 100 + n);
        r.name = Some("special".into());
        tx = tx.write(Write::InsertObject(r));
    }
    s.commit(tx).await.unwrap();
    mine.sort_by_key(|r| (r.initial_date, *r.id.as_bytes()));

    let in_p = ObjectQuery {
        project: Some(p.id),
        ..Default::default()
    };
    let found = s.find_objects(&in_p).await.unwrap();
    assert_eq!(found, mine, "ordered by initial_date, id");
    assert_eq!(s.count_objects(&in_p).await.unwrap(), 30);
    assert_eq!(s.count_objects(&ObjectQuery::default()).await.unwrap(), 35);
    assert_eq!(
        s.find_objects(&ObjectQuery::default()).await.unwrap().len(),
        35
    );

    // Offset and limit page through the same order.
    let page = s
        .find_objects(&ObjectQuery {
            offset: 5,
            limit: 10,
            ..in_p.clone()
        })
        .await
        .unwrap();
    assert_eq!(page, mine[5..15].to_vec());
    let tail = s
        .find_objects(&ObjectQuery {
            offset: 25,
            limit: 10,
            ..in_p.clone()
        })
        .await
        .unwrap();
    assert_eq!(tail, mine[25..].to_vec());
    let past = s
        .find_objects(&ObjectQuery {
            offset: u64::MAX,
            ..in_p.clone()
        })
        .await
        .unwrap();
    assert!(past.is_empty());

    let check = |q: ObjectQuery, pred: &dyn Fn(&ObjectRecord) -> bool| {
        let want: Vec<ObjectRecord> = mine.iter().filter(|r| pred(r)).cloned().collect();
        let q = ObjectQuery {
            project: Some(p.id),
            ..q
        };
        async move {
            assert!(
                !want.is_empty(),
                "a filter that matches nothing tests little"
            );
            assert_eq!(s.find_objects(&q).await.unwrap(), want, "{q:?}");
            assert_eq!(
                s.count_objects(&q).await.unwrap(),
                want.len() as u64,
                "{q:?}"
            );
        }
    };
    check(
        ObjectQuery {
            object_type: Some(7),
            ..Default::default()
        },
        &|r| r.object_type == 7,
    )
    .await;
    check(
        ObjectQuery {
            algorithm: Some(4),
            ..Default::default()
        },
        &|r| r.algorithm == Some(4),
    )
    .await;
    check(
        ObjectQuery {
            state: Some(2),
            ..Default::default()
        },
        &|r| r.state == 2,
    )
    .await;
    check(
        ObjectQuery {
            name: Some("special".into()),
            ..Default::default()
        },
        &|r| r.name.as_deref() == Some("special"),
    )
    .await;
    check(
        ObjectQuery {
            initial_date_range: Some((1_003, 1_006)),
            ..Default::default()
        },
        &|r| (1_003..=1_006).contains(&r.initial_date),
    )
    .await;
    check(
        ObjectQuery {
            activation_due_by: Some(512),
            ..Default::default()
        },
        &|r| r.activation_date.is_some_and(|d| d <= 512),
    )
    .await;
    check(
        ObjectQuery {
            deactivation_due_by: Some(712),
            ..Default::default()
        },
        &|r| r.deactivation_date.is_some_and(|d| d <= 712),
    )
    .await;
    check(
        ObjectQuery {
            object_type: Some(2),
            state: Some(2),
            algorithm: Some(3),
            ..Default::default()
        },
        &|r| r.object_type == 2 && r.state == 2 && r.algorithm == Some(3),
    )
    .await;

    // The name filter is across projects without a project filter.
    let everywhere = ObjectQuery {
        name: Some("special".into()),
        ..Default::default()
    };
    assert_eq!(s.count_objects(&everywhere).await.unwrap(), 6);
    // A value that looks like SQL is just a value.
    let sneaky = ObjectQuery {
        name: Some("x' OR '1'='1".into()),
        ..Default::default()
    };
    assert_eq!(s.count_objects(&sneaky).await.unwrap(), 0);
}

async fn limit_is_capped(env: &mut Env) {
    let s = &env.store;
    let (_, p) = setup(s).await;
    // 10,050 objects in batches of 1,000 rows per transaction.
    let mut n = 0;
    while n < 10_050 {
        let mut tx = Transaction::new();
        for _ in 0..1_000.min(10_050 - n) {
            tx = tx.write(Write::InsertObject(object(p.id, n)));
            n += 1;
        }
        s.commit(tx).await.unwrap();
    }
    let all = ObjectQuery::default();
    assert_eq!(s.count_objects(&all).await.unwrap(), 10_050);
    assert_eq!(
        s.find_objects(&all).await.unwrap().len() as u64,
        store::MAX_LIMIT,
        "limit 0 means the cap"
    );
    let huge = ObjectQuery {
        limit: 1_000_000,
        ..Default::default()
    };
    assert_eq!(
        s.find_objects(&huge).await.unwrap().len() as u64,
        store::MAX_LIMIT
    );
    let rest = ObjectQuery {
        offset: 10_000,
        ..Default::default()
    };
    assert_eq!(s.find_objects(&rest).await.unwrap().len(), 50);
}

async fn audit_chain_and_head(env: &mut Env) {
    let s = &env.store;
    assert_eq!(
        s.audit_head().await.unwrap(),
        None,
        "a new store has no head"
    );
    assert!(s.audit_records(0, 0).await.unwrap().is_empty());
    assert_eq!(verify(s).await, 0);

    let (_, p) = setup(s).await;
    let (a, tx) = create(p.id, 1);
    s.commit(tx.audit(event("object.activate", Some(a.id))))
        .await
        .unwrap();
    // An audit-only transaction (a key use).
    s.commit(Transaction::new().audit(event("key.encrypt", Some(a.id)).result("success")))
        .await
        .unwrap();
    // An empty transaction changes nothing.
    s.commit(Transaction::new()).await.unwrap();

    let records = s.audit_records(0, 0).await.unwrap();
    let actions: Vec<&str> = records.iter().map(|r| r.event.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "project.create",
            "object.create",
            "object.activate",
            "key.encrypt"
        ]
    );
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        records[1].event.object.as_deref(),
        Some(a.id.to_string().as_str())
    );
    assert_eq!(records[1].event.source.as_deref(), Some("127.0.0.1"));
    assert_eq!(records[0].prev_hash, audit::GENESIS);
    let head = s.audit_head().await.unwrap().expect("head");
    assert_eq!(head.seq, 4);
    assert_eq!(head.hash, records[3].hash);
    assert!(chain().head_is_authentic(&head));
    assert_eq!(verify(s).await, 4);

    // Paging.
    let page = s.audit_records(1, 2).await.unwrap();
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 3]);
    assert!(s.audit_records(4, 10).await.unwrap().is_empty());

    // The chain does not verify under another key.
    let other = AuditChain::new(b"another key, another chain......");
    assert!(audit::verify_chain(&other, &records, Some(&head)).is_err());
}

/// Many audit records in one transaction (the key-use audit queue's shape)
/// take the bulk path: chunked multi-row inserts on SQLite, arrays on
/// PostgreSQL. Sizes straddle the chunk boundary; the chain stays intact.
/// A record's previous hash is read from the record before it, not
/// stored with it (SQLite migration 0005, PostgreSQL 0004); a deleted
/// record still breaks the link at the record after it.
async fn previous_hash_is_derived_not_stored(env: &mut Env) {
    let s = &env.store;
    let mut bulk = Transaction::new();
    for i in 0..4 {
        bulk = bulk.audit(event(&format!("key.use.{i}"), None));
    }
    s.commit(bulk).await.unwrap();
    s.commit(Transaction::new().audit(event("key.encrypt", None)))
        .await
        .unwrap();
    let records = all_audit(s).await;
    assert_eq!(records.len(), 5);
    assert_eq!(records[0].prev_hash, audit::GENESIS);
    for pair in records.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert_eq!(verify(s).await, 5);

    let stored = match env.kind {
        Kind::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&env.url).await.unwrap();
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pragma_table_info('audit_entries') WHERE name = 'prev_hash'",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            let _ = conn.close().await;
            n
        }
        Kind::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&env.url).await.unwrap();
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = \
                 'audit_entries' AND column_name = 'prev_hash' AND table_schema = current_schema()",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            let _ = conn.close().await;
            n
        }
    };
    assert_eq!(stored, 0, "the previous hash is not stored");

    env.raw("DELETE FROM audit_log WHERE seq = 3").await;
    let records = all_audit(&env.store).await;
    let head = env.store.audit_head().await.unwrap();
    assert!(matches!(
        audit::verify_chain(&chain(), &records, head.as_ref()),
        Err(audit::AuditError::BrokenLink { seq: 4, .. })
    ));
}

async fn bulk_audit_records(env: &mut Env) {
    let s = &env.store;
    let (_, p) = setup(s).await;
    let (a, tx) = create(p.id, 1);
    s.commit(tx).await.unwrap();
    let mut expected = 2;
    for n in [2usize, 127, 128, 129, 300] {
        let mut tx = Transaction::new();
        for i in 0..n {
            let source = if i % 2 == 0 {
                None
            } else {
                Some(format!("10.0.0.{}", i % 250))
            };
            tx = tx.audit(
                event("key.encrypt", Some(a.id))
                    .result(format!("r{i}"))
                    .source(source),
            );
        }
        s.commit(tx).await.unwrap();
        expected += n as i64;
        assert_eq!(s.audit_head().await.unwrap().expect("head").seq, expected);
    }
    assert_eq!(verify(s).await, expected);
    let records = all_audit(s).await;
    let last = records.last().expect("records");
    assert_eq!(last.event.result, "r299");
    assert_eq!(last.event.source.as_deref(), Some("10.0.0.49"));
    assert_eq!(records[records.len() - 2].event.source, None);
}

/// A transaction whose second write conflicts leaves nothing behind — not
/// its first write, not its audit events — while good transactions
/// committed alongside it (in the same batch, when they queue together) land.
async fn failed_transaction_is_atomic(env: &mut Env) {
    let s = &env.store;
    let (_, p) = setup(s).await;
    let (existing, tx) = create(p.id, 0);
    s.commit(tx).await.unwrap();

    // Alone (a batch of one, no savepoint).
    let fresh = object(p.id, 1);
    let mut bad_update = existing.clone();
    bad_update.revision = 5;
    let bad = Transaction::new()
        .write(Write::InsertObject(fresh.clone()))
        .write(Write::UpdateObject(bad_update.clone()))
        .audit(event("bad.create", Some(fresh.id)));
    assert!(matches!(s.commit(bad).await, Err(StoreError::Conflict(id)) if id == existing.id));
    assert_eq!(s.object(p.id, fresh.id).await.unwrap(), None);

    // Concurrently with good ones, many times over so batches mix them.
    let mut tasks = Vec::new();
    let mut good_ids = Vec::new();
    let mut bad_ids = Vec::new();
    for i in 0..48 {
        let s = s.clone();
        if i % 3 == 0 {
            let fresh = object(p.id, 1_000 + i);
            bad_ids.push(fresh.id);
            let tx = Transaction::new()
                .write(Write::InsertObject(fresh.clone()))
                .write(Write::UpdateObject(bad_update.clone()))
                .audit(event("bad.create", Some(fresh.id)))
                .audit(event("bad.update", Some(existing.id)));
            tasks.push(tokio::spawn(async move {
                matches!(s.commit(tx).await, Err(StoreError::Conflict(_)))
            }));
        } else {
            let (o, tx) = create(p.id, 1_000 + i);
            good_ids.push(o.id);
            tasks.push(tokio::spawn(async move { s.commit(tx).await.is_ok() }));
        }
    }
    for t in tasks {
        assert!(
            t.await.unwrap(),
            "every good commit succeeds, every bad one conflicts"
        );
    }
    for id in &good_ids {
        assert!(s.object(p.id, *id).await.unwrap().is_some());
    }
    for id in &bad_ids {
        assert_eq!(s.object(p.id, *id).await.unwrap(), None);
    }
    assert_eq!(
        s.object(p.id, existing.id).await.unwrap(),
        Some(existing.clone())
    );
    let records = all_audit(s).await;
    assert!(records.iter().all(|r| !r.event.action.starts_with("bad.")));
    assert_eq!(records.len(), 2 + good_ids.len());
    assert_eq!(verify(s).await, records.len() as i64);
}

async fn concurrent_committers(env: &mut Env) {
    let s = &env.store;
    let (_, p) = setup(s).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let s = s.clone();
        let pid = p.id;
        tasks.push(tokio::spawn(async move {
            // Each committer does a create and then an update of its object.
            let (mut o, tx) = create(pid, i);
            s.commit(tx).await?;
            o.revision = 2;
            o.state = 2;
            s.commit(
                Transaction::new()
                    .write(Write::UpdateObject(o.clone()))
                    .audit(event("object.activate", Some(o.id))),
            )
            .await?;
            Ok::<_, StoreError>(o)
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        created.push(t.await.unwrap().expect("every concurrent commit succeeds"));
    }
    for o in &created {
        assert_eq!(s.object(p.id, o.id).await.unwrap().as_ref(), Some(o));
    }
    let records = all_audit(s).await;
    assert_eq!(records.len(), 1 + 64 * 2);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.seq, i as i64 + 1, "gap-free");
    }
    assert_eq!(verify(s).await, 129);
}

async fn reopen_after_close(env: &mut Env) {
    let (o, p) = setup(&env.store).await;
    let (a, tx) = create(p.id, 1);
    env.store.commit(tx).await.unwrap();
    env.store.close().await;
    let (_, late) = create(p.id, 2);
    assert!(matches!(
        env.store.commit(late).await,
        Err(StoreError::Closed)
    ));
    env.store.close().await; // idempotent

    env.reopen().await;
    let s = &env.store;
    assert_eq!(s.organization(o.id).await.unwrap(), Some(o.clone()));
    assert_eq!(s.object(p.id, a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(verify(s).await, 2);
    // The chain continues where it stopped.
    let (_, tx) = create(p.id, 3);
    s.commit(tx).await.unwrap();
    assert_eq!(verify(s).await, 3);
    assert_eq!(s.audit_head().await.unwrap().unwrap().seq, 3);
}

/// Commits queued when `close` is called are still committed.
async fn close_flushes_pending(env: &mut Env) {
    let s = env.store.clone();
    let (_, p) = setup(&s).await;
    let mut tasks = Vec::new();
    for i in 0..32 {
        let s = s.clone();
        let (o, tx) = create(p.id, i);
        tasks.push(tokio::spawn(async move { (o, s.commit(tx).await) }));
    }
    tokio::task::yield_now().await;
    s.close().await;
    let mut committed = Vec::new();
    for t in tasks {
        let (o, r) = t.await.unwrap();
        match r {
            Ok(()) => committed.push(o),
            Err(StoreError::Closed) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    env.reopen().await;
    let s = &env.store;
    for o in &committed {
        assert_eq!(s.object(p.id, o.id).await.unwrap().as_ref(), Some(o));
    }
    let count = s
        .count_objects(&ObjectQuery {
            project: Some(p.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(count, committed.len() as u64, "acknowledged == stored");
    assert_eq!(verify(s).await, 1 + committed.len() as i64);
}

async fn corrupt_rows_are_reported(env: &mut Env) {
    let (_, p) = setup(&env.store).await;
    let (good, tx) = create(p.id, 1);
    env.store.commit(tx).await.unwrap();

    let insert = |id: &[u8], object_type: &str, state: &str, mac: &str| {
        format!(
            "INSERT INTO objects (id, project, revision, object_type, name, algorithm, state, \
             initial_date, activation_date, deactivation_date, destroy_date, last_change_date, \
             attributes, material, kek_version, mac) VALUES ({}, {}, 1, {object_type}, NULL, \
             NULL, {state}, 5, NULL, NULL, NULL, 5, {}, NULL, 1, {mac})",
            env.blob(id),
            env.blob(p.id.as_bytes()),
            env.blob(b"{}"),
        )
    };
    // A 15-byte id.
    env.raw(&insert(&[7u8; 15], "2", "1", &env.blob(&[0; 32])))
        .await;
    let in_p = ObjectQuery {
        project: Some(p.id),
        ..Default::default()
    };
    match env.store.find_objects(&in_p).await {
        Err(StoreError::Corrupt(what)) => {
            assert!(what.starts_with("objects row "), "{what}");
            assert!(what.contains("16 bytes"), "{what}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // The good row is still readable on its own.
    assert_eq!(
        env.store.object(p.id, good.id).await.unwrap(),
        Some(good.clone())
    );

    // A negative enum number.
    let neg = ObjectId::generate();
    env.raw(&insert(neg.as_bytes(), "-1", "1", &env.blob(&[0; 32])))
        .await;
    match env.store.object(p.id, neg).await {
        Err(StoreError::Corrupt(what)) => {
            assert!(what.contains(&neg.to_string()), "{what}");
            assert!(what.contains("object_type"), "{what}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // An oversized one.
    let big = ObjectId::generate();
    env.raw(&insert(
        big.as_bytes(),
        "2",
        "8589934592",
        &env.blob(&[0; 32]),
    ))
    .await;
    assert!(matches!(
        env.store.object(p.id, big).await,
        Err(StoreError::Corrupt(w)) if w.contains("state")
    ));
    // A number where bytes belong (SQLite stores whatever it is given).
    if env.kind == Kind::Sqlite {
        let wrong = ObjectId::generate();
        env.raw(&insert(wrong.as_bytes(), "2", "1", "42")).await;
        assert!(matches!(
            env.store.object(p.id, wrong).await,
            Err(StoreError::Corrupt(w)) if w.contains("mac")
        ));
        // Bytes where a number belongs.
        let wrong2 = ObjectId::generate();
        env.raw(&insert(
            wrong2.as_bytes(),
            "X'01'",
            "1",
            &env.blob(&[0; 32]),
        ))
        .await;
        assert!(matches!(
            env.store.object(p.id, wrong2).await,
            Err(StoreError::Corrupt(w)) if w.contains("object_type")
        ));
    }
    assert!(matches!(
        env.store.count_objects(&in_p).await,
        Ok(n) if n >= 4
    ));

    // A corrupt audit record.
    env.raw("UPDATE audit_log SET hash = prev_hash WHERE seq = 1")
        .await;
    let records = all_audit(&env.store).await;
    let head = env.store.audit_head().await.unwrap();
    assert!(audit::verify_chain(&chain(), &records, head.as_ref()).is_err());
    env.raw(&format!(
        "UPDATE audit_log SET hash = {} WHERE seq = 1",
        env.blob(&[1; 31])
    ))
    .await;
    match env.store.audit_records(0, 0).await {
        Err(StoreError::Corrupt(what)) => assert!(what.starts_with("audit_log row 1"), "{what}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// A head that this chain's key did not seal is never extended.
async fn forged_head_is_not_extended(env: &mut Env) {
    let (_, p) = setup(&env.store).await;
    let (_, tx) = create(p.id, 1);
    env.store.commit(tx).await.unwrap();
    env.raw(&format!(
        "UPDATE audit_head SET mac = {} WHERE id = 1",
        env.blob(&[0; 32])
    ))
    .await;
    let (o, tx) = create(p.id, 2);
    match env.store.commit(tx).await {
        Err(StoreError::Corrupt(what)) => assert!(what.contains("not authentic"), "{what}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(env.store.object(p.id, o.id).await.unwrap(), None);
}

/// Two stores on one database (two processes on one SQLite file, two nodes
/// on one PostgreSQL database) keep one gap-free, verifiable chain.
async fn two_writers_share_one_chain(env: &mut Env) {
    let (_, p) = setup(&env.store).await;
    let other = store::open(&env.url, chain(), StoreOptions::default())
        .await
        .expect("second store");
    let stores = [env.store.clone(), other.clone()];
    // Alternating, so each writer's notion of the head goes stale.
    let mut ids = Vec::new();
    for i in 0..10 {
        let (o, tx) = create(p.id, i);
        stores[i as usize % 2].commit(tx).await.unwrap();
        ids.push(o);
    }
    // Updates too.
    for (i, o) in ids.iter().enumerate() {
        let mut v2 = o.clone();
        v2.revision = 2;
        stores[(i + 1) % 2]
            .commit(
                Transaction::new()
                    .write(Write::UpdateObject(v2))
                    .audit(event("object.activate", Some(o.id))),
            )
            .await
            .unwrap();
    }
    // And concurrently.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = stores[i % 2].clone();
        let pid = p.id;
        tasks.push(tokio::spawn(async move {
            let (_, tx) = create(pid, 100 + i as i64);
            s.commit(tx).await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("concurrent commit on two stores");
    }
    assert_eq!(verify(&env.store).await, 1 + 10 + 10 + 40);
    assert_eq!(verify(&other).await, 61);
    other.close().await;
}

/// A store opened read-only reads and refuses commits.
async fn read_only_store(env: &mut Env) {
    let (o, p) = setup(&env.store).await;
    let ro = store::open(
        &env.url,
        chain(),
        StoreOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .await
    .expect("open read-only");
    assert_eq!(ro.organization(o.id).await.unwrap(), Some(o.clone()));
    let (_, tx) = create(p.id, 1);
    assert!(matches!(ro.commit(tx).await, Err(StoreError::ReadOnly(_))));
    ro.close().await;
}

fn record_row(project: ProjectId, kind: &str, key: &str, revision: i64, value: &str) -> RecordRow {
    RecordRow {
        project,
        kind: kind.into(),
        key: key.into(),
        revision,
        value: value.as_bytes().to_vec(),
        kek_version: 1,
        mac: vec![revision as u8; 32],
    }
}

fn put(row: RecordRow) -> Transaction {
    Transaction::new()
        .write(Write::PutRecord(row))
        .audit(event("record.put", None))
}

async fn records_put_get_delete(env: &mut Env) {
    let s = &env.store;
    let (o, p) = setup(s).await;
    let other = project(&o, "other");
    s.commit(
        Transaction::new()
            .write(Write::InsertProject(other.clone()))
            .audit(event("project.create", None)),
    )
    .await
    .unwrap();

    let a1 = record_row(p.id, "kmip-client", "alice", 1, "{\"v\":1}");
    s.commit(put(a1.clone())).await.unwrap();
    s.commit(put(record_row(p.id, "kmip-client", "bob", 1, "{}")))
        .await
        .unwrap();
    s.commit(put(record_row(p.id, "other-kind", "alice", 1, "[]")))
        .await
        .unwrap();
    assert_eq!(
        s.record(p.id, "kmip-client", "alice").await.unwrap(),
        Some(a1.clone())
    );
    // Scoped by project and kind.
    assert_eq!(
        s.record(other.id, "kmip-client", "alice").await.unwrap(),
        None
    );
    let keys: Vec<String> = s
        .records(p.id, "kmip-client", "", 0)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(keys, ["alice", "bob"]);
    assert!(
        s.records(other.id, "kmip-client", "", 0)
            .await
            .unwrap()
            .is_empty()
    );
    // Pages: after a key, with a limit.
    let page = s.records(p.id, "kmip-client", "alice", 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].key, "bob");
    assert!(
        s.records(p.id, "kmip-client", "bob", 0)
            .await
            .unwrap()
            .is_empty()
    );

    // A second create is refused; an update must name the stored revision.
    assert!(matches!(
        s.commit(put(a1.clone())).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let a2 = record_row(p.id, "kmip-client", "alice", 2, "{\"v\":2}");
    s.commit(put(a2.clone())).await.unwrap();
    assert!(matches!(
        s.commit(put(a2.clone())).await,
        Err(StoreError::RecordConflict(_))
    ));
    assert!(matches!(
        s.commit(put(record_row(p.id, "kmip-client", "carol", 2, "{}")))
            .await,
        Err(StoreError::RecordConflict(_))
    ));
    assert_eq!(
        s.record(p.id, "kmip-client", "alice").await.unwrap(),
        Some(a2)
    );

    // A record needs its project.
    assert!(matches!(
        s.commit(put(record_row(ProjectId::generate(), "k", "x", 1, "{}")))
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Deletes name the revision too; a failed one changes nothing.
    let delete = |revision| {
        Transaction::new()
            .write(Write::DeleteRecord(RecordKey {
                project: p.id,
                kind: "kmip-client".into(),
                key: "alice".into(),
                revision,
            }))
            .audit(event("record.delete", None))
    };
    assert!(matches!(
        s.commit(delete(1)).await,
        Err(StoreError::RecordConflict(_))
    ));
    assert!(
        s.record(p.id, "kmip-client", "alice")
            .await
            .unwrap()
            .is_some()
    );
    s.commit(delete(2)).await.unwrap();
    assert_eq!(s.record(p.id, "kmip-client", "alice").await.unwrap(), None);
    assert!(matches!(
        s.commit(delete(2)).await,
        Err(StoreError::RecordConflict(_))
    ));
    verify(s).await;
}

/// Project-scoped audit queries: each filter alone and together, order,
/// offset/limit, counts, and isolation from other projects.
async fn audit_query_filters(env: &mut Env) {
    let s = &env.store;
    let (o, p) = setup(s).await;
    let q = project(&o, "other");
    s.commit(
        Transaction::new()
            .write(Write::InsertProject(q.clone()))
            .audit(event("project.create", None).project(q.id)),
    )
    .await
    .unwrap();
    let key = ObjectId::generate();
    let base = 1_800_000_000_000_000i64;
    // Ten records in `p` at base+0..9 s, alternating actors and actions; two
    // in `q` with the same key id; one with no project at all.
    for i in 0..10i64 {
        let action = match i % 3 {
            0 => "transit.encrypt",
            1 => "transit.key.create",
            _ => "record.put",
        };
        let mut e = AuditEvent::now(
            if i % 2 == 0 {
                "identity:a"
            } else {
                "identity:b"
            },
            action,
        )
        .project(p.id);
        e.time_us = base + i * 1_000_000;
        if i < 4 {
            e = e.object(key);
        }
        s.commit(Transaction::new().audit(e)).await.unwrap();
    }
    for _ in 0..2 {
        let mut e = AuditEvent::now("identity:a", "transit.encrypt")
            .project(q.id)
            .object(key);
        e.time_us = base;
        s.commit(Transaction::new().audit(e)).await.unwrap();
    }
    s.commit(Transaction::new().audit(AuditEvent::now("identity:a", "organization.create")))
        .await
        .unwrap();

    let all = AuditQuery::project(p.id);
    // The setup's project.create plus the ten.
    assert_eq!(s.count_audit(&all).await.unwrap(), 11);
    let found = s.find_audit(&all).await.unwrap();
    assert_eq!(found.len(), 11);
    assert!(
        found.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );
    assert!(
        found
            .iter()
            .all(|r| r.event.project.as_deref() == Some(&*p.id.to_string()))
    );
    let oldest = s
        .find_audit(&AuditQuery {
            newest_first: false,
            ..all.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        oldest.first().map(|r| &*r.event.action),
        Some("project.create")
    );
    assert!(
        oldest.windows(2).all(|w| w[0].seq < w[1].seq),
        "oldest first"
    );

    let count = |q: AuditQuery| async move {
        let found = s.find_audit(&q).await.unwrap();
        let n = s.count_audit(&q).await.unwrap();
        assert_eq!(found.len() as u64, n, "find and count agree");
        (found, n)
    };
    let (_, n) = count(AuditQuery {
        actor: Some("identity:a".into()),
        ..all.clone()
    })
    .await;
    assert_eq!(n, 5);
    let (found, n) = count(AuditQuery {
        action: Some(ActionFilter::Exact("transit.encrypt".into())),
        ..all.clone()
    })
    .await;
    assert_eq!((found.len(), n), (4, 4));
    let (_, n) = count(AuditQuery {
        action: Some(ActionFilter::Prefix("transit.".into())),
        ..all.clone()
    })
    .await;
    assert_eq!(n, 7);
    // A prefix is literal: no wildcards, case-sensitive.
    for literal in ["transit%", "transit_", "TRANSIT.", "%"] {
        let (_, n) = count(AuditQuery {
            action: Some(ActionFilter::Prefix(literal.into())),
            ..all.clone()
        })
        .await;
        assert_eq!(n, 0, "{literal}");
    }
    let (found, n) = count(AuditQuery {
        object: Some(key.to_string()),
        ..all.clone()
    })
    .await;
    assert_eq!(
        n, 4,
        "another project's records with that object are not counted"
    );
    assert!(
        found
            .iter()
            .all(|r| r.event.object.as_deref() == Some(&*key.to_string()))
    );
    // [from, to): seconds 2, 3, 4.
    let (found, n) = count(AuditQuery {
        from_us: Some(base + 2_000_000),
        to_us: Some(base + 5_000_000),
        ..all.clone()
    })
    .await;
    assert_eq!(n, 3);
    assert!(
        found
            .iter()
            .all(|r| (base + 2_000_000..base + 5_000_000).contains(&r.event.time_us))
    );
    // Everything at once: actor a (even), transit.* (0, 1, 3, 4, 6, 7, 9),
    // the key (0–3), from second 0: record 0 only.
    let (found, n) = count(AuditQuery {
        actor: Some("identity:a".into()),
        action: Some(ActionFilter::Prefix("transit.".into())),
        object: Some(key.to_string()),
        from_us: Some(base),
        ..all.clone()
    })
    .await;
    assert_eq!(n, 1);
    assert_eq!(found[0].event.time_us, base);

    // Offset and limit page through without overlap; the count ignores them.
    let page = |offset: u64| {
        let q = AuditQuery {
            offset,
            limit: 4,
            ..all.clone()
        };
        async move { s.find_audit(&q).await.unwrap() }
    };
    let (a, b, c) = (page(0).await, page(4).await, page(8).await);
    assert_eq!((a.len(), b.len(), c.len()), (4, 4, 3));
    let seqs: Vec<i64> = a.iter().chain(&b).chain(&c).map(|r| r.seq).collect();
    assert_eq!(seqs, found_seqs(&s.find_audit(&all).await.unwrap()));
    // Keyset paging, oldest first.
    let after = oldest[5].seq;
    let rest = s
        .find_audit(&AuditQuery {
            newest_first: false,
            after_seq: Some(after),
            ..all.clone()
        })
        .await
        .unwrap();
    assert_eq!(found_seqs(&rest), found_seqs(&oldest[6..]));

    // The migration's indexes exist on `audit_entries`, behind the
    // `audit_log` view (SQLite since migration 0004, PostgreSQL since its
    // 0004), and SQLite's planner uses them, in order (no sort).
    let names = audit_indexes(env).await;
    for index in [
        "audit_entries_project_seq",
        "audit_entries_project_object_seq",
    ] {
        assert!(names.iter().any(|n| n == index), "{index} in {names:?}");
    }
    if env.kind == Kind::Sqlite {
        let mut conn = sqlx::SqliteConnection::connect(&env.url).await.unwrap();
        for (sql, index) in [
            (
                "EXPLAIN QUERY PLAN SELECT seq FROM audit_log WHERE project = 'p' \
                 ORDER BY seq DESC LIMIT 10",
                "audit_entries_project_seq",
            ),
            (
                "EXPLAIN QUERY PLAN SELECT seq FROM audit_log WHERE project = 'p' \
                 AND object = 'o' ORDER BY seq DESC LIMIT 10",
                "audit_entries_project_object_seq",
            ),
        ] {
            let rows = sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
            let details: Vec<String> = rows
                .iter()
                .map(|r| sqlx::Row::get::<String, _>(r, "detail"))
                .collect();
            assert!(
                details.iter().any(|d| d.contains(index)),
                "{sql}: {details:?}"
            );
            assert!(
                !details.iter().any(|d| d.contains("TEMP B-TREE")),
                "{sql} sorts: {details:?}"
            );
        }
        let _ = conn.close().await;
    }

    // A project with no records, and a limit of zero meaning "the cap".
    let empty = AuditQuery::project(ProjectId::generate());
    assert_eq!(s.count_audit(&empty).await.unwrap(), 0);
    assert!(s.find_audit(&empty).await.unwrap().is_empty());
    verify(s).await;
}

/// The names of the indexes on the audit records' table.
async fn audit_indexes(env: &Env) -> Vec<String> {
    match env.kind {
        Kind::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&env.url).await.unwrap();
            let names = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_entries'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let _ = conn.close().await;
            names
        }
        Kind::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&env.url).await.unwrap();
            let names = sqlx::query_scalar(
                "SELECT indexname::text FROM pg_indexes \
                 WHERE tablename = 'audit_entries' AND schemaname = current_schema()",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let _ = conn.close().await;
            names
        }
    }
}

fn found_seqs(records: &[AuditRecord]) -> Vec<i64> {
    records.iter().map(|r| r.seq).collect()
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let mut env = super::Env::sqlite().await;
                    super::$name(&mut env).await;
                    env.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(mut env) = super::Env::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&mut env).await;
                    env.finish().await;
                }
            )*
        }
    };
}

suite!(
    organizations_projects_and_keys,
    objects_insert_get_update,
    find_and_count,
    limit_is_capped,
    audit_chain_and_head,
    bulk_audit_records,
    failed_transaction_is_atomic,
    concurrent_committers,
    reopen_after_close,
    close_flushes_pending,
    corrupt_rows_are_reported,
    forged_head_is_not_extended,
    two_writers_share_one_chain,
    read_only_store,
    records_put_get_delete,
    audit_query_filters,
    previous_hash_is_derived_not_stored,
);

// ---------------------------------------------------------------------------
// Backend-specific

#[tokio::test]
async fn sqlite_missing_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("strongroom.db");
    let url = format!("sqlite:{}", path.display());
    match store::open(&url, chain(), StoreOptions::default()).await {
        Err(StoreError::Unreachable(what)) => {
            assert!(what.contains("no-such-dir"), "{what}");
            assert!(what.contains("does not exist"), "{what}");
        }
        Err(e) => panic!("expected Unreachable, got {e:?}"),
        Ok(_) => panic!("expected Unreachable, got a store"),
    }
}

#[tokio::test]
async fn sqlite_read_only_directory_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("locked");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let url = format!("sqlite:{}", ro.join("strongroom.db").display());
    let result = store::open(&url, chain(), StoreOptions::default()).await;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    match result {
        Err(StoreError::ReadOnly(what)) => assert!(what.contains("locked"), "{what}"),
        Err(e) => panic!("expected ReadOnly, got {e:?}"),
        Ok(_) => panic!("expected ReadOnly, got a store"),
    }
}

#[tokio::test]
async fn sqlite_in_memory_is_refused() {
    assert!(matches!(
        store::open("sqlite::memory:", chain(), StoreOptions::default()).await,
        Err(StoreError::Unreachable(_))
    ));
    assert!(matches!(
        store::open("mysql://x", chain(), StoreOptions::default()).await,
        Err(StoreError::Unreachable(_))
    ));
}

#[tokio::test]
async fn postgres_refused_connection_is_unreachable_quickly() {
    // Nothing listens on port 1.
    let start = Instant::now();
    let result = store::open(
        "postgres://strongroom:secret-password@127.0.0.1:1/strongroom",
        chain(),
        StoreOptions::default(),
    )
    .await;
    match result {
        Err(StoreError::Unreachable(what)) => {
            assert!(what.contains("127.0.0.1:1"), "{what}");
            assert!(!what.contains("secret-password"), "{what}");
        }
        Err(e) => panic!("expected Unreachable, got {e:?}"),
        Ok(_) => panic!("expected Unreachable, got a store"),
    }
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn postgres_silent_server_times_out() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let start = Instant::now();
    let result = store::open(
        &format!("postgres://u:p@127.0.0.1:{port}/db"),
        chain(),
        StoreOptions {
            connect_timeout: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .await;
    hold.abort();
    assert!(
        matches!(result, Err(StoreError::Unreachable(ref w)) if w.contains("no answer")),
        "{:?}",
        result.err()
    );
    assert!(start.elapsed() < Duration::from_secs(3));
}
