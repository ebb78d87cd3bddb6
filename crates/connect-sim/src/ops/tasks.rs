//! Restarts, tasks and offsets (spec §7, §8, §10): the owner-only and leader-only
//! operations that check the rebalance window.

use serde_json::{Value, json};
use tokio::time::Instant;

use super::STALE_CONFIG;
use crate::{
    cluster::Cluster,
    error::{ApiError, ApiResult},
    model::{Connector, Instance, State, Target},
    plugins,
};

/// What a restart request turned into (spec §8).
pub enum Restarted {
    /// The legacy connector-only restart: 204.
    Connector,
    /// The 202 path with its predicted status body.
    Planned(Value),
}

impl Cluster {
    /// `PUT /_sim/connectors/{name}/tasks`: the connector generates `count` task configs
    /// (`None`: `tasks.max` again), now and after every restart. A started connector's
    /// tasks past the count are gone at once; new ones start RUNNING.
    pub fn set_task_configs(&mut self, name: &str, count: Option<u32>) -> ApiResult<()> {
        let ids = self.cfg.worker_ids.clone();
        let c = self.connector_mut(name, || format!("Connector {name} not found"))?;
        c.task_configs = count;
        if c.target != Target::Started {
            return Ok(());
        }
        let plugin_max = c
            .class()
            .and_then(plugins::find_connector)
            .and_then(|p| p.max_tasks);
        c.task_count = c.desired_tasks(plugin_max);
        c.tasks.retain(|id, _| *id < c.task_count);
        for id in 0..c.task_count {
            let worker = ids[(c.worker + id as usize + 1) % ids.len()].clone();
            c.tasks
                .entry(id)
                .or_insert_with(|| Instance::new(State::Running, worker));
        }
        Ok(())
    }

    /// `POST /connectors/{name}/restart` (spec §8).
    pub fn restart(
        &mut self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
        now: Instant,
    ) -> ApiResult<Restarted> {
        let legacy = !self.cfg.version.at_least(3, 0) || (!include_tasks && !only_failed);
        let rebalancing = self.check_rebalance(now);
        let c = self.connector_mut(name, || format!("Unknown connector: {name}"))?;
        rebalancing?;
        let target = c.target;
        if legacy {
            let status = c
                .status
                .as_mut()
                .ok_or_else(|| ApiError::conflict(STALE_CONFIG))?;
            status.restart_into(target, name);
            return Ok(Restarted::Connector);
        }
        let status = c
            .status
            .as_mut()
            .ok_or_else(|| ApiError::not_found(format!("Status for connector {name} not found")))?;
        if !only_failed || status.state == State::Failed {
            status.state = State::Restarting;
        }
        for task in c.tasks.values_mut() {
            if include_tasks && (!only_failed || task.state == State::Failed) {
                task.state = State::Restarting;
            }
        }
        self.schedule_restart_finish(name, now);
        Ok(Restarted::Planned(
            self.status_json(name).unwrap_or(Value::Null),
        ))
    }

    /// `POST /connectors/{name}/tasks/{id}/restart` (spec §7.4): synchronous.
    pub fn restart_task(&mut self, name: &str, id: u32, now: Instant) -> ApiResult<()> {
        let c = self.connector_mut(name, || format!("Unknown connector: {name}"))?;
        if id >= c.task_count {
            return Err(ApiError::not_found(format!("Unknown task: {name}-{id}")));
        }
        self.check_rebalance(now)?;
        let worker = self.worker_id(self.connectors[name].worker + id as usize + 1);
        let Some(c) = self.connectors.get_mut(name) else {
            return Ok(());
        };
        let target = c.target;
        let failure = crate::filestream::start_failure(&c.config);
        let task = c
            .tasks
            .entry(id)
            .or_insert_with(|| Instance::new(State::Unassigned, worker));
        task.restart_into(target, &format!("{name}-{id}"));
        crate::filestream::fail_on_start(task, failure.as_deref());
        Ok(())
    }

    /// `GET /connectors/{name}/tasks` (spec §7.1).
    pub fn tasks_json(&self, c: &Connector) -> Value {
        let tasks: Vec<Value> = (0..c.task_count)
            .map(|id| json!({"id": {"connector": c.name, "task": id}, "config": task_config(c)}))
            .collect();
        Value::Array(tasks)
    }

    /// `GET /connectors/{name}/tasks-config` (spec §7.2).
    pub fn tasks_config_json(&self, c: &Connector) -> Value {
        let map: serde_json::Map<String, Value> = (0..c.task_count)
            .map(|id| (format!("{}-{id}", c.name), task_config(c)))
            .collect();
        Value::Object(map)
    }

    /// `GET /connectors/{name}/tasks/{id}/status` (spec §7.3).
    pub fn task_status_json(&self, name: &str, id: u32) -> ApiResult<Value> {
        let (task, version) = match (self.connectors.get(name), self.lingering.get(name)) {
            (Some(c), _) => (c.tasks.get(&id), self.instance_version(&c.config)),
            (None, Some(l)) => (l.tasks.get(&id), None),
            _ => (None, None),
        };
        task.map(|t| {
            let mut view = t.view(Some(id));
            view.version = version;
            serde_json::to_value(view).unwrap_or(Value::Null)
        })
        .ok_or_else(|| ApiError::not_found(format!("No status found for task {name}-{id}")))
    }

    /// `PATCH` or `DELETE /connectors/{name}/offsets` (spec §10); `None` resets all.
    pub fn alter_offsets(
        &mut self,
        name: &str,
        changes: Option<Vec<Value>>,
        now: Instant,
    ) -> ApiResult<Value> {
        let c = self.connector(name)?;
        self.check_rebalance(now)?;
        if c.target != Target::Stopped || c.task_count != 0 {
            return Err(ApiError::bad_request(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        let confirms = c
            .class()
            .and_then(plugins::find_connector)
            .is_some_and(|p| p.confirms_offsets);
        let Some(c) = self.connectors.get_mut(name) else {
            return Ok(Value::Null);
        };
        let verb = match changes {
            None => {
                c.offsets.clear();
                "reset"
            }
            Some(changes) => {
                merge_offsets(&mut c.offsets, changes);
                "altered"
            }
        };
        Ok(json!({"message": offsets_message(verb, confirms)}))
    }
}

/// A task config: the connector config plus `task.class` (spec §7.1).
fn task_config(c: &Connector) -> Value {
    let mut config = json!(c.config);
    let task_class = c
        .class()
        .and_then(plugins::find_connector)
        .map(|p| p.task_class);
    config["task.class"] = json!(task_class.unwrap_or("org.apache.kafka.connect.connector.Task"));
    config
}

fn merge_offsets(offsets: &mut Vec<Value>, changes: Vec<Value>) {
    for change in changes {
        let partition = change.get("partition").cloned().unwrap_or(Value::Null);
        offsets.retain(|o| o.get("partition") != Some(&partition));
        if change.get("offset").is_some_and(|o| !o.is_null()) {
            offsets.push(change);
        }
    }
}

fn offsets_message(verb: &str, confirms: bool) -> String {
    if confirms {
        return format!("The offsets for this connector have been {verb} successfully");
    }
    format!(
        "The Connect framework-managed offsets for this connector have been {verb} successfully. However, if this connector manages offsets externally, they will need to be manually {verb} in the system that the connector uses."
    )
}
