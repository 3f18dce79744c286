//! Derive Key (KMIP 1.4 §4.6): a Symmetric Key or Secret Data computed from
//! a base object ([`crate::crypto::kdf`]) and stored as a new object.
//!
//! The base object must allow Derive Key in its usage mask and be in a
//! state that allows protection (Active); its material is a symmetric key
//! or Secret Data. The new object gets a Derivation Base Object Link to the
//! base, the base a Derived Key Link to the new object, both written in
//! one transaction with their audit records (`object.derive_key`).

use time::OffsetDateTime;

use super::codec::{self, Material};
use super::objects::{Template, build_attributes};
use super::{Actor, Kms};
use crate::crypto::SecretBytes;
use crate::crypto::kdf::{self, KdfHash};
use crate::error::{Error, Result};
use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::{self, Operation};
use crate::object::{
    CryptographicAlgorithm, KeyMaterial, Link, LinkType, SecretDataType, UsageMask,
};
use crate::store::{Transaction, Write};

/// How the new object's bytes are computed from the base object's.
#[derive(Clone, Debug)]
pub enum Derivation {
    /// PBKDF2 over the base material as the password.
    Pbkdf2 {
        hash: KdfHash,
        salt: Vec<u8>,
        iterations: u32,
    },
    /// HMAC keyed with the base material over `data`.
    Hmac { hash: KdfHash, data: Vec<u8> },
    /// A hash of the base material.
    Hash { hash: KdfHash },
}

/// What to make of the derived bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DerivedObject {
    /// A symmetric key of this algorithm and length in bits.
    SymmetricKey(CryptographicAlgorithm, u32),
    /// Secret Data (a seed) of this length in bits.
    SecretData(u32),
}

impl DerivedObject {
    fn len_bytes(self) -> Result<usize> {
        let bits = match self {
            DerivedObject::SymmetricKey(alg, bits) => {
                let ok = match alg {
                    CryptographicAlgorithm::Aes => matches!(bits, 128 | 192 | 256),
                    CryptographicAlgorithm::HmacSha256
                    | CryptographicAlgorithm::HmacSha384
                    | CryptographicAlgorithm::HmacSha512 => bits >= 128,
                    _ => false,
                };
                if !ok {
                    return Err(Error::InvalidRequest(format!(
                        "cannot derive a {alg} key of {bits} bits"
                    )));
                }
                bits
            }
            DerivedObject::SecretData(bits) => bits,
        };
        if bits == 0 || bits % 8 != 0 {
            return Err(Error::InvalidRequest(
                "the derived length must be a positive whole number of bytes".into(),
            ));
        }
        usize::try_from(bits / 8).map_err(|_| Error::InvalidRequest("length".into()))
    }
}

impl Kms {
    /// Derives a new object from `base`; returns its id.
    pub async fn derive_key(
        &self,
        actor: &Actor,
        project: ProjectId,
        base: ObjectId,
        derivation: &Derivation,
        output: DerivedObject,
        mut template: Template,
    ) -> Result<ObjectId> {
        let len = output.len_bytes()?;
        let (record, base_kek, base_attrs) = self.load_online(project, base).await?;
        let state = lifecycle::effective_state(
            base_attrs.state,
            base_attrs.activation_date,
            base_attrs.deactivation_date,
            OffsetDateTime::now_utc(),
        )
        .0;
        lifecycle::require(state, Operation::Protect)?;
        base_attrs
            .use_period()
            .check(base, Operation::Protect, OffsetDateTime::now_utc())?;
        if !base_attrs
            .cryptographic_usage_mask
            .contains(UsageMask::DERIVE_KEY)
        {
            return Err(Error::UsageNotPermitted(base, "Derive Key"));
        }
        let secret = match codec::material_of(&record, &base_kek)? {
            Some(KeyMaterial::Symmetric(k)) => k,
            Some(KeyMaterial::SecretData { value, .. }) => value,
            _ => {
                return Err(Error::InvalidRequest(
                    "keys are derived from symmetric keys or Secret Data".into(),
                ));
            }
        };
        let derived = derive(derivation, &secret, len)?;
        let (material, algorithm, length) = match output {
            DerivedObject::SymmetricKey(alg, bits) => {
                (KeyMaterial::Symmetric(derived), Some(alg), Some(bits))
            }
            DerivedObject::SecretData(_) => (
                KeyMaterial::SecretData {
                    kind: SecretDataType::Seed,
                    value: derived,
                },
                None,
                None,
            ),
        };
        template.links.push(Link {
            link_type: LinkType::DerivationBaseObjectLink,
            linked_object_id: base.to_string(),
        });
        let now = OffsetDateTime::now_utc();
        let new = build_attributes(project, &material, algorithm, length, template, now)?;
        let mut base_after = base_attrs;
        base_after.links.push(Link {
            link_type: LinkType::DerivedKeyLink,
            linked_object_id: new.unique_identifier.to_string(),
        });
        base_after.last_change_date = crate::object::attributes::truncate_to_second(now);
        base_after.validate()?;
        let kek = self.current_project_kek(project).await?;
        let id = new.unique_identifier;
        let event = |object| {
            actor
                .event("object.derive_key")
                .project(project)
                .object(object)
        };
        let tx = Transaction::new()
            .write(Write::InsertObject(codec::to_record(
                &new,
                1,
                Material::Wrap(&material),
                &kek,
            )?))
            .write(Write::UpdateObject(codec::to_record(
                &base_after,
                record.revision + 1,
                Material::Keep(record.material),
                &base_kek,
            )?))
            .audit(event(id))
            .audit(event(base));
        self.inner.store.commit(tx).await?;
        self.forget(project, base);
        Ok(id)
    }
}

fn derive(derivation: &Derivation, secret: &SecretBytes, len: usize) -> Result<SecretBytes> {
    Ok(match derivation {
        Derivation::Pbkdf2 {
            hash,
            salt,
            iterations,
        } => kdf::pbkdf2(*hash, secret.expose(), salt, *iterations, len)?,
        Derivation::Hmac { hash, data } => kdf::hmac(*hash, secret.expose(), data, len)?,
        Derivation::Hash { hash } => kdf::hash(*hash, secret.expose(), len)?,
    })
}
