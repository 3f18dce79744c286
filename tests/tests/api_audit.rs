//! The audit log over HTTPS, end to end against `strongroom serve --dev`:
//! project-scoped queries and their filters, paging and errors, the
//! JSON-lines export, chain verification (super admin only), and who may
//! read a project's log (404 for non-members, as for a missing project).

mod common;

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use common::api_client::{Api, assert_error};

fn whoami(api: &Api, token: &str) -> Value {
    let a = api.get("/api/v1/auth/whoami", token);
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

/// The list for `query` (without the leading `?`), checked for shape.
fn logs(api: &Api, token: &str, project: &str, query: &str) -> (Vec<Value>, u64) {
    let a = api.get(
        &format!("/api/v1/projects/{project}/audit-logs?{query}"),
        token,
    );
    assert_eq!(a.status, 200, "{query}: {}", a.body);
    let records = a.body["auditLogs"].as_array().unwrap().clone();
    let total = a.body["totalCount"].as_u64().unwrap();
    for r in &records {
        assert_eq!(r["projectId"], project, "{r}");
        for field in ["timestamp", "actor", "action", "result", "hash", "prevHash"] {
            assert!(r[field].is_string(), "{field} in {r}");
        }
        assert!(r["seq"].is_i64(), "{r}");
    }
    (records, total)
}

fn seqs(records: &[Value]) -> Vec<i64> {
    records.iter().map(|r| r["seq"].as_i64().unwrap()).collect()
}

/// The export for `query`: (content type, parsed lines).
fn export(api: &Api, token: &str, project: &str, query: &str) -> (String, Vec<Value>) {
    let response = api
        .client
        .get(format!(
            "{}/api/v1/projects/{project}/audit-logs/export?{query}",
            api.base
        ))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "{text}");
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (kind, lines)
}

#[test]
fn queries_filter_page_and_export() {
    let api = Api::start(&[]);
    let admin = api.admin_token();
    let me = whoami(&api, &admin);
    let admin_id = me["identityId"].as_str().unwrap().to_owned();
    let p = api.project();

    // Audited project changes: two memberships and a custom role.
    let (first, _) = api.member(&admin, &p, "first", &["viewer"]);
    let (second, _) = api.member(&admin, &p, "second", &["developer"]);
    let role = api.post(
        &format!("/api/v1/projects/{p}/roles"),
        &admin,
        json!({"slug": "auditor", "name": "Auditor",
               "permissions": [{"resource": "audit-log", "action": "read"}]}),
    );
    assert_eq!(role.status, 200, "{}", role.body);

    let (all, total) = logs(&api, &admin, &p, "");
    assert_eq!(all.len() as u64, total);
    assert!(total >= 4, "{all:?}");
    let s = seqs(&all);
    assert!(s.windows(2).all(|w| w[0] > w[1]), "newest first: {s:?}");
    let actions: BTreeSet<&str> = all.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert!(actions.contains("project.create"), "{actions:?}");
    assert!(actions.contains("record.put"), "{actions:?}");

    // One object: the first membership.
    let (found, n) = logs(&api, &admin, &p, &format!("keyId=api-membership/{first}"));
    assert_eq!(n, 1, "{found:?}");
    assert_eq!(found[0]["objectId"], format!("api-membership/{first}"));
    assert_eq!(found[0]["action"], "record.put");
    assert_eq!(found[0]["actor"], format!("identity:{admin_id}"));
    assert_eq!(found[0]["result"], "success");
    assert_eq!(found[0]["source"], "127.0.0.1");
    let (_, n) = logs(&api, &admin, &p, &format!("keyId=api-membership/{second}"));
    assert_eq!(n, 1);

    // Exact action, prefix, actor (a bare id means identity:<id>).
    let (found, puts) = logs(&api, &admin, &p, "action=record.put");
    assert!(puts >= 3);
    assert!(found.iter().all(|r| r["action"] == "record.put"));
    let (found, prefixed) = logs(&api, &admin, &p, "action=record.*");
    assert!(prefixed >= puts);
    assert!(
        found
            .iter()
            .all(|r| r["action"].as_str().unwrap().starts_with("record."))
    );
    let (_, n) = logs(&api, &admin, &p, "action=record");
    assert_eq!(n, 0, "exact means exact");
    let (found, mine) = logs(&api, &admin, &p, &format!("actor={admin_id}"));
    assert!(mine >= 3);
    assert!(
        found
            .iter()
            .all(|r| r["actor"] == format!("identity:{admin_id}"))
    );
    let (_, same) = logs(&api, &admin, &p, &format!("actor=identity:{admin_id}"));
    assert_eq!(same, mine);
    let (_, n) = logs(&api, &admin, &p, "actor=identity:nobody");
    assert_eq!(n, 0);

    // Time range: everything is in [yesterday, tomorrow), nothing later.
    let (_, n) = logs(
        &api,
        &admin,
        &p,
        "startDate=2000-01-01&endDate=2100-01-01T00:00:00Z",
    );
    assert_eq!(n, total);
    let (_, n) = logs(&api, &admin, &p, "startDate=2100-01-01");
    assert_eq!(n, 0);
    let (_, n) = logs(&api, &admin, &p, "endDate=2000-01-01T00:00:00%2B01:00");
    assert_eq!(n, 0);
    // The newest record's own timestamp: inclusive start, exclusive end.
    let newest = all[0]["timestamp"].as_str().unwrap().replace('+', "%2B");
    let (found, _) = logs(&api, &admin, &p, &format!("startDate={newest}"));
    assert!(found.iter().any(|r| r["seq"] == all[0]["seq"]));
    let (found, _) = logs(&api, &admin, &p, &format!("endDate={newest}"));
    assert!(found.iter().all(|r| r["seq"] != all[0]["seq"]));

    // Paging: disjoint pages, same total, together the whole list.
    let (a, ta) = logs(&api, &admin, &p, "limit=2");
    let (b, tb) = logs(&api, &admin, &p, "limit=2&offset=2");
    assert_eq!((a.len(), ta, tb), (2, total, total));
    let mut joined = seqs(&a);
    joined.extend(seqs(&b));
    assert_eq!(joined, s[..joined.len()].to_vec());

    // Refused parameters, with stable codes.
    let path = |q: &str| format!("/api/v1/projects/{p}/audit-logs?{q}");
    for (query, code) in [
        ("limit=0", "invalid_request"),
        ("limit=1001", "invalid_request"),
        ("limit=ten", "invalid_request"),
        ("offset=1000001", "invalid_request"),
        ("offset=-1", "invalid_request"),
        ("colour=blue", "invalid_request"),
        ("action=a*b", "invalid_request"),
        ("afterSeq=3", "invalid_request"),
        ("startDate=yesterday", "invalid_date"),
        ("endDate=2026-02-30", "invalid_date"),
        ("startDate=1700000000", "invalid_date"),
        (
            "startDate=2026-12-08&endDate=2026-12-07",
            "invalid_date_range",
        ),
    ] {
        assert_error(&api.get(&path(query), &admin), 400, code);
    }
    let long = "x".repeat(300);
    assert_error(
        &api.get(&path(&format!("actor={long}")), &admin),
        400,
        "invalid_request",
    );

    // The export: JSON lines, oldest first, the same records and filters.
    let (kind, lines) = export(&api, &admin, &p, "");
    assert_eq!(kind, "application/x-ndjson");
    assert_eq!(lines.len() as u64, total);
    let mut reversed = s.clone();
    reversed.reverse();
    assert_eq!(seqs(&lines), reversed);
    assert_eq!(lines.last().unwrap(), all.first().unwrap());
    let (_, filtered) = export(&api, &admin, &p, "action=record.put");
    assert_eq!(filtered.len() as u64, puts);
    // Resume after a record; stop after a count.
    let middle = reversed[1];
    let (_, rest) = export(&api, &admin, &p, &format!("afterSeq={middle}"));
    assert_eq!(seqs(&rest), reversed[2..].to_vec());
    let (_, two) = export(&api, &admin, &p, "limit=2");
    assert_eq!(seqs(&two), reversed[..2].to_vec());
    let (_, none) = export(&api, &admin, &p, "startDate=2100-01-01");
    assert!(none.is_empty());
    let bad = |q: &str| format!("/api/v1/projects/{p}/audit-logs/export?{q}");
    assert_error(&api.get(&bad("offset=2"), &admin), 400, "invalid_request");
    assert_error(&api.get(&bad("limit=0"), &admin), 400, "invalid_request");
    assert_error(&api.get(&bad("endDate=soon"), &admin), 400, "invalid_date");
}

#[test]
fn who_may_read_a_project_log() {
    let api = Api::start(&[]);
    let admin = api.admin_token();
    let p = api.project();
    let role = api.post(
        &format!("/api/v1/projects/{p}/roles"),
        &admin,
        json!({"slug": "auditor", "name": "Auditor",
               "permissions": [{"resource": "audit-log", "action": "read"}]}),
    );
    assert_eq!(role.status, 200, "{}", role.body);
    let (_, viewer) = api.member(&admin, &p, "viewer", &["viewer"]);
    let (_, developer) = api.member(&admin, &p, "developer", &["developer"]);
    let (_, auditor) = api.member(&admin, &p, "auditor", &["auditor"]);
    let (_, project_admin) = api.member(&admin, &p, "padmin", &["admin"]);
    // An identity of the organization with no membership of the project.
    let (_, client_id, secret) = api.identity(&admin, "outsider", json!({}), json!({}));
    let outsider = api.login(&client_id, &secret);
    assert_eq!(outsider.status, 200, "{}", outsider.body);
    let outsider = outsider.body["accessToken"].as_str().unwrap().to_owned();

    let list = format!("/api/v1/projects/{p}/audit-logs");
    let export = format!("/api/v1/projects/{p}/audit-logs/export");
    for path in [&list, &export] {
        // audit-log:read — admins and the custom role.
        for token in [&admin, &project_admin, &auditor] {
            let a = api.get(path, token);
            assert_eq!(a.status, 200, "{path}: {}", a.body);
        }
        // Members without it: 403 (they know the project exists).
        assert_error(&api.get(path, &viewer), 403, "forbidden");
        assert_error(&api.get(path, &developer), 403, "forbidden");
        // Not a member: exactly what a missing project looks like.
        let theirs = api.get(path, &outsider);
        assert_error(&theirs, 404, "not_found");
        let missing = api.get(
            &path.replace(&p, "0190f0aa-0000-7000-8000-00000000abcd"),
            &outsider,
        );
        assert_error(&missing, 404, "not_found");
        assert_eq!(theirs.body["message"], missing.body["message"]);
        // A malformed project id is not found either; no token is 401.
        assert_error(
            &api.get(&path.replace(&p, "not-a-uuid"), &admin),
            404,
            "not_found",
        );
        assert_error(
            &api.send(Method::GET, path, None, None),
            401,
            "unauthorized",
        );
    }

    // Another project's log is another project's: its members see nothing
    // of it, and its records never appear in this one.
    let second = api.post("/api/v1/projects", &admin, json!({"projectName": "second"}));
    assert_eq!(second.status, 200, "{}", second.body);
    let q = second.body["project"]["id"].as_str().unwrap().to_owned();
    assert_error(
        &api.get(&format!("/api/v1/projects/{q}/audit-logs"), &auditor),
        404,
        "not_found",
    );
    let (records, _) = logs(&api, &admin, &q, "");
    assert!(records.iter().all(|r| r["projectId"] == q));
    let (records, _) = logs(&api, &auditor, &p, "limit=1000");
    assert!(records.iter().all(|r| r["projectId"] == p));
}

#[test]
fn verify_reports_the_chain_to_the_super_admin_only() {
    let api = Api::start(&[]);
    let admin = api.admin_token();
    assert_eq!(whoami(&api, &admin)["superAdmin"], true);
    let p = api.project();
    let (_, project_admin) = api.member(&admin, &p, "padmin", &["admin"]);

    let a = api.get("/api/v1/audit-logs/verify", &admin);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["valid"], true, "{}", a.body);
    let first = a.body["records"].as_i64().unwrap();
    assert!(first > 0);
    // More changes, a longer valid chain.
    api.member(&admin, &p, "another", &["viewer"]);
    let a = api.get("/api/v1/audit-logs/verify", &admin);
    assert_eq!(a.body["valid"], true, "{}", a.body);
    assert!(a.body["records"].as_i64().unwrap() > first, "{}", a.body);

    // Edit a record behind the server's back (SQLite in WAL mode takes a
    // second writer): verification names it.
    let ca = std::path::PathBuf::from(api.bootstrap["caCertificate"].as_str().unwrap());
    let db = ca.parent().unwrap().parent().unwrap().join("strongroom.db");
    // Records live in `audit_entries`, their strings in `audit_names`.
    tamper(&db, "INSERT INTO audit_names (name) VALUES ('mallory')");
    tamper(
        &db,
        "UPDATE audit_entries SET actor = (SELECT id FROM audit_names WHERE name = 'mallory') \
         WHERE seq = 2",
    );
    let a = api.get("/api/v1/audit-logs/verify", &admin);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["valid"], false, "{}", a.body);
    assert_eq!(a.body["reason"], "record_altered", "{}", a.body);
    assert_eq!(a.body["firstBadRecord"], 2, "{}", a.body);
    assert!(
        a.body["message"].as_str().unwrap().contains("record 2"),
        "{}",
        a.body
    );

    // A project's admin is not the install's: the chain spans every project.
    assert_error(
        &api.get("/api/v1/audit-logs/verify", &project_admin),
        403,
        "forbidden",
    );
    assert_error(
        &api.send(Method::GET, "/api/v1/audit-logs/verify", None, None),
        401,
        "unauthorized",
    );
}

/// Runs one statement on the server's SQLite database from outside.
fn tamper(db: &std::path::Path, sql: &str) {
    use sqlx::Connection;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display()))
            .await
            .unwrap();
        let done = sqlx::query(sql).execute(&mut conn).await.unwrap();
        assert_eq!(done.rows_affected(), 1, "{sql}");
        conn.close().await.unwrap();
    });
}

#[test]
fn key_uses_are_found_by_key_id() {
    let api = Api::start(&[]);
    let admin = api.admin_token();
    let p = api.project();
    let key = |name: &str| {
        let a = api.post(
            "/api/v1/kms/keys",
            &admin,
            json!({"projectId": p, "name": name, "description": "",
                   "keyUsage": "encrypt-decrypt", "encryptionAlgorithm": "aes-256-gcm"}),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        a.body["key"]["id"].as_str().unwrap().to_owned()
    };
    let (k, other) = (key("audited"), key("other"));
    for id in [&k, &k, &k, &other] {
        let a = api.post(
            &format!("/api/v1/kms/keys/{id}/encrypt"),
            &admin,
            json!({"plaintext": "aGVsbG8="}),
        );
        assert_eq!(a.status, 200, "{}", a.body);
    }
    // Answered uses are listed at once (the queue is flushed first).
    let (found, n) = logs(
        &api,
        &admin,
        &p,
        &format!("keyId={k}&action=transit.encrypt"),
    );
    assert_eq!(n, 3, "{found:?}");
    // The source is the connection's peer (formatted once per connection).
    assert!(found.iter().all(|r| r["objectId"] == k.as_str()
        && r["action"] == "transit.encrypt"
        && r["result"] == "success"
        && r["source"] == "127.0.0.1"));
    let (found, _) = logs(&api, &admin, &p, &format!("keyId={k}&action=transit.*"));
    assert!(
        found.iter().any(|r| r["action"] == "transit.key.create"),
        "{found:?}"
    );
    let (_, lines) = export(
        &api,
        &admin,
        &p,
        &format!("keyId={other}&action=transit.encrypt"),
    );
    assert_eq!(lines.len(), 1);
}
