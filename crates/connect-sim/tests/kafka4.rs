//! Kafka 4.x behaviour (spec §21), each confirmed on a real 4.3.1 worker first: the
//! `version` of status entries and KIP-891 plugin versions (4.1), 400 for an unknown
//! class (4.1), `order_in_group` (4.2), and the `tasks-config` path gone (4.0).

mod common;

use serde_json::{Value, json};

const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

fn sink(extra: Value) -> Value {
    let mut config = json!({"connector.class": SINK, "tasks.max": "1", "topics": "t"});
    config
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    config
}

/// spec §21: statuses carry the plugin version from 4.1, not before.
#[tokio::test]
async fn status_entries_carry_the_plugin_version_from_4_1() {
    for (version, shown) in [
        ("4.0.0", None),
        ("4.1.0", Some("4.1.0")),
        ("4.3.1", Some("4.3.1")),
    ] {
        let sim = common::start_version(version).await;
        assert_eq!(
            sim.put("/connectors/a/config", Some(sink(json!({}))))
                .await
                .status,
            201
        );
        let status = sim.get("/connectors/a/status").await.body;
        let want = shown.map_or(Value::Null, |v| json!(v));
        assert_eq!(
            status["connector"]
                .get("version")
                .cloned()
                .unwrap_or(Value::Null),
            want,
            "{version}: {status}"
        );
        assert_eq!(
            status["tasks"][0]
                .get("version")
                .cloned()
                .unwrap_or(Value::Null),
            want,
            "{version}: {status}"
        );
        let task = sim.get("/connectors/a/tasks/0/status").await.body;
        assert_eq!(
            task.get("version").cloned().unwrap_or(Value::Null),
            want,
            "{version}: {task}"
        );
        let restarted = sim
            .post("/connectors/a/restart?includeTasks=true", None)
            .await;
        assert_eq!(
            restarted.body["connector"]
                .get("version")
                .cloned()
                .unwrap_or(Value::Null),
            want
        );
        // A seeded connector of a plugin without a version shows none.
        sim.seed(json!({"connectors": [{"name": "b", "config": {"connector.class": "io.confluent.connect.s3.S3SinkConnector", "topics": "t"}}]})).await;
        let keys: Vec<String> = sim.get("/connectors/b/status").await.body["connector"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert!(
            keys.starts_with(&["state".to_string(), "worker_id".to_string()]),
            "{keys:?}"
        );
    }
}

/// spec §21: an unknown class is a 500 before 4.1; from 4.1 a 400, PUT prefixing the
/// exception class; validate stays a 500 with one more wrapper.
#[tokio::test]
async fn unknown_class_is_400_from_4_1() {
    let bad = json!({"connector.class": "NoSuchConnector"});
    for (version, status) in [("4.0.0", 500), ("4.1.0", 400)] {
        let sim = common::start_version(version).await;
        let post = sim
            .post("/connectors", Some(json!({"name": "a", "config": bad})))
            .await;
        assert_eq!(post.status, status, "{version}");
        assert!(
            post.message().starts_with("Failed to find any class"),
            "{}",
            post.message()
        );
        let put = sim.put("/connectors/a/config", Some(bad.clone())).await;
        assert_eq!(put.status, status, "{version}");
        let validate = sim
            .put(
                "/connector-plugins/NoSuchConnector/config/validate",
                Some(bad.clone()),
            )
            .await;
        assert_eq!(validate.status, 500);
        if status == 400 {
            assert!(
                put.message()
                    .starts_with("org.apache.kafka.connect.errors.ConnectException: Failed")
            );
            assert!(validate.message().starts_with("org.apache.kafka.connect.runtime.rest.errors.BadRequestException: org.apache.kafka.connect.errors.ConnectException: Failed"));
        } else {
            assert!(put.message().starts_with("Failed to find any class"));
            assert!(
                validate
                    .message()
                    .starts_with("org.apache.kafka.connect.errors.ConnectException: Failed")
            );
        }
    }
}

/// KIP-891: `?version=` on plugin config and `connector.plugin.version` on create.
#[tokio::test]
async fn plugin_versions_are_checked_from_4_1() {
    let sim = common::start_version("4.3.1").await;
    let path = "/connector-plugins/FileStreamSinkConnector/config";
    let defs = sim.get(&format!("{path}?version=4.3.1")).await;
    assert_eq!(defs.status, 200);
    let pinned: Vec<&Value> = defs
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["name"] == "connector.plugin.version")
        .collect();
    assert_eq!(pinned.len(), 1);
    assert_eq!(pinned[0]["default_value"], "4.3.1");
    let missing = sim.get(&format!("{path}?version=9.9")).await;
    assert_eq!(
        (missing.status, missing.message()),
        (
            400,
            "Plugin org.apache.kafka.connect.file.FileStreamSinkConnector not found that matches the version range [9.9,9.9], available versions: [4.3.1]"
        )
    );
    let bad = sim.get(&format!("{path}?version=%5Bbad")).await;
    assert_eq!(
        (bad.status, bad.message()),
        (400, "Invalid version specification: [bad")
    );
    let create = sim
        .put(
            "/connectors/a/config",
            Some(sink(json!({"connector.plugin.version": "9.9"}))),
        )
        .await;
    assert_eq!(create.status, 400);
    assert!(
        create
            .message()
            .contains("contains the following 2 error(s)"),
        "{}",
        create.message()
    );
    let validate = sim
        .put(
            "/connector-plugins/FileStreamSinkConnector/config/validate",
            Some(sink(
                json!({"connector.plugin.version": "9.9", "name": "v"}),
            )),
        )
        .await;
    // The class and the version key both carry the error (real 4.3.1's first answer).
    assert_eq!(validate.status, 200);
    assert_eq!(validate.body["error_count"], 2, "{:?}", validate.body);
    let ok = sim
        .put(
            "/connectors/a/config",
            Some(sink(json!({"connector.plugin.version": "[4.0,5.0)"}))),
        )
        .await;
    assert_eq!(ok.status, 201, "{ok:?}");
    // 3.9 has no such key: the value is stored without any check.
    let old = common::start_version("3.9.1").await;
    let defs = old.get(path).await.body;
    assert!(!defs.to_string().contains("connector.plugin.version"));
    assert_eq!(
        old.put(
            "/connectors/a/config",
            Some(sink(json!({"connector.plugin.version": "9.9"})))
        )
        .await
        .status,
        201
    );
}

/// spec §21: `order` becomes `order_in_group` (right after `group`) in 4.2.
#[tokio::test]
async fn config_key_info_renames_order_in_4_2() {
    for (version, key) in [("4.1.0", "order"), ("4.2.0", "order_in_group")] {
        let sim = common::start_version(version).await;
        let defs = sim
            .get("/connector-plugins/FileStreamSinkConnector/config")
            .await
            .body;
        assert_eq!(defs[0]["name"], "file", "the plugin's own keys come first");
        let keys: Vec<&String> = defs[1].as_object().unwrap().keys().collect();
        let at = keys
            .iter()
            .position(|k| *k == key)
            .unwrap_or_else(|| panic!("{version}: {keys:?}"));
        if key == "order_in_group" {
            assert_eq!(keys[at - 1], "group");
            assert!(!keys.iter().any(|k| *k == "order"));
        }
    }
}

/// spec §21: the tasks-config path is gone in 4.0 (Jersey's 404).
#[tokio::test]
async fn tasks_config_is_gone_in_4_0() {
    let sim = common::start_version("4.0.0").await;
    assert_eq!(
        sim.put("/connectors/a/config", Some(sink(json!({}))))
            .await
            .status,
        201
    );
    let answer = sim.get("/connectors/a/tasks-config").await;
    assert_eq!(
        (answer.status, answer.message()),
        (404, "HTTP 404 Not Found")
    );
}
