//! Serde types for the Connect REST bodies the product reads (spec §6, §16).
//! States stay strings: Connect may add states, and the health check must not break.

use serde::{Deserialize, Serialize};

/// `GET /connectors/{name}/status` (spec §6).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ConnectorStatus {
    pub name: String,
    pub connector: InstanceStatus,
    #[serde(default)]
    pub tasks: Vec<TaskStatus>,
    /// `source`, `sink` or `unknown`; absent before Kafka 1.0.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A connector instance's state record.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct InstanceStatus {
    pub state: String,
    pub worker_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// A task instance's state record.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct TaskStatus {
    pub id: u32,
    pub state: String,
    pub worker_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// The worker's own health (spec §16), or the fallback's reading before 3.9.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "message", rename_all = "lowercase")]
pub enum WorkerHealth {
    Healthy,
    Starting(String),
    Unhealthy(String),
}

/// The first line of a Java stack trace: its summary (spec §20.2).
pub fn first_line(trace: &str) -> &str {
    trace.lines().next().unwrap_or_default().trim_end()
}
