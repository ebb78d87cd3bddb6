//! The ledger: one [`Record`] per failing connector, and the decisions of each poll.
//! [`Ledger::step`] returns the [`Action`]s (IO to perform) and the [`Event`]s that need
//! none (a classification as non-restartable or ignored, an escalation); the caller
//! performs the actions and reports each back through [`Ledger::finished`]. A
//! connector never has two actions in flight.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use tokio::time::Instant;

use super::{Failed, Policies, Remedy, RestartPolicy, StepKind, view::Phase};
use crate::snapshot::Key;

/// One connector's remediation so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Actions attempted (a refused call counts too, as in Strimzi).
    pub attempts: u32,
    /// When the failure was first seen.
    pub failing_since: Instant,
    /// When the last action was attempted.
    pub last_attempt: Option<Instant>,
    /// Since when the connector has looked healthy, if it does.
    pub healthy_since: Option<Instant>,
    /// What is failing now (empty while healthy).
    pub failed: Failed,
    /// The last action's step.
    pub last_step: Option<StepKind>,
    /// How the last action went (`accepted`, or why not).
    pub last_outcome: Option<String>,
    /// An action is under way: no other is started until it has finished.
    pub in_flight: bool,
    /// The ladder is exhausted and its escalation is due (or done): nothing more to try.
    pub exhausted: bool,
    /// The escalation of this failure has been recorded.
    pub escalated: bool,
    /// The classification as non-restartable or ignored has been recorded.
    pub classified: bool,
}

impl Record {
    fn new(now: Instant) -> Self {
        Self {
            attempts: 0,
            failing_since: now,
            last_attempt: None,
            healthy_since: None,
            failed: Failed::default(),
            last_step: None,
            last_outcome: None,
            in_flight: false,
            exhausted: false,
            escalated: false,
            classified: false,
        }
    }

    /// The phase this record is in under `policy`.
    pub fn phase(&self, policy: &RestartPolicy) -> Phase {
        let past_point = policy.escalate_after.is_some_and(|n| self.attempts >= n);
        match self.failed.class.remedy {
            _ if self.healthy_since.is_some() => Phase::Recovered,
            Remedy::Ignore => Phase::Ignored,
            Remedy::Escalate => Phase::Persistent,
            Remedy::Restart if self.exhausted => Phase::Persistent,
            Remedy::Restart if past_point => Phase::Escalated,
            Remedy::Restart => Phase::Remediating,
        }
    }

    /// When the next action (or the escalation, once the ladder is done) is due.
    pub fn due_at(&self, policy: &RestartPolicy) -> Instant {
        let wait = wait_before(policy, self.attempts);
        self.last_attempt.unwrap_or(self.failing_since) + wait
    }

    /// The next rung, `None` once the ladder (or `max_restarts`) is exhausted.
    pub fn next_step(&self, policy: &RestartPolicy) -> Option<StepKind> {
        next_rung(policy, self.attempts).map(|r| r.step.kind)
    }
}

/// The wait before action `made + 1`: its step's own, else the schedule's.
fn wait_before(policy: &RestartPolicy, made: u32) -> Duration {
    let own = next_rung(policy, made).and_then(|r| r.step.wait);
    own.unwrap_or_else(|| policy.schedule.delay(made))
}

fn next_rung(policy: &RestartPolicy, made: u32) -> Option<super::ladder::Rung> {
    (made < policy.cap())
        .then(|| policy.ladder.next(made))
        .flatten()
}

/// An action to perform now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub connector: String,
    pub step: StepKind,
    pub failed: Failed,
    /// 1 for the first action of this failure, over every step.
    pub attempt: u32,
    /// 1 for the first attempt of this step.
    pub attempt_of_step: u32,
    /// When the next action (or the escalation) is due if this does not help.
    pub next_in: Duration,
}

/// Something remediation did or decided, for the one log line, the counter and the
/// history: an [`Action`]'s outcome, or an event with no IO.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub connector: String,
    /// `restart-tasks`, `restart-connector`, `recreate`, `classify` or `escalate`.
    pub step: &'static str,
    /// The action's attempt (for `classify` and `escalate`: the actions made so far).
    pub attempt: u32,
    /// `accepted`, an error, `non-restartable (RULE)`, `ignored (RULE)`, `escalated`.
    pub outcome: String,
    /// The failure's cause line (masked).
    pub cause: String,
}

/// What one poll shows (see [`super::seen`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// The failures to act on.
    pub failed: BTreeMap<String, Failed>,
    /// Connectors neither failing nor healthy yet: their records stay as they are.
    pub settling: BTreeSet<String>,
}

/// Failures only, nothing settling.
impl From<BTreeMap<String, Failed>> for Seen {
    fn from(failed: BTreeMap<String, Failed>) -> Self {
        Self {
            failed,
            settling: BTreeSet::new(),
        }
    }
}

/// What one poll decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decided {
    pub due: Vec<Action>,
    pub events: Vec<Event>,
}

/// Remediation records of every connector that failed recently.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    records: BTreeMap<String, Record>,
}

impl Ledger {
    /// The record of `connector`, if any.
    pub fn get(&self, connector: &str) -> Option<&Record> {
        self.records.get(connector)
    }

    /// Every record, by connector.
    pub fn records(&self) -> &BTreeMap<String, Record> {
        &self.records
    }

    /// Of the containers `failed` now, those that do not count towards the verdict:
    /// ignored ones always; restartable ones while fewer than `escalate_after` actions
    /// have been tried and the ladder is not exhausted. Call it before
    /// [`Ledger::step`], so a failure seen for the first time is held.
    pub fn held(&self, failed: &BTreeMap<String, Failed>, policies: &Policies) -> BTreeSet<Key> {
        let holds = |name: &str, f: &Failed| {
            let Some(policy) = policies.get(name) else {
                return false;
            };
            let record = self.records.get(name);
            let attempts = record.map_or(0, |r| r.attempts);
            let exhausted = record.is_some_and(|r| r.exhausted);
            match f.class.remedy {
                Remedy::Ignore => true,
                Remedy::Escalate => false,
                Remedy::Restart => {
                    policy.escalate_after.is_some_and(|n| attempts < n) && !exhausted
                }
            }
        };
        failed
            .iter()
            .filter(|(name, f)| holds(name, f))
            .flat_map(|(name, f)| f.keys(name).collect::<Vec<_>>())
            .collect()
    }

    /// Takes this poll's failures into account; returns what is due at `now`.
    pub fn step(&mut self, seen: impl Into<Seen>, policies: &Policies, now: Instant) -> Decided {
        let Seen { failed, settling } = seen.into();
        self.forget_healthy(&failed, &settling, policies, now);
        let mut decided = Decided::default();
        for (name, now_failed) in failed {
            let Some(policy) = policies.get(&name) else {
                continue;
            };
            let record = self
                .records
                .entry(name.clone())
                .or_insert_with(|| Record::new(now));
            if record.healthy_since.take().is_some() {
                (record.escalated, record.classified) = (false, false);
            }
            record.failed = now_failed;
            decide(&name, record, policy, now, &mut decided);
        }
        decided
    }

    /// Records how an action went; the connector may be acted on again.
    pub fn finished(&mut self, connector: &str, outcome: impl Into<String>) {
        if let Some(record) = self.records.get_mut(connector) {
            record.last_outcome = Some(outcome.into());
            record.in_flight = false;
        }
    }

    /// Marks connectors neither failing nor settling as healthy, and drops those
    /// healthy for `reset_after` (or without a policy any more), unless an action of
    /// theirs is still under way.
    fn forget_healthy(
        &mut self,
        failed: &BTreeMap<String, Failed>,
        settling: &BTreeSet<String>,
        policies: &Policies,
        now: Instant,
    ) {
        for (name, record) in &mut self.records {
            if !failed.contains_key(name) && !settling.contains(name) {
                record.failed = Failed::default();
                record.healthy_since.get_or_insert(now);
            }
        }
        self.records.retain(|name, r| {
            let reset_after = policies.get(name).map_or(Duration::ZERO, |p| p.reset_after);
            r.in_flight
                || r.healthy_since
                    .is_none_or(|since| now.saturating_duration_since(since) < reset_after)
        });
    }
}

/// One failing connector's decision.
fn decide(
    name: &str,
    record: &mut Record,
    policy: &RestartPolicy,
    now: Instant,
    out: &mut Decided,
) {
    let class = record.failed.class.clone();
    let event = |step, attempt, outcome: String| Event {
        connector: name.to_string(),
        step,
        attempt,
        outcome,
        cause: class.cause.clone(),
    };
    match class.remedy {
        Remedy::Ignore | Remedy::Escalate if !record.classified => {
            record.classified = true;
            let what = match class.remedy {
                Remedy::Ignore => "ignored",
                _ => "non-restartable",
            };
            let outcome = format!("{what} ({})", class.rule);
            out.events.push(event("classify", record.attempts, outcome));
        }
        _ => {}
    }
    let escalates = match class.remedy {
        Remedy::Ignore => false,
        Remedy::Escalate => true,
        Remedy::Restart => {
            if !record.in_flight && !record.exhausted && now >= record.due_at(policy) {
                match act(name, record, policy, now) {
                    Some(action) => out.due.push(action),
                    None => record.exhausted = true,
                }
            }
            record.exhausted || policy.escalate_after.is_some_and(|n| record.attempts >= n)
        }
    };
    if escalates && !record.escalated {
        record.escalated = true;
        out.events
            .push(event("escalate", record.attempts, "escalated".into()));
    }
}

/// The next rung as an action, recorded as made; `None` once the ladder is exhausted.
fn act(name: &str, record: &mut Record, policy: &RestartPolicy, now: Instant) -> Option<Action> {
    let rung = next_rung(policy, record.attempts)?;
    record.attempts += 1;
    record.last_attempt = Some(now);
    record.last_step = Some(rung.step.kind);
    record.in_flight = true;
    Some(Action {
        connector: name.to_string(),
        step: rung.step.kind,
        failed: record.failed.clone(),
        attempt: record.attempts,
        attempt_of_step: rung.attempt_of_step,
        next_in: wait_before(policy, record.attempts),
    })
}
