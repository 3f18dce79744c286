//! Project key-encryption keys.

use aws_lc_rs::hmac;

use super::blob::{self, Binding, BlobError, Purpose, WrappedBy};
use super::root::derive_subkey;
use crate::crypto::aead::{AeadAlgorithm, AeadKey};
use crate::crypto::{CryptoError, SecretBytes, rng};
use crate::ids::{ObjectId, ProjectId};
use crate::store::{ObjectRecord, RecordRow};

/// One version of a project's key-encryption key, unwrapped and ready.
///
/// The raw key is dropped (zeroized) as soon as the two working keys are
/// derived from it: one wraps object material, one authenticates object rows.
pub struct ProjectKek {
    project: ProjectId,
    version: u32,
    material: AeadKey,
    row_mac: hmac::Key,
}

impl ProjectKek {
    /// A fresh project key: returns it and its wrapped form for storage.
    pub fn generate(
        project: ProjectId,
        version: u32,
        root_term: u32,
        root_wrap: &AeadKey,
    ) -> Result<(Self, Vec<u8>), CryptoError> {
        let raw = rng::random_secret(32)?;
        let wrapped = blob::seal(
            root_wrap,
            WrappedBy::RootTerm(root_term),
            &binding(&project, version),
            raw.expose(),
        )?;
        Ok((Self::from_raw(project, version, &raw)?, wrapped))
    }

    /// Opens a stored project key with the root wrapping key of `root_term`.
    pub fn unwrap(
        project: ProjectId,
        version: u32,
        root_term: u32,
        root_wrap: &AeadKey,
        wrapped: &[u8],
    ) -> Result<Self, BlobError> {
        let raw = blob::open(
            root_wrap,
            WrappedBy::RootTerm(root_term),
            &binding(&project, version),
            wrapped,
        )?;
        Self::from_raw(project, version, &raw).map_err(|_| BlobError::Malformed)
    }

    /// Re-wraps a stored project key from one root term to another without
    /// the raw key leaving this function (root rotation and migration).
    pub fn rewrap(
        project: ProjectId,
        version: u32,
        from: (u32, &AeadKey),
        to: (u32, &AeadKey),
        wrapped: &[u8],
    ) -> Result<Vec<u8>, BlobError> {
        let b = binding(&project, version);
        let raw = blob::open(from.1, WrappedBy::RootTerm(from.0), &b, wrapped)?;
        blob::seal(to.1, WrappedBy::RootTerm(to.0), &b, raw.expose())
            .map_err(|_| BlobError::Malformed)
    }

    fn from_raw(project: ProjectId, version: u32, raw: &SecretBytes) -> Result<Self, CryptoError> {
        let material = AeadKey::new(
            AeadAlgorithm::Aes256Gcm,
            derive_subkey(raw.expose(), "object-material").expose(),
        )?;
        let mac = derive_subkey(raw.expose(), "object-row-mac");
        Ok(Self {
            project,
            version,
            material,
            row_mac: hmac::Key::new(hmac::HMAC_SHA256, mac.expose()),
        })
    }

    pub fn project(&self) -> ProjectId {
        self.project
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Wraps an object's encoded key material.
    pub fn wrap_material(
        &self,
        object: &ObjectId,
        material_version: u64,
        secret: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let b = Binding {
            purpose: Purpose::ObjectMaterial,
            owner: object.as_bytes(),
            owner_version: material_version,
        };
        blob::seal(
            &self.material,
            WrappedBy::ProjectKeyVersion(self.version),
            &b,
            secret,
        )
    }

    /// Opens an object's wrapped key material.
    pub fn unwrap_material(
        &self,
        object: &ObjectId,
        material_version: u64,
        blob: &[u8],
    ) -> Result<SecretBytes, BlobError> {
        let b = Binding {
            purpose: Purpose::ObjectMaterial,
            owner: object.as_bytes(),
            owner_version: material_version,
        };
        blob::open(
            &self.material,
            WrappedBy::ProjectKeyVersion(self.version),
            &b,
            blob,
        )
    }

    /// The MAC of an object row: every field but the MAC itself.
    pub fn row_mac(&self, rec: &ObjectRecord) -> Vec<u8> {
        hmac::sign(&self.row_mac, &row_message(rec))
            .as_ref()
            .to_vec()
    }

    /// Whether `rec.mac` authenticates `rec` (constant time).
    pub fn row_is_authentic(&self, rec: &ObjectRecord) -> bool {
        hmac::verify(&self.row_mac, &row_message(rec), &rec.mac).is_ok()
    }
}

impl ProjectKek {
    /// The MAC of a front-end record row: every field but the MAC itself,
    /// under a domain separate from object rows.
    pub fn record_mac(&self, rec: &RecordRow) -> Vec<u8> {
        hmac::sign(&self.row_mac, &record_message(rec))
            .as_ref()
            .to_vec()
    }

    /// Whether `rec.mac` authenticates `rec` (constant time).
    pub fn record_is_authentic(&self, rec: &RecordRow) -> bool {
        hmac::verify(&self.row_mac, &record_message(rec), &rec.mac).is_ok()
    }
}

/// Canonical, length-prefixed bytes of a record row.
fn record_message(r: &RecordRow) -> Vec<u8> {
    let mut m = Vec::with_capacity(96 + r.kind.len() + r.key.len() + r.value.len());
    m.extend_from_slice(b"strongroom/record-row/v1");
    m.extend_from_slice(r.project.as_bytes());
    for part in [r.kind.as_bytes(), r.key.as_bytes(), r.value.as_slice()] {
        m.extend_from_slice(&(part.len() as u64).to_be_bytes());
        m.extend_from_slice(part);
    }
    m.extend_from_slice(&r.revision.to_be_bytes());
    m.extend_from_slice(&r.kek_version.to_be_bytes());
    m
}

impl std::fmt::Debug for ProjectKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProjectKek({}, v{}, ..)", self.project, self.version)
    }
}

fn binding(project: &ProjectId, version: u32) -> Binding<'_> {
    Binding {
        purpose: Purpose::ProjectKek,
        owner: project.as_bytes(),
        owner_version: u64::from(version),
    }
}

/// Canonical, length-prefixed bytes of a row, so no two rows MAC the same.
fn row_message(r: &ObjectRecord) -> Vec<u8> {
    let mut m = Vec::with_capacity(128 + r.attributes.len());
    fn field(m: &mut Vec<u8>, bytes: Option<&[u8]>) {
        match bytes {
            None => m.push(0),
            Some(b) => {
                m.push(1);
                m.extend_from_slice(&(b.len() as u64).to_be_bytes());
                m.extend_from_slice(b);
            }
        }
    }
    m.extend_from_slice(b"strongroom/object-row/v1");
    m.extend_from_slice(r.id.as_bytes());
    m.extend_from_slice(r.project.as_bytes());
    m.extend_from_slice(&r.revision.to_be_bytes());
    m.extend_from_slice(&r.object_type.to_be_bytes());
    field(&mut m, r.name.as_deref().map(str::as_bytes));
    field(
        &mut m,
        r.algorithm.map(u32::to_be_bytes).as_ref().map(|b| &b[..]),
    );
    m.extend_from_slice(&r.state.to_be_bytes());
    m.extend_from_slice(&r.initial_date.to_be_bytes());
    for d in [r.activation_date, r.deactivation_date, r.destroy_date] {
        field(&mut m, d.map(i64::to_be_bytes).as_ref().map(|b| &b[..]));
    }
    m.extend_from_slice(&r.last_change_date.to_be_bytes());
    field(&mut m, Some(&r.attributes));
    field(&mut m, r.material.as_deref());
    m.extend_from_slice(&r.kek_version.to_be_bytes());
    m
}
