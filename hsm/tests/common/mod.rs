//! SoftHSM2 for the PKCS#11 tests.
//!
//! SoftHSM reads `SOFTHSM2_CONF` once, in `C_Initialize`, and a PKCS#11
//! module is initialised once per process, so the whole test binary shares
//! one token directory: the first test to call [`softhsm`] writes the
//! configuration, creates one token per test (each test uses its own token,
//! because PKCS#11 login state is shared by the whole process), sets the
//! environment and initialises the module, all before any other test can
//! touch the module or the environment.
//!
//! Without SoftHSM2 the tests skip, except under `CI=true`, where they fail.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use hsm::pkcs11::{PinSource, Pkcs11Config};

pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const USER_PIN: &str = "1234-user";
pub const SO_PIN: &str = "5678-so";
/// The environment variable holding [`USER_PIN`], set once before any test
/// runs.
pub const PIN_ENV: &str = "STRONGROOM_TEST_PKCS11_PIN";

/// One token per test (labels are `sr-<name>`).
pub const TOKENS: &[&str] = &[
    "roundtrip",
    "restart",
    "attrs",
    "wrongpin",
    "keymissing",
    "exists",
    "deleted",
    "concurrent",
    "recovery",
    "sessionloss",
    "slotid",
    "e2e-a",
    "e2e-b",
    "envpin",
    "migrate",
    "migfail",
    "startup",
    "rotate",
    "res-sign",
    "res-aes",
    "res-extract",
    "res-lifecycle",
    "res-concurrent",
    "res-restart",
    "res-other",
    "res-recovery",
];

pub struct SoftHsm {
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub module: PathBuf,
    pub pin_file: PathBuf,
    pub wrong_pin_file: PathBuf,
}

static SOFTHSM: OnceLock<Option<SoftHsm>> = OnceLock::new();

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The shared SoftHSM, or `None` (after a message) when SoftHSM2 is not
/// installed and this is not CI.
pub fn softhsm() -> Option<&'static SoftHsm> {
    SOFTHSM.get_or_init(setup).as_ref()
}

fn setup() -> Option<SoftHsm> {
    let util = Command::new("softhsm2-util").arg("--version").output();
    if !Path::new(MODULE).exists() || util.is_err() {
        let msg = format!("SoftHSM2 is not installed ({MODULE}, softhsm2-util)");
        if in_ci() {
            panic!("{msg}: CI must run the PKCS#11 tests (apt-get install softhsm2 opensc)");
        }
        eprintln!("skipping: {msg}");
        return None;
    }
    remove_stale_token_dirs();
    let base = tempfile::Builder::new()
        .prefix("softhsm-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("tempdir")
        .keep();
    let tokens = base.join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = base.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
            tokens.display()
        ),
    )
    .unwrap();
    for name in TOKENS {
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label"])
            .arg(token_label(name))
            .args(["--pin", USER_PIN, "--so-pin", SO_PIN])
            .output()
            .expect("run softhsm2-util");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pin_file = write_private(&base.join("user.pin"), &format!("{USER_PIN}\n"));
    let wrong_pin_file = write_private(&base.join("wrong.pin"), "not-the-pin\n");
    // SAFETY (edition 2024 marks set_var unsafe): this runs inside the
    // OnceLock, before any test reads these variables or loads the module;
    // other threads calling `softhsm()` wait for it.
    unsafe {
        std::env::set_var("SOFTHSM2_CONF", &conf);
        std::env::set_var(PIN_ENV, USER_PIN);
    }
    // C_Initialize (which reads SOFTHSM2_CONF) happens here, once.
    hsm::pkcs11::load_module(Path::new(MODULE)).expect("load SoftHSM2");
    Some(SoftHsm {
        dir: base,
        conf,
        module: PathBuf::from(MODULE),
        pin_file,
        wrong_pin_file,
    })
}

/// Token directories outlive the test binary (a static is never dropped);
/// each run removes those an earlier run left more than ten minutes ago.
fn remove_stale_token_dirs() {
    let Ok(entries) = std::fs::read_dir(env!("CARGO_TARGET_TMPDIR")) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with("softhsm-")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(600));
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn write_private(path: &Path, text: &str) -> PathBuf {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path.to_path_buf()
}

pub fn token_label(name: &str) -> String {
    format!("sr-{name}")
}

impl SoftHsm {
    /// A configuration for the test's token, with the right PIN from a file.
    pub fn config(&self, token: &str, key_label: &str) -> Pkcs11Config {
        assert!(TOKENS.contains(&token), "add {token} to TOKENS");
        Pkcs11Config::new(
            &self.module,
            token_label(token),
            PinSource::File(self.pin_file.clone()),
            key_label,
        )
    }

    /// Runs pkcs11-tool against the test tokens.
    pub fn pkcs11_tool(&self, args: &[&str]) -> std::process::Output {
        Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", &self.conf)
            .arg("--module")
            .arg(&self.module)
            .args(args)
            .output()
            .expect("run pkcs11-tool (opensc)")
    }
}

/// A logged-in read-write session of the test itself on `token`, through the
/// same (process-wide) module context as the root.
pub fn test_session(hsm: &SoftHsm, token: &str) -> cryptoki::session::Session {
    use cryptoki::error::{Error, RvError};
    use cryptoki::session::UserType;
    let ctx = hsm::pkcs11::load_module(&hsm.module).unwrap();
    let label = token_label(token);
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label().trim_end() == label)
        .expect("token");
    let session = ctx.open_rw_session(slot).unwrap();
    let pin = secrecy::SecretString::from(USER_PIN);
    match session.login(UserType::User, Some(&pin)) {
        Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("test login: {e}"),
    }
    session
}
