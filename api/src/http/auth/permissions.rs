//! Permissions and roles.
//!
//! A permission is a resource and an action (`keys` × `use`). A role is a
//! set of permissions. Three roles are built in and every project has them;
//! a project may define custom roles (`/api/v1/projects/{id}/roles`) made
//! of any permissions.
//!
//! | role | may |
//! |---|---|
//! | `admin` | everything in the project |
//! | `developer` | use, create, edit and rotate keys (not delete them); read and create KMIP clients; read, use certificate authorities; everything on secrets; read identities, memberships and roles |
//! | `viewer` | read keys, KMIP clients, certificate authorities, secrets, identities, memberships and roles |
//!
//! Resources and actions are closed vocabularies: a role naming an
//! unknown one is refused when it is written, and one read back from a
//! later version is dropped rather than granted.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a permission is about.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// Managed keys and the operations with them.
    Keys,
    /// The project's KMIP clients and their certificates.
    KmipClients,
    /// Which identities the project's members are (reading their details).
    Identities,
    /// The project's custom roles.
    Roles,
    /// The project's identity memberships and the roles they hold.
    Memberships,
    /// The project's audit log.
    AuditLog,
    /// Certificate authorities of the project.
    CertificateAuthorities,
    /// Secrets stored in the project.
    Secrets,
    /// The project itself (deleting it).
    Project,
}

/// What may be done to a resource.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Read,
    Create,
    Edit,
    Delete,
    /// Encrypt, decrypt, sign, verify, MAC: using a key without changing it.
    Use,
    Rotate,
}

impl Resource {
    pub const ALL: [Resource; 9] = [
        Resource::Keys,
        Resource::KmipClients,
        Resource::Identities,
        Resource::Roles,
        Resource::Memberships,
        Resource::AuditLog,
        Resource::CertificateAuthorities,
        Resource::Secrets,
        Resource::Project,
    ];
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Read,
        Action::Create,
        Action::Edit,
        Action::Delete,
        Action::Use,
        Action::Rotate,
    ];
}

/// One permission.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub resource: Resource,
    pub action: Action,
}

impl Permission {
    pub const fn new(resource: Resource, action: Action) -> Self {
        Self { resource, action }
    }
}

pub type Permissions = BTreeSet<Permission>;

/// The built-in roles' slugs.
pub const ADMIN: &str = "admin";
pub const DEVELOPER: &str = "developer";
pub const VIEWER: &str = "viewer";
pub const BUILT_IN: [&str; 3] = [ADMIN, DEVELOPER, VIEWER];

/// The permissions of a built-in role; `None` for any other slug.
pub fn built_in(slug: &str) -> Option<Permissions> {
    use Action::*;
    use Resource::*;
    let grant = |pairs: &[(Resource, &[Action])]| -> Permissions {
        pairs
            .iter()
            .flat_map(|(r, actions)| actions.iter().map(|a| Permission::new(*r, *a)))
            .collect()
    };
    match slug {
        ADMIN => Some(
            Resource::ALL
                .iter()
                .flat_map(|r| Action::ALL.iter().map(|a| Permission::new(*r, *a)))
                .collect(),
        ),
        DEVELOPER => Some(grant(&[
            (Keys, &[Read, Create, Edit, Use, Rotate]),
            (KmipClients, &[Read, Create]),
            (CertificateAuthorities, &[Read, Use]),
            (Secrets, &[Read, Create, Edit, Delete]),
            (Identities, &[Read]),
            (Memberships, &[Read]),
            (Roles, &[Read]),
        ])),
        VIEWER => Some(grant(&[
            (Keys, &[Read]),
            (KmipClients, &[Read]),
            (CertificateAuthorities, &[Read]),
            (Secrets, &[Read]),
            (Identities, &[Read]),
            (Memberships, &[Read]),
            (Roles, &[Read]),
        ])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_roles_nest() {
        let admin = built_in(ADMIN).unwrap();
        let developer = built_in(DEVELOPER).unwrap();
        let viewer = built_in(VIEWER).unwrap();
        assert_eq!(admin.len(), Resource::ALL.len() * Action::ALL.len());
        assert!(viewer.is_subset(&developer) && developer.is_subset(&admin));
        assert!(!developer.contains(&Permission::new(Resource::Keys, Action::Delete)));
        assert!(viewer.iter().all(|p| p.action == Action::Read));
        assert!(built_in("owner").is_none());
    }

    #[test]
    fn permissions_are_kebab_case_json() {
        let p = Permission::new(Resource::KmipClients, Action::Use);
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"resource": "kmip-clients", "action": "use"})
        );
        assert!(
            serde_json::from_value::<Permission>(
                serde_json::json!({"resource": "kms", "action": "use"})
            )
            .is_err()
        );
    }
}
