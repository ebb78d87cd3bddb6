//! `reconcile` against connect-sim, in process: the start-up pass, a file change, drift
//! corrected on resync, secret rotation through a Kubernetes-style `..data` symlink
//! swap, a broken manifest that writes nothing and keeps the loop alive, a worker
//! still starting up that gets no writes, a FAILED connector not paused again and
//! again, and an idle reconciler (reads, rewrites with the same bytes) that runs no pass
//! until a file really changes, so a refused create is not retried on every event.
//! Waits are on published passes and settled bursts, never on the clock.

mod common;

use std::{fs, os::unix::fs::symlink, path::Path};

use common::reconciling::{self, Reconciling, outcome};
use connect_sim::Running;
use serde_json::{Value, json};

const CANARY: &str = "CANARY-r0tate-1111";
const ROTATED: &str = "CANARY-r0tate-2222";

async fn start(sim: &Running, dir: &Path, extra: &[&str]) -> Reconciling {
    let (dir, url) = (dir.to_str().unwrap(), sim.url());
    let mut argv = vec!["-f", dir, "--connect-url", &url, "--debounce", "50ms"];
    argv.extend(extra);
    reconciling::start(&argv, None).await
}

fn sink(file: &str, password: &str) -> Value {
    json!({"name": "files-sink", "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "orders", "file": file, "tasks.max": 1, "connection.password": password,
    }})
}

fn write(dir: &Path, name: &str, body: &Value) {
    fs::write(dir.join(name), serde_json::to_vec_pretty(body).unwrap()).unwrap();
}

async fn live_config(sim: &Running) -> Value {
    let url = format!("{}/connectors/files-sink/config", sim.url());
    common::http()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The first pass creates; editing the file applies the change; /readyz and /metrics.
#[tokio::test]
async fn applies_at_start_and_on_file_change() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sink.json", &sink("/tmp/a.txt", "x"));
    let r = start(&sim, dir.path(), &["--interval", "1h"]).await;
    r.until("created", |s| s.passes == 1).await;
    assert_eq!(outcome(&r.status.borrow()), "applied");
    assert_eq!(
        live_config(&sim).await["connect-sentinel.owner"],
        "connect-sentinel"
    );
    assert_eq!(r.get("/readyz").await.0, 200);
    write(dir.path(), "sink.json", &sink("/tmp/b.txt", "x"));
    r.until("updated", |s| s.passes >= 2 && outcome(s) == "applied")
        .await;
    assert_eq!(live_config(&sim).await["file"], "/tmp/b.txt");
    let metrics = r.get("/metrics").await.1;
    for series in [
        r#"connect_sentinel_reconcile_passes_total{trigger="resync",outcome="applied"} 1"#,
        r#"connect_sentinel_reconcile_passes_total{trigger="files",outcome="applied"}"#,
        r#"connect_sentinel_reconcile_changes_total{action="create"} 1"#,
        r#"connect_sentinel_reconcile_changes_total{action="update"} 1"#,
        "connect_sentinel_reconcile_last_success_timestamp_seconds",
    ] {
        assert!(metrics.contains(series), "{series}\n{metrics}");
    }
    assert_eq!(r.get("/livez").await.0, 200);
}

/// A config changed by hand is put back on the next resync and counted as drift; a
/// pass with nothing to do reads three times (the expanded list, the names, `/health`)
/// and writes nothing; one pass may be in flight at the edges of the count.
#[tokio::test]
async fn drift_is_corrected_on_resync() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sink.json", &sink("/tmp/a.txt", "x"));
    let r = start(&sim, dir.path(), &["--interval", "100ms"]).await;
    r.until("created", |s| outcome(s) == "applied").await;
    let passes = r.until("in sync", |s| outcome(s) == "in_sync").await.passes;
    common::take_requests(&sim).await;
    let now = r
        .until("another quiet pass", |s| s.passes > passes)
        .await
        .passes;
    let counts = common::take_requests(&sim).await;
    assert!(
        counts["total"].as_u64().unwrap() <= 3 * (now - passes + 1),
        "{counts}"
    );
    let mut by_hand = live_config(&sim).await;
    by_hand["file"] = json!("/tmp/hand-edited.txt");
    let url = format!("{}/connectors/files-sink/config", sim.url());
    common::http().put(url).json(&by_hand).send().await.unwrap();
    r.until("drift corrected", |s| {
        s.passes > now && outcome(s) == "applied"
    })
    .await;
    assert_eq!(live_config(&sim).await["file"], "/tmp/a.txt");
    let metrics = r.get("/metrics").await.1;
    assert!(
        metrics.contains("connect_sentinel_reconcile_drift_total 1"),
        "{metrics}"
    );
}

/// A Kubernetes Secret volume: `password -> ..data/password`, `..data -> ..v1`. The
/// kubelet's atomic swap of `..data` re-renders and re-applies; no pass, status or
/// metric shows the secret.
#[tokio::test]
async fn secret_rotation_is_applied() {
    let sim = common::sim("3.9.0").await;
    let (dir, vars) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let secret = |version: &str, value: &str| {
        fs::create_dir(vars.path().join(version)).unwrap();
        fs::write(
            vars.path().join(version).join("password"),
            format!("{value}\n"),
        )
        .unwrap();
        symlink(version, vars.path().join("..data_tmp")).unwrap();
        fs::rename(vars.path().join("..data_tmp"), vars.path().join("..data")).unwrap();
    };
    secret("..v1", CANARY);
    symlink("..data/password", vars.path().join("password")).unwrap();
    write(
        dir.path(),
        "sink.json",
        &sink("/tmp/a.txt", "{{ vars.password }}"),
    );
    let vars_arg = vars.path().to_str().unwrap().to_string();
    let r = start(&sim, dir.path(), &["--interval", "1h", "--vars", &vars_arg]).await;
    r.until("created", |s| outcome(s) == "applied").await;
    assert_eq!(live_config(&sim).await["connection.password"], CANARY);
    secret("..v2", ROTATED);
    r.until("rotated", |s| s.passes >= 2 && outcome(s) == "applied")
        .await;
    assert_eq!(live_config(&sim).await["connection.password"], ROTATED);
    let seen = format!(
        "{}{}{}",
        r.get("/").await.1,
        r.get("/metrics").await.1,
        r.get("/readyz").await.1
    );
    assert!(!seen.contains("CANARY"), "{seen}");
}

/// Broken YAML: the pass is refused naming the file, nothing is written, /readyz is
/// 503 and the loop keeps going; fixing the file converges again.
#[tokio::test]
async fn a_broken_manifest_writes_nothing_and_recovers() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sink.json", &sink("/tmp/a.txt", "x"));
    let r = start(&sim, dir.path(), &["--interval", "1h"]).await;
    r.until("created", |s| outcome(s) == "applied").await;
    fs::write(dir.path().join("more.yaml"), "name: [unclosed\n").unwrap();
    write(dir.path(), "sink.json", &sink("/tmp/changed.txt", "x"));
    r.until("refused", |s| outcome(s) == "invalid").await;
    let (code, body) = r.get("/readyz").await;
    assert_eq!(code, 503);
    assert!(body.contains("more.yaml"), "{body}");
    assert_eq!(
        live_config(&sim).await["file"],
        "/tmp/a.txt",
        "nothing written"
    );
    fs::remove_file(dir.path().join("more.yaml")).unwrap();
    r.until("recovered", |s| outcome(s) == "applied").await;
    assert_eq!(live_config(&sim).await["file"], "/tmp/changed.txt");
    assert_eq!(r.get("/readyz").await.0, 200);
}

/// A worker still starting up may list no connectors (spec §20.2), so a plan against it
/// would re-create every one: while `GET /health` says starting (§16), passes write
/// nothing and /readyz says why; once it is ready, the next pass applies.
#[tokio::test]
async fn a_starting_worker_gets_no_writes() {
    let sim = common::sim("3.9.0").await;
    common::control(&sim)
        .health(&json!({"status": "starting"}))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sink.json", &sink("/tmp/a.txt", "x"));
    let r = start(&sim, dir.path(), &["--interval", "50ms"]).await;
    r.until("two passes", |s| s.passes >= 2).await;
    assert_eq!(outcome(&r.status.borrow()), "unreachable");
    let (code, body) = r.get("/readyz").await;
    assert_eq!(code, 503);
    assert!(body.contains("starting (GET /health)"), "{body}");
    assert_no_writes(&sim).await;
    common::control(&sim)
        .health(&json!({"status": "healthy"}))
        .await
        .unwrap();
    r.until("applied once ready", |s| outcome(s) == "applied")
        .await;
    assert_eq!(live_config(&sim).await["file"], "/tmp/a.txt");
}

/// A FAILED connector ignores pause (spec §17): declared paused, it is paused once
/// while it runs, and once FAILED the passes stay quiet instead of pausing it again.
#[tokio::test]
async fn a_failed_connector_is_not_paused_on_every_pass() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let mut paused = sink("/tmp/a.txt", "x");
    paused["state"] = json!("paused");
    write(dir.path(), "sink.json", &paused);
    let r = start(&sim, dir.path(), &["--interval", "50ms"]).await;
    let passes = r.until("in sync", |s| outcome(s) == "in_sync").await.passes;
    let failed = json!({"state": "FAILED", "trace": "org.apache.kafka.connect.errors.ConnectException: boom"});
    common::control(&sim)
        .connector_state("files-sink", &failed)
        .await
        .unwrap();
    common::take_requests(&sim).await;
    let status = r
        .until("three more passes", |s| s.passes >= passes + 3)
        .await;
    assert_eq!(outcome(&status), "in_sync");
    assert_no_writes(&sim).await;
}

/// Asserts that Connect got only reads since the last [`common::take_requests`].
async fn assert_no_writes(sim: &Running) {
    let counts = common::take_requests(sim).await;
    let by_route = counts["by_route"].as_object().unwrap();
    let writes = by_route.keys().filter(|route| !route.starts_with("GET"));
    assert_eq!(writes.count(), 0, "{counts}");
}

/// Reading the files and rewriting them with the same bytes settle as a burst that
/// changed nothing: no pass. A real edit is the next pass, and its trigger is files.
#[tokio::test]
async fn an_idle_reconciler_passes_only_when_a_file_really_changes() {
    let sim = common::sim("3.9.0").await;
    let (dir, vars) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    fs::write(vars.path().join("password"), "x\n").unwrap();
    write(
        dir.path(),
        "sink.json",
        &sink("/tmp/a.txt", "{{ vars.password }}"),
    );
    let file = dir.path().join("sink.json");
    let (file_arg, vars_arg) = (file.to_str().unwrap(), vars.path().to_str().unwrap());
    let url = sim.url();
    let mut argv = vec!["-f", file_arg, "--vars", vars_arg, "--connect-url", &url];
    argv.extend(["--debounce", "50ms", "--interval", "1h"]);
    let r = reconciling::start(&argv, None).await;
    r.until("created", |s| s.passes == 1).await;
    rewrite_unchanged(&r, &[&file, &vars.path().join("password")]).await;
    write(
        dir.path(),
        "sink.json",
        &sink("/tmp/b.txt", "{{ vars.password }}"),
    );
    let status = r.until("edited", |s| s.passes >= 2).await;
    assert_eq!((status.passes, outcome(&status)), (2, "applied"));
    assert_eq!(live_config(&sim).await["file"], "/tmp/b.txt");
    let metrics = r.get("/metrics").await.1;
    let series = r#"connect_sentinel_reconcile_passes_total{trigger="files",outcome="applied"} 1"#;
    assert!(metrics.contains(series), "{metrics}");
}

/// A create Connect refuses (PUT config, 400) is tried at start-up, then again only on
/// a resync or a real change: events that change nothing neither validate nor PUT it.
#[tokio::test]
async fn a_refused_create_is_not_retried_on_every_event() {
    let sim = common::sim("3.9.0").await;
    let refuse =
        json!({"status": 400, "method": "PUT", "path_regex": "^/connectors/files-sink/config$"});
    common::faults(&sim, refuse).await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sink.json", &sink("/tmp/a.txt", "x"));
    let r = start(&sim, dir.path(), &["--interval", "1h"]).await;
    let status = r.until("refused", |s| s.passes == 1).await;
    assert_eq!(outcome(&status), "partial");
    common::take_requests(&sim).await;
    rewrite_unchanged(&r, &[&dir.path().join("sink.json")]).await;
    assert_no_writes(&sim).await;
}

/// Reads `files` and writes each back unchanged; waits until that burst has settled
/// and asserts it ran no pass.
async fn rewrite_unchanged(r: &Reconciling, files: &[&Path]) {
    let (passes, unchanged) = {
        let status = r.status.borrow();
        (status.passes, status.unchanged)
    };
    for file in files {
        let bytes = fs::read(file).unwrap();
        fs::write(file, bytes).unwrap();
    }
    let status = r.until("settled", |s| s.unchanged > unchanged).await;
    assert_eq!(status.passes, passes, "no pass for an unchanged input");
}
