//! `diff` and `apply` through the real binary against connect-sim: creates, updates,
//! no-ops, deletes and target states, exit codes, ownership and prune, validation that
//! blocks every write, 409 storms, and a worker still starting up.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use common::text;
use connect_sim::Running;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Runs the binary off the async runtime (the simulator lives on it).
async fn run(command: &str, sim: &Running, extra: &[&str]) -> Output {
    run_env(command, sim, extra, &[]).await
}

/// [`run`] with extra environment variables.
async fn run_env(command: &str, sim: &Running, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut args = vec![command.to_string(), "--connect-url".into(), sim.url()];
    args.extend(
        ["--retry-backoff".into(), "1ms".into()]
            .into_iter()
            .take(if command == "apply" { 2 } else { 0 }),
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
            .args(&args)
            .env_remove("CONNECT_SENTINEL_OWNER")
            .env_remove("HEALTHCHECK_CONNECT_TIMEOUT")
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{:?}", text(out));
}

/// A directory of manifests, rewritten per step.
struct Manifests(TempDir);

impl Manifests {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn set(&self, file: &str, text: &str) -> &Self {
        std::fs::write(self.0.path().join(file), text).unwrap();
        self
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.0.path().join(file)).unwrap();
    }

    fn dir(&self) -> &str {
        self.0.path().to_str().unwrap()
    }
}

/// A FileStreamSink manifest (valid in the simulator's catalogue).
fn sink(name: &str, topics: &str, state: &str) -> String {
    format!(
        "name: {name}\nstate: {state}\nconfig:\n  connector.class: FileStreamSink\n  topics: {topics}\n  file: /tmp/{name}.log\n  tasks.max: 1\n"
    )
}

/// A request's JSON answer.
async fn answer(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// A GET on the simulator, parsed.
async fn get(sim: &Running, path: &str) -> Value {
    answer(common::http().get(format!("{}{path}", sim.url()))).await
}

async fn states(sim: &Running) -> Value {
    let all = get(sim, "/connectors?expand=status").await;
    let map = all.as_object().unwrap();
    map.iter()
        .map(|(name, v)| (name.clone(), v["status"]["connector"]["state"].clone()))
        .collect()
}

async fn config(sim: &Running, name: &str) -> Value {
    get(sim, &format!("/connectors/{name}/config")).await
}

/// Asserts that `text` holds every line.
fn assert_has(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
}

/// How many Connect writes (PUT/POST/DELETE, validation excluded) the sim received.
async fn writes(sim: &Running) -> u64 {
    let counts = common::take_requests(sim).await;
    counts["by_route"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| !route.starts_with("GET") && !route.contains("validate"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum()
}

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

/// Makes `PUT /connectors/src/config` fail with a 400 that echoes `password`, as
/// Connect's config errors echo whole configs (spec §3).
async fn echo_password_on_put(sim: &Running, password: &str) {
    let echo =
        format!("Connector config {{connection.password={password}}} contains no connector type");
    common::faults(
        sim,
        json!({"status": 400, "method": "PUT", "path_regex": "^/connectors/src/config$",
        "body": {"error_code": 400, "message": echo}}),
    )
    .await;
}

/// A `--vars` value (laid out like a Kubernetes Secret volume) never appears in any
/// output of diff or apply, text or JSON, success or error, even where Connect echoes
/// it back in an error message.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn canary_secret_never_printed() {
    use std::os::unix::fs::symlink;
    const CANARY: &str = "CANARY-s3cr3t-9f2b";
    let vars = tempfile::tempdir().unwrap();
    let data = vars.path().join("..2024_05_01_10_00_00.1");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("pw"), format!("{CANARY}\n")).unwrap();
    symlink("..2024_05_01_10_00_00.1", vars.path().join("..data")).unwrap();
    symlink("..data/pw", vars.path().join("pw")).unwrap();
    let vars = vars.path().to_str().unwrap().to_string();
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    let manifest = |extra: &str| {
        format!(
            "name: src\nconfig:\n  connector.class: io.confluent.connect.jdbc.JdbcSourceConnector\n  connection.url: 'jdbc:postgresql://db/x?ssl={{{{ vars.pw }}}}'\n  connection.password: '{{{{ vars.pw }}}}'\n  topic.prefix: t-\n  note: 'copy of {{{{ vars.pw }}}}'\n{extra}"
        )
    };
    let mut outputs = Vec::new();
    let mut go = async |command: &str, extra: &[&str], code: i32| {
        let mut args = vec!["-f", m.dir(), "--vars", &vars, "--log-level", "debug"];
        args.extend(extra);
        let out = run(command, &sim, &args).await;
        assert_exit(&out, code);
        outputs.push((command.to_string(), extra.join(" "), out));
    };
    m.set("src.yaml", &manifest(""));
    go("diff", &[], 1).await;
    go("diff", &["-o", "json"], 1).await;
    go("apply", &["--dry-run"], 0).await;
    go("apply", &["-o", "json"], 0).await;
    m.set("src.yaml", &manifest("  poll.interval.ms: 100\n"));
    go("diff", &[], 1).await;
    m.set("src.yaml", &manifest("  tasks.max: '{{ vars.pw }}'\n"));
    go("apply", &[], 2).await;
    go("apply", &["-o", "json"], 2).await;
    m.set("src.yaml", &manifest("  poll.interval.ms: 200\n"));
    echo_password_on_put(&sim, CANARY).await;
    go("apply", &[], 1).await;
    go("apply", &["-o", "json"], 1).await;
    for (command, extra, out) in &outputs {
        let (stdout, stderr) = text(out);
        assert!(
            !stdout.contains("CANARY") && !stderr.contains("CANARY"),
            "{command} {extra}:\n{stdout}\n{stderr}"
        );
    }
    let (stdout, _) = text(&outputs[0].2);
    assert!(
        stdout.contains("connection.url = (redacted)") && stdout.contains("note = (redacted)"),
        "{stdout}"
    );
    let (_, stderr) = text(&outputs[7].2);
    assert!(
        stderr.contains("connection.password=(redacted)"),
        "{stderr}"
    );
}

/// A password written as `{{ env.X }}` is redacted in the diff and cut out of Connect's
/// error messages that echo the config, as `--vars` values are.
#[tokio::test(flavor = "multi_thread")]
async fn an_env_templated_secret_is_cut_from_connect_errors() {
    const CANARY: &str = "CANARY-env-77e1";
    let sim = common::sim("3.9.0").await;
    let m = Manifests::new();
    m.set(
        "src.yaml",
        "name: src\nconfig:\n  connector.class: FileStreamSink\n  topics: t\n  file: /tmp/src.log\n  connection.password: '{{ env.SINK_PASSWORD }}'\n",
    );
    echo_password_on_put(&sim, CANARY).await;
    let env = [("SINK_PASSWORD", CANARY)];
    let runs = [
        ("diff", &[][..], 1),
        ("apply", &[][..], 1),
        ("apply", &["-o", "json"][..], 1),
    ];
    for (command, extra, code) in runs {
        let mut args = vec!["-f", m.dir()];
        args.extend(extra);
        let out = run_env(command, &sim, &args, &env).await;
        assert_exit(&out, code);
        let (stdout, stderr) = text(&out);
        assert!(
            !stdout.contains("CANARY") && !stderr.contains("CANARY"),
            "{command} {extra:?}:\n{stdout}\n{stderr}"
        );
        if command == "apply" && extra.is_empty() {
            assert_has(&stderr, &["connection.password=(redacted)"]);
        }
    }
}

/// Live values Connect hands back are redacted in the diff, text and JSON: a URI's
/// password, a bearer or basic token in a value, and the keys of kafka-ui's sanitizer
/// list (`aws.access.*`, `*passphrase`, `connection.uri`, …), while `key.converter`
/// stays readable.
#[tokio::test(flavor = "multi_thread")]
async fn live_secrets_are_redacted_in_the_diff() {
    let sim = common::sim("3.9.0").await;
    let live = json!({"connector.class": "FileStreamSink", "topics": "t", "file": "/tmp/m.log",
        "connection.url": "mongodb://admin:CANARY-uri-1@db:27017/x",
        "errors.header": "Authorization: Bearer CANARY-bearer-2",
        "proxy.header": "Authorization: Basic YWRtaW46Q0FOQVJZLWJhc2ljLTM=",
        "aws.access.key.id": "CANARY-aws-4", "ssl.keystore.passphrase": "CANARY-pp-5",
        "connection.uri": "mongodb://CANARY-6@db", "key.converter": "org.example.Old"});
    common::seed(&sim, json!({"connectors": [{"name": "m", "config": live}]})).await;
    let m = Manifests::new();
    m.set(
        "m.yaml",
        "name: m\nconfig:\n  connector.class: FileStreamSink\n  topics: t\n  file: /tmp/m.log\n  connection.url: mongodb://admin:fresh-1@db:27017/y\n  errors.header: 'Authorization: Bearer fresh-token-2'\n  proxy.header: 'Authorization: Basic b3RoZXI6b3RoZXI='\n  aws.access.key.id: fresh-3\n  ssl.keystore.passphrase: fresh-4\n  connection.uri: mongodb://fresh-5@db\n  key.converter: org.example.New\n",
    );
    let text_out = run("diff", &sim, &["-f", m.dir()]).await;
    let json_out = run("diff", &sim, &["-f", m.dir(), "-o", "json"]).await;
    for out in [&text_out, &json_out] {
        assert_exit(out, 1);
        let (stdout, stderr) = text(out);
        assert!(
            !stdout.contains("CANARY") && !stderr.contains("CANARY"),
            "{stdout}\n{stderr}"
        );
    }
    assert_has(
        &text(&text_out).0,
        &[
            r#"~ connection.url: "mongodb://admin:(redacted)@db:27017/x" → "mongodb://admin:(redacted)@db:27017/y""#,
            r#"~ errors.header: "Authorization: Bearer (redacted)" → "Authorization: Bearer (redacted)""#,
            r#"~ proxy.header: "Authorization: Basic (redacted)" → "Authorization: Basic (redacted)""#,
            "~ aws.access.key.id: (redacted) → (redacted)",
            "~ ssl.keystore.passphrase: (redacted) → (redacted)",
            "~ connection.uri: (redacted) → (redacted)",
            r#"~ key.converter: "org.example.Old" → "org.example.New""#,
        ],
    );
}
