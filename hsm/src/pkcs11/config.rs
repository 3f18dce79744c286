//! Where the token is, which key to use, and where the PIN comes from.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::error::Pkcs11Error;

/// How many sessions the pool opens when the configuration does not say.
pub const DEFAULT_SESSIONS: usize = 8;

/// Where the user PIN comes from. There is deliberately no way to pass it on
/// the command line: argv is visible to every user of the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinSource {
    /// A file holding the PIN (one trailing newline is ignored). It must not
    /// be readable or writable by other users (mode 0600 or stricter).
    File(PathBuf),
    /// The name of an environment variable holding the PIN.
    Env(String),
}

impl PinSource {
    /// Reads the PIN. Errors name the file or variable, never the PIN.
    pub fn load(&self) -> Result<SecretString, Pkcs11Error> {
        match self {
            PinSource::File(path) => read_pin_file(path),
            PinSource::Env(var) => match std::env::var(var) {
                Ok(value) => {
                    let value = Zeroizing::new(value);
                    if value.is_empty() {
                        return Err(Pkcs11Error::PinSource {
                            source_name: format!("environment variable {var}"),
                            reason: "is empty".into(),
                        });
                    }
                    Ok(SecretString::from(value.as_str()))
                }
                Err(std::env::VarError::NotPresent) => Err(Pkcs11Error::PinSource {
                    source_name: format!("environment variable {var}"),
                    reason: "is not set".into(),
                }),
                Err(std::env::VarError::NotUnicode(_)) => Err(Pkcs11Error::PinSource {
                    source_name: format!("environment variable {var}"),
                    reason: "is not valid UTF-8".into(),
                }),
            },
        }
    }

    /// A description for logs and errors (the file or the variable name).
    pub fn describe(&self) -> String {
        match self {
            PinSource::File(path) => format!("PIN file {}", path.display()),
            PinSource::Env(var) => format!("environment variable {var}"),
        }
    }
}

fn read_pin_file(path: &Path) -> Result<SecretString, Pkcs11Error> {
    let err = |reason: String| Pkcs11Error::PinSource {
        source_name: format!("PIN file {}", path.display()),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "is readable or writable by other users (mode {mode:o}); run: chmod 600 {}",
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| err(e.to_string()))?;
    let pin = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    if pin.is_empty() {
        return Err(err("is empty".into()));
    }
    Ok(SecretString::from(pin))
}

/// Configuration of a PKCS#11 root of trust.
///
/// The token is chosen by `token_label`, by `slot_id`, or by both (then both
/// must match). The root-wrapping key is the AES secret key whose `CKA_LABEL`
/// is `key_label`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (shared library), e.g.
    /// `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token's label (`CKA_LABEL` of the token, as `pkcs11-tool -L` shows).
    pub token_label: Option<String>,
    /// The slot id, for tokens without a stable label.
    pub slot_id: Option<u64>,
    /// Where the user PIN comes from.
    pub pin: PinSource,
    /// The label of the root-wrapping key inside the token.
    pub key_label: String,
    /// Sessions in the pool (at least 1; [`DEFAULT_SESSIONS`] by default).
    pub sessions: usize,
}

impl Pkcs11Config {
    /// A configuration selecting the token by label, with the default pool.
    pub fn new(
        module: impl Into<PathBuf>,
        token_label: impl Into<String>,
        pin: PinSource,
        key_label: impl Into<String>,
    ) -> Self {
        Self {
            module: module.into(),
            token_label: Some(token_label.into()),
            slot_id: None,
            pin,
            key_label: key_label.into(),
            sessions: DEFAULT_SESSIONS,
        }
    }

    /// How the token is named in messages: `token "label"`, `slot 3`, or both.
    pub fn token_description(&self) -> String {
        match (&self.token_label, self.slot_id) {
            (Some(label), Some(slot)) => format!("token \"{label}\" in slot {slot}"),
            (Some(label), None) => format!("token \"{label}\""),
            (None, Some(slot)) => format!("the token in slot {slot}"),
            (None, None) => "no token selected".into(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Pkcs11Error> {
        if self.token_label.is_none() && self.slot_id.is_none() {
            return Err(Pkcs11Error::Config(
                "select the token with a token label or a slot id".into(),
            ));
        }
        if self.key_label.is_empty() {
            return Err(Pkcs11Error::Config("the key label is empty".into()));
        }
        if self.sessions == 0 {
            return Err(Pkcs11Error::Config(
                "the session pool needs at least one session".into(),
            ));
        }
        Ok(())
    }
}
