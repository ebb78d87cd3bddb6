//! `connect-sentinel restart`: restart connectors by name or regex (kcctl-like): the
//! connector instance, the connector and all its tasks (`--tasks`), only what failed
//! (`--failed`), or one task (`--task N`). 409s are retried with backoff; one line per
//! connector says what happened. Exit 0 done, 1 Connect refused some, 2 bad input or
//! Connect unreachable.

use std::process::ExitCode;

use anyhow::{Context, bail};
use regex::Regex;

use super::out;
use crate::{
    cli::RestartArgs,
    connect::retry::retry,
    connect::{ConnectClient, ConnectError, ConnectorStatus, Restarted},
    remediate::execute::RETRY,
    settings,
};

/// What to restart in each connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Connector,
    All,
    Failed,
    Task(u32),
}

/// `restart` from the command line, within `--timeout`.
pub async fn main(args: RestartArgs) -> ExitCode {
    let error = match tokio::time::timeout(args.timeout, run(&args)).await {
        Ok(Ok(code)) => return code,
        Ok(Err(e)) => format!("{e:#}"),
        Err(_) => format!(
            "Connect did not finish within --timeout {}",
            humantime::format_duration(args.timeout)
        ),
    };
    out::error(error);
    ExitCode::from(2)
}

async fn run(args: &RestartArgs) -> anyhow::Result<ExitCode> {
    let client = ConnectClient::new(settings::client_options(&args.connect)?)?;
    let mode = match (args.task, args.tasks, args.failed) {
        (Some(id), ..) => Mode::Task(id),
        (None, true, _) => Mode::All,
        (None, false, true) => Mode::Failed,
        _ => Mode::Connector,
    };
    let names = targets(&client, args).await?;
    if matches!(mode, Mode::Task(_)) && names.len() != 1 {
        bail!("--task needs exactly one connector, got {}", names.len());
    }
    let mut refused = false;
    for name in &names {
        match out::waiting(&format!("restarting {name}"), restart(&client, name, mode)).await {
            Ok(done) => out::line(format_args!("{name}: {done}")),
            Err(
                e @ (ConnectError::Unreachable { .. }
                | ConnectError::Unauthorized { .. }
                | ConnectError::Settings(_)),
            ) => bail!(e),
            Err(e) => {
                refused = true;
                out::line(format_args!("{name}: failed: {e}"));
            }
        }
    }
    Ok(ExitCode::from(u8::from(refused)))
}

/// The names given, plus those matching `--regex` (listed from Connect).
async fn targets(client: &ConnectClient, args: &RestartArgs) -> anyhow::Result<Vec<String>> {
    let mut names = args.names.clone();
    if let Some(raw) = &args.regex {
        let regex = Regex::new(raw).with_context(|| format!("invalid --regex {raw:?}"))?;
        let mut listed = client.connector_names().await?;
        listed.sort();
        let matched: Vec<String> = listed.into_iter().filter(|n| regex.is_match(n)).collect();
        if matched.is_empty() {
            bail!("no connector matches --regex {raw:?}");
        }
        names.extend(matched.into_iter().filter(|n| !args.names.contains(n)));
    }
    if names.is_empty() {
        bail!("name at least one connector, or use --regex");
    }
    Ok(names)
}

/// Restarts one connector as `mode` says; the text says what was restarted.
async fn restart(client: &ConnectClient, name: &str, mode: Mode) -> Result<String, ConnectError> {
    let (include_tasks, only_failed) = match mode {
        Mode::Task(id) => {
            retry(RETRY, || client.restart_task(name, id)).await?;
            return Ok(format!("restarted task {id}"));
        }
        Mode::Connector => (false, false),
        Mode::All => (true, false),
        Mode::Failed => (true, true),
    };
    let answer = retry(RETRY, || {
        client.restart_connector(name, include_tasks, only_failed)
    })
    .await?;
    match answer {
        Restarted::Accepted(Some(predicted)) => Ok(accepted(&predicted)),
        Restarted::Accepted(None) => Ok("restart accepted".into()),
        Restarted::ConnectorOnly if !include_tasks => Ok("restarted the connector".into()),
        Restarted::ConnectorOnly => legacy_tasks(client, name, only_failed).await,
    }
}

/// The 202 body predicts what restarts: the instances shown `RESTARTING` (spec §8).
fn accepted(predicted: &ConnectorStatus) -> String {
    let restarting = |state: &str| state.eq_ignore_ascii_case("RESTARTING");
    let mut parts = Vec::new();
    if restarting(&predicted.connector.state) {
        parts.push("the connector".to_string());
    }
    let tasks: Vec<String> = predicted
        .tasks
        .iter()
        .filter(|t| restarting(&t.state))
        .map(|t| t.id.to_string())
        .collect();
    if !tasks.is_empty() {
        parts.push(format!("tasks {}", tasks.join(", ")));
    }
    match parts.is_empty() {
        true => "nothing failed, nothing restarted".into(),
        false => format!("restarting {}", parts.join(" and ")),
    }
}

/// Before 3.0 the connector alone was restarted (204): restart its tasks one by one.
async fn legacy_tasks(
    client: &ConnectClient,
    name: &str,
    only_failed: bool,
) -> Result<String, ConnectError> {
    let status = client
        .status(name)
        .await?
        .map(|s| s.tasks)
        .unwrap_or_default();
    let ids: Vec<u32> = status
        .iter()
        .filter(|t| !only_failed || t.state.eq_ignore_ascii_case("FAILED"))
        .map(|t| t.id)
        .collect();
    for &id in &ids {
        retry(RETRY, || client.restart_task(name, id)).await?;
    }
    let list: Vec<String> = ids.iter().map(u32::to_string).collect();
    Ok(format!(
        "restarted the connector and tasks [{}] (Connect before 3.0: one call per task)",
        list.join(", ")
    ))
}
