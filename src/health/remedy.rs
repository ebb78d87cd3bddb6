//! Auto-restart in the poll loop. Before each publish the pure [`Ledger`] decides which
//! failures are held (still being remediated) and which restarts are due; after the
//! publish they are started, a few at a time, each in its own task. A task never
//! touches the ledger: its [`Finished`] comes back to the loop through a channel, and
//! the loop applies it (so the loop alone owns the ledger, and a connector whose
//! restart is still in flight is not restarted again).

use std::{collections::BTreeSet, sync::Arc};

use tokio::{
    sync::{Semaphore, mpsc},
    time::Instant,
};

use super::metrics::HealthMetrics;
use crate::{
    connect::ConnectError,
    remediate::{self, Entry, Ledger, Restart, RestartPolicy, execute::Executor},
    snapshot::Snapshot,
    verdict::{Key, Policy},
};

/// How many restart calls run at once.
const PARALLELISM: usize = 4;

/// What to do with one poll.
#[derive(Debug, Default)]
pub struct Decision {
    /// Failures that do not count towards the verdict yet.
    pub held: BTreeSet<Key>,
    /// Restarts to start after publishing.
    pub due: Vec<Restart>,
    /// The published remediation state.
    pub view: Vec<Entry>,
}

/// How one restart call went, on its way back to the loop.
#[derive(Debug)]
pub struct Finished {
    pub restart: Restart,
    pub result: Result<(), ConnectError>,
}

/// Auto-restart's state, owned by the poll loop; restarts run in their own tasks so a
/// slow restart (synchronous, or queued behind a rebalance) never delays polling.
#[derive(Debug)]
pub struct Remediation {
    policy: RestartPolicy,
    executor: Executor,
    ledger: Ledger,
    /// Bounds the restart calls in flight, across polls.
    permits: Arc<Semaphore>,
    finished_tx: mpsc::UnboundedSender<Finished>,
    finished_rx: mpsc::UnboundedReceiver<Finished>,
}

impl Remediation {
    pub fn new(policy: RestartPolicy, executor: Executor) -> Self {
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        Self {
            policy,
            executor,
            ledger: Ledger::default(),
            permits: Arc::new(Semaphore::new(PARALLELISM)),
            finished_tx,
            finished_rx,
        }
    }

    /// The restart histories (read-only; only [`Remediation`] changes them).
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Decides on one snapshot at `now`.
    pub fn decide(&mut self, snapshot: &Snapshot, scope: &Policy, now: Instant) -> Decision {
        let failed = remediate::failed(snapshot, scope, &self.policy);
        let held = self.ledger.held(&failed, &self.policy);
        let due = self.ledger.step(failed, &self.policy, now);
        let view = self.ledger.view(&self.policy, now);
        Decision { held, due, view }
    }

    /// The state as it stands, when a poll failed (nothing is decided then).
    pub fn view(&self, now: Instant) -> Decision {
        Decision {
            view: self.ledger.view(&self.policy, now),
            ..Decision::default()
        }
    }

    /// Starts each restart in its own task; each reports back through the channel.
    pub fn start(&self, due: Vec<Restart>) {
        for restart in due {
            let (executor, permits) = (self.executor.clone(), self.permits.clone());
            let finished = self.finished_tx.clone();
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = executor.restart(&restart.connector, &restart.failed).await;
                let _ = finished.send(Finished { restart, result });
            });
        }
    }

    /// The next restart to finish (pending forever while none is in flight).
    pub async fn next_finished(&mut self) -> Finished {
        match self.finished_rx.recv().await {
            Some(finished) => finished,
            None => std::future::pending().await,
        }
    }

    /// Applies a finished restart to the ledger, logging and counting it.
    pub fn apply(&mut self, finished: Finished, metrics: &HealthMetrics) {
        let Finished { restart, result } = finished;
        let label = result.as_ref().map_or_else(|e| e.label(), |_| "accepted");
        metrics.record_restart(&restart.connector, label);
        log(&restart, &result);
        let outcome = result.map_or_else(|e| e.to_string(), |_| "accepted".to_string());
        self.ledger.finished(&restart.connector, outcome);
    }
}

/// One line per restart: what, which attempt, when the next, and why it failed.
fn log(restart: &Restart, result: &Result<(), ConnectError>) {
    let tasks: Vec<String> = restart.failed.tasks.iter().map(u32::to_string).collect();
    let tasks = tasks.join(",");
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::watch;

    use super::*;
    use crate::{
        connect::{ClientOptions, ConnectClient, retry::Backoff},
        health::{Observed, fixtures},
    };

    /// Auto-restart against a port nothing listens on: every call fails at once.
    fn unreachable() -> Remediation {
        let client = ConnectClient::new(ClientOptions::new("http://127.0.0.1:9")).unwrap();
        let retry = Backoff {
            retries: 0,
            base: Duration::ZERO,
        };
        let policy = RestartPolicy {
            schedule: "0s".parse().unwrap(),
            ..RestartPolicy::default()
        };
        Remediation::new(policy, Executor::new(client, false, retry))
    }

    #[tokio::test]
    async fn a_finished_restart_reaches_the_ledger_through_the_channel() {
        let failing = fixtures::snapshot(&[("c", "FAILED")]);
        let due = |r: &mut Remediation| r.decide(&failing, &Policy::default(), Instant::now()).due;
        let mut remediation = unreachable();
        let first = due(&mut remediation);
        assert_eq!(first.len(), 1);
        remediation.start(first);
        assert!(
            due(&mut remediation).is_empty(),
            "in flight: not restarted again"
        );
        let finished = remediation.next_finished().await;
        let observed = watch::channel(Arc::new(Observed::new(Instant::now()))).1;
        let metrics = HealthMetrics::new(observed, Duration::from_secs(10));
        remediation.apply(finished, &metrics);
        let record = remediation.ledger().get("c").unwrap();
        let outcome = record.last_outcome.as_deref().unwrap_or_default();
        assert!(
            !record.in_flight && outcome.contains("unreachable"),
            "{record:?}"
        );
        let counted = r#"connect_sentinel_restarts_total{connector="c",outcome="unreachable"} 1"#;
        assert!(metrics.encode().contains(counted), "{}", metrics.encode());
        assert_eq!(due(&mut remediation).len(), 1, "finished: due again");
    }
}
