//! `serve --auto-restart` against connect-sim: restarts through the REST API (spec §7.4,
//! §8), the schedule's maximum, escalation of `/`, worker-scoped sidecars, the pre-3.0
//! fallback and 409 retries. Waits are on published polls, never on the clock.

mod common;

use common::Served;
use connect_sentinel::{health::Observed, remediate::Phase};
use connect_sim::{Running, SimConfig};
use serde_json::{Value, json};

const TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: connection refused\n\tat Foo.bar(Foo.java:1)";

/// Waits (bounded, generously) until a published observation satisfies `f`.
async fn until(served: &Served, what: &str, f: impl Fn(&Observed) -> bool) {
    common::until(&served.state.observed, what, |o| f(o)).await;
}

fn attempts(o: &Observed, connector: &str) -> u32 {
    o.remediation
        .iter()
        .find(|e| e.connector == connector)
        .map_or(0, |e| e.attempts)
}

fn task(state: &str, worker: &str, outcome: &str) -> Value {
    json!({"state": state, "worker_id": worker, "trace": TRACE, "restart_outcome": outcome})
}

async fn seeded(version: &str, connectors: Value) -> Running {
    let sim = common::sim_with(SimConfig {
        version: version.parse().unwrap(),
        ..SimConfig::synchronous()
    })
    .await;
    common::seed(&sim, json!({ "connectors": connectors })).await;
    common::take_requests(&sim).await;
    sim
}

/// A 3.9 cluster with one connector whose one task FAILED, restarting to `outcome`.
async fn one_failed(name: &str, outcome: &str) -> Running {
    let tasks = [task("FAILED", "connect-0:8083", outcome)];
    seeded("3.9.0", json!([{ "name": name, "tasks": tasks }])).await
}

/// Waits until the first connector under remediation has recovered and the outcome of
/// its restart call has come back (the two may be published in either order).
async fn recovered(served: &Served) {
    until(served, "recovered, outcome known", |o| {
        o.remediation
            .first()
            .is_some_and(|e| e.phase == Phase::Recovered && e.last_outcome.is_some())
    })
    .await;
}

async fn routes(sim: &Running) -> Value {
    common::take_requests(sim).await["by_route"].clone()
}

/// A task whose restart fixes it is restarted once (KIP-745 call) and `/` is healthy.
#[tokio::test]
async fn a_restart_that_helps_happens_once() {
    let sim = one_failed("s3-sink", "RUNNING").await;
    let served = common::serve(&sim, &["--auto-restart"]).await;
    recovered(&served).await;
    until(&served, "healthy", |o| {
        o.verdict.as_ref().is_some_and(|v| v.healthy)
    })
    .await;
    served.fresh().await;
    let by_route = routes(&sim).await;
    assert_eq!(by_route["POST /connectors/{name}/restart"], 1, "{by_route}");
    assert!(
        by_route
            .get("POST /connectors/{name}/tasks/{id}/restart")
            .is_none()
    );
    let (code, body) = served.get("/").await;
    assert_eq!((code, body["healthy"].clone()), (200, json!(true)));
    let metrics = served.get("/metrics").await.1;
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains(
            r#"connect_sentinel_restarts_total{connector="s3-sink",outcome="accepted"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("connect_sentinel_remediating_connectors 0"),
        "recovered: {text}"
    );
}

/// A sticky failure is held while fewer than --escalate-after-restarts restarts have
/// been tried (`/` 200, the failure listed, the attempts shown), then turns `/` 503, and
/// restarts stop at --max-restarts (then it is persistent: nothing more to try).
#[tokio::test]
async fn a_sticky_failure_escalates_and_stops_at_max_restarts() {
    let sim = one_failed("jdbc", "FAILED").await;
    let flags = [
        "--auto-restart",
        "--restart-backoff",
        "0s",
        "--max-restarts",
        "3",
        "--escalate-after-restarts",
        "2",
    ];
    let served = common::serve(&sim, &flags).await;
    until(&served, "3 attempts", |o| attempts(o, "jdbc") == 3).await;
    for _ in 0..5 {
        served.fresh().await;
    }
    assert_eq!(
        routes(&sim).await["POST /connectors/{name}/restart"],
        3,
        "max 3"
    );
    let (code, body) = served.get("/").await;
    assert_eq!(code, 503, "{body}");
    let entry = &body["remediation"][0];
    assert_eq!(
        (entry["phase"].as_str(), entry["attempts"].as_u64()),
        (Some("persistent"), Some(3))
    );
    assert_eq!(entry["attempts_before_escalation"], 0);
    let metrics = served.get("/metrics").await.1;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("connect_sentinel_escalated_connectors 1"),
        "{metrics}"
    );
    let remediation = served.get("/remediation").await.1;
    assert_eq!(remediation["connectors"][0]["connector"], "jdbc");
}

/// Before the escalation point the failure is reported, `/` stays 200.
#[tokio::test]
async fn failures_being_restarted_keep_the_pod_healthy() {
    let sim = one_failed("jdbc", "FAILED").await;
    let flags = [
        "--auto-restart",
        "--restart-backoff",
        "0s,1h",
        "--escalate-after-restarts",
        "2",
    ];
    let served = common::serve(&sim, &flags).await;
    until(&served, "1 attempt, its outcome, failed again", |o| {
        let finished = o
            .remediation
            .first()
            .is_some_and(|e| e.last_outcome.is_some());
        attempts(o, "jdbc") == 1
            && finished
            && o.verdict.as_ref().is_some_and(|v| !v.failures.is_empty())
    })
    .await;
    let (code, body) = served.get("/").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["failures"][0]["connector"], "jdbc");
    let entry = &body["remediation"][0];
    assert_eq!(entry["phase"], "remediating");
    assert_eq!(entry["attempts_before_escalation"], 1);
    assert!(
        entry["next_attempt_in_seconds"].as_f64().unwrap() > 3000.0,
        "{entry}"
    );
    assert_eq!(entry["last_outcome"], "accepted");
}

/// Two sidecars with different worker ids each restart only their own worker's task,
/// one call per task, never the KIP-745 call that would restart the other's.
#[tokio::test]
async fn sidecars_restart_only_their_own_tasks() {
    let tasks = [
        task("FAILED", "connect-0:8083", "RUNNING"),
        task("FAILED", "connect-1:8083", "RUNNING"),
    ];
    let sim = seeded(
        "3.9.0",
        json!([{"name": "c", "worker_id": "connect-0:8083", "tasks": tasks}]),
    )
    .await;
    let one = common::serve(
        &sim,
        &["--auto-restart", "--connect-worker-id", "connect-0:8083"],
    )
    .await;
    recovered(&one).await;
    let status = common::client(&sim).status("c").await.unwrap().unwrap();
    assert_eq!(
        (
            status.tasks[0].state.as_str(),
            status.tasks[1].state.as_str()
        ),
        ("RUNNING", "FAILED")
    );
    let two = common::serve(
        &sim,
        &["--auto-restart", "--connect-worker-id", "connect-1"],
    )
    .await;
    recovered(&two).await;
    let by_route = routes(&sim).await;
    assert_eq!(
        by_route["POST /connectors/{name}/tasks/{id}/restart"], 2,
        "{by_route}"
    );
    assert!(
        by_route.get("POST /connectors/{name}/restart").is_none(),
        "{by_route}"
    );
}

/// Before 3.0 the KIP-745 call restarts only the connector (204, spec §8): the failed
/// tasks are then restarted one by one (§7.4), and from then on directly.
#[tokio::test]
async fn before_3_0_failed_tasks_are_restarted_one_by_one() {
    let sim = seeded("2.8.2", json!([{"name": "c", "tasks": [task("RUNNING", "connect-0:8083", "RUNNING"), task("FAILED", "connect-0:8083", "RUNNING")]}])).await;
    let served = common::serve(&sim, &["--auto-restart"]).await;
    recovered(&served).await;
    let by_route = routes(&sim).await;
    assert_eq!(by_route["POST /connectors/{name}/restart"], 1, "{by_route}");
    assert_eq!(
        by_route["POST /connectors/{name}/tasks/{id}/restart"], 1,
        "{by_route}"
    );
    let status = common::client(&sim).status("c").await.unwrap().unwrap();
    assert!(
        status.tasks.iter().all(|t| t.state == "RUNNING"),
        "{status:?}"
    );
}

/// A 409 (rebalance, spec §18) on the restart call is retried with backoff.
#[tokio::test]
async fn a_conflict_during_restart_is_retried() {
    let sim = one_failed("c", "RUNNING").await;
    common::faults(
        &sim,
        json!({"status": 409, "method": "POST", "path_regex": "/restart$", "count": 2}),
    )
    .await;
    let served = common::serve(&sim, &["--auto-restart"]).await;
    recovered(&served).await;
    let entry = &served.state.latest().remediation[0];
    assert_eq!(
        (entry.attempts, entry.last_outcome.as_deref()),
        (1, Some("accepted"))
    );
    assert_eq!(
        routes(&sim).await["POST /connectors/{name}/restart"],
        3,
        "two 409s, then 202"
    );
}

/// Failures whose trace does not match --restart-trace are left alone, and count.
#[tokio::test]
async fn restart_trace_selects_what_to_restart() {
    let sim = one_failed("c", "RUNNING").await;
    let flags = [
        "--auto-restart",
        "--restart-trace",
        "SerializationException",
        "--escalate-after-restarts",
        "3",
    ];
    let served = common::serve(&sim, &flags).await;
    served.fresh().await;
    assert!(served.state.latest().remediation.is_empty());
    assert_eq!(
        served.get("/").await.0,
        503,
        "not ours to restart: counts at once"
    );
    assert!(
        routes(&sim)
            .await
            .get("POST /connectors/{name}/restart")
            .is_none()
    );
}

/// A restart slower than the read timeout (synchronous restarts, spec §7.4; queued
/// behind a rebalance, §18) still succeeds: restarts get the write deadline.
#[tokio::test]
async fn a_slow_restart_is_not_cut_short() {
    let sim = one_failed("c", "RUNNING").await;
    common::faults(&sim, json!({"latency_ms": 700, "path_regex": "/restart$"})).await;
    let served = common::serve(&sim, &["--auto-restart", "--connect-timeout", "200ms"]).await;
    recovered(&served).await;
    let entry = &served.state.latest().remediation[0];
    assert_eq!(
        (entry.attempts, entry.last_outcome.as_deref()),
        (1, Some("accepted"))
    );
}

/// A restart that hangs (synchronous restart stuck behind a rebalance) is never started
/// again while it is in flight, even with a `0s` schedule that makes one due every poll.
#[tokio::test]
async fn a_hanging_restart_is_not_repeated_while_in_flight() {
    let sim = one_failed("c", "RUNNING").await;
    common::faults(
        &sim,
        json!({"hang": true, "method": "POST", "path_regex": "/restart$"}),
    )
    .await;
    let served = common::serve(&sim, &["--auto-restart", "--restart-backoff", "0s"]).await;
    until(&served, "1 attempt", |o| attempts(o, "c") == 1).await;
    for _ in 0..5 {
        served.fresh().await;
    }
    assert_eq!(attempts(&served.state.latest(), "c"), 1);
    assert_eq!(
        routes(&sim).await["POST /connectors/{name}/restart"],
        1,
        "one call in flight, none piled up"
    );
}
