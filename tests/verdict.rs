//! The pure health core: examples and properties (proptest).

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime},
};

use connect_sentinel::{
    connect::{ConnectorStatus, InstanceStatus, TaskStatus, WorkerHealth},
    snapshot::Snapshot,
    verdict::{self, Failure, Policy, Transitions, WorkerScope},
};
use proptest::prelude::*;

const STATES: &[&str] = &[
    "RUNNING",
    "FAILED",
    "PAUSED",
    "UNASSIGNED",
    "RESTARTING",
    "STOPPED",
];
const WORKERS: &[&str] = &["w0:8083", "w1:8083"];

fn status(name: &str, state: &str, worker: &str, tasks: &[(&str, &str)]) -> ConnectorStatus {
    let tasks = (0u32..).zip(tasks).map(|(id, (state, worker))| TaskStatus {
        id,
        state: (*state).into(),
        worker_id: (*worker).into(),
        trace: None,
    });
    ConnectorStatus {
        name: name.into(),
        connector: InstanceStatus {
            state: state.into(),
            worker_id: worker.into(),
            trace: None,
        },
        tasks: tasks.collect(),
        kind: Some("sink".into()),
    }
}

fn snapshot(connectors: Vec<(String, Option<ConnectorStatus>)>) -> Snapshot {
    Snapshot {
        taken_at: SystemTime::now(),
        duration: Duration::ZERO,
        connectors: connectors.into_iter().collect(),
        facts: Default::default(),
        worker: Ok(WorkerHealth::Healthy),
    }
}

fn one(status: ConnectorStatus) -> Snapshot {
    snapshot(vec![(status.name.to_string(), Some(status))])
}

/// The dilution fix: with a worker id, the rate counts only this worker's containers
/// (kafka-connect-healthcheck's test 7 says 0.5; in scope it is 1.0).
#[test]
fn rate_is_over_containers_in_scope() {
    let s = snapshot(vec![(
        "a".into(),
        Some(status("a", "RUNNING", "w1:8083", &[("FAILED", "w0:8083")])),
    )]);
    let policy = Policy {
        worker: WorkerScope::Exact("W0:8083".into()),
        ..Policy::default()
    };
    let v = verdict::evaluate(&s, &policy, &Transitions::new());
    assert_eq!((v.failure_rate, v.containers, v.healthy), (1.0, 1, false));
}

/// Host-only matching ignores the port; exact matching does not.
#[test]
fn worker_scope_matching() {
    assert!(WorkerScope::Host("w0".into()).matches("W0:8083"));
    assert!(!WorkerScope::Exact("w0".into()).matches("w0:8083"));
    assert!(WorkerScope::Host("::1".into()).matches("[::1]:8083"));
}

/// A connector listed without status is transitional, never a failure by default.
#[test]
fn statusless_connector_is_transitional() {
    let s = snapshot(vec![("new".into(), None)]);
    let v = verdict::evaluate(&s, &Policy::default(), &Transitions::new());
    assert!(v.healthy && v.failures.is_empty());
    assert_eq!(v.transitional.len(), 1);
}

/// UNASSIGNED configured unhealthy is forgiven within the grace period, then fails.
#[test]
fn grace_period_forgives_then_fails() {
    let s = one(status(
        "a",
        "RUNNING",
        "w0:8083",
        &[("UNASSIGNED", "w0:8083")],
    ));
    let policy = Policy {
        unhealthy_states: vec!["FAILED".into(), "UNASSIGNED".into()],
        grace: Duration::from_secs(60),
        ..Policy::default()
    };
    let fresh = verdict::track(&Transitions::new(), &s, Duration::ZERO);
    assert!(verdict::evaluate(&s, &policy, &fresh).healthy);
    let old = verdict::track(&fresh, &s, Duration::from_secs(61));
    let late = verdict::evaluate(&s, &policy, &old);
    assert!(!late.healthy && matches!(late.failures[0], Failure::Task { id: 0, .. }));
}

/// A worker that cannot serve requests adds a broker failure and forces unhealthy.
#[test]
fn unhealthy_worker_forces_unhealthy() {
    let mut s = one(status("a", "RUNNING", "w0:8083", &[]));
    s.worker = Ok(WorkerHealth::Unhealthy("Request timed out".into()));
    let v = verdict::evaluate(
        &s,
        &Policy {
            threshold: 1.0,
            ..Policy::default()
        },
        &Transitions::new(),
    );
    assert_eq!((v.healthy, v.failure_rate), (false, 0.0));
    assert_eq!(
        v.failures,
        vec![Failure::Broker {
            connector: "a".into()
        }]
    );
}

/// The JSON keeps kafka-connect-healthcheck's key order and types.
#[test]
fn json_layout_matches_the_peer() {
    let s = one(status("a", "failed", "w0:8083", &[("FAILED", "w0:8083")]));
    let body = verdict::evaluate(&s, &Policy::default(), &Transitions::new()).to_json();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "failures",
            "failure_states",
            "failure_rate",
            "failure_threshold",
            "healthy"
        ]
    );
    assert_eq!(
        body["failures"][0],
        serde_json::json!({"type": "connector", "connector": "a", "state": "FAILED", "worker_id": "w0:8083"})
    );
    assert_eq!(body["failures"][1]["trace"], serde_json::Value::Null);
    assert_eq!(body["failure_rate"], 1.0);
}

fn arb_snapshot() -> impl Strategy<Value = Snapshot> {
    let task = (prop::sample::select(STATES), prop::sample::select(WORKERS));
    let connector = (
        prop::sample::select(STATES),
        prop::sample::select(WORKERS),
        prop::collection::vec(task, 0..4),
        any::<bool>(),
    );
    prop::collection::vec(connector, 0..6).prop_map(|list| {
        let connectors =
            list.into_iter()
                .enumerate()
                .map(|(i, (state, worker, tasks, listed_only))| {
                    let name = format!("c{i}");
                    let st = (!listed_only).then(|| status(&name, state, worker, &tasks));
                    (name, st)
                });
        snapshot(connectors.collect())
    })
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    let scope = prop_oneof![
        Just(WorkerScope::All),
        Just(WorkerScope::Exact("w0:8083".into())),
        Just(WorkerScope::Host("w1".into()))
    ];
    let states = prop::sample::subsequence(STATES.to_vec(), 1..3);
    (
        scope,
        states,
        prop::sample::select(vec![0.0, 0.1, 0.5, 1.0]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(worker, states, threshold, consider_connectors, consider_tasks)| Policy {
                worker,
                threshold,
                consider_connectors,
                consider_tasks,
                unhealthy_states: states.into_iter().map(String::from).collect(),
                grace: Duration::from_secs(60),
                ..Policy::default()
            },
        )
}

fn aged(s: &Snapshot) -> Transitions {
    verdict::track(
        &verdict::track(&Transitions::new(), s, Duration::ZERO),
        s,
        Duration::from_secs(120),
    )
}

proptest! {
    /// healthy ⇔ rate ≤ threshold (the worker is healthy here), and 0 ≤ rate ≤ 1.
    #[test]
    fn healthy_iff_rate_within_threshold(s in arb_snapshot(), p in arb_policy()) {
        let v = verdict::evaluate(&s, &p, &aged(&s));
        prop_assert!((0.0..=1.0).contains(&v.failure_rate));
        prop_assert_eq!(v.healthy, v.failure_rate <= p.threshold);
    }

    /// Every failure is in an unhealthy state, on a worker in scope.
    #[test]
    fn failures_are_unhealthy_and_in_scope(s in arb_snapshot(), p in arb_policy()) {
        for failure in verdict::evaluate(&s, &p, &aged(&s)).failures {
            let (state, worker) = match &failure {
                Failure::Connector { state, worker_id, .. } | Failure::Task { state, worker_id, .. } => (state, worker_id),
                Failure::Broker { .. } => { prop_assert!(false, "no broker failure with a healthy worker"); continue; }
            };
            prop_assert!(p.unhealthy_states.iter().any(|u| u.eq_ignore_ascii_case(state)));
            prop_assert!(p.worker.matches(worker));
        }
    }

    /// Within the grace period, transitional states never fail.
    #[test]
    fn fresh_transitional_states_never_fail(s in arb_snapshot(), p in arb_policy()) {
        let fresh = verdict::track(&Transitions::new(), &s, Duration::ZERO);
        for failure in verdict::evaluate(&s, &p, &fresh).failures {
            if let Failure::Connector { state, .. } | Failure::Task { state, .. } = failure {
                prop_assert!(!verdict::is_transitional(&state));
            }
        }
    }

    /// Failures on workers out of scope never change the verdict.
    #[test]
    fn other_workers_do_not_matter(s in arb_snapshot()) {
        let p = Policy { worker: WorkerScope::Exact("w0:8083".into()), ..Policy::default() };
        let mut noisy = s.clone();
        noisy.connectors.insert("zz-other".into(), Some(status("zz-other", "FAILED", "w1:8083", &[("FAILED", "w1:8083")])));
        let (a, b) = (verdict::evaluate(&s, &p, &BTreeMap::new()), verdict::evaluate(&noisy, &p, &BTreeMap::new()));
        prop_assert_eq!((a.healthy, a.failures, a.failure_rate), (b.healthy, b.failures, b.failure_rate));
    }
}
