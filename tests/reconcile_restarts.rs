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
/// A declared secret, which Connect's answer to a recreate echoes in one test.
const CANARY: &str = "CANARY-recreate-pw";

fn manifests(dir: &std::path::Path) {
    let config = json!({"connector.class": SINK, "topics": "t", "file": "/tmp/x",
        "connection.password": CANARY});
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
    applied_with("0s,1h", &[]).await
}

/// [`applied`] with `--restart-backoff BACKOFF` and `extra` flags.
async fn applied_with(
    backoff: &str,
    extra: &[&str],
) -> (Running, tempfile::TempDir, reconciling::Reconciling) {
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
        backoff,
    ];
    let r = reconciling::start(&[&argv[..], extra].concat(), None).await;
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

/// `--restart-ladder recreate=1`: the failed connector is deleted and created again
/// from the config a create writes (owner and hand-over marker included), once.
#[tokio::test(flavor = "multi_thread")]
async fn the_ladder_can_end_in_a_recreate_from_the_declared_config() {
    let (sim, _dir, r) = applied_with("0s,1h", &["--restart-ladder", "recreate=1"]).await;
    common::control(&sim).clear_requests().await.unwrap();
    fail(&sim, "auto", "FAILED").await;
    let history = common::eventually("auto recreated", || async {
        let body: Value = serde_json::from_str(&r.get("/remediation").await.1).ok()?;
        let history = body["history"].as_array()?.clone();
        (!history.is_empty()).then_some(history)
    })
    .await;
    let steps: Vec<(&str, &str)> = history
        .iter()
        .map(|e| (e["step"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [("recreate", "accepted")], "{history:?}");
    let counts = common::control(&sim).requests().await.unwrap();
    let routes = &counts["by_route"];
    assert_eq!(routes["DELETE /connectors/{name}"], 1, "{counts}");
    assert_eq!(routes["PUT /connectors/{name}/config"], 1, "{counts}");
    assert_eq!(task_state(&sim, "auto").await, "RUNNING", "a new task");
    let config = common::config_of(&sim, "auto").await;
    assert_eq!(
        config["connect-sentinel.remediated-by"], "reconciler",
        "{config}"
    );
    assert!(config.get("connect-sentinel.owner").is_some(), "{config}");
    r.stop().await;
}

/// A recreate whose PUT Connect refuses, echoing the declared password: the outcome in
/// `/remediation` names the failure without the secret.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_recreate_is_reported_without_the_declared_secret() {
    let (sim, _dir, r) = applied_with("0s,1h", &["--restart-ladder", "recreate=1"]).await;
    let message = format!("Invalid value {CANARY} for configuration connection.password");
    let refusal = json!({"method": "PUT", "path_regex": "^/connectors/auto/config$", "status": 400,
        "body": {"error_code": 400, "message": message}});
    common::faults(&sim, refusal).await;
    fail(&sim, "auto", "FAILED").await;
    let body = common::eventually("the recreate's outcome", || async {
        let body = r.get("/remediation").await.1;
        body.contains("\"step\":\"recreate\"").then_some(body)
    })
    .await;
    assert!(!body.contains(CANARY), "{body}");
    assert!(body.contains("Invalid value"), "{body}");
    common::control(&sim).clear_faults().await.unwrap();
    r.stop().await;
}

/// `reconcile`'s status page: the last pass in the header, every declared connector,
/// and those with `autoRestart` (only those) with what their restarts did.
#[tokio::test(flavor = "multi_thread")]
async fn the_reconcilers_page_shows_the_pass_and_its_restarts() {
    let (sim, _dir, r) = applied().await;
    fail(&sim, "manual", "FAILED").await;
    fail(&sim, "auto", "FAILED").await;
    let page = common::eventually("auto on the page, restarted once", || async {
        let (code, page) = r.get("/ui").await;
        assert_eq!(code, 200, "{page}");
        (page.contains(r#"data-name="auto""#) && page.contains("1 action of at most 3"))
            .then_some(page)
    })
    .await;
    assert!(page.contains("Reconciler: "), "{page}");
    assert!(page.contains("2 declared"), "{page}");
    assert!(
        !page.contains(r#"data-name="manual" data-triage"#),
        "not the reconciler's to restart: {page}"
    );
    assert!(
        page.contains(r#"data-name="manual" data-fate="applied""#),
        "but declared: {page}"
    );
    assert!(!page.contains(CANARY), "{page}");
    r.stop().await;
}

/// Three more polls, and the receiver got nothing (`why`).
async fn quiet_for_three_polls(
    r: &reconciling::Reconciling,
    hook: &mut common::webhook::Receiver,
    why: &str,
) {
    let seq = r.restarts.borrow().seq;
    common::until(&r.restarts, "three more polls", |o| o.seq >= seq + 3).await;
    assert!(hook.bodies.try_recv().is_err(), "{why}");
}

/// `reconcile --webhook-url`: one message when a declared connector's ladder is
/// exhausted, one when it recovers, nothing in between.
#[tokio::test(flavor = "multi_thread")]
async fn the_reconciler_notifies_persistent_failure_and_recovery() {
    let mut hook = common::webhook::receiver(common::webhook::answering(&[])).await;
    let flags = ["--restart-ladder", "tasks=1", "--webhook-url", &hook.url];
    let (sim, _dir, r) = applied_with("0s", &flags).await;
    fail(&sim, "auto", "FAILED").await;
    let escalation = hook.next("escalation").await;
    assert_eq!(escalation["kind"], "persistent_failure", "{escalation}");
    assert_eq!(escalation["connector"], "auto", "{escalation}");
    quiet_for_three_polls(&r, &mut hook, "a steady state sends nothing").await;
    common::control(&sim)
        .task_state("auto", 0, &json!({"state": "RUNNING"}))
        .await
        .unwrap();
    let recovery = hook.next("recovery").await;
    assert_eq!(recovery["kind"], "recovery", "{recovery}");
    quiet_for_three_polls(&r, &mut hook, "nothing after the recovery").await;
    let (_, metrics) = r.get("/metrics").await;
    assert!(metrics.contains("notifications_total"), "{metrics}");
    r.stop().await;
}
