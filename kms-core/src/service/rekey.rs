//! Re-key (KMIP 1.4 §4.4) and Re-key Key Pair (§4.5): a new key generated
//! like the old one, replacing it.
//!
//! The replacement gets the old key's algorithm, length, Cryptographic
//! Parameters, usage mask, object groups, contact information, custom
//! attributes and **names** (which leave the old key, as KMIP prescribes),
//! a fresh Initial Date, and a Replaced Object Link to the old key; the old
//! key gets a Replacement Object Link to the new one and otherwise keeps
//! its state: a client revokes it when it is done with it.
//!
//! Dates: without an Offset the old key's Activation and Deactivation Dates
//! are copied; with one, the new Activation Date is the new Initial Date
//! plus the Offset, and the Deactivation Date keeps the old key's distance
//! from its Activation Date.
//!
//! The new object(s) and the old one(s)' changes are written in one
//! transaction with their audit records (`object.rekey`,
//! `object.rekey_key_pair`), so a crash never leaves half a replacement.

use time::{Duration, OffsetDateTime};

use super::codec::{self, Material};
use super::objects::{Template, algorithm_of, build_attributes};
use super::{Actor, CreatedPair, Kms};
use crate::crypto::keygen::{self, GeneratedKey, KeySpec};
use crate::error::{Error, Result};
use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::{self, Operation};
use crate::object::{Attributes, KeyMaterial, Link, LinkType, ObjectType};
use crate::store::{Transaction, Write};

impl Kms {
    /// Replaces the symmetric key `id` with a new one; returns its id.
    pub async fn rekey(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        offset: Option<Duration>,
    ) -> Result<ObjectId> {
        let (record, old_kek, old) = self.load_online(project, id).await?;
        if old.object_type != ObjectType::SymmetricKey {
            return Err(Error::InvalidRequest(
                "Re-key replaces symmetric keys; use Re-key Key Pair for key pairs".into(),
            ));
        }
        lifecycle::require(old.state, Operation::Rekey)?;
        let spec = spec_of(&old)?;
        let GeneratedKey::Symmetric(key) = keygen::generate(spec)? else {
            return Err(Error::InvalidRequest(format!("{spec:?} is not symmetric")));
        };
        let material = KeyMaterial::Symmetric(key);
        let now = OffsetDateTime::now_utc();
        let new = replacement(project, &old, &material, spec, offset, now)?;
        let old_after = replaced(&old, &new, now)?;
        let kek = self.current_project_kek(project).await?;
        let new_id = new.unique_identifier;
        let tx = Transaction::new()
            .write(Write::InsertObject(codec::to_record(
                &new,
                1,
                Material::Wrap(&material),
                &kek,
            )?))
            .write(Write::UpdateObject(codec::to_record(
                &old_after,
                record.revision + 1,
                Material::Keep(record.material),
                &old_kek,
            )?))
            .audit(actor.event("object.rekey").project(project).object(new_id))
            .audit(actor.event("object.rekey").project(project).object(id));
        self.inner.store.commit(tx).await?;
        self.forget(project, id);
        Ok(new_id)
    }

    /// Replaces the key pair whose private key is `private_id` with a new
    /// pair generated like it; returns the new pair.
    pub async fn rekey_key_pair(
        &self,
        actor: &Actor,
        project: ProjectId,
        private_id: ObjectId,
        offset: Option<Duration>,
    ) -> Result<CreatedPair> {
        let (private_record, private_kek, old_private) =
            self.load_online(project, private_id).await?;
        if old_private.object_type != ObjectType::PrivateKey {
            return Err(Error::InvalidRequest(
                "Re-key Key Pair names the private key of the pair".into(),
            ));
        }
        lifecycle::require(old_private.state, Operation::Rekey)?;
        let public_id = old_private
            .links
            .iter()
            .find(|l| l.link_type == LinkType::PublicKeyLink)
            .and_then(|l| l.linked_object_id.parse::<ObjectId>().ok())
            .ok_or_else(|| {
                Error::InvalidRequest("the private key has no Public Key Link".into())
            })?;
        let (public_record, public_kek, old_public) = self.load_online(project, public_id).await?;
        let spec = spec_of(&old_private)?;
        let GeneratedKey::Pair {
            private_pkcs8,
            public_spki,
        } = keygen::generate(spec)?
        else {
            return Err(Error::InvalidRequest(format!("{spec:?} is not a key pair")));
        };
        let private_material = KeyMaterial::PrivateKeyPkcs8(private_pkcs8);
        let public_material = KeyMaterial::PublicKeySpki(public_spki);
        let now = OffsetDateTime::now_utc();
        let mut private = replacement(project, &old_private, &private_material, spec, offset, now)?;
        let mut public = replacement(project, &old_public, &public_material, spec, offset, now)?;
        private.links.push(Link {
            link_type: LinkType::PublicKeyLink,
            linked_object_id: public.unique_identifier.to_string(),
        });
        public.links.push(Link {
            link_type: LinkType::PrivateKeyLink,
            linked_object_id: private.unique_identifier.to_string(),
        });
        let private_after = replaced(&old_private, &private, now)?;
        let public_after = replaced(&old_public, &public, now)?;
        let kek = self.current_project_kek(project).await?;
        let pair = CreatedPair {
            private_key: private.unique_identifier,
            public_key: public.unique_identifier,
        };
        let event = |object| {
            actor
                .event("object.rekey_key_pair")
                .project(project)
                .object(object)
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
            .write(Write::UpdateObject(codec::to_record(
                &private_after,
                private_record.revision + 1,
                Material::Keep(private_record.material),
                &private_kek,
            )?))
            .write(Write::UpdateObject(codec::to_record(
                &public_after,
                public_record.revision + 1,
                Material::Keep(public_record.material),
                &public_kek,
            )?))
            .audit(event(pair.private_key))
            .audit(event(pair.public_key))
            .audit(event(private_id))
            .audit(event(public_id));
        self.inner.store.commit(tx).await?;
        self.forget(project, private_id);
        self.forget(project, public_id);
        Ok(pair)
    }
}

/// The key spec that makes keys like `old`. HSM-resident keys are refused:
/// their replacement would have to be made in the token too, and quietly
/// making a software key instead would move the key out of the HSM.
fn spec_of(old: &Attributes) -> Result<KeySpec> {
    if let Some(store) = &old.resident_in {
        return Err(Error::InvalidRequest(format!(
            "{} lives in {store}: re-key is not offered for HSM-resident keys; create a new HSM key",
            old.unique_identifier
        )));
    }
    KeySpec::ALL
        .into_iter()
        .find(|s| {
            let (alg, len) = algorithm_of(*s);
            Some(alg) == old.cryptographic_algorithm && Some(len) == old.cryptographic_length
        })
        .ok_or_else(|| {
            Error::InvalidRequest(format!(
                "this server cannot generate a {} key of {} bits",
                old.cryptographic_algorithm
                    .map_or("(unknown algorithm)", |a| a.kmip_name()),
                old.cryptographic_length.unwrap_or(0)
            ))
        })
}

/// The replacement's attributes, as the module documentation says.
fn replacement(
    project: ProjectId,
    old: &Attributes,
    material: &KeyMaterial,
    spec: KeySpec,
    offset: Option<Duration>,
    now: OffsetDateTime,
) -> Result<Attributes> {
    let (activation_date, deactivation_date) = match offset {
        None => (old.activation_date, old.deactivation_date),
        Some(offset) => {
            let activation = now + offset;
            let lifetime = old
                .activation_date
                .zip(old.deactivation_date)
                .map(|(a, d)| d - a);
            (Some(activation), lifetime.map(|l| activation + l))
        }
    };
    let template = Template {
        names: old.names.clone(),
        usage_mask: Some(old.cryptographic_usage_mask),
        activation_date,
        deactivation_date,
        object_groups: old.object_groups.clone(),
        contact_information: old.contact_information.clone(),
        links: vec![Link {
            link_type: LinkType::ReplacedObjectLink,
            linked_object_id: old.unique_identifier.to_string(),
        }],
        cryptographic_parameters: old.cryptographic_parameters.clone(),
        custom: old.custom.clone(),
        // A new key starts with the whole total (build_attributes resets
        // the count).
        usage_limits: old.usage_limits,
        application_specific_information: old.application_specific_information.clone(),
        ..Template::default()
    };
    let (alg, len) = algorithm_of(spec);
    build_attributes(project, material, Some(alg), Some(len), template, now)
}

/// The old key after its replacement: names gone, linked to the new key.
fn replaced(old: &Attributes, new: &Attributes, now: OffsetDateTime) -> Result<Attributes> {
    let mut after = old.clone();
    after.names.clear();
    after
        .links
        .retain(|l| l.link_type != LinkType::ReplacementObjectLink);
    after.links.push(Link {
        link_type: LinkType::ReplacementObjectLink,
        linked_object_id: new.unique_identifier.to_string(),
    });
    after.last_change_date = crate::object::attributes::truncate_to_second(now);
    after.validate()?;
    Ok(after)
}
