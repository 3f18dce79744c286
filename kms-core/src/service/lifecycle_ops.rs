//! Activate, Revoke, Destroy, and the date-driven sweep.

use std::time::Duration;

use time::OffsetDateTime;

use super::codec::{self, Material};
use super::{Actor, Kms};
use crate::error::{Error, Result};
use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::{self, Event, State};
use crate::object::attributes::truncate_to_second;
use crate::object::{Attributes, KeyMaterial, RevocationReason, RevocationReasonCode};
use crate::store::{ObjectQuery, StoreError, Transaction, Write};

/// How often a conflicting concurrent update is retried before giving up.
const CONFLICT_RETRIES: usize = 3;

fn event_action(event: Event) -> &'static str {
    match event {
        Event::Activate => "object.activate",
        Event::ActivationDateReached => "object.activate.by_date",
        Event::DeactivationDateReached => "object.deactivate.by_date",
        Event::Revoke { compromised: true } => "object.revoke.compromised",
        Event::Revoke { compromised: false } => "object.revoke",
        Event::Destroy => "object.destroy",
    }
}

impl Kms {
    /// KMIP Activate: Pre-Active → Active, Activation Date = now.
    pub async fn activate(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
    ) -> Result<Attributes> {
        self.apply(actor, project, id, Some(Event::Activate), |a, now| {
            a.activation_date = Some(now)
        })
        .await
    }

    /// KMIP Revoke. A compromise reason moves the object to Compromised and
    /// records the Compromise (Occurrence) Date; any other reason deactivates.
    pub async fn revoke(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        reason: RevocationReason,
        compromise_occurrence: Option<OffsetDateTime>,
    ) -> Result<Attributes> {
        let compromised = matches!(
            reason.code,
            RevocationReasonCode::KeyCompromise | RevocationReasonCode::CaCompromise
        );
        self.apply(
            actor,
            project,
            id,
            Some(Event::Revoke { compromised }),
            move |a, now| {
                if compromised {
                    a.compromise_date = Some(now);
                    a.compromise_occurrence_date =
                        Some(compromise_occurrence.map_or(now, truncate_to_second));
                } else if a.deactivation_date.is_none_or(|d| d > now) {
                    a.deactivation_date = Some(now);
                }
                a.revocation_reason = Some(reason.clone());
            },
        )
        .await
    }

    /// KMIP Destroy: the key material is erased from the row; the
    /// attributes stay, as KMIP requires.
    pub async fn destroy(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
    ) -> Result<Attributes> {
        self.apply(actor, project, id, Some(Event::Destroy), |a, now| {
            a.destroy_date = Some(now)
        })
        .await
    }

    /// Applies the date-driven transitions that are due, then `event`.
    async fn apply(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        event: Option<Event>,
        set: impl Fn(&mut Attributes, OffsetDateTime),
    ) -> Result<Attributes> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.apply_once(actor, project, id, event, &set).await {
                Err(Error::Store(StoreError::Conflict(_))) if attempt < CONFLICT_RETRIES => {
                    continue;
                }
                result => {
                    if let (Err(e), Some(ev)) = (&result, event) {
                        let failed = actor
                            .event(event_action(ev))
                            .project(project)
                            .object(id)
                            .result(super::objects::failure_code(e));
                        // Best effort: the failure itself is what the caller sees.
                        let _ = self.inner.audit.record(failed).await;
                    }
                    return result;
                }
            }
        }
    }

    async fn apply_once(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        event: Option<Event>,
        set: &impl Fn(&mut Attributes, OffsetDateTime),
    ) -> Result<Attributes> {
        let (record, kek) = self.load(project, id).await?;
        let mut a = codec::attributes_of(&record, &kek)?;
        // The sweep (no event) applies due dates to archived objects too;
        // a client's Activate, Revoke or Destroy needs the object on-line.
        if event.is_some() {
            a.require_online()?;
        }
        let now = truncate_to_second(OffsetDateTime::now_utc());
        let (state, mut events) =
            lifecycle::effective_state(a.state, a.activation_date, a.deactivation_date, now);
        a.state = state;
        if let Some(ev) = event {
            a.state = lifecycle::transition(a.state, ev)?;
            set(&mut a, now);
            events.push(ev);
        }
        if events.is_empty() {
            return Ok(a);
        }
        a.last_change_date = now;
        let destroyed = matches!(a.state, State::Destroyed | State::DestroyedCompromised);
        // An HSM-resident key is deleted from the token once the row no
        // longer records it (see `resident_ops`).
        let resident = match destroyed {
            true => match codec::material_of(&record, &kek)? {
                Some(KeyMaterial::Resident(r)) => Some(r),
                _ => None,
            },
            false => None,
        };
        let material = if destroyed {
            Material::Keep(None)
        } else {
            Material::Keep(record.material)
        };
        let mut tx = Transaction::new().write(Write::UpdateObject(codec::to_record(
            &a,
            record.revision + 1,
            material,
            &kek,
        )?));
        for ev in events {
            let who = if event == Some(ev) {
                actor.clone()
            } else {
                Actor::system()
            };
            tx = tx.audit(who.event(event_action(ev)).project(project).object(id));
        }
        self.inner.store.commit(tx).await?;
        self.forget(project, id);
        if let Some(r) = resident {
            self.destroy_resident(actor, project, id, &r).await;
        }
        Ok(a)
    }

    /// Persists date-driven transitions that are due, across all projects.
    /// Reads already apply them on the fly; the sweep makes them durable and
    /// audited. Returns how many objects changed.
    pub async fn sweep_lifecycle(&self) -> Result<usize> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut changed = 0;
        for (state, query) in [
            (
                State::PreActive,
                ObjectQuery {
                    activation_due_by: Some(now),
                    ..Default::default()
                },
            ),
            (
                State::Active,
                ObjectQuery {
                    deactivation_due_by: Some(now),
                    ..Default::default()
                },
            ),
        ] {
            let query = ObjectQuery {
                state: Some(state.to_kmip()),
                limit: 1000,
                ..query
            };
            for record in self.inner.store.find_objects(&query).await? {
                match self
                    .apply(&Actor::system(), record.project, record.id, None, |_, _| {})
                    .await
                {
                    Ok(_) => changed += 1,
                    Err(e) => {
                        tracing::warn!(object = %record.id, error = %e, "date-driven transition failed")
                    }
                }
            }
        }
        Ok(changed)
    }

    /// Runs [`Kms::sweep_lifecycle`] every `every` until the runtime stops.
    pub fn spawn_lifecycle_sweeper(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let kms = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match kms.sweep_lifecycle().await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(objects = n, "applied date-driven lifecycle transitions")
                    }
                    Err(e) => tracing::warn!(error = %e, "lifecycle sweep failed"),
                }
            }
        })
    }
}
