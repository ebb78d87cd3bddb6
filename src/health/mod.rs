//! The health server's moving parts: the background [`poller`] that turns one
//! snapshot per interval into a verdict, the shared [`HealthState`] probes read from
//! memory, the [`router`], and the [`metrics`]. Data flows one way:
//! Connect → client → snapshot → {verdict, metrics, remediation ([`remedy`])}.

pub mod metrics;
pub mod poller;
pub mod remedy;
pub mod router;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{sync::watch, time::Instant};

use crate::{
    snapshot::Poll,
    verdict::{Policy, Transitions, Verdict},
};

/// What the poller last saw. Probes read it; only the poller writes it.
#[derive(Debug, Default)]
pub struct Observed {
    /// The last poll, `None` before the first completes.
    pub poll: Option<Poll>,
    /// The verdict of the last successful poll.
    pub verdict: Option<Verdict>,
    /// When the last successful poll finished.
    pub ok_at: Option<Instant>,
    /// How long transitional containers have been so.
    pub transitions: Transitions,
    /// How many polls have been published (tests wait on it instead of sleeping).
    pub seq: u64,
    /// Connectors under auto-restart (empty when it is off).
    pub remediation: Vec<crate::remediate::Entry>,
}

/// State shared by the poller and the HTTP handlers; cheap to clone.
#[derive(Clone, Debug)]
pub struct HealthState {
    pub policy: Arc<Policy>,
    /// The latest observation; a `watch` so readers never block the poller.
    pub observed: watch::Receiver<Arc<Observed>>,
    /// When the poller last finished an iteration (its heartbeat for `/livez`).
    pub heartbeat: Arc<Mutex<Instant>>,
    pub poll_interval: Duration,
    pub max_age: Duration,
    pub metrics: Arc<metrics::Metrics>,
}

impl HealthState {
    /// The latest observation.
    pub fn latest(&self) -> Arc<Observed> {
        self.observed.borrow().clone()
    }

    /// Age of the last successful poll.
    pub fn age(&self, observed: &Observed) -> Option<Duration> {
        observed.ok_at.map(|at| at.elapsed())
    }

    /// True while the poller keeps iterating (it is bounded by the call timeouts).
    pub fn poller_alive(&self) -> bool {
        let beat = *self.heartbeat.lock().unwrap_or_else(|e| e.into_inner());
        beat.elapsed() <= self.max_age.max(self.poll_interval * 3)
    }
}
