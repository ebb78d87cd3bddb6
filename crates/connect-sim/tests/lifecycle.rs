//! Asynchronous lifecycles, state transitions and rebalance windows (spec §17, §18),
//! stepped with `POST /_sim/advance` so no test waits on the wall clock.

mod common;

use std::time::Duration;

use common::TestSim;
use connect_sim::SimConfig;
use serde_json::json;

/// A simulator whose lifecycle steps and rebalance windows take one simulated second
/// (an hour of real time would pass before they came due on their own).
async fn slow() -> TestSim {
    let second = Duration::from_secs(1);
    common::start(SimConfig {
        lifecycle_delay: second,
        rebalance_window: second,
        ..SimConfig::default()
    })
    .await
}

/// spec §18 timeline: 201 → status 404 → RUNNING with `tasks: []` → tasks RUNNING.
#[tokio::test]
async fn create_goes_through_the_distributed_timeline() {
    let sim = slow().await;
    assert_eq!(sim.create_sink("s", 2).await.status, 201);
    let early = sim.get("/connectors/s/status").await;
    assert_eq!(
        (early.status, early.message()),
        (404, "No status found for connector s")
    );
    assert_eq!(sim.get("/connectors?expand=status").await.body, json!({}));
    sim.advance(1000).await;
    let started = sim.get("/connectors/s/status").await.body;
    assert_eq!(
        (
            started["connector"]["state"].as_str(),
            started["tasks"].clone()
        ),
        (Some("RUNNING"), json!([]))
    );
    sim.advance(1000).await;
    assert_eq!(sim.task_states("s").await, ["RUNNING", "RUNNING"]);
    sim.advance(1000).await;
    assert_eq!(
        sim.get("/connectors/s").await.body["tasks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// spec §18: after a config change, restarts answer 409 and (3.5+) info GETs 500 until
/// the rebalance completes; status and the plain list never do.
#[tokio::test]
async fn rebalance_window_after_create() {
    let sim = slow().await;
    sim.create_sink("s", 1).await;
    let info = sim.get("/connectors/s").await;
    assert_eq!(
        (info.status, info.message()),
        (
            500,
            "Request cannot be completed because a rebalance is expected"
        )
    );
    let restart = sim.post("/connectors/s/restart", None).await;
    assert_eq!(restart.status, 409);
    assert!(
        restart
            .message()
            .starts_with("Cannot complete request momentarily due to stale configuration")
    );
    assert_eq!(sim.get("/connectors").await.status, 200);
    assert_eq!(sim.get("/connectors/s/status").await.status, 404);
    sim.advance(3000).await;
    assert_eq!(sim.get("/connectors/s").await.status, 200);
    assert_eq!(sim.post("/connectors/s/restart", None).await.status, 204);
}

/// spec §18: POST, PUT and DELETE do not check for a pending rebalance.
#[tokio::test]
async fn writes_are_not_blocked_by_the_rebalance_window() {
    let sim = slow().await;
    sim.faults(json!({"rebalancing": true})).await;
    assert_eq!(sim.create_sink("s", 1).await.status, 201);
    let config = json!({"connector.class": "FileStreamSink", "topics": "b"});
    assert_eq!(
        sim.put("/connectors/s/config", Some(config)).await.status,
        200
    );
    assert_eq!(sim.put("/connectors/s/pause", None).await.status, 202);
    assert_eq!(sim.delete("/connectors/s").await.status, 204);
}

/// spec §18 delete timeline: 404 at once for info; status lingers with type `unknown`,
/// then UNASSIGNED, then 404.
#[tokio::test]
async fn deleted_connector_status_lingers() {
    let sim = slow().await;
    sim.seed(json!({"connectors": [{"name": "s", "type": "sink"}]}))
        .await;
    sim.delete("/connectors/s").await;
    sim.advance(1000).await;
    assert_eq!(sim.get("/connectors/s").await.status, 404);
    let lingering = sim.get("/connectors/s/status").await;
    assert_eq!(lingering.status, 404, "gone after the full delay");

    sim.seed(json!({"connectors": [{"name": "t", "type": "sink"}]}))
        .await;
    sim.delete("/connectors/t").await;
    let first = sim.get("/connectors/t/status").await.body;
    assert_eq!(
        (first["connector"]["state"].as_str(), first["type"].as_str()),
        (Some("RUNNING"), Some("unknown"))
    );
    sim.advance(500).await;
    assert_eq!(sim.connector_state("t").await, "UNASSIGNED");
    assert_eq!(sim.task_states("t").await, ["UNASSIGNED"]);
}

/// spec §9: pause, resume and stop answer before the status catches up.
#[tokio::test]
async fn pause_and_stop_apply_asynchronously() {
    let sim = slow().await;
    sim.seed(json!({"connectors": [{"name": "s", "tasks": [{"state": "RUNNING"}]}]}))
        .await;
    sim.put("/connectors/s/pause", None).await;
    assert_eq!(sim.connector_state("s").await, "RUNNING");
    sim.advance(1000).await;
    assert_eq!(
        (sim.connector_state("s").await, sim.task_states("s").await),
        ("PAUSED".into(), vec!["PAUSED".to_string()])
    );
    sim.put("/connectors/s/stop", None).await;
    sim.advance(1000).await;
    assert_eq!(
        (sim.connector_state("s").await, sim.task_states("s").await),
        ("STOPPED".into(), vec![])
    );
}

/// spec §17: a FAILED connector ignores pause and resume; stop is allowed from FAILED.
#[tokio::test]
async fn failed_connector_ignores_pause_but_not_stop() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "s", "state": "FAILED", "trace": "original"}]}))
        .await;
    sim.put("/connectors/s/pause", None).await;
    let status = sim.get("/connectors/s/status").await.body;
    assert_eq!(
        (
            status["connector"]["state"].as_str(),
            status["connector"]["trace"].as_str()
        ),
        (Some("FAILED"), Some("original"))
    );
    sim.put("/connectors/s/resume", None).await;
    assert_eq!(sim.connector_state("s").await, "FAILED");
    sim.put("/connectors/s/stop", None).await;
    assert_eq!(sim.connector_state("s").await, "STOPPED");
}

/// spec §17: connector and task states are independent (FAILED connector, RUNNING tasks).
#[tokio::test]
async fn connector_and_task_states_are_independent() {
    let sim = common::start_sync().await;
    sim.seed(
        json!({"connectors": [{"name": "s", "state": "FAILED", "tasks": [{"state": "RUNNING"}]}]}),
    )
    .await;
    assert_eq!(
        (sim.connector_state("s").await, sim.task_states("s").await),
        ("FAILED".into(), vec!["RUNNING".to_string()])
    );
}

/// spec §8, §17: RESTARTING is visible in status until the restart completes.
#[tokio::test]
async fn restarting_is_visible_until_the_restart_completes() {
    let sim = slow().await;
    sim.seed(json!({"connectors": [{"name": "s", "tasks": [{"state": "FAILED"}]}]}))
        .await;
    assert_eq!(
        sim.post(
            "/connectors/s/restart?includeTasks=true&onlyFailed=true",
            None
        )
        .await
        .status,
        202
    );
    assert_eq!(sim.task_states("s").await, ["RESTARTING"]);
    sim.advance(1000).await;
    assert_eq!(sim.task_states("s").await, ["RUNNING"]);
}

/// spec §5.2, §4: a config write keeps a paused connector paused (no new task configs
/// while paused); on resume the tasks are regenerated from the new config.
#[tokio::test]
async fn config_write_keeps_the_paused_target() {
    let sim = common::start_sync().await;
    sim.create_sink("s", 1).await;
    sim.put("/connectors/s/pause", None).await;
    let config = json!({"connector.class": "FileStreamSink", "topics": "other", "tasks.max": "3"});
    sim.put("/connectors/s/config", Some(config)).await;
    sim.get("/connectors").await;
    assert_eq!(sim.connector_state("s").await, "PAUSED");
    assert_eq!(sim.task_states("s").await, ["PAUSED"]);
    sim.put("/connectors/s/resume", None).await;
    sim.get("/connectors").await;
    sim.get("/connectors").await;
    assert_eq!(
        sim.task_states("s").await,
        ["RUNNING", "RUNNING", "RUNNING"]
    );
}

/// spec §17: a reconfiguration restarts a FAILED task (fixable failures recover).
#[tokio::test]
async fn reconfiguration_restarts_failed_tasks() {
    let sim = common::start_sync().await;
    sim.create_sink("s", 1).await;
    sim.put(
        "/_sim/connectors/s/tasks/0/state",
        Some(json!({"state": "FAILED"})),
    )
    .await;
    assert_eq!(sim.task_states("s").await, ["FAILED"]);
    sim.patch("/connectors/s/config", json!({"topics": "fixed"}))
        .await;
    sim.get("/connectors").await;
    assert_eq!(sim.task_states("s").await, ["RUNNING"]);
}

/// spec §6, §18: tasks are spread over the workers and carry their worker ids.
#[tokio::test]
async fn tasks_are_spread_over_workers() {
    let sim = common::start_sync().await;
    sim.create_sink("s", 3).await;
    sim.get("/connectors").await;
    let status = sim.get("/connectors/s/status").await.body;
    let mut workers: Vec<&str> = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["worker_id"].as_str().unwrap())
        .collect();
    workers.sort_unstable();
    assert_eq!(
        workers,
        ["connect-0:8083", "connect-1:8083", "connect-2:8083"]
    );
}
