//! The read model of the health check, free of IO: what one poll of Connect saw
//! ([`Snapshot`]), the key of one connector or task instance ([`Key`]), and the one
//! walk over a connector's instances ([`Instance`]) every consumer uses (verdict,
//! remediation, metrics, logs, status). Polling lives in [`crate::poll`].

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime},
};

use serde::Serialize;

use crate::connect::{ConnectError, ConnectorStatus, WorkerHealth, facts::Facts};

/// What one poll saw.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Wall-clock time the poll finished (for JSON and logs).
    pub taken_at: SystemTime,
    /// How long the poll took.
    pub duration: Duration,
    /// Every listed connector; `None` when it has no status record yet (just created
    /// or being deleted: transitional, spec §18).
    pub connectors: BTreeMap<String, Option<ConnectorStatus>>,
    /// What each connector's config says (class, `tasks.max`, our keys), read in the
    /// same call as the statuses; empty with `--connector-info off` and before 2.3.
    pub facts: BTreeMap<String, Facts>,
    /// The worker's health, or why it could not be read.
    pub worker: Result<WorkerHealth, ConnectError>,
}

/// A poll that failed outright (Connect unreachable, 401, garbage, …).
#[derive(Clone, Debug, PartialEq)]
pub struct PollFailure {
    pub taken_at: SystemTime,
    pub duration: Duration,
    pub error: ConnectError,
}

/// The outcome of one poll.
pub type Poll = Result<Snapshot, PollFailure>;

/// One connector or task instance: the key of verdicts, transitions and restarts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Key {
    pub connector: String,
    /// `None` for the connector instance itself.
    pub task: Option<u32>,
}

impl Key {
    /// The key of `connector`'s instance (`task: None`) or of one of its tasks.
    pub fn new(connector: &str, task: Option<u32>) -> Self {
        Self {
            connector: connector.to_string(),
            task,
        }
    }
}

/// One instance of a connector as the walk yields it, borrowed from the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance<'a> {
    pub connector: &'a str,
    /// `None` for the connector instance itself.
    pub task: Option<u32>,
    pub state: &'a str,
    pub worker_id: &'a str,
    pub trace: Option<&'a str>,
}

impl Instance<'_> {
    pub fn key(&self) -> Key {
        Key::new(self.connector, self.task)
    }
}

/// The connector instance first, then its tasks in the order Connect lists them.
pub fn instances<'a>(
    name: &'a str,
    status: &'a ConnectorStatus,
) -> impl Iterator<Item = Instance<'a>> + 'a {
    let c = &status.connector;
    let connector = Instance {
        connector: name,
        task: None,
        state: &c.state,
        worker_id: &c.worker_id,
        trace: c.trace.as_deref(),
    };
    let tasks = status.tasks.iter().map(move |t| Instance {
        connector: name,
        task: Some(t.id),
        state: &t.state,
        worker_id: &t.worker_id,
        trace: t.trace.as_deref(),
    });
    std::iter::once(connector).chain(tasks)
}

impl Snapshot {
    /// Every instance of every connector that has a status record, in name order.
    pub fn instances(&self) -> impl Iterator<Item = Instance<'_>> {
        self.connectors
            .iter()
            .filter_map(|(name, status)| Some(instances(name, status.as_ref()?)))
            .flatten()
    }
}
