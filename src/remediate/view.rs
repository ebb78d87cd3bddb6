//! The public view of the ledger (`GET /`, `GET /remediation`, `status`, the phase
//! gauge) and the phase changes between two views, for notifications.

use std::{collections::BTreeMap, time::SystemTime};

use serde::Serialize;
use tokio::time::Instant;

use super::{Failed, Ledger, Policies, Record, Remedy, RestartPolicy, StepKind};

/// Where a connector's remediation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The ladder is being climbed; the failure counts in `/` only without
    /// `--escalate-after-restarts`.
    Remediating,
    /// Past `--escalate-after-restarts`: the failure counts in `/` while the ladder
    /// goes on.
    Escalated,
    /// The ladder can no longer help: classified non-restartable, or exhausted. The
    /// failure counts in `/` (the sidecar's liveness probe restarts the pod).
    Persistent,
    /// Classified `ignore`: never acted on, never counted in `/`; still listed.
    Ignored,
    /// Healthy again, waiting for the count to reset.
    Recovered,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Remediating,
        Phase::Escalated,
        Phase::Persistent,
        Phase::Ignored,
        Phase::Recovered,
    ];

    /// The phase named `name` (as [`Phase::as_str`] writes it).
    pub fn named(name: &str) -> Option<Phase> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Remediating => "remediating",
            Phase::Escalated => "escalated",
            Phase::Persistent => "persistent",
            Phase::Ignored => "ignored",
            Phase::Recovered => "recovered",
        }
    }
}

/// One connector under remediation, as JSON shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub connector: String,
    pub phase: Phase,
    /// Actions made so far (every step).
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_restarts: Option<u32>,
    /// Actions left before `/` counts the failure, with `--escalate-after-restarts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_before_escalation: Option<u32>,
    /// The next step (`restart-tasks`, …, or `escalate`), while one is planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<&'static str>,
    /// Seconds until the next step, while one is planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_in_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_step: Option<StepKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_outcome: Option<String>,
    /// What the classification prescribes, and the rule that said so.
    pub remedy: Remedy,
    pub rule: String,
    pub failed: Failed,
}

impl Ledger {
    /// The public view for `GET /` and `GET /remediation`.
    pub fn view(&self, policies: &Policies, now: Instant) -> Vec<Entry> {
        self.records()
            .iter()
            .filter_map(|(name, r)| Some(entry(name, r, policies.get(name)?, now)))
            .collect()
    }
}

fn entry(name: &str, r: &Record, policy: &RestartPolicy, now: Instant) -> Entry {
    let phase = r.phase(policy);
    let planned = matches!(phase, Phase::Remediating | Phase::Escalated) && !r.in_flight;
    let next_step = planned.then(|| r.next_step(policy).map_or("escalate", StepKind::as_str));
    let next = planned.then(|| {
        r.due_at(policy)
            .saturating_duration_since(now)
            .as_secs_f64()
    });
    Entry {
        connector: name.to_string(),
        phase,
        attempts: r.attempts,
        max_restarts: policy.max_restarts,
        attempts_before_escalation: policy.escalate_after.map(|n| n.saturating_sub(r.attempts)),
        next_step,
        next_attempt_in_seconds: next,
        last_step: r.last_step,
        last_outcome: r.last_outcome.clone(),
        remedy: r.failed.class.remedy,
        rule: r.failed.class.rule.clone(),
        failed: r.failed.clone(),
    }
}

/// One connector's change of phase between two published views.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhaseChange {
    pub connector: String,
    /// `None`: the connector was not under remediation before.
    pub from: Option<Phase>,
    pub to: Phase,
    /// The failure's cause line (masked); empty once recovered.
    pub cause: String,
    /// When the later view was published.
    #[serde(with = "humantime_serde_rfc3339")]
    pub at: SystemTime,
}

/// The phase changes from `before` to `after` (both in connector order), stamped
/// `at`. A connector that left the view (forgotten after `--restart-reset-after`) is
/// no change: it had recovered already.
pub fn phase_changes(before: &[Entry], after: &[Entry], at: SystemTime) -> Vec<PhaseChange> {
    let before: BTreeMap<&str, Phase> = before
        .iter()
        .map(|b| (b.connector.as_str(), b.phase))
        .collect();
    after
        .iter()
        .filter_map(|e| {
            let from = before.get(e.connector.as_str()).copied();
            (from != Some(e.phase)).then(|| PhaseChange {
                connector: e.connector.clone(),
                from,
                to: e.phase,
                cause: e.failed.cause.clone().unwrap_or_default(),
                at,
            })
        })
        .collect()
}

/// `SystemTime` as RFC 3339 (UTC, milliseconds).
mod humantime_serde_rfc3339 {
    use std::time::SystemTime;

    pub fn serialize<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_rfc3339_millis(*t))
    }
}
