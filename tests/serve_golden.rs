//! kafka-connect-healthcheck 0.3.0's own 20 golden scenarios (peers §1.6), ported to
//! `connect-sentinel serve` against connect-sim over HTTP. Where we deliberately
//! differ, the test says so and why.

mod common;

use common::{serve, serve_url};

use connect_sim::{Running, SimConfig};
use serde_json::{Value, json};

fn body(failures: Value, rate: f64, threshold: f64, healthy: bool) -> Value {
    json!({"failures": failures, "failure_states": ["FAILED"], "failure_rate": rate, "failure_threshold": threshold, "healthy": healthy})
}

async fn seeded(connectors: Value) -> Running {
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, json!({"connectors": connectors})).await;
    sim
}

fn c(name: &str, state: &str, worker: &str, tasks: &[(&str, &str)]) -> Value {
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|(s, w)| json!({"state": s, "worker_id": w}))
        .collect();
    json!({"name": name, "type": "sink", "state": state, "worker_id": worker, "tasks": tasks})
}

const W: &str = "my.worker.name:8083";
const OTHER: &str = "other.worker:8083";

/// Golden 0: `/ping` is always `{"status":"UP"}`.
#[tokio::test]
async fn golden_00_ping() {
    let sim = seeded(json!([])).await;
    assert_eq!(
        serve(&sim, &[]).await.get("/ping").await,
        (200, json!({"status": "UP"}))
    );
}

/// Golden 1: healthy.
#[tokio::test]
async fn golden_01_healthy() {
    let sim = seeded(json!([c("s3-sink", "RUNNING", W, &[("RUNNING", W)])])).await;
    assert_eq!(
        serve(&sim, &[]).await.get("/").await,
        (200, body(json!([]), 0.0, 0.0, true))
    );
}

/// Golden 2: connector and task FAILED → 503, rate 1.0, the peer's failure entries.
#[tokio::test]
async fn golden_02_connector_and_task_failed() {
    let sim = seeded(json!([{"name": "s3-sink", "state": "FAILED", "worker_id": W, "trace": "boom", "tasks": [{"state": "FAILED", "worker_id": W}]}])).await;
    let (status, got) = serve(&sim, &[]).await.get("/").await;
    assert_eq!(status, 503);
    assert_eq!(got["failure_rate"], 1.0);
    assert_eq!(
        got["failures"][0],
        json!({"type": "connector", "connector": "s3-sink", "state": "FAILED", "worker_id": W})
    );
    assert_eq!(got["failures"][1]["type"], "task");
    assert_eq!(got["failures"][1]["id"], 0);
}

/// Golden 3: Connect unreachable → 503 error shape. We differ in the `error` text: the
/// peer's is a Python requests message; ours names the URL and the OS reason.
#[tokio::test]
async fn golden_03_unreachable() {
    let sim = common::sim("3.9.0").await;
    let url = sim.url();
    sim.stop().await.unwrap();
    let served = serve_url(&url, &[]).await;
    let (status, got) = served.get("/").await;
    assert_eq!((status, got["healthy"].clone()), (503, json!(false)));
    assert_eq!(got["failure_states"], json!(["FAILED"]));
    assert!(
        got["error"].as_str().unwrap().contains("unreachable"),
        "{got}"
    );
    assert!(
        got.get("failures").is_none(),
        "the error shape has no failures key"
    );
}

/// Golden 4: the worker id matches and all is healthy.
#[tokio::test]
async fn golden_04_worker_id_matches_healthy() {
    let sim = seeded(json!([c("s3-sink", "RUNNING", W, &[("RUNNING", W)])])).await;
    assert_eq!(
        serve(&sim, &["--connect-worker-id", W])
            .await
            .get("/")
            .await
            .0,
        200
    );
}

/// Golden 5: a worker id no connector uses is healthy.
#[tokio::test]
async fn golden_05_unused_worker_id() {
    let sim = seeded(json!([c(
        "s3-sink",
        "RUNNING",
        OTHER,
        &[("RUNNING", OTHER)]
    )]))
    .await;
    assert_eq!(
        serve(&sim, &["--connect-worker-id", W])
            .await
            .get("/")
            .await,
        (200, body(json!([]), 0.0, 0.0, true))
    );
}

/// Golden 6: failures only on other workers are not ours.
#[tokio::test]
async fn golden_06_failures_on_other_workers() {
    let sim = seeded(json!([
        c("s3-sink", "FAILED", OTHER, &[("FAILED", OTHER)]),
        c("mine", "RUNNING", W, &[])
    ]))
    .await;
    assert_eq!(
        serve(&sim, &["--connect-worker-id", W])
            .await
            .get("/")
            .await
            .0,
        200
    );
}

/// Golden 7: a task failing on this worker → 503. We differ on the rate: the peer
/// divides by the whole cluster (0.5); we count only containers in scope (1.0).
#[tokio::test]
async fn golden_07_task_failing_on_this_worker() {
    let sim = seeded(json!([c("s3-sink", "RUNNING", OTHER, &[("FAILED", W)])])).await;
    let (status, got) = serve(&sim, &["--connect-worker-id", W])
        .await
        .get("/")
        .await;
    assert_eq!((status, got["failure_rate"].clone()), (503, json!(1.0)));
}

/// Goldens 8 and 9: several tasks, several connectors, all healthy.
#[tokio::test]
async fn golden_08_09_many_healthy() {
    let sim = seeded(json!([
        c("a", "RUNNING", W, &[("RUNNING", W), ("RUNNING", OTHER)]),
        c("b", "RUNNING", OTHER, &[("RUNNING", W)])
    ]))
    .await;
    assert_eq!(
        serve(&sim, &[]).await.get("/").await,
        (200, body(json!([]), 0.0, 0.0, true))
    );
}

/// Three failures among ten containers (goldens 10, 15, 16).
async fn three_in_ten() -> Running {
    seeded(json!([
        c("c1", "FAILED", W, &[("RUNNING", W), ("RUNNING", W)]),
        c(
            "c2",
            "RUNNING",
            W,
            &[("FAILED", W), ("RUNNING", W), ("RUNNING", W)]
        ),
        c("c3", "RUNNING", W, &[("FAILED", W), ("RUNNING", W)]),
    ]))
    .await
}

/// Golden 10: several connectors → 503, rate 0.3.
#[tokio::test]
async fn golden_10_many_connectors_rate() {
    let sim = three_in_ten().await;
    let (status, got) = serve(&sim, &[]).await.get("/").await;
    assert_eq!(
        (
            status,
            got["failure_rate"].clone(),
            got["failures"].as_array().unwrap().len()
        ),
        (503, json!(0.3), 3)
    );
}

/// Golden 11: no connectors → healthy, rate 0.0.
#[tokio::test]
async fn golden_11_no_connectors() {
    let sim = seeded(json!([])).await;
    assert_eq!(
        serve(&sim, &[]).await.get("/").await,
        (200, body(json!([]), 0.0, 0.0, true))
    );
}

/// Golden 12: a task with a trace → 503, rate 1/3, the full trace in the entry.
#[tokio::test]
async fn golden_12_task_with_trace() {
    let trace = "org.foo.BarException: stack\n\tat org.foo.Bar(Bar.java:1)";
    let sim = seeded(json!([{"name": "s3-sink", "worker_id": W, "tasks": [{"state": "RUNNING", "worker_id": W}, {"state": "FAILED", "worker_id": W, "trace": trace}]}])).await;
    let (status, got) = serve(&sim, &[]).await.get("/").await;
    assert_eq!(
        (status, got["failure_rate"].clone()),
        (503, json!(1.0 / 3.0))
    );
    assert_eq!(got["failures"][0]["trace"], trace);
}

/// Golden 13: the broker check. The peer infers a zombie worker from an info call; we
/// read `GET /health` (3.9+) and add the same broker entry, rate 0.0, 503.
#[tokio::test]
async fn golden_13_broker_check() {
    let sim = seeded(json!([c("s3-sink", "RUNNING", W, &[])])).await;
    common::control_put(&sim, "/_sim/health", json!({"status": "unhealthy"})).await;
    let (status, got) = serve(&sim, &[]).await.get("/").await;
    assert_eq!((status, got["failure_rate"].clone()), (503, json!(0.0)));
    assert_eq!(
        got["failures"],
        json!([{"type": "broker", "connector": "s3-sink"}])
    );
}

/// Golden 14: basic auth (here with a colon in the password, which the peer breaks on).
#[tokio::test]
async fn golden_14_basic_auth() {
    let auth = Some(("user".to_string(), "pa:ss".to_string()));
    let sim = common::sim_with(SimConfig {
        basic_auth: auth,
        ..SimConfig::synchronous()
    })
    .await;
    assert_eq!(
        serve(&sim, &["--basic-auth", "user:pa:ss"])
            .await
            .get("/")
            .await
            .0,
        200
    );
}

/// Goldens 15 and 16: threshold 10 % → 503 (0.3 > 0.1); 50 % → 200 (0.3 ≤ 0.5).
#[tokio::test]
async fn golden_15_16_thresholds() {
    let sim = three_in_ten().await;
    let (status, got) = serve(&sim, &["--failure-threshold-percentage", "10"])
        .await
        .get("/")
        .await;
    assert_eq!(
        (status, got["failure_threshold"].clone()),
        (503, json!(0.1))
    );
    let (status, got) = serve(&sim, &["--failure-threshold-percentage", "50"])
        .await
        .get("/")
        .await;
    assert_eq!((status, got["healthy"].clone()), (200, json!(true)));
}

/// Golden 17: only connectors considered; a failed task does not count.
#[tokio::test]
async fn golden_17_connectors_only() {
    let sim = seeded(json!([c("s3-sink", "RUNNING", W, &[("FAILED", W)])])).await;
    assert_eq!(
        serve(&sim, &["--considered-containers", "CONNECTOR"])
            .await
            .get("/")
            .await
            .0,
        200
    );
}

/// Goldens 18 and 19: only tasks considered: a failed connector does not count; a
/// failed task does (rate 1.0).
#[tokio::test]
async fn golden_18_19_tasks_only() {
    let sim = seeded(json!([c("a", "FAILED", W, &[("RUNNING", W)])])).await;
    assert_eq!(
        serve(&sim, &["--considered-containers", "TASK"])
            .await
            .get("/")
            .await
            .0,
        200
    );
    let sim = seeded(json!([c("a", "RUNNING", W, &[("FAILED", W)])])).await;
    let (status, got) = serve(&sim, &["--considered-containers", "task"])
        .await
        .get("/")
        .await;
    assert_eq!((status, got["failure_rate"].clone()), (503, json!(1.0)));
}

/// Unknown paths are 404 with an empty body. We differ on HEAD: the peer answers 200
/// on any path without checking; we answer HEAD like GET (404 here).
#[tokio::test]
async fn golden_unknown_paths_are_404() {
    let served = serve(&seeded(json!([])).await, &[]).await;
    for path in [
        "/test",
        "/does/not/exist",
        "/kafka",
        "/this-is-a-long/url",
        "/connectors",
    ] {
        assert_eq!(
            served.get(path).await,
            (404, Value::String(String::new())),
            "{path}"
        );
    }
    let head = common::http()
        .head(format!("{}/test", served.url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 404);
}
