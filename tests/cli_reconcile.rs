//! `connect-sentinel reconcile` as a process: it logs each change it makes, never the
//! `--vars` canary, exits 0 on SIGTERM, and refuses to start on a missing manifest.

mod common;

use common::process::{Spawned, Stream, bin};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn logs_changes_without_secrets_and_stops_on_sigterm() {
    let sim = common::sim("3.9.0").await;
    let (dir, vars) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(vars.path().join("password"), "CANARY-l0g-7777\n").unwrap();
    let manifest = json!({"name": "files-sink", "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "orders", "file": "/tmp/x", "connection.password": "{{ vars.password }}"}});
    std::fs::write(dir.path().join("sink.json"), manifest.to_string()).unwrap();
    let mut command = bin();
    command
        .args(["reconcile", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--log-format", "json", "--log-level", "debug"])
        .args(["--connect-url", &sim.url()])
        .arg("-f")
        .arg(dir.path())
        .arg("--vars")
        .arg(vars.path());
    let mut child = Spawned::spawn(command, Stream::Stderr);
    child
        .line("the `pass applied` log line", |l| {
            l.contains("pass applied")
        })
        .await;
    child.terminate();
    let status = child.exit("SIGTERM").await;
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
    let logs = &child.seen;
    let text = logs.join("\n");
    assert!(
        text.contains(r#""message":"applied","connector":"files-sink","action":"created"#),
        "{text}"
    );
    assert!(!text.contains("CANARY"), "{text}");
}

/// A manifest path that does not exist stops start-up with an error naming it (not a
/// permission error from watching `/`).
#[tokio::test]
async fn a_missing_manifest_fails_at_start_up_naming_it() {
    let args = [
        "reconcile",
        "--port",
        "0",
        "--connect-url",
        "http://127.0.0.1:1",
    ];
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.extend(["-f".into(), "/nonexistent".into()]);
    let output = common::run(args).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot watch /nonexistent: no such file or directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("/proc"), "{stderr}");
}

/// Manifest warnings (a Strimzi `spec.config` key Strimzi ignores) are logged once, not
/// again on every resync while the manifests stay the same.
#[tokio::test(flavor = "multi_thread")]
async fn manifest_warnings_are_logged_once() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = "apiVersion: kafka.strimzi.io/v1\nkind: KafkaConnector\nmetadata: {name: audit}\nspec:\n  class: org.apache.kafka.connect.file.FileStreamSinkConnector\n  config: {tasks.max: 1, topics: audit, file: /tmp/audit.log}\n";
    std::fs::write(dir.path().join("audit.yaml"), manifest).unwrap();
    let seen = three_passes(&sim, dir.path()).await;
    let warnings: Vec<&String> = seen
        .iter()
        .filter(|l| l.contains("manifest warning"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("audit.yaml") && warnings[0].contains("tasks.max"),
        "{}",
        warnings[0]
    );
}

/// A disabled ConfigMap naming a connector we do not own: the note that it is left
/// alone is logged once, not on every resync.
#[tokio::test(flavor = "multi_thread")]
async fn notes_on_connectors_left_alone_are_logged_once() {
    let sim = common::sim("3.9.0").await;
    common::seed(
        &sim,
        serde_json::json!({"connectors": [{"name": "handmade"}]}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = concat!(
        "apiVersion: v1\nkind: ConfigMap\n",
        "metadata: {name: handmade, labels: {destination: connect, enabled: \"false\"}}\n",
        "data:\n  handmade.json: '{\"name\": \"handmade\", \"config\": ",
        "{\"connector.class\": \"FileStreamSink\", \"topics\": \"t\", \"file\": \"/tmp/h\"}}'\n",
    );
    std::fs::write(dir.path().join("handmade.yaml"), manifest).unwrap();
    let seen = three_passes(&sim, dir.path()).await;
    let notes: Vec<&String> = seen.iter().filter(|l| l.contains("left alone")).collect();
    assert_eq!(notes.len(), 1, "{seen:?}");
    assert!(notes[0].contains("handmade"), "{}", notes[0]);
}

/// What `reconcile -f dir` logs (JSON, debug) until three passes after the first were
/// in sync.
async fn three_passes(sim: &connect_sim::Running, dir: &std::path::Path) -> Vec<String> {
    let mut command = bin();
    command
        .args(["reconcile", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--log-format", "json", "--log-level", "debug"])
        .args(["--interval", "20ms", "--connect-url", &sim.url()])
        .arg("-f")
        .arg(dir);
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let mut in_sync = 0;
    child
        .line("three passes in sync after the first", |l| {
            in_sync += usize::from(l.contains("in sync"));
            in_sync == 3
        })
        .await;
    child.terminate();
    child.exit("SIGTERM").await;
    child.seen
}
