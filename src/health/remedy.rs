//! Auto-restart in the poll loop. Before each publish the pure [`Ledger`] decides which
//! failures are held (still being remediated) and which restarts are due; after the
//! publish they are performed, a few at a time, each logged and counted.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
};

use futures::{StreamExt, stream};
use tokio::time::Instant;

use super::metrics::Metrics;
use crate::{
    remediate::{self, Entry, Ledger, Restart, RestartPolicy, execute::Executor},
    snapshot::Snapshot,
    verdict::{Key, Policy},
};

/// How many connectors are restarted at once.
const PARALLELISM: usize = 4;

/// What to do with one poll.
#[derive(Debug, Default)]
pub struct Decision {
    /// Failures that do not count towards the verdict yet.
    pub held: BTreeSet<Key>,
    /// Restarts to perform after publishing.
    pub due: Vec<Restart>,
    /// The published remediation state.
    pub view: Vec<Entry>,
}

/// Auto-restart's state, owned by the poll loop; restarts run in their own tasks so a
/// slow restart (synchronous, or queued behind a rebalance) never delays polling.
#[derive(Debug)]
pub struct Remediation {
    policy: RestartPolicy,
    executor: Executor,
    ledger: Arc<Mutex<Ledger>>,
}

impl Remediation {
    pub fn new(policy: RestartPolicy, executor: Executor) -> Self {
        Self {
            policy,
            executor,
            ledger: Arc::default(),
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decides on one snapshot at `now`.
    pub fn decide(&mut self, snapshot: &Snapshot, scope: &Policy, now: Instant) -> Decision {
        let failed = remediate::failed(snapshot, scope, &self.policy);
        let mut ledger = self.ledger();
        let held = ledger.held(&failed, &self.policy);
        let due = ledger.step(failed, &self.policy, now);
        let view = ledger.view(&self.policy, now);
        Decision { held, due, view }
    }

    /// The state as it stands, when a poll failed (nothing is decided then).
    pub fn view(&self, now: Instant) -> Decision {
        let view = self.ledger().view(&self.policy, now);
        Decision {
            view,
            ..Decision::default()
        }
    }

    /// Starts the restarts in the background, logging and counting each.
    pub fn perform(&self, due: Vec<Restart>, metrics: Arc<Metrics>) {
        if due.is_empty() {
            return;
        }
        let calls: Vec<_> = due
            .into_iter()
            .map(|restart| {
                let executor = self.executor.clone();
                async move {
                    let result = executor.restart(&restart.connector, &restart.failed).await;
                    (restart, result)
                }
            })
            .collect();
        let ledger = self.ledger.clone();
        tokio::spawn(async move {
            let results: Vec<_> = stream::iter(calls)
                .buffer_unordered(PARALLELISM)
                .collect()
                .await;
            let mut ledger = ledger.lock().unwrap_or_else(|e| e.into_inner());
            for (restart, result) in results {
                let label = result.as_ref().map_or_else(|e| e.label(), |_| "accepted");
                metrics.record_restart(&restart.connector, label);
                log(&restart, &result);
                let outcome = result.map_or_else(|e| e.to_string(), |_| "accepted".to_string());
                ledger.outcome(&restart.connector, outcome);
            }
        });
    }
}

/// One line per restart: what, which attempt, when the next, and why it failed.
fn log(restart: &Restart, result: &Result<(), crate::connect::ConnectError>) {
    let tasks = format!("{:?}", restart.failed.tasks);
    let next = restart.next_in.map_or_else(
        || "none (max restarts reached)".to_string(),
        |d| humantime::format_duration(d).to_string(),
    );
    let cause = restart.failed.cause.as_deref().unwrap_or_default();
    let (connector, attempt) = (&restart.connector, restart.attempt);
    match result {
        Ok(()) => tracing::warn!(
            connector,
            connector_failed = restart.failed.connector,
            tasks,
            attempt,
            next_attempt_in = next,
            cause,
            "restarted"
        ),
        Err(e) => tracing::error!(
            connector, connector_failed = restart.failed.connector, tasks, attempt,
            next_attempt_in = next, cause, error = %e, "restart failed"
        ),
    }
}
