//! Enrolment states and how they move: automatically when a household is re-evaluated
//! ([`next`], [`after_decision`]), or by a manager ([`act`]). Pure: the caller stores the state and
//! its history.

use std::fmt;

use crate::programme::Decision;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Eligible,
    Enrolled,
    Suspended,
    Exited,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Eligible,
        State::Enrolled,
        State::Suspended,
        State::Exited,
    ];

    /// The stable code stored and sent in the API.
    pub fn code(self) -> &'static str {
        match self {
            State::Eligible => "eligible",
            State::Enrolled => "enrolled",
            State::Suspended => "suspended",
            State::Exited => "exited",
        }
    }

    pub fn parse(code: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl serde::Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A move to `to`, with the reason as a message key (see [`crate::message`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Transition {
    pub to: State,
    pub reason: String,
}

pub const REASON_ELIGIBLE: &str = "enrolment-eligible";
pub const REASON_ELIGIBLE_AGAIN: &str = "enrolment-eligible-again";
pub const REASON_NO_LONGER_ELIGIBLE: &str = "enrolment-no-longer-eligible";
pub const REASON_ENROLLED: &str = "enrolment-enrolled";
pub const REASON_SUSPENDED: &str = "enrolment-suspended";
pub const REASON_RESUMED: &str = "enrolment-resumed";

/// After a re-evaluation (a change of the household, a new model): `None` when nothing moves.
/// An exit names no particular condition; [`after_decision`] does.
pub fn next(current: Option<State>, decision_eligible: bool) -> Option<Transition> {
    transition(current, decision_eligible, REASON_NO_LONGER_ELIGIBLE)
}

/// As [`next`], with an exit's reason the failed condition's message key.
pub fn after_decision(current: Option<State>, decision: &Decision) -> Option<Transition> {
    let reason = decision
        .failed
        .as_ref()
        .map(|f| f.message_key.as_str())
        .unwrap_or(REASON_NO_LONGER_ELIGIBLE);
    transition(current, decision.eligible, reason)
}

fn transition(current: Option<State>, eligible: bool, exit_reason: &str) -> Option<Transition> {
    let to = |to: State, reason: &str| {
        Some(Transition {
            to,
            reason: reason.to_owned(),
        })
    };
    match (current, eligible) {
        (None, true) => to(State::Eligible, REASON_ELIGIBLE),
        (Some(State::Exited), true) => to(State::Eligible, REASON_ELIGIBLE_AGAIN),
        (None | Some(State::Exited), false) => None,
        (Some(State::Eligible | State::Enrolled | State::Suspended), true) => None,
        (Some(State::Eligible | State::Enrolled | State::Suspended), false) => {
            to(State::Exited, exit_reason)
        }
    }
}

/// What a manager does to an enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Enrol,
    Suspend,
    Resume,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Enrol => "enrol",
            Action::Suspend => "suspend",
            Action::Resume => "resume",
        }
    }

    pub fn parse(code: &str) -> Option<Action> {
        [Action::Enrol, Action::Suspend, Action::Resume]
            .into_iter()
            .find(|a| a.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an enrolment that is {from}", action = .action.code())]
pub struct NotAllowed {
    pub from: State,
    pub action: Action,
}

/// A manager's action: enrol an eligible household, suspend an enrolled one, resume a suspended
/// one. Anything else is refused.
pub fn act(current: State, action: Action) -> Result<Transition, NotAllowed> {
    let (to, reason) = match (current, action) {
        (State::Eligible, Action::Enrol) => (State::Enrolled, REASON_ENROLLED),
        (State::Enrolled, Action::Suspend) => (State::Suspended, REASON_SUSPENDED),
        (State::Suspended, Action::Resume) => (State::Enrolled, REASON_RESUMED),
        (from, action) => return Err(NotAllowed { from, action }),
    };
    Ok(Transition {
        to,
        reason: reason.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn state() -> impl Strategy<Value = Option<State>> {
        prop_oneof![
            Just(None),
            proptest::sample::select(State::ALL.to_vec()).prop_map(Some)
        ]
    }

    fn action() -> impl Strategy<Value = Action> {
        proptest::sample::select(vec![Action::Enrol, Action::Suspend, Action::Resume])
    }

    #[test]
    fn codes_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.code()), Some(s));
        }
        assert_eq!(State::parse("paid"), None);
    }

    proptest! {
        /// Whatever happened before, after a re-evaluation a household is in a live state exactly
        /// when it is eligible (or was already exited and still is not).
        #[test]
        fn re_evaluation_follows_eligibility(
            start in state(),
            steps in proptest::collection::vec((any::<bool>(), proptest::option::of(action())), 0..40),
        ) {
            let mut current = start;
            for (eligible, manager) in steps {
                if let (Some(s), Some(a)) = (current, manager)
                    && let Ok(t) = act(s, a)
                {
                    prop_assert!(matches!(t.to, State::Enrolled | State::Suspended));
                    current = Some(t.to);
                }
                let before = current;
                if let Some(t) = next(current, eligible) {
                    prop_assert_ne!(Some(t.to), before);
                    current = Some(t.to);
                }
                match current {
                    None => prop_assert!(!eligible),
                    Some(State::Exited) => prop_assert!(!eligible),
                    Some(_) => prop_assert!(eligible),
                }
                // Applying the same evaluation twice moves nothing the second time.
                prop_assert_eq!(next(current, eligible), None);
            }
        }

        /// A manager can only move between eligible, enrolled and suspended; never to or from exited.
        #[test]
        fn managers_never_exit_or_revive(from in proptest::sample::select(State::ALL.to_vec()), a in action()) {
            match act(from, a) {
                Ok(t) => {
                    prop_assert_ne!(from, State::Exited);
                    prop_assert_ne!(t.to, State::Exited);
                    prop_assert_ne!(t.to, State::Eligible);
                }
                Err(e) => prop_assert_eq!(e.from, from),
            }
        }
    }

    #[test]
    fn an_exit_then_a_return() {
        let exit = next(Some(State::Enrolled), false);
        assert_eq!(exit.as_ref().map(|t| t.to), Some(State::Exited));
        let back = next(Some(State::Exited), true);
        assert_eq!(
            back,
            Some(Transition {
                to: State::Eligible,
                reason: REASON_ELIGIBLE_AGAIN.into()
            })
        );
        assert!(act(State::Exited, Action::Resume).is_err());
        assert!(act(State::Suspended, Action::Resume).is_ok());
    }
}
