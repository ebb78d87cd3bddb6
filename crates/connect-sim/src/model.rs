//! The cluster's data: connectors, their stored configs, target states and the
//! status records of connector and task instances (spec §6, §17), plus the JSON
//! views Connect answers with (spec §0.4 field order).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A connector or task instance state as written to the status topic (spec §17).
/// `DESTROYED` is never visible, so it is not modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Failed,
    Restarting,
    Stopped,
}

/// What a restart (or a reconfiguration) of an instance ends in: lets tests model
/// failures that restarts fix (`RUNNING`) and failures they don't (`FAILED`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AfterRestart {
    #[default]
    Running,
    Failed,
}

/// The stored target state of a connector (spec §17): not exposed directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Started,
    Paused,
    Stopped,
}

impl Target {
    /// The instance state a healthy instance shows under this target.
    pub fn running_state(self) -> State {
        match self {
            Target::Started => State::Running,
            Target::Paused => State::Paused,
            Target::Stopped => State::Stopped,
        }
    }
}

/// One status record: a connector's or a task's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub state: State,
    pub worker_id: String,
    /// Shown only while FAILED and non-empty (spec §6); kept across a restart so a
    /// sticky failure fails again with the same trace.
    pub trace: Option<String>,
    /// What the next restart of this instance ends in.
    pub restart_outcome: AfterRestart,
}

impl Instance {
    pub fn new(state: State, worker_id: impl Into<String>) -> Self {
        Self {
            state,
            worker_id: worker_id.into(),
            trace: None,
            restart_outcome: AfterRestart::Running,
        }
    }

    /// Puts the instance where a (re)start lands it under `target`: the restart outcome
    /// decides between healthy and FAILED; a FAILED start keeps (or invents) a trace.
    pub fn restart_into(&mut self, target: Target, name: &str) {
        match self.restart_outcome {
            AfterRestart::Running => {
                self.state = target.running_state();
                self.trace = None;
            }
            AfterRestart::Failed => {
                self.state = State::Failed;
                self.trace.get_or_insert_with(|| default_trace(name));
            }
        }
    }

    /// A borrowed view that serializes as `{"state":…,"worker_id":…[,"trace":…]}`,
    /// with `id` first for tasks (spec §0.4).
    pub fn view(&self, id: Option<u32>) -> InstanceView<'_> {
        let failed = self.state == State::Failed;
        let trace = self.trace.as_deref().filter(|t| failed && !t.is_empty());
        InstanceView {
            id,
            state: self.state,
            worker_id: &self.worker_id,
            version: None,
            trace,
        }
    }

    /// [`Instance::view`] as a JSON value.
    pub fn to_json(&self, id: Option<u32>) -> Value {
        serde_json::to_value(self.view(id)).unwrap_or(Value::Null)
    }
}

/// The JSON of one connector or task state; `trace` only on FAILED entries (spec §6).
#[derive(Debug, Serialize)]
pub struct InstanceView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    pub state: State,
    pub worker_id: &'a str,
    /// The plugin version running the instance (4.1+, KIP-891); omitted when undefined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<&'a str>,
}

/// The body of `GET /connectors/{name}/status` (spec §6), borrowed from the cluster so
/// the hot `?expand=status` path serializes without building JSON trees.
#[derive(Debug, Serialize)]
pub struct StatusView<'a> {
    pub name: &'a str,
    pub connector: InstanceView<'a>,
    pub tasks: Vec<InstanceView<'a>>,
    /// Absent before 1.0 (spec §19).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
}

/// A realistic Java stack trace for a failure injected without one.
pub fn default_trace(name: &str) -> String {
    format!(
        "org.apache.kafka.connect.errors.ConnectException: Simulated failure in {name}\n\
         \tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:237)\n\
         \tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:259)\n\
         \tat java.base/java.lang.Thread.run(Thread.java:840)\n"
    )
}

/// A connector: its config-topic records (config, target state, task configs) and its
/// status-topic records (connector and task instances).
#[derive(Clone, Debug)]
pub struct Connector {
    pub name: String,
    /// The stored raw config, exactly as submitted plus `name` (spec §5.1).
    pub config: BTreeMap<String, String>,
    pub target: Target,
    /// Bumped on every config-topic change that makes pending lifecycle steps stale.
    pub generation: u64,
    /// How many task configs are in the config topic (spec §4 `tasks`).
    pub task_count: u32,
    /// How many task configs the connector generates when it is not `tasks.max`
    /// (`PUT /_sim/connectors/{name}/tasks`); cleared by a config change.
    pub task_configs: Option<u32>,
    /// The config generation the task configs were generated from: a resumed connector
    /// regenerates them when its config changed while it was paused.
    pub tasks_generation: u64,
    /// The connector's status record; `None` until it first starts (spec §6: 404).
    pub status: Option<Instance>,
    /// Task status records by id; tasks appear when first started (spec §6).
    pub tasks: BTreeMap<u32, Instance>,
    /// Index of the worker that runs the connector.
    pub worker: usize,
    /// `{"partition":…,"offset":…}` entries (spec §10).
    pub offsets: Vec<Value>,
    /// Active topics (spec §11).
    pub topics: Vec<String>,
}

impl Connector {
    /// A connector just written to the config topic: no status, no tasks yet.
    pub fn new(
        name: &str,
        config: BTreeMap<String, String>,
        target: Target,
        worker: usize,
    ) -> Self {
        Self {
            name: name.into(),
            config,
            target,
            generation: 1,
            task_count: 0,
            task_configs: None,
            tasks_generation: 1,
            status: None,
            tasks: BTreeMap::new(),
            worker,
            offsets: vec![],
            topics: vec![],
        }
    }

    /// The `connector.class` value, if any.
    pub fn class(&self) -> Option<&str> {
        self.config.get("connector.class").map(String::as_str)
    }

    /// How many tasks the connector generates: `tasks.max` (default 1), capped by the
    /// plugin, or what the control API set.
    pub fn desired_tasks(&self, plugin_max: Option<u32>) -> u32 {
        if let Some(n) = self.task_configs {
            return n;
        }
        let wanted = self
            .config
            .get("tasks.max")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1u32);
        plugin_max.map_or(wanted, |max| wanted.min(max))
    }

    /// `[{"connector":…,"task":n}]`, the task ids in `GET /connectors/{name}` (spec §4).
    pub fn task_ids_json(&self) -> Value {
        let ids: Vec<Value> = (0..self.task_count)
            .map(|t| json!({"connector": self.name, "task": t}))
            .collect();
        Value::Array(ids)
    }

    /// The task list of a status body: sorted by id (spec §6).
    pub fn task_views(&self) -> Vec<InstanceView<'_>> {
        self.tasks.iter().map(|(id, t)| t.view(Some(*id))).collect()
    }
}

/// A deleted connector's status that lingers until the next rebalance (spec §18).
#[derive(Clone, Debug)]
pub struct Lingering {
    pub status: Instance,
    pub tasks: BTreeMap<u32, Instance>,
}
