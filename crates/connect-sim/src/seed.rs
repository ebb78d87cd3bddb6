//! Seeding connectors instantly in given states (`POST /_sim/connectors`): explicit
//! connectors, or many generated RUNNING ones spread over the workers.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{
    cluster::Cluster,
    error::{ApiError, ApiResult},
    model::{AfterRestart, Connector, Instance, State, Target, default_trace},
    plugins,
};

/// The largest seed accepted in one call, so a typo cannot exhaust memory.
pub const MAX_CONNECTORS: usize = 200_000;
pub const MAX_TASKS: u32 = 1_000;

/// `{"connectors":[…]}` and/or `{"generate":{…}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedBody {
    #[serde(default)]
    pub connectors: Vec<SeedConnector>,
    pub generate: Option<Generate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedConnector {
    pub name: String,
    pub config: Option<Map<String, Value>>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A connector state, or `NONE` for "no status record yet".
    pub state: Option<String>,
    pub worker_id: Option<String>,
    pub trace: Option<String>,
    #[serde(default)]
    pub restart_outcome: AfterRestart,
    /// Omitted: `tasks.max` tasks (capped by the plugin, as FileStreamSource makes one)
    /// in the connector's state. `[]`: no tasks.
    pub tasks: Option<Vec<SeedTask>>,
    pub offsets: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTask {
    pub state: Option<String>,
    pub worker_id: Option<String>,
    pub trace: Option<String>,
    #[serde(default)]
    pub restart_outcome: AfterRestart,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    pub count: usize,
    #[serde(default = "one")]
    pub tasks: u32,
    pub prefix: Option<String>,
    /// `source`, `sink` or `mixed` (default).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

fn one() -> u32 {
    1
}

/// A control-API state: a connector state or `NONE` (no status record).
pub fn parse_state(text: &str, for_task: bool) -> ApiResult<Option<State>> {
    let state = match text.to_ascii_uppercase().as_str() {
        "NONE" if !for_task => return Ok(None),
        "RUNNING" => State::Running,
        "PAUSED" => State::Paused,
        "FAILED" => State::Failed,
        "UNASSIGNED" => State::Unassigned,
        "RESTARTING" => State::Restarting,
        "STOPPED" if !for_task => State::Stopped,
        _ => {
            let allowed = if for_task {
                "RUNNING, PAUSED, FAILED, UNASSIGNED, RESTARTING"
            } else {
                "RUNNING, PAUSED, FAILED, UNASSIGNED, RESTARTING, STOPPED, NONE"
            };
            let what = if for_task { "task" } else { "connector" };
            return Err(ApiError::bad_request(format!(
                "invalid {what} state {text:?}: expected one of {allowed}"
            )));
        }
    };
    Ok(Some(state))
}

/// Seeds everything in `body`; returns the names, in order.
pub fn seed(cluster: &mut Cluster, body: SeedBody) -> ApiResult<Vec<String>> {
    let mut connectors = body.connectors;
    if let Some(generate) = body.generate {
        connectors.extend(generated(&generate)?);
    }
    if connectors.len() > MAX_CONNECTORS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_CONNECTORS} connectors per seed"
        )));
    }
    let built = connectors
        .into_iter()
        .map(|c| build(cluster, c))
        .collect::<ApiResult<Vec<_>>>()?;
    let names = built.iter().map(|c| c.name.clone()).collect();
    for connector in built {
        cluster.lingering.remove(&connector.name);
        cluster.connectors.insert(connector.name.clone(), connector);
    }
    Ok(names)
}

fn generated(g: &Generate) -> ApiResult<Vec<SeedConnector>> {
    if g.count > MAX_CONNECTORS || g.tasks > MAX_TASKS {
        return Err(ApiError::bad_request(format!(
            "generate: count must be at most {MAX_CONNECTORS} and tasks at most {MAX_TASKS}"
        )));
    }
    let kind = g.kind.as_deref().unwrap_or("mixed");
    if !matches!(kind, "source" | "sink" | "mixed") {
        return Err(ApiError::bad_request(format!(
            "generate: invalid type {kind:?}: expected source, sink or mixed"
        )));
    }
    let prefix = g.prefix.as_deref().unwrap_or("connector-");
    let width = g.count.saturating_sub(1).to_string().len().max(4);
    let seeds = (0..g.count).map(|i| {
        let kind = match kind {
            "mixed" if i % 2 == 1 => "sink",
            "mixed" => "source",
            other => other,
        };
        let mut config = Map::new();
        config.insert("tasks.max".into(), Value::String(g.tasks.to_string()));
        SeedConnector {
            name: format!("{prefix}{i:0width$}"),
            config: Some(config),
            kind: Some(kind.into()),
            state: None,
            worker_id: None,
            trace: None,
            restart_outcome: AfterRestart::Running,
            tasks: None,
            offsets: None,
        }
    });
    Ok(seeds.collect())
}

/// The default config for a seeded connector of `kind`.
fn default_config(name: &str, kind: &str) -> BTreeMap<String, String> {
    let pairs: &[(&str, &str)] = match kind {
        "sink" => &[
            (
                "connector.class",
                "io.confluent.connect.jdbc.JdbcSinkConnector",
            ),
            (
                "connection.url",
                "jdbc:postgresql://warehouse:5432/analytics",
            ),
            ("topics", name),
        ],
        _ => &[
            (
                "connector.class",
                "io.confluent.connect.jdbc.JdbcSourceConnector",
            ),
            ("connection.url", "jdbc:postgresql://orders-db:5432/orders"),
            ("mode", "incrementing"),
        ],
    };
    let mut config: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if kind != "sink" {
        config.insert("topic.prefix".into(), format!("{name}-"));
    }
    config
}

fn build(cluster: &mut Cluster, seed: SeedConnector) -> ApiResult<Connector> {
    let name = seed.name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "seed: connector name may not be empty",
        ));
    }
    let config = seed_config(&name, seed.config, seed.kind.as_deref())?;
    let state = seed
        .state
        .as_deref()
        .map_or(Ok(Some(State::Running)), |s| parse_state(s, false))?;
    let worker = match &seed.worker_id {
        Some(id) => cluster
            .cfg
            .worker_ids
            .iter()
            .position(|w| w == id)
            .unwrap_or_else(|| cluster.assign_worker()),
        None => cluster.assign_worker(),
    };
    let worker_id = seed
        .worker_id
        .clone()
        .unwrap_or_else(|| cluster.worker_id(worker));
    let target = match state {
        Some(State::Paused) => Target::Paused,
        Some(State::Stopped) => Target::Stopped,
        _ => Target::Started,
    };
    let mut connector = Connector::new(&name, config, target, worker);
    connector.offsets = seed.offsets.unwrap_or_default();
    if let Some(state) = state {
        connector.status = Some(instance(
            state,
            worker_id,
            seed.trace,
            seed.restart_outcome,
            &name,
        ));
    }
    connector.tasks = seed_tasks(cluster, &connector, state, seed.tasks)?;
    connector.task_count = connector.tasks.len() as u32;
    Ok(connector)
}

fn instance(
    state: State,
    worker_id: String,
    trace: Option<String>,
    outcome: AfterRestart,
    name: &str,
) -> Instance {
    let trace = trace.or_else(|| (state == State::Failed).then(|| default_trace(name)));
    Instance {
        state,
        worker_id,
        trace,
        restart_outcome: outcome,
    }
}

fn seed_config(
    name: &str,
    config: Option<Map<String, Value>>,
    kind: Option<&str>,
) -> ApiResult<BTreeMap<String, String>> {
    let kind = kind.unwrap_or("source");
    if !matches!(kind, "source" | "sink") {
        return Err(ApiError::bad_request(format!(
            "seed {name}: invalid type {kind:?}: expected source or sink"
        )));
    }
    let mut config: BTreeMap<String, String> = match config {
        None => default_config(name, kind),
        Some(map) => map
            .into_iter()
            .map(|(k, v)| scalar(name, &k, v).map(|v| (k, v)))
            .collect::<ApiResult<_>>()?,
    };
    for (k, v) in default_config(name, kind) {
        if k == "connector.class" || !config.contains_key("connector.class") {
            config.entry(k).or_insert(v);
        }
    }
    config.insert("name".into(), name.into());
    config
        .entry("tasks.max".into())
        .or_insert_with(|| "1".into());
    if plugins::find_connector(&config["connector.class"]).is_none() {
        tracing::debug!(
            connector = name,
            "seeded with an unknown connector.class; its type will be unknown"
        );
    }
    Ok(config)
}

fn scalar(name: &str, key: &str, value: Value) -> ApiResult<String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(_) | Value::Bool(_) => Ok(value.to_string()),
        _ => Err(ApiError::bad_request(format!(
            "seed {name}: config key {key:?} must be a string, number or boolean"
        ))),
    }
}

fn seed_tasks(
    cluster: &Cluster,
    c: &Connector,
    state: Option<State>,
    tasks: Option<Vec<SeedTask>>,
) -> ApiResult<BTreeMap<u32, Instance>> {
    let spread = |id: u32| cluster.worker_id(c.worker + id as usize + 1);
    let Some(tasks) = tasks else {
        let task_state = match state {
            None | Some(State::Stopped) => return Ok(BTreeMap::new()),
            Some(State::Failed | State::Restarting) => State::Running,
            Some(other) => other,
        };
        let plugin_max = c
            .class()
            .and_then(plugins::find_connector)
            .and_then(|p| p.max_tasks);
        let n = c.desired_tasks(plugin_max).min(MAX_TASKS);
        return Ok((0..n)
            .map(|id| (id, Instance::new(task_state, spread(id))))
            .collect());
    };
    if tasks.len() > MAX_TASKS as usize {
        return Err(ApiError::bad_request(format!(
            "seed {}: at most {MAX_TASKS} tasks",
            c.name
        )));
    }
    let mut out = BTreeMap::new();
    for (id, task) in (0u32..).zip(tasks) {
        let state = parse_state(task.state.as_deref().unwrap_or("RUNNING"), true)?
            .unwrap_or(State::Running);
        let worker = task.worker_id.unwrap_or_else(|| spread(id));
        out.insert(
            id,
            instance(
                state,
                worker,
                task.trace,
                task.restart_outcome,
                &format!("{}-{id}", c.name),
            ),
        );
    }
    Ok(out)
}
