//! `connect-sentinel reconcile` as a process: it logs each change it makes, never the
//! `--vars` canary, exits 0 on SIGTERM, and refuses to start on a missing manifest.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

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
    let mut child = Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
        .args([
            "reconcile",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--log-format",
            "json",
        ])
        .args(["--log-level", "debug", "--connect-url", &sim.url()])
        .arg("-f")
        .arg(dir.path())
        .arg("--vars")
        .arg(vars.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let pid = child.id().to_string();
    let logs = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
        let mut seen: Vec<String> = lines
            .by_ref()
            .take_while(|l| !l.contains("pass applied"))
            .collect();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        seen.extend(lines);
        seen
    });
    let logs = tokio::time::timeout(std::time::Duration::from_secs(20), logs)
        .await
        .unwrap()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
    let text = logs.join("\n");
    assert!(
        text.contains(r#""message":"applied","connector":"files-sink","action":"created"#),
        "{text}"
    );
    assert!(!text.contains("CANARY"), "{text}");
}

/// A manifest path that does not exist stops start-up with an error naming it (not a
/// permission error from watching `/`).
#[test]
fn a_missing_manifest_fails_at_start_up_naming_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
        .args([
            "reconcile",
            "--port",
            "0",
            "--connect-url",
            "http://127.0.0.1:1",
        ])
        .args(["-f", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot watch /nonexistent: no such file or directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("/proc"), "{stderr}");
}
