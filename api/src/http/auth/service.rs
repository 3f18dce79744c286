//! Universal Auth: login, renewal, revocation, and turning a bearer token
//! into a [`Session`].
//!
//! Checked at login, in this order: the client id names a Universal Auth
//! configuration; the client id is not locked out; the peer is inside the
//! configuration's `clientSecretTrustedIps`; the secret names a client
//! secret of that identity and matches its Argon2id hash (a mismatch counts
//! towards lockout); the secret is not revoked, expired or used up. Its use
//! count is then raised by a conditional write (revision check), so two
//! concurrent logins can never both take a secret's last use.
//!
//! Tokens are checked on every request: hash → record (cached for at most
//! [`SESSION_CACHE_TTL`]) → not expired → the peer inside the identity's
//! `accessTokenTrustedIps`. Revoking on this node evicts the cache entry at
//! once; another node sharing the database notices within the cache TTL.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use kms_core::ids::ProjectId;
use kms_core::service::{Actor, Kms};
use kms_core::store::ProjectRecord;
use quick_cache::sync::Cache;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::lockout::Lockout;
use super::permissions::Permissions;
use super::records::{
    self, AccessToken, ClientSecret, Identity, Records, UniversalAuth, now, now_rounded_up,
};
use super::{secrets, trusted_ips};
use crate::http::ApiError;

/// How long a validated token, or a resolved project access, is reused
/// without reading the database again.
pub const SESSION_CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_CAPACITY: usize = 100_000;
/// How often expired token records are deleted.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(600);
/// Attempts at a conditional write before giving up on a busy record.
const WRITE_ATTEMPTS: usize = 16;

/// An authenticated caller's token.
#[derive(Clone, Debug)]
pub struct Session {
    pub identity: Identity,
    /// The token's record key (hash), never the token.
    pub token_key: String,
    pub expires_at: i64,
    pub trusted_ips: Vec<IpNet>,
    /// `identity:<id>`, formatted once per session rather than per request.
    pub actor_name: Arc<str>,
}

/// What a caller may do in one project, as resolved by `authorize`.
#[derive(Clone, Debug)]
pub enum Access {
    /// Organization admin or super admin: everything.
    Admin,
    Member(Permissions),
}

/// A fresh or renewed token, as login and renew answer.
pub struct Issued {
    pub token: SecretString,
    pub expires_in: u64,
    pub max_ttl: u64,
}

/// Universal Auth and the caches around it.
pub struct Auth {
    kms: Kms,
    lockout: Lockout,
    sessions: Cache<String, (Instant, Arc<Session>)>,
    access: Cache<(Uuid, ProjectId), (Instant, ProjectRecord, Access)>,
}

fn unauthorized() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "invalid client id or client secret",
    )
}

fn bad_token() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "invalid_token",
        "the access token is invalid, expired or revoked",
    )
}

pub fn actor_for(identity: Uuid, peer: Option<IpAddr>) -> Actor {
    Actor::new(actor_name(identity), peer.map(|p| p.to_string()))
}

/// How an identity is named in the audit log.
pub fn actor_name(identity: Uuid) -> String {
    format!("identity:{identity}")
}

impl Auth {
    pub fn new(kms: &Kms) -> Arc<Self> {
        Arc::new(Self {
            kms: kms.clone(),
            lockout: Lockout::default(),
            sessions: Cache::new(CACHE_CAPACITY),
            access: Cache::new(CACHE_CAPACITY),
        })
    }

    fn system(&self) -> Records {
        Records::system(&self.kms)
    }

    /// `POST /api/v1/auth/universal-auth/login`.
    pub async fn login(
        &self,
        client_id: &str,
        secret: &SecretString,
        peer: Option<IpAddr>,
    ) -> Result<Issued, ApiError> {
        let client_id = Uuid::try_parse(client_id).map_err(|_| unauthorized())?;
        let Some((config, _)) = self
            .system()
            .get::<UniversalAuth>(records::UNIVERSAL_AUTH, &client_id.to_string())
            .await?
        else {
            return Err(unauthorized());
        };
        if let Some(left) = self.lockout.locked_for(client_id) {
            let mut e = ApiError::too_many(
                left.as_secs() + 1,
                "too many failed logins: this client id is locked; retry later",
            );
            e.code = "locked_out";
            return Err(e);
        }
        if !trusted_ips::allows(&config.client_secret_trusted_ips, peer) {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "ip_not_allowed",
                "this client secret may not be used from this address",
            ));
        }
        let secret_id = match secrets::client_secret_id(secret.expose_secret()) {
            Some(id) => id,
            None => {
                self.lockout.failed(&config);
                return Err(unauthorized());
            }
        };
        let stored = self
            .system()
            .get::<ClientSecret>(records::CLIENT_SECRET, &secret_id.to_string())
            .await?;
        let matches = match &stored {
            Some((s, _)) if s.identity_id == config.identity_id => {
                secrets::verify(secret, &s.hash).await?
            }
            _ => false,
        };
        if !matches {
            self.lockout.failed(&config);
            return Err(unauthorized());
        }
        self.lockout.succeeded(client_id);
        let actor = actor_for(config.identity_id, peer);
        self.take_use(&actor, secret_id).await?;
        let identity = self
            .identity(config.identity_id)
            .await?
            .ok_or_else(unauthorized)?;
        self.issue(&actor, &identity, &config, secret_id).await
    }

    /// Checks the secret is live and takes one use, by revision.
    async fn take_use(&self, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
        let key = id.to_string();
        for _ in 0..WRITE_ATTEMPTS {
            let Some((mut s, revision)) = self
                .system()
                .get::<ClientSecret>(records::CLIENT_SECRET, &key)
                .await?
            else {
                return Err(unauthorized());
            };
            let refuse = |m: &str| {
                ApiError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "invalid_credentials",
                    m,
                )
            };
            if s.is_revoked {
                return Err(refuse("this client secret is revoked"));
            }
            if s.ttl > 0
                && now()
                    >= s.created_at
                        .saturating_add(i64::try_from(s.ttl).unwrap_or(i64::MAX))
            {
                return Err(refuse("this client secret has expired"));
            }
            if s.num_uses_limit > 0 && s.num_uses >= s.num_uses_limit {
                return Err(refuse("this client secret has no uses left"));
            }
            s.num_uses = s.num_uses.saturating_add(1);
            match self
                .system()
                .put(actor, records::CLIENT_SECRET, &key, &s, Some(revision))
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.code == "conflict" => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ApiError::conflict("the client secret is busy; retry"))
    }

    async fn issue(
        &self,
        actor: &Actor,
        identity: &Identity,
        config: &UniversalAuth,
        secret_id: Uuid,
    ) -> Result<Issued, ApiError> {
        let token = secrets::new_token()?;
        let key = secrets::token_key(token.expose_secret())
            .ok_or_else(|| ApiError::internal("token", &"a fresh token does not parse"))?;
        let issued_at = now_rounded_up();
        let seconds = |s: u64| i64::try_from(s).unwrap_or(i64::MAX);
        let max_expires_at = issued_at.saturating_add(seconds(config.access_token_max_ttl));
        let expires_at = issued_at
            .saturating_add(seconds(config.access_token_ttl))
            .min(max_expires_at);
        let record = AccessToken {
            identity_id: identity.id,
            client_secret_id: secret_id,
            issued_at,
            expires_at,
            max_expires_at,
            ttl: config.access_token_ttl,
        };
        self.system()
            .put(actor, records::TOKEN, &key, &record, None)
            .await?;
        Ok(Issued {
            token,
            expires_in: u64::try_from(expires_at - issued_at).unwrap_or(0),
            max_ttl: config.access_token_max_ttl,
        })
    }

    /// `POST /api/v1/auth/token/renew`: the same token, expiring `ttl` from
    /// now but never past issue + max TTL.
    pub async fn renew(
        &self,
        token: &SecretString,
        peer: Option<IpAddr>,
    ) -> Result<Issued, ApiError> {
        let key = secrets::token_key(token.expose_secret()).ok_or_else(bad_token)?;
        for _ in 0..WRITE_ATTEMPTS {
            let Some((mut t, revision)) = self
                .system()
                .get::<AccessToken>(records::TOKEN, &key)
                .await?
            else {
                return Err(bad_token());
            };
            let now = now();
            if now >= t.expires_at || now >= t.max_expires_at {
                return Err(bad_token());
            }
            let session = self.load_session(&key, &t).await?;
            if !trusted_ips::allows(&session.trusted_ips, peer) {
                return Err(ip_refused());
            }
            let renewed_at = now_rounded_up();
            t.expires_at = renewed_at
                .saturating_add(i64::try_from(t.ttl).unwrap_or(i64::MAX))
                .min(t.max_expires_at);
            let actor = actor_for(t.identity_id, peer);
            match self
                .system()
                .put(&actor, records::TOKEN, &key, &t, Some(revision))
                .await
            {
                Ok(_) => {
                    self.sessions.remove(&key);
                    return Ok(Issued {
                        token: token.clone(),
                        expires_in: u64::try_from(t.expires_at - renewed_at).unwrap_or(0),
                        max_ttl: u64::try_from(t.max_expires_at - t.issued_at).unwrap_or(0),
                    });
                }
                Err(e) if e.code == "conflict" => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ApiError::conflict("the token is busy; retry"))
    }

    /// `POST /api/v1/auth/token/revoke`: whoever holds a token may revoke it.
    pub async fn revoke(&self, token: &SecretString, peer: Option<IpAddr>) -> Result<(), ApiError> {
        let key = secrets::token_key(token.expose_secret()).ok_or_else(bad_token)?;
        self.sessions.remove(&key);
        let Some((t, revision)) = self
            .system()
            .get::<AccessToken>(records::TOKEN, &key)
            .await?
        else {
            return Err(bad_token());
        };
        let actor = actor_for(t.identity_id, peer);
        self.system()
            .delete(&actor, records::TOKEN, &key, revision)
            .await?;
        self.sessions.remove(&key);
        Ok(())
    }

    /// The session a bearer token stands for, checked against `peer`.
    pub async fn session(
        &self,
        token: &str,
        peer: Option<IpAddr>,
    ) -> Result<Arc<Session>, ApiError> {
        let key = secrets::token_key(token).ok_or_else(bad_token)?;
        let fresh = self
            .sessions
            .get(&key)
            .filter(|(at, s)| at.elapsed() < SESSION_CACHE_TTL && now() < s.expires_at)
            .map(|(_, s)| s);
        let session = match fresh {
            Some(s) => s,
            None => {
                let Some((t, _)) = self
                    .system()
                    .get::<AccessToken>(records::TOKEN, &key)
                    .await?
                else {
                    return Err(bad_token());
                };
                if now() >= t.expires_at {
                    return Err(bad_token());
                }
                let s = Arc::new(self.load_session(&key, &t).await?);
                self.sessions.insert(key, (Instant::now(), Arc::clone(&s)));
                s
            }
        };
        if !trusted_ips::allows(&session.trusted_ips, peer) {
            return Err(ip_refused());
        }
        Ok(session)
    }

    async fn load_session(&self, key: &str, t: &AccessToken) -> Result<Session, ApiError> {
        let identity = self.identity(t.identity_id).await?.ok_or_else(bad_token)?;
        let client = identity.universal_auth_client_id.ok_or_else(bad_token)?;
        let (config, _) = self
            .system()
            .get::<UniversalAuth>(records::UNIVERSAL_AUTH, &client.to_string())
            .await?
            .ok_or_else(bad_token)?;
        Ok(Session {
            actor_name: Arc::from(actor_name(identity.id)),
            identity,
            token_key: key.to_owned(),
            expires_at: t.expires_at,
            trusted_ips: config.access_token_trusted_ips,
        })
    }

    pub async fn identity(&self, id: Uuid) -> Result<Option<Identity>, ApiError> {
        Ok(self
            .system()
            .get::<Identity>(records::IDENTITY, &id.to_string())
            .await?
            .map(|(i, _)| i))
    }

    /// Drops every cached session and access: identities, memberships or
    /// roles changed.
    pub fn invalidate(&self) {
        self.sessions.clear();
        self.access.clear();
    }

    pub(super) fn cached_access(
        &self,
        identity: Uuid,
        project: ProjectId,
    ) -> Option<(ProjectRecord, Access)> {
        self.access
            .get(&(identity, project))
            .filter(|(at, _, _)| at.elapsed() < SESSION_CACHE_TTL)
            .map(|(_, r, a)| (r, a))
    }

    pub(super) fn remember_access(
        &self,
        identity: Uuid,
        project: ProjectId,
        record: ProjectRecord,
        access: Access,
    ) {
        self.access
            .insert((identity, project), (Instant::now(), record, access));
    }

    pub fn kms(&self) -> &Kms {
        &self.kms
    }

    /// Deletes the records of tokens past their expiry, so they do not
    /// accumulate. Returns how many went.
    pub async fn purge_expired(&self) -> Result<usize, ApiError> {
        let system = self.system();
        let now = now();
        let mut purged = 0;
        for record in self
            .kms
            .records(self.kms.system_project(), records::TOKEN)
            .await?
        {
            let Ok(token) = record.decode::<AccessToken>() else {
                continue;
            };
            if token.expires_at <= now {
                match system
                    .delete(
                        &Actor::system(),
                        records::TOKEN,
                        &record.key,
                        record.revision,
                    )
                    .await
                {
                    Ok(()) => purged += 1,
                    // Renewed or revoked meanwhile: not ours to delete.
                    Err(e) if e.code == "conflict" || e.code == "not_found" => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(purged)
    }

    /// Purges expired tokens every [`PURGE_INTERVAL`] until aborted.
    pub fn spawn_purger(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PURGE_INTERVAL);
            loop {
                tick.tick().await;
                match this.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(tokens = n, "purged expired access tokens"),
                    Err(e) => tracing::warn!(error = %e, "cannot purge expired access tokens"),
                }
            }
        })
    }
}

fn ip_refused() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "ip_not_allowed",
        "this access token may not be used from this address",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::auth::provision::{self, SecretLimits};
    use crate::http::auth::records::OrgRole;
    use kms_core::hierarchy::software::SoftwareRoot;
    use kms_core::service::OpenOptions;

    #[tokio::test]
    async fn expired_tokens_are_refused_then_purged() {
        let dir = tempfile::tempdir().unwrap();
        let root = SoftwareRoot::create_key_file(&dir.path().join("root.key")).unwrap();
        let kms = Kms::init(&OpenOptions::sqlite_in(dir.path()), Arc::new(root))
            .await
            .unwrap();
        let actor = Actor::system();
        let identity = provision::create_identity(
            &kms,
            &actor,
            "short",
            Uuid::new_v4(),
            OrgRole::Member,
            false,
        )
        .await
        .unwrap();
        let mut config = provision::default_universal_auth(identity.id);
        config.access_token_ttl = 1;
        config.access_token_max_ttl = 1;
        provision::attach_universal_auth(&kms, &actor, &identity, 1, &config)
            .await
            .unwrap();
        let limits = SecretLimits {
            description: String::new(),
            ttl: 0,
            num_uses_limit: 0,
        };
        let (_, secret) = provision::create_client_secret(&kms, &actor, identity.id, limits)
            .await
            .unwrap();
        let auth = Auth::new(&kms);
        let issued = auth
            .login(&config.client_id.to_string(), &secret, None)
            .await
            .unwrap();
        let token = issued.token.expose_secret().to_owned();
        assert_eq!(
            auth.session(&token, None).await.unwrap().identity.id,
            identity.id
        );
        assert_eq!(auth.purge_expired().await.unwrap(), 0);

        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(
            auth.session(&token, None).await.unwrap_err().code,
            "invalid_token"
        );
        assert_eq!(auth.purge_expired().await.unwrap(), 1);
        assert!(
            kms.records(kms.system_project(), records::TOKEN)
                .await
                .unwrap()
                .is_empty()
        );
        kms.close().await;
    }
}
