//! The worker view and its text: scoping by worker, lower-case statuses, per-connector
//! task counts only where a task runs, and the sum over workers equalling the cluster.

use std::{collections::BTreeMap, time::SystemTime};

use proptest::prelude::*;
use tokio::time::advance;

use super::*;
use crate::{
    connect::{ConnectorStatus, InstanceStatus, TaskStatus, WorkerHealth},
    health::fixtures::polled,
    verdict::WorkerScope,
};

/// A connector on `worker` in `state` with tasks `(state, worker)`.
fn status(state: &str, worker: &str, tasks: &[(&str, &str)]) -> ConnectorStatus {
    let instance = |state: &str, worker: &str| InstanceStatus {
        state: state.into(),
        worker_id: worker.into(),
        trace: None,
    };
    let task = |(id, (state, worker)): (usize, &(&str, &str))| {
        let InstanceStatus {
            state, worker_id, ..
        } = instance(state, worker);
        TaskStatus {
            id: id as u32,
            state,
            worker_id,
            trace: None,
        }
    };
    ConnectorStatus {
        name: "ignored".into(),
        connector: instance(state, worker),
        tasks: tasks.iter().enumerate().map(task).collect(),
        kind: Some("sink".into()),
    }
}

fn snapshot(connectors: Vec<(&str, Option<ConnectorStatus>)>) -> Snapshot {
    Snapshot {
        taken_at: SystemTime::now(),
        duration: std::time::Duration::ZERO,
        connectors: connectors
            .into_iter()
            .map(|(n, s)| (n.to_string(), s))
            .collect::<BTreeMap<_, _>>(),
        facts: Default::default(),
        worker: Ok(WorkerHealth::Healthy),
    }
}

fn exact(id: &str) -> WorkerScope {
    WorkerScope::Exact(id.into())
}

/// Two workers: `a` runs sink (1 of its 3 tasks FAILED) and a PAUSED task of `src`,
/// `b` runs `src`'s connector and a RUNNING task; `new` has no status record yet.
fn two_workers() -> Snapshot {
    let sink = status(
        "RUNNING",
        "a:8083",
        &[
            ("RUNNING", "a:8083"),
            ("FAILED", "a:8083"),
            ("RUNNING", "b:8083"),
        ],
    );
    let src = status(
        "PAUSED",
        "b:8083",
        &[("PAUSED", "a:8083"), ("RUNNING", "b:8083")],
    );
    snapshot(vec![
        ("sink", Some(sink)),
        ("src", Some(src)),
        ("new", None),
    ])
}

#[test]
fn a_worker_shows_only_what_runs_on_it() {
    let snapshot = two_workers();
    let a = worker(&snapshot, &exact("a:8083"));
    let statuses: Vec<_> = a
        .connectors
        .iter()
        .map(|c| (c.connector, c.status.as_str()))
        .collect();
    assert_eq!(statuses, [("sink", "running")]);
    let tasks: Vec<_> = a
        .tasks
        .iter()
        .map(|t| (t.connector, t.task, t.status.as_str()))
        .collect();
    assert_eq!(
        tasks,
        [
            ("sink", Some(0), "running"),
            ("sink", Some(1), "failed"),
            ("src", Some(0), "paused")
        ]
    );
    let sink = &a.task_counts["sink"];
    assert_eq!((sink.by_state, sink.total), ([1, 0, 1, 0, 0, 0], 2));
    let src = &a.task_counts["src"];
    assert_eq!((src.by_state, src.total), ([0, 1, 0, 0, 0, 0], 1));
}

#[test]
fn a_connector_without_a_task_here_has_no_task_counts() {
    let snapshot = snapshot(vec![("stopped", Some(status("STOPPED", "a:8083", &[])))]);
    let a = worker(&snapshot, &exact("a:8083"));
    assert_eq!(a.connectors.len(), 1);
    assert!(a.task_counts.is_empty(), "{a:?}");
}

#[test]
fn the_text_has_strimzis_names_labels_and_values() {
    let snapshot = two_workers();
    let text = text(&snapshot, exact("a:8083"));
    for line in [
        r#"kafka_connect_connector_status{connector="sink",status="running"} 1"#,
        r#"kafka_connect_connector_task_status{connector="sink",task="1",status="failed"} 1"#,
        r#"kafka_connect_connector_task_status{connector="src",task="0",status="paused"} 1"#,
        "kafka_connect_worker_connector_count 1",
        "kafka_connect_worker_task_count 3",
        r#"kafka_connect_worker_connector_failed_task_count{connector="sink"} 1"#,
        r#"kafka_connect_worker_connector_destroyed_task_count{connector="sink"} 0"#,
        r#"kafka_connect_worker_connector_total_task_count{connector="sink"} 2"#,
        r#"kafka_connect_worker_connector_paused_task_count{connector="src"} 1"#,
        "# TYPE kafka_connect_worker_connector_restarting_task_count gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
    assert!(!text.contains(r#"connector="new""#), "{text}");
}

#[test]
fn label_values_are_escaped() {
    let odd = "we\"ird\\name\nx";
    let snapshot = snapshot(vec![(odd, Some(status("RUNNING", "a:8083", &[])))]);
    let text = text(&snapshot, WorkerScope::All);
    assert!(
        text.contains(
            r#"kafka_connect_connector_status{connector="we\"ird\\name\nx",status="running"} 1"#
        ),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn no_series_once_the_snapshot_is_stale() {
    let (_tx, rx) = watch::channel(Arc::new(polled(&[("a", "FAILED")])));
    let max_age = std::time::Duration::from_secs(10);
    let metrics = crate::health::metrics::HealthMetrics::new(rx.clone(), max_age).with_strimzi(
        rx,
        max_age,
        WorkerScope::All,
    );
    let fresh = metrics.encode();
    let failed = r#"kafka_connect_connector_status{connector="a",status="failed"} 1"#;
    assert!(fresh.contains(failed), "{fresh}");
    assert!(fresh.contains("connect_sentinel_healthy 0"), "{fresh}");
    advance(max_age * 2).await;
    let stale = metrics.encode();
    assert!(!stale.contains("kafka_connect_"), "{stale}");
    assert!(stale.ends_with("# EOF\n"), "{stale}");
}

/// The OpenMetrics text of the worker `scope` picks out of `snapshot`, alone.
fn text(snapshot: &Snapshot, scope: WorkerScope) -> String {
    #[derive(Debug)]
    struct One(Snapshot, WorkerScope);
    impl Collector for One {
        fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
            super::encode(&mut encoder, &worker(&self.0, &self.1))
        }
    }
    let mut registry = Registry::default();
    registry.register_collector(Box::new(One(snapshot.clone(), scope)));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
    out
}

const WORKERS: [&str; 3] = ["w0:8083", "w1:8083", "w2:8083"];
/// Every state Connect reports, and DESTROYED, which only Connect's task counts name.
fn states() -> Vec<&'static str> {
    let mut states = crate::health::scrape::STATES.to_vec();
    states.push("DESTROYED");
    states
}

prop_compose! {
    fn instance()(state in proptest::sample::select(states()), worker in proptest::sample::select(&WORKERS[..])) -> (&'static str, &'static str) {
        (state, worker)
    }
}

prop_compose! {
    fn cluster()(connectors in proptest::collection::vec((instance(), proptest::collection::vec(instance(), 0..4)), 0..6)) -> Snapshot {
        let names: Vec<String> = (0..connectors.len()).map(|i| format!("c{i}")).collect();
        let named = names.iter().zip(&connectors);
        snapshot(named.map(|(n, (c, tasks))| (n.as_str(), Some(status(c.0, c.1, tasks)))).collect())
    }
}

proptest! {
    /// Summed over the workers, the per-worker series are the cluster's: what a
    /// `sum by (connector)` over worker-scoped sidecars reads.
    #[test]
    fn workers_add_up_to_the_cluster(snapshot in cluster()) {
        let all = worker(&snapshot, &WorkerScope::All);
        let parts: Vec<_> = WORKERS.iter().map(|w| worker(&snapshot, &exact(w))).collect();
        let connectors: usize = parts.iter().map(|p| p.connectors.len()).sum();
        let tasks: usize = parts.iter().map(|p| p.tasks.len()).sum();
        prop_assert_eq!((connectors, tasks), (all.connectors.len(), all.tasks.len()));
        let mut summed = BTreeMap::<&str, TaskCounts>::new();
        for (name, counts) in parts.iter().flat_map(|p| &p.task_counts) {
            let sum = summed.entry(*name).or_default();
            sum.total += counts.total;
            (0..TASK_STATES.len()).for_each(|k| sum.by_state[k] += counts.by_state[k]);
        }
        prop_assert_eq!(summed, all.task_counts.clone());
        let total: u64 = all.task_counts.values().map(|c| c.total).sum();
        prop_assert_eq!(total as usize, all.tasks.len());
    }

    /// Every status is the state lower-cased, and each counted task is in its state's count.
    #[test]
    fn statuses_are_lower_case_and_counted(snapshot in cluster()) {
        let all = worker(&snapshot, &WorkerScope::All);
        for s in all.connectors.iter().chain(&all.tasks) {
            prop_assert_eq!(s.status.clone(), s.status.to_lowercase());
        }
        for (name, counts) in &all.task_counts {
            for (k, state) in TASK_STATES.iter().enumerate() {
                let n = all.tasks.iter().filter(|t| t.connector == *name && t.status == *state).count();
                prop_assert_eq!(counts.by_state[k], n as u64);
            }
            prop_assert!(counts.by_state.iter().sum::<u64>() <= counts.total);
        }
    }
}
