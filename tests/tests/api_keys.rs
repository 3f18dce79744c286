//! Keys over HTTPS, end to end against `strongroom serve --dev`: the role
//! matrix on every keys route, cross-project isolation (another project's
//! key is exactly a missing key), rotation with old ciphertexts and the
//! minimum decryption version, batches, data keys, re-wrap, HMAC, random
//! bytes, encryption context, the 4 MiB payload limit, every bad input
//! with its status and code (and no state change), and signatures made
//! through the API verified by the `openssl` CLI for every signing
//! algorithm of every asymmetric key type.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::Method;
use serde_json::{Value, json};

use common::api_client::{Answer, Api, answer, assert_error};

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .unwrap()
}

/// Creates a key; returns its id.
fn create(api: &Api, token: &str, project: &str, name: &str, algorithm: &str) -> String {
    let a = api.post(
        "/api/v1/kms/keys",
        token,
        json!({"projectId": project, "name": name, "encryptionAlgorithm": algorithm}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["key"]["id"].as_str().unwrap().to_owned()
}

fn ok(a: Answer) -> Value {
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

fn patch(api: &Api, token: &str, path: &str, body: Value) -> Answer {
    api.send(Method::PATCH, path, Some(token), Some(body))
}

fn delete(api: &Api, token: &str, path: &str) -> Answer {
    api.send(Method::DELETE, path, Some(token), None)
}

/// Every keys route as (method, path, body, permission). Placeholders:
/// `{p}` project, `{e}` an AES key, `{s}` an ECDSA key, `{h}` an HMAC key,
/// `{d}` a key to delete, `{c}` a ciphertext of `{e}`, `{sig}` a signature
/// of `{s}`, `{mac}` a MAC of `{h}`, `{n}` a counter.
fn key_routes() -> Vec<(Method, &'static str, Option<Value>, &'static str)> {
    let data = b64(b"matrix");
    vec![
        (
            Method::POST,
            "/api/v1/kms/keys",
            Some(json!({"projectId": "{p}", "name": "made-{n}"})),
            "create",
        ),
        (Method::GET, "/api/v1/kms/keys?projectId={p}", None, "read"),
        (Method::GET, "/api/v1/kms/keys/{e}", None, "read"),
        (
            Method::GET,
            "/api/v1/kms/keys/key-name/enc?projectId={p}",
            None,
            "read",
        ),
        (
            Method::PATCH,
            "/api/v1/kms/keys/{e}",
            Some(json!({"description": "d-{n}"})),
            "edit",
        ),
        (Method::DELETE, "/api/v1/kms/keys/{d}", None, "delete"),
        (
            Method::POST,
            "/api/v1/kms/keys/{e}/encrypt",
            Some(json!({"plaintext": data})),
            "use",
        ),
        (
            Method::POST,
            "/api/v1/kms/keys/{e}/decrypt",
            Some(json!({"ciphertext": "{c}"})),
            "use",
        ),
        (
            Method::POST,
            "/api/v1/kms/keys/{s}/sign",
            Some(json!({"data": data, "signingAlgorithm": "ECDSA_SHA_256"})),
            "use",
        ),
        (
            Method::POST,
            "/api/v1/kms/keys/{s}/verify",
            Some(json!({"data": data, "signature": "{sig}", "signingAlgorithm": "ECDSA_SHA_256"})),
            "use",
        ),
        (Method::GET, "/api/v1/kms/keys/{s}/public-key", None, "read"),
        (
            Method::GET,
            "/api/v1/kms/keys/{s}/signing-algorithms",
            None,
            "read",
        ),
        (Method::GET, "/api/v1/kms/keys/{e}/versions", None, "read"),
        (Method::POST, "/api/v1/kms/keys/{e}/rotate", None, "rotate"),
        (
            Method::POST,
            "/api/v1/kms/keys/{e}/batch/encrypt",
            Some(json!({"items": [{"plaintext": data}]})),
            "use",
        ),
        (
            Method::POST,
            "/api/v1/kms/keys/{e}/batch/decrypt",
            Some(json!({"items": [{"ciphertext": "{c}"}]})),
            "use",
        ),
        (
            Method::POST,
            "/api/v1/kms/keys/{e}/data-key",
            Some(json!({})),
            "use",
        ),
        (
            Method::POST,
            "/api/v1/kms/keys/{e}/rewrap",
            Some(json!({"ciphertext": "{c}"})),
            "use",
        ),
        (
            Method::POST,
            "/api/v1/kms/keys/{h}/hmac",
            Some(json!({"data": data})),
            "use",
        ),
        (
            Method::POST,
            "/api/v1/kms/keys/{h}/hmac/verify",
            Some(json!({"data": data, "mac": "{mac}"})),
            "use",
        ),
        (
            Method::POST,
            "/api/v1/kms/random",
            Some(json!({"projectId": "{p}", "bytes": 16})),
            "use",
        ),
    ]
}

fn role_allows(role: &str, action: &str) -> bool {
    match role {
        "admin" => true,
        "developer" => action != "delete",
        "viewer" => action == "read",
        _ => false,
    }
}

#[test]
fn role_matrix_and_cross_project_isolation() {
    let api = Api::start(&[]);
    let admin = api.admin_token();
    let p = api.project();
    let e = create(&api, &admin, &p, "enc", "aes-256-gcm");
    let s = create(&api, &admin, &p, "sig", "ECC_NIST_P256");
    let h = create(&api, &admin, &p, "mac", "hmac-sha256");
    let data = b64(b"matrix");
    let c = ok(api.post(
        &format!("/api/v1/kms/keys/{e}/encrypt"),
        &admin,
        json!({"plaintext": data}),
    ))["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    let sig = ok(api.post(
        &format!("/api/v1/kms/keys/{s}/sign"),
        &admin,
        json!({"data": data, "signingAlgorithm": "ECDSA_SHA_256"}),
    ))["signature"]
        .as_str()
        .unwrap()
        .to_owned();
    let mac = ok(api.post(
        &format!("/api/v1/kms/keys/{h}/hmac"),
        &admin,
        json!({"data": data}),
    ))["mac"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut n = 0;
    for role in ["admin", "developer", "viewer"] {
        let (_, token) = api.member(&admin, &p, &format!("{role}-member"), &[role]);
        let d = create(&api, &admin, &p, &format!("doomed-{role}"), "aes-128-gcm");
        for (method, path, body, action) in key_routes() {
            n += 1;
            let fill = |t: &str| {
                t.replace("{p}", &p)
                    .replace("{e}", &e)
                    .replace("{s}", &s)
                    .replace("{h}", &h)
                    .replace("{d}", &d)
                    .replace("{c}", &c)
                    .replace("{sig}", &sig)
                    .replace("{mac}", &mac)
                    .replace("{n}", &n.to_string())
            };
            let path = fill(path);
            let body = body.map(|b| serde_json::from_str(&fill(&b.to_string())).unwrap());
            let a = api.send(method.clone(), &path, Some(&token), body);
            if role_allows(role, action) {
                assert_eq!(a.status, 200, "{role} {method} {path}: {}", a.body);
            } else {
                assert_error(&a, 403, "forbidden");
            }
        }
    }

    // Another project's keys: exactly like keys that do not exist, for a
    // member of this project, on every route naming a key.
    let second = ok(api.post("/api/v1/projects", &admin, json!({"projectName": "second"})));
    let q = second["project"]["id"].as_str().unwrap().to_owned();
    let qe = create(&api, &admin, &q, "enc", "aes-256-gcm");
    let qs = create(&api, &admin, &q, "sig", "ECC_NIST_P256");
    let qh = create(&api, &admin, &q, "mac", "hmac-sha256");
    let qc = ok(api.post(
        &format!("/api/v1/kms/keys/{qe}/encrypt"),
        &admin,
        json!({"plaintext": data}),
    ))["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, member) = api.member(&admin, &p, "outsider", &["admin"]);
    let missing = "0190f0aa-0000-7000-8000-00000000dead";
    for (method, path, body, _) in key_routes() {
        if !path.contains("/keys/{") {
            continue;
        }
        let fill = |t: &str, e: &str, s: &str, h: &str| {
            t.replace("{p}", &q)
                .replace("{e}", e)
                .replace("{s}", s)
                .replace("{h}", h)
                .replace("{d}", e)
                .replace("{c}", &qc)
                .replace("{sig}", &sig)
                .replace("{mac}", &mac)
                .replace("{n}", "0")
        };
        let body_of = |e: &str, s: &str, h: &str| {
            body.as_ref()
                .map(|b| serde_json::from_str::<Value>(&fill(&b.to_string(), e, s, h)).unwrap())
        };
        let theirs = api.send(
            method.clone(),
            &fill(path, &qe, &qs, &qh),
            Some(&member),
            body_of(&qe, &qs, &qh),
        );
        let none = api.send(
            method.clone(),
            &fill(path, missing, missing, missing),
            Some(&member),
            body_of(missing, missing, missing),
        );
        assert_error(&theirs, 404, "key_not_found");
        assert_error(&none, 404, "key_not_found");
        assert_eq!(theirs.body["message"], none.body["message"], "{path}");
        assert_eq!(theirs.headers.len(), none.headers.len(), "{path}");
    }
    // Routes naming the project: another project is a missing project.
    for path in [
        format!("/api/v1/kms/keys?projectId={q}"),
        format!("/api/v1/kms/keys/key-name/enc?projectId={q}"),
    ] {
        let theirs = api.get(&path, &member);
        let none = api.get(&path.replace(&q, missing), &member);
        assert_error(&theirs, 404, "not_found");
        assert_error(&none, 404, "not_found");
        assert_eq!(theirs.body["message"], none.body["message"]);
    }
    let theirs = api.post(
        "/api/v1/kms/keys",
        &member,
        json!({"projectId": q, "name": "intruder"}),
    );
    assert_error(&theirs, 404, "not_found");
    // The other project's key still works for its owner, unchanged.
    let plain = ok(api.post(
        &format!("/api/v1/kms/keys/{qe}/decrypt"),
        &admin,
        json!({"ciphertext": qc}),
    ));
    assert_eq!(unb64(&plain["plaintext"]), b"matrix");
    let listed = ok(api.get(&format!("/api/v1/kms/keys?projectId={q}"), &admin));
    assert_eq!(listed["totalCount"], 3, "{listed}");
}

#[test]
fn lifecycle_rotation_batches_data_keys_rewrap_hmac_random_and_payload_limit() {
    // A small general body limit: the keys routes keep their own 6 MiB.
    let api = Api::start(&[("STRONGROOM_API_MAX_BODY_SIZE", "65536")]);
    let admin = api.admin_token();
    let p = api.project();

    let created = ok(api.post(
        "/api/v1/kms/keys",
        &admin,
        json!({"projectId": p, "name": "orders", "description": "order data",
               "keyUsage": "encrypt-decrypt", "encryptionAlgorithm": "aes-256-gcm",
               "location": "software", "autoRotatePeriod": 86400}),
    ));
    let key = &created["key"];
    let id = key["id"].as_str().unwrap().to_owned();
    for field in [
        "id",
        "name",
        "description",
        "isDisabled",
        "orgId",
        "projectId",
        "version",
        "keyUsage",
        "encryptionAlgorithm",
        "createdAt",
        "updatedAt",
    ] {
        assert!(key.get(field).is_some(), "{field} missing: {key}");
    }
    assert_eq!(key["projectId"], p.as_str());
    assert_eq!(key["orgId"], api.bootstrap["organizationId"]);
    assert_eq!(key["version"], 1);
    assert_eq!(key["isDisabled"], false);
    assert_eq!(key["keyUsage"], "encrypt-decrypt");
    assert_eq!(key["encryptionAlgorithm"], "aes-256-gcm");
    assert_eq!(key["location"], "software");
    assert_eq!(key["autoRotatePeriod"], 86400);
    time::OffsetDateTime::parse(
        key["createdAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let by_name = ok(api.get(
        &format!("/api/v1/kms/keys/key-name/orders?projectId={p}"),
        &admin,
    ));
    assert_eq!(by_name["key"], *key);
    assert_eq!(
        ok(api.get(&format!("/api/v1/kms/keys/{id}"), &admin))["key"],
        *key
    );
    let k = format!("/api/v1/kms/keys/{id}");

    // Encryption context: bound into the ciphertext.
    let ctx = b64(b"tenant=7");
    let c1 = ok(api.post(
        &format!("{k}/encrypt"),
        &admin,
        json!({"plaintext": b64(b"first"), "context": ctx}),
    ))["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(c1.starts_with("strongroom:v1:1:"), "{c1}");
    let opened = ok(api.post(
        &format!("{k}/decrypt"),
        &admin,
        json!({"ciphertext": c1, "context": ctx}),
    ));
    assert_eq!(unb64(&opened["plaintext"]), b"first");
    assert_error(
        &api.post(&format!("{k}/decrypt"), &admin, json!({"ciphertext": c1})),
        422,
        "not_authentic",
    );
    assert_error(
        &api.post(
            &format!("{k}/decrypt"),
            &admin,
            json!({"ciphertext": c1, "context": b64(b"tenant=8")}),
        ),
        422,
        "not_authentic",
    );

    // Rotation: new ciphertexts name version 2, old ones still decrypt.
    let rotated = ok(api.post(&format!("{k}/rotate"), &admin, json!({})));
    assert_eq!(rotated["key"]["version"], 2);
    let c2 = ok(api.post(
        &format!("{k}/encrypt"),
        &admin,
        json!({"plaintext": b64(b"second")}),
    ))["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(c2.starts_with("strongroom:v1:2:"), "{c2}");
    let opened = ok(api.post(
        &format!("{k}/decrypt"),
        &admin,
        json!({"ciphertext": c1, "context": ctx}),
    ));
    assert_eq!(unb64(&opened["plaintext"]), b"first");

    // Re-wrap the old one under version 2, keeping its context.
    let rewrapped = ok(api.post(
        &format!("{k}/rewrap"),
        &admin,
        json!({"ciphertext": c1, "context": ctx}),
    ))["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(rewrapped.starts_with("strongroom:v1:2:"), "{rewrapped}");

    // Minimum decryption version 2: version 1 ciphertexts are refused.
    let raised = ok(patch(&api, &admin, &k, json!({"minDecryptionVersion": 2})));
    assert_eq!(raised["key"]["minDecryptionVersion"], 2);
    assert_error(
        &api.post(
            &format!("{k}/decrypt"),
            &admin,
            json!({"ciphertext": c1, "context": ctx}),
        ),
        422,
        "key_version_too_old",
    );
    let opened = ok(api.post(
        &format!("{k}/decrypt"),
        &admin,
        json!({"ciphertext": rewrapped, "context": ctx}),
    ));
    assert_eq!(unb64(&opened["plaintext"]), b"first");
    let versions = ok(api.get(&format!("{k}/versions"), &admin));
    assert_eq!(versions["currentVersion"], 2);
    assert_eq!(versions["minDecryptionVersion"], 2);
    assert_eq!(versions["versions"][0]["decryptable"], false);
    assert_eq!(versions["versions"][1]["decryptable"], true);
    // Past the current version: refused, nothing changes.
    assert_error(
        &patch(&api, &admin, &k, json!({"minDecryptionVersion": 3})),
        400,
        "invalid_request",
    );
    // Automatic rotation off, then a period too short.
    let off = ok(patch(&api, &admin, &k, json!({"autoRotatePeriod": 0})));
    assert!(off["key"].get("autoRotatePeriod").is_none(), "{off}");
    assert_error(
        &patch(&api, &admin, &k, json!({"autoRotatePeriod": 60})),
        400,
        "invalid_request",
    );

    // Batches: answered in order, each item's failure in its place.
    let batch = ok(api.post(
        &format!("{k}/batch/encrypt"),
        &admin,
        json!({"items": [
            {"plaintext": b64(b"a")},
            {"plaintext": "not base64!"},
            {"plaintext": b64(b"c"), "context": ctx},
        ]}),
    ));
    let results = batch["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[1]["error"]["code"], "invalid_base64", "{batch}");
    assert_eq!(results[1]["error"]["statusCode"], 400);
    let ca = results[0]["ciphertext"].as_str().unwrap().to_owned();
    let cc = results[2]["ciphertext"].as_str().unwrap().to_owned();
    let mut tampered = c2.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let batch = ok(api.post(
        &format!("{k}/batch/decrypt"),
        &admin,
        json!({"items": [
            {"ciphertext": cc, "context": ctx},
            {"ciphertext": tampered},
            {"ciphertext": ca},
            {"ciphertext": c1, "context": ctx},
            {"ciphertext": "garbage"},
        ]}),
    ));
    let results = batch["results"].as_array().unwrap();
    assert_eq!(unb64(&results[0]["plaintext"]), b"c");
    assert_eq!(results[1]["error"]["code"], "not_authentic", "{batch}");
    assert_eq!(unb64(&results[2]["plaintext"]), b"a");
    assert_eq!(results[3]["error"]["code"], "key_version_too_old");
    assert_eq!(results[4]["error"]["code"], "malformed_ciphertext");
    assert!(results[1].get("plaintext").is_none());

    // Data keys: with and without the plaintext, 256 and 128 bits.
    let dk = ok(api.post(&format!("{k}/data-key"), &admin, json!({"context": ctx})));
    let plain = unb64(&dk["plaintext"]);
    assert_eq!(plain.len(), 32);
    let unwrapped = ok(api.post(
        &format!("{k}/decrypt"),
        &admin,
        json!({"ciphertext": dk["ciphertext"], "context": ctx}),
    ));
    assert_eq!(unb64(&unwrapped["plaintext"]), plain);
    let wrapped_only = ok(api.post(
        &format!("{k}/data-key"),
        &admin,
        json!({"bits": 128, "includePlaintext": false}),
    ));
    assert!(wrapped_only.get("plaintext").is_none(), "{wrapped_only}");
    let unwrapped = ok(api.post(
        &format!("{k}/decrypt"),
        &admin,
        json!({"ciphertext": wrapped_only["ciphertext"]}),
    ));
    assert_eq!(unb64(&unwrapped["plaintext"]).len(), 16);
    assert_error(
        &api.post(&format!("{k}/data-key"), &admin, json!({"bits": 192})),
        400,
        "invalid_request",
    );

    // HMAC.
    let h = create(&api, &admin, &p, "tags", "hmac-sha512");
    let hk = format!("/api/v1/kms/keys/{h}");
    let mac = ok(api.post(&format!("{hk}/hmac"), &admin, json!({"data": b64(b"msg")})))["mac"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = ok(api.post(
        &format!("{hk}/hmac/verify"),
        &admin,
        json!({"data": b64(b"msg"), "mac": mac}),
    ));
    assert_eq!(v["macValid"], true);
    let v = ok(api.post(
        &format!("{hk}/hmac/verify"),
        &admin,
        json!({"data": b64(b"other"), "mac": mac}),
    ));
    assert_eq!(v["macValid"], false);
    assert_error(
        &api.post(&format!("{k}/hmac"), &admin, json!({"data": b64(b"msg")})),
        422,
        "wrong_key_usage",
    );

    // Random bytes.
    let r = ok(api.post(
        "/api/v1/kms/random",
        &admin,
        json!({"projectId": p, "bytes": 48}),
    ));
    assert_eq!(unb64(&r["randomBytes"]).len(), 48);
    assert_error(
        &api.post(
            "/api/v1/kms/random",
            &admin,
            json!({"projectId": p, "bytes": 0}),
        ),
        400,
        "invalid_request",
    );

    // Listing: order, search, pages, count.
    for name in ["b-key", "a-key", "c-key"] {
        create(&api, &admin, &p, name, "aes-128-gcm");
    }
    let page = ok(api.get(
        &format!("/api/v1/kms/keys?projectId={p}&search=-KEY&orderBy=name&orderDirection=desc&offset=1&limit=1"),
        &admin,
    ));
    assert_eq!(page["totalCount"], 3, "{page}");
    assert_eq!(page["keys"][0]["name"], "b-key");
    let all = ok(api.get(&format!("/api/v1/kms/keys?projectId={p}"), &admin));
    assert_eq!(all["totalCount"], 5, "{all}");
    assert_error(
        &api.get(
            &format!("/api/v1/kms/keys?projectId={p}&orderBy=size"),
            &admin,
        ),
        400,
        "invalid_request",
    );

    // 4 MiB: accepted (the general limit here is 64 KiB); one byte more
    // is refused, and a body over the routes' limit too.
    let big = vec![0x5au8; 4 * 1024 * 1024];
    let sealed = ok(api.post(
        &format!("{k}/encrypt"),
        &admin,
        json!({"plaintext": b64(&big)}),
    ));
    let opened = ok(api.post(
        &format!("{k}/decrypt"),
        &admin,
        json!({"ciphertext": sealed["ciphertext"]}),
    ));
    assert_eq!(unb64(&opened["plaintext"]), big);
    let mut over = big.clone();
    over.push(0);
    assert_error(
        &api.post(
            &format!("{k}/encrypt"),
            &admin,
            json!({"plaintext": b64(&over)}),
        ),
        413,
        "payload_too_large",
    );
    // Over the routes' 6 MiB body limit: the declared length is refused
    // before the body is read, and the answer says `Connection: close`.
    // The server then reads the rest of the body before it closes (it
    // lingers), so the client gets the answer, not a reset; the server's
    // own count of 413s on the route says it answered once. The next
    // request must not be sent on the closed connection.
    over.extend_from_slice(&[0u8; 1024 * 1024]);
    let refusals = || {
        let text = api.send(Method::GET, "/metrics", None, None).body;
        let line = "strongroom_http_requests_total{method=\"POST\",route=\"/api/v1/kms/keys/{keyId}/encrypt\",status=\"413\"} ";
        text.as_str()
            .and_then(|t| t.lines().find_map(|l| l.strip_prefix(line)))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let before = refusals();
    let sent = api
        .client
        .post(format!("{}{k}/encrypt", api.base))
        .bearer_auth(&admin)
        .json(&json!({"plaintext": b64(&over)}))
        .send();
    assert_error(&answer(sent.unwrap()), 413, "payload_too_large");
    assert_eq!(refusals(), before + 1);
    assert_error(
        &api.post(
            "/api/v1/identities",
            &admin,
            json!({"name": "x".repeat(70_000)}),
        ),
        413,
        "payload_too_large",
    );

    // Every successful use is counted by operation and algorithm.
    let metrics = api.send(Method::GET, "/metrics", None, None).body;
    let metrics = metrics.as_str().unwrap();
    for operation in ["encrypt", "decrypt", "batch-encrypt", "data-key", "rewrap"] {
        let line = format!(
            "strongroom_key_operations_total{{algorithm=\"aes-256-gcm\",operation=\"{operation}\"}} "
        );
        let count = metrics
            .lines()
            .find_map(|l| l.strip_prefix(line.as_str()))
            .and_then(|n| n.trim().parse::<u64>().ok());
        assert!(
            count.is_some_and(|n| n > 0),
            "{operation}: {line} in\n{metrics}"
        );
    }

    // Delete: the key is gone and its ciphertexts can never be opened.
    let deleted = ok(delete(&api, &admin, &k));
    assert_eq!(deleted["key"]["id"], id.as_str());
    assert_error(&api.get(&k, &admin), 404, "key_not_found");
    assert_error(
        &api.post(&format!("{k}/decrypt"), &admin, json!({"ciphertext": c2})),
        404,
        "key_not_found",
    );
    assert_error(
        &api.get(
            &format!("/api/v1/kms/keys/key-name/orders?projectId={p}"),
            &admin,
        ),
        404,
        "key_not_found",
    );
    // The name is free again.
    create(&api, &admin, &p, "orders", "aes-256-gcm");
}

#[test]
fn bad_input_gets_its_status_and_code_and_changes_nothing() {
    let api = Api::start(&[]);
    let admin = api.admin_token();
    let p = api.project();
    let e = create(&api, &admin, &p, "enc", "aes-256-gcm");
    let other = create(&api, &admin, &p, "other", "aes-256-gcm");
    let s = create(&api, &admin, &p, "sig", "RSA_2048");
    let k = format!("/api/v1/kms/keys/{e}");
    let c = ok(api.post(
        &format!("{k}/encrypt"),
        &admin,
        json!({"plaintext": b64(b"payload")}),
    ))["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = ok(api.get(&k, &admin));
    let count = |api: &Api| {
        ok(api.get(&format!("/api/v1/kms/keys?projectId={p}"), &admin))["totalCount"].clone()
    };
    let keys_before = count(&api);

    // Malformed JSON, wrong content type, unknown field, wrong base64.
    let url = format!("{}{k}/encrypt", api.base);
    let raw = |body: &'static str, content_type: &str| {
        answer(
            api.client
                .post(&url)
                .bearer_auth(&admin)
                .header("content-type", content_type)
                .body(body)
                .send()
                .unwrap(),
        )
    };
    assert_error(
        &raw("{\"plaintext\":", "application/json"),
        400,
        "invalid_json",
    );
    assert_error(
        &raw("{\"plaintext\":\"aGk=\"}", "text/plain"),
        415,
        "unsupported_media_type",
    );
    assert_error(
        &api.post(
            &format!("{k}/encrypt"),
            &admin,
            json!({"plaintext": "aGk=", "plaintxt": "x"}),
        ),
        400,
        "invalid_request",
    );
    assert_error(
        &api.post(&format!("{k}/encrypt"), &admin, json!({"plaintext": "%%%"})),
        400,
        "invalid_base64",
    );
    assert_error(
        &api.post(
            &format!("{k}/encrypt"),
            &admin,
            json!({"plaintext": "aGk=", "context": "%%%"}),
        ),
        400,
        "invalid_base64",
    );

    // Creating: unknown algorithm, unknown usage, usage that does not fit,
    // unknown location, HSM on a server without one, a taken name, a bad
    // name: none creates anything.
    for (body, status, code) in [
        (
            json!({"projectId": p, "name": "x1", "encryptionAlgorithm": "DES"}),
            400,
            "unknown_algorithm",
        ),
        (
            json!({"projectId": p, "name": "x2", "keyUsage": "wrap"}),
            400,
            "unknown_algorithm",
        ),
        (
            json!({"projectId": p, "name": "x3", "keyUsage": "sign-verify", "encryptionAlgorithm": "aes-256-gcm"}),
            422,
            "wrong_key_usage",
        ),
        (
            json!({"projectId": p, "name": "x4", "location": "cloud"}),
            400,
            "unknown_location",
        ),
        (
            json!({"projectId": p, "name": "x5", "location": "hsm", "encryptionAlgorithm": "ECC_NIST_P256"}),
            422,
            "hsm_unavailable",
        ),
        (
            json!({"projectId": p, "name": "enc"}),
            409,
            "key_name_taken",
        ),
        (
            json!({"projectId": p, "name": " padded"}),
            400,
            "invalid_request",
        ),
        (
            json!({"projectId": p, "name": "x6", "description": "d".repeat(2000)}),
            413,
            "payload_too_large",
        ),
        (
            json!({"projectId": "not-a-uuid", "name": "x7"}),
            400,
            "invalid_request",
        ),
    ] {
        assert_error(&api.post("/api/v1/kms/keys", &admin, body), status, code);
    }

    // Using a key for what it is not for.
    assert_error(
        &api.post(
            &format!("{k}/sign"),
            &admin,
            json!({"data": b64(b"x"), "signingAlgorithm": "RSASSA_PSS_SHA_256"}),
        ),
        422,
        "wrong_key_usage",
    );
    let sk = format!("/api/v1/kms/keys/{s}");
    assert_error(
        &api.post(
            &format!("{sk}/encrypt"),
            &admin,
            json!({"plaintext": b64(b"x")}),
        ),
        422,
        "wrong_key_usage",
    );
    assert_error(
        &api.get(&format!("{k}/public-key"), &admin),
        422,
        "wrong_key_usage",
    );
    assert_error(
        &api.post(
            &format!("{sk}/sign"),
            &admin,
            json!({"data": b64(b"x"), "signingAlgorithm": "ECDSA_SHA_256"}),
        ),
        422,
        "algorithm_mismatch",
    );
    assert_error(
        &api.post(
            &format!("{sk}/sign"),
            &admin,
            json!({"data": b64(b"x"), "signingAlgorithm": "RSA_MD5"}),
        ),
        400,
        "unknown_algorithm",
    );
    assert_error(
        &api.post(
            &format!("{sk}/sign"),
            &admin,
            json!({"data": b64(b"short"), "signingAlgorithm": "RSASSA_PSS_SHA_256", "isDigest": true}),
        ),
        400,
        "invalid_request",
    );

    // Ciphertexts: another key's, tampered, not ours at all, unknown version.
    let foreign = ok(api.post(
        &format!("/api/v1/kms/keys/{other}/encrypt"),
        &admin,
        json!({"plaintext": b64(b"payload")}),
    ))["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        &api.post(
            &format!("{k}/decrypt"),
            &admin,
            json!({"ciphertext": foreign}),
        ),
        422,
        "foreign_ciphertext",
    );
    let mut tampered = c.clone().into_bytes();
    let i = tampered.len() - 4;
    tampered[i] = if tampered[i] == b'Q' { b'R' } else { b'Q' };
    assert_error(
        &api.post(
            &format!("{k}/decrypt"),
            &admin,
            json!({"ciphertext": String::from_utf8(tampered).unwrap()}),
        ),
        422,
        "not_authentic",
    );
    assert_error(
        &api.post(
            &format!("{k}/decrypt"),
            &admin,
            json!({"ciphertext": "aGVsbG8="}),
        ),
        400,
        "malformed_ciphertext",
    );
    assert_error(
        &api.post(
            &format!("{k}/decrypt"),
            &admin,
            json!({"ciphertext": c.replacen(":v1:1:", ":v1:9:", 1)}),
        ),
        422,
        "unknown_key_version",
    );

    // Disabled: no use until enabled again; reading still works.
    ok(patch(&api, &admin, &k, json!({"isDisabled": true})));
    assert_error(
        &api.post(
            &format!("{k}/encrypt"),
            &admin,
            json!({"plaintext": b64(b"x")}),
        ),
        409,
        "key_disabled",
    );
    assert_error(
        &api.post(&format!("{k}/decrypt"), &admin, json!({"ciphertext": c})),
        409,
        "key_disabled",
    );
    ok(api.get(&k, &admin));
    ok(patch(&api, &admin, &k, json!({"isDisabled": false})));
    let plain = ok(api.post(&format!("{k}/decrypt"), &admin, json!({"ciphertext": c})));
    assert_eq!(unb64(&plain["plaintext"]), b"payload");

    // Renaming onto a taken name: refused, nothing changes.
    assert_error(
        &patch(&api, &admin, &k, json!({"name": "other"})),
        409,
        "key_name_taken",
    );

    // A malformed key id is a missing key; so is a destroyed one.
    assert_error(
        &api.get("/api/v1/kms/keys/not-a-uuid", &admin),
        404,
        "not_found",
    );
    let gone = create(&api, &admin, &p, "gone", "aes-256-gcm");
    let gc = ok(api.post(
        &format!("/api/v1/kms/keys/{gone}/encrypt"),
        &admin,
        json!({"plaintext": b64(b"x")}),
    ))["ciphertext"]
        .clone();
    ok(delete(&api, &admin, &format!("/api/v1/kms/keys/{gone}")));
    assert_error(
        &api.post(
            &format!("/api/v1/kms/keys/{gone}/decrypt"),
            &admin,
            json!({"ciphertext": gc}),
        ),
        404,
        "key_not_found",
    );
    assert_error(
        &delete(&api, &admin, &format!("/api/v1/kms/keys/{gone}")),
        404,
        "key_not_found",
    );

    // Tokens: none, forged, expired, revoked.
    assert_error(&api.send(Method::GET, &k, None, None), 401, "unauthorized");
    assert_error(&api.get(&k, "srt_forged"), 401, "invalid_token");
    let (id, client_id, secret) = api.identity(
        &admin,
        "brief",
        json!({"accessTokenTTL": 1, "accessTokenMaxTTL": 1}),
        json!({}),
    );
    let membership = api.post(
        &format!("/api/v1/projects/{p}/identity-memberships/{id}"),
        &admin,
        json!({"roles": [{"role": "developer"}]}),
    );
    assert_eq!(membership.status, 200, "{}", membership.body);
    let brief = ok(api.login(&client_id, &secret))["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // A one-second token lives at least one second and less than two.
    std::thread::sleep(Duration::from_millis(2100));
    assert_error(
        &api.post(
            &format!("{k}/encrypt"),
            &brief,
            json!({"plaintext": b64(b"x")}),
        ),
        401,
        "invalid_token",
    );
    let (_, revoked) = api.member(&admin, &p, "revoked", &["developer"]);
    ok(api.post(
        &format!("{k}/encrypt"),
        &revoked,
        json!({"plaintext": b64(b"x")}),
    ));
    ok(api.send(
        Method::POST,
        "/api/v1/auth/token/revoke",
        None,
        Some(json!({"accessToken": revoked})),
    ));
    assert_error(
        &api.post(
            &format!("{k}/encrypt"),
            &revoked,
            json!({"plaintext": b64(b"x")}),
        ),
        401,
        "invalid_token",
    );

    // Nothing above changed the key or made one.
    let after = ok(api.get(&k, &admin));
    assert_eq!(after["key"]["name"], before["key"]["name"]);
    assert_eq!(after["key"]["version"], before["key"]["version"]);
    assert_eq!(after["key"]["minDecryptionVersion"], 1);
    assert_eq!(after["key"]["isDisabled"], false);
    assert_eq!(count(&api), keys_before);
}

#[test]
fn rate_limit_applies_to_key_use() {
    let api = Api::start(&[
        ("STRONGROOM_API_RATE_LIMIT", "3"),
        ("STRONGROOM_API_RATE_LIMIT_BURST", "3"),
    ]);
    let admin = api.admin_token();
    let p = api.project();
    let k = create(&api, &admin, &p, "enc", "aes-256-gcm");
    let answers: Vec<Answer> = (0..8)
        .map(|_| {
            api.post(
                &format!("/api/v1/kms/keys/{k}/encrypt"),
                &admin,
                json!({"plaintext": b64(b"x")}),
            )
        })
        .collect();
    let limited = answers
        .iter()
        .find(|a| a.status == 429)
        .expect("no 429 after 8 requests at 3/s");
    assert_error(limited, 429, "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
}

/// `openssl` verifies `signature` over `data` with the PEM public key.
fn openssl_verifies(dir: &Path, pem: &str, algorithm: &str, data: &[u8], signature: &[u8]) {
    let public = dir.join("public.pem");
    let message = dir.join("data.bin");
    let sig = dir.join("sig.bin");
    std::fs::write(&public, pem).unwrap();
    std::fs::write(&message, data).unwrap();
    std::fs::write(&sig, signature).unwrap();
    let mut cmd = Command::new("openssl");
    if algorithm == "ED25519" {
        cmd.args(["pkeyutl", "-verify", "-pubin", "-inkey"])
            .arg(&public)
            .arg("-rawin")
            .arg("-in")
            .arg(&message)
            .arg("-sigfile")
            .arg(&sig);
    } else {
        let digest = match &algorithm[algorithm.len() - 3..] {
            "256" => "-sha256",
            "384" => "-sha384",
            _ => "-sha512",
        };
        cmd.args(["dgst", digest, "-verify"]).arg(&public);
        if algorithm.starts_with("RSASSA_PSS") {
            // Salt as long as the digest, as Infisical and AWS KMS use.
            cmd.args([
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:-1",
            ]);
        }
        cmd.arg("-signature").arg(&sig).arg(&message);
    }
    let out = cmd.output().expect("openssl (apt-get install openssl)");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && (said.contains("Verified OK") || said.contains("Signature Verified Successfully")),
        "openssl refused a {algorithm} signature: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn digest(algorithm: &str, data: &[u8]) -> Vec<u8> {
    let alg = match &algorithm[algorithm.len() - 3..] {
        "256" => &aws_lc_rs::digest::SHA256,
        "384" => &aws_lc_rs::digest::SHA384,
        _ => &aws_lc_rs::digest::SHA512,
    };
    aws_lc_rs::digest::digest(alg, data).as_ref().to_vec()
}

#[test]
fn every_signing_algorithm_verifies_with_openssl() {
    let api = Api::start(&[]);
    let admin = api.admin_token();
    let p = api.project();
    let tmp = tempfile::tempdir().unwrap();
    let data = b"signed through the Strongroom API".to_vec();
    let mut checked = 0;
    for (key_type, expected) in [
        ("RSA_2048", 6),
        ("RSA_3072", 6),
        ("RSA_4096", 6),
        ("ECC_NIST_P256", 3),
        ("ECC_NIST_P384", 3),
        ("ECC_NIST_P521", 3),
        ("ED25519", 1),
    ] {
        let id = create(&api, &admin, &p, &key_type.to_lowercase(), key_type);
        let k = format!("/api/v1/kms/keys/{id}");
        let created = ok(api.get(&k, &admin));
        assert_eq!(created["key"]["keyUsage"], "sign-verify");
        let algorithms = ok(api.get(&format!("{k}/signing-algorithms"), &admin));
        let algorithms: Vec<String> = algorithms["signingAlgorithms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(algorithms.len(), expected, "{key_type}: {algorithms:?}");
        let public = ok(api.get(&format!("{k}/public-key"), &admin));
        let pem = public["publicKeyPem"].as_str().unwrap().to_owned();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(!unb64(&public["publicKey"]).is_empty());
        for algorithm in &algorithms {
            let signed = ok(api.post(
                &format!("{k}/sign"),
                &admin,
                json!({"data": b64(&data), "signingAlgorithm": algorithm}),
            ));
            assert_eq!(signed["keyId"], id.as_str());
            assert_eq!(signed["signingAlgorithm"], algorithm.as_str());
            let signature = unb64(&signed["signature"]);
            openssl_verifies(tmp.path(), &pem, algorithm, &data, &signature);
            let verified = ok(api.post(
                &format!("{k}/verify"),
                &admin,
                json!({"data": b64(&data), "signature": signed["signature"], "signingAlgorithm": algorithm}),
            ));
            assert_eq!(verified["signatureValid"], true, "{algorithm}");
            assert_eq!(verified["keyId"], id.as_str());
            let wrong = ok(api.post(
                &format!("{k}/verify"),
                &admin,
                json!({"data": b64(b"other data"), "signature": signed["signature"], "signingAlgorithm": algorithm}),
            ));
            assert_eq!(wrong["signatureValid"], false, "{algorithm}");
            // A digest signed with isDigest verifies over the message.
            if algorithm != "ED25519" {
                let signed = ok(api.post(
                    &format!("{k}/sign"),
                    &admin,
                    json!({"data": b64(&digest(algorithm, &data)), "signingAlgorithm": algorithm, "isDigest": true}),
                ));
                openssl_verifies(
                    tmp.path(),
                    &pem,
                    algorithm,
                    &data,
                    &unb64(&signed["signature"]),
                );
            }
            checked += 1;
        }
        // After a rotation the new version signs; old signatures still
        // verify (any readable version).
        let old = ok(api.post(
            &format!("{k}/sign"),
            &admin,
            json!({"data": b64(&data), "signingAlgorithm": algorithms[0]}),
        ));
        ok(api.post(&format!("{k}/rotate"), &admin, json!({})));
        let new_pem = ok(api.get(&format!("{k}/public-key"), &admin))["publicKeyPem"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(new_pem, pem);
        let old_pem = ok(api.get(&format!("{k}/public-key?version=1"), &admin))["publicKeyPem"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(old_pem, pem);
        let verified = ok(api.post(
            &format!("{k}/verify"),
            &admin,
            json!({"data": b64(&data), "signature": old["signature"], "signingAlgorithm": algorithms[0]}),
        ));
        assert_eq!(verified["signatureValid"], true);
    }
    assert_eq!(checked, 28);
}
