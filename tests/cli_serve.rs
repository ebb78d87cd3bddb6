//! `connect-sentinel serve` as a process: JSON logs, a canary password that appears in
//! no log line, response or metric, and a clean exit on SIGTERM.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
};

use connect_sim::SimConfig;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn canary_never_leaks_and_sigterm_stops_cleanly() {
    let canary = "CANARY-7f3a:s3cret";
    let auth = Some(("admin".to_string(), "the-real-one".to_string()));
    let sim = common::sim_with(SimConfig {
        basic_auth: auth,
        ..SimConfig::synchronous()
    })
    .await;
    common::seed(
        &sim,
        json!({"connectors": [common::connector("a", &["FAILED"])]}),
    )
    .await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--poll-interval",
            "50ms",
            "--log-level",
            "debug",
            "--log-format",
            "json",
        ])
        .args([
            "--connect-url",
            &sim.url(),
            "--basic-auth",
            &format!("admin:{canary}"),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| drop(tx.send(l)));
    });
    let mut logs = Vec::new();
    let mut addr = None;
    for line in rx.iter() {
        let event: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        addr = addr.or_else(|| event["addr"].as_str().map(String::from));
        let failed = event["message"] == "poll failed";
        logs.push(line);
        if failed {
            break;
        }
    }
    let base = format!("http://{}", addr.expect("the address is logged"));
    let mut seen = String::new();
    for path in ["/", "/readyz", "/metrics", "/connectors/a"] {
        seen += &common::http()
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    assert!(seen.contains("refused the credentials"), "{seen}");
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    reader.join().unwrap();
    logs.extend(rx.try_iter());
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
    let everything = format!("{seen}\n{}", logs.join("\n"));
    assert!(
        !everything.contains("CANARY") && !everything.contains("s3cret"),
        "{everything}"
    );
    assert!(logs.iter().any(|l| l.contains("shutting down")), "{logs:?}");
}

/// A worker id that matches no connector or task is warned about at start-up.
#[tokio::test(flavor = "multi_thread")]
async fn unmatched_worker_id_is_warned_about() {
    let sim = common::sim("3.9.0").await;
    common::seed(
        &sim,
        json!({"connectors": [common::connector("a", &["RUNNING"])]}),
    )
    .await;
    let mut child = serve_json(&sim.url(), &["--connect-worker-id", "nobody.example:8083"]);
    let stderr = child.stderr.take().unwrap();
    let warned = tokio::task::spawn_blocking(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .take(20)
            .any(|l| l.contains("matches no connector or task"))
    });
    let found = tokio::time::timeout(std::time::Duration::from_secs(10), warned).await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        matches!(found, Ok(Ok(true))),
        "no warning logged: {found:?}"
    );
}

/// `serve` with JSON logs on 127.0.0.1:0, stderr piped.
fn serve_json(url: &str, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--poll-interval",
            "50ms",
        ])
        .args(["--log-format", "json", "--connect-url", url])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every auto-restart is logged once: connector, tasks, attempt, next attempt, cause.
#[tokio::test(flavor = "multi_thread")]
async fn each_restart_is_logged() {
    let sim = common::sim("3.9.0").await;
    let task = json!({"state": "FAILED", "trace": "java.net.ConnectException: refused\n\tat x", "restart_outcome": "FAILED"});
    common::seed(
        &sim,
        json!({"connectors": [{"name": "jdbc", "tasks": [task]}]}),
    )
    .await;
    let mut child = serve_json(&sim.url(), &["--auto-restart"]);
    let stderr = child.stderr.take().unwrap();
    let logged = tokio::task::spawn_blocking(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .take(50)
            .find(|l| l.contains("restarted"))
    });
    let found = tokio::time::timeout(std::time::Duration::from_secs(10), logged).await;
    let _ = child.kill();
    let _ = child.wait();
    let line = found.expect("in time").unwrap().expect("a restart line");
    let event: Value = serde_json::from_str(&line).unwrap();
    let fields = &event;
    assert_eq!(fields["connector"], "jdbc", "{line}");
    assert_eq!(fields["tasks"], "[0]", "{line}");
    assert_eq!(fields["attempt"], 1, "{line}");
    assert_eq!(fields["next_attempt_in"], "2m", "{line}");
    assert_eq!(
        fields["cause"], "java.net.ConnectException: refused",
        "{line}"
    );
}
