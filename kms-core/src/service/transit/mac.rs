//! HMAC generate and verify for `generate-verify-mac` keys, and random
//! bytes.
//!
//! A MAC is returned in the ciphertext envelope
//! (`strongroom:v1:<version>:<base64 of key id ‖ tag>`), so it can be
//! verified after the key rotates, and a MAC of another key is named as
//! such. Tags are full length; verification is constant time.

use super::Transit;
use super::algorithm::KeyUsage;
use super::ciphertext;
use super::encrypt::{MAX_PAYLOAD, check_usable};
use super::error::{TransitError, TransitResult};
use crate::crypto::rng;
use crate::ids::{KeyId, ProjectId};
use crate::lifecycle::Operation;
use crate::object::UsageMask;
use crate::service::Actor;
use crate::service::keys::Prepared;

/// Most random bytes one call returns.
pub const MAX_RANDOM_BYTES: usize = 64 * 1024;

fn check_data(data: &[u8]) -> TransitResult<()> {
    if data.len() > MAX_PAYLOAD {
        return Err(TransitError::TooLarge {
            what: "the data (bytes)",
            limit: MAX_PAYLOAD,
        });
    }
    Ok(())
}

impl Transit {
    async fn hmac_inner(
        &self,
        project: ProjectId,
        id: KeyId,
        data: &[u8],
    ) -> TransitResult<String> {
        check_data(data)?;
        let stored = self.stored(project, id).await?;
        check_usable(&stored.doc, KeyUsage::Mac, "generate a MAC")?;
        let current = stored.doc.current()?;
        let key = self.version_key(project, &stored.doc, current).await?;
        key.check(Operation::Protect, UsageMask::MAC_GENERATE, "MAC Generate")
            .map_err(|e| super::encrypt::version_error(e, id, current.version))?;
        let Prepared::Hmac(k) = &key.prepared else {
            return Err(TransitError::Invalid(
                "the key version is not an HMAC key".into(),
            ));
        };
        Ok(ciphertext::encode(id, current.version, &k.sign(data)))
    }

    async fn hmac_verify_inner(
        &self,
        project: ProjectId,
        id: KeyId,
        data: &[u8],
        mac: &str,
    ) -> TransitResult<bool> {
        check_data(data)?;
        let stored = self.stored(project, id).await?;
        check_usable(&stored.doc, KeyUsage::Mac, "verify a MAC")?;
        let envelope = ciphertext::parse(mac)?;
        if envelope.key != id {
            return Err(TransitError::ForeignCiphertext(id));
        }
        let version = stored.doc.readable_version(envelope.version)?;
        let key = self.version_key(project, &stored.doc, version).await?;
        key.check(Operation::Process, UsageMask::MAC_VERIFY, "MAC Verify")
            .map_err(|e| super::encrypt::version_error(e, id, version.version))?;
        let Prepared::Hmac(k) = &key.prepared else {
            return Err(TransitError::Invalid(
                "the key version is not an HMAC key".into(),
            ));
        };
        // Full-length tags only: a truncated tag is weaker than the key.
        Ok(envelope.body.len() == k.algorithm().tag_len() && k.verify(data, &envelope.body))
    }

    /// The HMAC of `data` under the current version, as an envelope.
    pub async fn hmac(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        data: &[u8],
    ) -> TransitResult<String> {
        let result = self.hmac_inner(project, id, data).await;
        self.audited(actor, project, id, "transit.hmac", result)
            .await
    }

    /// Whether `mac` (an envelope from [`Transit::hmac`]) authenticates
    /// `data`. A MAC of another key, or of a version below the minimum
    /// decryption version, is an error rather than `false`.
    pub async fn hmac_verify(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        data: &[u8],
        mac: &str,
    ) -> TransitResult<bool> {
        let result = self.hmac_verify_inner(project, id, data, mac).await;
        self.audited(actor, project, id, "transit.hmac_verify", result)
            .await
    }

    /// `len` bytes from the DRBG, 1 to [`MAX_RANDOM_BYTES`]. Audited in
    /// `project` (no key is involved).
    pub async fn random_bytes(
        &self,
        actor: &Actor,
        project: ProjectId,
        len: usize,
    ) -> TransitResult<Vec<u8>> {
        let result = if len == 0 || len > MAX_RANDOM_BYTES {
            Err(TransitError::Invalid(format!(
                "random bytes are asked for 1 to {MAX_RANDOM_BYTES} at a time"
            )))
        } else {
            rng::random_bytes(len).map_err(TransitError::from)
        };
        let outcome = match &result {
            Ok(_) => "success",
            Err(e) => e.code(),
        };
        self.kms
            .inner
            .audit
            .record(
                actor
                    .event("transit.random")
                    .project(project)
                    .result(outcome),
            )
            .await?;
        result
    }
}
