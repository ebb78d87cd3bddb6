//! `serve --metrics-compat strimzi` as a process against connect-sim: the series
//! Strimzi's JMX exporter rules produce, compared one by one (names, labels, values)
//! with what a worker running these connectors and tasks exposes, for the whole cluster
//! and for one worker; none without the flag; a bad value refused naming the flag.

mod common;

use std::collections::BTreeSet;

use common::{
    exposition::{assert_same, canonical, series},
    process::{self, Spawned, Stream},
};
use serde_json::{Value, json};

/// Connectors in every state over three workers (`connect-0:8083` …), tasks spread.
fn cluster() -> Value {
    let task =
        |state: &str, w: u32| json!({"state": state, "worker_id": format!("connect-{w}:8083")});
    let on = |w: u32| format!("connect-{w}:8083");
    json!({"connectors": [
        {"name": "orders", "state": "RUNNING", "worker_id": on(0),
         "tasks": [task("RUNNING", 0), task("FAILED", 1), task("RUNNING", 2)]},
        {"name": "audit", "state": "PAUSED", "worker_id": on(1),
         "tasks": [task("PAUSED", 1), task("PAUSED", 0)]},
        {"name": "billing", "state": "FAILED", "worker_id": on(2),
         "tasks": [task("UNASSIGNED", 1)]},
        {"name": "legacy", "state": "UNASSIGNED", "worker_id": on(0),
         "tasks": [task("UNASSIGNED", 0)]},
        {"name": "mirror", "state": "RESTARTING", "worker_id": on(1),
         "tasks": [task("RESTARTING", 1), task("RUNNING", 1)]},
        {"name": "archive", "state": "STOPPED", "worker_id": on(2), "tasks": []},
        {"name": "fresh", "state": "NONE"}
    ]})
}

/// The per-connector task counts of Strimzi's rules: `[running, paused, failed,
/// unassigned, restarting, destroyed, total]` for `connector`.
fn counts(connector: &str, n: [u32; 7]) -> Vec<String> {
    let states = [
        "running",
        "paused",
        "failed",
        "unassigned",
        "restarting",
        "destroyed",
        "total",
    ];
    states
        .iter()
        .zip(n)
        .map(|(s, n)| {
            format!(
                r#"kafka_connect_worker_connector_{s}_task_count{{connector="{connector}"}} {n}"#
            )
        })
        .collect()
}

fn expected(lines: &[&str], task_counts: Vec<Vec<String>>) -> BTreeSet<String> {
    let counted: Vec<String> = task_counts.into_iter().flatten().collect();
    let mut all: Vec<&str> = lines.to_vec();
    all.extend(counted.iter().map(String::as_str));
    canonical(&all)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_cluster_as_strimzis_rules_name_it() {
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, cluster()).await;
    let (_child, base) = serve(&sim.url(), &["--metrics-compat", "strimzi"]).await;
    let got = series(&strimzi_scrape(&base).await, "kafka_connect_");
    let want = expected(
        &[
            r#"kafka_connect_connector_status{connector="orders",status="running"} 1"#,
            r#"kafka_connect_connector_status{connector="audit",status="paused"} 1"#,
            r#"kafka_connect_connector_status{connector="billing",status="failed"} 1"#,
            r#"kafka_connect_connector_status{connector="legacy",status="unassigned"} 1"#,
            r#"kafka_connect_connector_status{connector="mirror",status="restarting"} 1"#,
            r#"kafka_connect_connector_status{connector="archive",status="stopped"} 1"#,
            r#"kafka_connect_connector_task_status{connector="orders",task="0",status="running"} 1"#,
            r#"kafka_connect_connector_task_status{connector="orders",task="1",status="failed"} 1"#,
            r#"kafka_connect_connector_task_status{connector="orders",task="2",status="running"} 1"#,
            r#"kafka_connect_connector_task_status{connector="audit",task="0",status="paused"} 1"#,
            r#"kafka_connect_connector_task_status{connector="audit",task="1",status="paused"} 1"#,
            r#"kafka_connect_connector_task_status{connector="billing",task="0",status="unassigned"} 1"#,
            r#"kafka_connect_connector_task_status{connector="legacy",task="0",status="unassigned"} 1"#,
            r#"kafka_connect_connector_task_status{connector="mirror",task="0",status="restarting"} 1"#,
            r#"kafka_connect_connector_task_status{connector="mirror",task="1",status="running"} 1"#,
            "kafka_connect_worker_connector_count 6",
            "kafka_connect_worker_task_count 9",
        ],
        vec![
            counts("orders", [2, 0, 1, 0, 0, 0, 3]),
            counts("audit", [0, 2, 0, 0, 0, 0, 2]),
            counts("billing", [0, 0, 0, 1, 0, 0, 1]),
            counts("legacy", [0, 0, 0, 1, 0, 0, 1]),
            counts("mirror", [1, 0, 0, 0, 1, 0, 2]),
        ],
    );
    assert_same(&got, &want, "every worker");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_worker_shows_only_its_own_connectors_and_tasks() {
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, cluster()).await;
    let flags = [
        "--metrics-compat",
        "strimzi",
        "--connect-worker-id",
        "connect-1:8083",
    ];
    let (_child, base) = serve(&sim.url(), &flags).await;
    let got = series(&strimzi_scrape(&base).await, "kafka_connect_");
    let want = expected(
        &[
            r#"kafka_connect_connector_status{connector="audit",status="paused"} 1"#,
            r#"kafka_connect_connector_status{connector="mirror",status="restarting"} 1"#,
            r#"kafka_connect_connector_task_status{connector="orders",task="1",status="failed"} 1"#,
            r#"kafka_connect_connector_task_status{connector="audit",task="0",status="paused"} 1"#,
            r#"kafka_connect_connector_task_status{connector="billing",task="0",status="unassigned"} 1"#,
            r#"kafka_connect_connector_task_status{connector="mirror",task="0",status="restarting"} 1"#,
            r#"kafka_connect_connector_task_status{connector="mirror",task="1",status="running"} 1"#,
            "kafka_connect_worker_connector_count 2",
            "kafka_connect_worker_task_count 5",
        ],
        vec![
            counts("orders", [0, 0, 1, 0, 0, 0, 1]),
            counts("audit", [0, 1, 0, 0, 0, 0, 1]),
            counts("billing", [0, 0, 0, 1, 0, 0, 1]),
            counts("mirror", [1, 0, 0, 0, 1, 0, 2]),
        ],
    );
    assert_same(&got, &want, "worker connect-1:8083");
    let env = [
        ("HEALTHCHECK_METRICS_COMPAT", "strimzi"),
        ("HEALTHCHECK_CONNECT_WORKER_ID", "connect-2:8083"),
    ];
    let (_child, base) = serve_env(&sim.url(), &env).await;
    let got = series(&strimzi_scrape(&base).await, "kafka_connect_worker_");
    let want = expected(
        &[
            "kafka_connect_worker_connector_count 2",
            "kafka_connect_worker_task_count 1",
        ],
        vec![counts("orders", [1, 0, 0, 0, 0, 0, 1])],
    );
    assert_same(&got, &want, "worker connect-2:8083 from the environment");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_flag_there_are_no_strimzi_series() {
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, cluster()).await;
    let (_child, base) = serve(&sim.url(), &["--metrics-compat", "none"]).await;
    let text = common::metrics_when(&base, &["connect_sentinel_connector_state{"]).await;
    assert!(!text.contains("kafka_connect_"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_value_is_refused_naming_the_flag() {
    let out = process::bin()
        .args(["serve", "--metrics-compat", "prometheus"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--metrics-compat") && err.contains("strimzi"),
        "{err}"
    );
    let out = process::bin()
        .args(["serve"])
        .env("HEALTHCHECK_METRICS_COMPAT", "jmx")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--metrics-compat") && err.contains("'jmx'"),
        "{err}"
    );
}

/// `serve` polling `url` every 50 ms with `extra` flags; the child and its base URL.
async fn serve(url: &str, extra: &[&str]) -> (Spawned, String) {
    serve_with(url, extra, &[]).await
}

async fn serve_env(url: &str, env: &[(&str, &str)]) -> (Spawned, String) {
    serve_with(url, &[], env).await
}

async fn serve_with(url: &str, extra: &[&str], env: &[(&str, &str)]) -> (Spawned, String) {
    let mut command = process::serve_json(url);
    command.args(["--poll-interval", "50ms"]).args(extra);
    command.envs(env.iter().copied());
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let base = format!("http://{}", child.logged_addr().await);
    (child, base)
}

/// `/metrics` once a poll has been turned into Strimzi's series.
async fn strimzi_scrape(base: &str) -> String {
    common::metrics_when(base, &["kafka_connect_worker_connector_count "]).await
}
