//! Silent failures through `serve` (HTTP) and `status` (the binary) against
//! connect-sim: a RUNNING connector that lost its tasks, a FileStream source with
//! `tasks.max` 3 and one task (healthy unless told), a connector whose status never
//! appears, and the flags' validation. Grace periods are either long (nothing yet) or
//! zero (at once); every wait is on the published poll sequence or a metric.

mod common;

use common::{Served, run, serve};
use serde_json::{Value, json};

const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

/// The `connector_silent_failure` series of `connector` and `check`.
fn series(connector: &str, check: &str) -> String {
    format!(
        r#"connect_sentinel_connector_silent_failure{{connector="{connector}",check="{check}"}} 1"#
    )
}

/// The silent-failure checks `/connectors/{name}` lists.
async fn checks_of(served: &Served, name: &str) -> (u16, Vec<String>, Value) {
    let (code, body) = served.get(&format!("/connectors/{name}")).await;
    let checks = body["silent_failures"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let checks = checks
        .iter()
        .map(|f| f["check"].as_str().unwrap().to_string());
    (code, checks.collect(), body)
}

fn file_source(name: &str, extra: Value) -> Value {
    let mut config = json!({"connector.class": FILE_SOURCE, "tasks.max": "3",
        "file": "/tmp/in.txt", "topic": "lines", "connection.password": "CANARY-pw-77"});
    config
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"name": name, "config": config})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_connector_that_lost_its_tasks_is_reported_after_the_grace_period() {
    let sim = common::sim("3.9.0").await;
    common::seed(
        &sim,
        json!({"connectors": [common::connector("es", &["RUNNING", "RUNNING"])]}),
    )
    .await;
    let patient = serve(&sim, &["--grace-period", "1h"]).await;
    let quick = serve(&sim, &["--grace-period", "0s"]).await;
    let strict = serve(
        &sim,
        &["--grace-period", "0s", "--fail-on-silent", "no-tasks"],
    )
    .await;
    assert_eq!(checks_of(&quick, "es").await.1, Vec::<String>::new());
    common::control(&sim)
        .task_configs("es", Some(0))
        .await
        .unwrap();
    let metrics = common::metrics_when(&quick.url, &[&series("es", "no-tasks")]).await;
    assert!(
        metrics.contains(r#"connect_sentinel_silent_failures{check="no-tasks"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"connect_sentinel_connector_running_tasks{connector="es"} 0"#),
        "{metrics}"
    );
    let (code, checks, body) = checks_of(&quick, "es").await;
    assert_eq!(
        (code, checks),
        (200, vec!["no-tasks".to_string()]),
        "{body}"
    );
    assert_eq!(body["tasks_running"], 0, "{body}");
    assert_eq!(
        quick.get("/").await.0,
        200,
        "without the flag `/` is unchanged"
    );
    strict.fresh().await;
    let (code, root) = strict.get("/").await;
    assert_eq!(code, 503, "{root}");
    assert_eq!(
        root["failures"][0],
        json!({"type": "connector", "connector": "es",
        "state": "NO_TASKS", "worker_id": root["failures"][0]["worker_id"]}),
        "{root}"
    );
    assert_eq!(checks_of(&strict, "es").await.0, 503);
    patient.fresh().await;
    let (_, checks, _) = checks_of(&patient, "es").await;
    assert!(checks.is_empty(), "within the grace period: {checks:?}");
    let (_, text) = patient.get("/metrics").await;
    let text = text.as_str().unwrap().to_string();
    assert!(
        text.contains(r#"connect_sentinel_silent_failures{check="no-tasks"} 0"#),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_source_with_tasks_max_3_and_one_task_is_healthy_unless_told() {
    let sim = common::sim("3.9.0").await;
    let keyed = file_source("keyed", json!({"connect-sentinel.expected-tasks": "2"}));
    common::seed(
        &sim,
        json!({"connectors": [file_source("file", json!({})), keyed]}),
    )
    .await;
    let plain = serve(&sim, &["--grace-period", "0s", "--fail-on-silent", "all"]).await;
    let (code, checks, body) = checks_of(&plain, "file").await;
    assert_eq!((code, checks.len()), (200, 0), "{body}");
    assert_eq!(
        (
            body["tasks_running"].clone(),
            body["tasks_expected"].clone()
        ),
        (json!(1), Value::Null)
    );
    let (code, checks, body) = checks_of(&plain, "keyed").await;
    assert_eq!(
        (code, checks),
        (503, vec!["missing-tasks".to_string()]),
        "the key: {body}"
    );
    assert_eq!(body["tasks_expected"], 2, "{body}");
    let told = serve(
        &sim,
        &["--grace-period", "0s", "--expected-tasks", "tasks-max"],
    )
    .await;
    let (code, checks, body) = checks_of(&told, "file").await;
    assert_eq!(
        (code, checks),
        (200, vec!["missing-tasks".to_string()]),
        "{body}"
    );
    let metrics = common::metrics_when(&told.url, &[&series("file", "missing-tasks")]).await;
    assert!(
        metrics.contains(r#"connect_sentinel_connector_expected_tasks{connector="file"} 3"#),
        "{metrics}"
    );
    let off = serve(&sim, &["--grace-period", "0s", "--connector-info", "off"]).await;
    assert!(
        checks_of(&off, "keyed").await.1.is_empty(),
        "no info, no expected count"
    );
    let (_, text) = told.get("/metrics").await;
    let everything = format!("{text}{body}{}", plain.get("/").await.1);
    assert!(!everything.contains("CANARY"), "{everything}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connector_whose_status_never_appears_is_reported_and_fails_only_when_asked() {
    let sim = common::sim("3.9.0").await;
    let fresh = json!({"name": "fresh", "state": "NONE"});
    common::seed(
        &sim,
        json!({"connectors": [fresh, common::connector("ok", &["RUNNING"])]}),
    )
    .await;
    let quick = serve(&sim, &["--grace-period", "0s"]).await;
    common::metrics_when(&quick.url, &[&series("fresh", "no-status")]).await;
    assert_eq!(quick.get("/").await.0, 200);
    let strict = serve(
        &sim,
        &[
            "--grace-period",
            "0s",
            "--fail-on-silent",
            "no-status,stuck",
        ],
    )
    .await;
    let (code, root) = strict.get("/").await;
    assert_eq!(
        (code, root["failures"][0]["state"].as_str()),
        (503, Some("NO_STATUS")),
        "{root}"
    );
}

fn status_argv(sim: &connect_sim::Running, extra: &[&str]) -> Vec<String> {
    let url = sim.url();
    let mut argv = vec!["status", "--connect-url", &url];
    argv.extend(extra);
    argv.into_iter().map(String::from).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn status_shows_silent_failures_in_the_table_and_json() {
    let sim = common::sim("3.9.0").await;
    let lost = json!({"name": "lost", "tasks": []});
    common::seed(
        &sim,
        json!({"connectors": [lost, file_source("file", json!({}))]}),
    )
    .await;
    let out = run(status_argv(&sim, &["-o", "json"])).await;
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["connector"], "file");
    assert_eq!(rows[0]["silent_failures"], json!([]), "{rows}");
    assert_eq!(rows[1]["silent_failures"], json!(["no-tasks"]), "{rows}");
    let out = run(status_argv(&sim, &["--expected-tasks", "tasks-max"])).await;
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        table.contains("SILENT") && table.contains("missing-tasks"),
        "{table}"
    );
    assert!(table.contains("1/1 (3 expected)"), "{table}");
    assert!(!table.contains("CANARY"), "{table}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_silent_flags_are_refused_naming_the_flag() {
    let sim = common::sim("3.9.0").await;
    let url = sim.url();
    let serve = |flags: &[&str]| {
        let mut argv = vec!["serve", "--port", "0", "--connect-url", &url];
        argv.extend(flags);
        argv.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let out = run(serve(&["--fail-on-silent", "no-tasks,bogus"])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("invalid --fail-on-silent: unknown check \"bogus\""),
        "{err}"
    );
    let out = run(serve(&[
        "--expected-tasks",
        "tasks-max",
        "--connector-info",
        "off",
    ]))
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid --expected-tasks"), "{err}");
    let env = [("HEALTHCHECK_FAIL_ON_SILENT", "nope")];
    let out = common::run_env(serve(&[]), &env).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fail-on-silent"));
}

/// A FileStreamSource manifest with `expectedTasks`.
fn declared(expected: &str) -> String {
    format!(
        "name: src\nexpectedTasks: {expected}\nconfig:\n  connector.class: FileStreamSource\n  \
         file: /tmp/in.txt\n  topic: lines\n  tasks.max: 3\n"
    )
}

/// `expectedTasks` in a manifest is written as `connect-sentinel.expected-tasks`, shown
/// by diff and apply, and read by `serve`; a bad value names the file and connector.
#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_states_the_expected_task_count() {
    use common::declaring::{Manifests, assert_exit, config, run_text};
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    m.set("src.yaml", &declared("2"));
    let (code, out, err) = run_text("apply", &sim, &["-f", m.dir()]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        config(&sim, "src").await["connect-sentinel.expected-tasks"],
        "2"
    );
    let served = serve(&sim, &["--grace-period", "0s"]).await;
    assert_eq!(checks_of(&served, "src").await.1, ["missing-tasks"]);
    m.set("src.yaml", &declared("1"));
    let (code, out, _) = run_text("diff", &sim, &["-f", m.dir()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("connect-sentinel.expected-tasks"), "{out}");
    assert_exit(
        &common::declaring::run("apply", &sim, &["-f", m.dir()]).await,
        0,
    );
    served.fresh().await;
    served.fresh().await;
    assert!(checks_of(&served, "src").await.1.is_empty());
    m.set("src.yaml", &declared("-1"));
    let (code, _, err) = run_text("diff", &sim, &["-f", m.dir()]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("src.yaml") && err.contains("expectedTasks must be a whole number"),
        "{err}"
    );
}

/// `--expected-tasks previous`: a connector that ran three tasks and now runs one is
/// missing two, until its config changes.
#[tokio::test(flavor = "multi_thread")]
async fn previous_expects_the_most_tasks_run_since_the_config_changed() {
    let sim = common::sim("3.9.0").await;
    let sink = "org.apache.kafka.connect.file.FileStreamSinkConnector";
    let three = json!({"name": "sink3", "config": {"connector.class": sink, "tasks.max": "3",
        "topics": "t", "file": "/tmp/silent-sink.txt"}});
    common::seed(&sim, json!({"connectors": [three]})).await;
    let served = serve(
        &sim,
        &["--grace-period", "0s", "--expected-tasks", "previous"],
    )
    .await;
    assert!(checks_of(&served, "sink3").await.1.is_empty());
    common::control(&sim)
        .task_configs("sink3", Some(1))
        .await
        .unwrap();
    common::metrics_when(&served.url, &[&series("sink3", "missing-tasks")]).await;
    let (_, _, body) = checks_of(&served, "sink3").await;
    assert_eq!(
        (
            body["tasks_running"].clone(),
            body["tasks_expected"].clone()
        ),
        (json!(1), json!(3)),
        "{body}"
    );
    let url = format!("{}/connectors/sink3/config", sim.url());
    let mut config = common::config_of(&sim, "sink3").await;
    config["topics"] = json!("t,u");
    let answer = common::http().put(url).json(&config).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
    let fresh = || async {
        let (_, checks, _) = checks_of(&served, "sink3").await;
        checks.is_empty().then_some(())
    };
    common::eventually("a new config starts over", fresh).await;
}
