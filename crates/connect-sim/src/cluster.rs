//! The simulated cluster: connectors, lingering deletes, the rebalance window, and the
//! asynchronous lifecycle (spec §17, §18).
//!
//! Asynchrony is modelled with *scheduled events* applied lazily: every request first
//! calls [`Cluster::advance`], which applies each event whose time has come, in order,
//! each at its own scheduled time. So there are no background tasks, the model is
//! deterministic, and tokio's paused clock drives it in tests.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use tokio::time::{Duration, Instant};

use crate::{
    config::SimConfig,
    filestream,
    model::{Connector, Instance, Lingering, State, StatusView, Target},
    plugins,
};

/// A lifecycle step due at some instant.
#[derive(Clone, Debug)]
enum Event {
    /// The connector instance (re)starts under its target state (spec §18 timeline step 3).
    StartConnector {
        name: String,
        generation: u64,
    },
    /// Task configs are written and tasks start (timeline step 4).
    StartTasks {
        name: String,
        generation: u64,
    },
    /// Status catches up with a pause, resume or stop (spec §9).
    ApplyTarget {
        name: String,
    },
    /// Instances shown `RESTARTING` reach their restart outcome (spec §8).
    FinishRestart {
        name: String,
    },
    /// A deleted connector's status turns UNASSIGNED, then disappears (spec §18).
    LingerUnassigned {
        name: String,
    },
    LingerGone {
        name: String,
    },
}

/// `/health` as driven by `PUT /_sim/health` (spec §16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Healthy,
    Starting,
    Unhealthy,
}

/// The whole simulated cluster. Guarded by one mutex; no `.await` happens under it.
#[derive(Debug)]
pub struct Cluster {
    pub(crate) cfg: SimConfig,
    pub(crate) connectors: BTreeMap<String, Connector>,
    pub(crate) lingering: HashMap<String, Lingering>,
    events: BTreeMap<(Instant, u64), Event>,
    seq: u64,
    /// The rebalance window after config/task changes is open until this instant.
    rebalance_until: Option<Instant>,
    next_worker: usize,
    pub(crate) health: Health,
    /// The `rebalancing` fault: holds the rebalance window open.
    pub(crate) forced_rebalance: bool,
    /// The worker version as text (what built-in plugins report).
    kafka_version: String,
    /// Secrets are shown as this on read (`--mask-secrets`, `PUT /_sim/masking`).
    pub(crate) mask: Option<String>,
}

impl Cluster {
    pub fn new(cfg: SimConfig) -> Self {
        Self {
            connectors: BTreeMap::new(),
            lingering: HashMap::new(),
            events: BTreeMap::new(),
            seq: 0,
            rebalance_until: None,
            next_worker: 0,
            health: Health::Healthy,
            forced_rebalance: false,
            kafka_version: cfg.version.to_string(),
            mask: cfg.mask_secrets.clone(),
            cfg,
        }
    }

    /// Empties the cluster (the control API's reset).
    pub fn reset(&mut self) {
        *self = Self::new(self.cfg.clone());
    }

    /// Applies every event due by `now`, each at its own time.
    pub fn advance(&mut self, now: Instant) {
        while let Some(entry) = self.events.first_entry() {
            let at = entry.key().0;
            if at > now {
                break;
            }
            let event = entry.remove();
            self.apply(event, at);
        }
    }

    /// True while a rebalance is pending (spec §18), or held open by the `rebalancing` fault.
    pub fn rebalance_pending(&self, now: Instant) -> bool {
        self.forced_rebalance || self.rebalance_until.is_some_and(|until| now < until)
    }

    pub(crate) fn open_rebalance_window(&mut self, at: Instant) {
        let until = at + self.cfg.rebalance_window;
        if self.rebalance_until.is_none_or(|current| current < until) {
            self.rebalance_until = Some(until);
        }
    }

    fn schedule(&mut self, at: Instant, event: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), event);
    }

    fn delay(&self) -> Duration {
        self.cfg.lifecycle_delay
    }

    pub(crate) fn schedule_start(&mut self, name: &str, generation: u64, now: Instant) {
        let event = Event::StartConnector {
            name: name.into(),
            generation,
        };
        self.schedule(now + self.delay(), event);
    }

    pub(crate) fn schedule_target(&mut self, name: &str, now: Instant) {
        self.schedule(now + self.delay(), Event::ApplyTarget { name: name.into() });
    }

    pub(crate) fn schedule_restart_finish(&mut self, name: &str, now: Instant) {
        self.schedule(
            now + self.delay(),
            Event::FinishRestart { name: name.into() },
        );
    }

    pub(crate) fn schedule_linger(&mut self, name: &str, now: Instant) {
        let half = self.delay() / 2;
        self.schedule(now + half, Event::LingerUnassigned { name: name.into() });
        self.schedule(now + self.delay(), Event::LingerGone { name: name.into() });
    }

    /// The worker index for the next new connector (round robin).
    pub(crate) fn assign_worker(&mut self) -> usize {
        let worker = self.next_worker % self.cfg.worker_ids.len().max(1);
        self.next_worker += 1;
        worker
    }

    pub(crate) fn worker_id(&self, index: usize) -> String {
        let n = self.cfg.worker_ids.len().max(1);
        self.cfg
            .worker_ids
            .get(index % n)
            .cloned()
            .unwrap_or_else(|| "connect-0:8083".into())
    }

    fn apply(&mut self, event: Event, at: Instant) {
        match event {
            Event::StartConnector { name, generation } => {
                self.start_connector(&name, generation, at)
            }
            Event::StartTasks { name, generation } => self.start_tasks(&name, generation, at),
            Event::ApplyTarget { name } => self.apply_target(&name, at),
            Event::FinishRestart { name } => self.finish_restart(&name),
            Event::LingerUnassigned { name } => self.linger_unassigned(&name),
            Event::LingerGone { name } => {
                self.lingering.remove(&name);
            }
        }
    }

    fn start_connector(&mut self, name: &str, generation: u64, at: Instant) {
        let worker = match self.connectors.get(name) {
            Some(c) if c.generation == generation => self.worker_id(c.worker),
            _ => return,
        };
        let Some(c) = self.connectors.get_mut(name) else {
            return;
        };
        let status = c
            .status
            .get_or_insert_with(|| Instance::new(State::Unassigned, worker));
        status.restart_into(c.target, name);
        if status.state == State::Running {
            self.schedule(
                at + self.cfg.lifecycle_delay,
                Event::StartTasks {
                    name: name.into(),
                    generation,
                },
            );
        }
    }

    fn start_tasks(&mut self, name: &str, generation: u64, at: Instant) {
        let ids = self.cfg.worker_ids.clone();
        let Some(c) = self
            .connectors
            .get_mut(name)
            .filter(|c| c.generation == generation)
        else {
            return;
        };
        let plugin = c.class().and_then(plugins::find_connector);
        let failure = filestream::start_failure(&c.config);
        c.task_count = c.desired_tasks(plugin.and_then(|p| p.max_tasks));
        c.tasks_generation = generation;
        c.tasks.retain(|id, _| *id < c.task_count);
        for id in 0..c.task_count {
            let worker = ids[(c.worker + id as usize + 1) % ids.len()].clone();
            let task = c
                .tasks
                .entry(id)
                .or_insert_with(|| Instance::new(State::Unassigned, worker));
            task.restart_into(c.target, &format!("{name}-{id}"));
            filestream::fail_on_start(task, failure.as_deref());
        }
        c.topics = topics_of(c);
        self.open_rebalance_window(at);
    }

    fn apply_target(&mut self, name: &str, at: Instant) {
        let Some(worker) = self.connectors.get(name).map(|c| self.worker_id(c.worker)) else {
            return;
        };
        let Some(c) = self.connectors.get_mut(name) else {
            return;
        };
        let state = c.target.running_state();
        if c.status.is_none() && c.target == Target::Stopped {
            c.status = Some(Instance::new(State::Stopped, worker));
        }
        if let Some(status) = c.status.as_mut()
            && (status.state != State::Failed || c.target == Target::Stopped)
        {
            status.state = state;
            status.trace = None;
        }
        if c.target == Target::Stopped {
            c.tasks.clear();
            return;
        }
        for task in c
            .tasks
            .values_mut()
            .filter(|t| matches!(t.state, State::Running | State::Paused))
        {
            task.state = state;
        }
        let running = c.status.as_ref().is_some_and(|s| s.state == State::Running);
        let stale_tasks = c.task_count == 0 || c.tasks_generation != c.generation;
        if c.target == Target::Started && stale_tasks && running {
            let generation = c.generation;
            self.schedule(
                at + self.cfg.lifecycle_delay,
                Event::StartTasks {
                    name: name.into(),
                    generation,
                },
            );
        }
    }

    fn finish_restart(&mut self, name: &str) {
        let Some(c) = self.connectors.get_mut(name) else {
            return;
        };
        let target = c.target;
        let failure = filestream::start_failure(&c.config);
        if let Some(status) = c.status.as_mut().filter(|s| s.state == State::Restarting) {
            status.restart_into(target, name);
        }
        for (id, task) in c
            .tasks
            .iter_mut()
            .filter(|(_, t)| t.state == State::Restarting)
        {
            task.restart_into(target, &format!("{name}-{id}"));
            filestream::fail_on_start(task, failure.as_deref());
        }
    }

    fn linger_unassigned(&mut self, name: &str) {
        if let Some(l) = self.lingering.get_mut(name) {
            l.status.state = State::Unassigned;
            l.status.trace = None;
            for task in l.tasks.values_mut() {
                task.state = State::Unassigned;
                task.trace = None;
            }
        }
    }

    /// `type` of a connector: from its current class, `unknown` if it can't be loaded.
    pub fn type_of(config: Option<&BTreeMap<String, String>>) -> &'static str {
        config
            .and_then(|c| c.get("connector.class"))
            .and_then(|class| plugins::find_connector(class))
            .map_or("unknown", |p| p.kind.as_str())
    }

    /// `GET /connectors/{name}` body (spec §4).
    pub fn info_json(&self, c: &Connector) -> Value {
        let config = self.shown_config(c);
        let mut body = json!({"name": c.name, "config": config, "tasks": c.task_ids_json()});
        if let Some(kind) = self.reported_type(Self::type_of(Some(&c.config))) {
            body["type"] = json!(kind);
        }
        body
    }

    /// A connector's config as reads show it: as stored, or with its secrets masked
    /// ([`crate::masking`]).
    pub fn shown_config(&self, c: &Connector) -> BTreeMap<String, String> {
        match &self.mask {
            None => c.config.clone(),
            Some(mask) => crate::masking::shown(&c.config, mask),
        }
    }

    /// `type` as reported by this version: absent before 1.0 (spec §19).
    fn reported_type(&self, ty: &'static str) -> Option<&'static str> {
        self.cfg.version.at_least(1, 0).then_some(ty)
    }

    /// The status body, or `None` without a status record (spec §6); a deleted
    /// connector's lingering status has type `unknown` (spec §18).
    pub fn status_view(&self, name: &str) -> Option<StatusView<'_>> {
        if let Some(c) = self.connectors.get(name) {
            let version = self.instance_version(&c.config);
            let mut connector = c.status.as_ref()?.view(None);
            connector.version = version;
            let mut tasks = c.task_views();
            tasks.iter_mut().for_each(|t| t.version = version);
            let kind = self.reported_type(Self::type_of(Some(&c.config)));
            return Some(StatusView {
                name: &c.name,
                connector,
                tasks,
                kind,
            });
        }
        let (name, l) = self.lingering.get_key_value(name)?;
        let tasks = l.tasks.iter().map(|(id, t)| t.view(Some(*id))).collect();
        Some(StatusView {
            name,
            connector: l.status.view(None),
            tasks,
            kind: self.reported_type("unknown"),
        })
    }

    /// The worker version as text.
    pub(crate) fn kafka_version(&self) -> String {
        self.kafka_version.clone()
    }

    /// The `version` a 4.1+ worker shows in status entries of a connector with this
    /// config: its plugin's version (spec §21), `None` before 4.1 or when undefined.
    pub(crate) fn instance_version(&self, config: &BTreeMap<String, String>) -> Option<&str> {
        if !self.cfg.version.at_least(4, 1) {
            return None;
        }
        let plugin = config
            .get("connector.class")
            .and_then(|class| plugins::find_connector(class))?;
        match plugin.version {
            plugins::PluginVersion::Kafka => Some(&self.kafka_version),
            plugins::PluginVersion::Fixed(v) => Some(v),
            plugins::PluginVersion::Undefined => None,
        }
    }

    /// [`Cluster::status_view`] as a JSON value.
    pub fn status_json(&self, name: &str) -> Option<Value> {
        self.status_view(name)
            .and_then(|v| serde_json::to_value(v).ok())
    }
}

/// The topics records flow through (spec §11): a sink's `topics`, a source's `topic`.
fn topics_of(c: &Connector) -> Vec<String> {
    let list = c.config.get("topics").or_else(|| c.config.get("topic"));
    list.map(|l| {
        l.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}
