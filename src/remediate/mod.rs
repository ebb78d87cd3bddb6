//! Auto-remediation's pure core: which failed connectors and tasks to act on, how
//! (the [`ladder`]), when (the [`Schedule`]), and which failures are still "being
//! remediated" (held back from the verdict). No IO and no clock reads: callers pass
//! `now`, so the ladder is tested with tokio's paused time and property tests. The IO
//! half is [`execute`].
//!
//! - [`classify`] reads each failure's trace: a restart may help (`restart`, also when
//!   no rule knows it), does not (`escalate`: no restart at all), or the user said
//!   `ignore`.
//! - The [`Ledger`] keeps one [`Record`] per failing connector and climbs its ladder:
//!   action `n + 1` is due `schedule[n]` (the last entry repeating, or the step's own
//!   wait) after action `n`, the first after the failure is first seen (Strimzi's
//!   schedule by default, peers-management §3.4); once the ladder is exhausted, the
//!   escalation is due the same way. A connector healthy for `reset_after` starts again.
//! - Each connector's [`RestartPolicy`] comes from [`Policies`], so a caller with
//!   per-connector settings (Strimzi's `spec.autoRestart`, recreate only for declared
//!   connectors) drives the same ledger.

pub mod classify;
pub mod execute;
pub mod history;
pub mod ladder;
mod ledger;
mod schedule;
mod view;

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use regex::Regex;
use serde::Serialize;

pub use classify::{Classified, Classifier, Remedy, UserRule};
pub use ladder::{Ladder, Step, StepKind};
pub use ledger::{Action, Decided, Event, Ledger, Record, Seen};
pub use schedule::{Schedule, ScheduleError};
pub use view::{Entry, Phase, PhaseChange, phase_changes};

use crate::{
    connect::ConnectorStatus,
    snapshot::{Instance, Key, Snapshot, instances},
    verdict::Policy,
};

/// How auto-restart behaves for one connector.
#[derive(Clone, Debug)]
pub struct RestartPolicy {
    /// Waits between actions (the first counted from the failure).
    pub schedule: Schedule,
    /// The steps tried in order.
    pub ladder: Ladder,
    /// At most this many actions per connector, whatever the ladder (`None`: the
    /// ladder's own length).
    pub max_restarts: Option<u32>,
    /// While fewer actions than this have been tried, a restartable failure does not
    /// make `/` unhealthy (`None`: every failure counts at once).
    pub escalate_after: Option<u32>,
    /// How long a connector must stay healthy before its count starts again.
    pub reset_after: Duration,
    /// Classifies each failure's trace.
    pub classifier: Classifier,
    /// Remediate only failures whose trace matches.
    pub trace: Option<Regex>,
    /// Remediate only connectors whose name matches (on top of the health scope).
    pub include: Option<Regex>,
    /// Never remediate connectors whose name matches.
    pub exclude: Option<Regex>,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            schedule: Schedule::default(),
            ladder: Ladder::default(),
            max_restarts: None,
            escalate_after: None,
            reset_after: Duration::from_secs(600),
            classifier: Classifier::default(),
            trace: None,
            include: None,
            exclude: None,
        }
    }
}

impl RestartPolicy {
    /// How many actions this policy makes at most.
    pub fn cap(&self) -> u32 {
        let len = self.ladder.len();
        self.max_restarts.map_or(len, |max| max.min(len))
    }
}

/// Which [`RestartPolicy`] each connector gets: its own, else the default; `None`
/// (either way) means it is not remediated at all (e.g. Strimzi's
/// `autoRestart.enabled: false`).
#[derive(Clone, Debug, Default)]
pub struct Policies {
    pub default: Option<RestartPolicy>,
    pub per_connector: BTreeMap<String, Option<RestartPolicy>>,
}

impl Policies {
    /// One policy for every connector (the sidecar's).
    pub fn uniform(policy: RestartPolicy) -> Self {
        Self {
            default: Some(policy),
            per_connector: BTreeMap::new(),
        }
    }

    /// The policy of `connector`, if it is remediated.
    pub fn get(&self, connector: &str) -> Option<&RestartPolicy> {
        match self.per_connector.get(connector) {
            Some(own) => own.as_ref(),
            None => self.default.as_ref(),
        }
    }
}

/// The failed instances of one connector that are ours to act on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Failed {
    /// The connector instance itself is FAILED.
    pub connector: bool,
    /// Ids of FAILED tasks.
    pub tasks: Vec<u32>,
    /// Why, masked: the line of the deciding trace that tells (see [`Classified`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The deciding classification: the most severe of the failed instances'
    /// (escalate over restart over ignore), the first of equals.
    #[serde(skip)]
    pub class: Classified,
    /// Every instance in scope, failed or not (this worker's with a worker id): what
    /// restarting "the connector and its tasks" restarts.
    #[serde(skip)]
    pub in_scope: InScope,
}

/// A connector's instances in scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InScope {
    pub connector: bool,
    pub tasks: Vec<u32>,
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

/// What is FAILED, in scope (worker, include/exclude, trace regex), per connector with
/// a policy, each classified.
pub fn failed(
    snapshot: &Snapshot,
    scope: &Policy,
    policies: &Policies,
) -> BTreeMap<String, Failed> {
    let selected = |name: &str, p: &RestartPolicy| {
        scope.selects(name)
            && p.include.as_ref().is_none_or(|r| r.is_match(name))
            && p.exclude.as_ref().is_none_or(|r| !r.is_match(name))
    };
    snapshot
        .connectors
        .iter()
        .filter_map(|(name, status)| {
            let policy = policies.get(name).filter(|p| selected(name, p))?;
            Some((
                name.clone(),
                failed_one(name, status.as_ref()?, scope, policy)?,
            ))
        })
        .collect()
}

/// What one poll shows of the connectors auto-remediation may act on: the failures,
/// and the connectors settling (an instance in scope RESTARTING or UNASSIGNED, or no
/// status record yet, as right after a restart or a recreate), which are neither
/// failing nor recovered yet.
pub fn seen(snapshot: &Snapshot, scope: &Policy, policies: &Policies) -> Seen {
    let failed = failed(snapshot, scope, policies);
    let settling_one = |name: &str, status: Option<&ConnectorStatus>| {
        status.is_none_or(|status| {
            instances(name, status).any(|i| {
                scope.worker.matches(i.worker_id)
                    && ["RESTARTING", "UNASSIGNED"]
                        .iter()
                        .any(|s| i.state.eq_ignore_ascii_case(s))
            })
        })
    };
    let settling: BTreeSet<String> = snapshot
        .connectors
        .iter()
        .filter(|(name, _)| !failed.contains_key(*name) && policies.get(name).is_some())
        .filter(|(name, status)| settling_one(name, status.as_ref()))
        .map(|(name, _)| name.clone())
        .collect();
    Seen { failed, settling }
}

fn failed_one(
    name: &str,
    status: &ConnectorStatus,
    scope: &Policy,
    policy: &RestartPolicy,
) -> Option<Failed> {
    let mine = |i: &Instance<'_>| scope.worker.matches(i.worker_id);
    let wanted = |i: &Instance<'_>| {
        i.state.eq_ignore_ascii_case("FAILED")
            && policy
                .trace
                .as_ref()
                .is_none_or(|r| i.trace.is_some_and(|t| r.is_match(t)))
    };
    let mut found = Failed::default();
    let mut deciding: Option<Classified> = None;
    for instance in instances(name, status).filter(mine) {
        match instance.task {
            None => found.in_scope.connector = true,
            Some(id) => found.in_scope.tasks.push(id),
        }
        if !wanted(&instance) {
            continue;
        }
        match instance.task {
            None => found.connector = true,
            Some(id) => found.tasks.push(id),
        }
        let class = policy.classifier.classify(instance.trace);
        if deciding.as_ref().is_none_or(|d| class.remedy > d.remedy) {
            deciding = Some(class);
        }
    }
    let class = deciding?;
    found.cause = (!class.cause.is_empty()).then(|| class.cause.clone());
    found.class = class;
    Some(found)
}

#[cfg(test)]
mod tests;
