//! Silent failures on real Connect: a MirrorSourceConnector whose topics pattern matches
//! no topic runs with no tasks (reported as `no-tasks`), and a FileStreamSource with
//! `tasks.max` 3 runs one task, healthy unless `--expected-tasks tasks-max` is asked.

use serde_json::{Value, json};

use super::support::{LIFECYCLE, metric, wait_status};
use crate::{Needs, Scenario, cluster::Cluster, http, scenario, sentinel};

pub static SCENARIOS: &[Scenario] = &[scenario!(silent_failures_of_real_connectors, Needs::Shared)];

const MIRROR: &str = "org.apache.kafka.connect.mirror.MirrorSourceConnector";
const SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

/// Creates `name` with `config` and waits until Connect reports it RUNNING with `tasks`
/// RUNNING tasks (a connector is RUNNING before its tasks are started); its status.
async fn running(cluster: &Cluster, name: &str, config: Value, tasks: usize) -> Value {
    let url = format!("{}/connectors/{name}/config", cluster.url());
    let (code, body) = http::send("PUT", &url, Some(&config)).await;
    assert_eq!(code, 201, "create {name}: {body}");
    let status = format!("{}/connectors/{name}/status", cluster.url());
    http::eventually(
        &format!("{name} RUNNING with {tasks} tasks"),
        LIFECYCLE,
        || async {
            let s = http::json(&status).await;
            let listed = s["tasks"].as_array().map(Vec::as_slice).unwrap_or_default();
            let started = listed.iter().filter(|t| t["state"] == "RUNNING").count();
            let up =
                s["connector"]["state"] == "RUNNING" && listed.len() == tasks && started == tasks;
            up.then_some(s)
        },
    )
    .await
}

async fn silent_failures_of_real_connectors(cluster: &Cluster) {
    let broker = cluster.broker();
    let mirror = json!({"connector.class": MIRROR, "tasks.max": "2",
        "source.cluster.alias": "upstream", "target.cluster.alias": "local",
        "source.cluster.bootstrap.servers": broker, "target.cluster.bootstrap.servers": broker,
        "topics": "matches-no-topic-.*"});
    let status = running(cluster, "mirror-nothing", mirror, 0).await;
    assert_eq!(status["tasks"], json!([]), "{status}");
    let file = cluster.scratch("silent").join("in.txt");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "").unwrap();
    let source = json!({"connector.class": SOURCE, "tasks.max": "3",
        "topic": "silent-lines", "file": file.to_str().unwrap()});
    running(cluster, "file-three", source, 1).await;
    let served = sentinel::Running::serve(cluster.url(), &["--grace-period", "0s"]);
    let no_tasks = r#"connector="mirror-nothing",check="no-tasks""#;
    http::eventually("mirror-nothing reported no-tasks", LIFECYCLE, || async {
        let n = metric(
            &served.url,
            "connect_sentinel_connector_silent_failure",
            no_tasks,
        )
        .await;
        (n == 1.0).then_some(())
    })
    .await;
    // A poll may still have seen the task before it started; the verdict settles on
    // the next one.
    let path = format!("{}/connectors/file-three", served.url);
    let body = http::eventually("file-three healthy with 1 task", LIFECYCLE, || async {
        let (code, body) = http::get(&path).await;
        let healthy = code == 200 && body["tasks_running"] == 1;
        (healthy && body["silent_failures"] == json!([])).then_some(body)
    })
    .await;
    assert_eq!(body["tasks_running"], 1, "one task of tasks.max 3: {body}");
    let strict = [
        "--grace-period",
        "0s",
        "--expected-tasks",
        "tasks-max",
        "--fail-on-silent",
        "all",
    ];
    let told = sentinel::Running::serve(cluster.url(), &strict);
    let body = wait_status(&told.url, "/connectors/file-three", 503).await;
    assert_eq!(
        body["silent_failures"][0]["check"], "missing-tasks",
        "{body}"
    );
    let root = wait_status(&told.url, "/", 503).await;
    assert!(root["failures"].to_string().contains("NO_TASKS"), "{root}");
}
