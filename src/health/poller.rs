//! The poll loop: one snapshot per interval, never driven by probe traffic. It owns
//! what it needs (the Connect poller, the health policy, the interval, auto-restart and
//! its ledger) and shares nothing mutable: each poll is evaluated and published as an
//! [`Observed`] (its only output, besides event counters), and every state transition
//! is logged once. With auto-restart on, [`Remediation`] decides before each publish
//! and starts restarts after it; their outcomes come back here through a channel.
//! With `--webhook-url`, each published remediation view goes to the [`Notifier`],
//! which queues what changed without waiting.
//!
//! [`PollLoop::spawn`] runs it on its own OS thread with its own current-thread
//! runtime, so parsing and evaluating a large cluster's poll never delays a probe.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{
    sync::{oneshot, watch},
    time::Instant,
};

use super::{
    Observed, changes,
    metrics::HealthMetrics,
    remedy::{Decision, Finished, Remediation},
};
use crate::{
    notify::Notifier,
    poll::Poller,
    snapshot::{Poll, Snapshot},
    verdict::{self, Policy},
};

/// The sender half, owned by the loop. It also keeps the states it replaced until no
/// probe holds them any more, so a large snapshot is freed on the poll thread, never by
/// the probe that happened to drop the last reference.
pub struct Publisher {
    tx: watch::Sender<Arc<Observed>>,
    retired: Vec<Arc<Observed>>,
}

impl Publisher {
    /// Publishes `next`; frees the retired states no probe holds any more.
    fn send(&mut self, next: Observed) {
        let previous = self.tx.send_replace(Arc::new(next));
        self.retired.push(previous);
        self.retired.retain(|old| Arc::strong_count(old) > 1);
    }
}

/// A new state with nothing observed yet, and its publisher.
pub fn channel() -> (Publisher, watch::Receiver<Arc<Observed>>) {
    let (tx, rx) = watch::channel(Arc::new(Observed::new(Instant::now())));
    let retired = Vec::new();
    (Publisher { tx, retired }, rx)
}

/// The loop and everything it owns.
pub struct PollLoop {
    pub poller: Poller,
    pub policy: Arc<Policy>,
    pub interval: Duration,
    /// Auto-restart, when on.
    pub remediation: Option<Remediation>,
    /// Webhook notifications of remediation's phase changes, when on.
    pub notifier: Option<Notifier>,
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
                yield_to_probes();
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
        publish(&mut self.publisher, &self.policy, poll, &decision);
        if let Some(notifier) = &mut self.notifier {
            notifier.observe(&decision.view);
        }
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

/// How much nicer than the serving thread the poll thread runs.
const POLL_NICENESS: i32 = 9;

/// Lowers the poll thread's priority by [`POLL_NICENESS`] from what it inherited (at
/// most to 19, never raising it): when the two compete for a core, a probe's answer goes
/// first and the poll waits. Within the sidecar's own CPU share this only orders our two
/// threads. On Linux a niceness is per thread (`setpriority` on the calling thread);
/// failure leaves the priority as it was.
fn yield_to_probes() {
    use rustix::process::{getpriority_process, setpriority_process};
    let Ok(inherited) = getpriority_process(None) else {
        return;
    };
    let lower = (inherited + POLL_NICENESS).min(19);
    if let Err(e) = setpriority_process(None, lower) {
        tracing::debug!(error = %e, "the poll thread keeps its priority");
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
pub fn publish(publisher: &mut Publisher, policy: &Policy, poll: Poll, decision: &Decision) {
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
    drop(previous);
    publisher.send(next);
}

/// The state transitions since `before`, or one line when Connect is first reached.
fn log_reachable(before: Option<&Poll>, snapshot: &Snapshot) {
    match before {
        Some(Ok(before)) => changes::log(before, snapshot),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::fixtures;

    #[test]
    fn a_replaced_state_is_kept_until_no_probe_holds_it() {
        let (mut publisher, rx) = channel();
        let policy = Policy::default();
        let poll = || Ok(fixtures::snapshot(&[("a", "RUNNING")]));
        publish(&mut publisher, &policy, poll(), &Decision::default());
        let held = rx.borrow().clone();
        publish(&mut publisher, &policy, poll(), &Decision::default());
        assert_eq!(
            publisher.retired.len(),
            1,
            "the state a probe holds is kept"
        );
        assert!(Arc::ptr_eq(&publisher.retired[0], &held));
        drop(held);
        publish(&mut publisher, &policy, poll(), &Decision::default());
        assert!(publisher.retired.is_empty(), "freed once nothing holds it");
        assert_eq!(rx.borrow().seq, 3);
    }
}
