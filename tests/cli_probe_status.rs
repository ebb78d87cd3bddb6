//! `probe` and `status` through the real binary against connect-sim: the exit-code
//! contract (0 healthy, 1 unhealthy, 2 cannot tell), the one-line output, the table
//! and JSON, and a canary password that must never be printed.

mod common;

use std::process::Command;

use common::{argv, run, text};
use connect_sim::{Running, SimConfig};
use serde_json::json;

async fn cluster() -> Running {
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, json!({"connectors": [
        common::connector("good", &["RUNNING", "RUNNING"]),
        {"name": "bad", "type": "sink", "tasks": [{"state": "RUNNING"}, {"state": "FAILED", "trace": "java.net.ConnectException: refused\n\tat x"}]},
    ]}))
    .await;
    sim
}

/// Exit 0/1 with one line saying why, for the cluster, a connector and a task.
#[tokio::test(flavor = "multi_thread")]
async fn probe_exit_codes_and_lines() {
    let sim = cluster().await;
    let cases: [(&[&str], i32, &str); 5] = [
        (
            &[],
            1,
            "unhealthy: the cluster: task bad-1 FAILED (java.net.ConnectException: refused)",
        ),
        (&["--connector", "good"], 0, "healthy: connector good"),
        (
            &["--connector", "bad", "--task", "0"],
            0,
            "healthy: task bad-0",
        ),
        (
            &["--connector", "bad", "--task", "1"],
            1,
            "unhealthy: task bad-1",
        ),
        (
            &["--connector", "bad", "--task", "7"],
            1,
            "unhealthy: task bad-7 not found",
        ),
    ];
    for (extra, code, line) in cases {
        let out = run(argv("probe", &sim, extra)).await;
        let (stdout, _) = text(&out);
        assert_eq!(out.status.code(), Some(code), "{extra:?}: {stdout}");
        assert!(
            stdout.starts_with(line) && stdout.lines().count() == 1,
            "{extra:?}: {stdout}"
        );
    }
    let scoped = run(argv("probe", &sim, &["--exclude", "^bad$"])).await;
    assert_eq!(scoped.status.code(), Some(0), "{:?}", text(&scoped));
}

/// An unknown connector fails the probe, naming it (exit 1, as serve's
/// `/connectors/{name}` answers 404); one listed without a status record yet (just
/// created) is still transitional. `status` has no `--connector`: that is a usage
/// error naming the flag, never an empty "healthy" table.
#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_connector_fails_the_probe() {
    let sim = cluster().await;
    let seeded =
        json!({"name": "fresh", "state": "NONE", "config": {"connector.class": "FileStreamSink"}});
    common::seed(&sim, json!({"connectors": [seeded]})).await;
    let cases: [(&[&str], i32, &str); 3] = [
        (
            &["--connector", "nosuch"],
            1,
            "unhealthy: connector nosuch not found",
        ),
        (
            &["--connector", "nosuch", "--task", "0"],
            1,
            "unhealthy: connector nosuch not found",
        ),
        (&["--connector", "fresh"], 0, "healthy: connector fresh"),
    ];
    for (extra, code, line) in cases {
        let out = run(argv("probe", &sim, extra)).await;
        let (stdout, _) = text(&out);
        assert_eq!(out.status.code(), Some(code), "{extra:?}: {stdout}");
        assert!(stdout.starts_with(line), "{extra:?}: {stdout}");
    }
    let status = run(argv("status", &sim, &["--connector", "nosuch"])).await;
    let (_, stderr) = text(&status);
    assert_eq!(status.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--connector"), "{stderr}");
}

/// Exit 2 when it cannot tell: unreachable, hung past --timeout, 401, bad input.
#[tokio::test(flavor = "multi_thread")]
async fn probe_cannot_tell_exits_2() {
    let sim = cluster().await;
    common::faults(&sim, json!({"hang": true})).await;
    let hung = run(argv(
        "probe",
        &sim,
        &["--timeout", "300ms", "--connect-timeout", "5s"],
    ))
    .await;
    assert_eq!(hung.status.code(), Some(2));
    assert_eq!(
        text(&hung).0.trim(),
        "cannot tell: no answer from Kafka Connect within 300 ms"
    );
    common::faults(
        &sim,
        json!({"status": 401, "body": "User cannot access the resource."}),
    )
    .await;
    let denied = run(argv("probe", &sim, &[])).await;
    assert_eq!(denied.status.code(), Some(2));
    assert!(
        text(&denied).0.contains("refused the credentials"),
        "{:?}",
        text(&denied)
    );
    let bad = run(argv(
        "probe",
        &sim,
        &["--failure-threshold-percentage", "200"],
    ))
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad).0.contains("--failure-threshold-percentage"),
        "{:?}",
        text(&bad)
    );
}

/// The table shows each connector with its task counts and the trace's first line;
/// `-o json` gives the same rows as data.
#[tokio::test(flavor = "multi_thread")]
async fn status_table_and_json() {
    let sim = cluster().await;
    let out = run(argv("status", &sim, &[])).await;
    let (table, _) = text(&out);
    assert!(out.status.success());
    let bad_row = table.lines().find(|l| l.contains("bad")).unwrap();
    for cell in [
        "sink",
        "RUNNING",
        "1/2",
        "java.net.ConnectException: refused",
    ] {
        assert!(bad_row.contains(cell), "{cell} missing in {bad_row}");
    }
    let out = run(argv("status", &sim, &["-o", "json", "--include", "^good$"])).await;
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            rows[0]["connector"].as_str(),
            rows[0]["tasks_running"].as_u64()
        ),
        (Some("good"), Some(2))
    );
}

/// A canary password never appears in output or logs, even at debug level and on errors.
#[tokio::test(flavor = "multi_thread")]
async fn canary_password_never_printed() {
    let canary = "CANARY-pw:7f3a";
    let auth = Some(("admin".to_string(), canary.to_string()));
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
    let good = format!("admin:{canary}");
    let wrong = format!("admin:{canary}-wrong");
    for auth in [good.as_str(), wrong.as_str()] {
        for command in ["probe", "status"] {
            let out = run(argv(
                command,
                &sim,
                &["--basic-auth", auth, "--log-level", "debug"],
            ))
            .await;
            let (stdout, stderr) = text(&out);
            assert!(
                !stdout.contains("CANARY") && !stderr.contains("CANARY"),
                "{command}: {stdout} {stderr}"
            );
        }
    }
}

/// `--connect-worker-id auto` is `POD_IP` plus the Connect URL's port: only that
/// worker's failures count.
#[tokio::test(flavor = "multi_thread")]
async fn auto_worker_id_uses_pod_ip_and_connect_port() {
    let sim = common::sim("3.9.0").await;
    let mine = format!("10.9.9.9:{}", sim.addr.port());
    common::seed(&sim, json!({"connectors": [{"name": "a", "worker_id": "other:8083",
        "tasks": [{"state": "FAILED", "worker_id": mine}, {"state": "RUNNING", "worker_id": "other:8083"}]}]}))
    .await;
    let probe = |pod_ip: &'static str| {
        let args = argv("probe", &sim, &["--connect-worker-id", "auto"]);
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
                .args(&args)
                .env("POD_IP", pod_ip)
                .output()
                .unwrap()
        })
    };
    let here = probe("10.9.9.9").await.unwrap();
    assert_eq!(here.status.code(), Some(1), "{:?}", text(&here));
    let elsewhere = probe("10.7.7.7").await.unwrap();
    assert_eq!(elsewhere.status.code(), Some(0), "{:?}", text(&elsewhere));
}
