//! `reconcile` restarts the declared connectors whose manifest enables `autoRestart`
//! on real Connect, and leaves the others alone: a FileStreamSink writing into a missing
//! directory fails; a first restart cannot help, one after the directory exists does.

use serde_json::{Value, json};

use super::support::{LIFECYCLE, tasks_in};
use crate::{Needs, Scenario, cluster::Cluster, http, scenario, sentinel::Running};

pub static SCENARIOS: &[Scenario] = &[scenario!(
    reconcile_restarts_only_auto_restart_connectors,
    Needs::Shared
)];

const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// A manifest of a FileStreamSink writing `file`, with `autoRestart` when `auto`.
fn manifest(name: &str, file: &str, auto: bool) -> Value {
    let config = json!({"connector.class": SINK, "tasks.max": "1",
        "topics": format!("{name}-topic"), "file": file});
    let mut manifest = json!({"name": name, "config": config});
    if auto {
        manifest["autoRestart"] = json!({"maxRestarts": 20});
    }
    manifest
}

/// The reconciler's `/remediation` entry of `name`, once `f` holds for it.
async fn entry_when(reconciler: &Running, name: &str, what: &str, f: fn(&Value) -> bool) -> Value {
    let url = format!("{}/remediation", reconciler.url);
    http::eventually(what, LIFECYCLE, || async {
        let body = http::json(&url).await;
        let entries = body["connectors"].as_array()?.clone();
        entries.into_iter().find(|e| e["connector"] == name && f(e))
    })
    .await
}

async fn reconcile_restarts_only_auto_restart_connectors(cluster: &Cluster) {
    let dir = cluster.scratch("reconcile-restarts");
    let cure = cluster.scratch("reconcile-restarts-out").join("absent");
    let file = |n: &str| cure.join(n).to_str().unwrap().to_string();
    for (name, auto) in [("auto-sink", true), ("manual-sink", false)] {
        let text = manifest(name, &file(name), auto).to_string();
        std::fs::write(dir.join(format!("{name}.json")), text).unwrap();
    }
    let args = ["-f", dir.to_str().unwrap(), "--connect-url", cluster.url()];
    let timing = [
        "--restart-check-interval",
        "1s",
        "--restart-backoff",
        "0s,2s",
    ];
    let reconciler = Running::start("reconcile", &[&args[..], &timing].concat());
    tasks_in(cluster, "manual-sink", "FAILED").await;
    let config = http::json(&format!("{}/connectors/auto-sink/config", cluster.url())).await;
    assert_eq!(
        config["connect-sentinel.remediated-by"], "reconciler",
        "{config}"
    );
    entry_when(
        &reconciler,
        "auto-sink",
        "a first restart, which cannot help",
        |e| e["attempts"].as_u64() >= Some(1),
    )
    .await;
    std::fs::create_dir_all(&cure).unwrap();
    tasks_in(cluster, "auto-sink", "RUNNING").await;
    entry_when(&reconciler, "auto-sink", "recovered", |e| {
        e["phase"] == "recovered"
    })
    .await;
    let status = http::json(&format!("{}/connectors/manual-sink/status", cluster.url())).await;
    assert_eq!(
        status["tasks"][0]["state"], "FAILED",
        "not ours to restart: {status}"
    );
    let body = http::json(&format!("{}/remediation", reconciler.url)).await;
    assert!(!body.to_string().contains("manual-sink"), "{body}");
    assert!(
        !reconciler.events("restarted").is_empty(),
        "{}",
        reconciler.logs()
    );
}
