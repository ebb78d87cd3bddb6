//! Silent failures: connectors that never reach FAILED but do no work. Pure, free of
//! IO: from a [`Snapshot`], how long each condition has held ([`Memory`], carried from
//! poll to poll like [`verdict::track`]) and the grace period, [`observe`] finds per
//! connector, past the grace period:
//!
//! | check | condition |
//! |---|---|
//! | `no-tasks` | the connector is RUNNING with no tasks (and is not expected to have none) |
//! | `missing-tasks` | fewer RUNNING tasks than expected (see [`ExpectedFrom`]) |
//! | `stuck` | the connector or a task UNASSIGNED or RESTARTING (the verdict's transitions) |
//! | `no-status` | listed, but its status record never appeared |
//!
//! "Expected" is the connector's [`EXPECTED_TASKS_KEY`] when set, else what
//! [`ExpectedFrom`] says (by default nothing: many connectors rightly run fewer tasks
//! than `tasks.max`). [`count`] turns the checks `--fail-on` names into failures of `/`.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use serde::Serialize;

use crate::{
    connect::{ConnectorStatus, facts::Facts},
    snapshot::{Key, Snapshot},
    verdict::{Failure, Policy, Transitions, Verdict, is_transitional},
};

#[cfg(doc)]
use crate::{connect::facts::EXPECTED_TASKS_KEY, verdict};

#[cfg(test)]
mod tests;

/// One kind of silent failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    NoTasks,
    MissingTasks,
    Stuck,
    NoStatus,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 4] = [
        Check::NoTasks,
        Check::MissingTasks,
        Check::Stuck,
        Check::NoStatus,
    ];

    /// The name in flags, labels and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Check::NoTasks => "no-tasks",
            Check::MissingTasks => "missing-tasks",
            Check::Stuck => "stuck",
            Check::NoStatus => "no-status",
        }
    }

    /// The check named `name` (as [`Check::name`] writes it).
    pub fn parse(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Where a connector's expected RUNNING task count comes from when its config does not
/// say (`--expected-tasks`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExpectedFrom {
    /// Nothing is expected (the default).
    #[default]
    None,
    /// `tasks.max`.
    TasksMax,
    /// The most tasks it has run since its config last changed.
    Previous,
}

/// What the checks expect and which of them fail `/`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub expected: ExpectedFrom,
    /// Checks that count as failures in `/` (`--fail-on`); all are always reported.
    pub fail_on: BTreeSet<Check>,
}

/// The most tasks a connector has run under one config.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Peak {
    /// [`Facts::config_hash`] of that config.
    pub config: u64,
    pub most: u32,
}

/// What is carried from poll to poll.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// How long `no-tasks`/`missing-tasks` have held, by connector.
    pub since: BTreeMap<(String, Check), Duration>,
    /// The most tasks each connector has run since its config changed.
    pub peaks: BTreeMap<String, Peak>,
}

/// One silent failure past the grace period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub connector: String,
    pub check: Check,
    /// The stuck task, for `stuck` on a task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<u32>,
    /// The state of the stuck instance, or of the connector (`NONE`: no record).
    pub state: String,
    /// The worker of that instance (empty without a record).
    pub worker_id: String,
    pub tasks_running: u32,
    pub tasks_expected: Option<u32>,
    /// How long the condition has held, in milliseconds.
    pub for_ms: u128,
}

/// One connector's task counts, as the report shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tasks {
    pub running: u32,
    pub expected: Option<u32>,
}

/// The outcome of one observation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub memory: Memory,
    /// Past the grace period, in connector order.
    pub findings: Vec<Finding>,
    /// Running and expected tasks of every connector in scope with a status.
    pub tasks: BTreeMap<String, Tasks>,
}

impl Report {
    /// The findings about `connector` (and, with `task`, those of that task or of the
    /// connector as a whole).
    pub fn of<'a>(
        &'a self,
        connector: &'a str,
        task: Option<u32>,
    ) -> impl Iterator<Item = &'a Finding> {
        let fits = move |f: &&Finding| task.is_none() || f.task.is_none() || f.task == task;
        self.findings
            .iter()
            .filter(move |f| f.connector == connector)
            .filter(fits)
    }
}

/// Observes `snapshot`: ages the conditions of `previous` by `elapsed` (the time since
/// the last successful poll), and lists those past `policy.grace`. `transitions` are the
/// verdict's (UNASSIGNED, RESTARTING, no status yet), tracked by [`verdict::track`].
pub fn observe(
    previous: &Memory,
    snapshot: &Snapshot,
    transitions: &Transitions,
    policy: &Policy,
    settings: &Settings,
    elapsed: Duration,
) -> Report {
    let mut report = Report::default();
    for (name, status) in snapshot
        .connectors
        .iter()
        .filter(|(n, _)| policy.selects(n))
    {
        let facts = snapshot.facts.get(name);
        match status {
            Some(status) if in_scope(policy, status) => {
                report.connector(previous, name, status, facts, settings, policy, elapsed);
                report.stuck(name, status, transitions, policy);
            }
            Some(_) => {}
            None => report.no_status(name, transitions, policy),
        }
    }
    report
}

/// The connector instance runs on a worker in scope.
fn in_scope(policy: &Policy, status: &ConnectorStatus) -> bool {
    policy.worker.matches(&status.connector.worker_id)
}

/// RUNNING tasks of `status`.
pub fn running(status: &ConnectorStatus) -> u32 {
    let n = status
        .tasks
        .iter()
        .filter(|t| t.state.eq_ignore_ascii_case("RUNNING"));
    n.count() as u32
}

/// The expected RUNNING task count: the connector's own key, else by `from` (`peak`:
/// the most under the current config so far).
pub fn expected(facts: Option<&Facts>, from: ExpectedFrom, peak: Option<Peak>) -> Option<u32> {
    if let Some(n) = facts.and_then(|f| f.expected_tasks) {
        return Some(n);
    }
    match from {
        ExpectedFrom::None => None,
        ExpectedFrom::TasksMax => facts.and_then(|f| f.tasks_max),
        ExpectedFrom::Previous => peak.map(|p| p.most).filter(|n| *n > 0),
    }
}

/// The condition a RUNNING connector is in, if any.
fn condition(status: &ConnectorStatus, running: u32, expected: Option<u32>) -> Option<Check> {
    if !status.connector.state.eq_ignore_ascii_case("RUNNING") || expected == Some(0) {
        return None;
    }
    match (status.tasks.is_empty(), expected) {
        (true, _) => Some(Check::NoTasks),
        (false, Some(n)) if running < n => Some(Check::MissingTasks),
        _ => None,
    }
}

impl Report {
    /// `no-tasks`/`missing-tasks` of one connector, and its peak.
    #[allow(clippy::too_many_arguments)]
    fn connector(
        &mut self,
        previous: &Memory,
        name: &str,
        status: &ConnectorStatus,
        facts: Option<&Facts>,
        settings: &Settings,
        policy: &Policy,
        elapsed: Duration,
    ) {
        let config = facts.map_or(0, |f| f.config_hash);
        let peak = previous
            .peaks
            .get(name)
            .copied()
            .filter(|p| p.config == config);
        let running = running(status);
        let expected = expected(facts, settings.expected, peak);
        let most = peak.map_or(running, |p| p.most.max(running));
        self.memory
            .peaks
            .insert(name.to_string(), Peak { config, most });
        self.tasks
            .insert(name.to_string(), Tasks { running, expected });
        let Some(check) = condition(status, running, expected) else {
            return;
        };
        let key = (name.to_string(), check);
        let age = previous
            .since
            .get(&key)
            .map_or(Duration::ZERO, |a| *a + elapsed);
        self.memory.since.insert(key, age);
        if age >= policy.grace {
            self.findings.push(Finding {
                connector: name.to_string(),
                check,
                task: None,
                state: status.connector.state.to_string(),
                worker_id: status.connector.worker_id.to_string(),
                tasks_running: running,
                tasks_expected: expected,
                for_ms: age.as_millis(),
            });
        }
    }

    /// `stuck`: instances UNASSIGNED or RESTARTING past the grace period.
    fn stuck(
        &mut self,
        name: &str,
        status: &ConnectorStatus,
        transitions: &Transitions,
        policy: &Policy,
    ) {
        let counts = self.tasks.get(name).copied().unwrap_or_default();
        for i in crate::snapshot::instances(name, status).filter(|i| is_transitional(i.state)) {
            let Some(age) = past_grace(transitions, &i.key(), policy) else {
                continue;
            };
            self.findings.push(Finding {
                connector: name.to_string(),
                check: Check::Stuck,
                task: i.task,
                state: i.state.to_string(),
                worker_id: i.worker_id.to_string(),
                tasks_running: counts.running,
                tasks_expected: counts.expected,
                for_ms: age.as_millis(),
            });
        }
    }

    /// `no-status`: listed without a status record past the grace period (its worker is
    /// unknown, so only when the scope is every worker).
    fn no_status(&mut self, name: &str, transitions: &Transitions, policy: &Policy) {
        if policy.worker != crate::verdict::WorkerScope::All {
            return;
        }
        if let Some(age) = past_grace(transitions, &Key::new(name, None), policy) {
            self.findings.push(Finding {
                connector: name.to_string(),
                check: Check::NoStatus,
                task: None,
                state: "NONE".into(),
                worker_id: String::new(),
                tasks_running: 0,
                tasks_expected: None,
                for_ms: age.as_millis(),
            });
        }
    }
}

/// How long `key` has been transitional, if that is at least the grace period.
fn past_grace(transitions: &Transitions, key: &Key, policy: &Policy) -> Option<Duration> {
    transitions
        .get(key)
        .copied()
        .filter(|age| *age >= policy.grace)
}

/// Adds the findings of the checks in `fail_on` to `verdict` as connector (or task)
/// failures, the state naming the check (`NO_TASKS`, `MISSING_TASKS`, `NO_STATUS`, or
/// the stuck state), skipping instances already failing and those in `held`; the rate
/// and `healthy` follow. Without `fail_on`, `verdict` is unchanged.
pub fn count(
    verdict: &mut Verdict,
    report: &Report,
    fail_on: &BTreeSet<Check>,
    held: &BTreeSet<Key>,
) {
    let failing: BTreeSet<Key> = verdict.failures.iter().filter_map(key_of).collect();
    let added: Vec<Failure> = report
        .findings
        .iter()
        .filter(|f| fail_on.contains(&f.check))
        .filter(|f| {
            let key = Key::new(&f.connector, f.task);
            !held.contains(&key) && !failing.contains(&key)
        })
        .map(failure)
        .collect();
    if added.is_empty() {
        return;
    }
    let counted = (verdict.failure_rate * verdict.containers as f64).round() + added.len() as f64;
    verdict.failure_rate = match verdict.containers {
        0 => 1.0,
        n => (counted / n as f64).min(1.0),
    };
    let at = verdict.failures.len() - usize::from(verdict.worker_problem.is_some());
    verdict.failures.splice(at..at, added);
    verdict.healthy =
        verdict.failure_rate <= verdict.failure_threshold && verdict.worker_problem.is_none();
}

/// The findings of `now` that `before` did not have (for the log: one line each).
pub fn new_findings<'a>(before: &'a Report, now: &'a Report) -> impl Iterator<Item = &'a Finding> {
    let seen: BTreeSet<(&str, Check, Option<u32>)> = before
        .findings
        .iter()
        .map(|f| (f.connector.as_str(), f.check, f.task))
        .collect();
    now.findings
        .iter()
        .filter(move |f| !seen.contains(&(f.connector.as_str(), f.check, f.task)))
}

/// The instance a failure entry is about (none for the worker's own).
fn key_of(failure: &Failure) -> Option<Key> {
    match failure {
        Failure::Connector { connector, .. } => Some(Key::new(connector, None)),
        Failure::Task { connector, id, .. } => Some(Key::new(connector, Some(*id))),
        Failure::Broker { .. } => None,
    }
}

/// The failure entry of a finding, in the shape of `/`'s entries.
fn failure(f: &Finding) -> Failure {
    let state = match f.check {
        Check::Stuck => f.state.clone(),
        other => other.name().replace('-', "_").to_uppercase(),
    };
    match f.task {
        Some(id) => Failure::Task {
            connector: f.connector.clone(),
            id,
            state,
            worker_id: f.worker_id.clone(),
            trace: None,
        },
        None => Failure::Connector {
            connector: f.connector.clone(),
            state,
            worker_id: f.worker_id.clone(),
        },
    }
}
