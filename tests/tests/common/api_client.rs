//! A blocking HTTPS client for the API tests: a dev server of its own, a
//! client that trusts its CA, login and membership helpers, and the error
//! shape every route shares.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::Client;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

use super::{Process, strongroom};

/// A running dev server and a client that trusts its CA.
pub struct Api {
    pub base: String,
    pub client: Client,
    pub bootstrap: Value,
    _process: Process,
    _dir: tempfile::TempDir,
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Api {
    pub fn start(env: &[(&str, &str)]) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut cmd = strongroom(&[
            "serve",
            "--dev",
            "--data-dir",
            data.to_str().unwrap(),
            "--api-listen",
            "127.0.0.1:0",
        ]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut process = Process::spawn(cmd);
        process.wait_ready().unwrap();
        let bootstrap = super::read_bootstrap(&data);
        let ca = std::fs::read(bootstrap["caCertificate"].as_str().unwrap()).unwrap();
        let base = bootstrap["apiUrl"].as_str().unwrap().to_owned();
        Api::attach(base, &ca, bootstrap, process, dir)
    }

    /// A client for a server started otherwise (a production install),
    /// trusting `ca` (PEM); `process` and `dir` live as long as it.
    pub fn attach(
        base: String,
        ca: &[u8],
        bootstrap: Value,
        process: Process,
        dir: tempfile::TempDir,
    ) -> Api {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca) {
            roots.add(cert.unwrap()).unwrap();
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let client = Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Api {
            base,
            client,
            bootstrap,
            _process: process,
            _dir: dir,
        }
    }

    /// Sends `request`, a whole HTTP/1.1 request, on a TLS connection of
    /// its own and returns all the server sent until it closed (see
    /// [`super::https_raw`]).
    pub fn raw(&self, request: &str, half_close: bool) -> String {
        let ca = std::fs::read(self.bootstrap["caCertificate"].as_str().unwrap()).unwrap();
        super::https_raw(
            super::port_of(&self.bootstrap),
            "localhost",
            &ca,
            request.as_bytes(),
            super::TLS_ANY,
            half_close,
        )
        .unwrap()
    }

    pub fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        answer(request.send().unwrap())
    }

    pub fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(body))
    }

    pub fn login(&self, client_id: &str, secret: &str) -> Answer {
        self.send(
            Method::POST,
            "/api/v1/auth/universal-auth/login",
            None,
            Some(json!({"clientId": client_id, "clientSecret": secret})),
        )
    }

    pub fn admin_token(&self) -> String {
        let a = self.login(
            self.bootstrap["identityClientId"].as_str().unwrap(),
            self.bootstrap["identityClientSecret"].as_str().unwrap(),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        a.body["accessToken"].as_str().unwrap().to_owned()
    }

    pub fn project(&self) -> String {
        self.bootstrap["projectId"].as_str().unwrap().to_owned()
    }

    /// A new identity with Universal Auth (settings `ua`) and one client
    /// secret (`secret`): (identity id, client id, client secret).
    pub fn identity(
        &self,
        admin: &str,
        name: &str,
        ua: Value,
        secret: Value,
    ) -> (String, String, String) {
        let a = self.post("/api/v1/identities", admin, json!({"name": name}));
        assert_eq!(a.status, 200, "{}", a.body);
        let id = a.body["identity"]["id"].as_str().unwrap().to_owned();
        let a = self.post(
            &format!("/api/v1/auth/universal-auth/identities/{id}"),
            admin,
            ua,
        );
        assert_eq!(a.status, 200, "{}", a.body);
        let client_id = a.body["identityUniversalAuth"]["clientId"]
            .as_str()
            .unwrap()
            .to_owned();
        let a = self.post(
            &format!("/api/v1/auth/universal-auth/identities/{id}/client-secrets"),
            admin,
            secret,
        );
        assert_eq!(a.status, 200, "{}", a.body);
        let secret = a.body["clientSecret"].as_str().unwrap().to_owned();
        (id, client_id, secret)
    }

    /// An identity that is a member of `project` with `roles`; its token.
    pub fn member(
        &self,
        admin: &str,
        project: &str,
        name: &str,
        roles: &[&str],
    ) -> (String, String) {
        let (id, client_id, secret) = self.identity(admin, name, json!({}), json!({}));
        let roles: Vec<Value> = roles.iter().map(|r| json!({"role": r})).collect();
        let a = self.post(
            &format!("/api/v1/projects/{project}/identity-memberships/{id}"),
            admin,
            json!({"roles": roles}),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        let login = self.login(&client_id, &secret);
        assert_eq!(login.status, 200, "{}", login.body);
        (id, login.body["accessToken"].as_str().unwrap().to_owned())
    }
}

pub fn answer(response: reqwest::blocking::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer {
        status,
        body,
        headers,
    }
}

/// The error shape: a superset of Infisical's.
pub fn assert_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["statusCode"], status, "{}", a.body);
    assert_eq!(a.body["code"], code, "{}", a.body);
    assert!(a.body["message"].is_string(), "{}", a.body);
    assert!(a.body["error"].is_string(), "{}", a.body);
    let id = a.headers["x-request-id"].to_str().unwrap();
    assert_eq!(a.body["reqId"], id, "{}", a.body);
}
