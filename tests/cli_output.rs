//! What people and scripts read, through the binary: a closed stdout ends a command
//! quietly, logs off a terminal carry no colour codes and no Rust debug forms, the
//! reconciler's JSON has documented shapes, and errors share one prefix.

mod common;

use std::process::Stdio;

use common::process::{Spawned, Stream, bin};
use connect_sim::Running;
use serde_json::{Value, json};

/// A simulator with a few connectors, one failed.
async fn cluster() -> Running {
    let sim = common::sim("3.9.0").await;
    let failed = json!({"state": "FAILED", "trace": "boom"});
    common::seed(
        &sim,
        json!({"connectors": [
            common::connector("alpha", &["RUNNING"]),
            {"name": "beta", "tasks": [failed]},
        ]}),
    )
    .await;
    sim
}

/// Runs the binary with its stdout closed before it writes; exit code and stderr.
async fn with_stdout_closed(args: &[String]) -> (Option<i32>, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_connect-sentinel"));
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    drop(child.stdout.take());
    let out = tokio::time::timeout(common::PATIENCE, child.wait_with_output())
        .await
        .expect("exits once stdout is closed")
        .unwrap();
    (out.status.code(), common::text(&out).1)
}

/// `status | head -1` and `status -o json | head -1` used to panic on EPIPE: now the
/// command ends quietly with 141, as a shell reports for tools SIGPIPE ends.
#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_ends_status_quietly() {
    let sim = cluster().await;
    for extra in [&[][..], &["-o", "json"]] {
        let (code, stderr) = with_stdout_closed(&common::argv("status", &sim, extra)).await;
        assert_eq!(code, Some(141), "{extra:?}: {stderr}");
        assert!(stderr.is_empty(), "{extra:?}: quiet, got {stderr}");
    }
}

/// `status` prints a plain table when stdout is not a terminal; with a sentinel that
/// is down it still shows Connect's state, and the warning names the sentinel.
#[tokio::test(flavor = "multi_thread")]
async fn status_without_colour_and_with_a_down_sentinel() {
    let sim = cluster().await;
    let down = "http://127.0.0.1:9";
    let out = common::run(common::argv("status", &sim, &["--sentinel-url", down])).await;
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("beta") && stdout.contains("boom"),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\u{1b}'),
        "no colour off a terminal: {stdout:?}"
    );
    assert!(
        stderr.contains(&format!(
            "the sentinel at --sentinel-url {down} is unreachable"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("Connect unreachable"), "{stderr}");
}

/// Errors of every command start `connect-sentinel: error: `, on stderr.
#[tokio::test(flavor = "multi_thread")]
async fn errors_share_one_prefix() {
    let down = ["--connect-url", "http://127.0.0.1:9"];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.yaml");
    std::fs::write(&file, "name: a\nconfig:\n  connector.class: X\n").unwrap();
    let file = file.to_str().unwrap();
    for args in [
        vec!["status"],
        vec!["restart", "a"],
        vec!["diff", "-f", file],
        vec!["apply", "-f", file],
        vec!["reconcile", "--port", "0"],
    ] {
        let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        argv.extend(down.iter().map(|s| s.to_string()));
        let out = common::run(argv).await;
        let (stdout, stderr) = common::text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.starts_with("connect-sentinel: error: "),
            "{args:?}: {stderr}"
        );
    }
}

/// `restart` against a hung Connect says what it waits for and gives up at
/// `--timeout` (it used to sit for 90 s in silence).
#[tokio::test(flavor = "multi_thread")]
async fn restart_against_a_hung_connect_shows_progress_and_times_out() {
    let sim = cluster().await;
    common::faults(&sim, json!({"hang": true, "method": "POST"})).await;
    let out = common::run(common::argv("restart", &sim, &["alpha", "--timeout", "3s"])).await;
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("restarting alpha: still waiting for Connect (1s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("connect-sentinel: error: Connect did not finish within --timeout 3s"),
        "{stderr}"
    );
}

/// `apply` says on stderr when it validates and when it writes, one plain line each.
#[tokio::test(flavor = "multi_thread")]
async fn apply_reports_progress_on_stderr() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        let text = format!(
            "name: {name}\nconfig:\n  connector.class: FileStreamSink\n  topics: t\n  file: /tmp/{name}\n"
        );
        std::fs::write(dir.path().join(format!("{name}.yaml")), text).unwrap();
    }
    let args = ["-f", dir.path().to_str().unwrap(), "--concurrency", "4"];
    let out = common::run(common::argv("apply", &sim, &args)).await;
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("connect-sentinel: validating 2 config(s) with Connect…"),
        "{stderr}"
    );
    assert!(
        stderr.contains("connect-sentinel: writing 2 change(s), up to 4 at a time…"),
        "{stderr}"
    );
    assert!(stdout.contains("2 of 2 change(s) applied"), "{stdout}");
}

/// The word after `key=` on a text log line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let start = line.find(&format!("{key}=")).map(|i| i + key.len() + 1);
    let rest = &line[start.unwrap_or_else(|| panic!("no {key}= in {line}"))..];
    rest.split_whitespace().next().unwrap_or_default()
}

/// A GET on the reconciler: status code and JSON body.
async fn get(url: &str) -> (u16, Value) {
    let response = common::http().get(url).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// `reconcile`'s text logs off a terminal: no colour codes, Display forms only; its
/// `/` gives `last_success` as RFC 3339, and `/readyz`'s reason is a sentence.
#[tokio::test(flavor = "multi_thread")]
async fn reconcile_logs_and_json_read_well() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let manifest =
        "name: a\nconfig:\n  connector.class: FileStreamSink\n  topics: t\n  file: /tmp/a\n";
    std::fs::write(dir.path().join("a.yaml"), manifest).unwrap();
    let mut command = bin();
    command
        .args(["reconcile", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--connect-url", &sim.url(), "--debounce", "10ms", "-f"])
        .arg(dir.path());
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let start = child
        .line("the start line", |l| l.contains("reconciling"))
        .await;
    let url = format!("http://{}", field(&start, "addr"));
    assert!(field(&start, "source").starts_with("files"), "{start}");
    let applied = child.line("a pass", |l| l.contains("pass applied")).await;
    assert_eq!(field(&applied, "outcome"), "applied", "{applied}");
    assert!(applied.contains("detail=1 change(s) applied"), "{applied}");
    let (_, status) = get(&url).await;
    let when = status["last_success"].as_str().expect("a string");
    humantime::parse_rfc3339(when).unwrap_or_else(|e| panic!("{when}: {e}"));
    std::fs::write(dir.path().join("a.yaml"), "name: [").unwrap();
    child
        .line("a refused pass", |l| l.contains("did not converge"))
        .await;
    let (code, ready) = get(&format!("{url}/readyz")).await;
    assert_eq!(code, 503, "{ready}");
    let reason = ready["reason"].as_str().expect("a string");
    assert!(
        reason.starts_with("invalid manifests or config: "),
        "{reason}"
    );
    assert_eq!(ready["last"]["outcome"], "invalid", "{ready}");
    child.terminate();
    child.exit("SIGTERM").await;
    let logs = child.seen.join("\n");
    assert!(
        !logs.contains('\u{1b}'),
        "no colour codes off a terminal: {logs:?}"
    );
    for debug in ["Applied {", "Invalid {", "Files(["] {
        assert!(!logs.contains(debug), "a debug form {debug}: {logs}");
    }
}

/// `serve`'s warning about an unknown worker id shows the id as given, not
/// `Exact("…")`.
#[tokio::test(flavor = "multi_thread")]
async fn serve_logs_the_worker_id_as_given() {
    let sim = cluster().await;
    let mut command = bin();
    command
        .args(["serve", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--connect-url", &sim.url(), "--poll-interval", "50ms"])
        .args(["--connect-worker-id", "nowhere:8083"]);
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let line = child
        .line("the unknown-worker warning", |l| {
            l.contains("matches no connector")
        })
        .await;
    assert_eq!(field(&line, "worker"), "nowhere:8083", "{line}");
    child.terminate();
    child.exit("SIGTERM").await;
}
