//! `between` against a naive model (a lookup per instance, as the log was once
//! written), on generated pairs of polls, plus the cases a reader of the log expects.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{Change, between};
use crate::{
    connect::{ConnectorStatus, InstanceStatus, TaskStatus},
    health::fixtures,
    snapshot::Snapshot,
};

const STATES: [&str; 4] = ["RUNNING", "FAILED", "PAUSED", "UNASSIGNED"];

fn instance(state: &str) -> InstanceStatus {
    let trace = (state == "FAILED").then(|| "boom\n\tat x".to_string());
    InstanceStatus {
        state: state.into(),
        worker_id: "w:8083".into(),
        trace,
    }
}

fn status(name: &str, state: &str, tasks: &[(u32, &str)]) -> ConnectorStatus {
    let task = |&(id, s): &(u32, &str)| TaskStatus {
        id,
        state: s.into(),
        worker_id: "w:8083".into(),
        trace: instance(s).trace,
    };
    ConnectorStatus {
        name: name.into(),
        connector: instance(state),
        tasks: tasks.iter().map(task).collect(),
        kind: None,
    }
}

fn with(connectors: BTreeMap<String, Option<ConnectorStatus>>) -> Snapshot {
    Snapshot {
        connectors,
        ..fixtures::snapshot(&[])
    }
}

/// The old way: for every instance after, look its state up before; for every
/// instance before, look it up after.
fn naive<'a>(before: &'a Snapshot, after: &'a Snapshot) -> Vec<Change<'a>> {
    let lookup = |s: &'a Snapshot, name: &str, task: Option<u32>| {
        let status = s.connectors.get(name)?.as_ref()?;
        super::state_of(status, task)
    };
    let mut out: Vec<_> = after
        .instances()
        .filter(|i| lookup(before, i.connector, i.task) != Some(i.state))
        .map(|i| Change::State {
            connector: i.connector,
            task: i.task,
            from: lookup(before, i.connector, i.task),
            to: i.state,
            trace: i.trace,
        })
        .collect();
    for i in before.instances() {
        let left = after
            .connectors
            .get(i.connector)
            .is_none_or(Option::is_none);
        let gone = match i.task {
            None => left,
            Some(_) => !left && lookup(after, i.connector, i.task).is_none(),
        };
        if gone {
            out.push(Change::Gone {
                connector: i.connector,
                task: i.task,
            });
        }
    }
    out
}

fn arb_snapshot() -> impl Strategy<Value = Snapshot> {
    let tasks = prop::collection::btree_map(0u32..4, prop::sample::select(&STATES[..]), 0..4);
    let entry = prop::option::of((prop::sample::select(&STATES[..]), tasks));
    let entries = prop::collection::btree_map(0usize..6, prop::option::of(entry), 0..6);
    entries.prop_map(|entries| {
        let connectors = entries.into_iter().map(|(i, listed)| {
            let name = format!("c{i}");
            let st = listed.flatten().map(|(state, tasks)| {
                let tasks: Vec<_> = tasks.into_iter().collect();
                status(&name, state, &tasks)
            });
            (name, st)
        });
        with(connectors.collect())
    })
}

fn sorted(mut changes: Vec<Change<'_>>) -> Vec<String> {
    let mut out: Vec<_> = changes.drain(..).map(|c| format!("{c:?}")).collect();
    out.sort();
    out
}

proptest! {
    #[test]
    fn the_side_by_side_walk_finds_what_lookups_find(before in arb_snapshot(), after in arb_snapshot()) {
        prop_assert_eq!(sorted(between(&before, &after)), sorted(naive(&before, &after)));
    }

    #[test]
    fn an_unchanged_poll_changes_nothing(snapshot in arb_snapshot()) {
        prop_assert!(between(&snapshot, &snapshot.clone()).is_empty());
    }
}

fn one(name: &str, state: &str, tasks: &[(u32, &str)]) -> Snapshot {
    with([(name.to_string(), Some(status(name, state, tasks)))].into())
}

#[test]
fn a_failed_task_is_one_change_with_its_trace() {
    let (before, after) = (
        one("a", "RUNNING", &[(0, "RUNNING")]),
        one("a", "RUNNING", &[(0, "FAILED")]),
    );
    let expected = Change::State {
        connector: "a",
        task: Some(0),
        from: Some("RUNNING"),
        to: "FAILED",
        trace: Some("boom\n\tat x"),
    };
    assert_eq!(between(&before, &after), [expected]);
}

#[test]
fn a_deleted_connector_and_a_task_that_left_are_gone() {
    let before = one("a", "RUNNING", &[(0, "RUNNING"), (1, "RUNNING")]);
    let after = one("a", "RUNNING", &[(0, "RUNNING")]);
    assert_eq!(
        between(&before, &after),
        [Change::Gone {
            connector: "a",
            task: Some(1)
        }]
    );
    let empty = with(BTreeMap::new());
    assert_eq!(
        between(&before, &empty),
        [Change::Gone {
            connector: "a",
            task: None
        }]
    );
}

#[test]
fn a_new_connector_comes_from_nothing() {
    let after = one("b", "RUNNING", &[]);
    let expected = Change::State {
        connector: "b",
        task: None,
        from: None,
        to: "RUNNING",
        trace: None,
    };
    assert_eq!(between(&with(BTreeMap::new()), &after), [expected]);
}
