//! The KMIP object lifecycle (KMIP 1.4 section 3.22), enforced here and
//! nowhere else.
//!
//! ```text
//!                 Activate / Activation Date
//!   Pre-Active ─────────────────────────────▶ Active
//!     │    │                                   │   │
//!     │    │ Revoke(compromise)     Revoke(compromise)   Revoke(other) / Deactivation Date
//!     │    ▼                                   ▼   ▼
//!     │  Compromised ◀── Revoke(compromise) ── Deactivated
//!     │    │                                   │
//!     │ Destroy                             Destroy
//!  Destroy ▼                                   ▼
//!     └─▶ Destroyed ── Revoke(compromise) ──▶ Destroyed Compromised ◀─ Destroy ─ Compromised
//! ```
//!
//! [`transition`] answers "what state follows this event?" and refuses every
//! pair the specification does not list. [`permits`] answers "may this
//! operation run in this state?". [`effective_state`] applies the date-driven
//! transitions: an Activation Date in the past makes a Pre-Active object
//! Active, a Deactivation Date in the past makes an Active object Deactivated.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::object::enums::kmip_enum;

kmip_enum!(
    /// KMIP State.
    State {
        PreActive = 1 => "Pre-Active",
        Active = 2 => "Active",
        Deactivated = 3 => "Deactivated",
        Compromised = 4 => "Compromised",
        Destroyed = 5 => "Destroyed",
        DestroyedCompromised = 6 => "Destroyed Compromised",
    }
);

/// Something that moves an object from one state to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// The Activate operation.
    Activate,
    /// The Activation Date has been reached.
    ActivationDateReached,
    /// The Deactivation Date has been reached.
    DeactivationDateReached,
    /// The Revoke operation; `compromised` when the reason is Key Compromise
    /// or CA Compromise.
    Revoke { compromised: bool },
    /// The Destroy operation.
    Destroy,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::Activate,
        Event::ActivationDateReached,
        Event::DeactivationDateReached,
        Event::Revoke { compromised: false },
        Event::Revoke { compromised: true },
        Event::Destroy,
    ];

    /// The operation that causes this event, for error reports.
    fn operation(self) -> Operation {
        match self {
            Event::Activate | Event::ActivationDateReached => Operation::Activate,
            Event::DeactivationDateReached | Event::Revoke { .. } => Operation::Revoke,
            Event::Destroy => Operation::Destroy,
        }
    }
}

/// The state that follows `event` in `state`, or the KMIP error Wrong Key
/// Lifecycle State when the specification does not allow the transition.
pub fn transition(state: State, event: Event) -> Result<State> {
    use Event::*;
    use State::*;
    let next = match (state, event) {
        (PreActive, Activate | ActivationDateReached) => Active,
        (PreActive, Destroy) => Destroyed,
        (PreActive, Revoke { compromised: true }) => Compromised,
        (Active, Revoke { compromised: true }) => Compromised,
        (Active, Revoke { compromised: false } | DeactivationDateReached) => Deactivated,
        (Deactivated, Destroy) => Destroyed,
        (Deactivated, Revoke { compromised: true }) => Compromised,
        (Compromised, Destroy) => DestroyedCompromised,
        (Destroyed, Revoke { compromised: true }) => DestroyedCompromised,
        _ => {
            return Err(Error::WrongLifecycleState {
                state,
                operation: event.operation(),
            });
        }
    };
    Ok(next)
}

/// What a caller wants to do with an object, as far as the lifecycle cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Read the key material (KMIP Get, export).
    Get,
    /// Read attributes (KMIP Get Attributes, Locate results).
    GetAttributes,
    /// Add, modify or delete attributes.
    ModifyAttributes,
    Activate,
    Revoke,
    Destroy,
    /// Replace the key with a new one (KMIP Re-key, API rotation).
    Rekey,
    /// Apply protection: encrypt, sign, MAC, wrap, derive.
    Protect,
    /// Process protected data: decrypt, verify, MAC verify, unwrap.
    Process,
}

impl Operation {
    pub const ALL: [Operation; 9] = [
        Operation::Get,
        Operation::GetAttributes,
        Operation::ModifyAttributes,
        Operation::Activate,
        Operation::Revoke,
        Operation::Destroy,
        Operation::Rekey,
        Operation::Protect,
        Operation::Process,
    ];
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Operation::Get => "Get",
            Operation::GetAttributes => "Get Attributes",
            Operation::ModifyAttributes => "Modify Attribute",
            Operation::Activate => "Activate",
            Operation::Revoke => "Revoke",
            Operation::Destroy => "Destroy",
            Operation::Rekey => "Re-key",
            Operation::Protect => "Encrypt/Sign/MAC",
            Operation::Process => "Decrypt/Verify/MAC Verify",
        };
        f.write_str(s)
    }
}

/// Whether `operation` may run on an object in `state`.
///
/// Deactivated and Compromised objects may still process data protected
/// earlier (decrypt old ciphertexts, verify old signatures), as KMIP allows;
/// they never protect new data. Destroyed objects have no material.
pub fn permits(state: State, operation: Operation) -> bool {
    use Operation::*;
    use State::*;
    match operation {
        GetAttributes => true,
        Get | ModifyAttributes => !matches!(state, Destroyed | DestroyedCompromised),
        Activate => state == PreActive,
        Revoke => state != DestroyedCompromised,
        Destroy => matches!(state, PreActive | Deactivated | Compromised),
        Rekey => matches!(state, PreActive | Active | Deactivated),
        Protect => state == Active,
        Process => matches!(state, Active | Deactivated | Compromised),
    }
}

/// Checks [`permits`], as the error callers return.
pub fn require(state: State, operation: Operation) -> Result<()> {
    if permits(state, operation) {
        Ok(())
    } else {
        Err(Error::WrongLifecycleState { state, operation })
    }
}

/// The state after applying the date-driven transitions due at `now`, and
/// the events that got there (for the audit log).
pub fn effective_state(
    state: State,
    activation_date: Option<OffsetDateTime>,
    deactivation_date: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> (State, Vec<Event>) {
    let mut state = state;
    let mut events = Vec::new();
    if state == State::PreActive && activation_date.is_some_and(|d| d <= now) {
        state = State::Active;
        events.push(Event::ActivationDateReached);
    }
    if state == State::Active && deactivation_date.is_some_and(|d| d <= now) {
        state = State::Deactivated;
        events.push(Event::DeactivationDateReached);
    }
    (state, events)
}

#[cfg(test)]
mod tests;
