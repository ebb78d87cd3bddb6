//! `serve --auto-restart --webhook-url` through the binary against connect-sim, with a
//! local receiver (axum on 127.0.0.1:0): exactly one message per transition (escalation
//! when restarts are exhausted, recovery when the task runs again), a 500 retried, a
//! silent receiver given up after --webhook-attempts, the rate limit holding back, a
//! hung receiver that delays neither `/` nor polling nor SIGTERM, and secrets (a
//! trace's password, the URL's token) in no body, log line or metric. Waits are on
//! messages, log lines and published polls, never on the clock.

mod common;

use common::{
    process::{self, Spawned, Stream},
    webhook::{Answer, URL_TOKEN, answering, receiver},
};
use connect_sim::Running;
use serde_json::{Value, json};

/// A password in the failed task's trace.
const TRACE_SECRET: &str = "CANARY-trace-secret";

/// A 3.9 cluster whose `jdbc` task FAILED with a secret in its trace, and stays so
/// when restarted.
async fn failing() -> Running {
    failing_named(&["jdbc"]).await
}

/// [`failing`] with one such connector per name.
async fn failing_named(names: &[&str]) -> Running {
    let trace = format!(
        "java.sql.SQLException: Access denied; password={TRACE_SECRET}\n\tat Db.open(Db.java:1)"
    );
    let task = json!({"state": "FAILED", "worker_id": "connect-0:8083", "trace": trace, "restart_outcome": "FAILED"});
    let connectors: Vec<Value> = names
        .iter()
        .map(|name| json!({"name": name, "tasks": [task]}))
        .collect();
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, json!({ "connectors": connectors })).await;
    sim
}

/// `serve --auto-restart`, escalating after one restart, notifying `webhook`.
fn serve(sim: &Running, webhook: &str, extra: &[&str]) -> Spawned {
    let mut command = process::serve_json(&sim.url());
    command.args([
        "--poll-interval",
        "50ms",
        "--auto-restart",
        "--max-restarts",
        "1",
    ]);
    command.args(["--restart-backoff", "0s", "--webhook-url", webhook]);
    command.args(extra);
    Spawned::spawn(command, Stream::Stderr)
}

/// `connect_sentinel_polls_total` of the server at `base`.
async fn polls(base: &str) -> u64 {
    let text = common::metrics_when(base, &["connect_sentinel_polls_total"]).await;
    let line = text
        .lines()
        .find(|l| l.starts_with("connect_sentinel_polls_total"));
    line.and_then(|l| l.split(' ').nth(1)?.parse().ok())
        .unwrap()
}

/// Waits until `base` has published `n` more polls than now.
async fn more_polls(base: &str, n: u64) {
    let from = polls(base).await;
    common::eventually("more polls", || async {
        (polls(base).await >= from + n).then_some(())
    })
    .await;
}

/// Stops the server and checks no log line held a secret.
async fn stop_clean(mut child: Spawned) {
    child.terminate();
    assert!(child.exit("SIGTERM").await.success());
    let logs = child.seen.join("\n");
    assert!(!logs.contains("CANARY"), "a secret in the logs:\n{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_message_per_transition_and_no_secret_anywhere() {
    let sim = failing().await;
    let mut hook = receiver(answering(&[])).await;
    let mut child = serve(&sim, &hook.url, &["--log-level", "debug"]);
    let base = format!("http://{}", child.logged_addr().await);
    let escalation = hook.next("escalation").await;
    assert_eq!(
        (
            escalation["kind"].as_str(),
            escalation["connector"].as_str()
        ),
        (Some("persistent_failure"), Some("jdbc"))
    );
    assert_eq!(
        escalation["phase"],
        json!({"from": "remediating", "to": "persistent"})
    );
    assert_eq!(escalation["attempts"], 1);
    let cause = escalation["cause"].as_str().unwrap();
    assert!(
        cause.starts_with("java.sql.SQLException: Access denied"),
        "{cause}"
    );
    assert_eq!(escalation["sentinel"]["connect_url"], sim.url());
    more_polls(&base, 5).await;
    assert!(
        hook.bodies.try_recv().is_err(),
        "a steady state sends nothing"
    );
    common::control(&sim)
        .task_state("jdbc", 0, &json!({"state": "RUNNING"}))
        .await
        .unwrap();
    let recovery = hook.next("recovery").await;
    assert_eq!(recovery["kind"], "recovery");
    assert_eq!(
        recovery["phase"],
        json!({"from": "persistent", "to": "recovered"})
    );
    more_polls(&base, 5).await;
    assert!(
        hook.bodies.try_recv().is_err(),
        "nothing after the recovery"
    );
    let bodies = format!("{escalation} {recovery}");
    assert!(!bodies.contains("CANARY"), "a secret in a body: {bodies}");
    let metrics = common::metrics_when(&base, &[r#"notifications_total{outcome="sent"} 2"#]).await;
    let health = common::get_json(&format!("{base}/")).await.to_string();
    assert!(
        !metrics.contains("CANARY") && !health.contains(URL_TOKEN),
        "{metrics}\n{health}"
    );
    let on = child.seen.iter().find(|l| l.contains("notifications on"));
    assert!(
        on.is_some_and(|l| l.contains("http://127.0.0.1:")),
        "{:?}",
        child.seen
    );
    stop_clean(child).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_message_is_retried_and_slack_gets_text() {
    let sim = failing().await;
    let mut hook = receiver(answering(&[500])).await;
    let flags = ["--webhook-backoff", "50ms", "--webhook-format", "slack"];
    let mut child = serve(&sim, &hook.url, &flags);
    let base = format!("http://{}", child.logged_addr().await);
    let first = hook.next("the first try").await;
    let second = hook.next("the retry").await;
    assert_eq!(first, second, "the same body again");
    let text = second["text"].as_str().unwrap();
    assert!(
        text.starts_with("connector jdbc has a persistent failure"),
        "{second}"
    );
    assert!(
        second["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("SQLException")
    );
    let markers = [r#"outcome="retried"} 1"#, r#"outcome="sent"} 1"#];
    common::metrics_when(&base, &markers).await;
    child
        .line("the retry's log line", |l| l.contains("retrying"))
        .await;
    stop_clean(child).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_receiver_delays_neither_probes_nor_polls_nor_shutdown() {
    let sim = failing().await;
    let mut hook = receiver(Answer::Hang).await;
    let mut child = serve(&sim, &hook.url, &["--webhook-timeout", "1h"]);
    let base = format!("http://{}", child.logged_addr().await);
    hook.next("the hung call").await;
    more_polls(&base, 10).await;
    let started = std::time::Instant::now();
    let health = common::get_json(&format!("{base}/")).await;
    assert_eq!(health["healthy"], false, "escalated: {health}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "/ took {:?}",
        started.elapsed()
    );
    common::control(&sim)
        .task_state("jdbc", 0, &json!({"state": "RUNNING"}))
        .await
        .unwrap();
    common::eventually("healthy again", || async {
        let health = common::get_json(&format!("{base}/")).await;
        (health["healthy"] == true).then_some(())
    })
    .await;
    stop_clean(child).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_never_answers_is_given_up_after_the_attempts() {
    let sim = failing().await;
    let mut hook = receiver(Answer::Hang).await;
    let flags = ["--webhook-timeout", "100ms", "--webhook-attempts", "2"];
    let mut child = serve(
        &sim,
        &hook.url,
        &[&flags[..], &["--webhook-backoff", "50ms"]].concat(),
    );
    let base = format!("http://{}", child.logged_addr().await);
    let (first, second) = (
        hook.next("the first try").await,
        hook.next("the second").await,
    );
    assert_eq!(first, second);
    let gave_up = child
        .line("giving up", |l| l.contains("notification failed"))
        .await;
    assert!(gave_up.contains("no answer within 100ms"), "{gave_up}");
    common::metrics_when(
        &base,
        &[r#"outcome="failed"} 1"#, r#"outcome="retried"} 1"#],
    )
    .await;
    more_polls(&base, 5).await;
    assert!(hook.bodies.try_recv().is_err(), "2 tries in all");
    stop_clean(child).await;
}

/// Two escalations at once with a limit of 1 a minute: one message now, the other held
/// back (sent inside one summary when the minute is over, see the unit tests).
#[tokio::test(flavor = "multi_thread")]
async fn events_over_the_rate_limit_are_held_back() {
    let sim = failing_named(&["jdbc", "s3"]).await;
    let mut hook = receiver(answering(&[])).await;
    let mut child = serve(&sim, &hook.url, &["--webhook-rate-limit", "1"]);
    let base = format!("http://{}", child.logged_addr().await);
    assert_eq!(hook.next("the first escalation").await["connector"], "jdbc");
    common::metrics_when(&base, &[r#"outcome="rate_limited"} 1"#]).await;
    more_polls(&base, 5).await;
    assert!(hook.bodies.try_recv().is_err(), "held back");
    child
        .line("the rate limit's warning", |l| {
            l.contains("rate limit reached")
        })
        .await;
    stop_clean(child).await;
}

/// `serve` with `flags` and `env` exits 2 saying `want`, and shows no CANARY.
async fn refused(sim: &Running, flags: &[&str], env: &[(&str, &str)], want: &str) {
    let out = common::run_env(common::argv("serve", sim, flags), env).await;
    let (_, err) = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
    assert!(
        err.contains(want) && !err.contains("CANARY"),
        "{flags:?}: {err}"
    );
}

#[tokio::test]
async fn bad_webhook_flags_are_refused_naming_the_flag_not_the_url() {
    let sim = common::sim("3.9.0").await;
    let auto = |flags: &[&'static str]| [&["--auto-restart"], flags].concat();
    let scheme = "invalid --webhook-url: expected http:// or https://, got ftp://";
    refused(
        &sim,
        &auto(&["--webhook-url", "ftp://files/CANARY"]),
        &[],
        scheme,
    )
    .await;
    let not_url = "invalid --webhook-url: not a URL";
    refused(&sim, &auto(&["--webhook-url", "CANARY"]), &[], not_url).await;
    let alone = ["--webhook-url", "http://hooks/CANARY"];
    refused(
        &sim,
        &alone,
        &[],
        "invalid --webhook-url: needs --auto-restart",
    )
    .await;
    let env = [(
        "CONNECT_SENTINEL_WEBHOOK_URLS",
        "http://a/x,gopher://CANARY",
    )];
    let second = "got gopher:// (the rest is not shown) (URL 2 of 2)";
    refused(&sim, &auto(&[]), &env, second).await;
    let zero = auto(&[
        "--webhook-url",
        "http://a/CANARY",
        "--webhook-rate-limit",
        "0",
    ]);
    refused(&sim, &zero, &[], "invalid --webhook-rate-limit").await;
}

#[test]
fn help_hides_the_webhook_urls_of_the_environment() {
    let out = process::bin()
        .args(["serve", "--help"])
        .env(
            "CONNECT_SENTINEL_WEBHOOK_URLS",
            "https://hooks.slack.com/services/CANARY",
        )
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--webhook-url <URL>") && help.contains("CONNECT_SENTINEL_WEBHOOK_URLS"),
        "{help}"
    );
    assert!(!help.contains("CANARY"), "{help}");
}
