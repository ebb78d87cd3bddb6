//! The `/metrics` series that describe the current state, derived from the latest
//! [`Observed`] at scrape time: `connect_up`, `healthy`, `failure_rate`, the
//! remediation counts and the one-hot `connector_state`/`task_state`. Nothing is
//! stored per series, so memory does not grow with connectors × states, and the
//! [`usable`] rule applies as it does for `/`: a stale snapshot, a failed poll or no
//! poll yet reads `connect_up` 0, `healthy` 0, `failure_rate` 0 and no state series.

use std::{fmt, sync::Arc, time::Duration};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder},
    metrics::{MetricType, gauge::ConstGauge},
    registry::Registry,
};
use tokio::{sync::watch, time::Instant};

use super::{Observed, usable};
use crate::{remediate::Phase, snapshot::Snapshot};

/// Every state a connector or task can report (spec §17), for one-hot gauges.
pub const STATES: &[&str] = &[
    "RUNNING",
    "PAUSED",
    "FAILED",
    "UNASSIGNED",
    "RESTARTING",
    "STOPPED",
];

/// The state gauges' values at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Gauges {
    pub connect_up: i64,
    pub healthy: i64,
    pub failure_rate: f64,
    pub remediating: i64,
    pub escalated: i64,
}

/// The gauges `observed` reads as at `now`: the verdict's only while it is usable.
/// The remediation counts are those `GET /remediation` lists.
pub fn gauges(observed: &Observed, max_age: Duration, now: Instant) -> Gauges {
    let up = usable::snapshot(observed, max_age, now).is_ok();
    let verdict = usable::verdict(observed, max_age, now).ok();
    let count = |phases: &[Phase]| {
        let n = observed
            .remediation
            .iter()
            .filter(|e| phases.contains(&e.phase));
        n.count() as i64
    };
    Gauges {
        connect_up: i64::from(up),
        healthy: i64::from(verdict.is_some_and(|v| v.healthy)),
        failure_rate: verdict.map_or(0.0, |v| v.failure_rate),
        remediating: count(&[Phase::Remediating]),
        escalated: count(&[Phase::Escalated, Phase::Persistent]),
    }
}

/// Registers the scrape-time collectors over `observed`.
pub fn register(
    registry: &mut Registry,
    observed: watch::Receiver<Arc<Observed>>,
    max_age: Duration,
) {
    registry.register_collector(Box::new(Scrape { observed, max_age }));
}

#[derive(Debug)]
struct Scrape {
    observed: watch::Receiver<Arc<Observed>>,
    max_age: Duration,
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let observed = self.observed.borrow().clone();
        let now = Instant::now();
        encode_gauges(&mut encoder, &gauges(&observed, self.max_age, now))?;
        encode_phases(&mut encoder, &observed)?;
        let usable = usable::snapshot(&observed, self.max_age, now).ok();
        super::silent::encode(&mut encoder, usable.map(|_| &observed.silent))?;
        match usable {
            Some(snapshot) => encode_states(&mut encoder, snapshot),
            None => Ok(()),
        }
    }
}

fn encode_gauges(encoder: &mut DescriptorEncoder, g: &Gauges) -> Result<(), fmt::Error> {
    let mut gauge = |name, help, value: i64| {
        ConstGauge::new(value).encode(encoder.encode_descriptor(
            name,
            help,
            None,
            MetricType::Gauge,
        )?)
    };
    let up = "1 when the last poll of Connect succeeded and is no older than --max-age";
    gauge("connect_up", up, g.connect_up)?;
    let healthy = "The verdict GET / answers: 1 healthy, 0 unhealthy (stale or no poll: 0)";
    gauge("healthy", healthy, g.healthy)?;
    let remediating = "Connectors being auto-restarted, not yet escalated";
    gauge("remediating_connectors", remediating, g.remediating)?;
    let escalated = "Failing connectors that count in / although under auto-restart: past \
         the escalation point, out of ladder steps, or classified non-restartable";
    gauge("escalated_connectors", escalated, g.escalated)?;
    let help = "Failing containers in scope over all containers in scope";
    let rate = encoder.encode_descriptor("failure_rate", help, None, MetricType::Gauge)?;
    ConstGauge::new(g.failure_rate).encode(rate)
}

/// `remediation_phase{connector,phase}`: one-hot over the phases, per connector under
/// remediation (as `GET /remediation` lists them).
fn encode_phases(encoder: &mut DescriptorEncoder, observed: &Observed) -> Result<(), fmt::Error> {
    if observed.remediation.is_empty() {
        return Ok(());
    }
    let help = "1 for the connector's current remediation phase (one-hot)";
    let mut family =
        encoder.encode_descriptor("remediation_phase", help, None, MetricType::Gauge)?;
    for entry in &observed.remediation {
        for phase in Phase::ALL {
            let labels = [
                ("connector", entry.connector.as_str()),
                ("phase", phase.as_str()),
            ];
            let value = i64::from(entry.phase == phase);
            ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
        }
    }
    Ok(())
}

/// The one-hot `connector_state` and `task_state` series of `snapshot`.
fn encode_states(encoder: &mut DescriptorEncoder, snapshot: &Snapshot) -> Result<(), fmt::Error> {
    let help = "1 for the connector's current state (one-hot)";
    let mut family = encoder.encode_descriptor("connector_state", help, None, MetricType::Gauge)?;
    for i in snapshot.instances().filter(|i| i.task.is_none()) {
        one_hot(&mut family, i.state, |s| {
            [
                ("connector", i.connector),
                ("state", s),
                ("worker", i.worker_id),
            ]
        })?;
    }
    let help = "1 for the task's current state (one-hot)";
    let mut family = encoder.encode_descriptor("task_state", help, None, MetricType::Gauge)?;
    for (i, id) in snapshot.instances().filter_map(|i| Some((i, i.task?))) {
        let id = id.to_string();
        one_hot(&mut family, i.state, |s| {
            let task = ("task", id.as_str());
            [
                ("connector", i.connector),
                task,
                ("state", s),
                ("worker", i.worker_id),
            ]
        })?;
    }
    Ok(())
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

#[cfg(test)]
mod tests;
