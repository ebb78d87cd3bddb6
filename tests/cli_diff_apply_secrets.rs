//! Secrets never printed by `diff` or `apply`: `--vars` values, templated secrets and
//! live values, in text and JSON, success and error, even where Connect echoes them.

mod common;

use common::{declaring::*, text};
use connect_sim::Running;
use serde_json::json;

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
