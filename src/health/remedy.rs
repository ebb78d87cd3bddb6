//! Auto-remediation in the poll loop. Before each publish the pure [`Ledger`] decides
//! which failures are held (still being remediated) and which actions are due; after
//! the publish they are started, a few at a time, each in its own task. A task never
//! touches the ledger: its [`Finished`] comes back to the loop through a channel, and
//! the loop applies it (so the loop alone owns the ledger, and a connector whose
//! action is still in flight is not acted on again). Every action and decision
//! ([`Event`]) is one log line, one count of
//! `connect_sentinel_remediation_actions_total` and one `history` entry.

use std::{collections::BTreeSet, sync::Arc, time::SystemTime};

use tokio::{
    sync::{Semaphore, mpsc},
    time::Instant,
};

use super::metrics::HealthMetrics;
use crate::{
    remediate::{
        self, Action, Entry, Event, Ledger, Policies, StepKind,
        execute::{ExecuteError, Executor},
        history::{History, HistoryEntry},
    },
    snapshot::Snapshot,
    verdict::{Key, Policy},
};

/// How many actions run at once.
const PARALLELISM: usize = 4;

/// What to do with one poll.
#[derive(Debug, Default)]
pub struct Decision {
    /// Failures that do not count towards the verdict yet.
    pub held: BTreeSet<Key>,
    /// Actions to start after publishing.
    pub due: Vec<Action>,
    /// The published remediation state.
    pub view: Vec<Entry>,
    /// The last events, oldest first (`GET /remediation`'s `history`).
    pub history: Arc<Vec<HistoryEntry>>,
}

/// How one action went, on its way back to the loop.
#[derive(Debug)]
pub struct Finished {
    pub action: Action,
    pub result: Result<(), ExecuteError>,
}

/// Auto-remediation's state, owned by the poll loop; actions run in their own tasks so
/// a slow restart (synchronous, or queued behind a rebalance) never delays polling.
#[derive(Debug)]
pub struct Remediation {
    policies: Policies,
    executor: Executor,
    ledger: Ledger,
    history: History,
    /// The history as last published, rebuilt only when an event was added since.
    published: Arc<Vec<HistoryEntry>>,
    added: bool,
    /// Bounds the actions in flight, across polls.
    permits: Arc<Semaphore>,
    finished_tx: mpsc::UnboundedSender<Finished>,
    finished_rx: mpsc::UnboundedReceiver<Finished>,
    /// A copy of every event, for the reconciler's Kubernetes Events (dropped, with a
    /// warning, while the receiver is [`TAP_CAPACITY`] behind).
    tap: Option<mpsc::Sender<Event>>,
}

/// How many events the tap holds for a slow receiver.
pub const TAP_CAPACITY: usize = 256;

impl Remediation {
    /// Remediation by `policies` through `executor`, keeping the last `history` events.
    pub fn new(policies: Policies, executor: Executor, history: usize) -> Self {
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        Self {
            policies,
            executor,
            ledger: Ledger::default(),
            history: History::new(history),
            published: Arc::default(),
            added: false,
            permits: Arc::new(Semaphore::new(PARALLELISM)),
            finished_tx,
            finished_rx,
            tap: None,
        }
    }

    /// This remediation, sending a copy of every event to the receiver returned.
    pub fn with_tap(mut self) -> (Self, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(TAP_CAPACITY);
        self.tap = Some(tx);
        (self, rx)
    }

    /// Each named connector gets the default policy with its own `max_restarts` (the
    /// reconciler's `maxRestarts` from each manifest); the others keep the default.
    pub fn cap_each<'a>(&mut self, caps: impl Iterator<Item = (&'a String, Option<u32>)>) {
        let Some(default) = &self.policies.default else {
            return;
        };
        self.policies.per_connector = caps
            .map(|(name, max)| {
                let own = crate::remediate::RestartPolicy {
                    max_restarts: max,
                    ..default.clone()
                };
                (name.clone(), Some(own))
            })
            .collect();
    }

    /// The remediation records (read-only; only [`Remediation`] changes them).
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Decides on one snapshot at `now`; records (logs, counts) the events that need
    /// no IO.
    pub fn decide(
        &mut self,
        snapshot: &Snapshot,
        scope: &Policy,
        now: Instant,
        metrics: &HealthMetrics,
    ) -> Decision {
        let seen = remediate::seen(snapshot, scope, &self.policies);
        let held = self.ledger.held(&seen.failed, &self.policies);
        let decided = self.ledger.step(seen, &self.policies, now);
        for event in &decided.events {
            self.record(event, metrics);
        }
        Decision {
            held,
            due: decided.due,
            ..self.view(now)
        }
    }

    /// The state as it stands, when a poll failed (nothing is decided then).
    pub fn view(&mut self, now: Instant) -> Decision {
        if std::mem::take(&mut self.added) {
            self.published = Arc::new(self.history.entries().cloned().collect());
        }
        Decision {
            view: self.ledger.view(&self.policies, now),
            history: self.published.clone(),
            ..Decision::default()
        }
    }

    /// Starts each action in its own task; each reports back through the channel.
    pub fn start(&self, due: Vec<Action>) {
        for action in due {
            let (executor, permits) = (self.executor.clone(), self.permits.clone());
            let finished = self.finished_tx.clone();
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = executor.perform(&action).await;
                let _ = finished.send(Finished { action, result });
            });
        }
    }

    /// The next action to finish (pending forever while none is in flight).
    pub async fn next_finished(&mut self) -> Finished {
        match self.finished_rx.recv().await {
            Some(finished) => finished,
            None => std::future::pending().await,
        }
    }

    /// Applies a finished action to the ledger, logging, counting and recording it.
    pub fn apply(&mut self, finished: Finished, metrics: &HealthMetrics) {
        let Finished { action, result } = finished;
        let label = result.as_ref().map_or_else(|e| e.label(), |_| "accepted");
        metrics.record_restart(&action.connector, label);
        let outcome = result.map_or_else(|e| e.to_string(), |_| "accepted".to_string());
        let event = Event {
            connector: action.connector.clone(),
            step: action.step.as_str(),
            attempt: action.attempt,
            outcome: outcome.clone(),
            cause: action.failed.cause.clone().unwrap_or_default(),
        };
        log_action(&action, &event);
        metrics.record_action(&event.connector, event.step, label);
        self.keep(event);
        self.ledger.finished(&action.connector, outcome);
    }

    /// Adds `event` to the history and the tap.
    fn keep(&mut self, event: Event) {
        self.history.push(&event, SystemTime::now());
        self.added = true;
        if let Some(tap) = &self.tap
            && let Err(mpsc::error::TrySendError::Full(e)) = tap.try_send(event)
        {
            tracing::warn!(connector = %e.connector, step = e.step, "remediation event not passed on: its receiver is behind");
        }
    }

    /// One line, one count and one history entry for an event with no IO.
    fn record(&mut self, event: &Event, metrics: &HealthMetrics) {
        let (connector, step, attempt) = (&event.connector, event.step, event.attempt);
        let (outcome, cause) = (&event.outcome, &event.cause);
        tracing::warn!(
            connector,
            step,
            attempt,
            outcome,
            cause,
            "{}",
            step_message(event)
        );
        let label = outcome.split(' ').next().unwrap_or_default();
        metrics.record_action(connector, step, label);
        self.keep(event.clone());
    }
}

fn step_message(event: &Event) -> &'static str {
    match event.step {
        "classify" if event.outcome.starts_with("ignored") => "classified: ignored",
        "classify" => "classified: a restart does not help",
        _ => "escalated: the failure counts in /",
    }
}

/// One line per action: what, which attempt, when the next, and how it went.
fn log_action(action: &Action, event: &Event) {
    let tasks: Vec<String> = action.failed.tasks.iter().map(u32::to_string).collect();
    let tasks = tasks.join(",");
    let next = humantime::format_duration(action.next_in).to_string();
    let (connector, step, attempt) = (&action.connector, event.step, action.attempt);
    let (outcome, cause) = (&event.outcome, &event.cause);
    let failed = action.failed.connector;
    let ok = outcome == "accepted";
    let message = match (action.step, ok) {
        (StepKind::Recreate, true) => "recreated",
        (StepKind::Recreate, false) => "recreate failed",
        (_, true) => "restarted",
        (_, false) => "restart failed",
    };
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                connector,
                step,
                attempt,
                outcome,
                cause,
                connector_failed = failed,
                tasks,
                next_attempt_in = next,
                "{message}"
            )
        };
    }
    match ok {
        true => line!(warn),
        false => line!(error),
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
        remediate::RestartPolicy,
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
        let executor = Executor::new(client, false, retry);
        Remediation::new(Policies::uniform(policy), executor, 10)
    }

    #[tokio::test]
    async fn a_finished_restart_reaches_the_ledger_through_the_channel() {
        let failing = fixtures::snapshot(&[("c", "FAILED")]);
        let observed = watch::channel(Arc::new(Observed::new(Instant::now()))).1;
        let metrics = HealthMetrics::new(observed, Duration::from_secs(10));
        let due = |r: &mut Remediation| {
            r.decide(&failing, &Policy::default(), Instant::now(), &metrics)
                .due
        };
        let mut remediation = unreachable();
        let first = due(&mut remediation);
        assert_eq!(first.len(), 1);
        remediation.start(first);
        assert!(
            due(&mut remediation).is_empty(),
            "in flight: not restarted again"
        );
        let finished = remediation.next_finished().await;
        remediation.apply(finished, &metrics);
        let record = remediation.ledger().get("c").unwrap();
        let outcome = record.last_outcome.as_deref().unwrap_or_default();
        assert!(
            !record.in_flight && outcome.contains("unreachable"),
            "{record:?}"
        );
        let text = metrics.encode();
        let counted = r#"connect_sentinel_restarts_total{connector="c",outcome="unreachable"} 1"#;
        assert!(text.contains(counted), "{text}");
        let action = r#"connect_sentinel_remediation_actions_total{connector="c",step="restart-tasks",outcome="unreachable"} 1"#;
        assert!(text.contains(action), "{text}");
        let history = remediation.view(Instant::now()).history;
        assert_eq!(history.len(), 1);
        let first = &history[0].event;
        assert_eq!((first.step, first.attempt), ("restart-tasks", 1));
        assert_eq!(due(&mut remediation).len(), 1, "finished: due again");
    }
}
