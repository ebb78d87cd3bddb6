//! `connect-sentinel serve` as a process: JSON logs, a canary password that appears in
//! no log line, response or metric, and a clean exit on SIGTERM.

mod common;

use common::process::{self, Spawned, Stream, bin};
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
    let mut command = bin();
    command
        .args(["serve", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--poll-interval", "50ms", "--log-level", "debug"])
        .args(["--log-format", "json", "--connect-url", &sim.url()])
        .args(["--basic-auth", &format!("admin:{canary}")]);
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let mut addr = None;
    child
        .line("a `poll failed` log line", |line| {
            let event: Value =
                serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            addr = addr
                .take()
                .or_else(|| event["addr"].as_str().map(String::from));
            event["message"] == "poll failed"
        })
        .await;
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
    child.terminate();
    let status = child.exit("SIGTERM").await;
    let logs = &child.seen;
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
    let everything = format!("{seen}\n{}", logs.join("\n"));
    assert!(
        !everything.contains("CANARY") && !everything.contains("s3cret"),
        "{everything}"
    );
    assert!(logs.iter().any(|l| l.contains("shutting down")), "{logs:?}");
}

/// Connect echoing our own credentials back (the basic-auth password, its header, a
/// bearer token, a credential header) in a task's trace and in a `GET /health` error
/// body: none of it reaches `/`, `/readyz`, `/metrics`, `/connectors/a` or the logs.
#[tokio::test(flavor = "multi_thread")]
async fn echoed_own_credentials_are_cut() {
    use base64::Engine;
    let (password, token, key) = ("CANARY-pw-41", "CANARY-bearer-42", "CANARY-key-43");
    let header = base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"));
    let echo = format!("saw Basic {header} / {password} / Bearer {token} / X-Api-Key {key}");
    let auth = ("admin".to_string(), password.to_string());
    let basic = format!("admin:{password}");
    let key_header = format!("X-Api-Key: {key}");
    let flags = ["--basic-auth", &basic, "--header", &key_header];
    let seen = echoed(Some(auth), &echo, &flags).await;
    for secret in [password, key, &header] {
        assert!(!seen.contains(secret), "{secret}: {seen}");
    }
    let seen = echoed(None, &echo, &["--bearer-token", token]).await;
    assert!(!seen.contains(token), "{seen}");
}

/// A connector's own secrets quoted in its trace (a JDBC URL's `password=`, a URI's
/// user-info, a `token:`) are cut before the trace reaches `/`, `/connectors/a` or logs.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_in_a_connector_trace_are_cut() {
    let echo = concat!(
        "jdbc:postgresql://db:5432/app?user=app&password=CANARY-jdbc-51 refused; ",
        "mongodb://admin:CANARY-uri-52@mongo:27017 down; token: CANARY-token-53"
    );
    let seen = echoed(None, echo, &[]).await;
    assert!(!seen.contains("CANARY"), "{seen}");
    assert!(seen.contains("password=(redacted)"), "{seen}");
}

/// Everything `serve` with `flags` answers and logs while Connect (requiring `auth`)
/// echoes `echo` in a task's trace and its `GET /health` error.
async fn echoed(auth: Option<(String, String)>, echo: &str, flags: &[&str]) -> String {
    let sim = common::sim_with(SimConfig {
        basic_auth: auth,
        ..SimConfig::synchronous()
    })
    .await;
    let trace = format!("org.example.AuthException: {echo}\n\tat x");
    let task = json!({"state": "FAILED", "trace": trace});
    common::seed(
        &sim,
        json!({"connectors": [{"name": "a", "tasks": [task]}]}),
    )
    .await;
    let body = json!({"error_code": 500, "message": format!("unhealthy: {echo}")});
    let fault = json!({"status": 500, "path_regex": "^/health$", "body": body});
    common::faults(&sim, fault).await;
    let mut child = serve_json(&sim.url(), flags);
    let base = address(&mut child).await;
    let seen = common::eventually("a trace and a reason, redacted", || async {
        let mut seen = String::new();
        for path in ["/", "/readyz", "/metrics", "/connectors/a"] {
            let answer = common::http()
                .get(format!("{base}{path}"))
                .send()
                .await
                .ok()?;
            seen += &answer.text().await.ok()?;
        }
        (seen.contains("AuthException") && seen.contains("worker unhealthy")).then_some(seen)
    })
    .await;
    child.terminate();
    child.exit("SIGTERM").await;
    format!("{seen}\n{}", child.seen.join("\n"))
}

/// The base URL `serve` logs it listens on.
async fn address(child: &mut Spawned) -> String {
    let mut addr = None;
    child
        .line("the address", |line| {
            let event: Value = serde_json::from_str(line).unwrap_or_default();
            addr = event["addr"].as_str().map(String::from);
            addr.is_some()
        })
        .await;
    format!("http://{}", addr.unwrap())
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
    child
        .line("the unmatched worker id warning", |l| {
            l.contains("matches no connector or task")
        })
        .await;
}

/// `serve` with JSON logs on 127.0.0.1:0, its stderr read.
fn serve_json(url: &str, extra: &[&str]) -> Spawned {
    let mut command = process::serve_json(url);
    command.args(["--poll-interval", "50ms"]).args(extra);
    Spawned::spawn(command, Stream::Stderr)
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
    let line = child
        .line("a `restarted` log line", |l| l.contains("restarted"))
        .await;
    let event: Value = serde_json::from_str(&line).unwrap();
    let fields = &event;
    assert_eq!(fields["connector"], "jdbc", "{line}");
    assert_eq!(fields["tasks"], "0", "comma-separated ids: {line}");
    assert_eq!(fields["attempt"], 1, "{line}");
    assert_eq!(fields["step"], "restart-tasks", "{line}");
    assert_eq!(fields["outcome"], "accepted", "{line}");
    assert_eq!(fields["next_attempt_in"], "2m", "{line}");
    assert_eq!(
        fields["cause"], "java.net.ConnectException: refused",
        "{line}"
    );
}

/// The poll thread runs at a lower priority than the thread answering probes (Linux
/// keeps a nice value per thread: field 19 of /proc/PID/task/TID/stat).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn the_poll_thread_yields_to_probes() {
    let sim = common::sim("3.9.0").await;
    let mut child = serve_json(&sim.url(), &[]);
    child
        .line("the first poll", |l| l.contains("Connect reachable"))
        .await;
    let tasks = std::fs::read_dir(format!("/proc/{}/task", child.pid())).unwrap();
    let niceness: Vec<(String, i32)> = tasks
        .map(|task| {
            let dir = task.unwrap().path();
            let name = std::fs::read_to_string(dir.join("comm")).unwrap();
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
            let after_name = &stat[stat.rfind(')').unwrap() + 2..];
            let nice = after_name.split(' ').nth(16).unwrap().parse().unwrap();
            (name.trim().to_string(), nice)
        })
        .collect();
    let poller = niceness.iter().find(|(name, _)| name == "poller");
    let main = niceness.iter().find(|(name, _)| name != "poller");
    // Nine nicer than the serving thread, whatever niceness the test runs at (19 at most).
    assert!(
        matches!((poller, main), (Some((_, p)), Some((_, m))) if *p == (m + 9).min(19) && p > m),
        "{niceness:?}"
    );
}
