//! `connect-sentinel status`: a readable table of connectors and tasks (connector,
//! type, state, tasks running/total, worker, first line of the trace), or `-o json`.
//! Silent failures (no tasks, missing tasks, stuck, no status) are shown as they are
//! at this one look: with no grace period, since one poll cannot tell how long they
//! have lasted. With `--sentinel-url` the auto-restart state of a running `serve`
//! joins each row.

use std::{process::ExitCode, time::Duration};

use comfy_table::{Cell, Color, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use serde_json::Value;

use super::out;
use crate::{
    cli::{Output, StatusArgs},
    connect::{ClientOptions, ConnectClient, ConnectError, ConnectorStatus, types::first_line},
    poll::Poller,
    settings, silent,
    snapshot::{Snapshot, instances},
    verdict::{self, Policy},
};

/// One row of the table (and one object of the JSON).
#[derive(Debug, Serialize)]
pub struct Row {
    pub connector: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub state: String,
    pub tasks_running: usize,
    pub tasks_total: usize,
    /// The expected RUNNING task count, when known (`connect-sentinel.expected-tasks`,
    /// or `--expected-tasks`).
    pub tasks_expected: Option<u32>,
    /// The silent-failure checks it fails now (`no-tasks`, `missing-tasks`, …).
    pub silent_failures: Vec<&'static str>,
    pub worker_id: String,
    /// The first line of the connector's trace, or of the first failed task's.
    pub trace: Option<String>,
    /// The full status as Connect reported it (JSON output only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConnectorStatus>,
    /// Auto-restart state from a running `serve` (`--sentinel-url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Value>,
}

/// The rows of a snapshot, filtered, in name order.
pub fn rows(snapshot: &Snapshot, policy: &Policy) -> Vec<Row> {
    let report = silent_now(snapshot, policy);
    let mut rows = plain_rows(snapshot, policy);
    for row in &mut rows {
        row.tasks_expected = report.tasks.get(&row.connector).and_then(|t| t.expected);
        let checks = report.of(&row.connector, None).map(|f| f.check.name());
        row.silent_failures = checks.collect();
        row.silent_failures.dedup();
    }
    rows
}

/// The silent-failure checks at this one look (no grace period).
fn silent_now(snapshot: &Snapshot, policy: &Policy) -> silent::Report {
    let now = Policy {
        grace: Duration::ZERO,
        ..policy.clone()
    };
    let transitions = verdict::track(&Default::default(), snapshot, Duration::ZERO);
    let memory = Default::default();
    silent::observe(
        &memory,
        snapshot,
        &transitions,
        &now,
        &policy.silent,
        Duration::ZERO,
    )
}

fn plain_rows(snapshot: &Snapshot, policy: &Policy) -> Vec<Row> {
    let row = |name: &String, status: &Option<ConnectorStatus>| match status {
        None => Row {
            connector: name.clone(),
            kind: "-".into(),
            state: "(no status yet)".into(),
            tasks_running: 0,
            tasks_total: 0,
            tasks_expected: None,
            silent_failures: Vec::new(),
            worker_id: "-".into(),
            trace: None,
            status: None,
            remediation: None,
        },
        Some(s) => Row {
            connector: name.clone(),
            kind: s.kind.as_deref().unwrap_or("-").to_string(),
            state: s.connector.state.to_string(),
            tasks_running: s.tasks.iter().filter(|t| t.state == "RUNNING").count(),
            tasks_total: s.tasks.len(),
            tasks_expected: None,
            silent_failures: Vec::new(),
            worker_id: s.connector.worker_id.to_string(),
            trace: instances(name, s)
                .find_map(|i| i.trace)
                .map(|t| first_line(t).to_string()),
            status: Some(s.clone()),
            remediation: None,
        },
    };
    snapshot
        .connectors
        .iter()
        .filter(|(n, _)| policy.selects(n))
        .map(|(n, s)| row(n, s))
        .collect()
}

/// The table as text; a RESTARTS column when any row has remediation state. With
/// `colour`, states are coloured: RUNNING green, FAILED red, the rest yellow.
pub fn table(rows: &[Row], colour: bool) -> String {
    let restarts = rows.iter().any(|r| r.remediation.is_some());
    let silent = rows.iter().any(|r| !r.silent_failures.is_empty());
    let mut header = vec!["CONNECTOR", "TYPE", "STATE", "TASKS", "WORKER", "TRACE"];
    if restarts {
        header.insert(5, "RESTARTS");
    }
    if silent {
        header.insert(4, "SILENT");
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header(header);
    match colour {
        true => table.enforce_styling(),
        false => table.force_no_tty(),
    };
    for r in rows {
        let mut cells = vec![
            Cell::new(&r.connector),
            Cell::new(&r.kind),
            state_cell(&r.state),
            Cell::new(tasks_cell(r)),
            Cell::new(&r.worker_id),
            Cell::new(r.trace.as_deref().unwrap_or_default()),
        ];
        if restarts {
            cells.insert(5, Cell::new(restarts_cell(r.remediation.as_ref())));
        }
        if silent {
            cells.insert(4, Cell::new(r.silent_failures.join(",")).fg(Color::Yellow));
        }
        table.add_row(cells);
    }
    table.to_string()
}

/// `running/total`, and `(N expected)` when an expected count is known and differs.
fn tasks_cell(r: &Row) -> String {
    let counts = format!("{}/{}", r.tasks_running, r.tasks_total);
    match r.tasks_expected {
        Some(n) if n as usize != r.tasks_running => format!("{counts} ({n} expected)"),
        _ => counts,
    }
}

/// A state, coloured by what it means (shown only where the table is styled).
fn state_cell(state: &str) -> Cell {
    let colour = match state {
        "RUNNING" => Color::Green,
        "FAILED" => Color::Red,
        _ => Color::Yellow,
    };
    Cell::new(state).fg(colour)
}

/// `2 (remediating)`, or empty.
fn restarts_cell(entry: Option<&Value>) -> String {
    entry.map_or_else(String::new, |e| {
        format!("{} ({})", e["attempts"], e["phase"].as_str().unwrap_or("?"))
    })
}

/// Joins the remediation state of a running `serve` (`GET /remediation`) into the
/// rows. A sentinel that cannot be read only costs the RESTARTS column: a warning on
/// stderr names it, and Connect's state is shown as usual.
async fn join_remediation(rows: &mut [Row], sentinel: &str) {
    let state = match read_remediation(sentinel).await {
        Ok(state) => state,
        Err(reason) => {
            return out::note(format_args!(
                "connect-sentinel: warning: no auto-restart state: the sentinel at \
                 --sentinel-url {sentinel} {reason}"
            ));
        }
    };
    let entries = state["connectors"].as_array().cloned().unwrap_or_default();
    for row in rows {
        row.remediation = entries
            .iter()
            .find(|e| e["connector"].as_str() == Some(&row.connector))
            .cloned();
    }
}

/// `GET /remediation` of a running `serve`; the error says what the sentinel did.
async fn read_remediation(sentinel: &str) -> Result<Value, String> {
    let client = ConnectClient::new(ClientOptions::new(sentinel)).map_err(|e| match e {
        ConnectError::Settings(why) => format!("is not a usable URL: {why}"),
        other => other.to_string(),
    })?;
    client.get_json("/remediation").await.map_err(|e| match e {
        ConnectError::Unreachable { reason, .. } => format!("is unreachable: {reason}"),
        ConnectError::Timeout { timeout_ms, .. } => {
            format!("did not answer within {timeout_ms} ms")
        }
        ConnectError::Status {
            status, message, ..
        } => format!("answered GET /remediation with HTTP {status}: {message}"),
        ConnectError::Garbage { reason, .. } => format!("answered with invalid JSON: {reason}"),
        other => format!("failed: {other}"),
    })
}

/// `status` from the command line.
pub async fn main(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let client = ConnectClient::new(settings::client_options(&args.connect)?)?;
    let (silent, info) = settings::silent(&args.silent, None)?;
    let policy = Policy {
        silent,
        ..settings::name_filters(args.include.as_deref(), args.exclude.as_deref())?
    };
    let poller = Poller::new(client).with_info(info);
    let snapshot = poller.poll().await.map_err(|f| f.error)?;
    let mut rows = rows(&snapshot, &policy);
    if let Some(sentinel) = &args.sentinel_url {
        join_remediation(&mut rows, sentinel).await;
    }
    match args.output {
        Output::Json => out::line(serde_json::to_string_pretty(&rows)?),
        Output::Table if rows.is_empty() => out::line("no connectors"),
        Output::Table => out::line(table(&rows, out::colour(&std::io::stdout()))),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: &str) -> Row {
        Row {
            connector: "a".into(),
            kind: "sink".into(),
            state: state.into(),
            tasks_running: 0,
            tasks_total: 0,
            tasks_expected: None,
            silent_failures: Vec::new(),
            worker_id: "w:8083".into(),
            trace: None,
            status: None,
            remediation: None,
        }
    }

    /// States are coloured only when asked (on a terminal without NO_COLOR).
    #[test]
    fn states_are_coloured_only_when_asked() {
        let rows = [row("RUNNING"), row("FAILED")];
        let coloured = table(&rows, true);
        let before = |word: &str| {
            let at = coloured.find(word).unwrap();
            coloured[..at].rsplit('\u{1b}').next().unwrap().to_string()
        };
        assert_ne!(before("RUNNING"), before("FAILED"), "{coloured:?}");
        assert!(before("FAILED").starts_with('['), "{coloured:?}");
        assert!(!table(&rows, false).contains('\u{1b}'));
    }
}
