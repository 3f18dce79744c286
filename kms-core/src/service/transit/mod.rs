//! Named, versioned keys: the domain of the HTTPS API's `/api/v1/kms/keys`
//! routes (Infisical's KMS API and Vault's transit engine, in one).
//!
//! A *named key* ([`TransitKey`]) belongs to one project, has a name unique
//! in that project, a description, an enabled flag, an algorithm
//! ([`KeyAlgorithm`], which fixes its [`KeyUsage`]) and an ordered list of
//! *versions*. Each version is an ordinary managed object (for signing keys,
//! a private and a public key object) created through [`Kms::create_key`] or
//! [`Kms::create_key_pair`], so the lifecycle, the key hierarchy, HSM
//! residency and the audit log apply to it exactly as to a KMIP key.
//!
//! Get a handle with [`Kms::transit`]; every method takes the caller's
//! project, and a key of another project is [`TransitError::KeyNotFound`],
//! exactly like a key that does not exist.
//!
//! ## Operations, by file
//!
//! | file | operations |
//! |---|---|
//! | `manage` | [`Transit::create`], [`Transit::get`], [`Transit::get_by_name`], [`Transit::list`], [`Transit::update`], [`Transit::delete`] |
//! | `versions` | [`Transit::rotate`], [`Transit::rotate_due`] (automatic rotation) |
//! | `encrypt` | [`Transit::encrypt`], [`Transit::decrypt`], the batch forms, [`Transit::generate_data_key`], [`Transit::rewrap`] |
//! | `mac` | [`Transit::hmac`], [`Transit::hmac_verify`], [`Transit::random_bytes`] |
//! | `sign` | [`Transit::sign`], [`Transit::verify`], [`Transit::signing_algorithms`], [`Transit::public_key`] |
//! | `ciphertext` | the `strongroom:v1:<version>:<base64>` envelope |
//! | `storage` | metadata records and the metadata cache |
//! | `index` | the per-project list index (sort, search, count) |
//! | `directory` | [`Transit::project_of`]: key id → project, for routes that name a key by id alone |
//!
//! ## Versions and rotation
//!
//! [`Transit::rotate`] adds a version and makes it current; new ciphertexts,
//! MACs and signatures use the current version, while every ciphertext names
//! the version that made it, so old ciphertexts still decrypt. The *minimum
//! decryption version* ([`KeyUpdate::min_decryption_version`]) refuses
//! decrypt, MAC verify and verify with older versions
//! ([`TransitError::VersionTooOld`]). A key may carry an automatic rotation
//! period; [`Transit::rotate_due`] rotates every key whose period has passed
//! and is safe to run on several nodes at once (each rotation is a
//! conditional write of the key's document: the loser of a race discards
//! the version it made and finds the key no longer due).
//!
//! ## Ciphertexts
//!
//! `strongroom:v1:<version>:<base64 of key id ‖ nonce ‖ ciphertext ‖ tag>`.
//! The AES-GCM associated data binds the key id, the version and the
//! caller's encryption context, so a ciphertext relabelled with another
//! version, moved to another key, or opened with another context fails
//! ([`TransitError::NotAuthentic`]); one made by another key is named as
//! such ([`TransitError::ForeignCiphertext`]) before any decryption.
//! Plaintexts and data up to [`MAX_PAYLOAD`] (4 MiB) are accepted.
//!
//! ## Metadata and performance
//!
//! Key metadata lives in front-end records (see `storage`): MACed under the
//! project key, changed by revision, audited in the same transaction.
//! Reads go through a bounded, project-isolated cache with the object
//! cache's time-to-live, invalidated on every change made by this process;
//! a change made by another node applies here within that time-to-live, as
//! for object keys. Cryptographic operations run on the cached prepared key
//! ([`Kms::usable_key`]), so a request costs two cache lookups, the
//! primitive and one queued audit record.
//!
//! ## Audit
//!
//! Management operations are audited in their own transaction
//! (`transit.key.create`, `.update`, `.rotate`, `.delete`; the version
//! objects' own `object.*` records too). Every use is audited through the
//! key-use queue as `transit.<operation>` with the key id as the object and
//! the outcome ([`TransitError::code`]) as the result; batches record one
//! event per item.

mod algorithm;
mod ciphertext;
mod directory;
mod encrypt;
mod error;
mod index;
mod mac;
mod manage;
mod model;
mod sign;
mod storage;
mod versions;

pub use algorithm::{KeyAlgorithm, KeyUsage, SigningAlgorithm};
pub use encrypt::{BatchItem, DataKey, DataKeyKind, MAX_BATCH, MAX_CONTEXT, MAX_PAYLOAD};
pub use error::{TransitError, TransitResult};
pub use mac::MAX_RANDOM_BYTES;
pub use model::{
    KeyPage, KeyUpdate, ListQuery, MAX_DESCRIPTION_LEN, MAX_LIST_LIMIT, MAX_NAME_LEN, MAX_VERSIONS,
    MIN_AUTO_ROTATE_PERIOD, NewKey, OrderBy, OrderDirection, TransitKey, VersionInfo,
};
pub use sign::{PublicKey, Signed};
pub use versions::RotationSweep;

pub(crate) use index::TransitState;

use super::{Actor, Kms};
use crate::ids::{KeyId, ProjectId};

/// The named-key layer over a [`Kms`]. Cheap to clone.
#[derive(Clone)]
pub struct Transit {
    kms: Kms,
}

impl Kms {
    /// The named-key layer (see [`crate::service::transit`]).
    pub fn transit(&self) -> Transit {
        Transit { kms: self.clone() }
    }
}

impl Transit {
    /// The service underneath.
    pub fn kms(&self) -> &Kms {
        &self.kms
    }

    /// Queues the audit record of a use of key `id` and returns `result`.
    async fn audited<T>(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        action: &'static str,
        result: TransitResult<T>,
    ) -> TransitResult<T> {
        let outcome = match &result {
            Ok(_) => "success",
            Err(e) => e.code(),
        };
        self.kms
            .inner
            .audit
            .record(
                actor
                    .event(action)
                    .project_id(project.as_uuid())
                    .object_id(id.as_uuid())
                    .result(outcome),
            )
            .await?;
        result
    }
}
