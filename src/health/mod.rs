//! The health server's moving parts. Data flows one way: the [`poller`] loop (its own
//! thread, owning policy, interval and auto-restart through [`remedy`]) turns one
//! snapshot per interval into an [`Observed`] and publishes it; that is its only output
//! besides event counters. The [`router`] answers probes from the latest [`Observed`]
//! by the [`usable`] rule, and [`scrape`] derives the `/metrics` gauges from it by the
//! same rule at scrape time, as [`silent`] derives the silent-failure series and
//! [`strimzi`] Strimzi's names (opt-in).
//! [`metrics`] holds the registry and the event counters.

pub mod changes;
pub mod metrics;
pub mod poller;
pub mod remedy;
pub mod router;
pub mod scrape;
pub mod silent;
pub mod since;
pub mod strimzi;
pub mod usable;

#[cfg(test)]
pub(crate) mod fixtures;

use std::{sync::Arc, time::Duration};

use tokio::{sync::watch, time::Instant};

use crate::{
    snapshot::{Poll, Snapshot},
    verdict::{Policy, Transitions, Verdict},
};

/// What the poller last saw. Probes read it; only the poller writes it.
#[derive(Debug)]
pub struct Observed {
    /// The last poll, `None` before the first completes.
    pub poll: Option<Poll>,
    /// The verdict of the last successful poll.
    pub verdict: Option<Verdict>,
    /// When the last successful poll finished.
    pub ok_at: Option<Instant>,
    /// When this was published (the poller's heartbeat for `/livez`).
    pub published_at: Instant,
    /// How long transitional containers have been so.
    pub transitions: Transitions,
    /// How many polls have been published (tests wait on it instead of sleeping).
    pub seq: u64,
    /// Connectors under auto-restart (empty when it is off).
    pub remediation: Vec<crate::remediate::Entry>,
    /// The last remediation events, oldest first (`GET /remediation`'s `history`).
    pub remediation_history: Arc<Vec<crate::remediate::history::HistoryEntry>>,
    /// The remediation phase changes since the previously published observation (for
    /// notifications): a connector entering remediation, turning persistent,
    /// escalated, ignored or recovered.
    pub remediation_changes: Vec<crate::remediate::PhaseChange>,
    /// The silent-failure checks of the last successful poll (and what they carry).
    pub silent: crate::silent::Report,
    /// Each connector's state and since when (the status page's time in state).
    pub since: since::Since,
    /// While polls fail: the last successful poll's snapshot (the status page keeps
    /// showing it, marked stale); `None` when `poll` holds a snapshot.
    pub last_good: Option<Arc<Snapshot>>,
}

impl Observed {
    /// The latest snapshot there is: the last poll's, or while polls fail the last
    /// successful one's.
    pub fn latest_snapshot(&self) -> Option<&Snapshot> {
        match &self.poll {
            Some(Ok(snapshot)) => Some(snapshot),
            _ => self.last_good.as_deref(),
        }
    }

    /// Nothing observed yet, as of `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            poll: None,
            verdict: None,
            ok_at: None,
            published_at: now,
            transitions: Transitions::default(),
            seq: 0,
            remediation: Vec::new(),
            remediation_history: Arc::default(),
            remediation_changes: Vec::new(),
            silent: Default::default(),
            since: Default::default(),
            last_good: None,
        }
    }
}

/// What the HTTP handlers share; cheap to clone. The poll loop has its own settings.
#[derive(Clone, Debug)]
pub struct HealthState {
    pub policy: Arc<Policy>,
    /// The latest observation; a `watch` so readers never block the poller.
    pub observed: watch::Receiver<Arc<Observed>>,
    pub poll_interval: Duration,
    pub max_age: Duration,
    pub metrics: Arc<metrics::HealthMetrics>,
    /// The Connect URL, for the copy-paste commands of the status page.
    pub connect_url: Arc<str>,
    /// How those commands name this binary.
    pub program: Arc<str>,
}

impl HealthState {
    /// The latest observation.
    pub fn latest(&self) -> Arc<Observed> {
        self.observed.borrow().clone()
    }

    /// The snapshot of `observed` if it is usable now (see [`usable`]).
    pub fn usable<'a>(&self, observed: &'a Observed) -> Result<&'a Snapshot, usable::Unusable<'a>> {
        usable::snapshot(observed, self.max_age, Instant::now())
    }

    /// True while the poller keeps publishing (each iteration is bounded by the call
    /// timeouts).
    pub fn poller_alive(&self) -> bool {
        let beat = self.observed.borrow().published_at;
        beat.elapsed() <= self.max_age.max(self.poll_interval * 3)
    }
}
