//! The HTTPS API's foundation, end to end against `strongroom serve --dev`
//! over TLS: Universal Auth (login, renew, revoke, expiry, max uses,
//! trusted IPs, lockout), the role matrix, cross-project isolation, the
//! error shape and request hygiene (413, 400, 415, 429), a client that
//! half-closes after its request, the OpenAPI document against the routes,
//! and `/metrics`.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use common::api_client::{Answer, Api, answer, assert_error};

#[test]
fn login_renew_revoke_and_request_hygiene() {
    let api = Api::start(&[]);
    let b = &api.bootstrap;
    assert!(common::is_uuid(&b["identityClientId"]));
    assert!(
        b["identityClientSecret"]
            .as_str()
            .unwrap()
            .starts_with("srcs_")
    );
    assert!(b["apiAddress"].as_str().unwrap().starts_with("127.0.0.1:"));

    let login = api.login(
        b["identityClientId"].as_str().unwrap(),
        b["identityClientSecret"].as_str().unwrap(),
    );
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["tokenType"], "Bearer");
    assert_eq!(login.body["expiresIn"], 2_592_000);
    assert_eq!(login.body["accessTokenMaxTTL"], 2_592_000);
    let token = login.body["accessToken"].as_str().unwrap().to_owned();

    let projects = api.get("/api/v1/projects", &token);
    assert_eq!(projects.status, 200, "{}", projects.body);
    let ids: Vec<&str> = projects.body["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [api.project()]);

    let renewed = api.send(
        Method::POST,
        "/api/v1/auth/token/renew",
        None,
        Some(json!({"accessToken": token})),
    );
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    assert_eq!(renewed.body["accessToken"], token.as_str());

    // Wrong secret, unknown client, malformed secret: one answer.
    let wrong = api.login(b["identityClientId"].as_str().unwrap(), "srcs_nope");
    assert_error(&wrong, 401, "invalid_credentials");
    let unknown = api.login("8d0e1c9a-2f6b-4c1e-9e57-2d8f3f0b6a11", "x");
    assert_error(&unknown, 401, "invalid_credentials");
    assert_eq!(wrong.body["message"], unknown.body["message"]);

    // No token, a bad token.
    assert_error(
        &api.send(Method::GET, "/api/v1/projects", None, None),
        401,
        "unauthorized",
    );
    assert_error(
        &api.get("/api/v1/projects", "srt_forged"),
        401,
        "invalid_token",
    );

    // Body hygiene.
    let url = format!("{}/api/v1/auth/universal-auth/login", api.base);
    let malformed = answer(
        api.client
            .post(&url)
            .header("content-type", "application/json")
            .body("{\"clientId\": ")
            .send()
            .unwrap(),
    );
    assert_error(&malformed, 400, "invalid_json");
    let text = answer(api.client.post(&url).body("clientId=x").send().unwrap());
    assert_error(&text, 415, "unsupported_media_type");
    let extra = api.send(
        Method::POST,
        "/api/v1/auth/universal-auth/login",
        None,
        Some(json!({"clientId": "a", "clientSecret": "b", "clientSecert": "c"})),
    );
    assert_error(&extra, 400, "invalid_request");
    // A client's request id is echoed; a bad one replaced.
    let echoed = answer(
        api.client
            .get(format!("{}/nope", api.base))
            .header("x-request-id", "trace-42")
            .send()
            .unwrap(),
    );
    assert_error(&echoed, 404, "not_found");
    assert_eq!(echoed.body["reqId"], "trace-42");

    // Revoked: refused at once.
    let revoked = api.send(
        Method::POST,
        "/api/v1/auth/token/revoke",
        None,
        Some(json!({"accessToken": token})),
    );
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_error(&api.get("/api/v1/projects", &token), 401, "invalid_token");
    let again = api.send(
        Method::POST,
        "/api/v1/auth/token/renew",
        None,
        Some(json!({"accessToken": token})),
    );
    assert_error(&again, 401, "invalid_token");
}

#[test]
fn expiry_max_uses_trusted_ips_and_lockout() {
    let api = Api::start(&[]);
    let admin = api.admin_token();

    // TTL 1 s, max TTL 2 s; a secret good for two logins.
    let (id, client_id, secret) = api.identity(
        &admin,
        "short-lived",
        json!({"accessTokenTTL": 1, "accessTokenMaxTTL": 2}),
        json!({"numUsesLimit": 2, "description": "two uses"}),
    );
    let first = api.login(&client_id, &secret);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["expiresIn"], 1);
    assert_eq!(first.body["accessTokenMaxTTL"], 2);
    let token = first.body["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(
        api.get(&format!("/api/v1/identities/{id}"), &token).status,
        200
    );
    assert_eq!(api.login(&client_id, &secret).status, 200);
    let third = api.login(&client_id, &secret);
    assert_error(&third, 401, "invalid_credentials");
    assert!(
        third.body["message"]
            .as_str()
            .unwrap()
            .contains("no uses left")
    );
    let listed = api.get(
        &format!("/api/v1/auth/universal-auth/identities/{id}/client-secrets"),
        &admin,
    );
    assert_eq!(listed.body["clientSecretData"][0]["clientSecretNumUses"], 2);
    assert!(listed.body.to_string().find(&secret).is_none());

    std::thread::sleep(Duration::from_millis(2100));
    assert_error(
        &api.get(&format!("/api/v1/identities/{id}"), &token),
        401,
        "invalid_token",
    );

    // Trusted IPs: a secret usable only from 10.0.0.0/8 fails from loopback.
    let (id, client_id, secret) = api.identity(&admin, "fenced", json!({}), json!({}));
    let ua = format!("/api/v1/auth/universal-auth/identities/{id}");
    let patch = api.send(
        Method::PATCH,
        &ua,
        Some(&admin),
        Some(json!({"clientSecretTrustedIps": [{"ipAddress": "10.0.0.0/8"}]})),
    );
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert_error(&api.login(&client_id, &secret), 403, "ip_not_allowed");
    api.send(
        Method::PATCH,
        &ua,
        Some(&admin),
        Some(json!({"clientSecretTrustedIps": [{"ipAddress": "127.0.0.1"}]})),
    );
    let ok = api.login(&client_id, &secret);
    assert_eq!(ok.status, 200, "{}", ok.body);
    let token = ok.body["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(
        api.get(&format!("/api/v1/identities/{id}"), &token).status,
        200
    );
    api.send(
        Method::PATCH,
        &ua,
        Some(&admin),
        Some(json!({"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]})),
    );
    assert_error(
        &api.get(&format!("/api/v1/identities/{id}"), &token),
        403,
        "ip_not_allowed",
    );

    // Revoked secrets stop working.
    let secrets = api.get(&format!("{ua}/client-secrets"), &admin);
    let secret_id = secrets.body["clientSecretData"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = api.post(
        &format!("{ua}/client-secrets/{secret_id}/revoke"),
        &admin,
        json!({}),
    );
    assert_eq!(revoke.status, 200, "{}", revoke.body);
    assert_eq!(
        revoke.body["clientSecretData"]["isClientSecretRevoked"],
        true
    );
    assert_error(&api.login(&client_id, &secret), 401, "invalid_credentials");

    // Lockout: two failures lock the client id, even for the right secret.
    let (_, client_id, secret) = api.identity(
        &admin,
        "lockable",
        json!({"lockoutThreshold": 2, "lockoutDurationSeconds": 60}),
        json!({}),
    );
    let wrong = format!("{}0", &secret[..secret.len() - 1]);
    let wrong = if wrong == secret {
        format!("{}1", &secret[..secret.len() - 1])
    } else {
        wrong
    };
    assert_error(&api.login(&client_id, &wrong), 401, "invalid_credentials");
    assert_error(&api.login(&client_id, &wrong), 401, "invalid_credentials");
    let locked = api.login(&client_id, &secret);
    assert_error(&locked, 429, "locked_out");
    let retry: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&retry), "{retry}");
}

/// Every management route of a project, as (method, path, body, permission
/// it needs). `{p}` is the project, `{i}` a member identity.
fn project_routes() -> Vec<(Method, &'static str, Option<Value>, &'static str)> {
    vec![
        (Method::GET, "/api/v1/projects/{p}", None, "member"),
        (
            Method::GET,
            "/api/v1/projects/{p}/identity-memberships",
            None,
            "memberships:read",
        ),
        (
            Method::GET,
            "/api/v1/projects/{p}/identity-memberships/{i}",
            None,
            "memberships:read",
        ),
        (
            Method::PATCH,
            "/api/v1/projects/{p}/identity-memberships/{i}",
            Some(json!({"roles": [{"role": "{r}"}]})),
            "memberships:edit",
        ),
        (
            Method::GET,
            "/api/v1/projects/{p}/roles",
            None,
            "roles:read",
        ),
        (
            Method::GET,
            "/api/v1/projects/{p}/roles/viewer",
            None,
            "roles:read",
        ),
        (
            Method::POST,
            "/api/v1/projects/{p}/roles",
            Some(
                json!({"slug": "r-{n}", "name": "R", "permissions": [{"resource": "keys", "action": "read"}]}),
            ),
            "roles:create",
        ),
        (
            Method::GET,
            "/api/v1/projects/{p}/kmip/clients",
            None,
            "kmip-clients:read",
        ),
        (
            Method::POST,
            "/api/v1/projects/{p}/kmip/clients",
            Some(json!({"name": "c-{n}", "operations": ["get"]})),
            "kmip-clients:create",
        ),
    ]
}

fn role_allows(role: &str, permission: &str) -> bool {
    if permission == "member" {
        return true;
    }
    match role {
        "admin" => true,
        "developer" => matches!(
            permission,
            "memberships:read" | "roles:read" | "kmip-clients:read" | "kmip-clients:create"
        ),
        "viewer" => permission.ends_with(":read"),
        // The custom role below: keys:read, memberships:read, kmip-clients:read.
        "custom" => matches!(permission, "memberships:read" | "kmip-clients:read"),
        _ => false,
    }
}

#[test]
fn role_matrix_and_cross_project_isolation() {
    let api = Api::start(&[]);
    let admin = api.admin_token();
    let p = api.project();

    let custom = api.post(
        &format!("/api/v1/projects/{p}/roles"),
        &admin,
        json!({"slug": "custom", "name": "Custom", "description": "reads a little", "permissions": [
            {"resource": "keys", "action": "read"},
            {"resource": "memberships", "action": "read"},
            {"resource": "kmip-clients", "action": "read"}]}),
    );
    assert_eq!(custom.status, 200, "{}", custom.body);

    let mut n = 0;
    for role in ["admin", "developer", "viewer", "custom"] {
        let (id, token) = api.member(&admin, &p, &format!("{role}-member"), &[role]);
        for (method, path, body, permission) in project_routes() {
            n += 1;
            let path = path.replace("{p}", &p).replace("{i}", &id);
            let body = body.map(|b| {
                let text = b
                    .to_string()
                    .replace("{n}", &n.to_string())
                    .replace("{r}", role);
                serde_json::from_str(&text).unwrap()
            });
            let a = api.send(method.clone(), &path, Some(&token), body);
            if role_allows(role, permission) {
                assert_eq!(a.status, 200, "{role} {method} {path}: {}", a.body);
            } else {
                assert_error(&a, 403, "forbidden");
            }
        }
        // Organization-level routes need an organization admin.
        assert_error(
            &api.post("/api/v1/identities", &token, json!({"name": "x"})),
            403,
            "forbidden",
        );
        assert_error(
            &api.post("/api/v1/projects", &token, json!({"projectName": "x"})),
            403,
            "forbidden",
        );
        // Granting more than one holds is refused.
        if role != "admin" {
            let other = api.post(
                "/api/v1/identities",
                &admin,
                json!({"name": format!("target-{role}")}),
            );
            let other = other.body["identity"]["id"].as_str().unwrap().to_owned();
            let a = api.post(
                &format!("/api/v1/projects/{p}/identity-memberships/{other}"),
                &token,
                json!({"roles": [{"role": "admin"}]}),
            );
            assert_eq!(a.status, 403, "{role}: {}", a.body);
        }
    }

    // Another project: invisible to a member of the first, exactly like a
    // project that does not exist.
    let second = api.post("/api/v1/projects", &admin, json!({"projectName": "second"}));
    assert_eq!(second.status, 200, "{}", second.body);
    let q = second.body["project"]["id"].as_str().unwrap().to_owned();
    let (_, viewer) = api.member(&admin, &p, "outsider", &["viewer"]);
    let missing = "0190f0aa-0000-7000-8000-000000000000";
    for path in ["", "/roles", "/identity-memberships", "/kmip/clients"] {
        let theirs = api.get(&format!("/api/v1/projects/{q}{path}"), &viewer);
        let none = api.get(&format!("/api/v1/projects/{missing}{path}"), &viewer);
        assert_error(&theirs, 404, "not_found");
        assert_error(&none, 404, "not_found");
        assert_eq!(theirs.body["message"], none.body["message"], "{path}");
    }
    let listed = api.get("/api/v1/projects", &viewer);
    assert_eq!(
        listed.body["projects"].as_array().unwrap().len(),
        1,
        "{}",
        listed.body
    );

    // The admin deletes the second project: gone for everyone.
    let deleted = api.send(
        Method::DELETE,
        &format!("/api/v1/projects/{q}"),
        Some(&admin),
        None,
    );
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_error(
        &api.get(&format!("/api/v1/projects/{q}"), &admin),
        404,
        "not_found",
    );
}

/// A request once read runs to its end: a client that shuts its sending
/// side right after a login (whose Argon2id check takes a while) still gets
/// the token, instead of hyper dropping the request at the end of stream.
#[test]
fn a_client_that_half_closes_after_its_request_still_gets_the_answer() {
    let api = Api::start(&[]);
    let b = &api.bootstrap;
    let body = json!({
        "clientId": b["identityClientId"],
        "clientSecret": b["identityClientSecret"],
    })
    .to_string();
    let request = format!(
        "POST /api/v1/auth/universal-auth/login HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let response = api.raw(&request, true);
    let (status, _, answer) = common::split_response(&response).unwrap();
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(answer).unwrap();
    assert_eq!(answer["tokenType"], "Bearer");
    assert!(
        answer["accessToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
}

/// A body refused unread leaves the connection unusable: the answer must
/// say so, or a keep-alive client reuses it and loses its next request.
#[test]
fn an_answer_that_leaves_the_body_unread_says_connection_close() {
    let api = Api::start(&[]);
    // Headers only; the declared body is over the limit, so the server
    // answers without waiting for it.
    let request = format!(
        "POST /api/v1/identities HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: 100000000\r\n\r\n",
        api.admin_token()
    );
    let response = api.raw(&request, false);
    let (_, head, _) = common::split_response(&response).unwrap();
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 413 "), "{response}");
    // The head ends before the blank line, so the header may be its last line.
    assert!(
        head.split("\r\n").any(|line| line == "connection: close"),
        "{response}"
    );
}

/// A body refused for its declared length is still read to its end
/// before the server closes (it lingers), so the client gets the 413 and
/// not a reset, whatever the body's size: refused at once, the client
/// would still be sending when the server closed.
#[test]
fn a_refused_body_is_answered_not_reset() {
    let api = Api::start(&[("STRONGROOM_API_MAX_BODY_SIZE", "65536")]);
    let admin = api.admin_token();
    for size in [70_000, 1 << 20, 5 << 20] {
        for _ in 0..3 {
            let body = json!({"name": "x".repeat(size)});
            assert_error(
                &api.post("/api/v1/identities", &admin, body),
                413,
                "payload_too_large",
            );
        }
    }
    assert_eq!(api.get("/api/v1/projects", &admin).status, 200);
}

#[test]
fn limits_rate_and_body_size() {
    let api = Api::start(&[
        ("STRONGROOM_API_MAX_BODY_SIZE", "65536"),
        ("STRONGROOM_API_RATE_LIMIT", "3"),
        ("STRONGROOM_API_RATE_LIMIT_BURST", "3"),
        ("STRONGROOM_API_LOGIN_RATE_LIMIT", "4"),
    ]);
    let admin = api.admin_token();
    let big = json!({"name": "x".repeat(70_000)});
    assert_error(
        &api.post("/api/v1/identities", &admin, big),
        413,
        "payload_too_large",
    );

    let statuses: Vec<Answer> = (0..8)
        .map(|_| api.get("/api/v1/projects", &admin))
        .collect();
    let limited = statuses
        .iter()
        .find(|a| a.status == 429)
        .expect("no 429 after 8 requests at 3/s");
    assert_error(limited, 429, "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));

    // Logins per client address: the fifth within a minute is refused.
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(
            api.login("8d0e1c9a-2f6b-4c1e-9e57-2d8f3f0b6a11", "x")
                .status,
        );
    }
    assert!(codes.contains(&429), "{codes:?}");
}

#[test]
fn openapi_document_matches_the_routes_and_metrics_are_exposed() {
    let api = Api::start(&[]);
    let doc = api.send(Method::GET, "/api/openapi.json", None, None);
    assert_eq!(doc.status, 200);
    assert!(
        doc.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc.body["openapi"]
    );
    let paths = doc.body["paths"].as_object().unwrap();
    let documented: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/openapi.json",
        "/api/v1/auth/universal-auth/login",
        "/api/v1/auth/token/renew",
        "/api/v1/auth/token/revoke",
        "/api/v1/auth/universal-auth/identities/{identityId}",
        "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets",
        "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}/revoke",
        "/api/v1/organizations",
        "/api/v1/organizations/{organizationId}",
        "/api/v1/identities",
        "/api/v1/identities/{identityId}",
        "/api/v1/projects",
        "/api/v1/projects/{projectId}",
        "/api/v1/projects/{projectId}/identity-memberships",
        "/api/v1/projects/{projectId}/identity-memberships/{identityId}",
        "/api/v1/projects/{projectId}/roles",
        "/api/v1/projects/{projectId}/roles/{roleSlug}",
        "/api/v1/projects/{projectId}/kmip/clients",
        "/api/v1/projects/{projectId}/kmip/clients/{clientName}/certificates",
        "/api/v1/projects/{projectId}/kmip/clients/{clientName}/revoke",
        "/api/v1/auth/whoami",
        "/api/v1/projects/{projectId}/audit-logs",
        "/api/v1/projects/{projectId}/audit-logs/export",
        "/api/v1/audit-logs/verify",
        "/api/v1/kms/keys",
        "/api/v1/kms/keys/{keyId}",
        "/api/v1/kms/keys/key-name/{keyName}",
        "/api/v1/kms/keys/{keyId}/encrypt",
        "/api/v1/kms/keys/{keyId}/decrypt",
        "/api/v1/kms/keys/{keyId}/sign",
        "/api/v1/kms/keys/{keyId}/verify",
        "/api/v1/kms/keys/{keyId}/public-key",
        "/api/v1/kms/keys/{keyId}/signing-algorithms",
        "/api/v1/kms/keys/{keyId}/versions",
        "/api/v1/kms/keys/{keyId}/rotate",
        "/api/v1/kms/keys/{keyId}/batch/encrypt",
        "/api/v1/kms/keys/{keyId}/batch/decrypt",
        "/api/v1/kms/keys/{keyId}/data-key",
        "/api/v1/kms/keys/{keyId}/rewrap",
        "/api/v1/kms/keys/{keyId}/hmac",
        "/api/v1/kms/keys/{keyId}/hmac/verify",
        "/api/v1/kms/random",
    ]
    .into_iter()
    .collect();
    assert_eq!(documented, expected);

    // Every documented operation is routed (never the fallback's "no such
    // route" or 405), and every other method on a documented path is 405.
    let all = [
        Method::GET,
        Method::POST,
        Method::PATCH,
        Method::DELETE,
        Method::PUT,
    ];
    for (path, item) in paths {
        let concrete = path
            .replace("{roleSlug}", "viewer")
            .replace("{clientName}", "nobody")
            .replace("{keyName}", "nothing")
            .replace(['{', '}'], "")
            .replace("projectId", "0190f0aa-0000-7000-8000-000000000001")
            .replace("identityId", "0190f0aa-0000-7000-8000-000000000002")
            .replace("clientSecretId", "0190f0aa-0000-7000-8000-000000000003")
            .replace("organizationId", "0190f0aa-0000-7000-8000-000000000004")
            .replace("keyId", "0190f0aa-0000-7000-8000-000000000005");
        for method in &all {
            let key = method.as_str().to_ascii_lowercase();
            let a = api.send(method.clone(), &concrete, None, None);
            if item.get(&key).is_some() {
                assert_ne!(a.status, 405, "{method} {path}");
                assert_ne!(a.body["message"], "no such route", "{method} {path}");
            } else {
                assert_error(&a, 405, "method_not_allowed");
            }
        }
    }
    assert_error(
        &api.send(Method::GET, "/api/v1/nothing", None, None),
        404,
        "not_found",
    );

    let metrics = api.send(Method::GET, "/metrics", None, None);
    assert_eq!(metrics.status, 200);
    let text = metrics.body.as_str().unwrap().to_owned();
    assert!(text.contains("strongroom_http_requests_total{method=\"GET\",route=\"/api/v1/projects/{projectId}\",status=\"401\"}"), "{text}");
    assert!(text.contains("strongroom_http_request_duration_seconds_bucket"));
    assert!(text.contains("route=\"unmatched\""));
    assert!(text.contains("strongroom_key_cache_hit_ratio"));
    assert!(!text.contains("0190f0aa"), "a label carries an id:\n{text}");
}
