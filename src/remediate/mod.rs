//! Auto-remediation's pure core: which failed connectors and tasks to restart, when,
//! and which failures are still "being remediated" (held back from the verdict).
//! No IO and no clock reads: callers pass `now`, so the schedule is tested with
//! tokio's paused time and property tests. The IO half is [`execute`].
//!
//! The schedule follows Strimzi's auto-restart (peers-management §3.4): the first
//! restart is due `schedule[0]` after the failure is first seen, restart `n + 1` is due
//! `schedule[n]` (the last entry repeating) after restart `n`; a connector that stays
//! healthy for `reset_after` starts again from zero.

pub mod execute;
mod schedule;

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use regex::Regex;
use serde::Serialize;
use tokio::time::Instant;

pub use schedule::{Schedule, ScheduleError};

use crate::{
    connect::{ConnectorStatus, types::first_line},
    snapshot::{Instance, Key, Snapshot, instances},
    verdict::Policy,
};

/// How auto-restart behaves.
#[derive(Clone, Debug)]
pub struct RestartPolicy {
    pub schedule: Schedule,
    /// Stop restarting a connector after this many attempts (`None`: never stop).
    pub max_restarts: Option<u32>,
    /// While fewer restarts than this have been tried, a failure does not make `/`
    /// unhealthy (`None`: every failure counts at once).
    pub escalate_after: Option<u32>,
    /// How long a connector must stay healthy before its count starts again.
    pub reset_after: Duration,
    /// Restart only failures whose trace matches.
    pub trace: Option<Regex>,
    /// Restart only connectors whose name matches (on top of the health scope).
    pub include: Option<Regex>,
    /// Never restart connectors whose name matches.
    pub exclude: Option<Regex>,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            schedule: Schedule::default(),
            max_restarts: None,
            escalate_after: None,
            reset_after: Duration::from_secs(600),
            trace: None,
            include: None,
            exclude: None,
        }
    }
}

/// The failed instances of one connector that are ours to restart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Failed {
    /// The connector instance itself is FAILED.
    pub connector: bool,
    /// Ids of FAILED tasks.
    pub tasks: Vec<u32>,
    /// First line of the first trace, for logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl Failed {
    /// The containers this covers, as verdict keys.
    pub fn keys<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Key> + 'a {
        let key = move |task| Key::new(name, task);
        self.connector
            .then(|| key(None))
            .into_iter()
            .chain(self.tasks.iter().map(move |t| key(Some(*t))))
    }
}

/// What is FAILED, in scope (worker, include/exclude, trace regex), per connector.
pub fn failed(
    snapshot: &Snapshot,
    scope: &Policy,
    policy: &RestartPolicy,
) -> BTreeMap<String, Failed> {
    let selected = |name: &str| {
        scope.selects(name)
            && policy.include.as_ref().is_none_or(|r| r.is_match(name))
            && policy.exclude.as_ref().is_none_or(|r| !r.is_match(name))
    };
    snapshot
        .connectors
        .iter()
        .filter(|(name, _)| selected(name))
        .filter_map(|(name, status)| {
            Some((
                name.clone(),
                failed_one(name, status.as_ref()?, scope, policy)?,
            ))
        })
        .collect()
}

fn failed_one(
    name: &str,
    status: &ConnectorStatus,
    scope: &Policy,
    policy: &RestartPolicy,
) -> Option<Failed> {
    let wanted = |i: &Instance<'_>| {
        i.state.eq_ignore_ascii_case("FAILED")
            && scope.worker.matches(i.worker_id)
            && policy
                .trace
                .as_ref()
                .is_none_or(|r| i.trace.is_some_and(|t| r.is_match(t)))
    };
    let mut found = Failed::default();
    for instance in instances(name, status).filter(wanted) {
        match instance.task {
            None => found.connector = true,
            Some(id) => found.tasks.push(id),
        }
        if found.cause.is_none() {
            found.cause = instance.trace.map(|t| first_line(t).to_string());
        }
    }
    (found.connector || !found.tasks.is_empty()).then_some(found)
}

/// One connector's restart history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Restarts attempted (a refused call counts too, as in Strimzi).
    pub attempts: u32,
    /// When the failure was first seen.
    pub failing_since: Instant,
    /// When the last restart was attempted.
    pub last_attempt: Option<Instant>,
    /// Since when the connector has looked healthy, if it does.
    pub healthy_since: Option<Instant>,
    /// What is failing now (empty while healthy).
    pub failed: Failed,
    /// How the last restart call went (`accepted`, or why not).
    pub last_outcome: Option<String>,
    /// A restart call is under way: no other is started until it has finished.
    pub in_flight: bool,
}

/// A restart to perform now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restart {
    pub connector: String,
    pub failed: Failed,
    /// 1 for the first restart.
    pub attempt: u32,
    /// When the next one would be due if this does not help (`None`: no more).
    pub next_in: Option<Duration>,
}

/// Restart histories of every connector that failed recently.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    records: BTreeMap<String, Record>,
}

impl Ledger {
    /// The record of `connector`, if any.
    pub fn get(&self, connector: &str) -> Option<&Record> {
        self.records.get(connector)
    }

    /// Of the containers `failed` now, those whose restarts are still being tried:
    /// fewer than `escalate_after` attempts so far, and attempts not exhausted. Call it
    /// before [`Ledger::step`], so a failure seen for the first time is held.
    pub fn held(&self, failed: &BTreeMap<String, Failed>, policy: &RestartPolicy) -> BTreeSet<Key> {
        let Some(limit) = policy.escalate_after else {
            return BTreeSet::new();
        };
        let still_trying = |name: &str| {
            let attempts = self.records.get(name).map_or(0, |r| r.attempts);
            attempts < limit && policy.max_restarts.is_none_or(|max| attempts < max)
        };
        failed
            .iter()
            .filter(|(name, _)| still_trying(name))
            .flat_map(|(name, f)| f.keys(name).collect::<Vec<_>>())
            .collect()
    }

    /// Takes this poll's failures into account and returns the restarts due at `now`.
    pub fn step(
        &mut self,
        failed: BTreeMap<String, Failed>,
        policy: &RestartPolicy,
        now: Instant,
    ) -> Vec<Restart> {
        self.forget_healthy(&failed, policy, now);
        let mut due = Vec::new();
        for (name, now_failed) in failed {
            let record = self.records.entry(name.clone()).or_insert_with(|| Record {
                attempts: 0,
                failing_since: now,
                last_attempt: None,
                healthy_since: None,
                failed: Failed::default(),
                last_outcome: None,
                in_flight: false,
            });
            record.healthy_since = None;
            record.failed = now_failed;
            if record.in_flight || exhausted(record, policy) || now < due_at(record, policy) {
                continue;
            }
            record.attempts += 1;
            record.last_attempt = Some(now);
            record.in_flight = true;
            let next_in =
                (!exhausted(record, policy)).then(|| policy.schedule.delay(record.attempts));
            due.push(Restart {
                connector: name,
                failed: record.failed.clone(),
                attempt: record.attempts,
                next_in,
            });
        }
        due
    }

    /// Records how a restart call went; the connector may be restarted again.
    pub fn finished(&mut self, connector: &str, outcome: impl Into<String>) {
        if let Some(record) = self.records.get_mut(connector) {
            record.last_outcome = Some(outcome.into());
            record.in_flight = false;
        }
    }

    /// Marks connectors no longer failing as healthy, and drops those healthy for
    /// `reset_after` (or gone from the snapshot's failures for that long), unless a
    /// restart of theirs is still under way.
    fn forget_healthy(
        &mut self,
        failed: &BTreeMap<String, Failed>,
        policy: &RestartPolicy,
        now: Instant,
    ) {
        for (name, record) in &mut self.records {
            if !failed.contains_key(name) {
                record.failed = Failed::default();
                record.healthy_since.get_or_insert(now);
            }
        }
        self.records.retain(|_, r| {
            r.in_flight
                || r.healthy_since
                    .is_none_or(|since| now.saturating_duration_since(since) < policy.reset_after)
        });
    }

    /// The public view for `GET /` and `GET /remediation`.
    pub fn view(&self, policy: &RestartPolicy, now: Instant) -> Vec<Entry> {
        self.records
            .iter()
            .map(|(name, r)| entry(name, r, policy, now))
            .collect()
    }
}

/// True when `max_restarts` attempts have been made.
fn exhausted(record: &Record, policy: &RestartPolicy) -> bool {
    policy
        .max_restarts
        .is_some_and(|max| record.attempts >= max)
}

/// When the next restart of this record is due.
fn due_at(record: &Record, policy: &RestartPolicy) -> Instant {
    match record.last_attempt {
        None => record.failing_since + policy.schedule.delay(0),
        Some(last) => last + policy.schedule.delay(record.attempts),
    }
}

/// One connector under remediation, as JSON shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub connector: String,
    /// `remediating`, `escalated` (restarts exhausted or past the escalation point),
    /// or `recovered` (healthy, waiting for the count to reset).
    pub phase: &'static str,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_restarts: Option<u32>,
    /// Restarts left before `/` turns unhealthy, with `--escalate-after-restarts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_before_escalation: Option<u32>,
    /// Seconds until the next restart, while one is planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_in_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_outcome: Option<String>,
    pub failed: Failed,
}

fn entry(name: &str, r: &Record, policy: &RestartPolicy, now: Instant) -> Entry {
    let healthy = r.healthy_since.is_some();
    let escalated = exhausted(r, policy) || policy.escalate_after.is_some_and(|n| r.attempts >= n);
    let phase = match (healthy, escalated) {
        (true, _) => "recovered",
        (false, true) => "escalated",
        (false, false) => "remediating",
    };
    let next = (!healthy && !exhausted(r, policy)).then(|| {
        due_at(r, policy)
            .saturating_duration_since(now)
            .as_secs_f64()
    });
    Entry {
        connector: name.to_string(),
        phase,
        attempts: r.attempts,
        max_restarts: policy.max_restarts,
        attempts_before_escalation: policy.escalate_after.map(|n| n.saturating_sub(r.attempts)),
        next_attempt_in_seconds: next,
        last_outcome: r.last_outcome.clone(),
        failed: r.failed.clone(),
    }
}

#[cfg(test)]
mod tests;
