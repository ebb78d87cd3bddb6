//! What is worth a notification, derived without IO from two consecutive remediation
//! views (`GET /remediation`'s entries before and after a poll), keyed by connector and
//! `phase`. [`kind`] is the one mapping of phase changes to notifications: a connector
//! that enters an announced phase (`persistent`, `escalated`) yields that event, and
//! one that leaves an announced phase for health (`recovered`, or gone from the view)
//! yields a recovery. A failure that auto-restart fixes before it is announced stays
//! quiet (the demo's flaky task would otherwise page every 20 s); so does a steady
//! state. Explicit phase changes (`from`, `to` per connector) map through [`kind`] the
//! same way.

use std::{collections::BTreeMap, time::SystemTime};

use serde::Serialize;

use crate::remediate::Entry;

/// What happened to a connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Classified as a failure restarts do not fix.
    PersistentFailure,
    /// Past the escalation point or out of restarts: `/` counts it (503).
    Escalation,
    /// Healthy again after one of the above.
    Recovery,
}

impl Kind {
    /// The name bodies and logs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PersistentFailure => "persistent_failure",
            Self::Escalation => "escalation",
            Self::Recovery => "recovery",
        }
    }
}

/// One notification's content (who sends it is added on delivery).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub connector: String,
    pub kind: Kind,
    /// The phase before (`None`: not under remediation).
    pub from: Option<String>,
    /// The phase after (`None`: gone from the view, i.e. healthy long enough).
    pub to: Option<String>,
    /// First line of the failure's trace (redacted when the body is made).
    pub cause: Option<String>,
    /// Restarts tried so far.
    pub attempts: u32,
    pub at: SystemTime,
}

/// The announced phases and the event entering each yields.
fn announced(phase: Option<&str>) -> Option<Kind> {
    match phase {
        Some("persistent") => Some(Kind::PersistentFailure),
        Some("escalated") => Some(Kind::Escalation),
        _ => None,
    }
}

/// Phases that mean "healthy" (`None`: no longer under remediation).
fn healthy(phase: Option<&str>) -> bool {
    matches!(phase, None | Some("recovered"))
}

/// The notification a phase change yields, if any: entering an announced phase, or
/// leaving one for health. The same phase twice yields none.
pub fn kind(from: Option<&str>, to: Option<&str>) -> Option<Kind> {
    match (announced(from), announced(to)) {
        (before, Some(now)) if before != Some(now) => Some(now),
        (Some(_), None) if healthy(to) => Some(Kind::Recovery),
        _ => None,
    }
}

/// The phase of an entry, as [`kind`] reads it.
fn phase(entry: &Entry) -> &str {
    entry.phase.as_str()
}

/// One event per connector whose phase change [`kind`] maps to one, in name order.
pub fn events(before: &[Entry], after: &[Entry], at: SystemTime) -> Vec<Event> {
    let by_name = |view: &[Entry]| -> BTreeMap<String, Entry> {
        view.iter()
            .map(|e| (e.connector.clone(), e.clone()))
            .collect()
    };
    let (mut before, after) = (by_name(before), by_name(after));
    let mut out: Vec<Event> = after
        .values()
        .filter_map(|now| change(before.remove(&now.connector).as_ref(), Some(now), at))
        .collect();
    out.extend(
        before
            .values()
            .filter_map(|gone| change(Some(gone), None, at)),
    );
    out.sort_by(|a, b| a.connector.cmp(&b.connector));
    out
}

/// The event of one connector's change from `before` to `after`, if any.
pub fn change(before: Option<&Entry>, after: Option<&Entry>, at: SystemTime) -> Option<Event> {
    let from = before.map(phase);
    let to = after.map(phase);
    let kind = kind(from, to)?;
    let latest = after.or(before)?;
    let cause = [after, before]
        .into_iter()
        .flatten()
        .find_map(|e| e.failed.cause.clone());
    Some(Event {
        connector: latest.connector.clone(),
        kind,
        from: from.map(str::to_string),
        to: to.map(str::to_string),
        cause,
        attempts: latest.attempts,
        at,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::remediate::Failed;

    const PHASES: [&str; 5] = [
        "remediating",
        "persistent",
        "escalated",
        "recovered",
        "ignored",
    ];

    fn entry(name: &str, phase: &'static str) -> Entry {
        Entry {
            connector: name.into(),
            phase: crate::remediate::Phase::named(phase).unwrap(),
            attempts: 1,
            max_restarts: None,
            attempts_before_escalation: None,
            next_step: None,
            next_attempt_in_seconds: None,
            last_step: None,
            last_outcome: None,
            remedy: Default::default(),
            rule: String::new(),
            failed: Failed {
                cause: (phase != "recovered").then(|| format!("{name} broke")),
                ..Failed::default()
            },
        }
    }

    /// A view from phase indexes per connector (`None`: not in the view).
    fn view(phases: &[Option<usize>]) -> Vec<Entry> {
        let names = ["a", "b", "c"];
        let present = phases
            .iter()
            .zip(names)
            .filter_map(|(p, n)| Some((n, (*p)?)));
        present.map(|(n, p)| entry(n, PHASES[p])).collect()
    }

    #[test]
    fn the_mapping_of_phase_changes() {
        use Kind::*;
        for (from, to, want) in [
            (None, Some("remediating"), None),
            (Some("remediating"), Some("escalated"), Some(Escalation)),
            (None, Some("escalated"), Some(Escalation)),
            (
                Some("remediating"),
                Some("persistent"),
                Some(PersistentFailure),
            ),
            (Some("persistent"), Some("escalated"), Some(Escalation)),
            (Some("escalated"), Some("escalated"), None),
            (Some("escalated"), Some("recovered"), Some(Recovery)),
            (Some("persistent"), None, Some(Recovery)),
            (Some("remediating"), Some("recovered"), None),
            (Some("remediating"), None, None),
            (Some("escalated"), Some("remediating"), None),
            (Some("recovered"), None, None),
            (Some("ignored"), Some("ignored"), None),
        ] {
            assert_eq!(kind(from, to), want, "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn an_escalation_then_a_recovery_carry_the_cause_and_attempts() {
        let at = SystemTime::UNIX_EPOCH;
        let escalated = events(&[entry("a", "remediating")], &[entry("a", "escalated")], at);
        assert_eq!(escalated.len(), 1);
        let e = &escalated[0];
        assert_eq!(
            (e.kind, e.from.as_deref(), e.to.as_deref()),
            (Kind::Escalation, Some("remediating"), Some("escalated"))
        );
        assert_eq!((e.cause.as_deref(), e.attempts), (Some("a broke"), 1));
        let recovered = events(&[entry("a", "escalated")], &[entry("a", "recovered")], at);
        assert_eq!(
            recovered[0].cause.as_deref(),
            Some("a broke"),
            "what it recovered from"
        );
        let gone = events(&[entry("a", "escalated")], &[], at);
        assert_eq!(
            (gone[0].kind, gone[0].to.as_deref()),
            (Kind::Recovery, None)
        );
    }

    fn views() -> impl Strategy<Value = Vec<Vec<Option<usize>>>> {
        let phase = proptest::option::of(0..PHASES.len());
        proptest::collection::vec(proptest::collection::vec(phase, 3), 1..12)
    }

    proptest! {
        #[test]
        fn a_steady_state_yields_nothing(phases in proptest::collection::vec(proptest::option::of(0..PHASES.len()), 3)) {
            let v = view(&phases);
            prop_assert!(events(&v, &v, SystemTime::UNIX_EPOCH).is_empty());
        }

        /// Every step yields exactly one event per connector whose change [`kind`] maps,
        /// none for the rest; over any sequence, recoveries follow announcements.
        #[test]
        fn each_transition_yields_exactly_one_event(seq in views()) {
            let mut announced_now = BTreeMap::<String, bool>::new();
            let mut before = Vec::new();
            for phases in &seq {
                let after = view(phases);
                let got = events(&before, &after, SystemTime::UNIX_EPOCH);
                let phase_of = |v: &[Entry], n: &str| v.iter().find(|e| e.connector == n).map(|e| e.phase.as_str());
                for name in ["a", "b", "c"] {
                    let want = kind(phase_of(&before, name), phase_of(&after, name));
                    let mine: Vec<_> = got.iter().filter(|e| e.connector == name).collect();
                    prop_assert_eq!(mine.len(), usize::from(want.is_some()));
                    let Some(event) = mine.first() else { continue };
                    prop_assert_eq!(Some(event.kind), want);
                    let was = announced_now.insert(name.into(), event.kind != Kind::Recovery);
                    if event.kind == Kind::Recovery {
                        prop_assert_eq!(was, Some(true), "a recovery follows an announcement");
                    }
                }
                before = after;
            }
        }
    }
}
