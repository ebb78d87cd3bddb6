//! The `/_sim` control API: reset, seeding, injected states, faults, health, counters
//! and basic auth (issue: control API; spec §0.2, §16, §18, §20.3).

mod common;

use std::time::Duration;

use connect_sim::SimConfig;
use serde_json::json;

/// Reset empties the cluster, clears faults and zeroes the counters.
#[tokio::test]
async fn reset_empties_everything() {
    let sim = common::start_sync().await;
    sim.seed(json!({"generate": {"count": 3}})).await;
    sim.faults(json!({"status": 500, "path_regex": "^/connectors$"}))
        .await;
    assert_eq!(sim.post("/_sim/reset", None).await.status, 204);
    assert_eq!(sim.get("/connectors").await.body, json!([]));
    assert_eq!(sim.get("/_sim/requests").await.body["total"], 1);
}

/// `generate` seeds many RUNNING connectors with their tasks, spread over the workers.
#[tokio::test]
async fn generate_seeds_running_connectors_over_workers() {
    let sim = common::start_sync().await;
    sim.seed(json!({"generate": {"count": 30, "tasks": 3}}))
        .await;
    let all = sim.get("/connectors?expand=status").await.body;
    let all = all.as_object().unwrap();
    assert_eq!(all.len(), 30);
    let mut workers = std::collections::BTreeSet::new();
    for entry in all.values() {
        assert_eq!(entry["status"]["connector"]["state"], "RUNNING");
        assert_eq!(entry["status"]["tasks"].as_array().unwrap().len(), 3);
        workers.insert(
            entry["status"]["connector"]["worker_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(workers.len(), 3);
    let types: std::collections::BTreeSet<_> = all
        .values()
        .map(|e| e["status"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.into_iter().collect::<Vec<_>>(), ["sink", "source"]);
}

/// Seeded connectors get default configs that pass validation, and keep given states.
#[tokio::test]
async fn seeded_connectors_fill_in_config_defaults() {
    let sim = common::start_sync().await;
    sim.seed(
        json!({"connectors": [{"name": "a", "type": "sink", "state": "PAUSED",
        "tasks": [{"state": "PAUSED"}, {"state": "FAILED", "trace": "x"}]}]}),
    )
    .await;
    let config = sim.get("/connectors/a/config").await.body;
    assert_eq!(
        (config["name"].as_str(), config["topics"].as_str()),
        (Some("a"), Some("a"))
    );
    let check = sim
        .put(
            "/connector-plugins/JdbcSinkConnector/config/validate",
            Some(config),
        )
        .await;
    assert_eq!(check.body["error_count"], 0, "{:?}", check.body);
    assert_eq!(sim.task_states("a").await, ["PAUSED", "FAILED"]);
}

/// Bad control input is a 400 with a clear message, never a panic.
#[tokio::test]
async fn bad_control_input_is_400() {
    let sim = common::start_sync().await;
    let cases = [
        (
            "/_sim/connectors",
            json!({"connectors": [{"name": "a", "state": "SLEEPING"}]}),
            "invalid connector state",
        ),
        (
            "/_sim/connectors",
            json!({"connectors": [{"name": "a", "tasks": [{"state": "STOPPED"}]}]}),
            "invalid task state",
        ),
        (
            "/_sim/connectors",
            json!({"generate": {"count": 10_000_000}}),
            "at most",
        ),
        ("/_sim/connectors", json!({"bogus": 1}), "unknown field"),
        (
            "/_sim/connectors",
            json!({"connectors": [{"name": " "}]}),
            "may not be empty",
        ),
    ];
    for (path, body, expected) in cases {
        let answer = sim.post(path, Some(body)).await;
        assert_eq!(answer.status, 400, "{answer:?}");
        assert!(
            answer.message().contains(expected),
            "{} lacks {expected}",
            answer.message()
        );
    }
    let faults = sim
        .put("/_sim/faults", Some(json!({"latency_ms": "soon"})))
        .await;
    assert_eq!(faults.status, 400);
    let health = sim
        .put("/_sim/health", Some(json!({"status": "sleepy"})))
        .await;
    assert_eq!(health.status, 400);
    let not_json = sim
        .client
        .put(sim.url("/_sim/faults"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
}

/// Injected states with `restart_outcome`: RUNNING means a restart fixes it, FAILED not.
#[tokio::test]
async fn injected_states_choose_what_a_restart_ends_in() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "a", "tasks": [{}, {}]}]}))
        .await;
    let fixable = sim
        .put(
            "/_sim/connectors/a/tasks/0/state",
            Some(json!({"state": "FAILED", "trace": "t0"})),
        )
        .await;
    assert_eq!(
        fixable.body,
        json!({"id": 0, "state": "FAILED", "worker_id": fixable.body["worker_id"], "trace": "t0"})
    );
    sim.put(
        "/_sim/connectors/a/tasks/1/state",
        Some(json!({"state": "FAILED", "restart_outcome": "FAILED"})),
    )
    .await;
    sim.put(
        "/_sim/connectors/a/state",
        Some(json!({"state": "FAILED", "restart_outcome": "FAILED"})),
    )
    .await;
    sim.post(
        "/connectors/a/restart?includeTasks=true&onlyFailed=true",
        None,
    )
    .await;
    assert_eq!(sim.connector_state("a").await, "FAILED");
    assert_eq!(sim.task_states("a").await, ["RUNNING", "FAILED"]);
    let missing = sim
        .put(
            "/_sim/connectors/a/tasks/9/state",
            Some(json!({"state": "FAILED"})),
        )
        .await;
    assert_eq!(missing.status, 404);
}

/// The `NONE` state removes the status record (a just-created connector).
#[tokio::test]
async fn none_state_removes_the_status_record() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "a"}]})).await;
    sim.put("/_sim/connectors/a/state", Some(json!({"state": "NONE"})))
        .await;
    assert_eq!(sim.get("/connectors/a/status").await.status, 404);
}

/// Request counters group Connect requests by method and route template, not `/_sim`.
#[tokio::test]
async fn requests_are_counted_by_route_template() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "a"}, {"name": "b"}]}))
        .await;
    sim.get("/connectors?expand=status").await;
    sim.get("/connectors/a/status").await;
    sim.get("/connectors/b/status").await;
    let counts = sim.get("/_sim/requests").await.body;
    assert_eq!(counts["total"], 3);
    assert_eq!(
        counts["by_route"],
        json!({"GET /connectors": 1, "GET /connectors/{name}/status": 2})
    );
    assert_eq!(sim.delete("/_sim/requests").await.status, 204);
    assert_eq!(sim.get("/_sim/requests").await.body["total"], 0);
}

/// spec §16: `/health` follows `PUT /_sim/health`: 200 healthy, 503 starting, 500 unhealthy.
#[tokio::test]
async fn health_follows_the_control_setting() {
    let sim = common::start_sync().await;
    let healthy = sim.get("/health").await;
    assert_eq!(
        (healthy.status, healthy.body["status"].as_str()),
        (200, Some("healthy"))
    );
    assert_eq!(
        healthy.body["message"],
        "Worker has completed startup and is ready to handle requests."
    );
    for (setting, code) in [("starting", 503), ("unhealthy", 500)] {
        sim.put("/_sim/health", Some(json!({"status": setting})))
            .await;
        let answer = sim.get("/health").await;
        assert_eq!(
            (answer.status, answer.body["status"].as_str()),
            (code, Some(setting))
        );
    }
}

/// Faults: canned status/body on matching paths only, a counted fault clears itself.
#[tokio::test]
async fn canned_answers_match_paths_and_counts() {
    let sim = common::start_sync().await;
    sim.faults(json!({"status": 409, "path_regex": "/restart$", "count": 2}))
        .await;
    assert_eq!(sim.get("/connectors").await.status, 200);
    sim.seed(json!({"connectors": [{"name": "a"}]})).await;
    for _ in 0..2 {
        let answer = sim.post("/connectors/a/restart", None).await;
        assert_eq!(
            (answer.status, answer.body["error_code"].as_u64()),
            (409, Some(409))
        );
    }
    assert_eq!(sim.post("/connectors/a/restart", None).await.status, 204);
    sim.faults(json!({"status": 503, "body": "upstream down"}))
        .await;
    let text = sim.get("/connectors").await;
    assert_eq!(
        (text.status, text.body.as_str()),
        (503, Some("upstream down"))
    );
    assert_eq!(sim.delete("/_sim/faults").await.status, 204);
    assert_eq!(sim.get("/connectors").await.status, 200);
}

/// Faults: garbage is invalid JSON with 200; reset drops the connection.
#[tokio::test]
async fn garbage_and_reset_faults() {
    let sim = common::start_sync().await;
    sim.faults(json!({"garbage": true})).await;
    let garbage = sim.client.get(sim.url("/connectors")).send().await.unwrap();
    assert_eq!(garbage.status(), 200);
    assert!(serde_json::from_str::<serde_json::Value>(&garbage.text().await.unwrap()).is_err());
    sim.faults(json!({"reset": true})).await;
    let reset = async {
        sim.client
            .get(sim.url("/connectors"))
            .send()
            .await?
            .text()
            .await
    };
    assert!(
        reset.await.is_err(),
        "a reset connection yields a client error"
    );
    assert_eq!(
        sim.get("/_sim/requests").await.status,
        200,
        "the control API is never faulted"
    );
}

/// Faults: a hang is never answered (the client gives up), and is released at shutdown.
#[tokio::test]
async fn hang_is_never_answered() {
    let sim = common::start_sync().await;
    sim.faults(json!({"hang": true, "path_regex": "^/connectors$"}))
        .await;
    let hung = sim
        .client
        .get(sim.url("/connectors"))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.unwrap_err().is_timeout());
    assert_eq!(sim.get("/").await.status, 200, "other paths still answer");
    assert_eq!(sim.delete("/_sim/requests").await.status, 204);
    let pending = tokio::spawn({
        let (client, url) = (sim.client.clone(), sim.url("/connectors"));
        async move { client.get(url).send().await }
    });
    sim.until_counted("GET /connectors", 1).await;
    let stopped = tokio::time::timeout(common::PATIENCE, sim.running.stop()).await;
    stopped
        .expect("shutdown waits for the hung request forever")
        .unwrap();
    assert!(
        pending.await.unwrap().is_err(),
        "shutdown releases the hung request"
    );
}

/// spec §0.3: the `timeout` fault makes herder-queued requests fail with `Request timed out`;
/// status reads (not queued) still answer.
#[tokio::test]
async fn timeout_fault_times_out_herder_requests() {
    let sim = common::start(SimConfig {
        request_timeout: Duration::from_millis(20),
        ..SimConfig::synchronous()
    })
    .await;
    sim.seed(json!({"connectors": [{"name": "a"}]})).await;
    sim.faults(json!({"timeout": true})).await;
    let info = sim.get("/connectors/a").await;
    assert_eq!(info.status, 500);
    assert!(info.message().starts_with(
        "Request timed out. The worker is currently ensuring membership in the cluster"
    ));
    assert_eq!(sim.get("/connectors/a/status").await.status, 200);
    let health = sim.get("/health").await;
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (500, Some("unhealthy"))
    );
}

/// spec §0.2: with basic auth every Connect endpoint answers a bare-text 401 without the
/// right credentials; `/_sim` is never behind auth; a password may contain colons.
#[tokio::test]
async fn basic_auth_guards_connect_but_not_control() {
    let auth = Some(("admin".to_string(), "pa:ss".to_string()));
    let sim = common::start(SimConfig {
        basic_auth: auth,
        ..SimConfig::synchronous()
    })
    .await;
    let denied = sim.get("/connectors").await;
    assert_eq!(
        (denied.status, denied.body.as_str()),
        (401, Some("User cannot access the resource."))
    );
    let wrong = sim
        .client
        .get(sim.url("/connectors"))
        .basic_auth("admin", Some("pa"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = sim
        .client
        .get(sim.url("/connectors"))
        .basic_auth("admin", Some("pa:ss"))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(sim.get("/_sim/requests").await.status, 200);
}

/// `PUT /_sim/connectors/{name}/tasks` makes a RUNNING connector generate fewer task
/// configs than `tasks.max` (none, like a MirrorSourceConnector whose topics match
/// nothing), at once and after a restart, until its config changes.
#[tokio::test]
async fn a_running_connector_can_generate_fewer_tasks_than_tasks_max() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "m", "config": {"tasks.max": "3"}}]}))
        .await;
    let tasks = |body: &serde_json::Value| body["tasks"].as_array().unwrap().len();
    assert_eq!(tasks(&sim.get("/connectors/m/status").await.body), 3);
    let answer = sim
        .put("/_sim/connectors/m/tasks", Some(json!({"count": 0})))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let status = sim.get("/connectors/m/status").await.body;
    assert_eq!(
        (status["connector"]["state"].as_str(), tasks(&status)),
        (Some("RUNNING"), 0)
    );
    assert_eq!(sim.get("/connectors/m").await.body["tasks"], json!([]));
    sim.post("/connectors/m/restart?includeTasks=true", None)
        .await;
    sim.get("/connectors").await;
    assert_eq!(tasks(&sim.get("/connectors/m/status").await.body), 0);
    sim.put("/_sim/connectors/m/tasks", Some(json!({"count": 1})))
        .await;
    assert_eq!(tasks(&sim.get("/connectors/m/status").await.body), 1);
    let bad = sim
        .put("/_sim/connectors/m/tasks", Some(json!({"count": 5000})))
        .await;
    assert_eq!(bad.status, 400);
    let missing = sim
        .put("/_sim/connectors/nope/tasks", Some(json!({"count": 1})))
        .await;
    assert_eq!(missing.status, 404);
}
