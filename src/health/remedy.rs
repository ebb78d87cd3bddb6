//! Auto-restart in the poll loop. Before each publish the pure [`Ledger`] decides which
//! failures are held (still being remediated) and which restarts are due; after the
//! publish they are performed, a few at a time, each logged and counted.

use std::collections::BTreeSet;

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

/// Auto-restart's state, owned by the poll loop.
#[derive(Debug)]
pub struct Remediation {
    policy: RestartPolicy,
    executor: Executor,
    ledger: Ledger,
}

impl Remediation {
    pub fn new(policy: RestartPolicy, executor: Executor) -> Self {
        Self {
            policy,
            executor,
            ledger: Ledger::default(),
        }
    }

    /// Decides on one snapshot at `now`.
    pub fn decide(&mut self, snapshot: &Snapshot, scope: &Policy, now: Instant) -> Decision {
        let failed = remediate::failed(snapshot, scope, &self.policy);
        let held = self.ledger.held(&failed, &self.policy);
        let due = self.ledger.step(failed, &self.policy, now);
        let view = self.ledger.view(&self.policy, now);
        Decision { held, due, view }
    }

    /// Performs the restarts, logging and counting each.
    pub async fn perform(&mut self, due: Vec<Restart>, metrics: &Metrics) {
        let executor = &self.executor;
        let results: Vec<_> = stream::iter(due)
            .map(|restart| async move {
                let result = executor.restart(&restart.connector, &restart.failed).await;
                (restart, result)
            })
            .buffer_unordered(PARALLELISM)
            .collect()
            .await;
        for (restart, result) in results {
            let outcome = match &result {
                Ok(()) => "accepted".to_string(),
                Err(e) => e.to_string(),
            };
            metrics.record_restart(
                &restart.connector,
                result.as_ref().map_or_else(|e| e.label(), |_| "accepted"),
            );
            log(&restart, &result);
            self.ledger.outcome(&restart.connector, outcome);
        }
        metrics.record_remediation(&self.ledger.view(&self.policy, Instant::now()));
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
