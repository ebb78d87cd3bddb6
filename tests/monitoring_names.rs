//! The metric names the shipped monitoring files use (deploy/monitoring: the alert
//! rules, the Grafana dashboard's queries and variables) are names the binary exposes:
//! `serve` (with auto-restart, a webhook and `--metrics-compat strimzi`) and `reconcile`, run
//! against connect-sim until every family has a sample (a restart, a failed poll, a
//! failed change), scraped over HTTP. A renamed metric fails here, not on a dashboard.

mod common;

use std::{collections::BTreeSet, path::Path};

use common::{
    exposition::names,
    process::{self, Spawned, Stream},
};
use serde_json::{Value, json};

/// Every `connect_sentinel_…` and `kafka_connect_…` name in deploy/monitoring's queries.
fn used_names() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/monitoring");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let rule: Value = serde_saphyr::from_str(&read("prometheus-rule.yaml")).unwrap();
    let dashboard: Value = serde_json::from_str(&read("grafana-dashboard.json")).unwrap();
    let mut queries = Vec::new();
    collect(&rule, "expr", &mut queries);
    collect(&dashboard, "expr", &mut queries);
    collect(&dashboard["templating"], "query", &mut queries);
    assert!(queries.len() > 20, "too few queries found: {queries:?}");
    let name = regex::Regex::new(r"\b(?:connect_sentinel|kafka_connect)_[a-z0-9_]+").unwrap();
    let found = queries.iter().flat_map(|q| name.find_iter(q));
    found.map(|m| m.as_str().to_string()).collect()
}

/// Every string under a `key` anywhere in `value`.
fn collect(value: &Value, key: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| match v {
            Value::String(s) if k == key => out.push(s.clone()),
            v => collect(v, key, out),
        }),
        Value::Array(items) => items.iter().for_each(|v| collect(v, key, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_the_monitoring_files_use_is_exposed() {
    let sim = common::sim("3.9.0").await;
    common::seed(
        &sim,
        json!({"connectors": [common::connector("broken", &["FAILED"])]}),
    )
    .await;
    let one_failed_poll = json!({"status": 500, "path_regex": "^/connectors$", "count": 1});
    common::faults(&sim, one_failed_poll).await;
    let mut exposed = serve_names(&sim.url()).await;
    exposed.extend(reconcile_names(&sim).await);
    let missing: Vec<_> = used_names().difference(&exposed).cloned().collect();
    assert!(
        missing.is_empty(),
        "deploy/monitoring uses metrics the binary does not expose: {missing:?}\nexposed: {exposed:#?}"
    );
}

/// The names `serve` exposes once it has restarted a task and seen a failed poll.
async fn serve_names(url: &str) -> BTreeSet<String> {
    let mut command = process::serve_json(url);
    command.args(["--poll-interval", "50ms", "--auto-restart"]);
    command.args(["--metrics-compat", "strimzi"]);
    command.args(["--webhook-url", "http://127.0.0.1:9/hook"]);
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let base = format!("http://{}", child.logged_addr().await);
    let markers = [
        "connect_sentinel_restarts_total{",
        "connect_sentinel_poll_errors_total{",
        "kafka_connect_connector_task_status{",
        "connect_sentinel_notifications_total{",
    ];
    names(&common::metrics_when(&base, &markers).await)
}

/// The names `reconcile` exposes once a create failed once and then succeeded.
async fn reconcile_names(sim: &connect_sim::Running) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let manifest = json!({"name": "files-sink", "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "orders", "file": "/tmp/out.txt", "tasks.max": 1}});
    std::fs::write(dir.path().join("sink.json"), manifest.to_string()).unwrap();
    let refuse_once = json!({"status": 500, "method": "PUT",
        "path_regex": "^/connectors/files-sink/config$", "count": 1});
    common::faults(sim, refuse_once).await;
    let mut command = process::bin();
    command
        .args(["reconcile", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--log-format", "json", "--connect-url", &sim.url()])
        .args(["--interval", "100ms", "-f", dir.path().to_str().unwrap()]);
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let base = format!("http://{}", child.logged_addr().await);
    let markers = [
        "connect_sentinel_reconcile_change_failures_total{",
        "connect_sentinel_reconcile_changes_total{",
    ];
    names(&common::metrics_when(&base, &markers).await)
}
