//! Error-aware remediation against connect-sim: a failure classified non-restartable is
//! escalated with zero restart calls, a transient one climbs the ladder step by step,
//! user rules (flag and env var) override the built-in ones, `ignore` keeps `/` healthy,
//! and `/remediation`'s `history` lists each action once. Restart calls are counted
//! through `/_sim/requests`; waits are on published polls, never on the clock.

mod common;

use common::{
    Served,
    process::{self, Spawned, Stream},
};
use connect_sentinel::{health::Observed, remediate::Phase};
use connect_sim::{Running, SimConfig};
use serde_json::{Value, json};

const AUTH: &str = "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:632)\nCaused by: org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed: Invalid username or password";
const TIMEOUT: &str = "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask\nCaused by: java.net.SocketTimeoutException: connect timed out";

/// A 3.9 cluster with connector `name` whose one task FAILED with `trace`, restarting
/// to `outcome`; requests counted from here.
async fn one_failed(name: &str, trace: &str, outcome: &str) -> Running {
    let sim = common::sim_with(SimConfig {
        version: "3.9.0".parse().unwrap(),
        ..SimConfig::synchronous()
    })
    .await;
    let task = json!({"state": "FAILED", "worker_id": "connect-0:8083", "trace": trace, "restart_outcome": outcome});
    common::seed(
        &sim,
        json!({"connectors": [{"name": name, "tasks": [task]}]}),
    )
    .await;
    common::take_requests(&sim).await;
    sim
}

async fn until(served: &Served, what: &str, f: impl Fn(&Observed) -> bool) {
    common::until(&served.state.observed, what, |o| f(o)).await;
}

fn phase_of(o: &Observed, connector: &str) -> Option<Phase> {
    o.remediation
        .iter()
        .find(|e| e.connector == connector)
        .map(|e| e.phase)
}

/// Restart calls of any kind since the last count.
async fn restart_calls(sim: &Running) -> u64 {
    let counts = common::take_requests(sim).await;
    let by_route = counts["by_route"].as_object().cloned().unwrap_or_default();
    by_route
        .iter()
        .filter(|(route, _)| route.ends_with("/restart"))
        .map(|(_, n)| n.as_u64().unwrap_or(0))
        .sum()
}

/// `(step, attempt)` of each history entry of `connector`.
fn steps(history: &Value, connector: &str) -> Vec<(String, u64)> {
    let entries = history.as_array().cloned().unwrap_or_default();
    entries
        .iter()
        .filter(|e| e["connector"] == connector)
        .map(|e| {
            (
                e["step"].as_str().unwrap().to_string(),
                e["attempt"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// An authentication failure: classified, escalated, `/` 503 at once (even with
/// --escalate-after-restarts), and not one restart call however many polls pass.
#[tokio::test]
async fn an_auth_failure_is_escalated_without_a_restart() {
    let sim = one_failed("es-sink", AUTH, "RUNNING").await;
    let flags = [
        "--auto-restart",
        "--restart-backoff",
        "0s",
        "--escalate-after-restarts",
        "3",
    ];
    let served = common::serve(&sim, &flags).await;
    until(&served, "persistent", |o| {
        phase_of(o, "es-sink") == Some(Phase::Persistent)
    })
    .await;
    for _ in 0..5 {
        served.fresh().await;
    }
    assert_eq!(
        restart_calls(&sim).await,
        0,
        "no restart of a non-restartable failure"
    );
    let (code, body) = served.get("/").await;
    assert_eq!(code, 503, "{body}");
    let entry = &body["remediation"][0];
    assert_eq!(
        (entry["phase"].as_str(), entry["rule"].as_str()),
        (Some("persistent"), Some("authentication"))
    );
    assert_eq!(entry["remedy"], "escalate");
    assert_eq!(entry["attempts"], 0);
    let (_, remediation) = served.get("/remediation").await;
    let history = &remediation["history"];
    assert_eq!(
        steps(history, "es-sink"),
        [("classify".into(), 0), ("escalate".into(), 0)]
    );
    assert_eq!(history[0]["outcome"], "non-restartable (authentication)");
    assert_eq!(
        history[0]["cause"],
        "org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed: Invalid username or password"
    );
    let time = history[0]["time"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(time).is_ok(), "RFC 3339: {time}");
    let metrics = served.get("/metrics").await.1;
    let text = metrics.as_str().unwrap();
    for series in [
        r#"connect_sentinel_remediation_actions_total{connector="es-sink",step="classify",outcome="non-restartable"} 1"#,
        r#"connect_sentinel_remediation_actions_total{connector="es-sink",step="escalate",outcome="escalated"} 1"#,
        r#"connect_sentinel_remediation_phase{connector="es-sink",phase="persistent"} 1"#,
        r#"connect_sentinel_remediation_phase{connector="es-sink",phase="remediating"} 0"#,
        "connect_sentinel_escalated_connectors 1",
    ] {
        assert!(text.contains(series), "{series} in\n{text}");
    }
}

/// A timeout that restarts do not cure climbs the default ladder: the failed tasks
/// three times, the connector and its tasks twice, then one escalation, each action
/// once in `history`, and then no more calls.
#[tokio::test]
async fn a_transient_failure_climbs_the_ladder_step_by_step() {
    let sim = one_failed("jdbc", TIMEOUT, "FAILED").await;
    let flags = [
        "--auto-restart",
        "--restart-backoff",
        "0s,100ms",
        "--escalate-after-restarts",
        "100",
    ];
    let served = common::serve(&sim, &flags).await;
    until(&served, "held while climbing", |o| {
        phase_of(o, "jdbc") == Some(Phase::Remediating)
            && o.verdict.as_ref().is_some_and(|v| v.healthy)
    })
    .await;
    until(&served, "persistent", |o| {
        phase_of(o, "jdbc") == Some(Phase::Persistent)
    })
    .await;
    for _ in 0..5 {
        served.fresh().await;
    }
    assert_eq!(
        restart_calls(&sim).await,
        5,
        "the ladder's five actions, no more"
    );
    let (_, remediation) = served.get("/remediation").await;
    let expected: Vec<(String, u64)> = [
        ("restart-tasks", 1),
        ("restart-tasks", 2),
        ("restart-tasks", 3),
        ("restart-connector", 4),
        ("restart-connector", 5),
        ("escalate", 5),
    ]
    .iter()
    .map(|(s, n)| (s.to_string(), *n))
    .collect();
    assert_eq!(
        steps(&remediation["history"], "jdbc"),
        expected,
        "{remediation}"
    );
    let first = &remediation["history"][0];
    assert_eq!(
        (first["outcome"].as_str(), first["cause"].as_str()),
        (
            Some("accepted"),
            Some("java.net.SocketTimeoutException: connect timed out")
        )
    );
    let entry = &remediation["connectors"][0];
    assert_eq!(
        (entry["rule"].as_str(), entry["last_step"].as_str()),
        (Some("timeout"), Some("restart-connector"))
    );
    assert_eq!(served.get("/").await.0, 503, "out of steps: counted");
}

/// `--restart-rule` comes before the built-in rules: this auth failure is restarted
/// (once: the restart cures it).
#[tokio::test]
async fn a_user_rule_overrides_a_built_in_one() {
    let sim = one_failed("s3", AUTH, "RUNNING").await;
    let flags = [
        "--auto-restart",
        "--restart-rule",
        "Invalid username=restart",
    ];
    let served = common::serve(&sim, &flags).await;
    until(&served, "recovered", |o| {
        o.remediation
            .first()
            .is_some_and(|e| e.phase == Phase::Recovered && e.last_outcome.is_some())
    })
    .await;
    assert_eq!(restart_calls(&sim).await, 1);
    let (_, remediation) = served.get("/remediation").await;
    assert_eq!(
        steps(&remediation["history"], "s3"),
        [("restart-tasks".into(), 1)]
    );
}

/// An `ignore` rule from the env var (one rule per line): never restarted, never
/// escalated, `/` stays 200 with the failure listed, the entry `ignored`.
#[tokio::test(flavor = "multi_thread")]
async fn an_ignored_failure_keeps_the_pod_healthy_and_is_listed() {
    let sim = one_failed("audit", TIMEOUT, "RUNNING").await;
    let mut command = process::serve_json(&sim.url());
    command
        .args(["--poll-interval", "20ms", "--auto-restart"])
        .env(
            "HEALTHCHECK_RESTART_RULES",
            "nothing-matches=escalate\nconnect timed out=ignore",
        );
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let base = format!("http://{}", child.logged_addr().await);
    let line = child
        .line("the classification", |l| l.contains("classified: ignored"))
        .await;
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (event["step"].as_str(), event["outcome"].as_str()),
        (Some("classify"), Some("ignored (rule 2)"))
    );
    let remediation = common::eventually("an ignored entry", || async {
        let body = common::json_at(&format!("{base}/remediation")).await?;
        (body["connectors"][0]["phase"] == "ignored").then_some(body)
    })
    .await;
    let answer = common::http().get(format!("{base}/")).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["failures"][0]["connector"], "audit", "{body}");
    assert_eq!(
        steps(&remediation["history"], "audit"),
        [("classify".into(), 0)]
    );
    assert_eq!(restart_calls(&sim).await, 0);
}

/// `--remediation-history N` keeps the last N actions.
#[tokio::test]
async fn the_history_keeps_the_last_n() {
    let sim = one_failed("jdbc", TIMEOUT, "FAILED").await;
    let flags = [
        "--auto-restart",
        "--restart-backoff",
        "0s",
        "--remediation-history",
        "2",
    ];
    let served = common::serve(&sim, &flags).await;
    until(&served, "persistent", |o| {
        phase_of(o, "jdbc") == Some(Phase::Persistent)
    })
    .await;
    served.fresh().await;
    let (_, remediation) = served.get("/remediation").await;
    let expected = [
        ("restart-connector".to_string(), 5),
        ("escalate".to_string(), 5),
    ];
    assert_eq!(steps(&remediation["history"], "jdbc"), expected);
}

/// Malformed rules and ladders stop start-up with a message naming the flag.
#[tokio::test]
async fn bad_rules_and_ladders_name_their_flag() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["--restart-rule", "x=reboot"],
            "invalid --restart-rule: unknown remedy",
        ),
        (&["--restart-rule", "(=ignore"], "invalid --restart-rule"),
        (
            &["--restart-ladder", "connector=1,tasks=1"],
            "invalid --restart-ladder",
        ),
        (
            &["--restart-ladder", "tasks=1,recreate=1"],
            "recreate needs declared connectors",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["serve".to_string(), "--auto-restart".into()];
        args.extend(flags.iter().map(|f| f.to_string()));
        let out = common::run(args).await;
        let (_, err) = common::text(&out);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(message), "{flags:?}: {err}");
    }
}
