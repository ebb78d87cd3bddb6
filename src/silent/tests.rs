//! The checks on hand-built snapshots, and their invariants as properties.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, SystemTime},
};

use proptest::prelude::*;

use super::*;
use crate::{
    connect::{InstanceStatus, TaskStatus, WorkerHealth},
    verdict::{self, Policy},
};

const GRACE: Duration = Duration::from_secs(60);

fn status(name: &str, state: &str, tasks: &[&str]) -> ConnectorStatus {
    let instance = |state: &str| InstanceStatus {
        state: state.into(),
        worker_id: "w:8083".into(),
        trace: None,
    };
    ConnectorStatus {
        name: name.into(),
        connector: instance(state),
        tasks: (0u32..)
            .zip(tasks)
            .map(|(id, s)| TaskStatus {
                id,
                state: (*s).into(),
                worker_id: "w:8083".into(),
                trace: None,
            })
            .collect(),
        kind: None,
    }
}

fn facts(tasks_max: u32, expected: Option<u32>, config: u64) -> Facts {
    Facts {
        tasks_max: Some(tasks_max),
        expected_tasks: expected,
        config_hash: config,
        ..Facts::default()
    }
}

fn snapshot(connectors: Vec<(&str, Option<ConnectorStatus>, Option<Facts>)>) -> Snapshot {
    let mut snapshot = Snapshot {
        taken_at: SystemTime::now(),
        duration: Duration::ZERO,
        connectors: BTreeMap::new(),
        facts: BTreeMap::new(),
        worker: Ok(WorkerHealth::Healthy),
    };
    for (name, status, facts) in connectors {
        snapshot.connectors.insert(name.into(), status);
        if let Some(facts) = facts {
            snapshot.facts.insert(name.into(), facts);
        }
    }
    snapshot
}

fn policy() -> Policy {
    Policy {
        grace: GRACE,
        ..Policy::default()
    }
}

/// Observes the same snapshot at each of `steps` (time since the previous poll).
fn observe_over(snapshot: &Snapshot, settings: &Settings, steps: &[Duration]) -> Report {
    let (mut memory, mut transitions) = (Memory::default(), Transitions::new());
    let mut report = Report::default();
    for step in steps {
        transitions = verdict::track(&transitions, snapshot, *step);
        report = observe(&memory, snapshot, &transitions, &policy(), settings, *step);
        memory = report.memory.clone();
    }
    report
}

fn checks(report: &Report) -> Vec<(&str, Check)> {
    let found = report.findings.iter();
    found.map(|f| (f.connector.as_str(), f.check)).collect()
}

#[test]
fn a_running_connector_without_tasks_is_found_after_the_grace_period_only() {
    let s = snapshot(vec![("es", Some(status("es", "RUNNING", &[])), None)]);
    let settings = Settings::default();
    let within = observe_over(&s, &settings, &[Duration::ZERO, GRACE / 2]);
    assert!(within.findings.is_empty(), "{within:?}");
    let past = observe_over(&s, &settings, &[Duration::ZERO, GRACE / 2, GRACE / 2]);
    assert_eq!(checks(&past), [("es", Check::NoTasks)]);
    assert_eq!(past.findings[0].for_ms, GRACE.as_millis());
}

#[test]
fn one_task_of_three_is_healthy_unless_told() {
    let s = |expected| {
        let running = Some(status("file", "RUNNING", &["RUNNING"]));
        snapshot(vec![("file", running, Some(facts(3, expected, 1)))])
    };
    let steps = [Duration::ZERO, GRACE];
    assert!(
        observe_over(&s(None), &Settings::default(), &steps)
            .findings
            .is_empty()
    );
    let tasks_max = Settings {
        expected: ExpectedFrom::TasksMax,
        ..Settings::default()
    };
    let told = observe_over(&s(None), &tasks_max, &steps);
    assert_eq!(checks(&told), [("file", Check::MissingTasks)]);
    assert_eq!(
        told.tasks["file"],
        Tasks {
            running: 1,
            expected: Some(3)
        }
    );
    let keyed = observe_over(&s(Some(2)), &Settings::default(), &steps);
    assert_eq!(checks(&keyed), [("file", Check::MissingTasks)]);
    let one = observe_over(&s(Some(1)), &tasks_max, &steps);
    assert!(
        one.findings.is_empty(),
        "the key wins over tasks.max: {one:?}"
    );
}

#[test]
fn an_expected_count_of_zero_allows_no_tasks() {
    let s = snapshot(vec![(
        "m",
        Some(status("m", "RUNNING", &[])),
        Some(facts(1, Some(0), 1)),
    )]);
    assert!(
        observe_over(&s, &Settings::default(), &[Duration::ZERO, GRACE])
            .findings
            .is_empty()
    );
}

#[test]
fn previous_remembers_the_most_until_the_config_changes() {
    let settings = Settings {
        expected: ExpectedFrom::Previous,
        ..Settings::default()
    };
    let at = |tasks: &[&str], config| {
        snapshot(vec![(
            "c",
            Some(status("c", "RUNNING", tasks)),
            Some(facts(3, None, config)),
        )])
    };
    let mut memory = Memory::default();
    let transitions = Transitions::new();
    let zero = Settings { ..settings.clone() };
    let mut run = |s: &Snapshot| {
        let p = Policy {
            grace: Duration::ZERO,
            ..policy()
        };
        let report = observe(&memory, s, &transitions, &p, &zero, Duration::from_secs(1));
        memory = report.memory.clone();
        checks(&report)
            .into_iter()
            .map(|(_, c)| c)
            .collect::<Vec<_>>()
    };
    assert!(run(&at(&["RUNNING", "RUNNING"], 1)).is_empty());
    assert_eq!(run(&at(&["RUNNING"], 1)), [Check::MissingTasks]);
    assert!(
        run(&at(&["RUNNING"], 2)).is_empty(),
        "a new config starts over"
    );
}

#[test]
fn stuck_and_no_status_come_from_the_verdicts_transitions() {
    let s = snapshot(vec![
        ("new", None, None),
        ("u", Some(status("u", "RUNNING", &["UNASSIGNED"])), None),
    ]);
    let found = observe_over(&s, &Settings::default(), &[Duration::ZERO, GRACE]);
    assert_eq!(
        checks(&found),
        [("new", Check::NoStatus), ("u", Check::Stuck)]
    );
    assert_eq!(found.findings[1].task, Some(0));
}

#[test]
fn fail_on_adds_failures_to_the_verdict_and_nothing_else_does() {
    let s = snapshot(vec![("es", Some(status("es", "RUNNING", &[])), None)]);
    let report = observe_over(&s, &Settings::default(), &[Duration::ZERO, GRACE]);
    let transitions = Transitions::new();
    let base = verdict::evaluate(&s, &policy(), &transitions);
    let mut unchanged = base.clone();
    count(&mut unchanged, &report, &BTreeSet::new(), &BTreeSet::new());
    assert_eq!(unchanged, base);
    let mut failing = base.clone();
    count(
        &mut failing,
        &report,
        &BTreeSet::from([Check::NoTasks]),
        &BTreeSet::new(),
    );
    assert!(!failing.healthy);
    let body = failing.to_json();
    assert_eq!(body["failures"][0]["state"], "NO_TASKS", "{body}");
    assert_eq!(body["failures"][0]["type"], "connector", "{body}");
}

fn arb_state() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "RUNNING",
        "FAILED",
        "PAUSED",
        "UNASSIGNED",
        "RESTARTING",
    ])
}

/// A generated connector: its status (connector state, task states) if it has one,
/// `tasks.max` and the expected-tasks key.
type Arb = (Option<(&'static str, Vec<&'static str>)>, u32, Option<u32>);

fn arb_connector() -> impl Strategy<Value = Arb> {
    (
        prop::option::weighted(0.9, (arb_state(), prop::collection::vec(arb_state(), 0..4))),
        1u32..5,
        prop::option::of(0u32..5),
    )
}

/// The snapshot of generated connectors `c0`, `c1`, …
fn cluster(connectors: &[Arb]) -> Snapshot {
    let names: Vec<String> = (0..connectors.len()).map(|i| format!("c{i}")).collect();
    let named = names.iter().zip(connectors).map(|(n, (st, max, key))| {
        let st = st.as_ref().map(|(c, t)| status(n, c, t));
        (n.as_str(), st, Some(facts(*max, *key, 7)))
    });
    snapshot(named.collect())
}

proptest! {
    /// Findings are past the grace period, about listed connectors, and each connector
    /// has at most one task-count finding; with the defaults (no key, nothing
    /// expected) a connector with any task is never `missing-tasks`.
    #[test]
    fn findings_respect_grace_and_defaults(
        connectors in prop::collection::vec(arb_connector(), 0..6),
        steps in prop::collection::vec(0u64..120, 1..5),
    ) {
        let s = cluster(&connectors);
        let steps: Vec<Duration> = steps.into_iter().map(Duration::from_secs).collect();
        let report = observe_over(&s, &Settings::default(), &steps);
        for f in &report.findings {
            prop_assert!(f.for_ms >= GRACE.as_millis());
            prop_assert!(s.connectors.contains_key(&f.connector));
            if f.check == Check::MissingTasks {
                prop_assert!(s.facts[&f.connector].expected_tasks.is_some());
            }
        }
        let mut counts = BTreeMap::new();
        for f in report.findings.iter().filter(|f| matches!(f.check, Check::NoTasks | Check::MissingTasks)) {
            *counts.entry(&f.connector).or_insert(0) += 1;
        }
        prop_assert!(counts.values().all(|n| *n == 1));
    }

    /// `count` never makes a verdict healthier, and with every check on, a healthy
    /// verdict (threshold 0) means no findings.
    #[test]
    fn count_only_adds_failures(
        connectors in prop::collection::vec(arb_connector(), 0..6),
    ) {
        let s = cluster(&connectors);
        let steps = [Duration::ZERO, GRACE];
        let report = observe_over(&s, &Settings { expected: ExpectedFrom::TasksMax, ..Settings::default() }, &steps);
        let transitions = verdict::track(&verdict::track(&Transitions::new(), &s, Duration::ZERO), &s, GRACE);
        let base = verdict::evaluate(&s, &policy(), &transitions);
        let mut counted = base.clone();
        count(&mut counted, &report, &Check::ALL.into_iter().collect(), &BTreeSet::new());
        prop_assert!(counted.failure_rate >= base.failure_rate);
        prop_assert!(counted.failures.len() >= base.failures.len());
        prop_assert!(!base.healthy || counted.healthy == report.findings.is_empty());
    }
}
