//! connect-operator's ConfigMaps, unchanged, through the real binary against
//! connect-sim: ConfigMap YAML files as `diff`/`apply -f` manifests, jq programs with
//! `env.X` and `$X` from a `--vars` directory of `*.properties` files and Secret keys,
//! several keys per ConfigMap, `enabled: "false"` under the ownership rule,
//! `--selector`, `--template`, jq errors that name ConfigMap, key and position,
//! runaway programs stopped by the worker's limits, and secrets never printed.

mod common;

use std::{path::Path, process::Output};

use common::{
    declaring::{self, assert_exit},
    text,
};
use connect_sim::Running;
use serde_json::{Value, json};
use tempfile::TempDir;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/connect-operator"
);

/// The environment connect-operator's Pod gave (`env.MYSQL_CONNECTION_USER`).
const ENV: &[(&str, &str)] = &[("MYSQL_CONNECTION_USER", "root")];

/// `connect-sentinel COMMAND --connect-url SIM EXTRA…` with [`ENV`].
async fn sentinel(command: &str, sim: &Running, extra: &[&str]) -> Output {
    declaring::run_env(command, sim, extra, ENV).await
}

fn fixture(path: &str) -> String {
    format!("{FIXTURES}/{path}")
}

/// A ConfigMap document: `labels` and `data` as given.
fn configmap(name: &str, labels: Value, data: Value) -> String {
    let map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "kafka", "labels": labels}, "data": data});
    serde_json::to_string_pretty(&map).unwrap()
}

/// A jq program for a FileStreamSink named `name` (its topic from `$TOPIC_PREFIX`).
fn sink_program(name: &str) -> String {
    format!(
        r#"{{"name": "{name}", "config": {{"connector.class": "FileStreamSink", "topics": "\($TOPIC_PREFIX){name}", "file": "/tmp/{name}.log"}}}}"#
    )
}

/// `cm.yaml` in `dir`: ConfigMap `name` (selected), its one key `key` holding `text`.
fn one_key(dir: &TempDir, name: &str, key: &str, text: &str) -> String {
    let data = json!({ key: text });
    write(
        dir,
        "cm.yaml",
        &configmap(name, json!({"destination": "connect"}), data),
    )
}

fn write(dir: &TempDir, file: &str, text: &str) -> String {
    let path = dir.path().join(file);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The fixtures as connect-operator users keep them: planned, applied exactly as
/// connect-operator's jq would render them (every key of a ConfigMap, `$X` from the
/// properties files, `env.X` from the environment and the Secret key), then in sync.
#[tokio::test(flavor = "multi_thread")]
async fn connect_operator_configmaps_apply_unchanged() {
    let sim = common::sim("3.9.0").await;
    let (maps, vars) = (fixture("configmaps"), fixture("vars"));
    let args = ["-f", &maps, "--vars", &vars];
    let diff = sentinel("diff", &sim, &args).await;
    assert_exit(&diff, 1);
    let (stdout, stderr) = text(&diff);
    for line in [
        "+ create customers-jdbc",
        "+ create orders-archive",
        "+ create payments-archive",
        "Plan: 3 to create",
    ] {
        assert!(stdout.contains(line), "{line}:\n{stdout}");
    }
    assert!(
        !stdout.contains("pageviews") && !stdout.contains("not-ours"),
        "{stdout}"
    );
    assert!(
        !format!("{stdout}{stderr}").contains("CANARY"),
        "{stdout}{stderr}"
    );

    assert_exit(&sentinel("apply", &sim, &args).await, 0);
    let jdbc = common::config_of(&sim, "customers-jdbc").await;
    assert_eq!(jdbc["connection.user"], "root");
    assert_eq!(jdbc["connection.password"], "CANARY-mysql-3141");
    assert_eq!(jdbc["topic.prefix"], "shop.");
    assert_eq!(
        jdbc["value.converter.schema.registry.url"],
        "http://schema-registry:8081"
    );
    assert_eq!(
        jdbc["value.converter.schema.registry.basic.auth.user.info"], "sr-user:CANARY-sr-2718=x",
        "a Java property keeps every '=' after the first"
    );
    assert_eq!(jdbc["tasks.max"], "1");
    let payments = common::config_of(&sim, "payments-archive").await;
    assert_eq!(payments["topics"], "shop.payments,shop.refunds");
    assert_eq!(
        common::config_of(&sim, "orders-archive").await["tasks.max"],
        "1"
    );
    assert_eq!(
        common::config_of(&sim, "pageviews-source").await,
        Value::Null
    );
    assert_exit(&sentinel("diff", &sim, &args).await, 0);
}

/// `enabled: "false"` declares a connector absent: an owned one is deleted under
/// `--prune` (even when nothing is left declared), an owned one without `--prune` and
/// an unowned one stay, each with a warning.
#[tokio::test(flavor = "multi_thread")]
async fn enabled_false_deletes_only_owned_connectors_under_prune() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let vars = fixture("vars");
    let labels = |enabled: &str| json!({"destination": "connect", "enabled": enabled});
    let data = json!({"a.json": sink_program("a"), "b.json": sink_program("b")});
    let maps = write(
        &dir,
        "sinks.yaml",
        &configmap("sinks", labels("true"), data.clone()),
    );
    let args = ["-f", &maps, "--vars", &vars];
    assert_exit(&sentinel("apply", &sim, &args).await, 0);
    assert_eq!(common::config_of(&sim, "a").await["topics"], "shop.a");
    common::seed(
        &sim,
        json!({"connectors": [{"name": "legacy", "type": "sink"}]}),
    )
    .await;

    write(
        &dir,
        "sinks.yaml",
        &configmap("sinks", labels("false"), data),
    );
    let legacy = json!({"legacy.json": sink_program("legacy")});
    write(
        &dir,
        "legacy.yaml",
        &configmap("legacy", labels("FALSE"), legacy),
    );
    let dir_arg = dir.path().to_str().unwrap();
    let args = ["-f", dir_arg, "--vars", &vars];
    let diff = sentinel("diff", &sim, &args).await;
    assert_exit(&diff, 0);
    let (_, stderr) = text(&diff);
    assert!(
        stderr.contains("warning: connector \"a\" is disabled (enabled: \"false\") but stays: deleting it needs --prune"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: connector \"legacy\" is disabled (enabled: \"false\") but not owned by \"connect-sentinel\": left alone"),
        "{stderr}"
    );

    let prune = sentinel("apply", &sim, &["-f", dir_arg, "--vars", &vars, "--prune"]).await;
    assert_exit(&prune, 0);
    let (stdout, stderr) = text(&prune);
    assert!(
        stdout.contains("a: deleted") && stdout.contains("b: deleted"),
        "{stdout}"
    );
    assert!(stderr.contains("\"legacy\" is disabled"), "{stderr}");
    assert_eq!(common::config_of(&sim, "a").await, Value::Null);
    assert_ne!(
        common::config_of(&sim, "legacy").await,
        Value::Null,
        "not ours: left alone"
    );

    write(
        &dir,
        "sinks.yaml",
        &configmap("sinks", labels("maybe"), json!({})),
    );
    let bad = sentinel("diff", &sim, &["-f", dir_arg, "--vars", &vars]).await;
    assert_exit(&bad, 2);
    assert!(
        text(&bad).1.contains(
            "configmap/kafka/sinks: label enabled must be \"true\" or \"false\", found \"maybe\""
        ),
        "{:?}",
        text(&bad)
    );
}

/// `--selector` decides which ConfigMaps of a file count (any label selector), and a
/// malformed one stops the command naming the flag.
#[tokio::test(flavor = "multi_thread")]
async fn the_selector_decides_which_configmaps_count() {
    let sim = common::sim("3.9.0").await;
    let (maps, vars) = (fixture("configmaps/sinks.yaml"), fixture("vars"));
    let diff = async |selector: &str| {
        sentinel(
            "diff",
            &sim,
            &["-f", &maps, "--vars", &vars, "--selector", selector],
        )
        .await
    };
    let elsewhere = diff("destination=elsewhere").await;
    assert_exit(&elsewhere, 1);
    let (stdout, _) = text(&elsewhere);
    assert!(
        stdout.contains("+ create not-ours") && stdout.contains("Plan: 1 to create"),
        "{stdout}"
    );
    let both = diff("destination in (connect, elsewhere),!destination.cc").await;
    assert!(
        text(&both).0.contains("Plan: 3 to create"),
        "{:?}",
        text(&both)
    );
    let bad = diff("destination in (connect").await;
    assert_exit(&bad, 2);
    assert!(
        text(&bad).1.contains("invalid --selector: unclosed '('"),
        "{:?}",
        text(&bad)
    );
}

/// `--template jq` reads a key of any name as jq; `--template jinja` never runs jq,
/// so a `.json` key holding a program is invalid JSON.
#[tokio::test(flavor = "multi_thread")]
async fn the_template_flag_forces_the_dialect() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let vars = fixture("vars");
    let file = one_key(&dir, "cm", "connector", &sink_program("plain"));
    let jq = sentinel(
        "diff",
        &sim,
        &["-f", &file, "--vars", &vars, "--template", "jq"],
    )
    .await;
    assert_exit(&jq, 1);
    assert!(text(&jq).0.contains("+ create plain"), "{:?}", text(&jq));

    let file = one_key(&dir, "cm", "c.json", &sink_program("c"));
    let jinja = sentinel(
        "diff",
        &sim,
        &["-f", &file, "--vars", &vars, "--template", "jinja"],
    )
    .await;
    assert_exit(&jinja, 2);
    let (_, stderr) = text(&jinja);
    assert!(
        stderr.contains("configmap/kafka/cm/c.json: invalid JSON"),
        "{stderr}"
    );
    assert!(!stderr.contains("jq"), "{stderr}");
}

/// A syntax error names the file, ConfigMap, key, line and column; an undefined `$X`
/// says how names map; a runtime error and a typo in plain JSON are named too; nothing
/// is written.
#[tokio::test(flavor = "multi_thread")]
async fn jq_errors_name_configmap_key_and_position() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let vars = fixture("vars");
    let cases = [
        (
            "{\n  \"name\": \"x\",\n  \"config\": {\"a\": (1 +}\n}",
            "cm.yaml: configmap/kafka/broken/k.json: invalid jq program at line 3, column 23: expected closing parenthesis, found \"}\"",
        ),
        (
            "{\"name\": \"x\", \"config\": {\"a\": $SCHEMA_REGISTRY}}",
            "configmap/kafka/broken/k.json: invalid jq program at line 1, column 31: undefined variable $SCHEMA_REGISTRY (no --vars value maps to it",
        ),
        (
            "{\"name\": \"x\", \"config\": {\"a\": ({} | keys | .[0] | ascii_downcase)}}",
            "configmap/kafka/broken/k.json: jq program failed: ",
        ),
        (
            "{\"name\": \"x\", \"config\": {\"a\": env.NOT_SET}}",
            "connector \"x\", key \"a\": null is not a config value (omit the key instead); in jq an unset env.NAME is null",
        ),
        (
            "{\"name\": \"x\" \"config\": {}}",
            "configmap/kafka/broken/k.json: invalid JSON at line 1, column 14: expected `,` or `}` (nor is it a jq program: at line 1, column 14 ",
        ),
    ];
    for (program, expected) in cases {
        let file = one_key(&dir, "broken", "k.json", program);
        let out = sentinel("apply", &sim, &["-f", &file, "--vars", &vars]).await;
        assert_exit(&out, 2);
        let (_, stderr) = text(&out);
        assert!(
            stderr.contains(expected),
            "{program}\n  expected {expected}\n  got {stderr}"
        );
    }
    let listed = common::http()
        .get(format!("{}/connectors", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.json::<Value>().await.unwrap(), json!([]));
}

/// Runaway programs end in a clear error instead of a hang or an exhausted machine:
/// the memory limit, the deadline, a stack overflow.
#[tokio::test(flavor = "multi_thread")]
async fn runaway_jq_programs_are_stopped() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"reduce range(64) as $i ("x"; . + .)"#,
            "needed more than the 256 MiB of memory",
        ),
        (
            "def f: f; f",
            "ran longer than 2s (the deadline of a jq program)",
        ),
        ("def f: [f]; f", "jq program stopped: "),
    ];
    for (program, expected) in cases {
        let file = one_key(&dir, "runaway", "r.json", program);
        let out = sentinel("diff", &sim, &["-f", &file]).await;
        assert_exit(&out, 2);
        let (_, stderr) = text(&out);
        assert!(
            stderr.contains("configmap/kafka/runaway/r.json: jq program stopped: ")
                && stderr.contains(expected),
            "{program}: {stderr}"
        );
    }
}

/// Values from the properties files and Secret keys of `--vars` never appear in any
/// output, text or JSON, plan or error: not in a non-secret key, not in a jq error
/// quoting the value, not in Connect's error echoing the config.
#[tokio::test(flavor = "multi_thread")]
async fn a_canary_from_vars_is_never_printed() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let vars = fixture("vars");
    let program = |extra: &str| {
        format!(
            r#"{{"name": "src", "config": {{"connector.class": "FileStreamSink", "topics": "t", "file": "/tmp/src.log",
                 "note": "auth \($SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO)", "copy": env.MYSQL_CONNECTION_PASSWORD{extra}}}}}"#
        )
    };
    let set = |extra: &str| one_key(&dir, "src", "src.json", &program(extra));
    let file = set("");
    let mut outputs = Vec::new();
    for (command, extra, code) in [
        ("diff", &[][..], 1),
        ("diff", &["-o", "json"][..], 1),
        ("apply", &["-o", "json"][..], 0),
    ] {
        let mut args = vec!["-f", file.as_str(), "--vars", &vars, "--log-level", "debug"];
        args.extend(extra);
        let out = sentinel(command, &sim, &args).await;
        assert_exit(&out, code);
        outputs.push(out);
    }
    set(r#", "n": ($MYSQL_CONNECTION_PASSWORD | tonumber)"#);
    let failed = sentinel("diff", &sim, &["-f", &file, "--vars", &vars]).await;
    assert_exit(&failed, 2);
    assert!(
        text(&failed).1.contains("jq program failed"),
        "{:?}",
        text(&failed)
    );
    outputs.push(failed);
    set(r#", "tasks.max": "2""#);
    let echo = "Connector config {copy=CANARY-mysql-3141} contains no connector type";
    let fault = json!({"status": 400, "method": "PUT", "path_regex": "^/connectors/src/config$",
        "body": {"error_code": 400, "message": echo}});
    common::faults(&sim, fault).await;
    let echoed = sentinel("apply", &sim, &["-f", &file, "--vars", &vars]).await;
    assert_exit(&echoed, 1);
    outputs.push(echoed);
    for out in &outputs {
        let (stdout, stderr) = text(out);
        assert!(
            !stdout.contains("CANARY") && !stderr.contains("CANARY"),
            "{stdout}\n{stderr}"
        );
    }
    let (stdout, _) = text(&outputs[0]);
    assert!(
        stdout.contains("note = (redacted)") && stdout.contains("copy = (redacted)"),
        "{stdout}"
    );
    assert!(Path::new(&vars).join("MYSQL_CONNECTION_PASSWORD").exists());
}
