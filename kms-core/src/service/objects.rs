//! Creating, registering, reading and changing managed objects.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;

use super::codec::{self, Material};
use super::{Actor, Kms, resident_ops};
use crate::crypto::digest::{DigestAlgorithm, digest};
use crate::crypto::keygen::{self, GeneratedKey, KeySpec};
use crate::error::{Error, Result};
use crate::hierarchy::ProjectKek;
use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::{self, Operation, State};
use crate::object::attributes::truncate_to_second;
use crate::object::{
    AlternativeName, ApplicationSpecificInformation, Attributes, CryptographicAlgorithm,
    CryptographicParameters, CustomValue, Digest, HashingAlgorithm, KeyFormatType, KeyMaterial,
    Link, LinkType, ManagedObject, Name, ObjectType, UsageLimits, UsageMask,
};
use crate::store::{ObjectQuery, ObjectRecord, Transaction, Write};

/// The attributes a caller may choose when creating or registering an object.
#[derive(Clone, Debug, Default)]
pub struct Template {
    pub names: Vec<Name>,
    /// `None` picks the usual mask for the key type.
    pub usage_mask: Option<UsageMask>,
    /// A date in the past (or now) creates the object Active.
    pub activation_date: Option<OffsetDateTime>,
    pub deactivation_date: Option<OffsetDateTime>,
    pub object_groups: Vec<String>,
    pub contact_information: Option<String>,
    pub links: Vec<Link>,
    pub cryptographic_parameters: Option<CryptographicParameters>,
    pub custom: BTreeMap<String, CustomValue>,
    /// Keys only (KMIP §3.25, §3.26).
    pub process_start_date: Option<OffsetDateTime>,
    pub protect_stop_date: Option<OffsetDateTime>,
    /// Keys only (KMIP §3.21); the count starts at the total whatever it says.
    pub usage_limits: Option<UsageLimits>,
    pub alternative_names: Vec<AlternativeName>,
    pub application_specific_information: Vec<ApplicationSpecificInformation>,
    /// Where a generated key lives. For a key pair, the private template's
    /// location decides; the public key is always an ordinary object.
    pub location: KeyLocation,
}

/// Where a generated key lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyLocation {
    /// In the database, wrapped under the project key; used in memory.
    #[default]
    Software,
    /// Inside the configured HSM, non-extractable; the row records only its
    /// handle ([`crate::resident`]).
    Hsm,
}

/// The two objects of a key pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatedPair {
    pub private_key: ObjectId,
    pub public_key: ObjectId,
}

/// KMIP algorithm and length of a key spec.
pub(super) fn algorithm_of(spec: KeySpec) -> (CryptographicAlgorithm, u32) {
    use CryptographicAlgorithm as A;
    match spec {
        KeySpec::Aes128 => (A::Aes, 128),
        KeySpec::Aes192 => (A::Aes, 192),
        KeySpec::Aes256 => (A::Aes, 256),
        KeySpec::TripleDes => (A::TripleDes, 168),
        KeySpec::HmacSha256 => (A::HmacSha256, 256),
        KeySpec::HmacSha384 => (A::HmacSha384, 384),
        KeySpec::HmacSha512 => (A::HmacSha512, 512),
        KeySpec::Rsa2048 => (A::Rsa, 2048),
        KeySpec::Rsa3072 => (A::Rsa, 3072),
        KeySpec::Rsa4096 => (A::Rsa, 4096),
        KeySpec::EcP256 => (A::Ecdsa, 256),
        KeySpec::EcP384 => (A::Ecdsa, 384),
        KeySpec::EcP521 => (A::Ecdsa, 521),
        KeySpec::Ed25519 => (A::Ed25519, 255),
    }
}

/// The usual Cryptographic Usage Mask when the caller sets none.
fn default_mask(object_type: ObjectType, algorithm: Option<CryptographicAlgorithm>) -> UsageMask {
    use CryptographicAlgorithm as A;
    match (object_type, algorithm) {
        (ObjectType::SymmetricKey, Some(A::HmacSha256 | A::HmacSha384 | A::HmacSha512)) => {
            UsageMask::MAC_GENERATE | UsageMask::MAC_VERIFY
        }
        (ObjectType::SymmetricKey, _) => {
            UsageMask::ENCRYPT | UsageMask::DECRYPT | UsageMask::WRAP_KEY | UsageMask::UNWRAP_KEY
        }
        (ObjectType::PrivateKey, Some(A::Rsa)) => UsageMask::SIGN | UsageMask::DECRYPT,
        (ObjectType::PrivateKey, _) => UsageMask::SIGN,
        (ObjectType::PublicKey, Some(A::Rsa)) => UsageMask::VERIFY | UsageMask::ENCRYPT,
        (ObjectType::PublicKey, _) => UsageMask::VERIFY,
        _ => UsageMask::empty(),
    }
}

/// A SHA-256 Digest attribute of the material, as KMIP servers set it. An
/// HSM-resident private key gets the digest of its public key; a resident
/// symmetric key none (its value is unknown to us).
pub(super) fn digest_of(material: &KeyMaterial) -> Option<Digest> {
    let (bytes, format) = match material {
        KeyMaterial::Symmetric(b) => (b.expose(), KeyFormatType::Raw),
        KeyMaterial::PrivateKeyPkcs8(b) => (b.expose(), KeyFormatType::Pkcs8),
        KeyMaterial::PublicKeySpki(b) => (b.as_slice(), KeyFormatType::X509),
        KeyMaterial::Certificate(b) => (b.as_slice(), KeyFormatType::X509),
        KeyMaterial::SecretData { value, .. } => (value.expose(), KeyFormatType::Opaque),
        KeyMaterial::Opaque(b) => (b.expose(), KeyFormatType::Opaque),
        KeyMaterial::Resident(r) => (r.public_spki.as_deref()?, KeyFormatType::X509),
    };
    Some(Digest {
        hashing_algorithm: HashingAlgorithm::Sha256,
        digest_value: digest(DigestAlgorithm::Sha256, bytes),
        key_format_type: Some(format),
    })
}

pub(super) fn build_attributes(
    project: ProjectId,
    material: &KeyMaterial,
    algorithm: Option<CryptographicAlgorithm>,
    length: Option<u32>,
    template: Template,
    now: OffsetDateTime,
) -> Result<Attributes> {
    let object_type = material.object_type();
    let mut a = Attributes::new(project, object_type, now);
    a.names = template.names;
    a.cryptographic_algorithm = algorithm;
    a.cryptographic_length = length;
    a.cryptographic_parameters = template.cryptographic_parameters;
    a.cryptographic_usage_mask = template
        .usage_mask
        .unwrap_or_else(|| default_mask(object_type, algorithm));
    a.activation_date = template.activation_date.map(truncate_to_second);
    a.deactivation_date = template.deactivation_date.map(truncate_to_second);
    a.object_groups = template.object_groups;
    a.contact_information = template.contact_information;
    a.links = template.links;
    a.custom = template.custom;
    a.process_start_date = template.process_start_date.map(truncate_to_second);
    a.protect_stop_date = template.protect_stop_date.map(truncate_to_second);
    a.usage_limits = template
        .usage_limits
        .map(|l| UsageLimits::new(l.total, l.unit));
    a.alternative_names = template.alternative_names;
    a.application_specific_information = template.application_specific_information;
    a.digests = digest_of(material).into_iter().collect();
    // KMIP transition 1: an Activation Date already reached makes the new
    // object Active at once (and a passed Deactivation Date, Deactivated).
    a.state = lifecycle::effective_state(
        State::PreActive,
        a.activation_date,
        a.deactivation_date,
        a.initial_date,
    )
    .0;
    a.validate()?;
    Ok(a)
}

impl Kms {
    /// Generates a symmetric key in `project`.
    pub async fn create_key(
        &self,
        actor: &Actor,
        project: ProjectId,
        spec: KeySpec,
        template: Template,
    ) -> Result<ObjectId> {
        if resident_ops::wants_hsm(&template) {
            return self
                .create_resident_key(actor, project, spec, template)
                .await;
        }
        let GeneratedKey::Symmetric(key) = keygen::generate(spec)? else {
            return Err(Error::InvalidRequest(format!(
                "{spec:?} is an asymmetric key spec; create a key pair"
            )));
        };
        let (alg, len) = algorithm_of(spec);
        self.register_as(
            actor,
            project,
            KeyMaterial::Symmetric(key),
            Some(alg),
            Some(len),
            template,
            "object.create",
        )
        .await
    }

    /// Generates a key pair in `project`: a Private Key and a Public Key
    /// object, linked to each other.
    pub async fn create_key_pair(
        &self,
        actor: &Actor,
        project: ProjectId,
        spec: KeySpec,
        private_template: Template,
        public_template: Template,
    ) -> Result<CreatedPair> {
        if resident_ops::wants_hsm(&private_template) {
            return self
                .create_resident_key_pair(actor, project, spec, private_template, public_template)
                .await;
        }
        let GeneratedKey::Pair {
            private_pkcs8,
            public_spki,
        } = keygen::generate(spec)?
        else {
            return Err(Error::InvalidRequest(format!(
                "{spec:?} is a symmetric key spec; create a key"
            )));
        };
        let (alg, len) = algorithm_of(spec);
        let private_material = KeyMaterial::PrivateKeyPkcs8(private_pkcs8);
        let private = build_attributes(
            project,
            &private_material,
            Some(alg),
            Some(len),
            private_template,
            OffsetDateTime::now_utc(),
        )?;
        self.insert_pair(
            actor,
            project,
            spec,
            private,
            private_material,
            KeyMaterial::PublicKeySpki(public_spki),
            public_template,
        )
        .await
    }

    /// Links a private key's attributes to a new public key object and
    /// commits both rows in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn insert_pair(
        &self,
        actor: &Actor,
        project: ProjectId,
        spec: KeySpec,
        mut private: Attributes,
        private_material: KeyMaterial,
        public_material: KeyMaterial,
        public_template: Template,
    ) -> Result<CreatedPair> {
        let (alg, len) = algorithm_of(spec);
        let now = private.initial_date;
        let mut public = build_attributes(
            project,
            &public_material,
            Some(alg),
            Some(len),
            public_template,
            now,
        )?;
        private.links.push(Link {
            link_type: LinkType::PublicKeyLink,
            linked_object_id: public.unique_identifier.to_string(),
        });
        public.links.push(Link {
            link_type: LinkType::PrivateKeyLink,
            linked_object_id: private.unique_identifier.to_string(),
        });
        let kek = self.current_project_kek(project).await?;
        let pair = CreatedPair {
            private_key: private.unique_identifier,
            public_key: public.unique_identifier,
        };
        let tx = Transaction::new()
            .write(Write::InsertObject(codec::to_record(
                &private,
                1,
                Material::Wrap(&private_material),
                &kek,
            )?))
            .write(Write::InsertObject(codec::to_record(
                &public,
                1,
                Material::Wrap(&public_material),
                &kek,
            )?))
            .audit(
                actor
                    .event("object.create_key_pair")
                    .project(project)
                    .object(pair.private_key),
            )
            .audit(
                actor
                    .event("object.create_key_pair")
                    .project(project)
                    .object(pair.public_key),
            );
        self.inner.store.commit(tx).await?;
        Ok(pair)
    }

    /// Stores material the caller supplies (KMIP Register).
    pub async fn register(
        &self,
        actor: &Actor,
        project: ProjectId,
        material: KeyMaterial,
        algorithm: Option<CryptographicAlgorithm>,
        length: Option<u32>,
        template: Template,
    ) -> Result<ObjectId> {
        self.register_as(
            actor,
            project,
            material,
            algorithm,
            length,
            template,
            "object.register",
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn register_as(
        &self,
        actor: &Actor,
        project: ProjectId,
        material: KeyMaterial,
        algorithm: Option<CryptographicAlgorithm>,
        length: Option<u32>,
        template: Template,
        action: &str,
    ) -> Result<ObjectId> {
        if resident_ops::wants_hsm(&template) && action == "object.register" {
            return Err(Error::InvalidRequest(
                "registered material cannot be made HSM-resident: create the key in the HSM instead"
                    .into(),
            ));
        }
        let attributes = build_attributes(
            project,
            &material,
            algorithm,
            length,
            template,
            OffsetDateTime::now_utc(),
        )?;
        let kek = self.current_project_kek(project).await?;
        let id = attributes.unique_identifier;
        let record = codec::to_record(&attributes, 1, Material::Wrap(&material), &kek)?;
        let tx = Transaction::new()
            .write(Write::InsertObject(record))
            .audit(actor.event(action).project(project).object(id));
        self.inner.store.commit(tx).await?;
        Ok(id)
    }

    /// An object's authenticated row and the project key that covers it.
    pub(super) async fn load(
        &self,
        project: ProjectId,
        id: ObjectId,
    ) -> Result<(ObjectRecord, Arc<ProjectKek>)> {
        let record = self
            .inner
            .store
            .object(project, id)
            .await?
            .ok_or(Error::ObjectNotFound(id))?;
        let kek = self.project_kek(project, record.kek_version).await?;
        Ok((record, kek))
    }

    /// Like [`Kms::load`], with the row's attributes decoded, refusing an
    /// archived object: every operation except Archive, Recover, Locate
    /// and the date-driven sweep reads objects through here.
    pub(super) async fn load_online(
        &self,
        project: ProjectId,
        id: ObjectId,
    ) -> Result<(ObjectRecord, Arc<ProjectKek>, Attributes)> {
        let (record, kek) = self.load(project, id).await?;
        let attributes = codec::attributes_of(&record, &kek)?;
        attributes.require_online()?;
        Ok((record, kek, attributes))
    }

    /// The attributes of an object, with date-driven transitions applied.
    pub async fn attributes(&self, project: ProjectId, id: ObjectId) -> Result<Attributes> {
        let (_, _, mut a) = self.load_online(project, id).await?;
        a.state = lifecycle::effective_state(
            a.state,
            a.activation_date,
            a.deactivation_date,
            OffsetDateTime::now_utc(),
        )
        .0;
        Ok(a)
    }

    /// An object with its key material (KMIP Get). Audited.
    pub async fn get(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
    ) -> Result<ManagedObject> {
        let result = self.get_inner(project, id).await;
        let outcome = match &result {
            Ok(_) => "success".to_string(),
            Err(e) => failure_code(e).to_string(),
        };
        self.inner
            .audit
            .record(
                actor
                    .event("object.get")
                    .project(project)
                    .object(id)
                    .result(outcome),
            )
            .await?;
        result
    }

    async fn get_inner(&self, project: ProjectId, id: ObjectId) -> Result<ManagedObject> {
        let stored = self.stored_object(project, id).await?;
        let ManagedObject {
            mut attributes,
            material,
            revision,
        } = ManagedObject::clone(&stored);
        attributes.require_online()?;
        let now = OffsetDateTime::now_utc();
        attributes.state = lifecycle::effective_state(
            attributes.state,
            attributes.activation_date,
            attributes.deactivation_date,
            now,
        )
        .0;
        lifecycle::require(attributes.state, Operation::Get)?;
        if let Some(KeyMaterial::Resident(_)) = material {
            return Err(Error::NotExtractable(id));
        }
        Ok(ManagedObject {
            attributes,
            material,
            revision,
        })
    }

    /// The object as stored (state not advanced by its dates), from the
    /// object cache or read, authenticated, decrypted and cached now.
    async fn stored_object(&self, project: ProjectId, id: ObjectId) -> Result<Arc<ManagedObject>> {
        if let Some(object) = self.inner.objects.get(project, id) {
            return Ok(object);
        }
        let generation = self.inner.objects.generation();
        let (record, kek) = self.load(project, id).await?;
        let object = Arc::new(ManagedObject {
            attributes: codec::attributes_of(&record, &kek)?,
            material: codec::material_of(&record, &kek)?,
            revision: record.revision,
        });
        self.inner
            .objects
            .insert_since(project, id, Arc::clone(&object), generation);
        Ok(object)
    }

    /// Changes attributes with `change`, which may not touch the ones only
    /// the server sets (identifier, project, type, state, dates of the
    /// lifecycle, digests). Audited.
    pub async fn modify_attributes(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        change: impl FnOnce(&mut Attributes) -> Result<()>,
    ) -> Result<Attributes> {
        let (record, kek, before) = self.load_online(project, id).await?;
        lifecycle::require(before.state, Operation::ModifyAttributes)?;
        let mut after = before.clone();
        change(&mut after)?;
        let server_owned_unchanged = after.unique_identifier == before.unique_identifier
            && after.project == before.project
            && after.object_type == before.object_type
            && after.state == before.state
            && after.initial_date == before.initial_date
            && after.destroy_date == before.destroy_date
            && after.compromise_date == before.compromise_date
            && after.digests == before.digests
            && after.cryptographic_algorithm == before.cryptographic_algorithm
            && after.cryptographic_length == before.cryptographic_length
            && after.resident_in == before.resident_in
            && after.archive_date == before.archive_date;
        if !server_owned_unchanged {
            return Err(Error::InvalidRequest(
                "that attribute is set by the server and cannot be changed".into(),
            ));
        }
        if before.state != State::PreActive && after.activation_date != before.activation_date {
            return Err(Error::InvalidAttribute {
                name: "Activation Date",
                reason: "can only change while Pre-Active".into(),
            });
        }
        let now = truncate_to_second(OffsetDateTime::now_utc());
        check_use_period_change(&before, &after, now)?;
        check_usage_limits_change(&before, &after)?;
        after.last_change_date = now;
        // Moving the Activation or Deactivation Date into the past applies
        // the transition now (KMIP 3.22 transitions 4 and 6).
        after.state = lifecycle::effective_state(
            after.state,
            after.activation_date,
            after.deactivation_date,
            now,
        )
        .0;
        after.validate()?;
        let new_record = codec::to_record(
            &after,
            record.revision + 1,
            Material::Keep(record.material),
            &kek,
        )?;
        let tx = Transaction::new()
            .write(Write::UpdateObject(new_record))
            .audit(
                actor
                    .event("object.modify_attributes")
                    .project(project)
                    .object(id),
            );
        self.inner.store.commit(tx).await?;
        self.forget(project, id);
        Ok(after)
    }

    /// Objects of `project` matching `query` (its project field is replaced
    /// by `project`), with their attributes. Rows that fail authentication
    /// are an error, never silently skipped. Archived objects are included:
    /// [`Attributes::is_archived`] tells them apart, so a caller chooses
    /// the storage it searches (KMIP's Storage Status Mask).
    pub async fn locate(&self, project: ProjectId, query: ObjectQuery) -> Result<Vec<Attributes>> {
        let query = ObjectQuery {
            project: Some(project),
            ..query
        };
        let records = self.inner.store.find_objects(&query).await?;
        let now = OffsetDateTime::now_utc();
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let kek = self.project_kek(project, record.kek_version).await?;
            let mut a = codec::attributes_of(&record, &kek)?;
            a.state =
                lifecycle::effective_state(a.state, a.activation_date, a.deactivation_date, now).0;
            out.push(a);
        }
        Ok(out)
    }
}

/// KMIP §3.25 and §3.26: Process Start and Protect Stop Dates change only
/// while the object is Pre-Active or Active and the date has not been
/// reached, and are never deleted.
fn check_use_period_change(
    before: &Attributes,
    after: &Attributes,
    now: OffsetDateTime,
) -> Result<()> {
    let dates = [
        (
            "Process Start Date",
            before.process_start_date,
            after.process_start_date,
        ),
        (
            "Protect Stop Date",
            before.protect_stop_date,
            after.protect_stop_date,
        ),
    ];
    for (name, old, new) in dates {
        if old == new {
            continue;
        }
        let reason = if new.is_none() {
            "cannot be deleted"
        } else if !matches!(before.state, State::PreActive | State::Active) {
            "can only change while Pre-Active or Active"
        } else if old.is_some_and(|d| d <= now) {
            "cannot change once reached"
        } else {
            continue;
        };
        return Err(Error::InvalidAttribute {
            name,
            reason: reason.into(),
        });
    }
    Ok(())
}

/// KMIP §3.21: a client never sets the Usage Limits Count; it may set or
/// correct the total and unit, or delete the attribute, only until the
/// first unit is spent.
fn check_usage_limits_change(before: &Attributes, after: &Attributes) -> Result<()> {
    let refuse = |reason: &str| {
        Err(Error::InvalidAttribute {
            name: "Usage Limits",
            reason: reason.into(),
        })
    };
    match (before.usage_limits, after.usage_limits) {
        (old, new) if old == new => Ok(()),
        (Some(old), _) if old.started() => refuse("cannot change once the object has been used"),
        (_, Some(new)) if new.count != new.total => {
            refuse("the Usage Limits Count is set by the server")
        }
        _ => Ok(()),
    }
}

/// A short, stable code for an error, used as the audit record's result.
pub(super) fn failure_code(e: &Error) -> &'static str {
    match e {
        Error::ObjectNotFound(_) => "not_found",
        Error::ObjectArchived(_) => "object_archived",
        Error::OutsideUsePeriod { .. } => "outside_use_period",
        Error::UsageLimitExhausted(..) => "usage_limit_exhausted",
        Error::ProjectNotFound(_) => "project_not_found",
        Error::WrongLifecycleState { .. } => "wrong_lifecycle_state",
        Error::UsageNotPermitted(..) => "usage_not_permitted",
        Error::InvalidAttribute { .. } | Error::InvalidRequest(_) => "invalid_request",
        Error::Integrity { .. } => "integrity_failure",
        Error::Crypto(_) => "cryptographic_failure",
        Error::NotExtractable(_) => "not_extractable",
        Error::Resident(_) => "hsm_failure",
        _ => "internal_error",
    }
}
