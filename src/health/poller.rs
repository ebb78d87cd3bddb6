//! The poll loop: one snapshot per interval, never driven by probe traffic. It owns
//! what it needs (the Connect poller, the health policy, the interval, auto-restart and
//! its ledger) and shares nothing mutable: each poll is evaluated and published as an
//! [`Observed`] (its only output, besides event counters), and every state transition
//! is logged once. With auto-restart on, [`Remediation`] decides before each publish
//! and starts restarts after it; their outcomes come back here through a channel.
//!
//! [`PollLoop::spawn`] runs it on its own OS thread with its own current-thread
//! runtime, so parsing and evaluating a large cluster's poll never delays a probe.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{
    sync::{oneshot, watch},
    time::Instant,
};

use super::{
    Observed,
    metrics::HealthMetrics,
    remedy::{Decision, Finished, Remediation},
};
use crate::{
    connect::types::first_line,
    poll::Poller,
    snapshot::{Poll, Snapshot},
    verdict::{self, Policy},
};

/// The sender half, owned by the loop.
pub struct Publisher {
    tx: watch::Sender<Arc<Observed>>,
}

/// A new state with nothing observed yet, and its publisher.
pub fn channel() -> (Publisher, watch::Receiver<Arc<Observed>>) {
    let (tx, rx) = watch::channel(Arc::new(Observed::new(Instant::now())));
    (Publisher { tx }, rx)
}

/// The loop and everything it owns.
pub struct PollLoop {
    pub poller: Poller,
    pub policy: Arc<Policy>,
    pub interval: Duration,
    /// Auto-restart, when on.
    pub remediation: Option<Remediation>,
    /// Event counters only: polls, poll errors, durations, restarts.
    pub metrics: Arc<HealthMetrics>,
    pub publisher: Publisher,
}

impl PollLoop {
    /// Runs [`PollLoop::run`] on a thread of its own (see the module docs); the
    /// receiver resolves once the loop has stopped.
    pub fn spawn(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<oneshot::Receiver<()>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (done, stopped) = oneshot::channel();
        std::thread::Builder::new()
            .name("poller".into())
            .spawn(move || {
                runtime.block_on(self.run(shutdown));
                drop(runtime);
                let _ = done.send(());
            })?;
        Ok(stopped)
    }

    /// Polls every interval until `shutdown` resolves (which also cuts a poll short),
    /// applying restart outcomes as they arrive in between.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = ticker.tick() => {}
                finished = next_finished(&mut self.remediation) => {
                    self.apply(finished);
                    continue;
                }
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.iterate() => {}
            }
        }
    }

    /// One poll: decide, publish, then start the restarts due.
    async fn iterate(&mut self) {
        let poll = self.poller.poll().await;
        let now = Instant::now();
        let decision = match (&mut self.remediation, &poll) {
            (Some(r), Ok(snapshot)) => r.decide(snapshot, &self.policy, now),
            (Some(r), Err(_)) => r.view(now),
            (None, _) => Decision::default(),
        };
        self.metrics.record_poll(&poll);
        publish(&self.publisher, &self.policy, poll, &decision);
        if let Some(r) = &self.remediation {
            r.start(decision.due);
        }
    }

    fn apply(&mut self, finished: Finished) {
        if let Some(r) = &mut self.remediation {
            r.apply(finished, &self.metrics);
        }
    }
}

/// The next restart outcome; pending forever without auto-restart.
async fn next_finished(remediation: &mut Option<Remediation>) -> Finished {
    match remediation {
        Some(r) => r.next_finished().await,
        None => std::future::pending().await,
    }
}

/// Evaluates one poll and publishes it, logging what changed since the previous one.
/// Transitional containers age by the time since the last successful poll; failures
/// `decision` holds (being restarted) do not count.
pub fn publish(publisher: &Publisher, policy: &Policy, poll: Poll, decision: &Decision) {
    let previous = publisher.tx.borrow().clone();
    let now = Instant::now();
    let elapsed = previous.ok_at.map_or(Duration::ZERO, |at| now - at);
    let mut next = Observed {
        ok_at: previous.ok_at,
        seq: previous.seq + 1,
        remediation: decision.view.clone(),
        ..Observed::new(now)
    };
    match &poll {
        Ok(snapshot) => {
            next.transitions = verdict::track(&previous.transitions, snapshot, elapsed);
            let held = &decision.held;
            let verdict = verdict::evaluate_held(snapshot, policy, &next.transitions, held);
            next.verdict = Some(verdict);
            next.ok_at = Some(now);
            log_reachable(previous.poll.as_ref(), snapshot);
        }
        Err(failure) => {
            if !matches!(&previous.poll, Some(Err(f)) if f.error == failure.error) {
                tracing::warn!(error = %failure.error, "poll failed");
            }
        }
    }
    log_verdict_change(
        previous.verdict.as_ref().map(|v| v.healthy),
        next.verdict.as_ref().map(|v| v.healthy),
    );
    next.poll = Some(poll);
    publisher.tx.send_replace(Arc::new(next));
}

/// The state transitions since `before`, or one line when Connect is first reached.
fn log_reachable(before: Option<&Poll>, snapshot: &Snapshot) {
    match before {
        Some(Ok(before)) => log_transitions(before, snapshot),
        _ => tracing::info!(connectors = snapshot.connectors.len(), "Connect reachable"),
    }
}

fn log_verdict_change(before: Option<bool>, after: Option<bool>) {
    match (before, after) {
        (Some(true) | None, Some(false)) => tracing::warn!("verdict: unhealthy"),
        (Some(false), Some(true)) => tracing::info!("verdict: healthy again"),
        _ => {}
    }
}

/// One log line per connector or task whose state changed, with the trace's first line.
/// Compares the two snapshots in place: nothing is copied, however many connectors.
fn log_transitions(before: &Snapshot, after: &Snapshot) {
    for now in after.instances() {
        let was = state_of(before, now.connector, now.task);
        log_change(now.connector, now.task, was, now.state, now.trace);
    }
    for gone in before.instances() {
        let connector_left = after
            .connectors
            .get(gone.connector)
            .is_none_or(Option::is_none);
        match gone.task {
            None if connector_left => tracing::info!(connector = %gone.connector, "gone"),
            Some(id) if !connector_left && state_of(after, gone.connector, Some(id)).is_none() => {
                tracing::info!(connector = %gone.connector, task = id.to_string(), "gone")
            }
            _ => {}
        }
    }
}

/// The state of one instance in `snapshot`, if it is there.
fn state_of<'a>(snapshot: &'a Snapshot, connector: &str, task: Option<u32>) -> Option<&'a str> {
    let status = snapshot.connectors.get(connector)?.as_ref()?;
    match task {
        None => Some(&status.connector.state),
        Some(id) => status
            .tasks
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.state.as_str()),
    }
}

/// Logs one container's state change, if it changed.
fn log_change(
    connector: &str,
    task: Option<u32>,
    was: Option<&str>,
    state: &str,
    trace: Option<&str>,
) {
    if was == Some(state) {
        return;
    }
    let task = task.map(|t| t.to_string()).unwrap_or_default();
    let from = was.unwrap_or("new");
    if state == "FAILED" {
        let cause = trace.map(first_line).unwrap_or_default();
        tracing::warn!(connector, task, from, to = %state, cause, "state changed");
    } else {
        tracing::info!(connector, task, from, to = %state, "state changed");
    }
}
