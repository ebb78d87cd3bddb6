//! Prometheus metrics (OpenMetrics text) with an explicit registry: Connect
//! reachability, one-hot connector and task states, poll duration and errors, and the
//! probe verdict. Names follow Prometheus conventions (`_total`, `_seconds`).

use std::sync::atomic::AtomicU64;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use crate::{snapshot::Poll, verdict::Verdict};

/// Every state a connector or task can report (spec §17), for one-hot gauges.
pub const STATES: &[&str] = &[
    "RUNNING",
    "PAUSED",
    "FAILED",
    "UNASSIGNED",
    "RESTARTING",
    "STOPPED",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectorLabels {
    connector: String,
    state: String,
    worker: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    connector: String,
    task: String,
    state: String,
    worker: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

/// The metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    connect_up: Gauge,
    healthy: Gauge,
    failure_rate: Gauge<f64, AtomicU64>,
    connectors: Family<ConnectorLabels, Gauge>,
    tasks: Family<TaskLabels, Gauge>,
    poll_duration: Histogram,
    polls: Counter,
    poll_errors: Family<ReasonLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let buckets = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        ];
        let mut m = Self {
            registry: Registry::with_prefix("connect_sentinel"),
            connect_up: Gauge::default(),
            healthy: Gauge::default(),
            failure_rate: Gauge::default(),
            connectors: Family::default(),
            tasks: Family::default(),
            poll_duration: Histogram::new(buckets),
            polls: Counter::default(),
            poll_errors: Family::default(),
        };
        m.register();
        m
    }
}

impl Metrics {
    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "connect_up",
            "1 when the last poll of Connect succeeded",
            self.connect_up.clone(),
        );
        r.register(
            "healthy",
            "The verdict GET / answers: 1 healthy, 0 unhealthy",
            self.healthy.clone(),
        );
        r.register(
            "failure_rate",
            "Failing containers in scope over all containers in scope",
            self.failure_rate.clone(),
        );
        r.register(
            "connector_state",
            "1 for the connector's current state (one-hot)",
            self.connectors.clone(),
        );
        r.register(
            "task_state",
            "1 for the task's current state (one-hot)",
            self.tasks.clone(),
        );
        r.register(
            "poll_duration_seconds",
            "Duration of one poll of Connect",
            self.poll_duration.clone(),
        );
        r.register("polls", "Polls of Connect", self.polls.clone());
        r.register(
            "poll_errors",
            "Failed polls of Connect by reason",
            self.poll_errors.clone(),
        );
    }

    /// Records one poll and its verdict; states are rewritten from scratch so deleted
    /// connectors disappear.
    pub fn record(&self, poll: &Poll, verdict: Option<&Verdict>) {
        self.polls.inc();
        let (duration, up) = match poll {
            Ok(s) => (s.duration, 1),
            Err(f) => {
                self.poll_errors
                    .get_or_create(&ReasonLabels {
                        reason: f.error.label().into(),
                    })
                    .inc();
                (f.duration, 0)
            }
        };
        self.poll_duration.observe(duration.as_secs_f64());
        self.connect_up.set(up);
        self.healthy
            .set(i64::from(up == 1 && verdict.is_some_and(|v| v.healthy)));
        self.failure_rate
            .set(verdict.map_or(0.0, |v| v.failure_rate));
        if let Ok(snapshot) = poll {
            self.record_states(snapshot);
        }
    }

    fn record_states(&self, snapshot: &crate::snapshot::Snapshot) {
        self.connectors.clear();
        self.tasks.clear();
        for (name, status) in snapshot
            .connectors
            .iter()
            .filter_map(|(n, s)| Some((n, s.as_ref()?)))
        {
            for state in STATES {
                let hot = i64::from(status.connector.state.eq_ignore_ascii_case(state));
                let labels = ConnectorLabels {
                    connector: name.clone(),
                    state: (*state).into(),
                    worker: status.connector.worker_id.clone(),
                };
                self.connectors.get_or_create(&labels).set(hot);
                for task in &status.tasks {
                    let labels = TaskLabels {
                        connector: name.clone(),
                        task: task.id.to_string(),
                        state: (*state).into(),
                        worker: task.worker_id.clone(),
                    };
                    self.tasks
                        .get_or_create(&labels)
                        .set(i64::from(task.state.eq_ignore_ascii_case(state)));
                }
            }
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}
