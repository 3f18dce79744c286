//! The SQLite writer's cache of `audit_names`: string → id.
//!
//! SQLite stores each distinct audit string (actor, action, object,
//! project, result, source) once and records hold ids (migration 0004).
//! The writer's bulk insert binds those ids, so it needs them without a
//! query per field: this cache holds the ids it has seen committed.
//!
//! A name the writer inserts inside a batch is *pending* until that batch
//! commits: a rollback (of the batch, or of one caller's savepoint) takes
//! the row away again, and a cached id for it would point at nothing. So
//! pending ids are promoted at commit and forgotten at any rollback.
//! Forgetting too much is harmless: the next lookup asks the database,
//! which returns the existing id.

use std::collections::HashMap;

/// Most names kept; past this the cache starts over (ids stay valid in the
/// database, the cache only saves queries). Keys and client addresses are
/// unbounded, memory is not.
const CAPACITY: usize = 65_536;

#[derive(Default)]
pub(super) struct AuditNames {
    committed: HashMap<Box<str>, i64>,
    pending: HashMap<Box<str>, i64>,
}

impl AuditNames {
    /// The id of `name`, if this cache knows it for the current batch.
    pub(super) fn get(&self, name: &str) -> Option<i64> {
        self.committed
            .get(name)
            .or_else(|| self.pending.get(name))
            .copied()
    }

    /// An id the current batch wrote or read from the database.
    pub(super) fn add_pending(&mut self, name: &str, id: i64) {
        self.pending.insert(name.into(), id);
    }

    /// The batch committed: its names are durable.
    pub(super) fn commit(&mut self) {
        if self.committed.len() + self.pending.len() > CAPACITY {
            self.committed.clear();
        }
        self.committed.extend(self.pending.drain());
    }

    /// Something was rolled back (or its outcome is unknown).
    pub(super) fn forget_pending(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_names_live_only_through_commit() {
        let mut n = AuditNames::default();
        n.add_pending("a", 1);
        assert_eq!(n.get("a"), Some(1));
        n.forget_pending();
        assert_eq!(n.get("a"), None);
        n.add_pending("a", 1);
        n.commit();
        n.forget_pending();
        assert_eq!(n.get("a"), Some(1));
    }

    #[test]
    fn the_cache_is_bounded() {
        let mut n = AuditNames::default();
        for i in 0..=CAPACITY as i64 {
            n.add_pending(&i.to_string(), i);
        }
        n.commit();
        n.add_pending("last", 1);
        n.commit();
        assert!(n.committed.len() <= CAPACITY);
        assert_eq!(n.get("last"), Some(1));
    }
}
