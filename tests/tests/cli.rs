//! End-to-end tests of the `strongroom` binary: each test runs the real
//! program in its own temporary directory, with `--api-listen 127.0.0.1:0`,
//! and checks what an operator or a script sees.

mod common;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

#[test]
fn dev_server_bootstraps_serves_probes_stops_and_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = start_dev(&data, &["--kmip-listen", "127.0.0.1:0"]);
    let data = data.canonicalize().unwrap();
    assert_eq!(mode(&data), 0o700, "the data directory must be 0700");

    // bootstrap.json: exactly the documented keys.
    let bootstrap = read_bootstrap(&data);
    let mut keys: Vec<&str> = bootstrap
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "apiAddress",
            "apiUrl",
            "caCertificate",
            "identityClientId",
            "identityClientSecret",
            "kmipAddress",
            "kmipCaCertificate",
            "kmipClientCertificate",
            "kmipClientKey",
            "organizationId",
            "projectId"
        ]
    );
    let port = port_of(&bootstrap);
    // Port 0 was asked for: bootstrap.json and the summary show the bound one.
    let kmip_address = bootstrap["kmipAddress"].as_str().unwrap();
    let kmip_port: u16 = kmip_address
        .strip_prefix("127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("kmipAddress {kmip_address}"));
    assert_ne!(kmip_port, 0);
    assert!(
        server
            .stdout()
            .lines()
            .any(|l| l.trim() == format!("KMIP            {kmip_address}")),
        "{}",
        server.stdout()
    );
    let ca_path = PathBuf::from(bootstrap["caCertificate"].as_str().unwrap());
    assert_eq!(ca_path, data.join("tls/ca.pem"));
    assert!(is_uuid(&bootstrap["organizationId"]), "{bootstrap}");
    assert!(is_uuid(&bootstrap["projectId"]), "{bootstrap}");
    for key in [
        "root.key",
        "tls/server.key",
        "tls/ca.key",
        "kmip/client.key",
    ] {
        assert_eq!(mode(&data.join(key)), 0o600, "{key} must be 0600");
    }

    // It says where things are.
    let stdout = server.stdout();
    for expected in [
        data.display().to_string(),
        format!("https://127.0.0.1:{port}"),
        data.join("bootstrap.json").display().to_string(),
    ] {
        assert!(
            stdout.contains(&expected),
            "stdout lacks {expected}:\n{stdout}"
        );
    }
    assert!(server.stderr().contains("ready"));

    // The probes, over TLS verified with the written CA.
    let ca = std::fs::read(&ca_path).unwrap();
    let (status, body) = get_json(port, &ca, "/healthz");
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
    let (status, body) = get_json(port, &ca, "/readyz");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get_json(port, &ca, "/no-such-route");
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    // By IP address too, with TLS 1.3 only and TLS 1.2 only.
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let (status, _) = https_get(port, "127.0.0.1", &ca, "/healthz", &[version]).unwrap();
        assert_eq!(status, 200);
    }
    // A client that trusts another CA must not get through.
    let other_ca = std::fs::read(
        // A CA of a second, unrelated dev install.
        {
            let other = tmp.path().join("other");
            std::fs::create_dir(&other).unwrap();
            let tls = api::bootstrap::ensure_dev_tls(&other).unwrap();
            tls.ca_certificate
        },
    )
    .unwrap();
    let refused = https_get(port, "localhost", &other_ca, "/healthz", TLS_ANY)
        .expect_err("a server certificate from another CA must be refused");
    assert!(
        refused.to_string().contains("UnknownIssuer"),
        "refused for the wrong reason: {refused}"
    );

    // SIGTERM stops it cleanly.
    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}; stderr:\n{}",
        server.stderr()
    );
    assert!(server.stderr().contains("stopped"));
    drop(server);

    // A restart reuses the install, the default tenancy and the CA.
    let mut again = start_dev(&data, &[]);
    let second = read_bootstrap(&data);
    assert_eq!(second["organizationId"], bootstrap["organizationId"]);
    assert_eq!(second["projectId"], bootstrap["projectId"]);
    // The first identity is created once: its secret exists only here.
    assert_eq!(second["identityClientId"], bootstrap["identityClientId"]);
    assert_eq!(
        second["identityClientSecret"],
        bootstrap["identityClientSecret"]
    );
    assert_eq!(
        std::fs::read(&ca_path).unwrap(),
        ca,
        "the dev CA must be reused"
    );
    let (status, _) = get_json(port_of(&second), &ca, "/healthz");
    assert_eq!(status, 200);
    assert!(again.terminate().success());
    drop(again);

    // The audit chain of the fresh install verifies.
    let (status, stdout, stderr) = run(strongroom(&[
        "audit",
        "verify",
        "--dev",
        "--data-dir",
        data.to_str().unwrap(),
    ]));
    assert!(status.success(), "{stderr}");
    let count: u64 = stdout
        .trim()
        .strip_prefix("audit chain intact: ")
        .and_then(|s| s.strip_suffix(" records"))
        .unwrap_or_else(|| panic!("unexpected output {stdout:?}"))
        .parse()
        .unwrap();
    assert!(count >= 1, "{stdout}");
}

#[test]
fn audit_verify_names_the_first_tampered_record() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = start_dev(&data, &[]);
    assert!(server.terminate().success());
    drop(server);
    let verify = || {
        run(strongroom(&[
            "audit",
            "verify",
            "--dev",
            "--data-dir",
            data.to_str().unwrap(),
        ]))
    };
    let (status, stdout, stderr) = verify();
    assert!(status.success(), "{stderr}");
    assert!(stdout.starts_with("audit chain intact: "), "{stdout}");

    // Edit the second record behind Strongroom's back.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let changed = runtime.block_on(async {
        use sqlx::Connection;
        let options =
            sqlx::sqlite::SqliteConnectOptions::new().filename(data.join("strongroom.db"));
        let mut db = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        // Records live in `audit_entries`, their strings in `audit_names`.
        sqlx::query("INSERT INTO audit_names (name) VALUES ('mallory')")
            .execute(&mut db)
            .await
            .unwrap();
        let done = sqlx::query(
            "UPDATE audit_entries SET actor = \
             (SELECT id FROM audit_names WHERE name = 'mallory') WHERE seq = 2",
        )
        .execute(&mut db)
        .await
        .unwrap();
        db.close().await.unwrap();
        done.rows_affected()
    });
    assert_eq!(
        changed, 1,
        "the dev install should have a second audit record"
    );

    let (status, stdout, stderr) = verify();
    assert_eq!(status.code(), Some(1), "{stdout}{stderr}");
    assert!(!stdout.contains("intact"), "{stdout}");
    let line = error_line(&stderr);
    assert!(line.contains("audit record 2"), "{line}");
}

#[test]
fn loose_key_file_stops_start_up_and_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // First start, with JSON logs from the environment.
    let mut cmd = strongroom(&[
        "serve",
        "--dev",
        "--data-dir",
        data.to_str().unwrap(),
        "--api-listen",
        "127.0.0.1:0",
    ]);
    cmd.env("STRONGROOM_LOG_FORMAT", "json");
    let mut server = Process::spawn(cmd);
    server.wait_ready().unwrap();
    // Ctrl-C stops it as cleanly as SIGTERM.
    assert!(server.signal("INT").success());
    let logs = server.stderr();
    drop(server);
    let mut saw_ready = false;
    for line in logs.lines() {
        let record: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
        saw_ready |= record["message"] == "ready";
    }
    assert!(saw_ready, "{logs}");

    let key = data.canonicalize().unwrap().join("root.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (status, _, stderr) = run(strongroom(&[
        "serve",
        "--dev",
        "--data-dir",
        data.to_str().unwrap(),
        "--api-listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    let line = error_line(&stderr);
    assert!(line.contains(&key.display().to_string()), "{line}");
    assert!(line.contains("chmod 600"), "{line}");

    // audit verify refuses it the same way.
    let (status, _, stderr) = run(strongroom(&[
        "audit",
        "verify",
        "--dev",
        "--data-dir",
        data.to_str().unwrap(),
    ]));
    assert_eq!(status.code(), Some(1));
    assert!(error_line(&stderr).contains(&key.display().to_string()));
}

#[test]
fn unusable_data_directories_fail_clearly() {
    let tmp = tempfile::tempdir().unwrap();

    // Missing parent: named, and not created behind the operator's back.
    let parent = tmp.path().join("not-mounted");
    let data = parent.join("data");
    let (status, _, stderr) = run(strongroom(&[
        "serve",
        "--dev",
        "--data-dir",
        data.to_str().unwrap(),
        "--api-listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    let line = error_line(&stderr);
    assert!(line.contains(&parent.display().to_string()), "{line}");
    assert!(line.contains("does not exist"), "{line}");
    assert!(!parent.exists());

    // Read-only data directory (refused even when running as root).
    let read_only = tmp.path().join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o500)).unwrap();
    let (status, _, stderr) = run(strongroom(&[
        "serve",
        "--dev",
        "--data-dir",
        read_only.to_str().unwrap(),
        "--api-listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    let line = error_line(&stderr);
    assert!(line.contains("read-only"), "{line}");
    assert!(line.contains(&read_only.display().to_string()), "{line}");
    assert_eq!(std::fs::read_dir(&read_only).unwrap().count(), 0);
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o700)).unwrap();

    // A missing install is named by audit verify.
    let empty = tmp.path().join("empty");
    let (status, _, stderr) = run(strongroom(&[
        "audit",
        "verify",
        "--dev",
        "--data-dir",
        empty.to_str().unwrap(),
    ]));
    assert_eq!(status.code(), Some(1));
    assert!(error_line(&stderr).contains("does not exist"), "{stderr}");
}

#[test]
fn init_creates_an_install_once_and_refuses_to_overwrite_it() {
    let tmp = tempfile::tempdir().unwrap();
    let passphrase = tmp.path().join("passphrase");
    std::fs::write(&passphrase, "correct horse battery staple\n").unwrap();
    std::fs::set_permissions(&passphrase, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = tmp.path().join("strongroom.toml");
    std::fs::write(
        &config,
        "data_dir = \"data\"\n[root]\nprovider = \"software\"\npassphrase_file = \"passphrase\"\n",
    )
    .unwrap();
    let data = tmp.path().join("data");

    let (status, stdout, stderr) = run(strongroom(&["init", "--config", config.to_str().unwrap()]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("initialised install"), "{stdout}");
    assert_eq!(mode(&data), 0o700);
    let seal = data.join("root.seal");
    let sealed = std::fs::read(&seal).unwrap();
    assert!(
        !String::from_utf8_lossy(&sealed).contains("correct horse"),
        "the passphrase must not be stored"
    );

    let (status, _, stderr) = run(strongroom(&["init", "--config", config.to_str().unwrap()]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    let line = error_line(&stderr);
    assert!(line.contains("already initialised"), "{line}");
    assert!(line.contains(&seal.display().to_string()), "{line}");
    assert_eq!(
        std::fs::read(&seal).unwrap(),
        sealed,
        "root.seal must be untouched"
    );

    // Serving it needs a TLS certificate in the config.
    let (status, _, stderr) = run(strongroom(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--api-listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(status.code(), Some(1));
    assert!(error_line(&stderr).contains("tls_cert"), "{stderr}");

    // With a certificate it serves, and stops cleanly.
    let tls = api::bootstrap::ensure_dev_tls(tmp.path()).unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[api]\ntls_cert = \"tls/server.pem\"\ntls_key = \"tls/server.key\"\n");
    std::fs::write(&config, text).unwrap();
    let mut server = Process::spawn(strongroom(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--api-listen",
        "127.0.0.1:0",
    ]));
    server.wait_ready().unwrap();
    let port = api_port(&server.stdout());
    let ca = std::fs::read(&tls.ca_certificate).unwrap();
    let (status, body) = get_json(port, &ca, "/readyz");
    assert_eq!(status, 200, "{body}");
    // `init` wrote the first identity's credentials, once, 0600.
    let bootstrap = read_bootstrap(&data);
    assert!(is_uuid(&bootstrap["identityClientId"]), "{bootstrap}");
    assert!(
        bootstrap["identityClientSecret"]
            .as_str()
            .is_some_and(|s| s.starts_with("srcs_")),
        "{bootstrap}"
    );
    assert!(server.terminate().success(), "{}", server.stderr());
}

#[test]
fn init_without_a_passphrase_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("strongroom.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").unwrap();
    let (status, _, stderr) = run(strongroom(&["init", "--config", config.to_str().unwrap()]));
    assert_eq!(status.code(), Some(1));
    assert!(
        error_line(&stderr).contains("STRONGROOM_ROOT_PASSPHRASE"),
        "{stderr}"
    );
    assert!(!tmp.path().join("data").exists());
}

#[test]
fn unknown_config_key_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("strongroom.toml");
    std::fs::write(
        &config,
        "data_dir = \"data\"\n\n[log]\nformat = \"json\"\ncolour = true\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    for args in [
        &["serve", "--config", config][..],
        &["init", "--config", config],
        &["audit", "verify", "--config", config],
    ] {
        let (status, _, stderr) = run(strongroom(args));
        assert_eq!(status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: one line expected: {stderr}"
        );
        let line = error_line(&stderr);
        assert!(line.contains(config), "{line}");
        assert!(line.contains("log.colour"), "{line}");
        assert!(line.contains("line 5"), "{line}");
    }
    assert!(!tmp.path().join("data").exists());
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["serve", "--dev", "--config", "x.toml"][..],
        &["serve", "--dev", "--api-listen", "not-an-address"],
        &["frobnicate"],
    ] {
        let (status, _, stderr) = run(strongroom(args));
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
    }
}

/// A production install on a PKCS#11 root (SoftHSM2): init generates the
/// root-wrapping key in the token, serve and `audit verify` open through it,
/// and a wrong PIN stops start-up with a message that says so.
#[test]
fn production_install_on_a_pkcs11_root() {
    if !common::softhsm::available("PKCS#11 end-to-end test") {
        return;
    }
    let module = Path::new(common::softhsm::MODULE);
    let tmp = tempfile::tempdir().unwrap();
    let conf = common::softhsm::token(tmp.path());
    let pin = tmp.path().join("pin");
    let tls = api::bootstrap::ensure_dev_tls(tmp.path()).unwrap();
    let config = tmp.path().join("strongroom.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[api]\ntls_cert = \"tls/server.pem\"\ntls_key = \"tls/server.key\"\n\
             [root]\nprovider = \"pkcs11\"\nmodule = \"{}\"\ntoken_label = \"strongroom-e2e\"\n\
             pin_file = \"pin\"\nkey_label = \"strongroom-root\"\n",
            module.display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let with_hsm = |args: &[&str]| {
        let mut cmd = strongroom(args);
        cmd.env("SOFTHSM2_CONF", &conf);
        cmd
    };

    let (status, stdout, stderr) = run(with_hsm(&["init", "--config", cfg]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("PKCS#11"), "{stdout}");
    let (status, _, stderr) = run(with_hsm(&["init", "--config", cfg]));
    assert_eq!(status.code(), Some(1), "init twice must refuse: {stderr}");

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
    assert_eq!(get_json(port, &ca, "/readyz").0, 200);
    assert!(server.terminate().success(), "{}", server.stderr());

    let (status, stdout, stderr) = run(with_hsm(&["audit", "verify", "--config", cfg]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("audit chain intact"), "{stdout}");

    // A wrong PIN: start-up refuses, and says why.
    std::fs::write(&pin, "9999\n").unwrap();
    let (status, _, stderr) = run(with_hsm(&[
        "serve",
        "--config",
        cfg,
        "--api-listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(status.code(), Some(1));
    assert!(
        error_line(&stderr).to_ascii_lowercase().contains("pin"),
        "{stderr}"
    );
}

/// `moto_server` (PyPI `moto[server]`), which stands in for AWS KMS:
/// `STRONGROOM_MOTO_SERVER`, then PATH, then the venv `.ci/run` makes.
fn moto_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STRONGROOM_MOTO_SERVER") {
        return Some(p.into());
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file());
    on_path.or_else(|| {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/venv/bin/moto_server");
        venv.is_file().then_some(venv)
    })
}

/// One JSON call to the KMS API of moto (it does not check signatures).
fn kms_call(port: u16, target: &str, body: &str) -> Value {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: TrentService.{target}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (_, json) = response.split_once("\r\n\r\n").expect("an HTTP response");
    serde_json::from_str(json.trim()).unwrap_or_else(|e| panic!("{e}: {response}"))
}

/// A production install on an AWS KMS root (moto_server on loopback):
/// init seals the root key with the KMS key, serve opens it, and a disabled
/// or unknown key stops start-up with a message naming the problem.
#[test]
fn production_install_on_an_aws_kms_root() {
    let Some(moto) = moto_server() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "moto_server is missing (pip install 'moto[server]'); .ci/run installs it"
        );
        eprintln!("moto_server missing: AWS KMS end-to-end test skipped");
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(&moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    struct Kill<'a>(&'a mut Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(&mut server);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let created = kms_call(port, "CreateKey", "{}");
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string();

    let tmp = tempfile::tempdir().unwrap();
    let tls = api::bootstrap::ensure_dev_tls(tmp.path()).unwrap();
    let write_config = |key: &str| {
        let config = tmp.path().join("strongroom.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"data\"\n[api]\ntls_cert = \"tls/server.pem\"\ntls_key = \"tls/server.key\"\n\
                 [root]\nprovider = \"aws-kms\"\nkey_id = \"{key}\"\nregion = \"us-east-1\"\n\
                 endpoint_url = \"http://127.0.0.1:{port}\"\n"
            ),
        )
        .unwrap();
        config
    };
    let config = write_config(&key_id);
    let cfg = config.to_str().unwrap();
    let with_aws = |args: &[&str]| {
        let mut cmd = strongroom(args);
        cmd.env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        cmd
    };

    let (status, stdout, stderr) = run(with_aws(&["init", "--config", cfg]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("AWS KMS"), "{stdout}");

    let mut serving = Process::spawn(with_aws(&[
        "serve",
        "--config",
        cfg,
        "--api-listen",
        "127.0.0.1:0",
    ]));
    serving.wait_ready().unwrap();
    let api_port = api_port(&serving.stdout());
    let ca = std::fs::read(&tls.ca_certificate).unwrap();
    assert_eq!(get_json(api_port, &ca, "/readyz").0, 200);
    assert!(serving.terminate().success(), "{}", serving.stderr());

    // Another KMS key cannot open the install.
    let other = kms_call(port, "CreateKey", "{}");
    let other_id = other["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    write_config(&other_id);
    let (status, _, stderr) = run(with_aws(&["audit", "verify", "--config", cfg]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    // An unknown key: named as not found.
    write_config("00000000-0000-0000-0000-000000000000");
    let (status, _, stderr) = run(with_aws(&[
        "serve",
        "--config",
        cfg,
        "--api-listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(status.code(), Some(1));
    assert!(
        error_line(&stderr)
            .to_ascii_lowercase()
            .contains("not found"),
        "{stderr}"
    );
    // The right key opens it again.
    write_config(&key_id);
    let (status, stdout, stderr) = run(with_aws(&["audit", "verify", "--config", cfg]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("audit chain intact"), "{stdout}");
}

/// The seal file's current term and its list of terms.
fn seal_terms(data: &Path) -> (u64, Vec<u64>) {
    let seal: Value =
        serde_json::from_slice(&std::fs::read(data.join("root.seal")).unwrap()).unwrap();
    let terms = seal["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_u64().unwrap())
        .collect();
    (seal["currentTerm"].as_u64().unwrap(), terms)
}

#[test]
fn root_rotate_runs_inside_the_running_server_and_on_a_stopped_install() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dir = data.to_str().unwrap();
    let mut server = start_dev(&data, &[]);
    let port = api_port(&server.stdout());
    let ca = std::fs::read(data.join("tls/ca.pem")).unwrap();
    assert_eq!(mode(&data.join("admin.sock")), 0o600);

    // A second server on the same data directory is refused.
    let (status, _, stderr) = run(strongroom(&[
        "serve",
        "--dev",
        "--data-dir",
        dir,
        "--api-listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(status.code(), Some(1));
    assert!(
        error_line(&stderr).contains("another strongroom server is running"),
        "{stderr}"
    );

    // Through the running server, which keeps serving.
    let (status, stdout, stderr) = run(strongroom(&["root", "rotate", "--dev", "--data-dir", dir]));
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.contains("rotated the root key to term 2"),
        "{stdout}"
    );
    assert!(stdout.contains("terms [1] retired"), "{stdout}");
    assert_eq!(seal_terms(&data), (2, vec![2]));
    assert_eq!(get_json(port, &ca, "/readyz").0, 200);
    assert!(server.terminate().success(), "{}", server.stderr());
    drop(server);
    assert!(!data.join("admin.sock").exists());

    // With no server running, the command opens the install itself.
    let (status, stdout, stderr) = run(strongroom(&["root", "rotate", "--dev", "--data-dir", dir]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("term 3"), "{stdout}");
    assert_eq!(seal_terms(&data), (3, vec![3]));

    // The install restarts on the new term and its chain verifies.
    let mut server = start_dev(&data, &[]);
    assert!(server.terminate().success(), "{}", server.stderr());
    let (status, stdout, stderr) =
        run(strongroom(&["audit", "verify", "--dev", "--data-dir", dir]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.starts_with("audit chain intact"), "{stdout}");
}

#[test]
fn root_migrate_moves_a_dev_install_to_a_passphrase_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dir = data.to_str().unwrap();
    let mut server = start_dev(&data, &[]);
    assert!(server.terminate().success(), "{}", server.stderr());
    drop(server);

    let passphrase = tmp.path().join("passphrase");
    std::fs::write(&passphrase, "migrated passphrase\n").unwrap();
    std::fs::set_permissions(&passphrase, std::fs::Permissions::from_mode(0o600)).unwrap();
    let target = tmp.path().join("target.toml");
    std::fs::write(
        &target,
        "data_dir = \"data\"\n[root]\nprovider = \"software\"\npassphrase_file = \"passphrase\"\n",
    )
    .unwrap();

    // A target that cannot work changes nothing.
    let broken = tmp.path().join("broken.toml");
    std::fs::write(&broken, "[root]\nprovider = \"software\"\n").unwrap();
    let before = std::fs::read(data.join("root.seal")).unwrap();
    let (status, _, stderr) = run(strongroom(&[
        "root",
        "migrate",
        "--dev",
        "--data-dir",
        dir,
        "--to",
        broken.to_str().unwrap(),
    ]));
    assert_eq!(status.code(), Some(1));
    assert!(error_line(&stderr).contains("passphrase_file"), "{stderr}");
    assert_eq!(std::fs::read(data.join("root.seal")).unwrap(), before);

    // Through the running server this time.
    let mut server = start_dev(&data, &[]);
    let (status, stdout, stderr) = run(strongroom(&[
        "root",
        "migrate",
        "--dev",
        "--data-dir",
        dir,
        "--to",
        target.to_str().unwrap(),
    ]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("now sealed by"), "{stdout}");
    assert!(server.terminate().success(), "{}", server.stderr());
    drop(server);

    // The passphrase configuration opens it; the dev key file no longer does.
    let (status, stdout, stderr) = run(strongroom(&[
        "audit",
        "verify",
        "--config",
        target.to_str().unwrap(),
    ]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.starts_with("audit chain intact"), "{stdout}");
    let (status, _, _) = run(strongroom(&["audit", "verify", "--dev", "--data-dir", dir]));
    assert_eq!(status.code(), Some(1));
}

/// The Cloud KMS stand-in of hsm's tests, kept in one place.
#[path = "../../hsm/tests/gcp_support/mod.rs"]
mod gcp_support;

/// A production install on a Google Cloud KMS root (the Cloud KMS REST
/// stand-in on loopback): init seals the root key, serve opens it, and a
/// disabled key, a denied permission, an unknown key or missing credentials
/// stop start-up with a message naming the problem.
#[test]
fn production_install_on_a_gcp_kms_root() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let standin = runtime.block_on(gcp_support::GcpStandIn::start());
    let key_name = standin.create_key("root");

    let tmp = tempfile::tempdir().unwrap();
    let tls = api::bootstrap::ensure_dev_tls(tmp.path()).unwrap();
    let endpoint = standin.endpoint.clone();
    let write_config = |key: &str, credentials: &str| {
        let config = tmp.path().join("strongroom.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"data\"\n[api]\ntls_cert = \"tls/server.pem\"\ntls_key = \"tls/server.key\"\n\
                 [root]\nprovider = \"gcp-kms\"\nkey_name = \"{key}\"\n\
                 endpoint_url = \"{endpoint}\"\ncredentials = \"{credentials}\"\n"
            ),
        )
        .unwrap();
        config
    };
    let config = write_config(&key_name, "anonymous");
    let cfg = config.to_str().unwrap();
    // Nothing from the developer's Google Cloud setup leaks in.
    let with_gcp = |args: &[&str]| {
        let mut cmd = strongroom(args);
        cmd.env_remove("GOOGLE_APPLICATION_CREDENTIALS");
        cmd
    };
    let serve = |cmd_args: &[&str]| {
        let mut args = vec!["serve", "--config", cfg, "--api-listen", "127.0.0.1:0"];
        args.extend_from_slice(cmd_args);
        with_gcp(&args)
    };

    let (status, stdout, stderr) = run(with_gcp(&["init", "--config", cfg]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("Google Cloud KMS"), "{stdout}");

    let mut serving = Process::spawn(serve(&[]));
    serving.wait_ready().unwrap();
    let api_port = api_port(&serving.stdout());
    let ca = std::fs::read(&tls.ca_certificate).unwrap();
    assert_eq!(get_json(api_port, &ca, "/readyz").0, 200);
    assert!(serving.terminate().success(), "{}", serving.stderr());

    // The key disabled in Cloud KMS: start-up stops and says so.
    standin.set_enabled(&key_name, false);
    let (status, _, stderr) = run(serve(&[]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(error_line(&stderr).contains("disabled"), "{stderr}");
    standin.set_enabled(&key_name, true);

    // Permission revoked.
    standin.set_denied(&key_name, true);
    let (status, _, stderr) = run(serve(&[]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        error_line(&stderr).contains("permission denied"),
        "{stderr}"
    );
    standin.set_denied(&key_name, false);

    // Another key cannot open the install; an unknown one is named.
    let other = standin.create_key("other");
    write_config(&other, "anonymous");
    let (status, _, stderr) = run(with_gcp(&["audit", "verify", "--config", cfg]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(error_line(&stderr).contains("does not open"), "{stderr}");
    write_config(&gcp_support::GcpStandIn::key_name("missing"), "anonymous");
    let (status, _, stderr) = run(serve(&[]));
    assert_eq!(status.code(), Some(1));
    assert!(error_line(&stderr).contains("not found"), "{stderr}");

    // Application Default Credentials that name a missing file: reported as
    // a credentials problem, before any call.
    write_config(&key_name, "application-default");
    let mut cmd = serve(&[]);
    cmd.env(
        "GOOGLE_APPLICATION_CREDENTIALS",
        tmp.path().join("no-such-credentials.json"),
    );
    let (status, _, stderr) = run(cmd);
    assert_eq!(status.code(), Some(1));
    assert!(error_line(&stderr).contains("credentials"), "{stderr}");

    // A malformed key name is a configuration error.
    write_config("projects/acme/cryptoKeys/root", "anonymous");
    let (status, _, stderr) = run(serve(&[]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(error_line(&stderr).contains("key_name"), "{stderr}");

    // The right key opens it again.
    write_config(&key_name, "anonymous");
    let (status, stdout, stderr) = run(with_gcp(&["audit", "verify", "--config", cfg]));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("audit chain intact"), "{stdout}");
    drop(standin);
    runtime.shutdown_timeout(Duration::from_secs(5));
}
