//! A local stand-in for Google Cloud KMS, speaking the v1 REST API on a
//! loopback port, for tests of the GCP KMS root of trust.
//!
//! Google ships no emulator for Cloud KMS, and the tests must not reach the
//! internet, so this server implements the two methods the root of trust
//! calls exactly as documented in the Cloud KMS REST reference:
//!
//! * `POST /v1/{name=projects/*/locations/*/keyRings/*/cryptoKeys/**}:encrypt`
//!   with `{plaintext, additionalAuthenticatedData, plaintextCrc32c,
//!   additionalAuthenticatedDataCrc32c}` (bytes in base64, int64 checksums
//!   as JSON strings or numbers) answering `{name, ciphertext,
//!   ciphertextCrc32c, verifiedPlaintextCrc32c,
//!   verifiedAdditionalAuthenticatedDataCrc32c, protectionLevel}`;
//! * `POST /v1/{name=projects/*/locations/*/keyRings/*/cryptoKeys/*}:decrypt`
//!   with `{ciphertext, additionalAuthenticatedData, ciphertextCrc32c,
//!   additionalAuthenticatedDataCrc32c}` answering `{plaintext,
//!   plaintextCrc32c, usedPrimary, protectionLevel}`;
//!
//! and errors as Google's JSON error body `{"error": {"code", "message",
//! "status"}}` with Google's HTTP codes: 404 `NOT_FOUND` (unknown key), 403
//! `PERMISSION_DENIED`, 400 `FAILED_PRECONDITION` (disabled version), 429
//! `RESOURCE_EXHAUSTED`, 400 `INVALID_ARGUMENT` (bad base64, bad checksum,
//! unknown field, a ciphertext that does not decrypt under this key and AAD).
//!
//! It really encrypts: every key version has its own random AES-256 key
//! (aws-lc-rs AES-256-GCM), and a ciphertext is `version (4 bytes BE) ‖
//! nonce ‖ sealed`, authenticated with the caller's AAD and the crypto key's
//! name. Tests can disable and enable a key, add a version, deny permission,
//! inject throttling, damage answers' checksums, or stop the server.
//!
//! A request the server does not know (another path or method) is answered
//! 404 and recorded; dropping the [`GcpStandIn`] panics if there was any, so
//! a change in what the real client sends fails the tests loudly.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use axum::body::Body;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// The project and location every test key lives in.
pub const PROJECT: &str = "strongroom-test";
pub const LOCATION: &str = "global";
pub const KEY_RING: &str = "strongroom";

/// Largest request body accepted (Cloud KMS takes at most 64 KiB of
/// plaintext; base64 and JSON add a third).
const MAX_BODY: usize = 256 * 1024;

/// A running stand-in. The server stops when this is dropped.
pub struct GcpStandIn {
    /// `http://127.0.0.1:PORT`, for `endpoint_url`.
    pub endpoint: String,
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, CryptoKey>,
    denied: HashSet<String>,
    /// The next this-many requests are answered 429.
    throttle: u32,
    /// Answers carry wrong checksums while set.
    damage_checksums: bool,
    requests: u32,
    unknown: Vec<String>,
}

struct CryptoKey {
    /// Version `n` is `versions[n - 1]`.
    versions: Vec<KeyVersion>,
    primary: u32,
}

struct KeyVersion {
    key: LessSafeKey,
    enabled: bool,
}

impl GcpStandIn {
    /// Binds a random loopback port and serves on the current runtime.
    pub async fn start() -> GcpStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let task = tokio::spawn(serve(listener, state.clone()));
        GcpStandIn {
            endpoint: format!("http://{addr}"),
            addr,
            state,
            task,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The full resource name of crypto key `id` in the test key ring.
    pub fn key_name(id: &str) -> String {
        format!("projects/{PROJECT}/locations/{LOCATION}/keyRings/{KEY_RING}/cryptoKeys/{id}")
    }

    /// Creates crypto key `id` with one enabled version; returns its name.
    pub fn create_key(&self, id: &str) -> String {
        let name = Self::key_name(id);
        self.state().keys.insert(
            name.clone(),
            CryptoKey {
                versions: vec![KeyVersion::generate()],
                primary: 1,
            },
        );
        name
    }

    /// Adds a version to `name` and makes it primary (a key rotation).
    pub fn rotate(&self, name: &str) -> u32 {
        let mut state = self.state();
        let key = state.keys.get_mut(name).expect("no such key");
        key.versions.push(KeyVersion::generate());
        key.primary = key.versions.len() as u32;
        key.primary
    }

    /// Disables (or re-enables) every version of `name`.
    pub fn set_enabled(&self, name: &str, enabled: bool) {
        let mut state = self.state();
        let key = state.keys.get_mut(name).expect("no such key");
        for v in &mut key.versions {
            v.enabled = enabled;
        }
    }

    /// Denies (or grants again) the caller the use of `name`.
    pub fn set_denied(&self, name: &str, denied: bool) {
        let mut state = self.state();
        if denied {
            state.denied.insert(name.to_string());
        } else {
            state.denied.remove(name);
        }
    }

    /// Answers the next `n` requests with 429 `RESOURCE_EXHAUSTED`
    /// (`u32::MAX`: until told otherwise; 0: stop).
    pub fn throttle(&self, n: u32) {
        self.state().throttle = n;
    }

    /// Makes answers carry wrong checksums while `on`.
    pub fn damage_checksums(&self, on: bool) {
        self.state().damage_checksums = on;
    }

    /// Encrypt and decrypt requests received so far, throttled ones included.
    pub fn requests(&self) -> u32 {
        self.state().requests
    }

    /// Stops serving: the port refuses connections from now on, and open
    /// connections are closed.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for GcpStandIn {
    fn drop(&mut self) {
        self.task.abort();
        let unknown = std::mem::take(&mut self.state().unknown);
        if !unknown.is_empty() && !std::thread::panicking() {
            panic!("the Cloud KMS stand-in received requests it does not know: {unknown:?}");
        }
    }
}

impl KeyVersion {
    fn generate() -> KeyVersion {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("random key");
        let key = UnboundKey::new(&AES_256_GCM, &bytes).expect("AES-256 key");
        KeyVersion {
            key: LessSafeKey::new(key),
            enabled: true,
        }
    }
}

/// Accepts connections until aborted; aborting drops the `JoinSet`, which
/// closes every open connection too.
async fn serve(listener: TcpListener, state: Arc<Mutex<State>>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

/// A Google API error: the HTTP status and the canonical code's name.
struct ApiError {
    http: StatusCode,
    status: &'static str,
    message: String,
}

impl ApiError {
    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError {
            http: StatusCode::BAD_REQUEST,
            status: "INVALID_ARGUMENT",
            message: message.into(),
        }
    }
}

async fn handle(state: &Mutex<State>, req: Request<Incoming>) -> Response<Body> {
    let ints = req
        .uri()
        .query()
        .is_some_and(|q| q.contains("enum-encoding=int"));
    let path = req.uri().path().to_string();
    let call = match (req.method(), parse_path(&path)) {
        (&Method::POST, Some(call)) => call,
        _ => {
            let line = format!("{} {}", req.method(), req.uri());
            eprintln!("cloud kms stand-in: unknown request {line}");
            lock(state).unknown.push(line);
            return error_response(ApiError {
                http: StatusCode::NOT_FOUND,
                status: "NOT_FOUND",
                message: format!("The requested URL {path} was not found on this server."),
            });
        }
    };
    let body = match axum::body::to_bytes(Body::new(req.into_body()), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return error_response(ApiError::invalid("Request body too large.")),
    };
    let result = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .ok_or_else(|| ApiError::invalid("Invalid JSON payload received."))
        .and_then(|fields| {
            let mut state = lock(state);
            state.requests += 1;
            call.run(&mut state, &fields, ints)
        });
    match result {
        Ok(value) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json; charset=UTF-8")
            .body(Body::from(value.to_string()))
            .expect("response"),
        Err(e) => error_response(e),
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn error_response(e: ApiError) -> Response<Body> {
    let body =
        json!({"error": {"code": e.http.as_u16(), "message": e.message, "status": e.status}});
    Response::builder()
        .status(e.http)
        .header("content-type", "application/json; charset=UTF-8")
        .body(Body::from(body.to_string()))
        .expect("response")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Encrypt,
    Decrypt,
}

struct Call {
    verb: Verb,
    /// The crypto key's name.
    key: String,
    /// For Encrypt on a named version.
    version: Option<u32>,
}

/// `/v1/projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/N]:verb`.
fn parse_path(path: &str) -> Option<Call> {
    let (name, verb) = path.strip_prefix("/v1/")?.rsplit_once(':')?;
    let verb = match verb {
        "encrypt" => Verb::Encrypt,
        "decrypt" => Verb::Decrypt,
        _ => return None,
    };
    let parts: Vec<&str> = name.split('/').collect();
    let (key_parts, version) = match parts.as_slice() {
        [key @ .., "cryptoKeyVersions", n] if verb == Verb::Encrypt => (key, Some(n.parse().ok()?)),
        key => (key, None),
    };
    match key_parts {
        [
            "projects",
            p,
            "locations",
            l,
            "keyRings",
            r,
            "cryptoKeys",
            k,
        ] if [p, l, r, k].iter().all(|s| !s.is_empty()) => Some(Call {
            verb,
            key: key_parts.join("/"),
            version,
        }),
        _ => None,
    }
}

impl Call {
    fn permission(&self) -> &'static str {
        match self.verb {
            Verb::Encrypt => "cloudkms.cryptoKeyVersions.useToEncrypt",
            Verb::Decrypt => "cloudkms.cryptoKeyVersions.useToDecrypt",
        }
    }

    fn run(
        &self,
        state: &mut State,
        fields: &Map<String, Value>,
        ints: bool,
    ) -> Result<Value, ApiError> {
        if state.throttle > 0 {
            if state.throttle != u32::MAX {
                state.throttle -= 1;
            }
            return Err(ApiError {
                http: StatusCode::TOO_MANY_REQUESTS,
                status: "RESOURCE_EXHAUSTED",
                message: format!(
                    "Quota exceeded for quota metric 'Cryptographic requests' and limit 'Cryptographic requests per minute' of service 'cloudkms.googleapis.com' for consumer 'project_number:{PROJECT}'."
                ),
            });
        }
        // As Cloud KMS does, permission comes before existence, so a caller
        // cannot probe for key names it may not use.
        if state.denied.contains(&self.key) {
            return Err(ApiError {
                http: StatusCode::FORBIDDEN,
                status: "PERMISSION_DENIED",
                message: format!(
                    "Permission '{}' denied on resource '{}' (or it may not exist).",
                    self.permission(),
                    self.key
                ),
            });
        }
        let damage = state.damage_checksums;
        let Some(key) = state.keys.get(&self.key) else {
            return Err(ApiError {
                http: StatusCode::NOT_FOUND,
                status: "NOT_FOUND",
                message: format!("{} not found.", self.key),
            });
        };
        let allowed: &[&str] = match self.verb {
            Verb::Encrypt => &[
                "name",
                "plaintext",
                "additionalAuthenticatedData",
                "plaintextCrc32c",
                "additionalAuthenticatedDataCrc32c",
            ],
            Verb::Decrypt => &[
                "name",
                "ciphertext",
                "additionalAuthenticatedData",
                "ciphertextCrc32c",
                "additionalAuthenticatedDataCrc32c",
            ],
        };
        if let Some(unknown) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::invalid(format!(
                "Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field."
            )));
        }
        let aad = bytes_field(fields, "additionalAuthenticatedData")?;
        let aad_checked = check_crc(fields, "additionalAuthenticatedData", &aad)?;
        match self.verb {
            Verb::Encrypt => self.encrypt(key, fields, &aad, aad_checked, damage, ints),
            Verb::Decrypt => self.decrypt(key, fields, &aad, damage, ints),
        }
    }

    fn encrypt(
        &self,
        key: &CryptoKey,
        fields: &Map<String, Value>,
        aad: &[u8],
        aad_checked: bool,
        damage: bool,
        ints: bool,
    ) -> Result<Value, ApiError> {
        let plaintext = bytes_field(fields, "plaintext")?;
        if plaintext.is_empty() {
            return Err(ApiError::invalid("plaintext is empty."));
        }
        let plaintext_checked = check_crc(fields, "plaintext", &plaintext)?;
        let number = self.version.unwrap_or(key.primary);
        let version = usable(key, &self.key, number)?;
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("random nonce");
        let mut sealed = plaintext.clone();
        version
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(gcm_aad(&self.key, aad)),
                &mut sealed,
            )
            .expect("seal");
        let mut ciphertext = number.to_be_bytes().to_vec();
        ciphertext.extend_from_slice(&nonce);
        ciphertext.extend_from_slice(&sealed);
        let crc = crc32c::crc32c(&ciphertext) ^ u32::from(damage);
        Ok(json!({
            "name": format!("{}/cryptoKeyVersions/{number}", self.key),
            "ciphertext": STANDARD.encode(&ciphertext),
            "ciphertextCrc32c": crc.to_string(),
            "verifiedPlaintextCrc32c": plaintext_checked,
            "verifiedAdditionalAuthenticatedDataCrc32c": aad_checked,
            "protectionLevel": protection_level(ints),
        }))
    }

    fn decrypt(
        &self,
        key: &CryptoKey,
        fields: &Map<String, Value>,
        aad: &[u8],
        damage: bool,
        ints: bool,
    ) -> Result<Value, ApiError> {
        let ciphertext = bytes_field(fields, "ciphertext")?;
        check_crc(fields, "ciphertext", &ciphertext)?;
        let undecryptable = || {
            ApiError::invalid(
                "Decryption failed: verify that 'name' refers to the correct CryptoKey.",
            )
        };
        if ciphertext.len() < 4 + NONCE_LEN {
            return Err(undecryptable());
        }
        let (head, rest) = ciphertext.split_at(4);
        let number = u32::from_be_bytes(head.try_into().map_err(|_| undecryptable())?);
        if number == 0 || number as usize > key.versions.len() {
            return Err(undecryptable());
        }
        let version = usable(key, &self.key, number)?;
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| undecryptable())?;
        let mut buffer = sealed.to_vec();
        let plaintext = version
            .key
            .open_in_place(nonce, Aad::from(gcm_aad(&self.key, aad)), &mut buffer)
            .map_err(|_| undecryptable())?;
        let crc = crc32c::crc32c(plaintext) ^ u32::from(damage);
        Ok(json!({
            "plaintext": STANDARD.encode(&*plaintext),
            "plaintextCrc32c": crc.to_string(),
            "usedPrimary": number == key.primary,
            "protectionLevel": protection_level(ints),
        }))
    }
}

/// Version `number` of `key`, if it exists and is enabled.
fn usable<'k>(key: &'k CryptoKey, name: &str, number: u32) -> Result<&'k KeyVersion, ApiError> {
    let version = number
        .checked_sub(1)
        .and_then(|i| key.versions.get(i as usize))
        .ok_or_else(|| ApiError {
            http: StatusCode::NOT_FOUND,
            status: "NOT_FOUND",
            message: format!("{name}/cryptoKeyVersions/{number} not found."),
        })?;
    if !version.enabled {
        return Err(ApiError {
            http: StatusCode::BAD_REQUEST,
            status: "FAILED_PRECONDITION",
            message: format!(
                "The request cannot be fulfilled. Resource {name}/cryptoKeyVersions/{number} has value DISABLED in field crypto_key_version.state."
            ),
        });
    }
    Ok(version)
}

/// The AES-GCM associated data: the crypto key's name, then the caller's AAD,
/// so that another key of the same name elsewhere could not open it either.
fn gcm_aad(key: &str, aad: &[u8]) -> Vec<u8> {
    let mut out = key.as_bytes().to_vec();
    out.push(0);
    out.extend_from_slice(aad);
    out
}

/// `SOFTWARE`, as the caller asked enums to be encoded.
fn protection_level(ints: bool) -> Value {
    if ints { json!(1) } else { json!("SOFTWARE") }
}

/// A `bytes` field: base64 (standard or URL-safe alphabet); absent is empty.
fn bytes_field(fields: &Map<String, Value>, name: &str) -> Result<Vec<u8>, ApiError> {
    match fields.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(text)) => STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE.decode(text))
            .map_err(|_| {
                ApiError::invalid(format!(
                    "Invalid value at '{name}' (TYPE_BYTES), Base64 decoding failed for \"{text}\""
                ))
            }),
        Some(_) => Err(ApiError::invalid(format!(
            "Invalid value at '{name}' (TYPE_BYTES): not a string"
        ))),
    }
}

/// Checks `<field>Crc32c` against `data` when present; says whether it was.
fn check_crc(fields: &Map<String, Value>, field: &str, data: &[u8]) -> Result<bool, ApiError> {
    let name = format!("{field}Crc32c");
    let given = match fields.get(&name) {
        None => return Ok(false),
        // int64 is a JSON string in proto3 JSON; numbers are accepted too.
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        Some(Value::Number(n)) => n.as_i64(),
        Some(_) => None,
    }
    .ok_or_else(|| ApiError::invalid(format!("Invalid value at '{name}' (TYPE_INT64)")))?;
    if given != i64::from(crc32c::crc32c(data)) {
        return Err(ApiError::invalid(format!(
            "The checksum in field {name} did not match the data in field {field}."
        )));
    }
    Ok(true)
}
