//! The cache of unwrapped keys.
//!
//! Unwrapping a key costs a database read, a project-key lookup and an
//! AES-GCM open; keeping the prepared key (an expanded AES schedule, a parsed
//! private key) in memory makes a cached encrypt cost little more than the
//! cipher itself.
//!
//! * **Bounded**: at most `capacity` entries (S3-FIFO eviction from
//!   `quick_cache`). An evicted entry is dropped, and its key material is
//!   zeroized when the last in-flight user lets go of it.
//! * **Isolated**: entries are keyed by `(project, object)`; a lookup must
//!   name the caller's project, so one project can never reach another's
//!   entry, even with a guessed object id.
//! * **Invalidated** by the service on revoke, destroy, rotation, attribute
//!   changes and project-key changes; entries also expire after `ttl`, which
//!   bounds how long a change made by another node sharing the database
//!   takes to apply here.
//! * **Never stale by race**: a reader notes the cache's generation before
//!   it reads the database and inserts only if no invalidation happened in
//!   between ([`KeyCache::insert_since`]); otherwise a read that started
//!   before a revoke could cache the pre-revoke key after the revoke
//!   invalidated it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

use crate::ids::{ObjectId, ProjectId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct CacheKey {
    project: ProjectId,
    object: ObjectId,
}

struct Entry<V> {
    value: Arc<V>,
    loaded: Instant,
}

// Derived Clone would demand `V: Clone`; only the Arc is cloned.
impl<V> Clone for Entry<V> {
    fn clone(&self) -> Self {
        Self {
            value: Arc::clone(&self.value),
            loaded: self.loaded,
        }
    }
}

/// Hit and miss counts, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: u64,
}

/// A bounded, project-isolated cache of prepared keys.
pub struct KeyCache<V> {
    entries: Cache<CacheKey, Entry<V>>,
    ttl: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Bumped by every invalidation (see the module docs).
    generation: AtomicU64,
}

impl<V> KeyCache<V> {
    /// A cache of at most `capacity` keys, each kept at most `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            entries: Cache::new(capacity.max(1)),
            ttl,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    /// The cached key of `object` in `project`, if present and fresh.
    pub fn get(&self, project: ProjectId, object: ObjectId) -> Option<Arc<V>> {
        let key = CacheKey { project, object };
        match self.entries.get(&key) {
            Some(e) if e.loaded.elapsed() < self.ttl => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(e.value)
            }
            Some(_) => {
                self.entries.remove(&key);
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Caches `value` as the key of `object` in `project`.
    pub fn insert(&self, project: ProjectId, object: ObjectId, value: Arc<V>) {
        self.entries.insert(
            CacheKey { project, object },
            Entry {
                value,
                loaded: Instant::now(),
            },
        );
    }

    /// The generation to pass to [`KeyCache::insert_since`]: read it
    /// before reading what will be cached.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches `value` unless an invalidation happened since `generation`
    /// was read, in which case `value` may predate it and is not kept.
    pub fn insert_since(
        &self,
        project: ProjectId,
        object: ObjectId,
        value: Arc<V>,
        generation: u64,
    ) {
        if self.generation() != generation {
            return;
        }
        self.insert(project, object, value);
        // An invalidation that bumped the generation between the check and
        // the insert may have run its removal before the insert landed.
        if self.generation() != generation {
            self.entries.remove(&CacheKey { project, object });
        }
    }

    /// Drops the entry of one object.
    pub fn invalidate(&self, project: ProjectId, object: ObjectId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.remove(&CacheKey { project, object });
    }

    /// Drops every entry of a project (its key-encryption key changed).
    pub fn invalidate_project(&self, project: ProjectId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.retain(|k, _| k.project != project);
    }

    /// Drops everything (root key change).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.entries.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_are_isolated() {
        let cache = KeyCache::new(16, Duration::from_secs(60));
        let (a, b) = (ProjectId::generate(), ProjectId::generate());
        let o = ObjectId::generate();
        cache.insert(a, o, Arc::new("key of a"));
        assert_eq!(cache.get(a, o).as_deref(), Some(&"key of a"));
        assert!(
            cache.get(b, o).is_none(),
            "another project must not see the entry"
        );
    }

    #[test]
    fn invalidation() {
        let cache = KeyCache::new(16, Duration::from_secs(60));
        let (a, b) = (ProjectId::generate(), ProjectId::generate());
        let (o1, o2, o3) = (
            ObjectId::generate(),
            ObjectId::generate(),
            ObjectId::generate(),
        );
        cache.insert(a, o1, Arc::new(1));
        cache.insert(a, o2, Arc::new(2));
        cache.insert(b, o3, Arc::new(3));
        cache.invalidate(a, o1);
        assert!(cache.get(a, o1).is_none());
        assert!(cache.get(a, o2).is_some());
        cache.invalidate_project(a);
        assert!(cache.get(a, o2).is_none());
        assert!(cache.get(b, o3).is_some());
        cache.clear();
        assert!(cache.get(b, o3).is_none());
    }

    #[test]
    fn a_read_that_straddles_an_invalidation_is_not_cached() {
        let cache = KeyCache::new(16, Duration::from_secs(60));
        let (p, o) = (ProjectId::generate(), ObjectId::generate());
        let before = cache.generation();
        // Another task revokes the object while this one reads the old row.
        cache.invalidate(p, o);
        cache.insert_since(p, o, Arc::new("pre-revoke"), before);
        assert!(cache.get(p, o).is_none());
        let now = cache.generation();
        cache.insert_since(p, o, Arc::new("post-revoke"), now);
        assert_eq!(cache.get(p, o).as_deref(), Some(&"post-revoke"));
    }

    #[test]
    fn bounded_and_expiring() {
        let cache = KeyCache::new(8, Duration::from_secs(60));
        let p = ProjectId::generate();
        for i in 0..1000 {
            cache.insert(p, ObjectId::generate(), Arc::new(i));
        }
        assert!(
            cache.stats().entries <= 16,
            "capacity is approximate but bounded"
        );

        let expiring = KeyCache::new(8, Duration::ZERO);
        let o = ObjectId::generate();
        expiring.insert(p, o, Arc::new(1));
        assert!(expiring.get(p, o).is_none());
    }
}
