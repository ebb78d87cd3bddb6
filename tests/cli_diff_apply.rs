//! `diff` and `apply` through the real binary against connect-sim: creates, updates,
//! no-ops, deletes and target states, exit codes, ownership and prune, validation that
//! blocks every write, and a worker still starting up. Reads during rebalances are in
//! `cli_diff_apply_reads.rs`, redaction in `cli_diff_apply_secrets.rs`.

mod common;

use std::path::{Path, PathBuf};

use common::{declaring::*, text};
use serde_json::{Value, json};

/// Create in three states, then a no-op, an update with key-level changes, a state
/// change and a prune; diff exits 1 while there are changes and 0 after.
#[tokio::test(flavor = "multi_thread")]
async fn create_update_noop_state_and_delete() {
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    m.set("a.yaml", &sink("a", "orders", "running"))
        .set("b.yaml", &sink("b", "audit", "paused"))
        .set("c.yaml", &sink("c", "logs", "stopped"));
    let diff = run("diff", &sim, &["-f", m.dir()]).await;
    assert_exit(&diff, 1);
    assert!(
        text(&diff).0.contains("+ create b (paused)"),
        "{:?}",
        text(&diff)
    );
    let apply = run("apply", &sim, &["-f", m.dir()]).await;
    assert_exit(&apply, 0);
    let (stdout, _) = text(&apply);
    assert_has(
        &stdout,
        &[
            "a: created (running)",
            "b: created (paused)",
            "c: created (stopped)",
        ],
    );
    assert_eq!(
        states(&sim).await,
        json!({"a": "RUNNING", "b": "PAUSED", "c": "STOPPED"})
    );
    assert_eq!(
        config(&sim, "a").await["connect-sentinel.owner"],
        "connect-sentinel"
    );

    common::take_requests(&sim).await;
    assert_exit(&run("apply", &sim, &["-f", m.dir()]).await, 0);
    assert_exit(&run("diff", &sim, &["-f", m.dir()]).await, 0);
    assert_eq!(writes(&sim).await, 0, "an unchanged connector was written");

    m.set(
        "a.yaml",
        &sink("a", "orders,payments", "running").replace("  tasks.max: 1\n", "  batch.size: 5\n"),
    );
    m.set("b.yaml", &sink("b", "audit", "running"));
    let diff = run("diff", &sim, &["-f", m.dir()]).await;
    assert_exit(&diff, 1);
    let (stdout, _) = text(&diff);
    assert_has(
        &stdout,
        &[
            "~ update a",
            "    ~ topics: \"orders\" → \"orders,payments\"",
            "    + batch.size = \"5\"",
            "    - tasks.max = \"1\"",
            "> resume b",
            "Plan: 0 to create, 1 to update, 1 to change state, 0 to delete, 1 unchanged.",
        ],
    );
    let json_diff = run("diff", &sim, &["-f", m.dir(), "-o", "json"]).await;
    let plan: Value = serde_json::from_slice(&json_diff.stdout).unwrap();
    assert_eq!(plan["summary"]["update"], 1);
    assert_eq!(
        plan["connectors"][0]["changes"].as_array().unwrap().len(),
        3
    );

    common::take_requests(&sim).await;
    assert_exit(&run("apply", &sim, &["-f", m.dir()]).await, 0);
    assert_eq!(writes(&sim).await, 2, "one PUT for a, one resume for b");
    assert_eq!(config(&sim, "a").await["batch.size"], "5");
    assert_eq!(states(&sim).await["b"], "RUNNING");

    m.remove("c.yaml");
    assert_exit(&run("diff", &sim, &["-f", m.dir()]).await, 0);
    let prune = run("apply", &sim, &["-f", m.dir(), "--prune"]).await;
    assert_exit(&prune, 0);
    assert!(text(&prune).0.contains("c: deleted"), "{:?}", text(&prune));
}

/// A connector made by hand survives `--prune`, and is only changed (adopted) once
/// declared; an empty declared set is refused unless `--force`.
#[tokio::test(flavor = "multi_thread")]
async fn ownership_prune_and_the_empty_set() {
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, json!({"connectors": [{"name": "handmade"}]})).await;
    let m = Manifests::new();
    m.set("a.yaml", &sink("a", "orders", "running"));
    assert_exit(&run("apply", &sim, &["-f", m.dir(), "--prune"]).await, 0);
    m.remove("a.yaml");
    m.set("b.yaml", &sink("b", "audit", "running"));
    let out = run("apply", &sim, &["-f", m.dir(), "--prune"]).await;
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("a: deleted"));
    let names = states(&sim).await;
    assert!(
        names.get("handmade").is_some() && names.get("a").is_none(),
        "{names}"
    );

    let other_owner = run(
        "apply",
        &sim,
        &["-f", m.dir(), "--prune", "--owner", "team-x"],
    )
    .await;
    assert_exit(&other_owner, 0);
    assert!(
        states(&sim).await.get("b").is_some(),
        "team-x adopted b, it did not prune it"
    );
    assert_eq!(config(&sim, "b").await["connect-sentinel.owner"], "team-x");

    m.remove("b.yaml");
    m.set("empty.json", "[]");
    let refused = run(
        "apply",
        &sim,
        &["-f", m.dir(), "--prune", "--owner", "team-x"],
    )
    .await;
    assert_exit(&refused, 2);
    assert!(
        text(&refused).1.contains("pass --force"),
        "{:?}",
        text(&refused)
    );
    let forced = run(
        "apply",
        &sim,
        &["-f", m.dir(), "--prune", "--force", "--owner", "team-x"],
    )
    .await;
    assert_exit(&forced, 0);
    let left = states(&sim).await;
    assert_eq!(
        left.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["handmade"]
    );

    let handmade = config(&sim, "handmade").await;
    let declared = json!({"name": "handmade", "config": handmade});
    m.set("handmade.json", &declared.to_string());
    let adopt = run("diff", &sim, &["-f", m.dir()]).await;
    assert_exit(&adopt, 1);
    let (stdout, _) = text(&adopt);
    assert!(
        stdout.contains("~ update handmade (adopt)")
            && stdout.contains("+ connect-sentinel.owner = \"connect-sentinel\""),
        "{stdout}"
    );
}

/// One invalid connector stops every write; errors name the connector and key. The
/// simulator's validate, like Connect's, ignores the unknown owner key.
#[tokio::test(flavor = "multi_thread")]
async fn a_validation_failure_blocks_all_writes() {
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    m.set("good.yaml", &sink("good", "orders", "running"));
    m.set(
        "bad.yaml",
        "name: bad\nconfig:\n  connector.class: io.confluent.connect.jdbc.JdbcSourceConnector\n  connection.url: jdbc:postgresql://db/x\n  tasks.max: many\n",
    );
    common::take_requests(&sim).await;
    let out = run("apply", &sim, &["-f", m.dir()]).await;
    assert_exit(&out, 2);
    let (_, stderr) = text(&out);
    assert_has(
        &stderr,
        &[
            "bad: invalid config:",
            "    tasks.max: Invalid value many for configuration tasks.max: Not a number of type INT",
            "    topic.prefix: Missing required configuration \"topic.prefix\" which has no default value.",
            "nothing applied: 1 connector(s) failed validation",
        ],
    );
    assert_eq!(writes(&sim).await, 0);
    assert!(states(&sim).await.as_object().unwrap().is_empty());

    let url = format!(
        "{}/connector-plugins/FileStreamSink/config/validate",
        sim.url()
    );
    let config = json!({"connector.class": "FileStreamSink", "name": "x", "topics": "t",
                        "connect-sentinel.owner": "connect-sentinel"});
    let report = answer(common::http().put(url).json(&config)).await;
    assert_eq!(report["error_count"], 0, "{report}");
}

/// A worker whose `GET /health` says starting (spec §16) may list no connectors yet
/// (§20.2): diff and apply refuse to plan against it (exit 2) and write nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_starting_worker_is_not_planned_against() {
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    m.set("a.yaml", &sink("a", "orders", "running"));
    common::control(&sim)
        .health(&json!({"status": "starting"}))
        .await
        .unwrap();
    common::take_requests(&sim).await;
    for command in ["diff", "apply"] {
        let out = run(command, &sim, &["-f", m.dir()]).await;
        assert_exit(&out, 2);
        assert_has(
            &text(&out).1,
            &["the Connect worker is starting (GET /health): Worker is still starting up"],
        );
    }
    assert_eq!(writes(&sim).await, 0);
    common::control(&sim)
        .health(&json!({"status": "healthy"}))
        .await
        .unwrap();
    assert_exit(&run("apply", &sim, &["-f", m.dir()]).await, 0);
    assert_eq!(states(&sim).await["a"], "RUNNING");
}

/// The sample manifests load, validate and apply against the simulator's catalogue.
#[tokio::test(flavor = "multi_thread")]
async fn the_examples_apply_cleanly() {
    let sim = common::sim("3.9.0").await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let path = |p: &str| root.join(p).display().to_string();
    let (files, vars) = (path("connectors"), path("vars"));
    let out = run("apply", &sim, &["-f", &files, "--vars", &vars]).await;
    assert_exit(&out, 0);
    assert!(Path::new(&vars).join("orders_db_password").exists());
    assert_eq!(
        states(&sim).await,
        json!({"audit-file-sink": "STOPPED", "legacy-mirror": "PAUSED",
               "orders-jdbc-source": "RUNNING", "s3-archive-sink": "RUNNING"})
    );
    assert_exit(
        &run("diff", &sim, &["-f", &files, "--vars", &vars]).await,
        0,
    );
}
