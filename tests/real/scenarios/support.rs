//! What scenarios share: creating FileStream connectors, waiting on Connect's own status
//! and on connect-sentinel's answers, and reading a metric.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{cluster::Cluster, http};

/// How long a real lifecycle step may take on a loaded 2-core machine.
pub const LIFECYCLE: Duration = Duration::from_secs(60);

pub const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// Creates a FileStreamSink writing to `file` and waits until Connect lists its tasks.
pub async fn file_sink(cluster: &Cluster, name: &str, file: &str, tasks: u32) {
    let config = json!({"connector.class": SINK, "tasks.max": tasks.to_string(),
        "topics": format!("{name}-topic"), "file": file});
    let url = format!("{}/connectors/{name}/config", cluster.url());
    let (status, body) = http::send("PUT", &url, Some(&config)).await;
    assert_eq!(status, 201, "create {name}: {body}");
    let what = format!("{name} has {tasks} tasks with a status");
    http::eventually(&what, LIFECYCLE, || async {
        let status = http::json(&format!("{}/connectors/{name}/status", cluster.url())).await;
        let listed = status["tasks"].as_array().map_or(0, Vec::len);
        (listed == tasks as usize).then_some(())
    })
    .await;
}

/// Waits until every task of `name` is in `state` on Connect itself; returns the status.
pub async fn tasks_in(cluster: &Cluster, name: &str, state: &str) -> Value {
    let url = format!("{}/connectors/{name}/status", cluster.url());
    http::eventually(
        &format!("every task of {name} {state}"),
        LIFECYCLE,
        || async {
            let status = http::json(&url).await;
            let tasks = status["tasks"].as_array()?;
            let all = !tasks.is_empty() && tasks.iter().all(|t| t["state"] == state);
            all.then_some(status.clone())
        },
    )
    .await
}

/// Waits until `base` + `path` answers `status` with a verdict (not the 503 `serve`
/// gives before its first poll has completed); returns the body.
pub async fn wait_status(base: &str, path: &str, status: u16) -> Value {
    let url = format!("{base}{path}");
    http::eventually(&format!("{url} answers {status}"), LIFECYCLE, || async {
        let (got, body) = http::get(&url).await;
        (got == status && !before_the_first_poll(&body)).then_some(body)
    })
    .await
}

/// `serve`'s answer before its first poll has completed (a 503 that is no verdict yet).
fn before_the_first_poll(body: &Value) -> bool {
    body["error"]
        .as_str()
        .is_some_and(|e| e.contains("no poll of Kafka Connect has completed yet"))
}

/// The sum of the samples of metric `name` on `base`/metrics whose labels contain
/// `labels` (0 when none).
pub async fn metric(base: &str, name: &str, labels: &str) -> f64 {
    let (_, text) = http::get(&format!("{base}/metrics")).await;
    let text = text.as_str().unwrap_or_default().to_string();
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
