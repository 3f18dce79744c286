//! The unsealed root key terms of a running install.
//!
//! Usually one term; during a root rotation two or more, until every project
//! key has been re-wrapped under the newest. Only derived keys are kept: the
//! wrapping key of each term (for project keys) and its audit key (for the
//! audit chain head). The raw root keys are dropped, and zeroized, once
//! these are derived.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::audit::AuditChain;
use crate::crypto::SecretBytes;
use crate::crypto::aead::{AeadAlgorithm, AeadKey};
use crate::error::Result;
use crate::hierarchy::{RootError, RootKey};

/// The HKDF purpose of the key that wraps project keys.
const WRAP_PURPOSE: &str = "project-kek-wrap";
/// The HKDF purpose of the audit key.
const AUDIT_PURPOSE: &str = "audit-chain";

pub(super) struct RootRing {
    terms: RwLock<Terms>,
}

struct Terms {
    keys: BTreeMap<u32, TermKeys>,
    current: u32,
}

struct TermKeys {
    wrapping: Arc<AeadKey>,
    audit: SecretBytes,
}

impl TermKeys {
    fn derive(root: &RootKey) -> Result<Self> {
        Ok(Self {
            wrapping: Arc::new(AeadKey::new(
                AeadAlgorithm::Aes256Gcm,
                root.derive(WRAP_PURPOSE).expose(),
            )?),
            audit: root.derive(AUDIT_PURPOSE),
        })
    }
}

impl RootRing {
    pub(super) fn new(root: RootKey) -> Result<Self> {
        let current = root.term();
        Self::from_terms(vec![root], current)
    }

    /// All unsealed terms; `current` names the one used for new wraps.
    pub(super) fn from_terms(roots: Vec<RootKey>, current: u32) -> Result<Self> {
        let mut keys = BTreeMap::new();
        for root in &roots {
            keys.insert(root.term(), TermKeys::derive(root)?);
        }
        if !keys.contains_key(&current) {
            return Err(RootError::UnknownTerm(current).into());
        }
        Ok(Self {
            terms: RwLock::new(Terms { keys, current }),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Terms> {
        // A poisoned lock means a panic elsewhere while the map was being
        // replaced whole; the map itself is never left half-written.
        self.terms.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Terms> {
        self.terms.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn current_term(&self) -> u32 {
        self.read().current
    }

    /// The terms held, oldest first.
    pub(super) fn terms(&self) -> Vec<u32> {
        self.read().keys.keys().copied().collect()
    }

    /// The wrapping key of `term`.
    pub(super) fn wrapping_key(&self, term: u32) -> Result<Arc<AeadKey>> {
        self.read()
            .keys
            .get(&term)
            .map(|k| Arc::clone(&k.wrapping))
            .ok_or_else(|| RootError::UnknownTerm(term).into())
    }

    /// Adds `root` and makes it the current term.
    pub(super) fn add_current(&self, root: &RootKey) -> Result<()> {
        let keys = TermKeys::derive(root)?;
        let mut terms = self.write();
        terms.keys.insert(root.term(), keys);
        terms.current = root.term();
        Ok(())
    }

    /// Drops every term but the current one.
    pub(super) fn retire_old_terms(&self) {
        let mut terms = self.write();
        let current = terms.current;
        terms.keys.retain(|term, _| *term == current);
    }

    /// An audit chain that seals with the current term's audit key and
    /// accepts heads sealed with an older held term's.
    pub(super) fn audit_chain(&self) -> AuditChain {
        let terms = self.read();
        let (current, older) = terms.audit_keys();
        AuditChain::with_older_keys(current, &older)
    }

    /// Gives `chain` this ring's audit keys.
    pub(super) fn update_chain(&self, chain: &AuditChain) {
        let terms = self.read();
        let (current, older) = terms.audit_keys();
        chain.set_keys(current, &older);
    }
}

impl Terms {
    fn audit_keys(&self) -> (&[u8], Vec<&[u8]>) {
        let mut current: &[u8] = &[];
        let mut older = Vec::new();
        for (term, keys) in &self.keys {
            if *term == self.current {
                current = keys.audit.expose();
            } else {
                older.push(keys.audit.expose());
            }
        }
        (current, older)
    }
}
