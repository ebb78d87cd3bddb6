//! The health verdict: a pure function from a [`Snapshot`] and a [`Policy`] to a
//! [`Verdict`] whose JSON is kafka-connect-healthcheck's `GET /` body (peers §1.3).
//!
//! Deliberate differences from kafka-connect-healthcheck 0.3.0 (peers §1.5):
//! - the failure rate is computed over the containers **in scope** (this worker's,
//!   after include/exclude), not over the whole cluster (the dilution bug);
//! - a connector listed without a status record is transitional, never a failure;
//! - UNASSIGNED, RESTARTING and "no status yet" are forgiven for a grace period.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use regex::Regex;
use serde::Serialize;
use serde_json::{Value, json};

pub use crate::snapshot::Key;
use crate::{
    connect::{ConnectorStatus, WorkerHealth},
    snapshot::{Instance, Snapshot, instances},
};

/// Which worker's connectors and tasks this check is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerScope {
    /// Every worker (no `--connect-worker-id`).
    All,
    /// `worker_id` equal to this, ignoring case (`host:port`).
    Exact(String),
    /// `worker_id` whose host part equals this, ignoring case and port.
    Host(String),
}

/// As given: `host:port`, `host (any port)`, or `every worker`.
impl std::fmt::Display for WorkerScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkerScope::All => f.write_str("every worker"),
            WorkerScope::Exact(id) => f.write_str(id),
            WorkerScope::Host(host) => write!(f, "{host} (any port)"),
        }
    }
}

impl WorkerScope {
    pub fn matches(&self, worker_id: &str) -> bool {
        match self {
            WorkerScope::All => true,
            WorkerScope::Exact(id) => worker_id.eq_ignore_ascii_case(id),
            WorkerScope::Host(host) => {
                let worker_host = worker_id.rsplit_once(':').map_or(worker_id, |(h, _)| h);
                worker_host
                    .trim_matches(['[', ']'])
                    .eq_ignore_ascii_case(host.trim_matches(['[', ']']))
            }
        }
    }
}

/// What counts as unhealthy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Upper-cased states that are failures (default `FAILED`).
    pub unhealthy_states: Vec<String>,
    pub consider_connectors: bool,
    pub consider_tasks: bool,
    /// A fraction in 0..=1: unhealthy when the failure rate exceeds it.
    pub threshold: f64,
    pub worker: WorkerScope,
    pub include: Option<Regex>,
    pub exclude: Option<Regex>,
    /// How long transitional states are forgiven.
    pub grace: Duration,
    /// The silent-failure checks: what is expected, and which fail `/`.
    pub silent: crate::silent::Settings,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            unhealthy_states: vec!["FAILED".into()],
            consider_connectors: true,
            consider_tasks: true,
            threshold: 0.0,
            worker: WorkerScope::All,
            include: None,
            exclude: None,
            grace: Duration::from_secs(300),
            silent: Default::default(),
        }
    }
}

impl Policy {
    /// True when the include/exclude regexes keep this connector.
    pub fn selects(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|r| r.is_match(name))
            && self.exclude.as_ref().is_none_or(|r| !r.is_match(name))
    }

    /// True when the instance is in scope: its kind is considered and its worker matches.
    pub fn considers(&self, instance: &Instance<'_>) -> bool {
        let kind = match instance.task {
            None => self.consider_connectors,
            Some(_) => self.consider_tasks,
        };
        kind && self.worker.matches(instance.worker_id)
    }

    fn is_unhealthy(&self, state: &str) -> bool {
        self.unhealthy_states
            .iter()
            .any(|s| s.eq_ignore_ascii_case(state))
    }
}

/// How long each container has been transitional, carried from poll to poll.
pub type Transitions = BTreeMap<Key, Duration>;

/// States that are normal for a while (spec §20.2): rolling restarts, restarts.
pub fn is_transitional(state: &str) -> bool {
    state.eq_ignore_ascii_case("UNASSIGNED") || state.eq_ignore_ascii_case("RESTARTING")
}

/// Ages the transitional containers by `elapsed` (the time since the previous poll):
/// containers that are no longer transitional are dropped, new ones start at zero.
pub fn track(previous: &Transitions, snapshot: &Snapshot, elapsed: Duration) -> Transitions {
    let mut next = Transitions::new();
    for (name, status) in &snapshot.connectors {
        for key in transitional_keys(name, status.as_ref()) {
            let age = previous
                .get(&key)
                .map_or(Duration::ZERO, |age| *age + elapsed);
            next.insert(key, age);
        }
    }
    next
}

fn transitional_keys(name: &str, status: Option<&ConnectorStatus>) -> Vec<Key> {
    let Some(status) = status else {
        return vec![Key::new(name, None)];
    };
    instances(name, status)
        .filter(|i| is_transitional(i.state))
        .map(|i| i.key())
        .collect()
}

/// One failure entry of the `GET /` body (peers §1.3 key order and types).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Failure {
    Connector {
        connector: String,
        state: String,
        worker_id: String,
    },
    Task {
        connector: String,
        id: u32,
        state: String,
        worker_id: String,
        trace: Option<String>,
    },
    /// The worker itself cannot serve requests (kafka-connect-healthcheck's broker check).
    Broker { connector: String },
}

impl Failure {
    /// The failure entry of a failed instance.
    fn of(instance: &Instance<'_>) -> Self {
        let (connector, worker_id) = (instance.connector.into(), instance.worker_id.into());
        match instance.task {
            None => Self::Connector {
                connector,
                state: instance.state.to_uppercase(),
                worker_id,
            },
            Some(id) => Self::Task {
                connector,
                id,
                state: instance.state.into(),
                worker_id,
                trace: instance.trace.map(String::from),
            },
        }
    }
}

/// The outcome of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub healthy: bool,
    pub failures: Vec<Failure>,
    pub failure_states: Vec<String>,
    pub failure_rate: f64,
    pub failure_threshold: f64,
    /// Containers in scope (the denominator).
    pub containers: usize,
    /// Transitional containers still within the grace period.
    pub transitional: Vec<Key>,
    /// Why the worker itself is not healthy, if it is not.
    pub worker_problem: Option<String>,
}

/// Evaluates a snapshot; `transitions` says how long each transitional container has
/// been so.
pub fn evaluate(snapshot: &Snapshot, policy: &Policy, transitions: &Transitions) -> Verdict {
    evaluate_held(snapshot, policy, transitions, &BTreeSet::new())
}

/// [`evaluate`], where failures of `held` containers (being auto-restarted, not yet
/// escalated) are listed but do not count towards the failure rate.
pub fn evaluate_held(
    snapshot: &Snapshot,
    policy: &Policy,
    transitions: &Transitions,
    held: &BTreeSet<Key>,
) -> Verdict {
    let mut tally = Tally::default();
    for (name, status) in snapshot
        .connectors
        .iter()
        .filter(|(n, _)| policy.selects(n))
    {
        match status {
            None => tally.missing(name, policy, transitions),
            Some(status) => instances(name, status)
                .filter(|i| policy.considers(i))
                .for_each(|i| tally.judge(&i, policy, transitions)),
        }
    }
    let counted = tally.failures.iter().filter(|f| !is_held(f, held)).count();
    finish(snapshot, policy, tally, counted)
}

/// The failures, forgiven instances and instances in scope of one evaluation.
#[derive(Default)]
struct Tally {
    failures: Vec<Failure>,
    forgiven: Vec<Key>,
    containers: usize,
}

impl Tally {
    /// Counts one instance in scope: a failure, forgiven (transitional within grace,
    /// the grace looked up only then: it costs a lookup), or healthy.
    fn judge(&mut self, instance: &Instance<'_>, policy: &Policy, transitions: &Transitions) {
        self.containers += 1;
        let state = instance.state;
        if is_transitional(state) && in_grace(instance.key(), policy, transitions) {
            self.forgiven.push(instance.key());
        } else if policy.is_unhealthy(state) {
            self.failures.push(Failure::of(instance));
        }
    }

    /// A listed connector with no status record: its placement is unknown, so it counts
    /// only when the scope is every worker, and fails only after the grace period if
    /// UNASSIGNED is an unhealthy state.
    fn missing(&mut self, name: &str, policy: &Policy, transitions: &Transitions) {
        if policy.worker == WorkerScope::All && policy.consider_connectors {
            self.containers += 1;
        }
        let key = Key::new(name, None);
        if !policy.is_unhealthy("UNASSIGNED") || in_grace(key.clone(), policy, transitions) {
            self.forgiven.push(key);
        }
    }
}

fn in_grace(key: Key, policy: &Policy, transitions: &Transitions) -> bool {
    transitions.get(&key).is_none_or(|age| *age < policy.grace)
}

/// True when the failure's container is in `held`.
fn is_held(failure: &Failure, held: &BTreeSet<Key>) -> bool {
    match failure {
        Failure::Connector { connector, .. } => held.contains(&Key::new(connector, None)),
        Failure::Task { connector, id, .. } => held.contains(&Key::new(connector, Some(*id))),
        Failure::Broker { .. } => false,
    }
}

fn finish(snapshot: &Snapshot, policy: &Policy, tally: Tally, counted: usize) -> Verdict {
    let Tally {
        mut failures,
        forgiven: transitional,
        containers,
    } = tally;
    let failure_rate = if containers == 0 {
        0.0
    } else {
        counted as f64 / containers as f64
    };
    let worker_problem = match &snapshot.worker {
        Ok(WorkerHealth::Healthy | WorkerHealth::Starting(_)) => None,
        Ok(WorkerHealth::Unhealthy(message)) => Some(message.clone()),
        Err(e) => Some(e.to_string()),
    };
    if worker_problem.is_some() {
        let first = snapshot
            .connectors
            .keys()
            .next()
            .cloned()
            .unwrap_or_default();
        failures.push(Failure::Broker { connector: first });
    }
    let healthy = failure_rate <= policy.threshold && worker_problem.is_none();
    Verdict {
        healthy,
        failures,
        failure_states: policy.unhealthy_states.clone(),
        failure_rate,
        failure_threshold: policy.threshold,
        containers,
        transitional,
        worker_problem,
    }
}

impl Verdict {
    /// The `GET /` body: kafka-connect-healthcheck's keys in its order, then our
    /// additions (`transitional`, `worker_problem`) only when there is something to say.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "failures": self.failures, "failure_states": self.failure_states,
            "failure_rate": self.failure_rate, "failure_threshold": self.failure_threshold,
            "healthy": self.healthy,
        });
        if !self.transitional.is_empty() {
            body["transitional"] = json!(self.transitional);
        }
        if let Some(problem) = &self.worker_problem {
            body["worker_problem"] = json!(problem);
        }
        body
    }
}

/// Evaluates one connector on its own (or, with `task`, one of its tasks): its unhealthy
/// states and grace period apply, on any worker, with no threshold. A connector without
/// a status is transitional.
pub fn evaluate_one(
    policy: &Policy,
    name: &str,
    mut status: Option<ConnectorStatus>,
    task: Option<u32>,
    transitions: &Transitions,
) -> Verdict {
    if let (Some(status), Some(id)) = (status.as_mut(), task) {
        status.tasks.retain(|t| t.id == id);
    }
    let single = Policy {
        worker: WorkerScope::All,
        include: None,
        exclude: None,
        threshold: 0.0,
        consider_connectors: task.is_none(),
        consider_tasks: true,
        ..policy.clone()
    };
    let snapshot = Snapshot {
        taken_at: std::time::SystemTime::now(),
        duration: Duration::ZERO,
        connectors: BTreeMap::from([(name.to_string(), status)]),
        facts: Default::default(),
        worker: Ok(WorkerHealth::Healthy),
    };
    evaluate(&snapshot, &single, transitions)
}

/// kafka-connect-healthcheck's error shape (peers §1.3): 503 with a message and reason.
pub fn error_json(error: &str, failure_states: &[String]) -> Value {
    json!({
        "healthy": false,
        "message": "Exception raised while attempting to calculate health result, assuming unhealthy.",
        "error": error,
        "failure_states": failure_states,
    })
}
