//! Connector CRUD, status and restart endpoints over real HTTP (spec §1–§9).

mod common;

use serde_json::json;

/// spec §1: server info with version, a 16-hex-digit commit and the cluster id.
#[tokio::test]
async fn root_reports_version_commit_and_cluster_id() {
    let sim = common::start_sync().await;
    let root = sim.get("/").await;
    assert_eq!(root.status, 200);
    assert_eq!(root.body["version"], "3.9.0");
    assert_eq!(root.body["commit"].as_str().unwrap().len(), 16);
    assert!(root.body["kafka_cluster_id"].is_string());
}

/// spec §2.1: an empty cluster lists `[]`; names are listed once created.
#[tokio::test]
async fn list_without_expand_is_a_name_array() {
    let sim = common::start_sync().await;
    assert_eq!(sim.get("/connectors").await.body, json!([]));
    sim.create_sink("a", 1).await;
    assert_eq!(sim.get("/connectors").await.body, json!(["a"]));
}

/// spec §2.2: repeated `expand` gives both keys; `status,info` is one unknown value.
#[tokio::test]
async fn expand_is_a_repeated_parameter() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "a", "type": "sink"}]}))
        .await;
    let both = sim.get("/connectors?expand=status&expand=info").await.body;
    assert_eq!(both["a"]["status"]["connector"]["state"], "RUNNING");
    assert_eq!(both["a"]["info"]["name"], "a");
    for odd in ["?expand=status,info", "?expand", "?expand="] {
        assert_eq!(
            sim.get(&format!("/connectors{odd}")).await.body,
            json!({"a": {}}),
            "{odd}"
        );
    }
}

/// spec §2.2 trap: a connector without a status record is left out of `expand=status`,
/// even when `info` is also requested, while the plain list still names it.
#[tokio::test]
async fn expand_status_omits_connectors_without_status() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "new", "state": "NONE"}, {"name": "old"}]}))
        .await;
    let expanded = sim.get("/connectors?expand=info&expand=status").await.body;
    assert!(expanded.get("new").is_none() && expanded.get("old").is_some());
    assert_eq!(sim.get("/connectors").await.body, json!(["new", "old"]));
}

/// spec §3: 201, Location header, `name` injected, scalars stored as strings, `tasks: []`.
#[tokio::test]
async fn create_answers_201_with_the_stored_config() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "FileStreamSink", "tasks.max": 2, "topics": "orders"});
    let created = sim
        .post(
            "/connectors",
            Some(json!({"name": "  s3 sink ", "config": config})),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["name"], "s3 sink", "the name is trimmed");
    assert_eq!(created.body["config"]["name"], "s3 sink");
    assert_eq!(created.body["config"]["tasks.max"], "2");
    assert_eq!(created.body["tasks"], json!([]));
    assert_eq!(created.body["type"], "sink");
    let location = created.headers["location"].to_str().unwrap();
    assert_eq!(
        location,
        format!("{}/connectors/s3%20sink", sim.running.url())
    );
}

/// spec §3 step 6: an existing name is a 409.
#[tokio::test]
async fn create_of_an_existing_connector_is_409() {
    let sim = common::start_sync().await;
    sim.create_sink("a", 1).await;
    let again = sim.create_sink("a", 1).await;
    assert_eq!(
        (again.status, again.message()),
        (409, "Connector a already exists")
    );
}

/// spec §0.2: a missing `config` is Connect's NullPointerException, a 500.
#[tokio::test]
async fn create_without_config_is_500() {
    let sim = common::start_sync().await;
    let answer = sim.post("/connectors", Some(json!({"name": "a"}))).await;
    assert_eq!(answer.status, 500);
    assert!(
        answer.message().contains("\"connectorConfig\" is null"),
        "{answer:?}"
    );
}

/// spec §4, §5.1: info and config of a connector; the config comes back verbatim,
/// placeholders unresolved and secrets in plain text.
#[tokio::test]
async fn info_and_config_echo_the_stored_config() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "JdbcSink", "topics": "t", "connection.url": "jdbc:x",
        "connection.password": "${file:/secrets/db.properties:password}", "connection.user": "plain-secret"});
    sim.post("/connectors", Some(json!({"name": "db", "config": config})))
        .await;
    let stored = sim.get("/connectors/db/config").await.body;
    assert_eq!(
        stored["connection.password"],
        "${file:/secrets/db.properties:password}"
    );
    assert_eq!(stored["connection.user"], "plain-secret");
    let info = sim.get("/connectors/db").await.body;
    assert_eq!(info["config"], stored);
    assert_eq!(info["tasks"], json!([{"connector": "db", "task": 0}]));
}

/// spec §4, §5.1: unknown connectors answer 404 `Connector X not found`.
#[tokio::test]
async fn info_and_config_of_unknown_connector_are_404() {
    let sim = common::start_sync().await;
    for path in [
        "/connectors/nope",
        "/connectors/nope/config",
        "/connectors/nope/tasks",
    ] {
        let answer = sim.get(path).await;
        assert_eq!(
            (answer.status, answer.message()),
            (404, "Connector nope not found"),
            "{path}"
        );
    }
}

/// spec §5.2: PUT creates with 201, replaces with 200 (keeping the task list), and
/// removes keys left out.
#[tokio::test]
async fn put_config_creates_then_replaces() {
    let sim = common::start_sync().await;
    let first = json!({"connector.class": "FileStreamSink", "topics": "a", "file": "/tmp/out"});
    let created = sim.put("/connectors/x/config", Some(first)).await;
    assert_eq!(
        (created.status, created.body["tasks"].clone()),
        (201, json!([]))
    );
    assert!(created.headers.contains_key("location"));
    sim.get("/connectors").await;
    let second = json!({"connector.class": "FileStreamSink", "topics": "b"});
    let replaced = sim.put("/connectors/x/config", Some(second)).await;
    assert_eq!(replaced.status, 200);
    assert_eq!(
        replaced.body["tasks"],
        json!([{"connector": "x", "task": 0}])
    );
    assert!(
        replaced.body["config"].get("file").is_none(),
        "PUT replaces the whole map"
    );
}

/// spec §5.2: a `name` that differs from the URL is a 400.
#[tokio::test]
async fn put_config_with_mismatched_name_is_400() {
    let sim = common::start_sync().await;
    let body = json!({"connector.class": "FileStreamSink", "topics": "a", "name": "other"});
    let answer = sim.put("/connectors/x/config", Some(body)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.message(),
        "Connector name configuration (other) doesn't match connector name in the URL (x)"
    );
}

/// spec §5.3: PATCH merges, `null` removes a key, always 200, never creates.
#[tokio::test]
async fn patch_config_merges_and_removes() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "FileStreamSink", "topics": "a", "file": "/tmp/f"});
    sim.put("/connectors/x/config", Some(config)).await;
    let patched = sim
        .patch("/connectors/x/config", json!({"file": null, "topics": "b"}))
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["config"]["topics"], "b");
    assert!(patched.body["config"].get("file").is_none());
    let missing = sim
        .patch("/connectors/nope/config", json!({"topics": "b"}))
        .await;
    assert_eq!(
        (missing.status, missing.message()),
        (404, "Connector nope not found")
    );
}

/// spec §6: status body shape; trace only on FAILED entries; 404 wording differs.
#[tokio::test]
async fn status_shows_states_workers_and_traces() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "s", "type": "sink", "worker_id": "w1:8083",
        "tasks": [{"state": "RUNNING", "worker_id": "w1:8083"}, {"state": "FAILED", "trace": "java.net.ConnectException: refused\n\tat x"}]}]})).await;
    let status = sim.get("/connectors/s/status").await.body;
    assert_eq!(
        status["connector"],
        json!({"state": "RUNNING", "worker_id": "w1:8083"})
    );
    assert_eq!(
        status["tasks"][0],
        json!({"id": 0, "state": "RUNNING", "worker_id": "w1:8083"})
    );
    assert_eq!(
        status["tasks"][1]["trace"],
        "java.net.ConnectException: refused\n\tat x"
    );
    assert_eq!(status["type"], "sink");
    let missing = sim.get("/connectors/nope/status").await;
    assert_eq!(
        (missing.status, missing.message()),
        (404, "No status found for connector nope")
    );
}

/// spec §7.1, §7.2: task configs carry `task.class`; tasks-config is keyed `<name>-<id>`.
#[tokio::test]
async fn task_configs_carry_the_task_class() {
    let sim = common::start_sync().await;
    sim.create_sink("s", 2).await;
    let tasks = sim.get("/connectors/s/tasks").await.body;
    assert_eq!(tasks[1]["id"], json!({"connector": "s", "task": 1}));
    assert_eq!(
        tasks[0]["config"]["task.class"],
        "org.apache.kafka.connect.file.FileStreamSinkTask"
    );
    let by_key = sim.get("/connectors/s/tasks-config").await.body;
    assert_eq!(by_key["s-1"]["topics"], "orders");
}

/// spec §7.3: task status and its 404 wording.
#[tokio::test]
async fn task_status_and_its_404() {
    let sim = common::start_sync().await;
    sim.seed(
        json!({"connectors": [{"name": "s", "tasks": [{"state": "PAUSED", "worker_id": "w:1"}]}]}),
    )
    .await;
    let task = sim.get("/connectors/s/tasks/0/status").await;
    assert_eq!(
        task.body,
        json!({"id": 0, "state": "PAUSED", "worker_id": "w:1"})
    );
    let missing = sim.get("/connectors/s/tasks/7/status").await;
    assert_eq!(
        (missing.status, missing.message()),
        (404, "No status found for task s-7")
    );
}

/// spec §7.4: task restart is 204; unknown connector and task have their own wordings.
#[tokio::test]
async fn task_restart_is_204_and_fixes_a_failed_task() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "s", "tasks": [{"state": "FAILED"}]}]}))
        .await;
    let restarted = sim.post("/connectors/s/tasks/0/restart", None).await;
    assert_eq!(
        (restarted.status, restarted.body.clone()),
        (204, serde_json::Value::Null)
    );
    assert_eq!(sim.task_states("s").await, ["RUNNING"]);
    let unknown = sim.post("/connectors/nope/tasks/0/restart", None).await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (404, "Unknown connector: nope")
    );
    let no_task = sim.post("/connectors/s/tasks/3/restart", None).await;
    assert_eq!(
        (no_task.status, no_task.message()),
        (404, "Unknown task: s-3")
    );
}

/// spec §8: the default restart is a synchronous connector-only 204.
#[tokio::test]
async fn default_restart_is_204_and_restarts_the_connector_only() {
    let sim = common::start_sync().await;
    sim.seed(
        json!({"connectors": [{"name": "s", "state": "FAILED", "tasks": [{"state": "FAILED"}]}]}),
    )
    .await;
    let answer = sim.post("/connectors/s/restart", None).await;
    assert_eq!(answer.status, 204);
    assert_eq!(sim.connector_state("s").await, "RUNNING");
    assert_eq!(sim.task_states("s").await, ["FAILED"]);
}

/// spec §8: `includeTasks&onlyFailed` is a 202 predicting RESTARTING for failed
/// instances only; afterwards they run again.
#[tokio::test]
async fn restart_with_flags_is_202_with_predicted_states() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "s", "tasks": [{"state": "RUNNING"}, {"state": "FAILED"}]}]})).await;
    let answer = sim
        .post(
            "/connectors/s/restart?includeTasks=true&onlyFailed=true",
            None,
        )
        .await;
    assert_eq!(answer.status, 202);
    assert_eq!(answer.body["connector"]["state"], "RUNNING");
    assert_eq!(answer.body["tasks"][0]["state"], "RUNNING");
    assert_eq!(answer.body["tasks"][1]["state"], "RESTARTING");
    assert_eq!(sim.task_states("s").await, ["RUNNING", "RUNNING"]);
}

/// spec §8: `includeTasks=true` alone restarts the connector and every task.
#[tokio::test]
async fn restart_include_tasks_restarts_everything() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "s", "tasks": [{"state": "RUNNING"}, {"state": "RUNNING"}]}]})).await;
    let answer = sim
        .post("/connectors/s/restart?includeTasks=TRUE", None)
        .await;
    let states: Vec<&str> = answer.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        (answer.status, answer.body["connector"]["state"].as_str()),
        (202, Some("RESTARTING"))
    );
    assert_eq!(states, ["RESTARTING", "RESTARTING"]);
}

/// spec §8: restart errors: unknown connector, and a connector with no status yet.
#[tokio::test]
async fn restart_errors_use_the_restart_wordings() {
    let sim = common::start_sync().await;
    let unknown = sim.post("/connectors/nope/restart", None).await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (404, "Unknown connector: nope")
    );
    sim.seed(json!({"connectors": [{"name": "fresh", "state": "NONE"}]}))
        .await;
    let fresh = sim
        .post("/connectors/fresh/restart?onlyFailed=true", None)
        .await;
    assert_eq!(
        (fresh.status, fresh.message()),
        (404, "Status for connector fresh not found")
    );
}

/// spec §8: a restart whose outcome is FAILED leaves the instance FAILED with its trace.
#[tokio::test]
async fn sticky_failures_fail_again_after_restart() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "s", "tasks": [{"state": "FAILED", "trace": "boom", "restart_outcome": "FAILED"}]}]})).await;
    sim.post(
        "/connectors/s/restart?includeTasks=true&onlyFailed=true",
        None,
    )
    .await;
    let status = sim.get("/connectors/s/status").await.body;
    assert_eq!(
        (
            status["tasks"][0]["state"].as_str(),
            status["tasks"][0]["trace"].as_str()
        ),
        (Some("FAILED"), Some("boom"))
    );
}

/// spec §9: pause and resume are 202 with empty bodies; unknown is `Unknown connector X`.
#[tokio::test]
async fn pause_and_resume_are_202() {
    let sim = common::start_sync().await;
    sim.create_sink("s", 1).await;
    let paused = sim.put("/connectors/s/pause", None).await;
    assert_eq!(
        (paused.status, paused.body.clone()),
        (202, serde_json::Value::Null)
    );
    assert_eq!(sim.connector_state("s").await, "PAUSED");
    assert_eq!(sim.task_states("s").await, ["PAUSED"]);
    assert_eq!(sim.put("/connectors/s/resume", None).await.status, 202);
    assert_eq!(sim.task_states("s").await, ["RUNNING"]);
    let unknown = sim.put("/connectors/nope/pause", None).await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (404, "Unknown connector nope")
    );
}

/// spec §9: stop is 204, empties the task list, and resume brings tasks back.
#[tokio::test]
async fn stop_empties_tasks_and_resume_restarts() {
    let sim = common::start_sync().await;
    sim.create_sink("s", 2).await;
    assert_eq!(sim.put("/connectors/s/stop", None).await.status, 204);
    assert_eq!(sim.get("/connectors/s").await.body["tasks"], json!([]));
    let status = sim.get("/connectors/s/status").await.body;
    assert_eq!(
        (
            status["connector"]["state"].as_str(),
            status["tasks"].clone()
        ),
        (Some("STOPPED"), json!([]))
    );
    sim.put("/connectors/s/resume", None).await;
    sim.get("/connectors").await;
    assert_eq!(sim.task_states("s").await, ["RUNNING", "RUNNING"]);
}

/// spec §9: delete is 204; the connector is gone at once; unknown is `Connector X not found`.
#[tokio::test]
async fn delete_is_204_and_unknown_is_404() {
    let sim = common::start_sync().await;
    sim.create_sink("s", 1).await;
    assert_eq!(sim.delete("/connectors/s").await.status, 204);
    assert_eq!(sim.get("/connectors/s").await.status, 404);
    let again = sim.delete("/connectors/s").await;
    assert_eq!(
        (again.status, again.message()),
        (404, "Connector s not found")
    );
}
