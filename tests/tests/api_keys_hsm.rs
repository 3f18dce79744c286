//! HSM-resident keys over HTTPS: a production install on a SoftHSM2
//! PKCS#11 root, `location: "hsm"` keys created through the API (an
//! ECC_NIST_P256 signing key and an aes-256-gcm key), used, rotated and
//! checked: the signature verifies with `openssl` under the exported
//! public key, the token holds the keys, and the key objects say `hsm`.
//! (On a dev server, `location: "hsm"` is 422 `hsm_unavailable`: see
//! `api_keys.rs`; an algorithm the token cannot hold, 422
//! `hsm_unsupported_algorithm`.)

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use common::api_client::{Api, assert_error};
use common::*;

use common::softhsm::MODULE as SOFTHSM;

/// The environment variable through which the test binary runs
/// [`make_identity_in_configured_install`] in a child process.
const IDENTITY_HELPER: &str = "STRONGROOM_TEST_MAKE_IDENTITY_IN";

/// Not a test of its own: with [`IDENTITY_HELPER`] naming a config file,
/// opens that install (the token found through the `SOFTHSM2_CONF` the
/// parent set for this child process), creates an organization, a project
/// and a super-admin identity with Universal Auth, and prints them. A
/// production install has no command that makes a first identity yet, and
/// the PKCS#11 module reads its configuration from the environment, which
/// a test must not change in its own process.
#[test]
#[ignore = "a helper that hsm_resident_keys_over_https runs in a child process"]
fn make_identity_in_configured_install() {
    let Some(config_file) = std::env::var_os(IDENTITY_HELPER) else {
        return;
    };
    let mut config = api::config::load(
        Some(Path::new(&config_file)),
        api::config::Mode::Production,
        &api::config::Env::default(),
        &api::config::Overrides::default(),
    )
    .unwrap();
    api::install::prepare_data_dir(&mut config, false).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (project, client_id, secret) = runtime.block_on(async {
        let kms = api::install::open_existing(&config).await.unwrap();
        let actor = kms_core::service::Actor::new("test", None);
        let org = kms.create_organization(&actor, "hsm").await.unwrap();
        let project = kms.create_project(&actor, org, "hsm").await.unwrap();
        let (client_id, secret) = api::bootstrap::ensure_admin_identity(&kms, None, org)
            .await
            .unwrap();
        kms.close().await;
        (project, client_id, secret.expose().to_owned())
    });
    println!("\nPROJECT={project} CLIENT={client_id} SECRET={secret} END");
}

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split(&format!("{name}="))
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
}

fn ok(a: common::api_client::Answer) -> Value {
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

#[test]
fn hsm_resident_keys_over_https() {
    if !common::softhsm::available("HSM-resident keys over HTTPS test") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let conf = common::softhsm::token(tmp.path());
    let tls = api::bootstrap::ensure_dev_tls(tmp.path()).unwrap();
    let config = tmp.path().join("strongroom.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[api]\ntls_cert = \"tls/server.pem\"\ntls_key = \"tls/server.key\"\n\
             [root]\nprovider = \"pkcs11\"\nmodule = \"{SOFTHSM}\"\ntoken_label = \"strongroom-e2e\"\n\
             pin_file = \"pin\"\nkey_label = \"strongroom-root\"\n"
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let with_hsm = |args: &[&str]| {
        let mut cmd = strongroom(args);
        cmd.env("SOFTHSM2_CONF", &conf);
        cmd
    };
    let (status, _, stderr) = run(with_hsm(&["init", "--config", cfg]));
    assert!(status.success(), "{stderr}");

    let helper = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "make_identity_in_configured_install",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(IDENTITY_HELPER, &config)
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&helper.stdout);
    let line = out
        .lines()
        .find(|l| l.contains("PROJECT=") && l.contains(" END"))
        .unwrap_or_else(|| {
            panic!(
                "no identity from the helper:\n{out}\n{}",
                String::from_utf8_lossy(&helper.stderr)
            )
        })
        .to_owned();
    let (project, client_id, secret) = (
        field(&line, "PROJECT").to_owned(),
        field(&line, "CLIENT").to_owned(),
        field(&line, "SECRET").to_owned(),
    );

    let mut server = Process::spawn(with_hsm(&[
        "serve",
        "--config",
        cfg,
        "--api-listen",
        "127.0.0.1:0",
    ]));
    server.wait_ready().unwrap();
    let port = api_port(&server.stdout());
    let ca = std::fs::read(&tls.ca_certificate).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let api = Api::attach(
        format!("https://localhost:{port}"),
        &ca,
        Value::Null,
        server,
        dir,
    );
    let login = ok(api.login(&client_id, &secret));
    let token = login["accessToken"].as_str().unwrap().to_owned();

    // An ECDSA P-256 signing key in the token.
    let signer = ok(api.post(
        "/api/v1/kms/keys",
        &token,
        json!({"projectId": project, "name": "hsm-signer", "keyUsage": "sign-verify",
               "encryptionAlgorithm": "ECC_NIST_P256", "location": "hsm"}),
    ));
    assert_eq!(signer["key"]["location"], "hsm", "{signer}");
    let s = signer["key"]["id"].as_str().unwrap().to_owned();
    let data = b"signed inside the HSM";
    let signed = ok(api.post(
        &format!("/api/v1/kms/keys/{s}/sign"),
        &token,
        json!({"data": B64.encode(data), "signingAlgorithm": "ECDSA_SHA_256"}),
    ));
    let signature = B64.decode(signed["signature"].as_str().unwrap()).unwrap();
    let public = ok(api.get(&format!("/api/v1/kms/keys/{s}/public-key"), &token));
    let work = tmp.path().join("verify");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(
        work.join("public.pem"),
        public["publicKeyPem"].as_str().unwrap(),
    )
    .unwrap();
    std::fs::write(work.join("data.bin"), data).unwrap();
    std::fs::write(work.join("sig.der"), &signature).unwrap();
    let out = Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-verify",
            "public.pem",
            "-signature",
            "sig.der",
            "data.bin",
        ])
        .current_dir(&work)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verified = ok(api.post(
        &format!("/api/v1/kms/keys/{s}/verify"),
        &token,
        json!({"data": B64.encode(data), "signature": signed["signature"], "signingAlgorithm": "ECDSA_SHA_256"}),
    ));
    assert_eq!(verified["signatureValid"], true);

    // An AES-256-GCM key in the token: encrypt, rotate, old and new decrypt.
    let aes = ok(api.post(
        "/api/v1/kms/keys",
        &token,
        json!({"projectId": project, "name": "hsm-aes", "encryptionAlgorithm": "aes-256-gcm", "location": "hsm"}),
    ));
    assert_eq!(aes["key"]["location"], "hsm");
    let a = aes["key"]["id"].as_str().unwrap().to_owned();
    let k = format!("/api/v1/kms/keys/{a}");
    let c1 = ok(api.post(
        &format!("{k}/encrypt"),
        &token,
        json!({"plaintext": B64.encode(b"resident"), "context": B64.encode(b"ctx")}),
    ))["ciphertext"]
        .clone();
    let rotated = ok(api.post(&format!("{k}/rotate"), &token, json!({})));
    assert_eq!(rotated["key"]["version"], 2);
    assert_eq!(rotated["key"]["location"], "hsm");
    let c2 = ok(api.post(
        &format!("{k}/encrypt"),
        &token,
        json!({"plaintext": B64.encode(b"rotated")}),
    ))["ciphertext"]
        .clone();
    for (c, context, expected) in [
        (&c1, Some(B64.encode(b"ctx")), &b"resident"[..]),
        (&c2, None, &b"rotated"[..]),
    ] {
        let mut body = json!({"ciphertext": c});
        if let Some(ctx) = context {
            body["context"] = json!(ctx);
        }
        let plain = ok(api.post(&format!("{k}/decrypt"), &token, body));
        assert_eq!(
            B64.decode(plain["plaintext"].as_str().unwrap()).unwrap(),
            expected
        );
    }
    assert_error(
        &api.post(&format!("{k}/decrypt"), &token, json!({"ciphertext": c1})),
        422,
        "not_authentic",
    );

    // Algorithms the token cannot hold: a clear refusal, nothing created.
    let refused = api.post(
        "/api/v1/kms/keys",
        &token,
        json!({"projectId": project, "name": "hsm-ed", "encryptionAlgorithm": "ED25519", "location": "hsm"}),
    );
    assert_error(&refused, 422, "hsm_unsupported_algorithm");
    let listed = ok(api.get(&format!("/api/v1/kms/keys?projectId={project}"), &token));
    assert_eq!(listed["totalCount"], 2, "{listed}");
}
