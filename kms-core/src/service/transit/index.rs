//! The per-project list index: what listing sorts and filters on.
//!
//! Listing must sort, search and count a project's keys (10,000 of them is a
//! normal size) on every call. Reading and authenticating every key record
//! per call would make a list cost a full scan, so the first list of a
//! project scans once and keeps `(id, name, created, updated)` per key in a
//! bounded cache with the metadata cache's time-to-live. Writes made by this
//! process update the index in place; writes made by another node reach it
//! when the entry expires, as for every cached key. A page then reads only
//! its own keys' documents (through the metadata cache).
//!
//! A scan that raced with a local write is not cached (a generation counter
//! tells), so the index never keeps a view older than a write it missed.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Transit;
use super::error::TransitResult;
use super::model::{KeyDocument, ListQuery, OrderBy, OrderDirection};
use super::storage::{KIND_KEY, Stored};
use crate::cache::KeyCache;
use crate::ids::{KeyId, ObjectId, ProjectId};

/// The transit layer's caches, held by the service.
pub(crate) struct TransitState {
    /// Key documents by `(project, key id)`.
    pub(super) keys: KeyCache<Stored>,
    /// One list index per project.
    lists: KeyCache<ListIndex>,
    /// Bumped by every local write, so a scan can tell it raced one.
    generation: AtomicU64,
    /// Key id → project (see `directory`), without time-to-live.
    pub(super) directory: quick_cache::sync::Cache<KeyId, ProjectId>,
}

impl TransitState {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            keys: KeyCache::new(capacity, ttl),
            lists: KeyCache::new(capacity.clamp(1, 1024), ttl),
            generation: AtomicU64::new(0),
            directory: quick_cache::sync::Cache::new(capacity.max(1)),
        }
    }
}

/// The index's slot in the per-project cache (one entry per project).
const SLOT: ObjectId = ObjectId::from_uuid(uuid::Uuid::nil());

#[derive(Clone, Debug)]
struct Entry {
    id: KeyId,
    name: String,
    /// Lower-cased once, for case-insensitive search.
    folded: String,
    created_at: i64,
    updated_at: i64,
}

impl Entry {
    fn of(doc: &KeyDocument) -> Self {
        Self {
            id: doc.id,
            name: doc.name.clone(),
            folded: doc.name.to_lowercase(),
            created_at: doc.created_at,
            updated_at: doc.updated_at,
        }
    }
}

pub(crate) struct ListIndex {
    entries: Mutex<HashMap<KeyId, Entry>>,
}

impl ListIndex {
    /// The ids of one page, and how many keys match in all.
    fn page(&self, query: &ListQuery) -> (Vec<KeyId>, u64) {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let needle = query
            .search
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        let mut matching: Vec<&Entry> = entries
            .values()
            .filter(|e| needle.as_deref().is_none_or(|n| e.folded.contains(n)))
            .collect();
        matching.sort_unstable_by(|a, b| {
            let order = compare(a, b, query.order_by);
            match query.direction {
                OrderDirection::Ascending => order,
                OrderDirection::Descending => order.reverse(),
            }
        });
        let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let ids = matching
            .iter()
            .skip(offset)
            .take(limit)
            .map(|e| e.id)
            .collect();
        (ids, matching.len() as u64)
    }
}

fn compare(a: &Entry, b: &Entry, by: OrderBy) -> Ordering {
    let primary = match by {
        OrderBy::Name => a.name.cmp(&b.name),
        OrderBy::CreatedAt => a.created_at.cmp(&b.created_at),
        OrderBy::UpdatedAt => a.updated_at.cmp(&b.updated_at),
    };
    // Ties broken by id, so pages never overlap or skip a key.
    primary.then_with(|| a.id.cmp(&b.id))
}

impl Transit {
    /// The ids of one page of `project`'s keys, and the total that match.
    pub(super) async fn page_ids(
        &self,
        project: ProjectId,
        query: &ListQuery,
    ) -> TransitResult<(Vec<KeyId>, u64)> {
        let state = &self.kms.inner.transit;
        if let Some(index) = state.lists.get(project, SLOT) {
            return Ok(index.page(query));
        }
        let generation = state.generation.load(AtomicOrdering::Acquire);
        let docs: Vec<(i64, KeyDocument)> = self.kms.typed_records(project, KIND_KEY).await?;
        let entries = docs
            .iter()
            .map(|(_, d)| (d.id, Entry::of(d)))
            .collect::<HashMap<_, _>>();
        let index = Arc::new(ListIndex {
            entries: Mutex::new(entries),
        });
        if state.generation.load(AtomicOrdering::Acquire) == generation {
            state.lists.insert(project, SLOT, Arc::clone(&index));
        }
        Ok(index.page(query))
    }

    /// Records a committed write in the index: `Some(doc)` for the key as
    /// written, `None` for key `id` deleted.
    pub(super) fn index_written(&self, project: ProjectId, id: KeyId, doc: Option<&KeyDocument>) {
        let state = &self.kms.inner.transit;
        state.generation.fetch_add(1, AtomicOrdering::AcqRel);
        if let Some(index) = state.lists.get(project, SLOT) {
            let mut entries = index.entries.lock().unwrap_or_else(|p| p.into_inner());
            match doc {
                Some(doc) => entries.insert(id, Entry::of(doc)),
                None => entries.remove(&id),
            };
        }
    }

    /// Drops `project`'s index (a write failed in a way that says another
    /// writer got there first).
    pub(super) fn index_forget(&self, project: ProjectId) {
        let state = &self.kms.inner.transit;
        state.generation.fetch_add(1, AtomicOrdering::AcqRel);
        state.lists.invalidate(project, SLOT);
    }
}
