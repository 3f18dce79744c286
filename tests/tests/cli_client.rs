//! The `strongroom` command-line client, end to end: the real binary
//! against a real dev server over TLS, configured the way a user would
//! (`STRONGROOM_API_URL`, `STRONGROOM_CA_CERT`, `STRONGROOM_CLIENT_ID`,
//! `STRONGROOM_CLIENT_SECRET`, `STRONGROOM_TOKEN`).

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};

use serde_json::Value;

use common::api_client::Api;
use common::strongroom;

/// Runs `strongroom args…` with `env` and `stdin`; the environment holds
/// only what the test gives it (see `common::strongroom`).
fn run(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut cmd = strongroom(args);
    // No token file of the developer's own.
    cmd.env("HOME", "/nonexistent")
        .env_remove("XDG_CONFIG_HOME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The server's URL and CA, as a user sets them.
fn server(api: &Api) -> Vec<(&'static str, String)> {
    vec![
        (
            "STRONGROOM_API_URL",
            api.bootstrap["apiUrl"].as_str().unwrap().to_owned(),
        ),
        (
            "STRONGROOM_CA_CERT",
            api.bootstrap["caCertificate"].as_str().unwrap().to_owned(),
        ),
    ]
}

/// Server plus the bootstrap identity's client credentials.
fn credentials(api: &Api) -> Vec<(&'static str, String)> {
    let mut env = server(api);
    env.push((
        "STRONGROOM_CLIENT_ID",
        api.bootstrap["identityClientId"]
            .as_str()
            .unwrap()
            .to_owned(),
    ));
    env.push((
        "STRONGROOM_CLIENT_SECRET",
        api.bootstrap["identityClientSecret"]
            .as_str()
            .unwrap()
            .to_owned(),
    ));
    env
}

fn refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn with<'a>(
    env: &'a [(&'static str, String)],
    more: &[(&'static str, &'a str)],
) -> Vec<(&'static str, &'a str)> {
    let mut out = refs(env);
    out.extend_from_slice(more);
    out
}

#[test]
fn login_then_whoami() {
    let api = Api::start(&[]);
    let creds = credentials(&api);
    let me: Value =
        serde_json::from_str(&ok(&run(&["whoami", "--json"], &refs(&creds), b""))).unwrap();
    let id = me["identityId"].as_str().unwrap().to_owned();
    assert_eq!(me["orgId"], api.bootstrap["organizationId"]);
    assert_eq!(me["superAdmin"], true);
    assert_eq!(me["authMethod"], "universal-auth");
    assert!(me["tokenExpiresIn"].as_i64().unwrap() > 0);

    // `login` prints the token alone; it works as STRONGROOM_TOKEN.
    let out = run(&["login"], &refs(&creds), b"");
    let token = ok(&out).trim().to_owned();
    assert!(!token.is_empty() && !token.contains(char::is_whitespace));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expires in"));
    let text = ok(&run(
        &["whoami"],
        &with(&server(&api), &[("STRONGROOM_TOKEN", &token)]),
        b"",
    ));
    assert!(text.contains(&id), "{text}");
    assert!(text.contains("universal-auth"), "{text}");
    let a = api.get("/api/v1/auth/whoami", &token);
    assert_eq!(a.body["identityId"], id.as_str());

    // `login --json`: the server's answer.
    let answer: Value =
        serde_json::from_str(&ok(&run(&["login", "--json"], &refs(&creds), b""))).unwrap();
    assert!(answer["accessToken"].is_string());
    assert_eq!(answer["tokenType"], "Bearer");

    // `login --save` keeps it in a 0600 file later commands read.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sub").join("token");
    let file_s = file.to_str().unwrap();
    let text = ok(&run(
        &["login", "--save", "--token-file", file_s],
        &refs(&creds),
        b"",
    ));
    assert!(text.contains("token saved"), "{text}");
    assert!(!text.contains(&std::fs::read_to_string(&file).unwrap().trim().to_owned()));
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let me: Value = serde_json::from_str(&ok(&run(
        &["whoami", "--json"],
        &with(&server(&api), &[("STRONGROOM_TOKEN_FILE", file_s)]),
        b"",
    )))
    .unwrap();
    assert_eq!(me["identityId"], id.as_str());

    // The secret from a file instead of the environment.
    let secret_file = dir.path().join("secret");
    std::fs::write(
        &secret_file,
        format!(
            "{}\n",
            api.bootstrap["identityClientSecret"].as_str().unwrap()
        ),
    )
    .unwrap();
    let srv = server(&api);
    let env = with(
        &srv,
        &[(
            "STRONGROOM_CLIENT_ID",
            api.bootstrap["identityClientId"].as_str().unwrap(),
        )],
    );
    let token = ok(&run(
        &[
            "login",
            "--client-secret-file",
            secret_file.to_str().unwrap(),
        ],
        &env,
        b"",
    ));
    assert!(!token.trim().is_empty());
}

#[test]
fn errors_are_clear_and_exit_non_zero() {
    let api = Api::start(&[]);
    let creds = credentials(&api);

    // No credentials at all.
    let err = failed(&run(&["whoami"], &refs(&server(&api)), b""));
    assert!(err.starts_with("error: not logged in"), "{err}");
    // A wrong secret: the server's code and message.
    let srv = server(&api);
    let wrong = with(
        &srv,
        &[
            (
                "STRONGROOM_CLIENT_ID",
                api.bootstrap["identityClientId"].as_str().unwrap(),
            ),
            ("STRONGROOM_CLIENT_SECRET", "not-the-secret"),
        ],
    );
    let err = failed(&run(&["login"], &wrong, b""));
    assert!(err.contains("HTTP 401"), "{err}");
    assert!(err.contains("request id"), "{err}");
    assert!(!err.contains("not-the-secret"), "{err}");
    // A forged token.
    let err = failed(&run(
        &["whoami"],
        &with(&server(&api), &[("STRONGROOM_TOKEN", "srt_forged")]),
        b"",
    ));
    assert!(
        err.contains("HTTP 401") && err.contains("code invalid_token"),
        "{err}"
    );
    assert!(!err.contains("srt_forged"), "{err}");
    // A key that does not exist (before the keys routes: no such route).
    let err = failed(&run(
        &["key", "get", "0190f0aa-0000-7000-8000-000000000009"],
        &refs(&creds),
        b"",
    ));
    // `not_found` without the keys routes, `key_not_found` with them.
    assert!(
        err.contains("HTTP 404, code ") && err.contains("not_found"),
        "{err}"
    );
    // Not a key id: refused before any request.
    let err = failed(&run(
        &["key", "get", "../../identities"],
        &refs(&creds),
        b"",
    ));
    assert!(err.contains("is not a key id"), "{err}");
    // No server, and an untrusted one.
    let err = failed(&run(&["whoami"], &[("STRONGROOM_TOKEN", "x")], b""));
    assert!(err.contains("STRONGROOM_API_URL"), "{err}");
    let untrusted: Vec<(&'static str, String)> = creds
        .iter()
        .filter(|(k, _)| *k != "STRONGROOM_CA_CERT")
        .cloned()
        .collect();
    let err = failed(&run(&["whoami"], &refs(&untrusted), b""));
    assert!(
        err.contains("cannot reach") || err.contains("HTTPS client"),
        "{err}"
    );
    // The client secret is never a command-line argument: a usage error.
    let out = run(&["login", "--client-secret", "s3cret"], &refs(&creds), b"");
    assert_eq!(out.status.code(), Some(2));
}

/// The id of a key created through the CLI.
fn create_key(
    env: &[(&'static str, &str)],
    project: &str,
    name: &str,
    usage: &str,
    algorithm: &str,
) -> String {
    let out = ok(&run(
        &[
            "key",
            "create",
            "--project",
            project,
            "--name",
            name,
            "--usage",
            usage,
            "--algorithm",
            algorithm,
            "--json",
        ],
        env,
        b"",
    ));
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["key"]["name"], name);
    assert_eq!(answer["key"]["encryptionAlgorithm"], algorithm);
    answer["key"]["id"].as_str().unwrap().to_owned()
}

#[test]
fn key_lifecycle_and_encryption_through_the_cli() {
    let api = Api::start(&[]);
    let creds = credentials(&api);
    let env = refs(&creds);
    let p = api.project();
    let id = create_key(&env, &p, "cli-aes", "encrypt-decrypt", "aes-256-gcm");

    // Human output of get and list.
    let text = ok(&run(&["key", "get", &id], &env, b""));
    assert!(
        text.contains(&id) && text.contains("cli-aes") && text.contains("aes-256-gcm"),
        "{text}"
    );
    let text = ok(&run(&["key", "list", "--project", &p], &env, b""));
    assert!(text.contains(&id), "{text}");
    let listed: Value = serde_json::from_str(&ok(&run(
        &["key", "list", "--json", "--search", "cli-", "--project", &p],
        &env,
        b"",
    )))
    .unwrap();
    assert_eq!(listed["totalCount"], 1, "{listed}");
    // The project from the environment.
    let text = ok(&run(
        &["key", "list"],
        &with(&creds, &[("STRONGROOM_PROJECT_ID", &p)]),
        b"",
    ));
    assert!(text.contains(&id), "{text}");

    // Round trip through standard input and files, binary-safe.
    let plaintext: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let ciphertext = ok(&run(&["encrypt", "--key", &id], &env, &plaintext));
    let ciphertext = ciphertext.trim().to_owned();
    assert!(!ciphertext.is_empty());
    let out = run(&["decrypt", "--key", &id], &env, ciphertext.as_bytes());
    ok(&out);
    assert_eq!(out.stdout, plaintext);
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    std::fs::write(&input, b"from a file").unwrap();
    let c2 = ok(&run(
        &["encrypt", "--key", &id, "--in", input.to_str().unwrap()],
        &env,
        b"",
    ));
    ok(&run(
        &["decrypt", "--key", &id, "--out", output.to_str().unwrap()],
        &env,
        c2.as_bytes(),
    ));
    assert_eq!(std::fs::read(&output).unwrap(), b"from a file");
    assert_eq!(
        std::fs::metadata(&output).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Rotation: a new version, and the old ciphertext still decrypts.
    let rotated: Value =
        serde_json::from_str(&ok(&run(&["key", "rotate", &id, "--json"], &env, b""))).unwrap();
    assert_eq!(rotated["key"]["version"], 2, "{rotated}");
    let out = run(&["decrypt", "--key", &id], &env, ciphertext.as_bytes());
    ok(&out);
    assert_eq!(out.stdout, plaintext);
    let c3 = ok(&run(&["encrypt", "--key", &id], &env, b"after rotation"));
    assert_ne!(c3.trim(), ciphertext);
    let out = run(&["decrypt", "--key", &id], &env, c3.as_bytes());
    assert_eq!(ok(&out), "after rotation");

    // A tampered ciphertext fails with the server's error.
    let mut bad = ciphertext.clone().into_bytes();
    let last = bad.len() - 3;
    bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
    let err = failed(&run(&["decrypt", "--key", &id], &env, &bad));
    assert!(err.contains("HTTP 4"), "{err}");

    // Delete: gone afterwards.
    ok(&run(&["key", "delete", &id], &env, b""));
    let err = failed(&run(&["key", "get", &id], &env, b""));
    // `not_found` without the keys routes, `key_not_found` with them.
    assert!(
        err.contains("HTTP 404, code ") && err.contains("not_found"),
        "{err}"
    );
}

#[test]
fn sign_then_verify_through_the_cli() {
    let api = Api::start(&[]);
    let creds = credentials(&api);
    let env = refs(&creds);
    let p = api.project();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(&data, b"the release tarball").unwrap();
    let data = data.to_str().unwrap();

    for (n, (algorithm, signing)) in [
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("RSA_2048", "RSASSA_PSS_SHA_256"),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = create_key(&env, &p, &format!("signer-{n}"), "sign-verify", algorithm);
        let signature = ok(&run(
            &["sign", "--key", &id, "--algorithm", signing, "--in", data],
            &env,
            b"",
        ));
        let signature = signature.trim().to_owned();
        let text = ok(&run(
            &[
                "verify",
                "--key",
                &id,
                "--algorithm",
                signing,
                "--signature",
                &signature,
                "--in",
                data,
            ],
            &env,
            b"",
        ));
        assert!(text.contains("signature valid"), "{text}");
        // From standard input, the signature from a file, JSON output.
        let sig_file = dir.path().join(format!("{signing}.sig"));
        std::fs::write(&sig_file, format!("{signature}\n")).unwrap();
        let answer: Value = serde_json::from_str(&ok(&run(
            &[
                "verify",
                "--key",
                &id,
                "--algorithm",
                signing,
                "--signature-file",
                sig_file.to_str().unwrap(),
                "--json",
            ],
            &env,
            b"the release tarball",
        )))
        .unwrap();
        assert_eq!(answer["signatureValid"], true, "{answer}");
        assert_eq!(answer["keyId"], id.as_str());
        // Other data: not valid, exit status 1.
        let err = failed(&run(
            &[
                "verify",
                "--key",
                &id,
                "--algorithm",
                signing,
                "--signature",
                &signature,
            ],
            &env,
            b"a tampered tarball",
        ));
        assert!(err.contains("NOT valid"), "{err}");
    }
}
