//! `connect-sentinel demo` through the real binary: it prints the URLs, the health
//! server answers, the flaky task fails and auto-restart brings it back, and `--duration`
//! stops it.
#![cfg(feature = "demo")]

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
};

/// The demo starts, serves, flips the flaky task, and stops by itself.
#[tokio::test(flavor = "multi_thread")]
async fn demo_runs_and_stops_by_itself() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
        .args([
            "demo",
            "--port",
            "0",
            "--sim-port",
            "0",
            "--reconcile-port",
            "0",
            "--fail-every",
            "2s",
            "--duration",
            "7s",
            "--log-level",
            "warning",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| drop(tx.send(l)))
    });
    let lines: Vec<String> = rx.iter().take_while(|l| !l.starts_with("Task ")).collect();
    let health = lines
        .iter()
        .find_map(|l| l.strip_prefix("Health server:"))
        .unwrap()
        .trim()
        .to_string();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("s3-archive-sink") && l.contains("1/2")),
        "{lines:?}"
    );
    let reconciler = lines
        .iter()
        .find_map(|l| l.strip_prefix("Reconciler:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let mut passes = 0;
    for _ in 0..100 {
        let status: serde_json::Value = common::http()
            .get(&reconciler)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(status["last"]["outcome"], "invalid", "{status}");
        passes = status["passes"].as_u64().unwrap();
        if passes > 0 {
            assert_eq!(status["last"]["outcome"], "applied", "{status}");
            assert_eq!(status["declared"], 4, "{status}");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(passes, 1, "the first reconcile pass");
    let ping = common::http()
        .get(format!("{health}/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    let metrics = common::http()
        .get(format!("{health}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("connect_sentinel_task_state"), "{metrics}");
    let mut flips = Vec::new();
    for line in rx.iter() {
        flips.push(line);
        if flips.iter().any(|l| l.contains("FAILED"))
            && flips.iter().any(|l| l.contains("recovered after"))
        {
            break;
        }
    }
    assert!(
        flips
            .iter()
            .any(|l| l.contains("recovered after 1 restart")),
        "{flips:?}"
    );
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
}
