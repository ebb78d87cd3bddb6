//! Version gating (spec §19) and the global transport and error conventions (spec §0.1,
//! §0.2) over real HTTP.

mod common;

use common::Answer;
use reqwest::header;
use serde_json::{Value, json};

const STALE_CONFIG: &str = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)";
const REBALANCE_EXPECTED: &str = "Request cannot be completed because a rebalance is expected";

/// Jersey's 404 for a path the version does not have (spec §0.1).
fn assert_no_route(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 404, "{what}: {answer:?}");
    assert_eq!(
        answer.body,
        json!({"error_code": 404, "message": "HTTP 404 Not Found"}),
        "{what}"
    );
}

/// Jersey's 405 for a known path with a method the version does not have (spec §0.1).
fn assert_no_method(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 405, "{what}: {answer:?}");
    assert_eq!(
        answer.body,
        json!({"error_code": 405, "message": "HTTP 405 Method Not Allowed"}),
        "{what}"
    );
}

/// A simulator for `version` with one RUNNING source connector `a` (one task).
async fn with_connector(version: &str) -> common::TestSim {
    let sim = common::start_version(version).await;
    sim.seed(json!({"connectors": [{"name": "a"}]})).await;
    sim
}

// ---------------------------------------------------------------------------------------
// §19 version gates
// ---------------------------------------------------------------------------------------

/// spec §5.3 + §19: `PATCH …/config` is 405 on 3.7.
#[tokio::test]
async fn patch_config_is_405_before_3_8() {
    let sim = with_connector("3.7.1").await;
    assert_no_method(
        &sim.patch("/connectors/a/config", json!({"tasks.max": "2"}))
            .await,
        "PATCH config",
    );
    assert_eq!(sim.get("/connectors/a/config").await.body["tasks.max"], "1");
}

/// spec §5.3 + §19: `PATCH …/config` works on 3.8.
#[tokio::test]
async fn patch_config_works_on_3_8() {
    let sim = common::start_version("3.8.0").await;
    assert_eq!(sim.create_sink("a", 1).await.status, 201);
    let patched = sim
        .patch("/connectors/a/config", json!({"tasks.max": "3"}))
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["config"]["tasks.max"], "3");
    assert_eq!(patched.body["config"]["topics"], "orders");
}

/// spec §16 + §19: `GET /health` is Jersey's 404 on 3.8 and 200 on 3.9.
#[tokio::test]
async fn health_is_404_before_3_9() {
    let old = common::start_version("3.8.0").await;
    assert_no_route(&old.get("/health").await, "3.8 /health");
    let new = common::start_version("3.9.0").await;
    let health = new.get("/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "healthy");
}

/// spec §9 + §10 + §19: `PUT …/stop` and `GET …/offsets` are 404 before 3.5.
#[tokio::test]
async fn stop_and_offsets_are_404_before_3_5() {
    let sim = with_connector("3.4.0").await;
    assert_no_route(&sim.put("/connectors/a/stop", None).await, "3.4 stop");
    assert_no_route(&sim.get("/connectors/a/offsets").await, "3.4 offsets");
    assert_eq!(sim.connector_state("a").await, "RUNNING");
}

/// spec §10 + §19: on 3.5 offsets can be read, but PATCH and DELETE are 405.
#[tokio::test]
async fn offsets_patch_and_delete_are_405_on_3_5() {
    let sim = with_connector("3.5.0").await;
    assert_eq!(sim.get("/connectors/a/offsets").await.status, 200);
    assert_eq!(sim.put("/connectors/a/stop", None).await.status, 204);
    let offsets = json!({"offsets": [{"partition": {"source": "a"}, "offset": {"position": 1}}]});
    assert_no_method(
        &sim.patch("/connectors/a/offsets", offsets).await,
        "3.5 PATCH offsets",
    );
    assert_no_method(
        &sim.delete("/connectors/a/offsets").await,
        "3.5 DELETE offsets",
    );
}

/// spec §3 + §0.2 + §19: `initial_state` is an unknown field before 3.7: 500.
#[tokio::test]
async fn initial_state_is_an_unrecognized_field_before_3_7() {
    let sim = common::start_version("3.6.2").await;
    let config = json!({"connector.class": "FileStreamSink", "topics": "orders"});
    let body = json!({"name": "a", "config": config, "initial_state": "PAUSED"});
    let answer = sim.post("/connectors", Some(body)).await;
    assert_eq!(answer.status, 500);
    assert!(
        answer
            .message()
            .starts_with("Unrecognized field \"initial_state\""),
        "{}",
        answer.message()
    );
    assert_eq!(sim.get("/connectors").await.body, json!([]));
}

/// spec §3 + §4 + §17: on 3.7, `initial_state` PAUSED or STOPPED (any case) starts the
/// connector in that state, with no tasks.
#[tokio::test]
async fn initial_state_paused_or_stopped_works_on_3_7() {
    let sim = common::start_version("3.7.0").await;
    for (name, initial, state) in [("p", "PAUSED", "PAUSED"), ("s", "stopped", "STOPPED")] {
        let config =
            json!({"connector.class": "FileStreamSink", "topics": "orders", "tasks.max": "2"});
        let body = json!({"name": name, "config": config, "initial_state": initial});
        let created = sim.post("/connectors", Some(body)).await;
        assert_eq!(created.status, 201, "{initial}: {created:?}");
        assert_eq!(created.body["tasks"], json!([]));
        assert_eq!(sim.connector_state(name).await, state, "{initial}");
        let info = sim.get(&format!("/connectors/{name}")).await;
        assert_eq!(
            (info.status, &info.body["tasks"]),
            (200, &json!([])),
            "{initial}"
        );
        assert_eq!(
            sim.task_states(name).await,
            Vec::<String>::new(),
            "{initial}"
        );
    }
}

/// spec §3: an `initial_state` that is not RUNNING/PAUSED/STOPPED fails Jackson: 500.
#[tokio::test]
async fn unknown_initial_state_is_500_on_3_7() {
    let sim = common::start_version("3.7.0").await;
    let config = json!({"connector.class": "FileStreamSink", "topics": "orders"});
    let answer = sim
        .post(
            "/connectors",
            Some(json!({"name": "a", "config": config, "initial_state": "BOGUS"})),
        )
        .await;
    assert_eq!(answer.status, 500);
    assert!(
        answer.message().starts_with("Cannot deserialize value"),
        "{}",
        answer.message()
    );
}

/// spec §2.2 + §19: `expand` is ignored before 2.3 (plain array), honoured from 2.3.
#[tokio::test]
async fn expand_is_ignored_before_2_3() {
    let old = with_connector("2.2.0").await;
    let list = old.get("/connectors?expand=status").await;
    assert_eq!((list.status, &list.body), (200, &json!(["a"])));
    let new = with_connector("2.3.0").await;
    let expanded = new.get("/connectors?expand=status").await;
    assert_eq!(expanded.status, 200);
    assert_eq!(
        expanded.body["a"]["status"]["connector"]["state"],
        "RUNNING"
    );
}

/// spec §8 + §19: restart flags are ignored before 3.0: always the 204 connector-only
/// restart, where 3.0 answers 202 with a body.
#[tokio::test]
async fn restart_flags_are_ignored_before_3_0() {
    let old = with_connector("2.8.2").await;
    let restart = old
        .post(
            "/connectors/a/restart?includeTasks=true&onlyFailed=false",
            None,
        )
        .await;
    assert_eq!((restart.status, &restart.body), (204, &Value::Null));
    let new = with_connector("3.0.0").await;
    let restart = new
        .post(
            "/connectors/a/restart?includeTasks=true&onlyFailed=false",
            None,
        )
        .await;
    assert_eq!(restart.status, 202);
    assert_eq!(restart.body["tasks"][0]["state"], "RESTARTING");
}

/// spec §11 + §19: the topics endpoints are 404 before 2.5.
#[tokio::test]
async fn topics_are_404_before_2_5() {
    let sim = with_connector("2.4.1").await;
    assert_no_route(&sim.get("/connectors/a/topics").await, "2.4 topics");
    assert_no_route(
        &sim.put("/connectors/a/topics/reset", None).await,
        "2.4 topics reset",
    );
    let newer = with_connector("2.5.0").await;
    assert_eq!(newer.get("/connectors/a/topics").await.status, 200);
}

/// spec §7.2 + §19: `tasks-config` exists on 2.8 through 3.9.
#[tokio::test]
async fn tasks_config_exists_from_2_8_to_3_9() {
    for version in ["2.8.0", "3.9.0"] {
        let sim = with_connector(version).await;
        let answer = sim.get("/connectors/a/tasks-config").await;
        assert_eq!(answer.status, 200, "{version}");
        let keys: Vec<&String> = answer.body.as_object().expect("a map").keys().collect();
        assert_eq!(keys, ["a-0"], "{version}");
        assert!(answer.body["a-0"]["task.class"].is_string(), "{version}");
    }
}

/// spec §7.2 + §19: `tasks-config` is 404 before 2.8 and on 4.0.
#[tokio::test]
async fn tasks_config_is_absent_before_2_8_and_on_4_0() {
    for version in ["2.7.0", "4.0.0"] {
        let sim = with_connector(version).await;
        assert_no_route(&sim.get("/connectors/a/tasks-config").await, version);
    }
}

/// spec §12 + §19: `GET /connector-plugins/{p}/config` is 404 before 3.2.
#[tokio::test]
async fn plugin_config_is_404_before_3_2() {
    let old = common::start_version("3.1.0").await;
    assert_no_route(
        &old.get("/connector-plugins/FileStreamSink/config").await,
        "3.1 plugin config",
    );
    let new = common::start_version("3.2.0").await;
    let defs = new.get("/connector-plugins/FileStreamSink/config").await;
    assert_eq!(defs.status, 200);
    assert!(defs.body.is_array());
}

/// spec §12 + §19: `connectorsOnly=false` is ignored before 3.2.
#[tokio::test]
async fn connectors_only_false_is_ignored_before_3_2() {
    let sim = common::start_version("3.1.0").await;
    let list = sim.get("/connector-plugins?connectorsOnly=false").await;
    assert_eq!(list.status, 200);
    let entries = list.body.as_array().expect("a plugin array");
    assert!(!entries.is_empty());
    assert!(
        entries
            .iter()
            .all(|p| p["type"] == "source" || p["type"] == "sink"),
        "{entries:?}"
    );
}

/// spec §1 + §19: `kafka_cluster_id` is absent before 1.1.
#[tokio::test]
async fn kafka_cluster_id_is_absent_before_1_1() {
    let old = common::start_version("1.0.0").await;
    let root = old.get("/").await;
    assert_eq!(root.status, 200);
    let keys: Vec<&String> = root.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["version", "commit"]);
    assert_eq!(root.body["version"], "1.0.0");
    let new = common::start_version("1.1.0").await;
    assert!(new.get("/").await.body["kafka_cluster_id"].is_string());
}

/// spec §4 + §6 + §19: `type` is absent from info and status before 1.0.
#[tokio::test]
async fn type_is_absent_before_1_0() {
    let old = with_connector("0.11.0").await;
    let info = old.get("/connectors/a").await;
    assert_eq!(info.status, 200);
    assert!(info.body.get("type").is_none(), "{:?}", info.body);
    let status = old.get("/connectors/a/status").await;
    assert_eq!(status.status, 200);
    assert!(status.body.get("type").is_none(), "{:?}", status.body);
    let new = with_connector("1.0.0").await;
    assert_eq!(new.get("/connectors/a").await.body["type"], "source");
}

/// spec §4 + §18 + §19: during a pending rebalance, queued GETs are 500 on 3.5+.
#[tokio::test]
async fn rebalance_window_gets_are_500_from_3_5() {
    let sim = with_connector("3.5.0").await;
    sim.faults(json!({"rebalancing": true})).await;
    for path in [
        "/connectors/a",
        "/connectors/a/config",
        "/connectors/a/tasks",
        "/connectors/a/tasks-config",
    ] {
        let answer = sim.get(path).await;
        assert_eq!(answer.status, 500, "{path}");
        assert_eq!(
            answer.body,
            json!({"error_code": 500, "message": REBALANCE_EXPECTED}),
            "{path}"
        );
    }
    assert_eq!(
        sim.get("/connectors/a/status").await.status,
        200,
        "status is never queued"
    );
}

/// spec §4 + §18 + §19: before 3.5 the same GETs are 409 stale configuration.
#[tokio::test]
async fn rebalance_window_gets_are_409_before_3_5() {
    let sim = with_connector("3.4.0").await;
    sim.faults(json!({"rebalancing": true})).await;
    for path in [
        "/connectors/a",
        "/connectors/a/config",
        "/connectors/a/tasks",
        "/connectors/a/tasks-config",
    ] {
        let answer = sim.get(path).await;
        assert_eq!(answer.status, 409, "{path}");
        assert_eq!(
            answer.body,
            json!({"error_code": 409, "message": STALE_CONFIG}),
            "{path}"
        );
    }
    assert_eq!(
        sim.get("/connectors").await.body,
        json!(["a"]),
        "the list is never queued"
    );
}

// ---------------------------------------------------------------------------------------
// §0.1 / §0.2 transport and error conventions
// ---------------------------------------------------------------------------------------

/// spec §0.1: unknown paths are 404 with the JSON error body.
#[tokio::test]
async fn unknown_paths_are_404_with_a_json_body() {
    let sim = with_connector("3.9.0").await;
    for path in ["/nope", "/connectors/a/nope", "/connector-plugins/x/y/z"] {
        let answer = sim.get(path).await;
        assert_no_route(&answer, path);
        assert!(
            answer.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
}

/// spec §0.1: a form-encoded body is Jersey's 415.
#[tokio::test]
async fn form_encoded_body_is_415() {
    let sim = common::start_sync().await;
    let request = sim
        .client
        .post(sim.url("/connectors"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let answer = common::TestSim::answer(request.body("name=a").send().await.unwrap()).await;
    assert_eq!(answer.status, 415);
    assert_eq!(
        answer.body,
        json!({"error_code": 415, "message": "HTTP 415 Unsupported Media Type"})
    );
    assert_eq!(sim.get("/connectors").await.body, json!([]));
}

/// spec §0.2: malformed JSON is a 500 (Jackson), not a 400.
#[tokio::test]
async fn malformed_json_is_500_not_400() {
    let sim = common::start_sync().await;
    let request = sim
        .client
        .post(sim.url("/connectors"))
        .header(header::CONTENT_TYPE, "application/json");
    let answer = common::TestSim::answer(request.body("{name: 'a'").send().await.unwrap()).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.body["error_code"], 500);
    assert!(
        answer.message().starts_with("Unexpected"),
        "{}",
        answer.message()
    );
}

/// spec §0.2 + §5.2: a config value that is a JSON object or array is a 500.
#[tokio::test]
async fn object_config_values_are_500() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "FileStreamSink", "topics": {"a": 1}});
    let post = sim
        .post("/connectors", Some(json!({"name": "a", "config": config})))
        .await;
    assert_eq!(post.status, 500);
    let from_object = "Cannot deserialize value of type `java.lang.String` from Object value";
    assert!(
        post.message().starts_with(from_object),
        "{}",
        post.message()
    );
    let envelope =
        json!({"name": "a", "config": {"connector.class": "FileStreamSink", "topics": "orders"}});
    let put = sim.put("/connectors/a/config", Some(envelope)).await;
    assert_eq!(put.status, 500);
    assert!(put.message().starts_with(from_object), "{}", put.message());
    let array = json!({"connector.class": "FileStreamSink", "topics": ["orders"]});
    let put = sim.put("/connectors/a/config", Some(array)).await;
    assert_eq!(put.status, 500);
    assert!(
        put.message()
            .starts_with("Cannot deserialize value of type `java.lang.String` from Array value")
    );
}

/// spec §0.2 + §20.1: numbers and booleans are stored as strings.
#[tokio::test]
async fn numbers_and_booleans_are_stored_as_strings() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "FileStreamSink", "topics": "orders", "tasks.max": 2, "errors.log.enable": true});
    assert_eq!(
        sim.post("/connectors", Some(json!({"name": "a", "config": config})))
            .await
            .status,
        201
    );
    let stored = sim.get("/connectors/a/config").await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.body["tasks.max"], "2");
    assert_eq!(stored.body["errors.log.enable"], "true");
}

/// spec §7.3: a non-integer task id is Jersey's plain 404.
#[tokio::test]
async fn non_integer_task_id_is_404() {
    let sim = with_connector("3.9.0").await;
    assert_no_route(
        &sim.get("/connectors/a/tasks/abc/status").await,
        "tasks/abc/status",
    );
    assert_eq!(sim.get("/connectors/a/tasks/0/status").await.status, 200);
}
