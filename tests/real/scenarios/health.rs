//! serve, probe, status and restart against a real FAILED task (FileStreamSink writing
//! into a directory that does not exist), auto-restart, per-worker sidecars, and faults.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Needs, Scenario, cluster::Cluster, http, scenario, sentinel};

pub static SCENARIOS: &[Scenario] = &[scenario!(
    failed_task_seen_by_serve_probe_status,
    Needs::Shared
)];

const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// Creates a FileStreamSink writing to `file` and waits until Connect lists its tasks.
async fn file_sink(cluster: &Cluster, name: &str, file: &str, tasks: u32) {
    let config = json!({"connector.class": SINK, "tasks.max": tasks.to_string(),
        "topics": format!("{name}-topic"), "file": file});
    let url = format!("{}/connectors/{name}/config", cluster.url());
    let (status, body) = http::send("PUT", &url, Some(&config)).await;
    assert_eq!(status, 201, "create {name}: {body}");
    http::eventually(
        &format!("{name} has {tasks} tasks with a status"),
        LIFECYCLE,
        || async {
            let status = http::json(&format!("{}/connectors/{name}/status", cluster.url())).await;
            let listed = status["tasks"].as_array().map_or(0, Vec::len);
            (listed == tasks as usize).then_some(())
        },
    )
    .await;
}

/// Waits until every task of `name` is in `state` on Connect itself; returns the status.
async fn tasks_in(cluster: &Cluster, name: &str, state: &str) -> Value {
    http::eventually(
        &format!("every task of {name} {state}"),
        LIFECYCLE,
        || async {
            let status = http::json(&format!("{}/connectors/{name}/status", cluster.url())).await;
            let tasks = status["tasks"].as_array()?;
            (!tasks.is_empty() && tasks.iter().all(|t| t["state"] == state))
                .then_some(status.clone())
        },
    )
    .await
}

/// How long a real lifecycle step may take on a loaded 2-core machine.
const LIFECYCLE: Duration = Duration::from_secs(60);

async fn failed_task_seen_by_serve_probe_status(cluster: &Cluster) {
    let missing = cluster.scratch("probe").join("absent/out.txt");
    file_sink(cluster, "broken-sink", missing.to_str().unwrap(), 1).await;
    tasks_in(cluster, "broken-sink", "FAILED").await;

    let served = sentinel::Running::serve(cluster.url(), &[]);
    let (status, body) = http::eventually("serve's / answers 503", LIFECYCLE, || async {
        let (status, body) = http::get(&format!("{}/", served.url)).await;
        (status == 503).then_some((status, body))
    })
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["healthy"], false, "{body}");
    let failures = body["failures"].to_string();
    assert!(
        failures.contains("broken-sink") && failures.contains("Couldn't find or create file"),
        "{body}"
    );
    let (status, task) = http::get(&format!("{}/connectors/broken-sink/tasks/0", served.url)).await;
    assert_eq!(status, 503, "{task}");

    let probe = sentinel::run(&["probe", "--connect-url", cluster.url()]).await;
    let (out, err) = sentinel::text(&probe);
    assert_eq!(probe.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("broken-sink") && out.contains("FAILED"),
        "{out}"
    );
    let probe = sentinel::run(&[
        "probe",
        "--connect-url",
        cluster.url(),
        "--connector",
        "broken-sink",
        "--task",
        "0",
    ])
    .await;
    assert_eq!(probe.status.code(), Some(1), "{:?}", sentinel::text(&probe));

    let status = sentinel::run(&["status", "--connect-url", cluster.url(), "-o", "json"]).await;
    let (out, err) = sentinel::text(&status);
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert!(json.to_string().contains("FAILED"), "{json}");
}
