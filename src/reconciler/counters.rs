//! `reconcile`'s Prometheus metrics: passes by trigger and outcome, changes applied and
//! failed by action, drift detected, the last success and the pass duration.

use std::{
    sync::atomic::AtomicU64,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use prometheus_client::{
    encoding::{
        EncodeLabelSet,
        text::{encode, encode_registry},
    },
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use super::{Outcome, Trigger};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PassLabels {
    trigger: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
}

/// The metrics and their registry.
#[derive(Debug)]
pub struct ReconcileMetrics {
    registry: Registry,
    passes: Family<PassLabels, Counter>,
    changes: Family<ActionLabels, Counter>,
    failures: Family<ActionLabels, Counter>,
    drift: Counter,
    last_success: Gauge<f64, AtomicU64>,
    duration: Histogram,
}

impl Default for ReconcileMetrics {
    fn default() -> Self {
        let buckets = [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ];
        let mut m = Self {
            registry: Registry::with_prefix("connect_sentinel_reconcile"),
            passes: Family::default(),
            changes: Family::default(),
            failures: Family::default(),
            drift: Counter::default(),
            last_success: Gauge::default(),
            duration: Histogram::new(buckets),
        };
        let r = &mut m.registry;
        r.register(
            "passes",
            "Reconcile passes by trigger and outcome",
            m.passes.clone(),
        );
        r.register(
            "changes",
            "Changes applied to Connect by action",
            m.changes.clone(),
        );
        r.register(
            "change_failures",
            "Changes Connect refused or that timed out, by action",
            m.failures.clone(),
        );
        r.register(
            "drift",
            "Connectors found changed by hand while the manifests were not",
            m.drift.clone(),
        );
        r.register(
            "last_success_timestamp_seconds",
            "Unix time of the last pass after which Connect matched the manifests",
            m.last_success.clone(),
        );
        r.register(
            "pass_duration_seconds",
            "Duration of one pass",
            m.duration.clone(),
        );
        m
    }
}

impl ReconcileMetrics {
    /// Records one pass.
    pub fn record_pass(&self, trigger: Trigger, outcome: &Outcome, took: Duration) {
        let labels = PassLabels {
            trigger: trigger.label(),
            outcome: outcome.label(),
        };
        self.passes.get_or_create(&labels).inc();
        self.duration.observe(took.as_secs_f64());
        if outcome.converged() {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            self.last_success.set(now.as_secs_f64());
        }
    }

    /// Counts one change, applied or failed.
    pub fn change(&self, action: &'static str, ok: bool) {
        let family = if ok { &self.changes } else { &self.failures };
        family.get_or_create(&ActionLabels { action }).inc();
    }

    /// Counts connectors found drifted.
    pub fn drift(&self, connectors: usize) {
        self.drift.inc_by(connectors as u64);
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// The families without the closing `# EOF`, to go before another registry's.
    pub fn encode_families(&self) -> String {
        let mut out = String::new();
        let _ = encode_registry(&mut out, &self.registry);
        out
    }
}
