//! `connect-sentinel probe`: a one-shot check straight against Connect, for exec
//! probes (no curl in the pod). Exit-code contract:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | healthy |
//! | 1 | unhealthy |
//! | 2 | cannot tell: Connect unreachable, timed out, or bad input |
//!
//! It prints exactly one line saying why, and never runs longer than `--timeout`.

use std::process::ExitCode;

use super::out;
use crate::{
    cli::ProbeArgs,
    connect::{ConnectClient, ConnectError, ConnectorStatus, types::first_line},
    poll::Poller,
    settings,
    verdict::{self, Failure, Policy, Transitions, Verdict},
};

/// The outcome: exit code and the one line to print.
#[derive(Debug, PartialEq, Eq)]
pub struct Conclusion {
    pub code: u8,
    pub line: String,
}

fn cannot_tell(reason: impl std::fmt::Display) -> Conclusion {
    Conclusion {
        code: 2,
        line: format!("cannot tell: {reason}"),
    }
}

/// Runs the check within the deadline.
pub async fn check(args: &ProbeArgs) -> Conclusion {
    let (client, policy) = match setup(args) {
        Ok(built) => built,
        Err(reason) => return cannot_tell(reason),
    };
    match tokio::time::timeout(args.timeout, run(args, client, &policy)).await {
        Ok(outcome) => outcome,
        Err(_) => cannot_tell(format!(
            "no answer from Kafka Connect within {} ms",
            args.timeout.as_millis()
        )),
    }
}

/// The client and policy from the flags; any invalid value is the reason to print.
fn setup(args: &ProbeArgs) -> Result<(ConnectClient, Policy), String> {
    let options = settings::client_options(&args.connect).map_err(|e| e.to_string())?;
    let client = ConnectClient::new(options).map_err(|e| e.to_string())?;
    let policy =
        settings::policy(&args.scope, &args.connect.connect_url).map_err(|e| e.to_string())?;
    Ok((client, policy))
}

async fn run(args: &ProbeArgs, client: ConnectClient, policy: &Policy) -> Conclusion {
    let Some(name) = &args.connector else {
        return match Poller::new(client).poll().await {
            Ok(snapshot) => describe(
                &verdict::evaluate(&snapshot, policy, &Transitions::new()),
                "the cluster",
            ),
            Err(failure) => cannot_tell(failure.error),
        };
    };
    let status = match read_one(&client, name).await {
        Ok(Some(status)) => status,
        Ok(None) => {
            return Conclusion {
                code: 1,
                line: format!("unhealthy: connector {name} not found"),
            };
        }
        Err(e) => return cannot_tell(e),
    };
    if let (Some(status), Some(task)) = (&status, args.task)
        && !status.tasks.iter().any(|t| t.id == task)
    {
        return Conclusion {
            code: 1,
            line: format!("unhealthy: task {name}-{task} not found"),
        };
    }
    let what = args
        .task
        .map_or(format!("connector {name}"), |t| format!("task {name}-{t}"));
    describe(
        &verdict::evaluate_one(policy, name, status, args.task, &Transitions::new()),
        &what,
    )
}

/// One connector's status: `Some(None)` when it is listed without a status record yet
/// (just created: transitional), `None` when Connect does not know it at all. (Both
/// answer the status read with 404; only the name list tells them apart.)
async fn read_one(
    client: &ConnectClient,
    name: &str,
) -> Result<Option<Option<ConnectorStatus>>, ConnectError> {
    if let Some(status) = client.status(name).await? {
        return Ok(Some(Some(status)));
    }
    let listed = client.connector_names().await?;
    Ok(listed.iter().any(|n| n == name).then_some(None))
}

/// One line from a verdict.
fn describe(v: &Verdict, what: &str) -> Conclusion {
    if v.healthy {
        let note = if v.transitional.is_empty() {
            String::new()
        } else {
            format!(", {} transitional", v.transitional.len())
        };
        return Conclusion {
            code: 0,
            line: format!(
                "healthy: {what}, {} container(s) in scope, {} failing{note}",
                v.containers,
                v.failures.len()
            ),
        };
    }
    let causes: Vec<String> = v.failures.iter().take(3).map(cause).collect();
    let more = v.failures.len().saturating_sub(3);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Conclusion {
        code: 1,
        line: format!("unhealthy: {what}: {}{more}", causes.join("; ")),
    }
}

fn cause(f: &Failure) -> String {
    match f {
        Failure::Connector {
            connector, state, ..
        } => format!("connector {connector} {state}"),
        Failure::Task {
            connector,
            id,
            state,
            trace,
            ..
        } => {
            let why = trace
                .as_deref()
                .map(first_line)
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            format!("task {connector}-{id} {state}{why}")
        }
        Failure::Broker { .. } => "the worker cannot serve requests".into(),
    }
}

/// `probe` from the command line: prints the line, returns the exit code.
pub async fn main(args: ProbeArgs) -> ExitCode {
    let outcome = check(&args).await;
    out::line(outcome.line);
    ExitCode::from(outcome.code)
}
