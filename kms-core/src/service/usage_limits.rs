//! Usage Limits (KMIP 1.4 §3.21) and Get Usage Allocation (§4.18).
//!
//! A key with Usage Limits is never used on the strength of the key cache
//! alone. Each protecting use (Encrypt, Sign, MAC, Wrap Key) first spends
//! its cost — the bytes protected, or one per use when the unit is Object —
//! from the count stored in the object's row: the row is read and
//! authenticated, the lifecycle and the Protect Stop Date are checked on
//! it, and the new count is written back, conditional on the revision read,
//! in one transaction with its audit record. Two concurrent spenders read
//! the same revision; one commit wins, the other is retried against the
//! new count. So the count never goes below zero and a unit is never spent
//! twice, by one process or by several sharing a database.
//!
//! Units are spent before the operation runs: an operation that then fails
//! (bad input, say) has still spent them. The count errs towards less
//! protection applied, never more.
//!
//! Processing uses (Decrypt, Verify, MAC Verify) are not limited, as §3.21
//! says.

use time::OffsetDateTime;

use super::codec::{self, Material};
use super::keys::UsableKey;
use super::objects::failure_code;
use super::{Actor, Kms};
use crate::error::{Error, Result};
use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::{self, Operation};
use crate::object::UsageLimits;
use crate::object::attributes::truncate_to_second;
use crate::store::{StoreError, Transaction, Write};

/// How often a spend that lost a race to a concurrent writer is retried.
/// Every lost race means another writer committed, so this bounds only
/// how many writers one spend waits behind.
const SPEND_RETRIES: usize = 64;

/// What a spend takes from the count.
#[derive(Clone, Copy, Debug)]
enum Amount {
    /// One use over this many bytes: its cost depends on the unit.
    Use { bytes: usize },
    /// A client's allocation, in units.
    Units(i64),
}

impl Kms {
    /// Spends the cost of protecting `bytes` bytes if `key` has Usage
    /// Limits; a key without them costs nothing and reads nothing.
    pub(super) async fn spend_if_limited(
        &self,
        actor: &Actor,
        key: &UsableKey,
        bytes: usize,
    ) -> Result<()> {
        if !key.limited() {
            return Ok(());
        }
        self.spend_usage(actor, key.project(), key.id(), bytes)
            .await
    }

    /// Spends the cost of protecting `bytes` bytes from `id`'s stored Usage
    /// Limits. Nothing happens when the object has none.
    pub(super) async fn spend_usage(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        bytes: usize,
    ) -> Result<()> {
        self.take(
            actor,
            project,
            id,
            Amount::Use { bytes },
            "key.usage_limits.spend",
        )
        .await
        .map(drop)
    }

    /// KMIP Get Usage Allocation: takes `units` from the Usage Limits Count
    /// for a client that protects data itself. Refused when the object has
    /// no Usage Limits, may not apply protection now, or has fewer units
    /// left. Returns the limits after the allocation. Audited.
    pub async fn allocate_usage(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        units: i64,
    ) -> Result<UsageLimits> {
        let action = "key.usage_limits.allocate";
        let result = match units {
            1.. => self
                .take(actor, project, id, Amount::Units(units), action)
                .await
                .and_then(|left| {
                    left.ok_or_else(|| {
                        Error::InvalidRequest(format!(
                            "object {id} has no Usage Limits to allocate from"
                        ))
                    })
                }),
            _ => Err(Error::InvalidAttribute {
                name: "Usage Limits Count",
                reason: "an allocation must be at least one unit".into(),
            }),
        };
        if let Err(e) = &result {
            let failed = actor
                .event(action)
                .project(project)
                .object(id)
                .result(failure_code(e));
            // Best effort: the failure itself is what the caller sees.
            let _ = self.inner.audit.record(failed).await;
        }
        result
    }

    /// Takes `amount` from the stored count, retrying lost races. `None`
    /// when the object has no Usage Limits.
    async fn take(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        amount: Amount,
        action: &'static str,
    ) -> Result<Option<UsageLimits>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.take_once(actor, project, id, amount, action).await {
                Err(Error::Store(StoreError::Conflict(_))) if attempt < SPEND_RETRIES => {
                    tokio::task::yield_now().await;
                }
                result => return result,
            }
        }
    }

    async fn take_once(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        amount: Amount,
        action: &'static str,
    ) -> Result<Option<UsageLimits>> {
        let (record, kek, mut a) = self.load_online(project, id).await?;
        let now = OffsetDateTime::now_utc();
        let state =
            lifecycle::effective_state(a.state, a.activation_date, a.deactivation_date, now).0;
        lifecycle::require(state, Operation::Protect)?;
        a.use_period().check(id, Operation::Protect, now)?;
        let Some(limits) = a.usage_limits.as_mut() else {
            return Ok(None);
        };
        let cost = match amount {
            Amount::Use { bytes } => limits.cost(bytes),
            Amount::Units(units) => units,
        };
        if cost > limits.count {
            return Err(Error::UsageLimitExhausted(id, cost, limits.count));
        }
        limits.count -= cost;
        let left = *limits;
        a.last_change_date = truncate_to_second(now);
        let tx = Transaction::new()
            .write(Write::UpdateObject(codec::to_record(
                &a,
                record.revision + 1,
                Material::Keep(record.material),
                &kek,
            )?))
            .audit(
                actor
                    .event(action)
                    .project(project)
                    .object(id)
                    .result("success"),
            );
        self.inner.store.commit(tx).await?;
        // The prepared key only knows that limits exist; the object cache
        // holds the count Get reports.
        self.inner.objects.invalidate(project, id);
        Ok(Some(left))
    }
}
