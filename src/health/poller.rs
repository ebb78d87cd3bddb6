//! The background poller: one snapshot per interval, never driven by probe traffic.
//! Each result is evaluated, published to [`HealthState`] readers, recorded in the
//! metrics, and every state transition is logged once. With auto-restart on, the
//! [`Remediation`] decides before each publish and restarts after it.

use std::{sync::Arc, time::Duration};

use tokio::{sync::watch, time::Instant};

use super::{
    HealthState, Observed,
    remedy::{Decision, Remediation},
};
use crate::{
    connect::types::first_line,
    poll::Poller,
    snapshot::{Poll, Snapshot},
    verdict,
};

/// The sender half, owned by the loop.
pub struct Publisher {
    tx: watch::Sender<Arc<Observed>>,
}

/// A new state with nothing observed yet, and its publisher.
pub fn channel() -> (Publisher, watch::Receiver<Arc<Observed>>) {
    let (tx, rx) = watch::channel(Arc::new(Observed::default()));
    (Publisher { tx }, rx)
}

/// Polls until `shutdown` resolves; with `remediation`, restarts what failed after
/// each publish (never driven by probe traffic).
pub async fn run(
    poller: Poller,
    state: HealthState,
    publisher: Publisher,
    mut remediation: Option<Remediation>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut ticker = tokio::time::interval(state.poll_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = ticker.tick() => {}
        }
        let poll = poller.poll().await;
        let decision = match (&mut remediation, &poll) {
            (Some(r), Ok(snapshot)) => r.decide(snapshot, &state.policy, Instant::now()),
            (Some(r), Err(_)) => r.view(Instant::now()),
            (None, _) => Decision::default(),
        };
        publish(&state, &publisher, poll, &decision);
        if let Some(r) = &remediation {
            r.perform(decision.due, state.metrics.clone());
        }
        *state.heartbeat.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }
}

/// Evaluates one poll and publishes it, logging what changed since the previous one.
/// Transitional containers age by the time since the last successful poll; failures
/// `decision` holds (being restarted) do not count.
pub fn publish(state: &HealthState, publisher: &Publisher, poll: Poll, decision: &Decision) {
    let previous = publisher.tx.borrow().clone();
    let elapsed = previous.ok_at.map_or(Duration::ZERO, |at| at.elapsed());
    let mut next = Observed {
        ok_at: previous.ok_at,
        seq: previous.seq + 1,
        remediation: decision.view.clone(),
        ..Observed::default()
    };
    match &poll {
        Ok(snapshot) => {
            next.transitions = verdict::track(&previous.transitions, snapshot, elapsed);
            next.verdict = Some(verdict::evaluate_held(
                snapshot,
                &state.policy,
                &next.transitions,
                &decision.held,
            ));
            next.ok_at = Some(Instant::now());
            if let Some(Ok(before)) = &previous.poll {
                log_transitions(before, snapshot);
            } else {
                tracing::info!(connectors = snapshot.connectors.len(), "Connect reachable");
            }
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
    state.metrics.record(&poll, next.verdict.as_ref());
    state.metrics.record_remediation(&decision.view);
    next.poll = Some(poll);
    publisher.tx.send_replace(Arc::new(next));
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
    for (name, status) in &after.connectors {
        let Some(now) = status else { continue };
        let was = before.connectors.get(name).and_then(Option::as_ref);
        let c = &now.connector;
        log_change(
            name,
            None,
            was.map(|w| w.connector.state.as_str()),
            &c.state,
            c.trace.as_deref(),
        );
        for task in &now.tasks {
            let was_task = was.and_then(|w| w.tasks.iter().find(|t| t.id == task.id));
            let trace = task.trace.as_deref();
            log_change(
                name,
                Some(task.id),
                was_task.map(|t| t.state.as_str()),
                &task.state,
                trace,
            );
        }
    }
    for (name, status) in &before.connectors {
        let now = after.connectors.get(name).and_then(Option::as_ref);
        if now.is_none() && status.is_some() {
            tracing::info!(connector = %name, "gone");
        }
        for task in status.iter().flat_map(|s| &s.tasks) {
            if now.is_some_and(|n| !n.tasks.iter().any(|t| t.id == task.id)) {
                tracing::info!(connector = %name, task = task.id.to_string(), "gone");
            }
        }
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
