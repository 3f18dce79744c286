//! Archive and Recover (KMIP 1.4 §4.20, §4.21): moving an object off-line
//! and back.
//!
//! Strongroom keeps an archived object where it was, in its row: the
//! Archive Date attribute is what makes it off-line. Because that date
//! lives in the row's attributes, it is covered by the row MAC like every
//! other attribute — an archived object cannot be brought back on-line by
//! editing the database — and it needs no column of its own: Locate
//! compares storage status on the authenticated attributes, as it does
//! every attribute the store does not index, and no existing row had to be
//! rewritten or re-MACed when the attribute appeared (a row without it is
//! on-line).
//!
//! While archived, every operation that names the object answers
//! [`Error::ObjectArchived`] (KMIP Result Reason "Object Archived"), except
//! Recover and Locate with the archival bit of the Storage Status Mask; the
//! date-driven sweep still applies due Activation and Deactivation Dates,
//! since dates pass whether or not an object is on-line. Archive drops the
//! object's cached key, so the key path refuses it at once on this node
//! (other nodes sharing the database within the key cache's TTL).
//!
//! Archive of an archived object is Object Archived, as §11.23 says; Recover
//! of an on-line object changes nothing and succeeds.

use time::OffsetDateTime;

use super::codec::{self, Material};
use super::objects::failure_code;
use super::{Actor, Kms};
use crate::error::Result;
use crate::ids::{ObjectId, ProjectId};
use crate::object::Attributes;
use crate::object::attributes::truncate_to_second;
use crate::store::{Transaction, Write};

impl Kms {
    /// KMIP Archive: takes the object off-line and sets its Archive Date.
    /// Any state may be archived, including Destroyed (its attributes are
    /// what remains). Audited in the transaction of the change.
    pub async fn archive(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
    ) -> Result<Attributes> {
        let result = self
            .set_storage(actor, project, id, "object.archive", |a, now| {
                a.require_online()?;
                a.archive_date = Some(now);
                Ok(true)
            })
            .await;
        self.audit_failure(actor, project, id, "object.archive", &result)
            .await;
        result
    }

    /// KMIP Recover: brings an archived object back on-line and removes its
    /// Archive Date. An on-line object is left as it is.
    pub async fn recover(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
    ) -> Result<Attributes> {
        let result = self
            .set_storage(actor, project, id, "object.recover", |a, _| {
                Ok(a.archive_date.take().is_some())
            })
            .await;
        self.audit_failure(actor, project, id, "object.recover", &result)
            .await;
        result
    }

    /// Reads the object (archived or not), lets `change` update it and say
    /// whether it did, and commits a change with its audit record.
    async fn set_storage(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        action: &'static str,
        change: impl FnOnce(&mut Attributes, OffsetDateTime) -> Result<bool>,
    ) -> Result<Attributes> {
        let (record, kek) = self.load(project, id).await?;
        let mut a = codec::attributes_of(&record, &kek)?;
        let now = truncate_to_second(OffsetDateTime::now_utc());
        if !change(&mut a, now)? {
            return Ok(a);
        }
        a.last_change_date = now;
        let tx = Transaction::new()
            .write(Write::UpdateObject(codec::to_record(
                &a,
                record.revision + 1,
                Material::Keep(record.material),
                &kek,
            )?))
            .audit(actor.event(action).project(project).object(id));
        self.inner.store.commit(tx).await?;
        self.forget(project, id);
        Ok(a)
    }

    /// Records a refused Archive or Recover; a success was audited with
    /// its change.
    async fn audit_failure<T>(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        action: &'static str,
        result: &Result<T>,
    ) {
        if let Err(e) = result {
            let failed = actor
                .event(action)
                .project(project)
                .object(id)
                .result(failure_code(e));
            // Best effort: the failure itself is what the caller sees.
            let _ = self.inner.audit.record(failed).await;
        }
    }
}
