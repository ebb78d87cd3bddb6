//! `connect-sentinel demo` through the real binary: it prints the URLs, the health
//! server answers, the flaky task fails and auto-restart brings it back, SIGTERM and
//! `--duration` stop it. Every wait is on a line the demo prints or on its HTTP
//! endpoints, bounded only to fail.
#![cfg(feature = "demo")]

mod common;

use common::process::{Spawned, Stream, demo_command};
use serde_json::Value;

/// The demo on free ports with `extra` flags, its stdout read.
fn demo(extra: &[&str]) -> Spawned {
    Spawned::spawn(demo_command(extra), Stream::Stdout)
}

/// The first word after `prefix` on one of `lines`.
fn after(lines: &[String], prefix: &str) -> String {
    let found = lines.iter().find_map(|l| l.strip_prefix(prefix));
    let word = found.and_then(|rest| rest.split_whitespace().next());
    word.unwrap_or_else(|| panic!("no {prefix:?} line: {lines:?}"))
        .to_string()
}

/// The reconciler's status once its first pass is done.
async fn first_pass(reconciler: &str) -> Value {
    common::eventually("a reconcile pass", || async {
        let status = common::json_at(reconciler).await?;
        assert_ne!(status["last"]["outcome"], "invalid", "{status}");
        (status["passes"].as_u64() > Some(0)).then_some(status)
    })
    .await
}

/// The demo starts, serves, reconciles, flips the flaky task, edits a declared
/// connector by hand (which a resync puts back), and stops on SIGTERM.
#[tokio::test(flavor = "multi_thread")]
async fn demo_serves_reconciles_and_recovers_the_flaky_task() {
    let mut child = demo(&["--fail-every", "3s", "--restart-after", "0s"]);
    child
        .line("the intro's last line", |l| l.starts_with("Task "))
        .await;
    let lines = child.seen.clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("s3-archive-sink") && l.contains("1/2")),
        "{lines:?}"
    );
    let (health, reconciler) = (
        after(&lines, "Health server:"),
        after(&lines, "Reconciler:"),
    );
    let status = first_pass(&reconciler).await;
    assert_eq!(status["declared"], 4, "{status}");
    // The first pass creates what is declared; a later resync finds nothing to do.
    let want = if status["passes"] == 1 {
        "applied"
    } else {
        "in_sync"
    };
    assert_eq!(status["last"]["outcome"], want, "{status}");
    let ping = common::http()
        .get(format!("{health}/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    let metrics = common::http().get(format!("{health}/metrics")).send().await;
    let metrics = metrics.unwrap().text().await.unwrap();
    assert!(metrics.contains("connect_sentinel_task_state"), "{metrics}");
    child
        .line("the flaky task failing", |l| l.contains("FAILED"))
        .await;
    let recovered = child
        .line("a recovery", |l| l.contains("recovered after"))
        .await;
    assert!(recovered.ends_with("restart(s)"), "{recovered}");
    let put_back = |l: &str| l.contains("orders-jdbc-source: update tasks.max (drift, put back)");
    if !child.seen.iter().any(|l| put_back(l)) {
        child
            .line("the hand edit put back by a resync", put_back)
            .await;
    }
    assert!(
        child.seen.iter().any(|l| l.contains("by hand")),
        "the demo says what it did: {:?}",
        child.seen
    );
    child.terminate();
    assert!(child.exit("SIGTERM").await.success());
}

/// `--duration` ends the demo by itself, with exit code 0.
#[tokio::test(flavor = "multi_thread")]
async fn duration_stops_the_demo_by_itself() {
    let mut child = demo(&["--duration", "1s"]);
    let status = child.exit("--duration 1s is over").await;
    assert!(status.success(), "{status:?}: {:?}", child.seen);
    assert!(
        child.seen.iter().any(|l| l.starts_with("Task ")),
        "{:?}",
        child.seen
    );
}

/// A demo whose stdout is closed (`demo | head`) ends quietly with 141 at its next
/// line, and leaves no temporary directory behind.
#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_ends_the_demo_and_removes_its_directory() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let mut command = tokio::process::Command::from(demo_command(&["--fail-every", "200ms"]));
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let intro = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let last = line.starts_with("Task ");
            seen.push(line);
            if last {
                return;
            }
        }
        panic!("the intro ended early");
    };
    tokio::time::timeout(common::PATIENCE, intro).await.unwrap();
    let declared = after(&seen, "  It adopts the four connectors declared in");
    let root = std::path::Path::new(&declared)
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(root.is_dir(), "{root:?}");
    drop(lines);
    let mut stderr = String::new();
    let mut err = child.stderr.take().unwrap();
    let ended = async {
        err.read_to_string(&mut stderr).await.unwrap();
        child.wait().await.unwrap()
    };
    let status = tokio::time::timeout(common::PATIENCE, ended).await.unwrap();
    assert_eq!(status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!root.exists(), "{root:?} is left behind");
}
