//! The command-line client: `strongroom login`, `whoami`, `key …`,
//! `encrypt`, `decrypt`, `sign`, `verify`, over the HTTPS API.
//!
//! One file per command group: [`auth`] (login, whoami), [`keys`] (key
//! create, list, get, rotate, delete), [`crypto`] (encrypt, decrypt, sign,
//! verify). This module holds what they share: where the server is and how
//! to trust it, where the token comes from, requests and the server's
//! errors, input and output.
//!
//! **Connection.** `--url` / `STRONGROOM_API_URL`; `--ca-cert` /
//! `STRONGROOM_CA_CERT` (a PEM file; the only root trusted when given,
//! otherwise the platform's roots).
//!
//! **Credentials**, first found wins:
//!
//! 1. `STRONGROOM_TOKEN` (an access token, from the environment only);
//! 2. the token file (`--token-file` / `STRONGROOM_TOKEN_FILE`, default
//!    `$XDG_CONFIG_HOME/strongroom/token` or `~/.config/strongroom/token`),
//!    written by `strongroom login --save`, 0600;
//! 3. a Universal Auth login with `--client-id` / `STRONGROOM_CLIENT_ID`
//!    and the client secret from `STRONGROOM_CLIENT_SECRET` or
//!    `--client-secret-file` — never from a command-line argument, where
//!    other users of the machine could read it.
//!
//! **Output**: for people by default, the server's JSON with `--json`.
//! **Errors**: the server's `code` and `message` (and request id), exit
//! status 1.

pub mod auth;
pub mod crypto;
pub mod keys;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use clap::{Args, Subcommand};
use reqwest::Method;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// The largest input (plaintext, data to sign) the client reads.
pub const MAX_INPUT: u64 = 16 << 20;

/// The client's subcommands, flattened into `strongroom`'s.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Log in with Universal Auth; print the access token (or --save it).
    Login(auth::LoginArgs),
    /// Show who the current credentials belong to.
    Whoami(auth::WhoamiArgs),
    /// Manage named keys (create, list, get, rotate, delete).
    Key {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        command: keys::KeyCommand,
    },
    /// Encrypt a file or standard input with a key; prints the ciphertext.
    Encrypt(crypto::EncryptArgs),
    /// Decrypt a ciphertext (from a file or standard input).
    Decrypt(crypto::DecryptArgs),
    /// Sign a file or standard input; prints the signature (base64).
    Sign(crypto::SignArgs),
    /// Verify a signature; exit status 1 if it is not valid.
    Verify(crypto::VerifyArgs),
}

/// Where the server is, how to trust it, and who is asking.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The API's base URL, e.g. https://kms.example.com:8443.
    #[arg(long, env = "STRONGROOM_API_URL", value_name = "URL", global = true)]
    pub url: Option<String>,
    /// PEM file of the CA that issued the server's certificate (default:
    /// the platform's trusted roots).
    #[arg(long, env = "STRONGROOM_CA_CERT", value_name = "FILE", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// Where `login --save` keeps the access token, and where other
    /// commands look for it.
    #[arg(
        long,
        env = "STRONGROOM_TOKEN_FILE",
        value_name = "FILE",
        global = true
    )]
    pub token_file: Option<PathBuf>,
    /// Universal Auth client id (for login; the secret comes from
    /// STRONGROOM_CLIENT_SECRET or --client-secret-file).
    #[arg(long, env = "STRONGROOM_CLIENT_ID", value_name = "ID", global = true)]
    pub client_id: Option<String>,
    /// File holding the Universal Auth client secret.
    #[arg(
        long,
        env = "STRONGROOM_CLIENT_SECRET_FILE",
        value_name = "FILE",
        global = true
    )]
    pub client_secret_file: Option<PathBuf>,
    /// Print the server's JSON answer instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Runs a client command on a runtime of its own.
pub fn run(command: ClientCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match command {
            ClientCommand::Login(a) => auth::login(a).await,
            ClientCommand::Whoami(a) => auth::whoami(a).await,
            ClientCommand::Key { conn, command } => keys::run(&conn, command).await,
            ClientCommand::Encrypt(a) => crypto::encrypt(a).await,
            ClientCommand::Decrypt(a) => crypto::decrypt(a).await,
            ClientCommand::Sign(a) => crypto::sign(a).await,
            ClientCommand::Verify(a) => crypto::verify(a).await,
        }
    })
}

/// An error answer from the server: its `code`, `message` and request id.
#[derive(Debug, thiserror::Error)]
#[error("{message} (HTTP {status}, code {code}{})", request_id.as_deref().map(|r| format!(", request id {r}")).unwrap_or_default())]
pub struct ServerError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

/// An HTTPS client for one server.
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A client for `conn`'s server.
    pub fn new(conn: &Connection) -> anyhow::Result<Self> {
        let url = conn
            .url
            .as_deref()
            .context("no server: pass --url or set STRONGROOM_API_URL")?;
        let base = url.trim_end_matches('/').to_owned();
        if !base.starts_with("https://") && !base.starts_with("http://") {
            bail!("--url must be an https:// URL, got {base:?}");
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("strongroom-cli/", env!("CARGO_PKG_VERSION")));
        let builder = match &conn.ca_cert {
            Some(path) => {
                let pem = std::fs::read(path).with_context(|| {
                    format!("cannot read the CA certificate {}", path.display())
                })?;
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.with_context(|| {
                        format!("{} is not a PEM certificate file", path.display())
                    })?;
                    roots
                        .add(cert)
                        .with_context(|| format!("{}: not a usable CA", path.display()))?;
                }
                if roots.is_empty() {
                    bail!("{} holds no certificate", path.display());
                }
                let tls = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .context("TLS configuration")?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                builder.use_preconfigured_tls(tls)
            }
            None => {
                // reqwest's own configuration (the platform's roots) uses the
                // process's default provider.
                let _ = rustls::crypto::CryptoProvider::install_default(
                    rustls::crypto::aws_lc_rs::default_provider(),
                );
                builder
            }
        };
        Ok(Self {
            http: builder.build().context("cannot build the HTTPS client")?,
            base,
        })
    }

    /// Sends a request; a 2xx answer's JSON body, or the server's error.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t.expose_secret());
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {}", self.base, error_chain(&e)))?;
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response
            .text()
            .await
            .map_err(|e| anyhow::anyhow!("reading the answer: {}", error_chain(&e)))?;
        let parsed: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return parsed.with_context(|| format!("the server answered {status} without JSON"));
        }
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Err(ServerError {
            status: status.as_u16(),
            code: field("code").unwrap_or_else(|| "unknown".into()),
            message: field("message").unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("the request failed")
                    .to_owned()
            }),
            request_id: field("reqId").or(request_id),
        }
        .into())
    }

    /// Universal Auth login: the answer (`accessToken`, `expiresIn`, …).
    pub async fn login(&self, client_id: &str, secret: &SecretString) -> anyhow::Result<Value> {
        let body = json!({"clientId": client_id, "clientSecret": secret.expose_secret()});
        self.send(
            Method::POST,
            "/api/v1/auth/universal-auth/login",
            None,
            Some(&body),
        )
        .await
        .context("login failed")
    }
}

/// A reqwest error with its sources (the TLS reason is in a source).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The default token file: `$XDG_CONFIG_HOME/strongroom/token`, or
/// `~/.config/strongroom/token`.
pub fn default_token_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("strongroom").join("token"))
}

/// The client secret: `STRONGROOM_CLIENT_SECRET`, or the file named by
/// `--client-secret-file` (trailing newline ignored).
pub fn client_secret(conn: &Connection) -> anyhow::Result<Option<SecretString>> {
    if let Some(path) = &conn.client_secret_file {
        let text =
            Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the client secret file {}", path.display())
            })?);
        let secret = text.trim_end_matches(['\n', '\r']);
        if secret.is_empty() {
            bail!("the client secret file {} is empty", path.display());
        }
        return Ok(Some(SecretString::from(secret.to_owned())));
    }
    Ok(std::env::var("STRONGROOM_CLIENT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .map(SecretString::from))
}

/// An access token for `conn`: see the module docs for the order.
pub async fn token(client: &Client, conn: &Connection) -> anyhow::Result<SecretString> {
    if let Ok(t) = std::env::var("STRONGROOM_TOKEN")
        && !t.trim().is_empty()
    {
        return Ok(SecretString::from(t.trim().to_owned()));
    }
    let file = conn.token_file.clone().or_else(default_token_file);
    if let Some(path) = &file {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                let t = text.trim();
                if !t.is_empty() {
                    return Ok(SecretString::from(t.to_owned()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && conn.token_file.is_none() => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read the token file {}", path.display()));
            }
        }
    }
    if let (Some(id), Some(secret)) = (&conn.client_id, client_secret(conn)?) {
        let answer = client.login(id, &secret).await?;
        return answer
            .get("accessToken")
            .and_then(Value::as_str)
            .map(|t| SecretString::from(t.to_owned()))
            .context("the login answer has no accessToken");
    }
    bail!(
        "not logged in: set STRONGROOM_TOKEN, run `strongroom login --save`, or set \
         STRONGROOM_CLIENT_ID and STRONGROOM_CLIENT_SECRET"
    )
}

/// Logs in (or reuses the saved token) and sends one authenticated request.
pub async fn call(
    conn: &Connection,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let client = Client::new(conn)?;
    let token = token(&client, conn).await?;
    client.send(method, path, Some(&token), body).await
}

/// Reads `path` (`-` or none: standard input), at most [`MAX_INPUT`] bytes.
pub fn read_input(path: Option<&Path>) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::new());
    let (reader, what): (Box<dyn Read>, String) = match path {
        None => (Box::new(std::io::stdin()), "standard input".into()),
        Some(p) if p == Path::new("-") => (Box::new(std::io::stdin()), "standard input".into()),
        Some(p) => (
            Box::new(
                std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
            ),
            p.display().to_string(),
        ),
    };
    reader
        .take(MAX_INPUT + 1)
        .read_to_end(&mut out)
        .with_context(|| format!("cannot read {what}"))?;
    if out.len() as u64 > MAX_INPUT {
        bail!("{what} is larger than {} MiB", MAX_INPUT >> 20);
    }
    Ok(out)
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(what: &str, text: &str) -> anyhow::Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .with_context(|| format!("{what} is not base64"))
}

/// A key id as a path segment: ids are UUIDs; anything that could change
/// the path is refused.
pub fn key_path(id: &str) -> anyhow::Result<String> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    {
        bail!("{id:?} is not a key id");
    }
    Ok(format!("/api/v1/kms/keys/{id}"))
}

/// A string field of a JSON answer, or `-`.
pub fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("-")
}

/// Prints a JSON value, pretty.
pub fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_cannot_change_the_path() {
        assert_eq!(
            key_path("0190b3c2-0000-7000-8000-000000000000").unwrap(),
            "/api/v1/kms/keys/0190b3c2-0000-7000-8000-000000000000"
        );
        for bad in ["", "../x", "a/b", "a?b", "a b", "%2e"] {
            assert!(key_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn server_errors_show_code_message_and_request_id() {
        let e = ServerError {
            status: 404,
            code: "not_found".into(),
            message: "no such key".into(),
            request_id: Some("abc".into()),
        };
        assert_eq!(
            e.to_string(),
            "no such key (HTTP 404, code not_found, request id abc)"
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let conn = Connection {
            url: Some("https://x".into()),
            ca_cert: None,
            token_file: None,
            client_id: Some("id".into()),
            client_secret_file: Some("/secret/file".into()),
            json: false,
        };
        // Only a file path: the secret itself is never a field.
        assert!(format!("{conn:?}").contains("/secret/file"));
    }
}
