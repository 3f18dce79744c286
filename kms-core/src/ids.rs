//! Identifiers of the things Strongroom keeps.
//!
//! Every identifier is a UUID (version 7, so that new rows land at the end of
//! B-tree indexes). They are distinct types so that an object identifier can
//! never be passed where a project identifier is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The 16 raw bytes, used when binding blobs to their owner.
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

identifier!(
    /// The KMIP Unique Identifier of a managed object.
    ObjectId
);
identifier!(
    /// A project: the unit of ownership and isolation. Each project has its own
    /// key-encryption key.
    ProjectId
);
identifier!(
    /// An organization, which owns projects.
    OrganizationId
);
identifier!(
    /// One installation of Strongroom; sealed roots are bound to it.
    InstallId
);
identifier!(
    /// A named, versioned key of the HTTPS API (`service::transit`). Each of
    /// its versions is a managed object with an [`ObjectId`] of its own.
    KeyId
);
