//! Carrying out a plan: every config write is validated first (nothing is written if
//! any fails), then connectors change with bounded concurrency, each under its own
//! deadline, with 409/rebalance retries and backoff, so one failing or hung connector
//! never blocks the others.

use std::time::Duration;

use futures::{StreamExt, stream};
use serde_json::Value;

use crate::{
    connect::{
        ConnectClient, ConnectError,
        retry::{Backoff, retry},
    },
    plan::{Config, Op, Plan, Step, TargetState, Transition},
};

/// How changes are written (`apply`, `reconcile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteSettings {
    /// Connectors changed at once.
    pub concurrency: usize,
    /// Deadline of one connector's whole change, retries included.
    pub timeout: Duration,
    /// Retries of a 409 or rebalance answer, and their first delay (doubling, at most
    /// [`crate::connect::retry::MAX_BACKOFF`]).
    pub backoff: Backoff,
}

/// One connector's problems found by validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidConfig {
    pub name: String,
    /// `key: message`, or a connector-level message.
    pub problems: Vec<String>,
}

/// The result of one step.
#[derive(Debug)]
pub struct ChangeResult {
    pub name: String,
    /// What was done, e.g. `updated (2 keys), then paused`.
    pub action: String,
    /// The step's verb, e.g. `update`.
    pub verb: &'static str,
    pub result: Result<(), ConnectError>,
}

/// Validates every config the plan writes; connectors with problems are returned.
pub async fn validate(
    client: &ConnectClient,
    plan: &Plan,
    settings: &WriteSettings,
) -> Vec<InvalidConfig> {
    let writes: Vec<(&str, &Config)> = plan
        .steps
        .iter()
        .filter_map(|s| s.op.writes_config().map(|c| (s.name.as_str(), c)))
        .collect();
    // The futures are built up front: a lazy `map` over borrowed items makes the
    // future not `Send` for every lifetime, so it could not run in a spawned task.
    let checks: Vec<_> = writes
        .into_iter()
        .map(|(name, config)| async move {
            let problems = validate_one(client, config, settings).await;
            InvalidConfig {
                name: name.to_string(),
                problems,
            }
        })
        .collect();
    let all: Vec<InvalidConfig> = stream::iter(checks)
        .buffered(settings.concurrency.max(1))
        .collect()
        .await;
    all.into_iter().filter(|i| !i.problems.is_empty()).collect()
}

async fn validate_one(
    client: &ConnectClient,
    config: &Config,
    settings: &WriteSettings,
) -> Vec<String> {
    let Some(class) = config
        .get("connector.class")
        .filter(|c| !c.trim().is_empty())
    else {
        return vec!["connector.class is missing".into()];
    };
    let report = retry(settings.backoff, || client.validate(class, config)).await;
    match report {
        Ok(report) => key_errors(&report),
        Err(e) => vec![e.to_string()],
    }
}

/// `key: error` for every error in a validate report (spec §14).
fn key_errors(report: &Value) -> Vec<String> {
    let configs = report["configs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    configs
        .iter()
        .flat_map(|c| {
            let key = c["value"]["name"].as_str().unwrap_or("?").to_string();
            let errors = c["value"]["errors"].as_array().cloned().unwrap_or_default();
            errors
                .into_iter()
                .map(move |e| format!("{key}: {}", e.as_str().unwrap_or_default()))
        })
        .collect()
}

/// Runs every changing step, `settings.concurrency` at a time; `done` sees each
/// report as it finishes.
pub async fn execute(
    client: &ConnectClient,
    plan: &Plan,
    settings: &WriteSettings,
    mut done: impl FnMut(&ChangeResult),
) -> Vec<ChangeResult> {
    let mut reports = Vec::new();
    let steps: Vec<_> = plan
        .changes()
        .map(|step| run_step(client, step, settings))
        .collect();
    let mut running = stream::iter(steps).buffer_unordered(settings.concurrency.max(1));
    while let Some(report) = running.next().await {
        done(&report);
        reports.push(report);
    }
    reports
}

async fn run_step(client: &ConnectClient, step: &Step, settings: &WriteSettings) -> ChangeResult {
    let work = steps_of(client, step, settings);
    let result = match tokio::time::timeout(settings.timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout {
            call: format!("the change of {}", step.name),
            timeout_ms: settings.timeout.as_millis(),
        }),
    };
    ChangeResult {
        name: step.name.clone(),
        action: describe(&step.op),
        verb: verb(&step.op),
        result,
    }
}

async fn steps_of(
    client: &ConnectClient,
    step: &Step,
    s: &WriteSettings,
) -> Result<(), ConnectError> {
    let name = step.name.as_str();
    match &step.op {
        Op::Create { config, state } => create(client, name, config, *state, s).await,
        Op::Update { config, then, .. } => put_then(client, name, config, *then, s).await,
        Op::Transition(t) => transition(client, name, *t, s).await,
        Op::Delete => retry(s.backoff, || client.delete(name)).await,
        Op::Unchanged => Ok(()),
    }
}

/// A running connector is created with PUT; a paused or stopped one with
/// `initial_state` on 3.7+ (it never starts; the client asks the version once), else
/// created and then paused/stopped.
async fn create(
    client: &ConnectClient,
    name: &str,
    config: &Config,
    state: TargetState,
    s: &WriteSettings,
) -> Result<(), ConnectError> {
    let then = match state {
        TargetState::Running => None,
        TargetState::Paused => Some(Transition::Pause),
        TargetState::Stopped => Some(Transition::Stop),
    };
    if then.is_some() && client.takes_initial_state().await? {
        let initial = state.as_str().to_ascii_uppercase();
        return retry(s.backoff, || client.create(name, config, &initial)).await;
    }
    put_then(client, name, config, then, s).await
}

/// Writes the config, then makes the transition, if any.
async fn put_then(
    client: &ConnectClient,
    name: &str,
    config: &Config,
    then: Option<Transition>,
    s: &WriteSettings,
) -> Result<(), ConnectError> {
    retry(s.backoff, || client.put_config(name, config)).await?;
    match then {
        Some(t) => transition(client, name, t, s).await,
        None => Ok(()),
    }
}

async fn transition(
    client: &ConnectClient,
    name: &str,
    t: Transition,
    s: &WriteSettings,
) -> Result<(), ConnectError> {
    match t {
        Transition::Pause => retry(s.backoff, || client.pause(name)).await,
        Transition::Resume => retry(s.backoff, || client.resume(name)).await,
        Transition::Stop => retry(s.backoff, || client.stop(name)).await,
    }
}

/// The past-tense line of a step, e.g. `updated (2 keys), then paused`.
pub fn describe(op: &Op) -> String {
    match op {
        Op::Create { state, .. } => format!("created ({})", state.as_str()),
        Op::Update {
            changes,
            then,
            adopt,
            ..
        } => {
            let adopted = if *adopt { "adopted and " } else { "" };
            let then = then
                .map(|t| format!(", then {}", past(t)))
                .unwrap_or_default();
            let keys = match changes.len() {
                1 => "1 key".to_string(),
                n => format!("{n} keys"),
            };
            format!("{adopted}updated ({keys}){then}")
        }
        Op::Transition(t) => past(*t).to_string(),
        Op::Delete => "deleted".into(),
        Op::Unchanged => "unchanged".into(),
    }
}

/// The step's verb: `create`, `update`, `pause`, `resume`, `stop` or `delete`.
pub fn verb(op: &Op) -> &'static str {
    match op {
        Op::Create { .. } => "create",
        Op::Update { .. } => "update",
        Op::Transition(t) => t.as_str(),
        Op::Delete => "delete",
        Op::Unchanged => "unchanged",
    }
}

fn past(t: Transition) -> &'static str {
    match t {
        Transition::Pause => "paused",
        Transition::Resume => "resumed",
        Transition::Stop => "stopped",
    }
}
