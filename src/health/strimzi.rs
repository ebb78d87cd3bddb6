//! Strimzi-compatible series (`serve --metrics-compat strimzi`): the names, labels and
//! values that Strimzi's JMX exporter rules for Kafka Connect make of a worker's MBeans,
//! so Strimzi's alert rules and Grafana panels read connect-sentinel as they read
//! Connect. Derived at scrape time from the same usable snapshot as our own series.
//!
//! A worker's MBeans describe what runs on that worker; the REST status says which
//! worker runs each instance (`worker_id`), so [`worker`] keeps the instances the worker
//! scope matches (every instance without `--connect-worker-id`: the whole cluster as one
//! worker, which a `sum` over several sidecars counts once per sidecar):
//!
//! | series | value |
//! |---|---|
//! | `kafka_connect_connector_status{connector,status}` | 1 per connector on the worker; `status` lower-case (`running`, `paused`, `failed`, `unassigned`, `restarting`, `stopped`) |
//! | `kafka_connect_connector_task_status{connector,task,status}` | 1 per task on the worker |
//! | `kafka_connect_worker_connector_count`, `kafka_connect_worker_task_count` | connectors and tasks on the worker |
//! | `kafka_connect_worker_connector_{running,paused,failed,unassigned,restarting,destroyed,total}_task_count{connector}` | the connector's tasks on the worker in that state (`total`: all); only for connectors with a task on the worker, as Connect registers them |

use std::{collections::BTreeMap, fmt, sync::Arc, time::Duration};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, gauge::ConstGauge},
    registry::Registry,
};
use tokio::{sync::watch, time::Instant};

use super::{Observed, usable};
use crate::{snapshot::Snapshot, verdict::WorkerScope};

/// The task states Connect counts per connector on a worker, in its metric names.
pub const TASK_STATES: [&str; 6] = [
    "running",
    "paused",
    "failed",
    "unassigned",
    "restarting",
    "destroyed",
];

/// One connector or task on the worker and its lower-case status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status<'a> {
    pub connector: &'a str,
    /// `None` for the connector instance.
    pub task: Option<u32>,
    pub status: String,
}

/// One connector's tasks on the worker: how many in each of [`TASK_STATES`], and all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskCounts {
    pub by_state: [u64; TASK_STATES.len()],
    pub total: u64,
}

/// What one worker's MBeans would show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Worker<'a> {
    /// Connector instances, in name order.
    pub connectors: Vec<Status<'a>>,
    /// Tasks, by connector name and then in Connect's order.
    pub tasks: Vec<Status<'a>>,
    /// Per connector with at least one task here.
    pub task_counts: BTreeMap<&'a str, TaskCounts>,
}

/// The instances of `snapshot` that `scope` matches, as the worker's MBeans show them.
pub fn worker<'a>(snapshot: &'a Snapshot, scope: &WorkerScope) -> Worker<'a> {
    let mut worker = Worker::default();
    for instance in snapshot.instances().filter(|i| scope.matches(i.worker_id)) {
        let status = Status {
            connector: instance.connector,
            task: instance.task,
            status: instance.state.to_ascii_lowercase(),
        };
        if status.task.is_none() {
            worker.connectors.push(status);
            continue;
        }
        let counts = worker.task_counts.entry(instance.connector).or_default();
        counts.total += 1;
        if let Some(k) = TASK_STATES.iter().position(|s| *s == status.status) {
            counts.by_state[k] += 1;
        }
        worker.tasks.push(status);
    }
    worker
}

/// Registers the scrape-time collector of these series over `observed`; it must go on
/// a registry without a prefix, as the names are Strimzi's.
pub fn register(
    registry: &mut Registry,
    observed: watch::Receiver<Arc<Observed>>,
    max_age: Duration,
    scope: WorkerScope,
) {
    let collector = Scrape {
        observed,
        max_age,
        scope,
    };
    registry.register_collector(Box::new(collector));
}

#[derive(Debug)]
struct Scrape {
    observed: watch::Receiver<Arc<Observed>>,
    max_age: Duration,
    scope: WorkerScope,
}

/// Nothing while the snapshot is unusable: Connect's own exporter is gone too when
/// Connect is, and a stale count must not read as current.
impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let observed = self.observed.borrow().clone();
        match usable::snapshot(&observed, self.max_age, Instant::now()) {
            Ok(snapshot) => encode(&mut encoder, &worker(snapshot, &self.scope)),
            Err(_) => Ok(()),
        }
    }
}

/// Writes every family of `worker`.
pub fn encode(encoder: &mut DescriptorEncoder, worker: &Worker<'_>) -> Result<(), fmt::Error> {
    let help = "1 for the connector's status on this worker (Strimzi's name)";
    family(encoder, "kafka_connect_connector_status", help, |f| {
        worker.connectors.iter().try_for_each(|c| {
            f(
                &[("connector", c.connector), ("status", c.status.as_str())],
                1,
            )
        })
    })?;
    let help = "1 for the task's status on this worker (Strimzi's name)";
    family(encoder, "kafka_connect_connector_task_status", help, |f| {
        worker.tasks.iter().try_for_each(|t| {
            let task = t.task.unwrap_or_default().to_string();
            let labels = [
                ("connector", t.connector),
                ("task", task.as_str()),
                ("status", t.status.as_str()),
            ];
            f(&labels, 1)
        })
    })?;
    let help = "Connectors on this worker (Strimzi's name)";
    let connectors = worker.connectors.len();
    single(
        encoder,
        "kafka_connect_worker_connector_count",
        help,
        connectors,
    )?;
    let help = "Tasks on this worker (Strimzi's name)";
    single(
        encoder,
        "kafka_connect_worker_task_count",
        help,
        worker.tasks.len(),
    )?;
    encode_task_counts(encoder, &worker.task_counts)
}

/// `kafka_connect_worker_connector_STATE_task_count{connector}` for each state, then
/// `_total_task_count`.
fn encode_task_counts(
    encoder: &mut DescriptorEncoder,
    counts: &BTreeMap<&str, TaskCounts>,
) -> Result<(), fmt::Error> {
    let pick = (0..TASK_STATES.len()).map(|k| (TASK_STATES[k], Some(k)));
    for (state, k) in pick.chain([("total", None)]) {
        let name = format!("kafka_connect_worker_connector_{state}_task_count");
        let help = format!("The connector's {state} tasks on this worker (Strimzi's name)");
        family(encoder, &name, &help, |f| {
            counts.iter().try_for_each(|(connector, c)| {
                let value = k.map_or(c.total, |k| c.by_state[k]);
                f(&[("connector", *connector)], value)
            })
        })?;
    }
    Ok(())
}

/// A sample writer: labels and value.
type Sample<'f> = dyn FnMut(&[(&str, &str)], u64) -> Result<(), fmt::Error> + 'f;

/// One labelled gauge family: its descriptor, then whatever samples `samples` writes.
fn family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl FnOnce(&mut Sample<'_>) -> Result<(), fmt::Error>,
) -> Result<(), fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    samples(&mut |labels: &[(&str, &str)], value: u64| {
        ConstGauge::new(value as i64).encode(metric.encode_family(&labels)?)
    })
}

/// One gauge without labels.
fn single(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: usize,
) -> Result<(), fmt::Error> {
    let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    ConstGauge::new(value as i64).encode(metric)
}

#[cfg(test)]
mod tests;
