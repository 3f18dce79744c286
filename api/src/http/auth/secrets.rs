//! Client secrets and access tokens: generation, hashing, checking.
//!
//! * A **client secret** is `srcs_` ‖ its record id (32 hex) ‖ 64 hex
//!   digits (256 random bits). The id lets login find the one hash to
//!   check without scanning; the random part is what must be guessed. It
//!   is stored only as an Argon2id hash (the `argon2` crate's defaults:
//!   19 MiB, 2 passes), checked on a blocking thread.
//! * An **access token** is `srt_` ‖ 43 base64url characters (256 random
//!   bits), stored under the hex SHA-256 of its value. A fast hash is
//!   right here: the value is uniformly random and as long as a key, so
//!   nothing is gained by slowing down a guess, and every request checks
//!   one.
//!
//! Both are returned once, to the caller that created them, and live in
//! [`SecretString`]s (zeroized on drop, never in `Debug`).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kms_core::crypto::digest::{DigestAlgorithm, digest};
use kms_core::crypto::rng;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::http::ApiError;

const SECRET_PREFIX: &str = "srcs_";
const TOKEN_PREFIX: &str = "srt_";
/// Longest credential we look at; anything longer is not ours.
pub const MAX_CREDENTIAL_LEN: usize = 256;

/// A fresh client secret for record `id`.
pub fn new_client_secret(id: Uuid) -> Result<SecretString, ApiError> {
    let random = rng::random_secret(32).map_err(|e| ApiError::internal("CSPRNG", &e))?;
    let secret = format!(
        "{SECRET_PREFIX}{}{}",
        id.simple(),
        hex::encode(random.expose())
    );
    Ok(SecretString::from(secret))
}

/// The record id a client secret names, if it has the shape of one.
pub fn client_secret_id(secret: &str) -> Option<Uuid> {
    let rest = secret.strip_prefix(SECRET_PREFIX)?;
    if rest.len() != 96 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Uuid::try_parse(rest.get(..32)?).ok()
}

/// Shown in listings to tell secrets apart: prefix and four digits.
pub fn display_prefix(secret: &str) -> String {
    secret.chars().take(SECRET_PREFIX.len() + 4).collect()
}

/// Argon2id PHC string of `secret`.
pub async fn hash(secret: &SecretString) -> Result<String, ApiError> {
    let secret = secret.clone();
    let salt = rng::random_bytes(16).map_err(|e| ApiError::internal("CSPRNG", &e))?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::internal("salt", &e))?;
        Argon2::default()
            .hash_password(secret.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal("argon2id", &e))
    })
    .await
    .map_err(|e| ApiError::internal("argon2id task", &e))?
}

/// Whether `secret` matches the PHC string `stored` (constant time in the
/// argon2 crate).
pub async fn verify(secret: &SecretString, stored: &str) -> Result<bool, ApiError> {
    let secret = secret.clone();
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| ApiError::internal("a stored client secret hash does not parse", &e))?;
        Ok(Argon2::default()
            .verify_password(secret.expose_secret().as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| ApiError::internal("argon2id task", &e))?
}

/// A fresh access token.
pub fn new_token() -> Result<SecretString, ApiError> {
    let random = rng::random_secret(32).map_err(|e| ApiError::internal("CSPRNG", &e))?;
    Ok(SecretString::from(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random.expose())
    )))
}

/// The key a token is stored under; `None` if it cannot be one of ours.
pub fn token_key(token: &str) -> Option<String> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    if rest.len() != 43
        || !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    Some(hex::encode(digest(
        DigestAlgorithm::Sha256,
        token.as_bytes(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secrets_name_their_record() {
        let id = Uuid::new_v4();
        let secret = new_client_secret(id).unwrap();
        assert_eq!(client_secret_id(secret.expose_secret()), Some(id));
        assert_eq!(display_prefix(secret.expose_secret()).len(), 9);
        assert_eq!(client_secret_id("srcs_short"), None);
        assert_eq!(client_secret_id(&format!("srcs_{}", "g".repeat(96))), None);
        assert_ne!(
            new_client_secret(id).unwrap().expose_secret(),
            secret.expose_secret()
        );
    }

    #[test]
    fn tokens_are_keyed_by_hash() {
        let token = new_token().unwrap();
        let key = token_key(token.expose_secret()).unwrap();
        assert_eq!(key.len(), 64);
        assert!(!key.contains(&token.expose_secret()[4..]));
        assert_eq!(token_key("Bearer x"), None);
        assert_eq!(token_key(&format!("srt_{}", "!".repeat(43))), None);
    }

    #[tokio::test]
    async fn argon2id_hashes_verify() {
        let secret = new_client_secret(Uuid::new_v4()).unwrap();
        let stored = hash(&secret).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(&secret, &stored).await.unwrap());
        let other = new_client_secret(Uuid::new_v4()).unwrap();
        assert!(!verify(&other, &stored).await.unwrap());
    }
}
