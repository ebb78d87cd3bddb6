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

use std::{
    borrow::Cow,
    collections::BTreeMap,
    future::Future,
    sync::Arc,
    time::{Duration, SystemTime},
};

use tokio::{
    sync::{oneshot, watch},
    time::Instant,
};

use super::{
    Observed, changes,
    metrics::HealthMetrics,
    remedy::{Decision, Finished, Remediation},
    since,
};
use crate::{
    notify::Notifier,
    poll::Poller,
    remediate, silent,
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
    /// Auto-remediation, when on.
    pub remediation: Option<Remediation>,
    /// Restarts only some connectors (the reconciler's), or every one in scope.
    pub only: Option<Only>,
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
        if self.only.as_ref().is_some_and(Only::idle) {
            return;
        }
        let poll = self.poller.poll().await;
        let now = Instant::now();
        if let (Some(only), Some(r)) = (&self.only, &mut self.remediation) {
            let set = only.connectors.borrow().clone();
            r.cap_each(set.iter().map(|(name, a)| (name, a.max_restarts)));
        }
        let restricted = match (&self.only, &poll) {
            (Some(only), Ok(snapshot)) => only.restrict(snapshot),
            (None, Ok(snapshot)) => Some(sidecars_share(snapshot)),
            (_, Err(_)) => None,
        };
        let decision = match (&mut self.remediation, restricted) {
            (Some(r), Some(snapshot)) => r.decide(&snapshot, &self.policy, now, &self.metrics),
            (Some(r), None) => r.view(now),
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

/// Declared connectors whose manifest enables `autoRestart`, by name.
pub type AutoRestartedSet = BTreeMap<String, crate::manifest::AutoRestarted>;

/// The connectors one loop remediates when it is not every one in scope: the
/// reconciler's (declared with `autoRestart`), and only while this replica leads.
pub struct Only {
    /// By name, as the last pass that loaded the manifests declared them.
    pub connectors: watch::Receiver<Arc<AutoRestartedSet>>,
    /// With leader election: whether this replica leads.
    pub leading: Option<watch::Receiver<bool>>,
}

impl Only {
    /// Nothing to remediate (no such connector), or another replica leads: no poll.
    fn idle(&self) -> bool {
        self.connectors.borrow().is_empty() || self.leading.as_ref().is_some_and(|l| !*l.borrow())
    }

    /// The part of `snapshot` to remediate; `None` while another replica leads.
    fn restrict<'a>(&self, snapshot: &'a Snapshot) -> Option<Cow<'a, Snapshot>> {
        if self.leading.as_ref().is_some_and(|l| !*l.borrow()) {
            return None;
        }
        let names = self.connectors.borrow().clone();
        Some(Cow::Owned(subset(snapshot, |name| {
            names.contains_key(name)
        })))
    }
}

/// The part of `snapshot` a sidecar remediates: every connector but those whose config
/// hands them to the reconciler (`connect-sentinel.remediated-by: reconciler`).
fn sidecars_share(snapshot: &Snapshot) -> Cow<'_, Snapshot> {
    let reconcilers = |name: &str| {
        snapshot
            .facts
            .get(name)
            .and_then(|f| f.remediated_by.as_deref())
            == Some(crate::plan::REMEDIATED_BY_RECONCILER)
    };
    match snapshot.connectors.keys().any(|n| reconcilers(n)) {
        false => Cow::Borrowed(snapshot),
        true => Cow::Owned(subset(snapshot, |name| !reconcilers(name))),
    }
}

/// The connectors of `snapshot` that `keep` names, with their facts.
fn subset(snapshot: &Snapshot, keep: impl Fn(&str) -> bool) -> Snapshot {
    let kept = |name: &&String| keep(name);
    Snapshot {
        taken_at: snapshot.taken_at,
        duration: snapshot.duration,
        connectors: snapshot
            .connectors
            .iter()
            .filter(|(name, _)| kept(name))
            .map(|(name, status)| (name.clone(), status.clone()))
            .collect(),
        facts: snapshot
            .facts
            .iter()
            .filter(|(name, _)| kept(name))
            .map(|(name, facts)| (name.clone(), facts.clone()))
            .collect(),
        worker: snapshot.worker.clone(),
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
        remediation_history: decision.history.clone(),
        remediation_changes: remediate::phase_changes(
            &previous.remediation,
            &decision.view,
            SystemTime::now(),
        ),
        ..Observed::new(now)
    };
    match &poll {
        Ok(snapshot) => {
            next.transitions = verdict::track(&previous.transitions, snapshot, elapsed);
            next.since = since::advance(&previous.since, snapshot);
            let held = &decision.held;
            let mut verdict = verdict::evaluate_held(snapshot, policy, &next.transitions, held);
            next.silent = observe_silent(&previous, snapshot, &next.transitions, policy, elapsed);
            silent::count(&mut verdict, &next.silent, &policy.silent.fail_on, held);
            next.verdict = Some(verdict);
            next.ok_at = Some(now);
            log_reachable(previous.poll.as_ref(), snapshot);
        }
        Err(failure) => {
            next.silent = previous.silent.clone();
            next.since = previous.since.clone();
            next.last_good = match &previous.poll {
                Some(Ok(snapshot)) => Some(Arc::new(snapshot.clone())),
                _ => previous.last_good.clone(),
            };
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

/// The silent-failure checks of `snapshot`, logging each finding that is new.
fn observe_silent(
    previous: &Observed,
    snapshot: &Snapshot,
    transitions: &verdict::Transitions,
    policy: &Policy,
    elapsed: Duration,
) -> silent::Report {
    let memory = &previous.silent.memory;
    let report = silent::observe(
        memory,
        snapshot,
        transitions,
        policy,
        &policy.silent,
        elapsed,
    );
    for f in silent::new_findings(&previous.silent, &report) {
        let task = f.task.map(|t| t.to_string()).unwrap_or_default();
        let (check, running) = (f.check.name(), f.tasks_running);
        let expected = f.tasks_expected.map(|n| n.to_string()).unwrap_or_default();
        tracing::warn!(
            connector = f.connector,
            task,
            check,
            running,
            expected,
            "silent failure"
        );
    }
    report
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

    #[test]
    fn while_polls_fail_the_last_good_snapshot_is_kept() {
        let (mut publisher, rx) = channel();
        let policy = Policy::default();
        let good = || Ok(fixtures::snapshot(&[("a", "RUNNING")]));
        let bad = || {
            Err(crate::snapshot::PollFailure {
                taken_at: SystemTime::now(),
                duration: Duration::ZERO,
                error: fixtures::refused(),
            })
        };
        publish(&mut publisher, &policy, good(), &Decision::default());
        assert!(rx.borrow().last_good.is_none());
        for _ in 0..2 {
            publish(&mut publisher, &policy, bad(), &Decision::default());
            let kept = rx.borrow().latest_snapshot().map(|s| s.connectors.len());
            assert_eq!(kept, Some(1), "the last good snapshot stays");
        }
        publish(&mut publisher, &policy, good(), &Decision::default());
        assert!(
            rx.borrow().last_good.is_none(),
            "dropped once a poll succeeds"
        );
    }
}
