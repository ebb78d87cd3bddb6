//! `reconcile` restarts the declared connectors whose manifest enables `autoRestart`
//! (Strimzi's `spec.autoRestart`, or ours), and only those, against connect-sim. Waits
//! are on published observations, never on the clock.

mod common;

use common::reconciling;
use connect_sim::{Running, SimConfig};
use serde_json::{Value, json};

const TRACE: &str =
    "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment";
const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

fn manifests(dir: &std::path::Path) {
    let config = json!({"connector.class": SINK, "topics": "t", "file": "/tmp/x"});
    let auto = json!({"name": "auto", "config": config, "autoRestart": {"maxRestarts": 3}});
    let manual = json!({"name": "manual", "config": config});
    std::fs::write(dir.join("auto.json"), auto.to_string()).unwrap();
    std::fs::write(dir.join("manual.json"), manual.to_string()).unwrap();
}

async fn fail(sim: &Running, name: &str, after_restart: &str) {
    let body = json!({"state": "FAILED", "trace": TRACE, "restart_outcome": after_restart});
    common::control(sim)
        .task_state(name, 0, &body)
        .await
        .unwrap();
}

async fn task_state(sim: &Running, name: &str) -> Value {
    let status = common::get_json(&format!("{}/connectors/{name}/status", sim.url())).await;
    status["tasks"][0]["state"].clone()
}

/// connect-sim, the two manifests, and `reconcile` over them (checking every 20 ms,
/// restarting at once and then after an hour) once its first pass applied them.
async fn applied() -> (Running, tempfile::TempDir, reconciling::Reconciling) {
    let sim = common::sim_with(SimConfig::synchronous()).await;
    let dir = tempfile::tempdir().unwrap();
    manifests(dir.path());
    let url = sim.url();
    let dir_arg = dir.path().to_str().unwrap();
    let argv = [
        "--connect-url",
        &url,
        "-f",
        dir_arg,
        "--restart-check-interval",
        "20ms",
        "--restart-backoff",
        "0s,1h",
    ];
    let r = reconciling::start(&argv, None).await;
    r.until("applied", |s| reconciling::outcome(s) == "applied")
        .await;
    (sim, dir, r)
}

#[tokio::test(flavor = "multi_thread")]
async fn only_connectors_with_auto_restart_are_restarted() {
    let (sim, _dir, r) = applied().await;
    let config = common::config_of(&sim, "auto").await;
    assert_eq!(
        config["connect-sentinel.remediated-by"], "reconciler",
        "{config}"
    );
    assert!(
        common::config_of(&sim, "manual")
            .await
            .get("connect-sentinel.remediated-by")
            .is_none()
    );
    fail(&sim, "manual", "RUNNING").await;
    fail(&sim, "auto", "FAILED").await;
    let first = common::until(&r.restarts, "auto restarted once", |o| {
        o.remediation
            .iter()
            .any(|e| e.connector == "auto" && e.attempts == 1 && e.last_outcome.is_some())
    })
    .await;
    assert!(
        first.remediation.iter().all(|e| e.connector == "auto"),
        "{:?}",
        first.remediation
    );
    let seq = r.restarts.borrow().seq;
    common::until(&r.restarts, "three more polls", |o| o.seq >= seq + 3).await;
    assert_eq!(
        task_state(&sim, "manual").await,
        "FAILED",
        "manual is the sidecars' to restart"
    );
    assert_eq!(task_state(&sim, "auto").await, "FAILED", "sticky");
    let (code, body) = r.get("/remediation").await;
    assert_eq!(code, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["connectors"][0]["connector"], "auto", "{body}");
    assert_eq!(
        body["connectors"][0]["attempts"], 1,
        "the next is an hour away: {body}"
    );
    let (_, metrics) = r.get("/metrics").await;
    assert!(
        metrics
            .contains(r#"connect_sentinel_restarts_total{connector="auto",outcome="accepted"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("connect_sentinel_reconcile_passes_total"),
        "{metrics}"
    );
    assert_eq!(metrics.matches("# EOF").count(), 1, "{metrics}");
    r.stop().await;
}

/// The split: with a `serve --auto-restart` sidecar beside the reconciler, the sidecar
/// restarts the connector without `autoRestart` and never the one the reconciler owns;
/// the reconciler restarts that one, once.
#[tokio::test(flavor = "multi_thread")]
async fn the_reconciler_and_a_sidecar_never_restart_the_same_connector() {
    let (sim, _dir, r) = applied().await;
    let sidecar = common::serve(&sim, &["--auto-restart", "--restart-backoff", "0s,1h"]).await;
    fail(&sim, "manual", "RUNNING").await;
    fail(&sim, "auto", "FAILED").await;
    common::until(&r.restarts, "the reconciler restarted auto", |o| {
        o.remediation
            .iter()
            .any(|e| e.connector == "auto" && e.last_outcome.is_some())
    })
    .await;
    common::until(
        &sidecar.state.observed,
        "the sidecar restarted manual",
        |o| {
            o.remediation
                .iter()
                .any(|e| e.connector == "manual" && e.last_outcome.is_some())
        },
    )
    .await;
    let seq = sidecar.state.observed.borrow().seq;
    common::until(&sidecar.state.observed, "three more polls", |o| {
        o.seq >= seq + 3
    })
    .await;
    let seen = sidecar.state.observed.borrow().clone();
    assert!(
        seen.remediation.iter().all(|e| e.connector != "auto"),
        "{:?}",
        seen.remediation
    );
    assert_eq!(task_state(&sim, "manual").await, "RUNNING");
    let metrics = sidecar.get("/metrics").await.1;
    let text = metrics.as_str().unwrap();
    assert!(
        !text.contains(r#"restarts_total{connector="auto""#),
        "{text}"
    );
    r.stop().await;
}
