//! Prometheus metrics (OpenMetrics text) with an explicit registry. Events the poll
//! loop counts as they happen (polls, poll errors by reason, restarts by outcome, poll
//! durations) are counters here; everything that describes the current state (Connect
//! reachability, the verdict, remediation, one-hot states) is derived from the latest
//! [`Observed`] at scrape time by [`super::scrape`]. Names follow Prometheus
//! conventions (`_total`, `_seconds`). Ours carry the `connect_sentinel_` prefix on a
//! sub-registry; the root, unprefixed, takes the Strimzi-named series of
//! `--metrics-compat strimzi` ([`super::strimzi`]).

use std::{sync::Arc, time::Duration};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};
use tokio::sync::watch;

use super::{Observed, scrape, strimzi};
use crate::{snapshot::Poll, verdict::WorkerScope};

/// Series in another project's names that `/metrics` carries besides ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compat {
    /// Strimzi's JMX exporter rules for Kafka Connect.
    Strimzi,
}

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    connector: String,
    /// `restart-tasks`, `restart-connector`, `recreate`, `classify`, `escalate`.
    step: String,
    /// `accepted` or an error label; `non-restartable`, `ignored`; `escalated`.
    outcome: String,
}

/// The registry and the event counters.
#[derive(Debug)]
pub struct HealthMetrics {
    registry: Registry,
    poll_duration: Histogram,
    polls: Counter,
    poll_errors: Family<ReasonLabels, Counter>,
    restarts: Family<RestartLabels, Counter>,
    actions: Family<ActionLabels, Counter>,
}

impl HealthMetrics {
    /// HealthMetrics whose gauges are read from `observed` at scrape time, by the same
    /// `max_age` rule the router answers by.
    pub fn new(observed: watch::Receiver<Arc<Observed>>, max_age: Duration) -> Self {
        let buckets = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        ];
        let mut m = Self {
            registry: Registry::default(),
            poll_duration: Histogram::new(buckets),
            polls: Counter::default(),
            poll_errors: Family::default(),
            restarts: Family::default(),
            actions: Family::default(),
        };
        let r = m.registry.sub_registry_with_prefix("connect_sentinel");
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
            "remediation_actions",
            "Remediation actions and decisions by connector, step and outcome",
            m.actions.clone(),
        );
        scrape::register(r, observed, max_age);
        m
    }

    /// Adds the series of `compat`, read from `observed` at scrape time by the same
    /// `max_age` rule, for the instances `scope` matches.
    pub fn with_compat(
        self,
        compat: Option<Compat>,
        observed: watch::Receiver<Arc<Observed>>,
        max_age: Duration,
        scope: WorkerScope,
    ) -> Self {
        match compat {
            Some(Compat::Strimzi) => self.with_strimzi(observed, max_age, scope),
            None => self,
        }
    }

    /// Adds Strimzi's series (see [`strimzi`]).
    pub fn with_strimzi(
        mut self,
        observed: watch::Receiver<Arc<Observed>>,
        max_age: Duration,
        scope: WorkerScope,
    ) -> Self {
        strimzi::register(&mut self.registry, observed, max_age, scope);
        self
    }

    /// Adds `connect_sentinel_notifications_total{outcome}` (with `--webhook-url`).
    pub fn with_notifications(mut self, counters: Option<&crate::notify::Counters>) -> Self {
        if let Some(counters) = counters {
            counters.register(self.registry.sub_registry_with_prefix("connect_sentinel"));
        }
        self
    }

    /// Counts one poll, its duration and, if it failed, why.
    pub fn record_poll(&self, poll: &Poll) {
        self.polls.inc();
        let duration = match poll {
            Ok(s) => s.duration,
            Err(f) => {
                let reason = f.error.label().into();
                self.poll_errors
                    .get_or_create(&ReasonLabels { reason })
                    .inc();
                f.duration
            }
        };
        self.poll_duration.observe(duration.as_secs_f64());
    }

    /// Counts one restart call of `connector` and how it went.
    pub fn record_restart(&self, connector: &str, outcome: &str) {
        let labels = RestartLabels {
            connector: connector.into(),
            outcome: outcome.into(),
        };
        self.restarts.get_or_create(&labels).inc();
    }

    /// Counts one remediation action or decision.
    pub fn record_action(&self, connector: &str, step: &str, outcome: &str) {
        let labels = ActionLabels {
            connector: connector.into(),
            step: step.into(),
            outcome: outcome.into(),
        };
        self.actions.get_or_create(&labels).inc();
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}
