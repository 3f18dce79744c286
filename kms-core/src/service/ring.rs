//! The unsealed root key terms of a running install.
//!
//! Usually one term; during root rotation two or more, until every project
//! key has been re-wrapped under the newest. Only the derived wrapping keys
//! are kept hot; the current root key itself stays for deriving the audit key.

use std::collections::HashMap;
use std::sync::Arc;

use crate::crypto::aead::{AeadAlgorithm, AeadKey};
use crate::error::Result;
use crate::hierarchy::{RootError, RootKey};

/// The HKDF purpose of the key that wraps project keys.
const WRAP_PURPOSE: &str = "project-kek-wrap";

pub(super) struct RootRing {
    wrapping: HashMap<u32, Arc<AeadKey>>,
    current: RootKey,
}

impl RootRing {
    pub(super) fn new(root: RootKey) -> Result<Self> {
        Self::from_terms(vec![root], 0)
    }

    /// All unsealed terms; `current` names the one used for new wraps
    /// (0 = the only one given).
    pub(super) fn from_terms(keys: Vec<RootKey>, current: u32) -> Result<Self> {
        let mut wrapping = HashMap::new();
        let mut current_key = None;
        for key in keys {
            let wrap = AeadKey::new(AeadAlgorithm::Aes256Gcm, key.derive(WRAP_PURPOSE).expose())?;
            wrapping.insert(key.term(), Arc::new(wrap));
            if key.term() == current || current == 0 {
                current_key = Some(key);
            }
        }
        let current = current_key.ok_or(RootError::UnknownTerm(current))?;
        Ok(Self { wrapping, current })
    }

    pub(super) fn current_term(&self) -> u32 {
        self.current.term()
    }

    pub(super) fn current_key(&self) -> &RootKey {
        &self.current
    }

    /// The wrapping key of `term`.
    pub(super) fn wrapping_key(&self, term: u32) -> Result<Arc<AeadKey>> {
        Ok(Arc::clone(
            self.wrapping
                .get(&term)
                .ok_or(RootError::UnknownTerm(term))?,
        ))
    }
}
