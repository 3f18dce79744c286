//! HSM-resident keys in the service: creating them in the store, routing
//! their uses to it, and deleting them from it on Destroy.
//!
//! A resident object is an ordinary object whose material is a
//! [`ResidentMaterial`] (provider, handle, public key). Lifecycle checks,
//! usage masks, the row MAC and the audit log apply to it unchanged; only
//! the private-key or secret-key operation runs in the store.
//!
//! * Create: the key is generated in the store first (labelled with the
//!   object id), then the row is committed. If the commit fails, the new
//!   token object is deleted again (best effort, logged).
//! * Get: refused with [`Error::NotExtractable`] for the private or secret
//!   half; the public key of a pair is an ordinary Public Key object.
//! * Destroy: the row loses its material in the committed transaction
//!   first, then the token object is deleted. The database is the authority
//!   on whether a key may be used: deleting in the token first and then
//!   failing to commit would leave an Active object whose key is gone. The
//!   other order can leave an orphan token object that nothing can reach
//!   through Strongroom; that failure is logged and audited
//!   (`object.destroy.hsm`, with the handle in the log) so an operator can
//!   remove it with the vendor's tools.

use std::sync::Arc;

use time::OffsetDateTime;

use super::codec::{self, Material};
use super::objects::{KeyLocation, Template, algorithm_of, build_attributes};
use super::{Actor, CreatedPair, Kms};
use crate::crypto::external_signature;
use crate::crypto::keygen::KeySpec;
use crate::crypto::signature::{KeyType, SignatureScheme, VerifyingKey};
use crate::error::{Error, Result};
use crate::ids::{ObjectId, ProjectId};
use crate::object::{KeyMaterial, ObjectType, UsageMask};
use crate::resident::{RESIDENT_SPECS, ResidentKeys, ResidentMaterial};
use crate::store::{Transaction, Write};

/// Uses a resident key may be given: the token key allows nothing else.
fn allowed_mask(object_type: ObjectType) -> UsageMask {
    match object_type {
        ObjectType::PrivateKey => UsageMask::SIGN | UsageMask::VERIFY,
        _ => UsageMask::ENCRYPT | UsageMask::DECRYPT,
    }
}

fn default_mask(object_type: ObjectType) -> UsageMask {
    match object_type {
        ObjectType::PrivateKey => UsageMask::SIGN,
        _ => UsageMask::ENCRYPT | UsageMask::DECRYPT,
    }
}

/// The token label of an object's key: names the object, for operators
/// looking at the token with the vendor's tools.
fn token_label(project: ProjectId, id: ObjectId) -> String {
    format!("strongroom {project} {id}")
}

impl Kms {
    /// Gives the service its store for HSM-resident keys. Once per `Kms`;
    /// a second call is refused.
    pub fn set_resident_keys(&self, keys: Arc<dyn ResidentKeys>) -> Result<()> {
        let described = keys.describe();
        self.inner.resident.set(keys).map_err(|_| {
            Error::InvalidRequest("an HSM-resident key store is already configured".into())
        })?;
        tracing::info!(store = %described, "HSM-resident key store configured");
        Ok(())
    }

    /// Whether an HSM-resident key store is configured (so keys may be
    /// created with `KeyLocation::Hsm`).
    pub fn has_resident_keys(&self) -> bool {
        self.inner.resident.get().is_some()
    }

    /// The configured store, if it is the one that holds `material`.
    fn resident_store(&self, material: &ResidentMaterial) -> Result<&Arc<dyn ResidentKeys>> {
        let store = self.inner.resident.get().ok_or_else(|| {
            Error::InvalidRequest(format!(
                "the key is HSM-resident ({}), but this server has no HSM-resident key store configured",
                material.provider
            ))
        })?;
        if store.provider() != material.provider {
            return Err(Error::InvalidRequest(format!(
                "the key is resident in a {} store, but this server's store is {}",
                material.provider,
                store.provider()
            )));
        }
        Ok(store)
    }

    fn configured_store(&self) -> Result<&Arc<dyn ResidentKeys>> {
        self.inner.resident.get().ok_or_else(|| {
            Error::InvalidRequest(
                "HSM-resident keys need an HSM-resident key store, and none is configured".into(),
            )
        })
    }

    /// Generates `spec` in the store and prepares the attributes of the
    /// object that will record it.
    async fn generate_resident(
        &self,
        project: ProjectId,
        spec: KeySpec,
        mut template: Template,
    ) -> Result<(crate::object::Attributes, ResidentMaterial)> {
        if !RESIDENT_SPECS.contains(&spec) {
            return Err(Error::InvalidRequest(format!(
                "{spec:?} keys cannot be HSM-resident (RSA 2048/3072/4096, ECDSA P-256/P-384, AES-128/256 can)"
            )));
        }
        let store = Arc::clone(self.configured_store()?);
        let object_type = if spec.is_symmetric() {
            ObjectType::SymmetricKey
        } else {
            ObjectType::PrivateKey
        };
        let mask = *template
            .usage_mask
            .get_or_insert_with(|| default_mask(object_type));
        if !allowed_mask(object_type).contains(mask) {
            return Err(Error::InvalidAttribute {
                name: "Cryptographic Usage Mask",
                reason: format!(
                    "an HSM-resident {object_type:?} allows only {:?}",
                    allowed_mask(object_type)
                ),
            });
        }
        let id = ObjectId::generate();
        let key = store.generate(spec, &token_label(project, id)).await?;
        let material = ResidentMaterial {
            provider: store.provider().to_string(),
            handle: key.handle,
            public_spki: key.public_spki,
        };
        let checked = self.check_generated(spec, &material);
        let built = checked.and_then(|()| {
            let (alg, len) = algorithm_of(spec);
            build_attributes(
                project,
                &KeyMaterial::Resident(material.clone()),
                Some(alg),
                Some(len),
                template,
                OffsetDateTime::now_utc(),
            )
        });
        match built {
            Ok(mut attributes) => {
                attributes.unique_identifier = id;
                attributes.resident_in = Some(material.provider.clone());
                Ok((attributes, material))
            }
            Err(e) => {
                self.discard_resident(&material).await;
                Err(e)
            }
        }
    }

    /// The store returned what was asked for: a public key of the right
    /// type for a pair, none for a symmetric key.
    fn check_generated(&self, spec: KeySpec, material: &ResidentMaterial) -> Result<()> {
        let wrong = |what: &str| {
            Err(Error::Resident(crate::resident::ResidentError::Provider {
                provider: "resident",
                reason: format!("generating {spec:?} returned {what}"),
            }))
        };
        if material.handle.is_empty()
            || material.handle.len() > crate::resident::MAX_HANDLE_LEN
            || material.provider.is_empty()
            || material.provider.len() > 255
        {
            return wrong("a handle or provider name that a row cannot record");
        }
        match (&material.public_spki, spec.key_type()) {
            (None, None) => Ok(()),
            (Some(spki), Some(expected)) => {
                if VerifyingKey::from_spki_der(spki)?.key_type() == expected {
                    Ok(())
                } else {
                    wrong("a public key of another type")
                }
            }
            (Some(_), None) => wrong("a public key for a symmetric key"),
            (None, Some(_)) => wrong("no public key"),
        }
    }

    /// Deletes a token key that no row records (a failed create).
    async fn discard_resident(&self, material: &ResidentMaterial) {
        if let Ok(store) = self.resident_store(material) {
            if let Err(e) = store.destroy(&material.handle).await {
                tracing::error!(handle = %material.handle_hex(), error = %e,
                    "could not delete an HSM-resident key whose object was not created; delete it from the token by hand");
            }
        }
    }

    /// `create_key` with `KeyLocation::Hsm`.
    pub(super) async fn create_resident_key(
        &self,
        actor: &Actor,
        project: ProjectId,
        spec: KeySpec,
        template: Template,
    ) -> Result<ObjectId> {
        if !spec.is_symmetric() {
            return Err(Error::InvalidRequest(format!(
                "{spec:?} is an asymmetric key spec; create a key pair"
            )));
        }
        let (attributes, material) = self.generate_resident(project, spec, template).await?;
        let kek = self.current_project_kek(project).await?;
        let id = attributes.unique_identifier;
        let committed = async {
            let record = codec::to_record(
                &attributes,
                1,
                Material::Wrap(&KeyMaterial::Resident(material.clone())),
                &kek,
            )?;
            let tx = Transaction::new()
                .write(Write::InsertObject(record))
                .audit(actor.event("object.create").project(project).object(id));
            self.inner.store.commit(tx).await?;
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = committed {
            self.discard_resident(&material).await;
            return Err(e);
        }
        Ok(id)
    }

    /// `create_key_pair` with `KeyLocation::Hsm` on the private template.
    pub(super) async fn create_resident_key_pair(
        &self,
        actor: &Actor,
        project: ProjectId,
        spec: KeySpec,
        private_template: Template,
        public_template: Template,
    ) -> Result<CreatedPair> {
        if spec.is_symmetric() {
            return Err(Error::InvalidRequest(format!(
                "{spec:?} is a symmetric key spec; create a key"
            )));
        }
        let (private, material) = self
            .generate_resident(project, spec, private_template)
            .await?;
        let public_spki = material.public_spki.clone().unwrap_or_default();
        let result = self
            .insert_pair(
                actor,
                project,
                spec,
                private,
                KeyMaterial::Resident(material.clone()),
                KeyMaterial::PublicKeySpki(public_spki),
                public_template,
            )
            .await;
        if result.is_err() {
            self.discard_resident(&material).await;
        }
        result
    }

    /// Signs with a resident private key: prepare here, sign in the store,
    /// encode here, so the output is the software path's format.
    pub(super) async fn resident_sign(
        &self,
        material: &ResidentMaterial,
        key_type: KeyType,
        scheme: SignatureScheme,
        data: &[u8],
        is_digest: bool,
    ) -> Result<Vec<u8>> {
        let store = self.resident_store(material)?;
        let request = external_signature::prepare(key_type, scheme, data, is_digest)?;
        let raw = store
            .sign(&material.handle, request.operation, &request.input)
            .await?;
        Ok(external_signature::finish(key_type, scheme, raw)?)
    }

    pub(super) async fn resident_encrypt(
        &self,
        material: &ResidentMaterial,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let store = self.resident_store(material)?;
        Ok(store.encrypt(&material.handle, aad, plaintext).await?)
    }

    pub(super) async fn resident_decrypt(
        &self,
        material: &ResidentMaterial,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<crate::crypto::SecretBytes> {
        let store = self.resident_store(material)?;
        Ok(store.decrypt(&material.handle, aad, sealed).await?)
    }

    /// After a committed Destroy: deletes the key from the store, and audits
    /// the outcome as `object.destroy.hsm`. A failure is not the caller's:
    /// the object is destroyed either way (see the module docs).
    pub(super) async fn destroy_resident(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        material: &ResidentMaterial,
    ) {
        let outcome = match self.resident_store(material) {
            Ok(store) => store.destroy(&material.handle).await.map_err(Error::from),
            Err(e) => Err(e),
        };
        let result = match &outcome {
            Ok(()) => "success",
            Err(e) => {
                tracing::error!(object = %id, handle = %material.handle_hex(), error = %e,
                    "the object is destroyed, but its key could not be deleted from the HSM; delete the token object by hand");
                "hsm_delete_failed"
            }
        };
        let event = actor
            .event("object.destroy.hsm")
            .project(project)
            .object(id)
            .result(result);
        if let Err(e) = self.inner.audit.record(event).await {
            tracing::error!(object = %id, error = %e, "could not audit the HSM key deletion");
        }
    }
}

/// Where a new key is generated.
pub(super) fn wants_hsm(template: &Template) -> bool {
    template.location == KeyLocation::Hsm
}
