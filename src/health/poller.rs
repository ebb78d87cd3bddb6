//! The background poller: one snapshot per interval, never driven by probe traffic.
//! Each result is evaluated, published to [`HealthState`] readers, recorded in the
//! metrics, and every state transition is logged once. With auto-restart on, the
//! [`Remediation`] decides before each publish and restarts after it.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use tokio::{sync::watch, time::Instant};

use super::{
    HealthState, Observed,
    remedy::{Decision, Remediation},
};
use crate::{
    connect::types::first_line,
    snapshot::{Poll, Poller, Snapshot},
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
            _ => Decision::default(),
        };
        publish(&state, &publisher, poll, &decision);
        if let Some(r) = &mut remediation {
            r.perform(decision.due, &state.metrics).await;
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
fn log_transitions(before: &Snapshot, after: &Snapshot) {
    let states = |s: &Snapshot| -> BTreeMap<(String, Option<u32>), (String, Option<String>)> {
        let mut map = BTreeMap::new();
        for (name, status) in &s.connectors {
            let Some(status) = status else { continue };
            map.insert(
                (name.clone(), None),
                (
                    status.connector.state.clone(),
                    status.connector.trace.clone(),
                ),
            );
            for t in &status.tasks {
                map.insert(
                    (name.clone(), Some(t.id)),
                    (t.state.clone(), t.trace.clone()),
                );
            }
        }
        map
    };
    let (old, new) = (states(before), states(after));
    for (key, (state, trace)) in &new {
        let was = old.get(key).map(|(s, _)| s.as_str());
        if was == Some(state.as_str()) {
            continue;
        }
        let cause = trace.as_deref().map(first_line).unwrap_or_default();
        let (connector, task) = (&key.0, key.1.map(|t| t.to_string()).unwrap_or_default());
        match state.as_str() {
            "FAILED" => {
                tracing::warn!(connector, task, from = was.unwrap_or("new"), to = %state, cause, "state changed")
            }
            _ => {
                tracing::info!(connector, task, from = was.unwrap_or("new"), to = %state, "state changed")
            }
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        tracing::info!(connector = %key.0, task = key.1.map(|t| t.to_string()).unwrap_or_default(), "gone");
    }
}
