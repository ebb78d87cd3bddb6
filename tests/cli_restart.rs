//! `restart` and `status --sentinel-url` through the real binary against connect-sim:
//! by name, by regex, only failed instances, one task, the pre-3.0 fallback, and the
//! exit codes (0 done, 1 Connect refused some, 2 bad input or unreachable).

mod common;

use common::{argv, run, text};
use connect_sim::Running;
use serde_json::{Value, json};

async fn cluster(version: &str) -> Running {
    let sim = common::sim(version).await;
    common::seed(
        &sim,
        json!({"connectors": [
            common::connector("orders-sink", &["RUNNING", "FAILED"]),
            common::connector("orders-source", &["RUNNING"]),
            common::connector("audit", &["FAILED"]),
        ]}),
    )
    .await;
    common::take_requests(&sim).await;
    sim
}

async fn task_states(sim: &Running, name: &str) -> Vec<String> {
    let status = common::client(sim).status(name).await.unwrap().unwrap();
    status.tasks.into_iter().map(|t| t.state.into()).collect()
}

/// `--failed` restarts only the failed task (KIP-745, spec §8) and says which.
#[tokio::test(flavor = "multi_thread")]
async fn restart_failed_by_regex() {
    let sim = cluster("3.9.0").await;
    let out = run(argv("restart", &sim, &["--regex", "^orders-", "--failed"])).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "orders-sink: restarting tasks 1\norders-source: nothing failed, nothing restarted\n"
    );
    assert_eq!(
        task_states(&sim, "orders-sink").await,
        ["RUNNING", "RUNNING"]
    );
    assert_eq!(task_states(&sim, "audit").await, ["FAILED"], "not matched");
}

/// One task by id; the connector alone by default; `--tasks` restarts everything.
#[tokio::test(flavor = "multi_thread")]
async fn restart_one_task_the_connector_or_all() {
    let sim = cluster("3.9.0").await;
    let out = run(argv("restart", &sim, &["audit", "--task", "0"])).await;
    assert_eq!(text(&out).0, "audit: restarted task 0\n");
    assert_eq!(task_states(&sim, "audit").await, ["RUNNING"]);
    let out = run(argv("restart", &sim, &["orders-source"])).await;
    assert_eq!(text(&out).0, "orders-source: restarted the connector\n");
    let out = run(argv("restart", &sim, &["orders-source", "--tasks"])).await;
    assert_eq!(
        text(&out).0,
        "orders-source: restarting the connector and tasks 0\n"
    );
}

/// Before 3.0 the connector is restarted (204) and its failed tasks one by one.
#[tokio::test(flavor = "multi_thread")]
async fn restart_failed_before_3_0() {
    let sim = cluster("2.8.2").await;
    let out = run(argv("restart", &sim, &["orders-sink", "--failed"])).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("orders-sink: restarted the connector and tasks [1]"),
        "{stdout}"
    );
    assert_eq!(
        task_states(&sim, "orders-sink").await,
        ["RUNNING", "RUNNING"]
    );
    let by_route = common::take_requests(&sim).await["by_route"].clone();
    assert_eq!(
        by_route["POST /connectors/{name}/tasks/{id}/restart"], 1,
        "{by_route}"
    );
}

/// Unknown connector: 1 with Connect's reason (the others still restarted); bad input
/// or Connect unreachable: 2.
#[tokio::test(flavor = "multi_thread")]
async fn restart_exit_codes() {
    let sim = cluster("3.9.0").await;
    let out = run(argv("restart", &sim, &["nope", "audit", "--failed"])).await;
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("nope: failed: Connect answered POST /connectors/nope/restart"),
        "{stdout}"
    );
    assert!(stdout.contains("audit: restarting tasks 0"), "{stdout}");
    for bad in [
        vec![],
        vec!["--regex", "("],
        vec!["--regex", "zzz"],
        vec!["a", "b", "--task", "1"],
    ] {
        let out = run(argv("restart", &sim, &bad)).await;
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {:?}", text(&out));
        let (stdout, stderr) = text(&out);
        assert!(stdout.is_empty(), "{bad:?}: {stdout}");
        assert!(
            stderr.starts_with("connect-sentinel: error: "),
            "{bad:?}: {stderr}"
        );
    }
    let out = run(vec![
        "restart".into(),
        "a".into(),
        "--connect-url".into(),
        "http://127.0.0.1:1".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("unreachable"), "{:?}", text(&out));
}

/// `status -o json --sentinel-url` joins a running serve's remediation state.
#[tokio::test(flavor = "multi_thread")]
async fn status_shows_remediation_state() {
    let sim = common::sim("3.9.0").await;
    let sticky = json!({"state": "FAILED", "trace": "boom", "restart_outcome": "FAILED"});
    common::seed(&sim, json!({"connectors": [{"name": "jdbc", "tasks": [sticky]}, common::connector("ok", &["RUNNING"])]})).await;
    let served = common::serve(&sim, &["--auto-restart", "--restart-backoff", "0s,1h"]).await;
    common::until(&served.state.observed, "a restart outcome", |o| {
        o.remediation.iter().any(|e| e.last_outcome.is_some())
    })
    .await;
    let out = run(argv(
        "status",
        &sim,
        &["-o", "json", "--sentinel-url", &served.url],
    ))
    .await;
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["connector"], "jdbc");
    assert_eq!(rows[0]["remediation"]["attempts"], 1);
    assert_eq!(rows[0]["remediation"]["phase"], "remediating");
    assert!(rows[1].get("remediation").is_none());
    let table = run(argv("status", &sim, &["--sentinel-url", &served.url])).await;
    assert!(
        text(&table).0.contains("1 (remediating)"),
        "{:?}",
        text(&table)
    );
}
