//! `connect-sentinel status`: a readable table of connectors and tasks (connector,
//! type, state, tasks running/total, worker, first line of the trace), or `-o json`.

use std::process::ExitCode;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::{
    cli::{Output, StatusArgs},
    connect::{ConnectClient, ConnectorStatus, types::first_line},
    settings,
    snapshot::{Poller, Snapshot},
    verdict::Policy,
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
    pub worker_id: String,
    /// The first line of the connector's trace, or of the first failed task's.
    pub trace: Option<String>,
    /// The full status as Connect reported it (JSON output only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConnectorStatus>,
}

/// The rows of a snapshot, filtered, in name order.
pub fn rows(snapshot: &Snapshot, policy: &Policy) -> Vec<Row> {
    let row = |name: &String, status: &Option<ConnectorStatus>| match status {
        None => Row {
            connector: name.clone(),
            kind: "-".into(),
            state: "(no status yet)".into(),
            tasks_running: 0,
            tasks_total: 0,
            worker_id: "-".into(),
            trace: None,
            status: None,
        },
        Some(s) => Row {
            connector: name.clone(),
            kind: s.kind.clone().unwrap_or_else(|| "-".into()),
            state: s.connector.state.clone(),
            tasks_running: s.tasks.iter().filter(|t| t.state == "RUNNING").count(),
            tasks_total: s.tasks.len(),
            worker_id: s.connector.worker_id.clone(),
            trace: s
                .connector
                .trace
                .as_deref()
                .or_else(|| s.tasks.iter().find_map(|t| t.trace.as_deref()))
                .map(|t| first_line(t).to_string()),
            status: Some(s.clone()),
        },
    };
    snapshot
        .connectors
        .iter()
        .filter(|(n, _)| policy.selects(n))
        .map(|(n, s)| row(n, s))
        .collect()
}

/// The table as text.
pub fn table(rows: &[Row]) -> String {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header([
        "CONNECTOR",
        "TYPE",
        "STATE",
        "TASKS",
        "WORKER",
        "TRACE",
    ]);
    for r in rows {
        let tasks = format!("{}/{}", r.tasks_running, r.tasks_total);
        table.add_row([
            r.connector.as_str(),
            &r.kind,
            &r.state,
            &tasks,
            &r.worker_id,
            r.trace.as_deref().unwrap_or(""),
        ]);
    }
    table.to_string()
}

/// `status` from the command line.
pub async fn main(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let client = ConnectClient::new(settings::client_options(&args.connect)?)?;
    let policy = settings::name_filters(args.include.as_deref(), args.exclude.as_deref())?;
    let snapshot = Poller::new(client).poll().await.map_err(|f| f.error)?;
    let rows = rows(&snapshot, &policy);
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Output::Table if rows.is_empty() => println!("no connectors"),
        Output::Table => println!("{}", table(&rows)),
    }
    Ok(ExitCode::SUCCESS)
}
