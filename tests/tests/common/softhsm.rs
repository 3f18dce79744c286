//! SoftHSM2, the test HSM: a token of its own in a temporary directory for
//! each test, found through `SOFTHSM2_CONF`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's SoftHSM2 module.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// Whether SoftHSM2 is installed. Under `CI=true` its absence fails the
/// test (`.ci/run` installs it); elsewhere `test` is skipped with a notice.
pub fn available(test: &str) -> bool {
    if Path::new(MODULE).exists() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "SoftHSM2 is missing (apt-get install softhsm2 opensc); .ci/run installs it"
    );
    eprintln!("SoftHSM2 missing: {test} skipped");
    false
}

/// A token `strongroom-e2e` (user PIN 1234) in `dir`, and `dir/pin` (0600)
/// holding its PIN; returns the `SOFTHSM2_CONF` file naming it.
pub fn token(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let made = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            "strongroom-e2e",
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let pin = dir.join("pin");
    std::fs::write(&pin, "1234\n").unwrap();
    std::fs::set_permissions(&pin, std::fs::Permissions::from_mode(0o600)).unwrap();
    conf
}
