//! `serve --metrics-compat strimzi` against what real Connect's own MBeans say through
//! Prometheus' JMX exporter with Strimzi's mapping (every worker of the shared cluster
//! runs it): a RUNNING connector with three tasks, a PAUSED one, a STOPPED one and a
//! sink whose two tasks FAILED, spread over three workers. Each worker-scoped sidecar's
//! series equal that worker's exporter's, one by one; the cluster-wide sidecar's equal
//! the exporters' summed over the workers.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::support::{LIFECYCLE, file_sink, tasks_in};
use crate::{Needs, Scenario, cluster::Cluster, exposition, http, scenario, sentinel};

pub static SCENARIOS: &[Scenario] = &[scenario!(
    strimzi_series_match_connects_own_jmx,
    Needs::Shared
)];

const PREFIX: &str = "kafka_connect_";

async fn strimzi_series_match_connects_own_jmx(cluster: &Cluster) {
    connectors_in_every_state(cluster).await;
    let flags = ["--metrics-compat", "strimzi"];
    let workers = cluster.urls.len();
    for i in 0..workers {
        let id = cluster.worker_id(i);
        let scoped = [&flags[..], &["--connect-worker-id", &id]].concat();
        let served = sentinel::Running::serve(cluster.url(), &scoped);
        let jmx = cluster.jmx_metrics_url(i);
        let what = format!("worker {id}: the sidecar and Connect's JMX exporter");
        agree(&what, || async {
            let ours = scrape(&format!("{}/metrics", served.url)).await;
            (series(&ours), series(&scrape(&jmx).await))
        })
        .await;
    }
    let served = sentinel::Running::serve(cluster.url(), &flags);
    let what = "every worker: the sidecar and the exporters summed over the workers";
    agree(what, || async {
        let mut jmx = Vec::new();
        for i in 0..workers {
            jmx.push(scrape(&cluster.jmx_metrics_url(i)).await);
        }
        let ours = scrape(&format!("{}/metrics", served.url)).await;
        (series(&ours), summed(&jmx))
    })
    .await;
}

/// `running-sink` (3 tasks RUNNING), `paused-sink` (2 tasks PAUSED), `stopped-sink`
/// (STOPPED, no tasks) and `failed-sink` (2 tasks FAILED: its file's directory is absent).
async fn connectors_in_every_state(cluster: &Cluster) {
    let dir = cluster.scratch("strimzi");
    let file = |name: &str| dir.join(name).to_str().unwrap().to_string();
    file_sink(cluster, "running-sink", &file("running.txt"), 3).await;
    file_sink(cluster, "paused-sink", &file("paused.txt"), 2).await;
    file_sink(cluster, "stopped-sink", &file("stopped.txt"), 1).await;
    file_sink(cluster, "failed-sink", &file("absent/failed.txt"), 2).await;
    tasks_in(cluster, "paused-sink", "RUNNING").await;
    target(cluster, "paused-sink", "pause").await;
    tasks_in(cluster, "paused-sink", "PAUSED").await;
    tasks_in(cluster, "stopped-sink", "RUNNING").await;
    target(cluster, "stopped-sink", "stop").await;
    let url = format!("{}/connectors/stopped-sink/status", cluster.url());
    http::eventually("stopped-sink STOPPED without tasks", LIFECYCLE, || async {
        let status = http::json(&url).await;
        let stopped = status["connector"]["state"] == "STOPPED";
        (stopped && status["tasks"].as_array().is_some_and(Vec::is_empty)).then_some(())
    })
    .await;
    tasks_in(cluster, "running-sink", "RUNNING").await;
    tasks_in(cluster, "failed-sink", "FAILED").await;
}

/// `PUT /connectors/NAME/ACTION` (pause, stop), accepted.
async fn target(cluster: &Cluster, name: &str, action: &str) {
    let url = format!("{}/connectors/{name}/{action}", cluster.url());
    let (status, body) = http::send("PUT", &url, None).await;
    assert!(
        matches!(status, 202 | 204),
        "{action} {name}: {status} {body}"
    );
}

/// Waits until `read` yields two equal, non-empty sets (both sides lag Connect by a
/// poll or a status write); after [`LIFECYCLE`], fails showing the last difference.
async fn agree<F, Fut>(what: &str, mut read: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (BTreeSet<String>, BTreeSet<String>)>,
{
    let deadline = tokio::time::Instant::now() + LIFECYCLE;
    loop {
        let (ours, theirs) = read().await;
        let counted = ours
            .iter()
            .any(|s| s.starts_with("kafka_connect_worker_task_count"));
        if ours == theirs && counted {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            exposition::assert_same(&ours, &theirs, what);
            panic!("{what}: no series at all");
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// The text of `url`, empty while it cannot be read.
async fn scrape(url: &str) -> String {
    match http::get(url).await {
        (200, Value::String(text)) => text,
        _ => String::new(),
    }
}

fn series(text: &str) -> BTreeSet<String> {
    exposition::series(text, PREFIX)
}

/// The samples of several workers' texts summed by name and labels: what a `sum` over
/// the workers of a cluster reads.
fn summed(texts: &[String]) -> BTreeSet<String> {
    let mut sums = BTreeMap::<String, exposition::Sample>::new();
    for sample in texts.iter().flat_map(|t| exposition::samples(t)) {
        if !sample.name.starts_with(PREFIX) {
            continue;
        }
        let key = exposition::Sample {
            value: 0.0,
            ..sample.clone()
        }
        .canonical();
        sums.entry(key)
            .and_modify(|s| s.value += sample.value)
            .or_insert(sample);
    }
    sums.values().map(exposition::Sample::canonical).collect()
}
