//! `diff` and `apply` reading and writing a busy Connect: slow `/health` answers,
//! per-connector reads during a rebalance, 409 storms and hung writes, and the
//! create-then-pause fallback before 3.7.

mod common;

use common::{declaring::*, text};
use serde_json::json;

/// A busy herder answers `GET /health` slowly (seconds, during a real rebalance): the
/// planning reads wait for it instead of failing at the 500 ms read deadline.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_health_answer_is_waited_for() {
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    m.set("a.yaml", &sink("a", "orders", "running"));
    let slow = json!({"latency_ms": 1500, "path_regex": "^/health$"});
    common::faults(&sim, slow).await;
    assert_exit(&run("apply", &sim, &["-f", m.dir()]).await, 0);
    assert_eq!(states(&sim).await["a"], "RUNNING");
    assert_exit(&run("diff", &sim, &["-f", m.dir()]).await, 0);
}

/// A connector the expanded list leaves out (no status record yet, as right after an
/// apply on real Connect) is read on its own; that herder-queued read may answer 409 or
/// "a rebalance is expected" during a rebalance, and is retried instead of failing.
#[tokio::test(flavor = "multi_thread")]
async fn a_rebalancing_per_connector_read_is_retried() {
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    m.set("a.yaml", &sink("a", "orders", "running"));
    let seeded =
        json!({"name": "a", "state": "NONE", "config": {"connector.class": "FileStreamSink"}});
    common::seed(&sim, json!({"connectors": [seeded]})).await;
    let conflict =
        json!({"status": 409, "path_regex": "^/connectors/a/config$", "method": "GET", "count": 2});
    common::faults(&sim, conflict).await;
    let out = run("diff", &sim, &["-f", m.dir()]).await;
    assert_exit(&out, 1);
    assert_has(&text(&out).0, &["~ update a (adopt)"]);
}

/// A rebalance that outlasts `--retries` (here 2 retries 1 ms apart) does not fail
/// the plan's reads: they go on until `--timeout`. The rebalance is held open until
/// the simulator has answered ten config reads with "a rebalance is expected", then
/// ends, and the apply goes through.
#[tokio::test(flavor = "multi_thread")]
async fn reads_outlast_a_long_rebalance() {
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    m.set("r1.yaml", &sink("r1", "orders", "running"));
    let seeded =
        json!({"name": "r1", "state": "NONE", "config": {"connector.class": "FileStreamSink"}});
    common::seed(&sim, json!({"connectors": [seeded]})).await;
    common::faults(&sim, json!({"rebalancing": true})).await;
    let flags = ["-f", m.dir(), "--retries", "2", "--retry-backoff", "1ms"];
    let apply = tokio::spawn(common::run(common::argv("apply", &sim, &flags)));
    let control = common::control(&sim);
    common::eventually("ten config reads answered during the rebalance", || async {
        let counts = control.requests().await.ok()?;
        let reads = counts["by_route"]["GET /connectors/{name}/config"].as_u64();
        (reads >= Some(10) || apply.is_finished()).then_some(())
    })
    .await;
    control.clear_faults().await.unwrap();
    let out = apply.await.unwrap();
    assert_exit(&out, 0);
    assert_has(&text(&out).0, &["r1: adopted and updated"]);
}

/// 409s during a rebalance are retried; a connector stuck in a 409 storm, or hung past
/// its deadline, fails alone (exit 1) while the others are applied.
#[tokio::test(flavor = "multi_thread")]
async fn conflict_storms_are_retried_and_isolated() {
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    for name in ["a", "b", "c"] {
        m.set(&format!("{name}.yaml"), &sink(name, "t", "running"));
    }
    common::faults(
        &sim,
        json!({"status": 409, "count": 5, "method": "PUT", "path_regex": "/config$"}),
    )
    .await;
    assert_exit(
        &run("apply", &sim, &["-f", m.dir(), "--concurrency", "2"]).await,
        0,
    );
    assert_eq!(states(&sim).await.as_object().unwrap().len(), 3);

    m.set("d.yaml", &sink("d", "t", "running"));
    m.set("e.yaml", &sink("e", "t", "paused"));
    common::faults(
        &sim,
        json!({"status": 409, "path_regex": "^/connectors/d/config$"}),
    )
    .await;
    let out = run("apply", &sim, &["-f", m.dir(), "--retries", "3"]).await;
    assert_exit(&out, 1);
    let (stdout, stderr) = text(&out);
    assert!(
        stderr.contains("d: failed to create: Connect is rebalancing"),
        "{stderr}"
    );
    assert!(
        stdout.contains("e: created (paused)")
            && stdout.contains("1 of 2 change(s) applied, 1 failed."),
        "{stdout}"
    );
    let unreachable = run(
        "apply",
        &sim,
        &["-f", m.dir(), "--connect-url", "http://127.0.0.1:9"],
    )
    .await;
    assert_exit(&unreachable, 2);

    m.set("f.yaml", &sink("f", "t", "running"));
    common::faults(
        &sim,
        json!({"hang": true, "path_regex": "^/connectors/d/config$"}),
    )
    .await;
    let hung = run("apply", &sim, &["-f", m.dir(), "--timeout", "300ms"]).await;
    assert_exit(&hung, 1);
    let (stdout, stderr) = text(&hung);
    assert!(
        stderr
            .contains("d: failed to create: Connect did not answer the change of d within 300 ms"),
        "{stderr}"
    );
    assert!(stdout.contains("f: created (running)"), "{stdout}");
}

/// Before 3.7 there is no `initial_state`: paused and stopped connectors are created,
/// then paused or stopped.
#[tokio::test(flavor = "multi_thread")]
async fn paused_creates_before_3_7_fall_back_to_create_then_pause() {
    let sim = common::sim("3.6.0").await;
    let m = Manifests::new();
    m.set("b.yaml", &sink("b", "audit", "paused"))
        .set("c.yaml", &sink("c", "logs", "stopped"));
    assert_exit(&run("apply", &sim, &["-f", m.dir()]).await, 0);
    assert_eq!(states(&sim).await, json!({"b": "PAUSED", "c": "STOPPED"}));
    let routes = common::take_requests(&sim).await["by_route"].clone();
    assert!(routes.get("POST /connectors").is_none(), "{routes}");
}
