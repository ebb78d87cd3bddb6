//! Prometheus metrics (OpenMetrics text) with an explicit registry: Connect
//! reachability, one-hot connector and task states, poll duration and errors, and the
//! probe verdict. Names follow Prometheus conventions (`_total`, `_seconds`).

use std::{
    fmt,
    sync::{Arc, atomic::AtomicU64},
};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder, text::encode},
    metrics::{
        MetricType,
        counter::Counter,
        family::Family,
        gauge::{ConstGauge, Gauge},
        histogram::Histogram,
    },
    registry::Registry,
};
use tokio::sync::watch;

use super::Observed;
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
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RestartLabels {
    connector: String,
    /// `accepted`, or the error label (`conflict`, `timeout`, `http_status`, …).
    outcome: String,
}

/// The metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    connect_up: Gauge,
    healthy: Gauge,
    failure_rate: Gauge<f64, AtomicU64>,
    poll_duration: Histogram,
    polls: Counter,
    poll_errors: Family<ReasonLabels, Counter>,
    restarts: Family<RestartLabels, Counter>,
    remediating: Gauge,
    escalated: Gauge,
}

impl Metrics {
    /// Metrics whose connector and task states are read from `observed` at scrape time.
    pub fn new(observed: watch::Receiver<Arc<Observed>>) -> Self {
        let buckets = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        ];
        let mut m = Self {
            registry: Registry::with_prefix("connect_sentinel"),
            connect_up: Gauge::default(),
            healthy: Gauge::default(),
            failure_rate: Gauge::default(),
            poll_duration: Histogram::new(buckets),
            polls: Counter::default(),
            poll_errors: Family::default(),
            restarts: Family::default(),
            remediating: Gauge::default(),
            escalated: Gauge::default(),
        };
        let r = &mut m.registry;
        r.register(
            "connect_up",
            "1 when the last poll of Connect succeeded",
            m.connect_up.clone(),
        );
        r.register(
            "healthy",
            "The verdict GET / answers: 1 healthy, 0 unhealthy",
            m.healthy.clone(),
        );
        r.register(
            "failure_rate",
            "Failing containers in scope over all containers in scope",
            m.failure_rate.clone(),
        );
        r.register(
            "poll_duration_seconds",
            "Duration of one poll of Connect",
            m.poll_duration.clone(),
        );
        r.register("polls", "Polls of Connect", m.polls.clone());
        r.register(
            "poll_errors",
            "Failed polls of Connect by reason",
            m.poll_errors.clone(),
        );
        r.register(
            "restarts",
            "Auto-restarts by connector and outcome",
            m.restarts.clone(),
        );
        r.register(
            "remediating_connectors",
            "Connectors being auto-restarted, not yet escalated",
            m.remediating.clone(),
        );
        r.register(
            "escalated_connectors",
            "Failing connectors whose auto-restarts are exhausted or past the escalation point",
            m.escalated.clone(),
        );
        r.register_collector(Box::new(States { observed }));
        m
    }

    /// Records one poll and its verdict.
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
    }

    /// Counts one restart call of `connector` and how it went.
    pub fn record_restart(&self, connector: &str, outcome: &str) {
        let labels = RestartLabels {
            connector: connector.into(),
            outcome: outcome.into(),
        };
        self.restarts.get_or_create(&labels).inc();
    }

    /// Sets the remediation gauges from the published view.
    pub fn record_remediation(&self, entries: &[crate::remediate::Entry]) {
        let count = |phase| entries.iter().filter(|e| e.phase == phase).count() as i64;
        self.remediating.set(count("remediating"));
        self.escalated.set(count("escalated"));
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The one-hot `connector_state` and `task_state` series, encoded at scrape time from
/// the last successful snapshot: nothing is stored per series, so memory does not grow
/// with connectors × states. No series while Connect cannot be read (`connect_up` 0).
#[derive(Debug)]
struct States {
    observed: watch::Receiver<Arc<Observed>>,
}

impl Collector for States {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let observed = self.observed.borrow().clone();
        let Some(Ok(snapshot)) = &observed.poll else {
            return Ok(());
        };
        let statuses = || {
            snapshot
                .connectors
                .iter()
                .filter_map(|(n, s)| Some((n.as_str(), s.as_ref()?)))
        };
        let help = "1 for the connector's current state (one-hot)";
        let mut family =
            encoder.encode_descriptor("connector_state", help, None, MetricType::Gauge)?;
        for (name, status) in statuses() {
            let (state, worker) = (&status.connector.state, status.connector.worker_id.as_str());
            one_hot(&mut family, state, |s| {
                [("connector", name), ("state", s), ("worker", worker)]
            })?;
        }
        let help = "1 for the task's current state (one-hot)";
        let mut family = encoder.encode_descriptor("task_state", help, None, MetricType::Gauge)?;
        for (name, status) in statuses() {
            for task in &status.tasks {
                let (id, worker) = (task.id.to_string(), task.worker_id.as_str());
                one_hot(&mut family, &task.state, |s| {
                    [
                        ("connector", name),
                        ("task", id.as_str()),
                        ("state", s),
                        ("worker", worker),
                    ]
                })?;
            }
        }
        Ok(())
    }
}

/// One series per known state: 1 for `current`, 0 for the others.
fn one_hot<L: EncodeLabelSet>(
    family: &mut MetricEncoder<'_>,
    current: &str,
    labels: impl Fn(&'static str) -> L,
) -> Result<(), fmt::Error> {
    for state in STATES {
        let value = i64::from(current.eq_ignore_ascii_case(state));
        ConstGauge::new(value).encode(family.encode_family(&labels(state))?)?;
    }
    Ok(())
}
