//! Every (state, event) pair and every (state, operation) pair, checked
//! against the tables of KMIP 1.4 section 3.22.

use time::macros::datetime;

use super::*;

/// The transitions KMIP 1.4 section 3.22 lists, and no others.
fn spec_next(state: State, event: Event) -> Option<State> {
    use Event::*;
    use State::*;
    match (state, event) {
        (PreActive, Activate) | (PreActive, ActivationDateReached) => Some(Active), // 4
        (PreActive, Destroy) => Some(Destroyed),                                    // 2
        (PreActive, Revoke { compromised: true }) => Some(Compromised),             // 3
        (Active, Revoke { compromised: true }) => Some(Compromised),                // 5
        (Active, Revoke { compromised: false }) => Some(Deactivated),               // 6
        (Active, DeactivationDateReached) => Some(Deactivated),                     // 6
        (Deactivated, Destroy) => Some(Destroyed),                                  // 7
        (Deactivated, Revoke { compromised: true }) => Some(Compromised),           // 8
        (Compromised, Destroy) => Some(DestroyedCompromised),                       // 9
        (Destroyed, Revoke { compromised: true }) => Some(DestroyedCompromised),    // 10
        _ => None,
    }
}

#[test]
fn every_state_event_pair() {
    let mut legal = 0;
    for &state in State::ALL {
        for event in Event::ALL {
            match (transition(state, event), spec_next(state, event)) {
                (Ok(got), Some(want)) => {
                    assert_eq!(got, want, "{state} + {event:?}");
                    legal += 1;
                }
                (Err(Error::WrongLifecycleState { state: s, .. }), None) => assert_eq!(s, state),
                (got, want) => panic!("{state} + {event:?}: got {got:?}, spec says {want:?}"),
            }
        }
    }
    assert_eq!(
        legal, 11,
        "KMIP lists ten transitions; number 6 has two causes"
    );
}

#[test]
fn operations_per_state() {
    use Operation::*;
    use State::*;
    let table: &[(State, &[Operation])] = &[
        (
            PreActive,
            &[
                Get,
                GetAttributes,
                ModifyAttributes,
                Activate,
                Revoke,
                Destroy,
                Rekey,
            ],
        ),
        (
            Active,
            &[
                Get,
                GetAttributes,
                ModifyAttributes,
                Revoke,
                Rekey,
                Protect,
                Process,
            ],
        ),
        (
            Deactivated,
            &[
                Get,
                GetAttributes,
                ModifyAttributes,
                Revoke,
                Destroy,
                Rekey,
                Process,
            ],
        ),
        (
            Compromised,
            &[
                Get,
                GetAttributes,
                ModifyAttributes,
                Revoke,
                Destroy,
                Process,
            ],
        ),
        (Destroyed, &[GetAttributes, Revoke]),
        (DestroyedCompromised, &[GetAttributes]),
    ];
    for &(state, allowed) in table {
        for op in Operation::ALL {
            assert_eq!(permits(state, op), allowed.contains(&op), "{state} / {op}");
            assert_eq!(require(state, op).is_ok(), allowed.contains(&op));
        }
    }
}

#[test]
fn no_state_protects_except_active() {
    for &s in State::ALL {
        assert_eq!(permits(s, Operation::Protect), s == State::Active);
    }
}

#[test]
fn date_driven_transitions() {
    let now = datetime!(2026-06-01 12:00 UTC);
    let past = datetime!(2026-01-01 0:00 UTC);
    let future = datetime!(2027-01-01 0:00 UTC);

    assert_eq!(
        effective_state(State::PreActive, None, None, now),
        (State::PreActive, vec![])
    );
    assert_eq!(
        effective_state(State::PreActive, Some(future), None, now).0,
        State::PreActive
    );
    assert_eq!(
        effective_state(State::PreActive, Some(past), None, now),
        (State::Active, vec![Event::ActivationDateReached])
    );
    // Exactly now counts as reached.
    assert_eq!(
        effective_state(State::PreActive, Some(now), None, now).0,
        State::Active
    );
    assert_eq!(
        effective_state(State::PreActive, Some(past), Some(now), now),
        (
            State::Deactivated,
            vec![Event::ActivationDateReached, Event::DeactivationDateReached]
        )
    );
    assert_eq!(
        effective_state(State::Active, None, Some(past), now).0,
        State::Deactivated
    );
    assert_eq!(
        effective_state(State::Active, None, Some(future), now).0,
        State::Active
    );
    // A Pre-Active object is not deactivated by date alone: KMIP has no such transition.
    assert_eq!(
        effective_state(State::PreActive, None, Some(past), now).0,
        State::PreActive
    );
    // Dates never move objects out of terminal or revoked states.
    for s in [
        State::Compromised,
        State::Destroyed,
        State::DestroyedCompromised,
        State::Deactivated,
    ] {
        assert_eq!(effective_state(s, Some(past), Some(past), now), (s, vec![]));
    }
}

#[test]
fn kmip_values_round_trip() {
    for &s in State::ALL {
        assert_eq!(State::from_kmip(s.to_kmip()), Some(s));
    }
    assert_eq!(State::from_kmip(0), None);
    assert_eq!(State::from_kmip(7), None);
    assert_eq!(State::PreActive.to_kmip(), 1);
    assert_eq!(State::DestroyedCompromised.to_kmip(), 6);
}
