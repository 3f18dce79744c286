//! Configuration: a TOML file, `STRONGROOM_*` environment variables and
//! command-line flags, resolved into one [`Config`].
//!
//! Precedence, highest first: flag, environment, file, default. The file is
//! strict: an unknown key is an error naming the file, the line and the key,
//! so a typo never silently falls back to a default. Relative paths in the
//! file are relative to the file's directory; relative paths from the
//! environment or flags are relative to the working directory.
//!
//! `strongroom.example.toml` at the repository root documents every option.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

/// The default HTTPS API address outside dev mode.
pub const DEFAULT_API_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8443);
/// The default KMIP address outside dev mode (all interfaces: KMIP clients are
/// usually other machines).
pub const DEFAULT_KMIP_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 5696);
/// The default KMIP address in dev mode (loopback only).
pub const DEV_KMIP_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 5696);
/// The data directory of `serve --dev` when `--data-dir` is not given.
pub const DEV_DATA_DIR: &str = "strongroom-data";
/// The SQLite database file inside the data directory.
pub const SQLITE_FILE: &str = "strongroom.db";

/// Names of the environment variables this module reads.
pub mod env {
    pub const DATA_DIR: &str = "STRONGROOM_DATA_DIR";
    pub const DATABASE_URL: &str = "STRONGROOM_DATABASE_URL";
    pub const API_LISTEN: &str = "STRONGROOM_API_LISTEN";
    pub const API_TLS_CERT: &str = "STRONGROOM_API_TLS_CERT";
    pub const API_TLS_KEY: &str = "STRONGROOM_API_TLS_KEY";
    pub const API_MAX_BODY_SIZE: &str = "STRONGROOM_API_MAX_BODY_SIZE";
    pub const API_REQUEST_TIMEOUT: &str = "STRONGROOM_API_REQUEST_TIMEOUT";
    pub const API_RATE_LIMIT: &str = "STRONGROOM_API_RATE_LIMIT";
    pub const API_RATE_LIMIT_BURST: &str = "STRONGROOM_API_RATE_LIMIT_BURST";
    pub const API_LOGIN_RATE_LIMIT: &str = "STRONGROOM_API_LOGIN_RATE_LIMIT";
    pub const KMIP_LISTEN: &str = "STRONGROOM_KMIP_LISTEN";
    pub const KMIP_HOSTNAMES: &str = "STRONGROOM_KMIP_HOSTNAMES";
    pub const KMIP_MAX_CONNECTIONS: &str = "STRONGROOM_KMIP_MAX_CONNECTIONS";
    pub const KMIP_HANDSHAKE_TIMEOUT: &str = "STRONGROOM_KMIP_HANDSHAKE_TIMEOUT";
    pub const KMIP_IDLE_TIMEOUT: &str = "STRONGROOM_KMIP_IDLE_TIMEOUT";
    pub const KMIP_MAX_MESSAGE_SIZE: &str = "STRONGROOM_KMIP_MAX_MESSAGE_SIZE";
    pub const KMIP_MAX_BATCH_ITEMS: &str = "STRONGROOM_KMIP_MAX_BATCH_ITEMS";
    pub const KMIP_CA_KEY: &str = "STRONGROOM_KMIP_CA_KEY";
    pub const KMIP_MAX_STREAMS_PER_CLIENT: &str = "STRONGROOM_KMIP_MAX_STREAMS_PER_CLIENT";
    pub const KMIP_MAX_STREAMS: &str = "STRONGROOM_KMIP_MAX_STREAMS";
    pub const KMIP_MAX_STREAM_SIZE: &str = "STRONGROOM_KMIP_MAX_STREAM_SIZE";
    pub const KMIP_MAX_STREAMS_SIZE: &str = "STRONGROOM_KMIP_MAX_STREAMS_SIZE";
    pub const KMIP_STREAM_IDLE_TIMEOUT: &str = "STRONGROOM_KMIP_STREAM_IDLE_TIMEOUT";
    pub const ROOT_PROVIDER: &str = "STRONGROOM_ROOT_PROVIDER";
    pub const ROOT_PASSPHRASE: &str = "STRONGROOM_ROOT_PASSPHRASE";
    pub const ROOT_PASSPHRASE_FILE: &str = "STRONGROOM_ROOT_PASSPHRASE_FILE";
    pub const LOG_FORMAT: &str = "STRONGROOM_LOG_FORMAT";
    pub const LOG_LEVEL: &str = "STRONGROOM_LOG_LEVEL";
    pub const CACHE_CAPACITY: &str = "STRONGROOM_CACHE_CAPACITY";

    /// Every variable Strongroom knows; others with the prefix draw a warning.
    pub const ALL: &[&str] = &[
        DATA_DIR,
        DATABASE_URL,
        API_LISTEN,
        API_TLS_CERT,
        API_TLS_KEY,
        API_MAX_BODY_SIZE,
        API_REQUEST_TIMEOUT,
        API_RATE_LIMIT,
        API_RATE_LIMIT_BURST,
        API_LOGIN_RATE_LIMIT,
        KMIP_LISTEN,
        KMIP_HOSTNAMES,
        KMIP_MAX_CONNECTIONS,
        KMIP_HANDSHAKE_TIMEOUT,
        KMIP_IDLE_TIMEOUT,
        KMIP_MAX_MESSAGE_SIZE,
        KMIP_MAX_BATCH_ITEMS,
        KMIP_CA_KEY,
        KMIP_MAX_STREAMS_PER_CLIENT,
        KMIP_MAX_STREAMS,
        KMIP_MAX_STREAM_SIZE,
        KMIP_MAX_STREAMS_SIZE,
        KMIP_STREAM_IDLE_TIMEOUT,
        ROOT_PROVIDER,
        ROOT_PASSPHRASE,
        ROOT_PASSPHRASE_FILE,
        LOG_FORMAT,
        LOG_LEVEL,
        CACHE_CAPACITY,
    ];
}

/// Development mode (`serve --dev`) or a configured install.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Everything generated inside the data directory; for development only.
    Dev,
    /// A configured install (`--config` and/or environment).
    Production,
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    /// The config file it was read from, if any.
    pub file: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// `None`: SQLite in the data directory (see [`Config::database_url`]).
    database_url: Option<String>,
    pub api: ApiConfig,
    pub kmip: KmipConfig,
    pub root: RootConfig,
    pub log: LogConfig,
    pub cache: CacheConfig,
    /// Problems worth a warning once logging is up (unknown `STRONGROOM_*`
    /// variables, settings dev mode ignores).
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// Certificate chain and private key (PEM). Required outside dev mode;
    /// dev mode generates its own.
    pub tls: Option<TlsFiles>,
    /// Body size, timeout and rate limits.
    pub limits: crate::http::ApiLimits,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The host names the KMIP server certificate covers by default (and, in
/// dev mode, always).
pub const DEFAULT_KMIP_HOSTNAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmipConfig {
    pub listen: SocketAddr,
    /// DNS names and IP addresses in the KMIP server certificate.
    pub hostnames: Vec<String>,
    /// Connections open at once; one more is closed as soon as accepted.
    pub max_connections: usize,
    /// From accept to a finished TLS handshake.
    pub handshake_timeout: std::time::Duration,
    /// Between two messages on a connection.
    pub idle_timeout: std::time::Duration,
    /// Largest KMIP message, in bytes.
    pub max_message_size: usize,
    /// Most batch items in one request.
    pub max_batch_items: usize,
    /// Where `init` (or a first start) creates the KMIP CA's private key.
    pub ca_key: CaKeyLocation,
    /// What multi-part Encrypt/Decrypt streams may hold.
    pub streams: kmip_server::streams::StreamLimits,
}

/// Where the KMIP CA's private key lives (`kmip.ca_key`). Read when the CA
/// is created; an existing CA keeps its key where it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaKeyLocation {
    /// A managed key wrapped under the root of trust, like every object.
    #[default]
    Software,
    /// Generated inside the PKCS#11 token of the root of trust,
    /// non-extractable; signing happens in the token. Needs
    /// `[root] provider = "pkcs11"`.
    Hsm,
}

impl FromStr for CaKeyLocation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "software" => Ok(CaKeyLocation::Software),
            "hsm" => Ok(CaKeyLocation::Hsm),
            other => Err(format!(
                "unknown KMIP CA key location {other:?}, expected \"software\" or \"hsm\""
            )),
        }
    }
}

impl KmipConfig {
    /// The listener's limits: these settings over kmip-server's defaults.
    pub fn limits(&self) -> kmip_server::listener::ListenerLimits {
        let mut limits = kmip_server::listener::ListenerLimits::DEFAULT;
        limits.max_connections = self.max_connections;
        limits.handshake_timeout = self.handshake_timeout;
        limits.idle_timeout = self.idle_timeout;
        limits.message.max_message_size = self.max_message_size;
        limits.max_batch_count = self.max_batch_items;
        limits.streams = self.streams;
        limits
    }

    /// [`KmipConfig::ca_key`] as kms-core's key location.
    pub fn ca_key_location(&self) -> kms_core::service::KeyLocation {
        match self.ca_key {
            CaKeyLocation::Software => kms_core::service::KeyLocation::Software,
            CaKeyLocation::Hsm => kms_core::service::KeyLocation::Hsm,
        }
    }
}

/// Parses a duration written `90d`, `12h`, `30m`, `10s` or `500ms` (a bare
/// number is seconds).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90d, 12h, 30m, 10s or 500ms"))?;
    let seconds = |factor: u64| {
        n.checked_mul(factor)
            .map(std::time::Duration::from_secs)
            .ok_or_else(|| format!("{text:?} is too long"))
    };
    match unit.trim() {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "" | "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        other => Err(format!(
            "unknown duration unit {other:?} in {text:?}; use ms, s, m, h or d"
        )),
    }
}

/// A duration as `parse_duration` reads it, so TOML can hold `"10s"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DurationText(std::time::Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(DurationText)
            .map_err(serde::de::Error::custom)
    }
}

impl FromStr for DurationText {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_duration(s).map(DurationText)
    }
}

/// Which root of trust seals the root key. Later providers (PKCS#11, AWS KMS,
/// GCP KMS) are further variants, each with its own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootConfig {
    /// Software root: the root key is sealed with a key derived from an
    /// operator passphrase (Argon2id). In dev mode a generated key file in the
    /// data directory stands in for the passphrase.
    Software {
        /// A file holding the passphrase (its first line). The passphrase may
        /// also come from `STRONGROOM_ROOT_PASSPHRASE`, which wins.
        passphrase_file: Option<PathBuf>,
    },
    /// PKCS#11 HSM: an AES-256 key inside the token seals the root key.
    Pkcs11(hsm::pkcs11::Pkcs11Config),
    /// AWS KMS: the root key is sealed by a KMS key.
    AwsKms(hsm::aws_kms::AwsKmsConfig),
    /// Google Cloud KMS: the root key is sealed by a Cloud KMS crypto key.
    GcpKms(hsm::gcp_kms::GcpKmsConfig),
}

impl RootConfig {
    /// The provider's name as written in the config file.
    pub fn provider(&self) -> &'static str {
        match self {
            RootConfig::Software { .. } => "software",
            RootConfig::Pkcs11(_) => "pkcs11",
            RootConfig::AwsKms(_) => "aws-kms",
            RootConfig::GcpKms(_) => "gcp-kms",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter (`info`, `warn,api=debug`, …). `RUST_LOG`, when set,
    /// replaces it.
    pub level: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format {other:?}, expected \"text\" or \"json\""
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheConfig {
    /// Entries in the unwrapped-key cache; `None` keeps kms-core's default.
    pub capacity: Option<usize>,
}

impl Config {
    /// The storage URL: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join(SQLITE_FILE).display()),
        }
    }

    /// Whether the database URL was configured (rather than the default).
    pub fn database_url_configured(&self) -> bool {
        self.database_url.is_some()
    }

    /// Replaces the data directory with its absolute form once it exists, so
    /// the SQLite URL and the paths in `bootstrap.json` do not depend on the
    /// working directory.
    pub fn set_data_dir(&mut self, absolute: PathBuf) {
        self.data_dir = absolute;
    }
}

/// Values given on the command line; they win over everything else.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub api_listen: Option<SocketAddr>,
    pub kmip_listen: Option<SocketAddr>,
}

/// A configuration problem, phrased for the operator: it names the file and
/// key, or the environment variable, or the flag.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

// ---------------------------------------------------------------------------
// The file as written.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    #[serde(default)]
    database: DatabaseSection,
    #[serde(default)]
    api: ApiSection,
    #[serde(default)]
    kmip: KmipSection,
    root: Option<RootSection>,
    #[serde(default)]
    log: LogSection,
    #[serde(default)]
    cache: CacheSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseSection {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiSection {
    listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    max_body_size: Option<usize>,
    request_timeout: Option<DurationText>,
    rate_limit: Option<u32>,
    rate_limit_burst: Option<u32>,
    login_rate_limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KmipSection {
    listen: Option<SocketAddr>,
    hostnames: Option<Vec<String>>,
    max_connections: Option<usize>,
    handshake_timeout: Option<DurationText>,
    idle_timeout: Option<DurationText>,
    max_message_size: Option<usize>,
    max_batch_items: Option<usize>,
    ca_key: Option<CaKeyLocation>,
    max_streams_per_client: Option<usize>,
    max_streams: Option<usize>,
    max_stream_size: Option<usize>,
    max_streams_size: Option<usize>,
    stream_idle_timeout: Option<DurationText>,
}

/// `[root]`: `provider` selects the variant; the other keys belong to it.
#[derive(Debug, Deserialize)]
#[serde(tag = "provider", rename_all = "kebab-case", deny_unknown_fields)]
enum RootSection {
    Software {
        passphrase_file: Option<PathBuf>,
    },
    Pkcs11 {
        module: PathBuf,
        token_label: Option<String>,
        slot_id: Option<u64>,
        /// A 0600 file holding the user PIN.
        pin_file: Option<PathBuf>,
        /// Or the name of an environment variable holding it.
        pin_env: Option<String>,
        key_label: String,
        sessions: Option<usize>,
    },
    AwsKms {
        key_id: String,
        region: Option<String>,
        endpoint_url: Option<String>,
    },
    GcpKms {
        /// `projects/P/locations/L/keyRings/R/cryptoKeys/K`.
        key_name: String,
        endpoint_url: Option<String>,
        /// `application-default` (the default) or `anonymous`.
        credentials: Option<hsm::gcp_kms::GcpCredentials>,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSection {
    format: Option<LogFormat>,
    level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheSection {
    capacity: Option<usize>,
}

/// The environment, captured once so that loading is a pure function.
///
/// The root passphrase is not captured: only the fact that it is set. The
/// root of trust reads it straight into a secret type when it needs it.
#[derive(Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Env {
    /// The `STRONGROOM_*` and `RUST_LOG` variables of this process. Values
    /// that are not UTF-8 are kept as an error marker and reported when read.
    pub fn from_process() -> Self {
        let mut vars = BTreeMap::new();
        for (key, value) in std::env::vars_os() {
            let Some(key) = key.to_str() else { continue };
            if key.starts_with("STRONGROOM_") || key == "RUST_LOG" {
                let value = if key == env::ROOT_PASSPHRASE {
                    "<set>".to_owned()
                } else {
                    value.into_string().unwrap_or_else(|_| "\u{FFFD}".into())
                };
                vars.insert(key.to_owned(), value);
            }
        }
        Self(vars)
    }

    /// An environment from pairs (tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// A variable, if set and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A setting: the variable `key` wins over the file's value, which wins
    /// over `default`.
    fn setting<T: FromStr>(&self, key: &str, file: Option<T>, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        Ok(self.parse(key)?.or(file).unwrap_or(default))
    }

    /// A duration setting, with the same precedence.
    fn duration(
        &self,
        key: &str,
        file: Option<DurationText>,
        default: std::time::Duration,
    ) -> Result<std::time::Duration, ConfigError> {
        Ok(self
            .parse::<DurationText>(key)?
            .or(file)
            .map_or(default, |d| d.0))
    }

    fn parse<T: FromStr>(&self, key: &str) -> Result<Option<T>, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value.parse().map(Some).map_err(|e| {
                ConfigError::new(format!("environment variable {key}={value:?}: {e}"))
            }),
        }
    }

    fn unknown(&self) -> impl Iterator<Item = &str> {
        self.0
            .keys()
            .map(String::as_str)
            .filter(|k| k.starts_with("STRONGROOM_") && !env::ALL.contains(k))
    }
}

/// Reads and resolves the configuration.
///
/// * `file`: the `--config` file, if any.
/// * `mode`: dev mode changes the defaults and ignores settings it generates
///   itself (TLS files, root provider).
pub fn load(
    file: Option<&Path>,
    mode: Mode,
    env_vars: &Env,
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let (parsed, base) = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(format!("cannot read config file {}: {e}", path.display()))
            })?;
            let parsed: FileConfig =
                toml::from_str(&text).map_err(|e| describe_toml_error(path, &text, &e))?;
            let base = path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            (parsed, Some(base))
        }
        None => (FileConfig::default(), None),
    };
    let from_file = |p: PathBuf| match &base {
        Some(base) if p.is_relative() => base.join(p),
        _ => p,
    };
    let mut warnings: Vec<String> = env_vars
        .unknown()
        .map(|k| format!("ignoring unknown environment variable {k}"))
        .collect();

    // data_dir
    let data_dir = overrides
        .data_dir
        .clone()
        .or_else(|| env_vars.get(env::DATA_DIR).map(PathBuf::from))
        .or_else(|| parsed.data_dir.clone().map(from_file))
        .or_else(|| (mode == Mode::Dev).then(|| PathBuf::from(DEV_DATA_DIR)));
    let data_dir = data_dir.ok_or_else(|| {
        ConfigError::new(format!(
            "no data directory: set data_dir in {}, {} or --data-dir (or run `strongroom serve --dev` for a development server)",
            file.map(|p| p.display().to_string())
                .unwrap_or_else(|| "the config file (--config)".into()),
            env::DATA_DIR
        ))
    })?;

    // database
    let database_url = env_vars
        .get(env::DATABASE_URL)
        .map(str::to_owned)
        .or(parsed.database.url);
    if let Some(url) = &database_url
        && !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
    {
        return Err(ConfigError::new(format!(
            "database.url: unsupported database URL scheme in {}; expected sqlite:…, postgres://… or postgresql://…",
            redact_url(url)
        )));
    }

    // api
    let api_limits = api_limits(env_vars, &parsed.api)?;
    let api_listen = match overrides.api_listen {
        Some(a) => a,
        None => env_vars.setting(env::API_LISTEN, parsed.api.listen, DEFAULT_API_LISTEN)?,
    };
    let tls_cert = env_vars
        .get(env::API_TLS_CERT)
        .map(PathBuf::from)
        .or_else(|| parsed.api.tls_cert.map(&from_file));
    let tls_key = env_vars
        .get(env::API_TLS_KEY)
        .map(PathBuf::from)
        .or_else(|| parsed.api.tls_key.map(&from_file));
    let tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ConfigError::new(
                "api.tls_cert is set but api.tls_key is not: set both (or STRONGROOM_API_TLS_CERT and STRONGROOM_API_TLS_KEY)",
            ));
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "api.tls_key is set but api.tls_cert is not: set both (or STRONGROOM_API_TLS_CERT and STRONGROOM_API_TLS_KEY)",
            ));
        }
    };

    // kmip
    let kmip_listen = match overrides.kmip_listen {
        Some(a) => a,
        None => env_vars.setting(
            env::KMIP_LISTEN,
            parsed.kmip.listen,
            match mode {
                Mode::Dev => DEV_KMIP_LISTEN,
                Mode::Production => DEFAULT_KMIP_LISTEN,
            },
        )?,
    };

    let kmip_defaults = kmip_server::listener::ListenerLimits::DEFAULT;
    let hostnames: Vec<String> = match env_vars.get(env::KMIP_HOSTNAMES) {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect(),
        None => parsed.kmip.hostnames.clone().unwrap_or_else(|| {
            DEFAULT_KMIP_HOSTNAMES
                .iter()
                .map(|h| h.to_string())
                .collect()
        }),
    };
    let hostnames = if mode == Mode::Dev {
        if hostnames
            .iter()
            .map(String::as_str)
            .ne(DEFAULT_KMIP_HOSTNAMES.iter().copied())
        {
            warnings.push(
                "dev mode's KMIP server certificate covers localhost, 127.0.0.1 and ::1; ignoring kmip.hostnames"
                    .into(),
            );
        }
        DEFAULT_KMIP_HOSTNAMES
            .iter()
            .map(|h| h.to_string())
            .collect()
    } else {
        hostnames
    };
    if hostnames.is_empty() {
        return Err(ConfigError::new(
            "kmip.hostnames is empty: name at least one DNS name or IP address the KMIP clients connect to",
        ));
    }
    let kmip = KmipConfig {
        listen: kmip_listen,
        hostnames,
        max_connections: positive(
            "kmip.max_connections",
            env_vars.setting(
                env::KMIP_MAX_CONNECTIONS,
                parsed.kmip.max_connections,
                kmip_defaults.max_connections,
            )?,
        )?,
        handshake_timeout: env_vars.duration(
            env::KMIP_HANDSHAKE_TIMEOUT,
            parsed.kmip.handshake_timeout,
            kmip_defaults.handshake_timeout,
        )?,
        idle_timeout: env_vars.duration(
            env::KMIP_IDLE_TIMEOUT,
            parsed.kmip.idle_timeout,
            kmip_defaults.idle_timeout,
        )?,
        max_message_size: env_vars.setting(
            env::KMIP_MAX_MESSAGE_SIZE,
            parsed.kmip.max_message_size,
            kmip_defaults.message.max_message_size,
        )?,
        max_batch_items: positive(
            "kmip.max_batch_items",
            env_vars.setting(
                env::KMIP_MAX_BATCH_ITEMS,
                parsed.kmip.max_batch_items,
                kmip_defaults.max_batch_count,
            )?,
        )?,
        ca_key: env_vars.setting(env::KMIP_CA_KEY, parsed.kmip.ca_key, Default::default())?,
        streams: stream_limits(env_vars, &parsed.kmip, kmip_defaults.streams)?,
    };
    if kmip.handshake_timeout.is_zero() || kmip.idle_timeout.is_zero() {
        return Err(ConfigError::new(
            "kmip.handshake_timeout and kmip.idle_timeout must be longer than zero",
        ));
    }
    // A message is at least its 8-byte header plus a Request Header.
    if kmip.max_message_size < 1024 {
        return Err(ConfigError::new(format!(
            "kmip.max_message_size is {} bytes; it must be at least 1024",
            kmip.max_message_size
        )));
    }

    // root
    let mut root = match parsed.root {
        Some(RootSection::Software { passphrase_file }) => RootConfig::Software {
            passphrase_file: passphrase_file.map(&from_file),
        },
        Some(RootSection::Pkcs11 {
            module,
            token_label,
            slot_id,
            pin_file,
            pin_env,
            key_label,
            sessions,
        }) => {
            let pin = match (pin_file, pin_env) {
                (Some(file), None) => hsm::pkcs11::PinSource::File(from_file(file)),
                (None, Some(var)) => hsm::pkcs11::PinSource::Env(var),
                _ => {
                    return Err(ConfigError::new(
                        "root: the pkcs11 provider needs exactly one of pin_file and pin_env"
                            .to_string(),
                    ));
                }
            };
            if token_label.is_none() && slot_id.is_none() {
                return Err(ConfigError::new(
                    "root: the pkcs11 provider needs token_label or slot_id".to_string(),
                ));
            }
            RootConfig::Pkcs11(hsm::pkcs11::Pkcs11Config {
                module: from_file(module),
                token_label,
                slot_id,
                pin,
                key_label,
                sessions: sessions.unwrap_or(hsm::pkcs11::DEFAULT_SESSIONS).max(1),
            })
        }
        Some(RootSection::AwsKms {
            key_id,
            region,
            endpoint_url,
        }) => RootConfig::AwsKms(hsm::aws_kms::AwsKmsConfig {
            key_id,
            region,
            endpoint_url,
        }),
        Some(RootSection::GcpKms {
            key_name,
            endpoint_url,
            credentials,
        }) => {
            hsm::gcp_kms::validate_key_name(&key_name)
                .map_err(|e| ConfigError::new(format!("root: {e}")))?;
            RootConfig::GcpKms(hsm::gcp_kms::GcpKmsConfig {
                key_name,
                endpoint_url,
                credentials: credentials.unwrap_or_default(),
            })
        }
        None => RootConfig::Software {
            passphrase_file: None,
        },
    };
    if let Some(provider) = env_vars.get(env::ROOT_PROVIDER) {
        match provider {
            "pkcs11" if root.provider() == "pkcs11" => {}
            "aws-kms" if root.provider() == "aws-kms" => {}
            "gcp-kms" if root.provider() == "gcp-kms" => {}
            "software" => {
                if root.provider() != "software" {
                    root = RootConfig::Software {
                        passphrase_file: None,
                    };
                }
            }
            "pkcs11" | "aws-kms" | "gcp-kms" => {
                return Err(ConfigError::new(format!(
                    "environment variable {}={provider:?}: the configuration file's [root] section configures {:?}; the variable can confirm it or choose \"software\", and the provider's settings belong in the file",
                    env::ROOT_PROVIDER,
                    root.provider()
                )));
            }
            other => {
                return Err(ConfigError::new(format!(
                    "environment variable {}={other:?}: unknown root of trust provider, expected \"software\", \"pkcs11\", \"aws-kms\" or \"gcp-kms\"",
                    env::ROOT_PROVIDER
                )));
            }
        }
    }
    if let Some(path) = env_vars.get(env::ROOT_PASSPHRASE_FILE)
        && let RootConfig::Software { passphrase_file } = &mut root
    {
        *passphrase_file = Some(PathBuf::from(path));
    }

    // log
    let format = match env_vars.parse(env::LOG_FORMAT)? {
        Some(f) => f,
        None => parsed.log.format.unwrap_or_default(),
    };
    let level = match env_vars.get(env::LOG_LEVEL) {
        Some(level) => {
            check_filter(level).map_err(|e| {
                ConfigError::new(format!(
                    "environment variable {}={level:?}: {e}",
                    env::LOG_LEVEL
                ))
            })?;
            level.to_owned()
        }
        None => match parsed.log.level {
            Some(level) => {
                check_filter(&level).map_err(|e| {
                    ConfigError::new(format!("{}: log.level {level:?}: {e}", file_name(file)))
                })?;
                level
            }
            None => "info".to_owned(),
        },
    };

    // cache
    let capacity = env_vars
        .parse(env::CACHE_CAPACITY)?
        .or(parsed.cache.capacity);
    if capacity == Some(0) {
        return Err(ConfigError::new(
            "cache.capacity must be at least 1 (it counts unwrapped keys kept in memory)",
        ));
    }

    if mode == Mode::Dev {
        if tls.is_some() {
            warnings.push(
                "dev mode generates its own TLS certificates; ignoring api.tls_cert and api.tls_key"
                    .into(),
            );
        }
        if env_vars.get(env::ROOT_PASSPHRASE).is_some() {
            warnings.push(format!(
                "dev mode uses the key file root.key in the data directory; ignoring {}",
                env::ROOT_PASSPHRASE
            ));
        }
    }

    if kmip.ca_key == CaKeyLocation::Hsm && !matches!(root, RootConfig::Pkcs11(_)) {
        return Err(ConfigError::new(format!(
            "kmip.ca_key = \"hsm\" keeps the KMIP CA key in the PKCS#11 token of the root of trust, \
             but the root provider is {}: set [root] provider = \"pkcs11\" or kmip.ca_key = \"software\"",
            root.provider()
        )));
    }
    Ok(Config {
        mode,
        file: file.map(Path::to_path_buf),
        data_dir,
        database_url,
        api: ApiConfig {
            listen: api_listen,
            tls: if mode == Mode::Dev { None } else { tls },
            limits: api_limits,
        },
        kmip,
        root,
        log: LogConfig { format, level },
        cache: CacheConfig { capacity },
        warnings,
    })
}

/// `[api]` limits over their defaults (see `http::limits`).
fn api_limits(env_vars: &Env, api: &ApiSection) -> Result<crate::http::ApiLimits, ConfigError> {
    let defaults = crate::http::ApiLimits::default();
    let limits = crate::http::ApiLimits {
        max_body_size: env_vars.setting(
            env::API_MAX_BODY_SIZE,
            api.max_body_size,
            defaults.max_body_size,
        )?,
        request_timeout: env_vars.duration(
            env::API_REQUEST_TIMEOUT,
            api.request_timeout,
            defaults.request_timeout,
        )?,
        rate_limit: positive(
            "api.rate_limit",
            env_vars.setting(env::API_RATE_LIMIT, api.rate_limit, defaults.rate_limit)?,
        )?,
        rate_limit_burst: positive(
            "api.rate_limit_burst",
            env_vars.setting(
                env::API_RATE_LIMIT_BURST,
                api.rate_limit_burst,
                defaults.rate_limit_burst,
            )?,
        )?,
        login_rate_limit: positive(
            "api.login_rate_limit",
            env_vars.setting(
                env::API_LOGIN_RATE_LIMIT,
                api.login_rate_limit,
                defaults.login_rate_limit,
            )?,
        )?,
    };
    if limits.max_body_size < 64 * 1024 {
        return Err(ConfigError::new(
            "api.max_body_size must be at least 65536 bytes",
        ));
    }
    if limits.request_timeout.is_zero() {
        return Err(ConfigError::new(
            "api.request_timeout must be longer than zero",
        ));
    }
    Ok(limits)
}

/// `kmip.max_streams_per_client` and the other stream bounds over
/// kmip-server's defaults. Each must be positive: a zero would refuse every
/// multi-part request while looking like a setting that allows them.
fn stream_limits(
    env_vars: &Env,
    section: &KmipSection,
    defaults: kmip_server::streams::StreamLimits,
) -> Result<kmip_server::streams::StreamLimits, ConfigError> {
    let limits = kmip_server::streams::StreamLimits {
        per_client: positive(
            "kmip.max_streams_per_client",
            env_vars.setting(
                env::KMIP_MAX_STREAMS_PER_CLIENT,
                section.max_streams_per_client,
                defaults.per_client,
            )?,
        )?,
        total: positive(
            "kmip.max_streams",
            env_vars.setting(env::KMIP_MAX_STREAMS, section.max_streams, defaults.total)?,
        )?,
        stream_bytes: positive(
            "kmip.max_stream_size",
            env_vars.setting(
                env::KMIP_MAX_STREAM_SIZE,
                section.max_stream_size,
                defaults.stream_bytes,
            )?,
        )?,
        total_bytes: positive(
            "kmip.max_streams_size",
            env_vars.setting(
                env::KMIP_MAX_STREAMS_SIZE,
                section.max_streams_size,
                defaults.total_bytes,
            )?,
        )?,
        idle: env_vars.duration(
            env::KMIP_STREAM_IDLE_TIMEOUT,
            section.stream_idle_timeout,
            defaults.idle,
        )?,
    };
    if limits.idle.is_zero() {
        return Err(ConfigError::new(
            "kmip.stream_idle_timeout must be longer than zero",
        ));
    }
    if limits.per_client > limits.total || limits.stream_bytes > limits.total_bytes {
        return Err(ConfigError::new(
            "kmip.max_streams_per_client must not exceed kmip.max_streams, nor kmip.max_stream_size kmip.max_streams_size",
        ));
    }
    Ok(limits)
}

/// `value`, refused when zero: a zero limit would refuse everything while
/// looking like a setting.
fn positive<T: PartialEq + Default>(key: &str, value: T) -> Result<T, ConfigError> {
    if value == T::default() {
        return Err(ConfigError::new(format!("{key} must be at least 1")));
    }
    Ok(value)
}

fn file_name(file: Option<&Path>) -> String {
    file.map(|p| p.display().to_string())
        .unwrap_or_else(|| "config".into())
}

fn check_filter(filter: &str) -> Result<(), String> {
    tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A database URL with any password replaced, for error messages and logs.
pub fn redact_url(url: &str) -> String {
    // scheme://user:password@host/…
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// Turns a TOML error into one line naming the file, the line and the key:
/// `strongroom.toml:7: api.listen: invalid socket address syntax`.
fn describe_toml_error(path: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    let message = err.message().trim();
    let Some(span) = err.span() else {
        return ConfigError::new(format!("config file {}: {message}", path.display()));
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[line_start..line_end];

    // The table the error is in: the last `[header]` at or before the line.
    let section = text[..line_end]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    // The key on that line, if the line is `key = value`.
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_owned())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let name = match (section, key) {
        (Some(s), Some(k)) => format!("{s}.{k}: "),
        (None, Some(k)) => format!("{k}: "),
        (Some(s), None) => format!("[{s}]: "),
        (None, None) => String::new(),
    };
    ConfigError::new(format!(
        "config file {}, line {line_no}: {name}{message}",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("strongroom.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn no_env() -> Env {
        Env::default()
    }

    #[test]
    fn production_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "data_dir = \"/var/lib/strongroom\"\n");
        let c = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.api.listen, "127.0.0.1:8443".parse().unwrap());
        assert_eq!(c.kmip.listen, "0.0.0.0:5696".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/strongroom"));
        assert_eq!(
            c.database_url(),
            "sqlite:///var/lib/strongroom/strongroom.db"
        );
        assert_eq!(c.log.format, LogFormat::Text);
        assert_eq!(c.log.level, "info");
        assert_eq!(
            c.root,
            RootConfig::Software {
                passphrase_file: None
            }
        );
        assert!(c.api.tls.is_none());
    }

    #[test]
    fn the_example_config_parses_and_states_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../strongroom.example.toml");
        let c = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.api.listen, DEFAULT_API_LISTEN);
        assert_eq!(c.kmip.listen, DEFAULT_KMIP_LISTEN);
        assert_eq!(c.log.format, LogFormat::Text);
        assert_eq!(c.log.level, "info");
        assert!(c.api.tls.is_some());
        let kms_default = kms_core::service::OpenOptions::new("/x", "sqlite:///x").cache_capacity;
        assert_eq!(c.cache.capacity, Some(kms_default));
        // The KMIP limits the example states are the listener's defaults.
        assert_eq!(
            c.kmip.limits(),
            kmip_server::listener::ListenerLimits::DEFAULT
        );
        assert_eq!(c.kmip.hostnames, DEFAULT_KMIP_HOSTNAMES);
        assert_eq!(c.kmip.ca_key, CaKeyLocation::Software);
    }

    #[test]
    fn kmip_stream_limits_from_file_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "data_dir = \"d\"\n[kmip]\nmax_streams_per_client = 2\nmax_streams = 10\n\
             max_stream_size = 65536\nmax_streams_size = 1048576\nstream_idle_timeout = \"30s\"\n",
        );
        let c = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap();
        let streams = c.kmip.limits().streams;
        assert_eq!(streams.per_client, 2);
        assert_eq!(streams.total, 10);
        assert_eq!(streams.stream_bytes, 65536);
        assert_eq!(streams.total_bytes, 1 << 20);
        assert_eq!(streams.idle, std::time::Duration::from_secs(30));

        let env = Env::from_pairs([
            (env::KMIP_MAX_STREAMS_PER_CLIENT, "3"),
            (env::KMIP_STREAM_IDLE_TIMEOUT, "1m"),
        ]);
        let c = load(Some(&path), Mode::Production, &env, &Overrides::default()).unwrap();
        assert_eq!(c.kmip.streams.per_client, 3);
        assert_eq!(c.kmip.streams.total, 10);
        assert_eq!(c.kmip.streams.idle, std::time::Duration::from_secs(60));
    }

    #[test]
    fn kmip_settings_from_file_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "data_dir = \"d\"\n[kmip]\nhostnames = [\"kms.example\", \"10.0.0.5\"]\nmax_connections = 2\n\
             handshake_timeout = \"500ms\"\nidle_timeout = \"2m\"\nmax_message_size = 4096\nmax_batch_items = 3\n",
        );
        let c = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.kmip.hostnames, ["kms.example", "10.0.0.5"]);
        let limits = c.kmip.limits();
        assert_eq!(limits.max_connections, 2);
        assert_eq!(
            limits.handshake_timeout,
            std::time::Duration::from_millis(500)
        );
        assert_eq!(limits.idle_timeout, std::time::Duration::from_secs(120));
        assert_eq!(limits.message.max_message_size, 4096);
        assert_eq!(limits.max_batch_count, 3);
        assert_eq!(limits.streams, kmip_server::streams::StreamLimits::DEFAULT);

        let env = Env::from_pairs([
            (env::KMIP_HOSTNAMES, "a.example, b.example"),
            (env::KMIP_MAX_CONNECTIONS, "7"),
            (env::KMIP_IDLE_TIMEOUT, "1h"),
        ]);
        let c = load(Some(&path), Mode::Production, &env, &Overrides::default()).unwrap();
        assert_eq!(c.kmip.hostnames, ["a.example", "b.example"]);
        assert_eq!(c.kmip.max_connections, 7);
        assert_eq!(c.kmip.idle_timeout, std::time::Duration::from_secs(3600));

        // Dev mode certifies the loopback names only.
        let c = load(Some(&path), Mode::Dev, &no_env(), &Overrides::default()).unwrap();
        assert_eq!(c.kmip.hostnames, DEFAULT_KMIP_HOSTNAMES);
        assert!(c.warnings.iter().any(|w| w.contains("kmip.hostnames")));

        for (bad, named) in [
            ("[kmip]\nmax_connections = 0\n", "kmip.max_connections"),
            ("[kmip]\nmax_batch_items = 0\n", "kmip.max_batch_items"),
            (
                "[kmip]\nmax_streams_per_client = 0\n",
                "kmip.max_streams_per_client",
            ),
            ("[kmip]\nmax_stream_size = 0\n", "kmip.max_stream_size"),
            (
                "[kmip]\nstream_idle_timeout = \"0s\"\n",
                "kmip.stream_idle_timeout",
            ),
            (
                "[kmip]\nmax_streams_per_client = 9\nmax_streams = 8\n",
                "kmip.max_streams_per_client",
            ),
            ("[kmip]\nidle_timeout = \"soon\"\n", "idle_timeout"),
            (
                "[kmip]\nhandshake_timeout = \"0s\"\n",
                "kmip.handshake_timeout",
            ),
            ("[kmip]\nmax_message_size = 10\n", "kmip.max_message_size"),
            ("[kmip]\nhostnames = []\n", "kmip.hostnames"),
            ("[kmip]\nmax_sessions = 1\n", "max_sessions"),
        ] {
            let path = write(dir.path(), &format!("data_dir = \"d\"\n{bad}"));
            let err = load(
                Some(&path),
                Mode::Production,
                &no_env(),
                &Overrides::default(),
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains(named), "{bad}: {err}");
        }
        let env = Env::from_pairs([(env::KMIP_HANDSHAKE_TIMEOUT, "5 fortnights")]);
        let err = load(None, Mode::Dev, &env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(env::KMIP_HANDSHAKE_TIMEOUT), "{err}");
    }

    #[test]
    fn kmip_ca_key_is_software_unless_a_pkcs11_root_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "data_dir = \"d\"\n");
        let c = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.kmip.ca_key, CaKeyLocation::Software);

        let path = write(dir.path(), "data_dir = \"d\"\n[kmip]\nca_key = \"hsm\"\n");
        let err = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("kmip.ca_key") && err.contains("software"),
            "{err}"
        );

        let pkcs11 = "data_dir = \"d\"\n[kmip]\nca_key = \"hsm\"\n[root]\nprovider = \"pkcs11\"\n\
                      module = \"/m.so\"\ntoken_label = \"t\"\npin_env = \"PIN\"\nkey_label = \"k\"\n";
        let path = write(dir.path(), pkcs11);
        let c = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.kmip.ca_key, CaKeyLocation::Hsm);
        assert_eq!(
            c.kmip.ca_key_location(),
            kms_core::service::KeyLocation::Hsm
        );

        let env = Env::from_pairs([(env::KMIP_CA_KEY, "software")]);
        let c = load(Some(&path), Mode::Production, &env, &Overrides::default()).unwrap();
        assert_eq!(c.kmip.ca_key, CaKeyLocation::Software);
        let env = Env::from_pairs([(env::KMIP_CA_KEY, "tpm")]);
        let err = load(Some(&path), Mode::Production, &env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(env::KMIP_CA_KEY), "{err}");
    }

    #[test]
    fn durations_parse() {
        use std::time::Duration as D;
        assert_eq!(parse_duration("90d"), Ok(D::from_secs(90 * 86_400)));
        assert_eq!(parse_duration("12h"), Ok(D::from_secs(12 * 3600)));
        assert_eq!(parse_duration("30m"), Ok(D::from_secs(1800)));
        assert_eq!(parse_duration("10"), Ok(D::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(D::from_millis(250)));
        for bad in ["", "d", "5y", "-1s", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dev_defaults() {
        let c = load(None, Mode::Dev, &no_env(), &Overrides::default()).unwrap();
        assert_eq!(c.data_dir, PathBuf::from(DEV_DATA_DIR));
        assert_eq!(c.kmip.listen, DEV_KMIP_LISTEN);
        assert_eq!(c.api.listen, DEFAULT_API_LISTEN);
    }

    #[test]
    fn every_section_parses_and_relative_paths_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            r#"
data_dir = "data"
[database]
url = "postgres://strongroom:secret@db/strongroom"
[api]
listen = "0.0.0.0:9443"
tls_cert = "tls/server.pem"
tls_key = "/etc/strongroom/server.key"
[kmip]
listen = "[::]:5697"
[root]
provider = "software"
passphrase_file = "passphrase"
[log]
format = "json"
level = "debug"
[cache]
capacity = 42
"#,
        );
        let c = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.data_dir, dir.path().join("data"));
        assert_eq!(
            c.database_url(),
            "postgres://strongroom:secret@db/strongroom"
        );
        assert_eq!(c.api.listen, "0.0.0.0:9443".parse().unwrap());
        assert_eq!(
            c.api.tls,
            Some(TlsFiles {
                cert: dir.path().join("tls/server.pem"),
                key: PathBuf::from("/etc/strongroom/server.key"),
            })
        );
        assert_eq!(c.kmip.listen, "[::]:5697".parse().unwrap());
        assert_eq!(
            c.root,
            RootConfig::Software {
                passphrase_file: Some(dir.path().join("passphrase"))
            }
        );
        assert_eq!(
            c.log,
            LogConfig {
                format: LogFormat::Json,
                level: "debug".into()
            }
        );
        assert_eq!(c.cache.capacity, Some(42));
    }

    #[test]
    fn flag_beats_env_beats_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "data_dir = \"/file\"\n[api]\nlisten = \"127.0.0.1:1001\"\n[kmip]\nlisten = \"127.0.0.1:2001\"\n[log]\nformat = \"text\"\n",
        );
        let env = Env::from_pairs([
            ("STRONGROOM_DATA_DIR", "/env"),
            ("STRONGROOM_API_LISTEN", "127.0.0.1:1002"),
            ("STRONGROOM_KMIP_LISTEN", "127.0.0.1:2002"),
            ("STRONGROOM_LOG_FORMAT", "json"),
            ("STRONGROOM_DATABASE_URL", "sqlite:///env/db.sqlite"),
        ]);
        let c = load(Some(&path), Mode::Production, &env, &Overrides::default()).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/env"));
        assert_eq!(c.api.listen, "127.0.0.1:1002".parse().unwrap());
        assert_eq!(c.kmip.listen, "127.0.0.1:2002".parse().unwrap());
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.database_url(), "sqlite:///env/db.sqlite");

        let flags = Overrides {
            data_dir: Some("/flag".into()),
            api_listen: Some("127.0.0.1:1003".parse().unwrap()),
            kmip_listen: Some("127.0.0.1:2003".parse().unwrap()),
        };
        let c = load(Some(&path), Mode::Production, &env, &flags).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/flag"));
        assert_eq!(c.api.listen, "127.0.0.1:1003".parse().unwrap());
        assert_eq!(c.kmip.listen, "127.0.0.1:2003".parse().unwrap());
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "data_dir = \"/x\"\n[api]\nlisten = \"127.0.0.1:1\"\nbogus_key = 1\n",
        );
        let err = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("api.bogus_key"), "{err}");
        assert!(err.contains("unknown field"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn unknown_top_level_key_and_section() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "data_dir = \"/x\"\ndatadir = \"/y\"\n");
        let err = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("datadir"), "{err}");
        let path = write(dir.path(), "[wat]\nx = 1\n");
        let err = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("wat"), "{err}");
    }

    #[test]
    fn bad_value_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "[kmip]\nlisten = \"not an address\"\n");
        let err = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("kmip.listen"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn root_provider_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "[root]\nprovider = \"tpm\"\n");
        let err = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("tpm"), "{err}");
        let path = write(
            dir.path(),
            "[root]\nprovider = \"software\"\npin = \"1234\"\n",
        );
        let err = load(
            Some(&path),
            Mode::Production,
            &no_env(),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("pin"), "{err}");
    }

    #[test]
    fn gcp_kms_root_parses_strictly() {
        let dir = tempfile::tempdir().unwrap();
        let key = "projects/acme/locations/europe-west1/keyRings/strongroom/cryptoKeys/root";
        let load_text = |text: &str, env: &Env| {
            let path = write(dir.path(), text);
            load(Some(&path), Mode::Production, env, &Overrides::default())
        };
        let text =
            format!("data_dir = \"/x\"\n[root]\nprovider = \"gcp-kms\"\nkey_name = \"{key}\"\n");
        let c = load_text(&text, &no_env()).unwrap();
        assert_eq!(
            c.root,
            RootConfig::GcpKms(hsm::gcp_kms::GcpKmsConfig::new(key))
        );
        assert_eq!(c.root.provider(), "gcp-kms");

        let text = format!(
            "data_dir = \"/x\"\n[root]\nprovider = \"gcp-kms\"\nkey_name = \"{key}\"\nendpoint_url = \"http://127.0.0.1:9\"\ncredentials = \"anonymous\"\n"
        );
        let c = load_text(
            &text,
            &Env::from_pairs([("STRONGROOM_ROOT_PROVIDER", "gcp-kms")]),
        )
        .unwrap();
        assert_eq!(
            c.root,
            RootConfig::GcpKms(
                hsm::gcp_kms::GcpKmsConfig::new(key)
                    .with_endpoint_url("http://127.0.0.1:9")
                    .with_credentials(hsm::gcp_kms::GcpCredentials::Anonymous)
            )
        );
        // The environment may switch to the software root, not to another
        // provider whose settings are not in the file.
        let c = load_text(
            &text,
            &Env::from_pairs([("STRONGROOM_ROOT_PROVIDER", "software")]),
        )
        .unwrap();
        assert_eq!(c.root.provider(), "software");
        let err = load_text(
            &text,
            &Env::from_pairs([("STRONGROOM_ROOT_PROVIDER", "aws-kms")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("configures \"gcp-kms\""), "{err}");

        for (bad, needle) in [
            (format!("key_name = \"{key}\"\nkey_id = \"x\"\n"), "key_id"),
            (
                format!("key_name = \"{key}\"\ncredentials = \"adc\"\n"),
                "adc",
            ),
            (
                "key_name = \"projects/acme/cryptoKeys/root\"\n".to_string(),
                "not a Cloud KMS crypto key name",
            ),
            (
                "endpoint_url = \"http://127.0.0.1:9\"\n".to_string(),
                "key_name",
            ),
        ] {
            let text = format!("data_dir = \"/x\"\n[root]\nprovider = \"gcp-kms\"\n{bad}");
            let err = load_text(&text, &no_env()).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn env_errors_name_the_variable() {
        let env = Env::from_pairs([("STRONGROOM_API_LISTEN", "localhost")]);
        let err = load(None, Mode::Dev, &env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("STRONGROOM_API_LISTEN"), "{err}");
        let env = Env::from_pairs([("STRONGROOM_LOG_FORMAT", "xml")]);
        let err = load(None, Mode::Dev, &env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("STRONGROOM_LOG_FORMAT"), "{err}");
    }

    #[test]
    fn unknown_env_vars_warn() {
        let env = Env::from_pairs([("STRONGROOM_DATADIR", "/x")]);
        let c = load(None, Mode::Dev, &env, &Overrides::default()).unwrap();
        assert!(c.warnings.iter().any(|w| w.contains("STRONGROOM_DATADIR")));
    }

    #[test]
    fn production_needs_a_data_dir() {
        let err = load(None, Mode::Production, &no_env(), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("data_dir"), "{err}");
    }

    #[test]
    fn half_a_tls_pair_is_an_error() {
        let env = Env::from_pairs([
            ("STRONGROOM_DATA_DIR", "/x"),
            ("STRONGROOM_API_TLS_CERT", "/c"),
        ]);
        let err = load(None, Mode::Production, &env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("tls_key"), "{err}");
    }

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite:///x.db"), "sqlite:///x.db");
        let env = Env::from_pairs([("STRONGROOM_DATABASE_URL", "mysql://u:hunter2@h/db")]);
        let err = load(None, Mode::Dev, &env, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
