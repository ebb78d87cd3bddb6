//! Plugin listing, config validation and validation on create over real HTTP
//! (spec §12, §14, §3).

mod common;

use serde_json::{Value, json};

const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const VALIDATE_HINT: &str = "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";

/// The `type` values of a plugin list.
fn types(list: &Value) -> Vec<String> {
    let entries = list.as_array().expect("a plugin array");
    entries
        .iter()
        .map(|p| p["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The entry of `class` in a plugin list.
fn entry<'a>(list: &'a Value, class: &str) -> &'a Value {
    let entries = list.as_array().expect("a plugin array");
    entries
        .iter()
        .find(|p| p["class"] == class)
        .unwrap_or_else(|| panic!("{class} missing"))
}

/// Every error string of a validate body, in order.
fn all_errors(body: &Value) -> Vec<String> {
    let configs = body["configs"].as_array().expect("configs");
    let errors = configs
        .iter()
        .flat_map(|c| c["value"]["errors"].as_array().cloned().unwrap_or_default());
    errors
        .map(|e| e.as_str().unwrap_or_default().to_string())
        .collect()
}

/// The `value.value` of `key` in a validate body.
fn shown(body: &Value, key: &str) -> Value {
    let configs = body["configs"].as_array().expect("configs");
    let config = configs.iter().find(|c| c["value"]["name"] == key);
    config.unwrap_or_else(|| panic!("{key} missing"))["value"]["value"].clone()
}

// ---------------------------------------------------------------------------------------
// §12 GET /connector-plugins
// ---------------------------------------------------------------------------------------

/// spec §12: the default (`connectorsOnly=true`) lists only source and sink connectors.
#[tokio::test]
async fn plugin_list_defaults_to_connectors_only() {
    let sim = common::start_sync().await;
    let list = sim.get("/connector-plugins").await;
    assert_eq!(list.status, 200);
    let kinds = types(&list.body);
    assert!(!kinds.is_empty());
    assert!(
        kinds.iter().all(|t| t == "source" || t == "sink"),
        "{kinds:?}"
    );
    assert_eq!(
        entry(&list.body, FILE_SINK),
        &json!({"class": FILE_SINK, "type": "sink", "version": "3.9.0"})
    );
}

/// spec §12: `connectorsOnly=false` adds converters, header converters, transformations and
/// predicates.
#[tokio::test]
async fn connectors_only_false_lists_every_plugin_kind() {
    let sim = common::start_sync().await;
    let list = sim.get("/connector-plugins?connectorsOnly=false").await;
    assert_eq!(list.status, 200);
    let kinds = types(&list.body);
    for kind in [
        "source",
        "sink",
        "converter",
        "header_converter",
        "transformation",
        "predicate",
    ] {
        assert!(
            kinds.iter().any(|t| t == kind),
            "{kind} missing from {kinds:?}"
        );
    }
    let json_converter = entry(&list.body, "org.apache.kafka.connect.json.JsonConverter");
    assert_eq!(json_converter["type"], "converter");
}

/// spec §12 + §0.1: `connectorsOnly` is parsed with `Boolean.valueOf`, so any value other
/// than a case-insensitive `true` (here `no`) means false and lists every plugin.
#[tokio::test]
async fn connectors_only_with_a_non_boolean_value_counts_as_false() {
    let sim = common::start_sync().await;
    let list = sim.get("/connector-plugins?connectorsOnly=no").await;
    assert_eq!(list.status, 200);
    assert!(
        types(&list.body).iter().any(|t| t == "converter"),
        "{:?}",
        list.body
    );
}

/// spec §12: `version` is omitted for a plugin that reports none (AvroConverter here).
#[tokio::test]
async fn plugin_version_is_omitted_when_undefined() {
    let sim = common::start_sync().await;
    let list = sim.get("/connector-plugins?connectorsOnly=false").await;
    assert_eq!(list.status, 200);
    let avro = entry(&list.body, "io.confluent.connect.avro.AvroConverter");
    assert_eq!(
        avro,
        &json!({"class": "io.confluent.connect.avro.AvroConverter", "type": "converter"})
    );
}

/// spec §12: `GET /connector-plugins/{p}/config` lists the plugin's definitions, found by
/// full class name or by alias.
#[tokio::test]
async fn plugin_config_lists_the_plugin_definitions() {
    let sim = common::start_sync().await;
    for plugin in [FILE_SINK, "FileStreamSink"] {
        let defs = sim
            .get(&format!("/connector-plugins/{plugin}/config"))
            .await;
        assert_eq!(defs.status, 200, "{plugin}");
        let file = defs
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "file")
            .cloned();
        let file =
            file.unwrap_or_else(|| panic!("no `file` definition for {plugin}: {:?}", defs.body));
        assert_eq!(file["type"], "STRING");
        assert_eq!(file["importance"], "HIGH");
    }
}

/// spec §12: an unknown plugin is 404 `Unknown plugin X.` (with the trailing period).
#[tokio::test]
async fn plugin_config_of_an_unknown_plugin_is_404() {
    let sim = common::start_sync().await;
    let answer = sim.get("/connector-plugins/com.example.Nope/config").await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.body,
        json!({"error_code": 404, "message": "Unknown plugin com.example.Nope."})
    );
}

// ---------------------------------------------------------------------------------------
// §14 PUT /connector-plugins/{plugin}/config/validate
// ---------------------------------------------------------------------------------------

/// spec §14: errors still answer 200; `name` is the body's class as sent and `error_count`
/// is the number of error strings.
#[tokio::test]
async fn validate_answers_200_with_errors_counted() {
    let sim = common::start_sync().await;
    let body = json!({"connector.class": "FileStreamSink", "tasks.max": "x"});
    let answer = sim
        .put(
            "/connector-plugins/FileStreamSinkConnector/config/validate",
            Some(body),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["name"], "FileStreamSink");
    let errors = all_errors(&answer.body);
    assert!(errors.len() >= 2, "{errors:?}");
    assert_eq!(answer.body["error_count"], json!(errors.len()));
    assert!(
        errors.contains(
            &"Invalid value x for configuration tasks.max: Not a number of type INT".into()
        )
    );
}

/// spec §14: a valid config has `error_count` 0 and no error strings.
#[tokio::test]
async fn validate_of_a_valid_config_has_no_errors() {
    let sim = common::start_sync().await;
    let body = json!({"connector.class": FILE_SINK, "name": "a", "topics": "orders"});
    let answer = sim
        .put(
            "/connector-plugins/FileStreamSinkConnector/config/validate",
            Some(body),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["error_count"], 0);
    assert_eq!(all_errors(&answer.body), Vec::<String>::new());
    assert_eq!(shown(&answer.body, "topics"), "orders");
}

/// spec §14: a missing required key reads `Missing required configuration "X" which has no
/// default value.`
#[tokio::test]
async fn validate_reports_missing_required_keys() {
    let sim = common::start_sync().await;
    let body = json!({"connector.class": "JdbcSinkConnector", "topics": "orders"});
    let answer = sim
        .put(
            "/connector-plugins/JdbcSinkConnector/config/validate",
            Some(body),
        )
        .await;
    assert_eq!(answer.status, 200);
    let errors = all_errors(&answer.body);
    for key in ["name", "connection.url"] {
        let wanted =
            format!("Missing required configuration \"{key}\" which has no default value.");
        assert!(errors.contains(&wanted), "{wanted} not in {errors:?}");
    }
    assert_eq!(answer.body["error_count"], json!(errors.len()));
}

/// spec §14: PASSWORD values are shown as `[hidden]`; the secret appears nowhere.
#[tokio::test]
async fn validate_hides_password_values() {
    let sim = common::start_sync().await;
    let body = json!({
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "name": "a", "topics": "t",
        "connection.url": "jdbc:postgresql://db/x", "connection.password": "s3cret",
    });
    let answer = sim
        .put(
            "/connector-plugins/JdbcSinkConnector/config/validate",
            Some(body),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(shown(&answer.body, "connection.password"), "[hidden]");
    assert_eq!(
        shown(&answer.body, "connection.url"),
        "jdbc:postgresql://db/x"
    );
    assert!(!answer.body.to_string().contains("s3cret"));
}

/// spec §14: the path may be an alias without the `Connector` suffix.
#[tokio::test]
async fn validate_accepts_an_alias_path() {
    let sim = common::start_sync().await;
    let body = json!({"connector.class": FILE_SINK, "name": "a", "topics": "orders"});
    let answer = sim
        .put(
            "/connector-plugins/FileStreamSink/config/validate",
            Some(body),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["name"], FILE_SINK);
    assert_eq!(answer.body["error_count"], 0);
}

/// spec §14: a body class that does not end with the path name is 400.
#[tokio::test]
async fn validate_rejects_a_path_body_class_mismatch() {
    let sim = common::start_sync().await;
    let body = json!({"connector.class": "FileStreamSink", "name": "a", "topics": "orders"});
    let answer = sim
        .put(
            "/connector-plugins/JdbcSinkConnector/config/validate",
            Some(body),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.message(),
        "Included connector type FileStreamSink does not match request type JdbcSinkConnector"
    );
    assert_eq!(answer.body["error_code"], 400);
}

/// spec §14: a body without `connector.class` is a 500 carrying the wrapped
/// BadRequestException text (it is not filled in from the path).
#[tokio::test]
async fn validate_without_connector_class_is_a_wrapped_500() {
    let sim = common::start_sync().await;
    let answer = sim
        .put(
            "/connector-plugins/FileStreamSink/config/validate",
            Some(json!({"name": "a"})),
        )
        .await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.message(),
        "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Connector config {name=a} contains no connector type"
    );
}

/// spec §14: an unknown connector class is a 500.
#[tokio::test]
async fn validate_of_an_unknown_class_is_500() {
    let sim = common::start_sync().await;
    let body = json!({"connector.class": "com.example.NopeConnector", "name": "a"});
    let answer = sim
        .put(
            "/connector-plugins/com.example.NopeConnector/config/validate",
            Some(body),
        )
        .await;
    assert_eq!(answer.status, 500);
    assert!(
        answer
            .message()
            .contains("Failed to find any class that implements Connector and which name matches com.example.NopeConnector"),
        "{}",
        answer.message()
    );
}

// ---------------------------------------------------------------------------------------
// §3 validation on POST /connectors
// ---------------------------------------------------------------------------------------

/// spec §3 step 2: config errors are 400 with the exact multi-line message, ending with the
/// literal backticked endpoint line. A `tasks.max` that is no number also fails its range
/// check as null (seen on real Kafka 3.9.1 and 4.3.1: two errors, not one).
#[tokio::test]
async fn create_with_an_invalid_config_is_400_with_the_error_list() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "FileStreamSink", "topics": "orders", "tasks.max": "x"});
    let answer = sim
        .post("/connectors", Some(json!({"name": "a", "config": config})))
        .await;
    assert_eq!(answer.status, 400);
    let expected = format!(
        "Connector configuration is invalid and contains the following 2 error(s):\n\
         Invalid value x for configuration tasks.max: Not a number of type INT\n\
         Invalid value null for configuration tasks.max: Value must be non-null{VALIDATE_HINT}"
    );
    assert_eq!(answer.body, json!({"error_code": 400, "message": expected}));
    assert_eq!(sim.get("/connectors").await.body, json!([]));
}

/// spec §3 step 2: `N` counts every error string, and each one gets its own line.
#[tokio::test]
async fn create_error_message_counts_every_error() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "JdbcSinkConnector", "tasks.max": "x", "topics": "t"});
    let answer = sim
        .post("/connectors", Some(json!({"name": "a", "config": config})))
        .await;
    assert_eq!(answer.status, 400);
    let message = answer.message();
    assert!(message.starts_with(
        "Connector configuration is invalid and contains the following 3 error(s):\n"
    ));
    assert!(
        message
            .contains("\nInvalid value x for configuration tasks.max: Not a number of type INT\n")
    );
    assert!(message.contains(
        "\nMissing required configuration \"connection.url\" which has no default value.\n"
    ));
    assert!(message.ends_with(VALIDATE_HINT), "{message}");
    assert_eq!(message.lines().count(), 5, "{message}");
}

/// spec §3 step 3 + §20.1: no `connector.class` is 400 `… contains no connector type`,
/// echoing the whole config, secrets included.
#[tokio::test]
async fn create_without_connector_class_is_400_and_echoes_the_config() {
    let sim = common::start_sync().await;
    let config = json!({"topics": "orders", "connection.password": "s3cret"});
    let answer = sim
        .post("/connectors", Some(json!({"name": "a", "config": config})))
        .await;
    assert_eq!(answer.status, 400);
    let message = answer.message();
    assert!(message.starts_with("Connector config {"), "{message}");
    assert!(
        message.ends_with("} contains no connector type"),
        "{message}"
    );
    for pair in ["topics=orders", "connection.password=s3cret", "name=a"] {
        assert!(message.contains(pair), "{pair} not echoed in {message}");
    }
}

/// spec §3 step 4: an unknown class is 500, not 400, naming the available connectors.
#[tokio::test]
async fn create_with_an_unknown_class_is_500() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "com.example.NopeConnector"});
    let answer = sim
        .post("/connectors", Some(json!({"name": "a", "config": config})))
        .await;
    assert_eq!(answer.status, 500);
    let prefix = "Failed to find any class that implements Connector and which name matches com.example.NopeConnector, available connectors are: PluginDesc{";
    assert!(answer.message().starts_with(prefix), "{}", answer.message());
    assert!(answer.message().contains(FILE_SINK));
}

/// spec §3 step 6: validation runs before the existence check: an invalid body for an
/// existing name is 400; a valid one is 409.
#[tokio::test]
async fn validation_runs_before_the_409_existence_check() {
    let sim = common::start_sync().await;
    assert_eq!(sim.create_sink("dup", 1).await.status, 201);
    let invalid =
        json!({"connector.class": "FileStreamSink", "topics": "orders", "tasks.max": "0"});
    let answer = sim
        .post(
            "/connectors",
            Some(json!({"name": "dup", "config": invalid})),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer
            .message()
            .starts_with("Connector configuration is invalid"),
        "{}",
        answer.message()
    );
    let again = sim.create_sink("dup", 1).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.message(), "Connector dup already exists");
}

/// spec §3: a config `name` different from the top-level name is 400.
#[tokio::test]
async fn create_with_a_mismatched_config_name_is_400() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "FileStreamSink", "topics": "orders", "name": "b"});
    let answer = sim
        .post("/connectors", Some(json!({"name": "a", "config": config})))
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.message(),
        "Connector name configuration (b) doesn't match connector name in the URL (a)"
    );
}

/// spec §3 + §0.5: the top-level name is trimmed before the mismatch check and storage.
#[tokio::test]
async fn create_trims_the_name() {
    let sim = common::start_sync().await;
    let config = json!({"connector.class": "FileStreamSink", "topics": "orders", "name": "a"});
    let answer = sim
        .post(
            "/connectors",
            Some(json!({"name": "  a\t", "config": config})),
        )
        .await;
    assert_eq!(answer.status, 201);
    assert_eq!(answer.body["name"], "a");
    assert_eq!(sim.get("/connectors/a/config").await.body["name"], "a");
}

/// spec §0.5 + §3: an empty name (also blank once trimmed, or `null`) fails validation with
/// the double space of the empty value.
#[tokio::test]
async fn create_with_an_empty_name_is_400_with_a_double_space() {
    let sim = common::start_sync().await;
    for name in [json!(""), json!("   "), Value::Null] {
        let config = json!({"connector.class": "FileStreamSink", "topics": "orders"});
        let answer = sim
            .post("/connectors", Some(json!({"name": name, "config": config})))
            .await;
        assert_eq!(answer.status, 400, "{name:?}");
        let expected = format!(
            "Connector configuration is invalid and contains the following 1 error(s):\n\
             Invalid value  for configuration name: String may not be empty{VALIDATE_HINT}"
        );
        assert_eq!(answer.message(), expected, "{name:?}");
    }
}
