//! Infisical's official Python SDK (`infisicalsdk`, pinned in `.ci/run`),
//! unmodified, against `strongroom serve --dev` through
//! `tests/api_clients/infisical_sdk_smoke.py`: Universal Auth login, then
//! create, list, get by id and by name, update, encrypt, decrypt, disable
//! (and the refusal that follows) and delete. The SDK uses `requests`,
//! which trusts the CA bundle in `REQUESTS_CA_BUNDLE`: the dev CA.
//!
//! The SDK comes from the venv `.ci/run` creates (`.ci/venv`), or any
//! `python3` on the PATH that can import it. Without it the test fails when
//! `CI=true` and otherwise prints a notice and passes vacuously.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::api_client::Api;

fn python_with_sdk() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/venv/bin/python3");
    [venv, PathBuf::from("python3")].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import infisical_sdk"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn infisical_python_sdk_manages_and_uses_keys() {
    let Some(python) = python_with_sdk() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("infisicalsdk is not installed; .ci/run installs it into .ci/venv");
        }
        eprintln!(
            "notice: infisicalsdk is not installed; skipping the Infisical SDK test \
             (.ci/venv/bin/pip install infisicalsdk==1.0.18)"
        );
        return;
    };
    let api = Api::start(&[]);
    let b = &api.bootstrap;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("api_clients/infisical_sdk_smoke.py");
    let output = Command::new(&python)
        .arg(&script)
        .args([
            api.base.as_str(),
            b["identityClientId"].as_str().unwrap(),
            b["identityClientSecret"].as_str().unwrap(),
            &api.project(),
        ])
        .env("REQUESTS_CA_BUNDLE", b["caCertificate"].as_str().unwrap())
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("Infisical SDK report:\n{stdout}");
    assert!(
        output.status.success() && stdout.contains("ALL OK"),
        "the Infisical SDK failed; stderr:\n{stderr}"
    );
}
