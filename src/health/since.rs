//! When each connector entered the state it is in, for the status page's "FAILED for
//! 41 min". A connector's state here is its worst instance's (the connector or any
//! task: FAILED before UNASSIGNED, RESTARTING, PAUSED, STOPPED and RUNNING); it keeps
//! its time while that state stays, and while it moves between FAILED, RESTARTING,
//! UNASSIGNED and no status (one episode of trouble: restarts that do not help do
//! not reset it). A connector seen for the first time gets the poll's time (so after
//! a restart of connect-sentinel, "for" counts from then).

use std::{collections::BTreeMap, time::SystemTime};

use compact_str::CompactString;

use crate::{connect::ConnectorStatus, snapshot::Snapshot};

/// The state of each connector and since when, as of the last successful poll. A
/// connector RUNNING since it was first seen is left out (most of a large cluster:
/// its time is of no use to triage and would cost memory on every poll); one that
/// recovers keeps its time of recovery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Since(BTreeMap<String, (CompactString, SystemTime)>);

/// The state shown for a connector with no status record yet.
pub const NO_STATUS: &str = "NO STATUS";

impl Since {
    /// `name`'s state and when it began, if it was listed.
    pub fn of(&self, name: &str) -> Option<(&str, SystemTime)> {
        self.0.get(name).map(|(s, at)| (s.as_str(), *at))
    }
}

/// The states one episode spans: a connector failing, restarted and failing again is
/// one failure ("FAILED for 3 h", not since its last restart).
fn episode(state: &str) -> &str {
    match state {
        "RUNNING" | "PAUSED" | "STOPPED" => state,
        _ => "broken",
    }
}

/// How bad a state is (higher is worse); unknown states rank just below FAILED.
fn severity(state: &str) -> u8 {
    match state {
        "RUNNING" => 0,
        "STOPPED" => 1,
        "PAUSED" => 2,
        "RESTARTING" => 3,
        "UNASSIGNED" => 4,
        "FAILED" => 6,
        _ => 5,
    }
}

/// The worst state among the connector instance and its tasks.
pub fn worst(status: Option<&ConnectorStatus>) -> &str {
    let Some(status) = status else {
        return NO_STATUS;
    };
    let tasks = status.tasks.iter().map(|t| t.state.as_str());
    std::iter::once(status.connector.state.as_str())
        .chain(tasks)
        .max_by_key(|s| severity(s))
        .unwrap_or("RUNNING")
}

/// The states of `snapshot`'s connectors, each keeping `previous`'s time while its
/// state is unchanged.
pub fn advance(previous: &Since, snapshot: &Snapshot) -> Since {
    let now = snapshot.taken_at;
    let next = snapshot.connectors.iter().filter_map(|(name, status)| {
        let state = worst(status.as_ref());
        let at = match previous.0.get(name) {
            Some((was, at)) if episode(was) == episode(state) => *at,
            None if state == "RUNNING" => return None,
            _ => now,
        };
        Some((name.clone(), (CompactString::from(state), at)))
    });
    Since(next.collect())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::health::fixtures;

    fn at(snapshot: Snapshot, secs: u64) -> Snapshot {
        Snapshot {
            taken_at: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            ..snapshot
        }
    }

    #[test]
    fn a_state_keeps_its_time_until_it_changes() {
        let t = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let step = |since: &Since, state: &str, secs| {
            let snapshot = match state {
                "" => fixtures::snapshot(&[]),
                state => fixtures::snapshot(&[("a", state)]),
            };
            advance(since, &at(snapshot, secs))
        };
        let first = step(&Since::default(), "RUNNING", 10);
        assert_eq!(first.of("a"), None, "running from the start: not kept");
        let failed = step(&first, "FAILED", 30);
        assert_eq!(failed.of("a"), Some(("FAILED", t(30))));
        let restarting = step(&failed, "RESTARTING", 35);
        let again = step(&restarting, "FAILED", 38);
        assert_eq!(again.of("a"), Some(("FAILED", t(30))), "one episode");
        let recovered = step(&again, "RUNNING", 39);
        let still = step(&recovered, "RUNNING", 45);
        assert_eq!(
            still.of("a"),
            Some(("RUNNING", t(39))),
            "since its recovery"
        );
        assert_eq!(
            step(&still, "", 50).of("a"),
            None,
            "forgotten once unlisted"
        );
    }

    proptest! {
        /// The worst state is one of the instances' and none is worse.
        #[test]
        fn the_worst_state_is_the_most_severe(states in prop::collection::vec(
            prop::sample::select(vec!["RUNNING", "FAILED", "PAUSED", "UNASSIGNED", "RESTARTING", "STOPPED", "ODD"]), 1..6)) {
            let snapshot = fixtures::snapshot(&[("a", states[0])]);
            let mut status = snapshot.connectors["a"].clone().unwrap();
            status.tasks = states[1..].iter().enumerate().map(|(i, s)| crate::connect::TaskStatus {
                id: i as u32, state: (*s).into(), worker_id: "w:1".into(), trace: None,
            }).collect();
            let worst = worst(Some(&status));
            prop_assert!(states.contains(&worst));
            prop_assert!(states.iter().all(|s| severity(s) <= severity(worst)));
        }
    }
}
