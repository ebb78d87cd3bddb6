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

fn healthy() -> Value {
    body(json!([]), 0.0, 0.0, true)
}

/// The peer's connector failure entry (peers §1.3): no trace key.
fn connector_failure(name: &str, worker: &str) -> Value {
    json!({"type": "connector", "connector": name, "state": "FAILED", "worker_id": worker})
}

/// The peer's task failure entry, with the trace in full.
fn task_failure(name: &str, id: u32, worker: &str, trace: &str) -> Value {
    json!({"type": "task", "connector": name, "id": id, "state": "FAILED", "worker_id": worker, "trace": trace})
}

async fn seeded(connectors: Value) -> Running {
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, json!({"connectors": connectors})).await;
    sim
}

/// A FAILED task's trace: Connect always gives one (the peer's `null` never shows).
const TRACE: &str = "org.foo.BarException: boom";

/// A connector with tasks `(state, worker)`; FAILED tasks carry [`TRACE`].
fn c(name: &str, state: &str, worker: &str, tasks: &[(&str, &str)]) -> Value {
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|(s, w)| json!({"state": s, "worker_id": w, "trace": (*s == "FAILED").then_some(TRACE)}))
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
    assert_eq!(serve(&sim, &[]).await.get("/").await, (200, healthy()));
}

/// Golden 2: connector and task FAILED → 503, rate 1.0, the peer's failure entries.
#[tokio::test]
async fn golden_02_connector_and_task_failed() {
    let sim = seeded(json!([{"name": "s3-sink", "state": "FAILED", "worker_id": W, "trace": "boom", "tasks": [{"state": "FAILED", "worker_id": W, "trace": TRACE}]}])).await;
    let failures = json!([
        connector_failure("s3-sink", W),
        task_failure("s3-sink", 0, W, TRACE)
    ]);
    assert_eq!(
        serve(&sim, &[]).await.get("/").await,
        (503, body(failures, 1.0, 0.0, false))
    );
}

/// Golden 3: Connect unreachable → 503 error shape. We differ in the `error` text: the
/// peer's is a Python requests message; ours names the URL and the OS reason.
#[tokio::test]
async fn golden_03_unreachable() {
    let sim = common::sim("3.9.0").await;
    let url = sim.url();
    sim.stop().await.unwrap();
    let served = serve_url(&url, &[]).await;
    let (status, mut got) = served.get("/").await;
    let error = got["error"].take();
    assert!(error.as_str().unwrap().contains("unreachable"), "{error}");
    let message =
        "Exception raised while attempting to calculate health result, assuming unhealthy.";
    assert_eq!(
        (status, got),
        (
            503,
            json!({"healthy": false, "message": message, "error": null, "failure_states": ["FAILED"]})
        ),
        "the error shape, and no failures key"
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
            .await,
        (200, healthy())
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
        (200, healthy())
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
            .await,
        (200, healthy())
    );
}

/// Golden 7: a task failing on this worker → 503. We differ on the rate: the peer
/// divides by the whole cluster (0.5); we count only containers in scope (1.0).
#[tokio::test]
async fn golden_07_task_failing_on_this_worker() {
    let sim = seeded(json!([c("s3-sink", "RUNNING", OTHER, &[("FAILED", W)])])).await;
    let failures = json!([task_failure("s3-sink", 0, W, TRACE)]);
    assert_eq!(
        serve(&sim, &["--connect-worker-id", W])
            .await
            .get("/")
            .await,
        (503, body(failures, 1.0, 0.0, false))
    );
}

/// Goldens 8 and 9: several tasks, several connectors, all healthy.
#[tokio::test]
async fn golden_08_09_many_healthy() {
    let sim = seeded(json!([
        c("a", "RUNNING", W, &[("RUNNING", W), ("RUNNING", OTHER)]),
        c("b", "RUNNING", OTHER, &[("RUNNING", W)])
    ]))
    .await;
    assert_eq!(serve(&sim, &[]).await.get("/").await, (200, healthy()));
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

/// The three failures of [`three_in_ten`], in the peer's order.
fn three_failures() -> Value {
    json!([
        connector_failure("c1", W),
        task_failure("c2", 0, W, TRACE),
        task_failure("c3", 0, W, TRACE)
    ])
}

/// Golden 10: several connectors → 503, rate 0.3.
#[tokio::test]
async fn golden_10_many_connectors_rate() {
    let sim = three_in_ten().await;
    assert_eq!(
        serve(&sim, &[]).await.get("/").await,
        (503, body(three_failures(), 0.3, 0.0, false))
    );
}

/// Golden 11: no connectors → healthy, rate 0.0.
#[tokio::test]
async fn golden_11_no_connectors() {
    let sim = seeded(json!([])).await;
    assert_eq!(serve(&sim, &[]).await.get("/").await, (200, healthy()));
}

/// Golden 12: a task with a trace → 503, rate 1/3, the full trace in the entry.
#[tokio::test]
async fn golden_12_task_with_trace() {
    let trace = "org.foo.BarException: stack\n\tat org.foo.Bar(Bar.java:1)";
    let sim = seeded(json!([{"name": "s3-sink", "worker_id": W, "tasks": [{"state": "RUNNING", "worker_id": W}, {"state": "FAILED", "worker_id": W, "trace": trace}]}])).await;
    let failures = json!([task_failure("s3-sink", 1, W, trace)]);
    assert_eq!(
        serve(&sim, &[]).await.get("/").await,
        (503, body(failures, 1.0 / 3.0, 0.0, false))
    );
}

/// Golden 13: the broker check. The peer infers a zombie worker from an info call; we
/// read `GET /health` (3.9+) and add the same broker entry, rate 0.0, 503, plus (our
/// addition) the worker's own words in `worker_problem`.
#[tokio::test]
async fn golden_13_broker_check() {
    let sim = seeded(json!([c("s3-sink", "RUNNING", W, &[])])).await;
    common::control(&sim)
        .health(&json!({"status": "unhealthy"}))
        .await
        .unwrap();
    let (status, mut got) = serve(&sim, &[]).await.get("/").await;
    let problem = got.as_object_mut().unwrap().remove("worker_problem");
    assert!(
        problem.unwrap().as_str().unwrap().contains("unable"),
        "{got}"
    );
    let failures = json!([{"type": "broker", "connector": "s3-sink"}]);
    assert_eq!((status, got), (503, body(failures, 0.0, 0.0, false)));
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
            .await,
        (200, healthy())
    );
}

/// Goldens 15 and 16: threshold 10 % → 503 (0.3 > 0.1); 50 % → 200 (0.3 ≤ 0.5).
#[tokio::test]
async fn golden_15_16_thresholds() {
    let sim = three_in_ten().await;
    let sim = &sim;
    let at = |percent| async move {
        let flags = ["--failure-threshold-percentage", percent];
        serve(sim, &flags).await.get("/").await
    };
    assert_eq!(
        at("10").await,
        (503, body(three_failures(), 0.3, 0.1, false))
    );
    assert_eq!(
        at("50").await,
        (200, body(three_failures(), 0.3, 0.5, true))
    );
}

/// Golden 17: only connectors considered; a failed task does not count.
#[tokio::test]
async fn golden_17_connectors_only() {
    let sim = seeded(json!([c("s3-sink", "RUNNING", W, &[("FAILED", W)])])).await;
    assert_eq!(
        serve(&sim, &["--considered-containers", "CONNECTOR"])
            .await
            .get("/")
            .await,
        (200, healthy())
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
            .await,
        (200, healthy())
    );
    let sim = seeded(json!([c("a", "RUNNING", W, &[("FAILED", W)])])).await;
    let failures = json!([task_failure("a", 0, W, TRACE)]);
    assert_eq!(
        serve(&sim, &["--considered-containers", "task"])
            .await
            .get("/")
            .await,
        (503, body(failures, 1.0, 0.0, false))
    );
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
