//! Strimzi `KafkaConnector` manifests through the binary against connect-sim, read the
//! way Strimzi reads them: forbidden `spec.config` keys ignored with a warning naming
//! the file, connector and key (and never sent), any API group and the versions
//! v1alpha1, v1beta2 and v1, `spec.pause` beside `spec.state`, and `spec.autoRestart`
//! warned about once per run.

mod common;

use std::path::Path;

use common::declaring;
use connect_sim::Running;
use serde_json::{Value, json};

const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// `connect-sentinel VERB --connect-url SIM -f DIR EXTRA`: exit code, stdout, stderr.
async fn declare(verb: &str, sim: &Running, dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["-f", dir.to_str().unwrap()];
    args.extend(extra);
    declaring::run_text(verb, sim, &args).await
}

/// A KafkaConnector of `api` named `name` with `spec` (YAML lines, indented 2).
fn connector(api: &str, name: &str, spec: &str) -> String {
    format!(
        "apiVersion: {api}\nkind: KafkaConnector\nmetadata:\n  name: {name}\n  labels: {{strimzi.io/cluster: my-connect}}\nspec:\n  class: {SINK}\n{spec}"
    )
}

async fn stored(sim: &connect_sim::Running, name: &str) -> Value {
    common::get_json(&format!("{}/connectors/{name}/config", sim.url())).await
}

/// Debezium's tutorial puts `tasks.max` in `spec.config`; Strimzi ignores it (and
/// `name`), so do we: a warning names the file, connector and key, the key is never
/// sent, and the next diff finds nothing to do.
#[tokio::test]
async fn forbidden_config_keys_are_ignored_with_a_warning() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = "  config:\n    tasks.max: 1\n    name: not-the-name\n    topics: audit\n    file: /tmp/audit.log\n";
    let text = connector("kafka.strimzi.io/v1beta2", "audit", spec);
    std::fs::write(dir.path().join("audit.yaml"), text).unwrap();
    let file = dir.path().join("audit.yaml");
    let at = format!(
        "{} (document 1, line 1): connector \"audit\": ",
        file.display()
    );

    let (code, out, err) = declare("apply", &sim, dir.path(), &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    for key in ["tasks.max", "name"] {
        let warning = format!(
            "connect-sentinel: warning: {at}spec.config key \"{key}\" is ignored, as Strimzi ignores it"
        );
        assert!(err.contains(&warning), "{warning}\n{err}");
    }
    let config = stored(&sim, "audit").await;
    assert_eq!(config["name"], "audit", "{config}");
    assert!(config.get("tasks.max").is_none(), "never sent: {config}");
    assert_eq!(config["topics"], "audit");

    let (code, out, err) = declare("diff", &sim, dir.path(), &[]).await;
    assert_eq!(code, 0, "no endless drift: {out}{err}");
    assert!(
        out.contains("No changes: 1 connector(s) up to date."),
        "{out}"
    );
    assert_eq!(err.matches("warning:").count(), 2, "{err}");

    // A script reading only stdout sees them too.
    let (code, out, err) = declare("diff", &sim, dir.path(), &["-o", "json"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let document: Value = serde_json::from_str(&out).unwrap();
    let warnings = document["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 2, "{document}");
    assert!(
        warnings[0].as_str().unwrap().contains("tasks.max"),
        "{document}"
    );
}

/// Any group with Strimzi's shape (IBM Event Streams' among them) and every version
/// Strimzi served are read; another version is an error naming the file.
#[tokio::test]
async fn other_groups_and_versions() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = |topic: &str| {
        format!("  tasksMax: 2\n  config:\n    topics: {topic}\n    file: /tmp/{topic}\n")
    };
    let docs = [
        connector("eventstreams.ibm.com/v1beta2", "ibm", &spec("a")),
        connector("kafka.strimzi.io/v1alpha1", "alpha", &spec("b")),
        connector("kafka.strimzi.io/v1", "v-one", &spec("c")),
    ];
    std::fs::write(dir.path().join("all.yaml"), docs.join("---\n")).unwrap();
    let (code, out, err) = declare("apply", &sim, dir.path(), &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 of 3 change(s) applied"), "{out}");
    for name in ["ibm", "alpha", "v-one"] {
        assert_eq!(stored(&sim, name).await["tasks.max"], "2", "{name}");
    }

    let old = connector("kafka.strimzi.io/v1beta1", "old", &spec("d"));
    std::fs::write(dir.path().join("old.yaml"), old).unwrap();
    let (code, out, err) = declare("diff", &sim, dir.path(), &[]).await;
    assert_eq!(code, 2, "{out}{err}");
    let file = dir.path().join("old.yaml");
    let want = format!(
        "{} (document 1, line 1): apiVersion \"kafka.strimzi.io/v1beta1\": KafkaConnector version \"v1beta1\" is not one Strimzi served",
        file.display()
    );
    assert!(err.contains(&want), "{want}\n{err}");
}

/// `kubectl get kafkaconnectors -o yaml` as it is: a `kind: List` of resources with
/// their status and metadata, of any group.
#[tokio::test]
async fn a_kubectl_list_export_is_read() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let item = |api: &str, name: &str| {
        json!({"apiVersion": api, "kind": "KafkaConnector",
            "metadata": {"name": name, "namespace": "kafka", "resourceVersion": "7"},
            "spec": {"class": SINK, "tasksMax": 1, "config": {"topics": name, "file": "/tmp/x"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    };
    let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
        "items": [item("kafka.strimzi.io/v1beta2", "exported"), item("eventstreams.ibm.com/v1beta2", "ibm-exported")]});
    std::fs::write(dir.path().join("my-connect.yaml"), list.to_string()).unwrap();
    let (code, out, err) = declare("apply", &sim, dir.path(), &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 of 2 change(s) applied"), "{out}");
    assert_eq!(stored(&sim, "ibm-exported").await["topics"], "ibm-exported");
}

/// `spec.state` wins over the deprecated `spec.pause` (with a warning when both are
/// set); v1 has no `pause`, so it is ignored there with a warning.
#[tokio::test]
async fn pause_and_state_as_strimzi_reads_them() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = |topic: &str, extra: &str| {
        format!("{extra}  config:\n    topics: {topic}\n    file: /tmp/{topic}\n")
    };
    let docs = [
        connector(
            "kafka.strimzi.io/v1beta2",
            "paused",
            &spec("a", "  pause: true\n"),
        ),
        connector(
            "kafka.strimzi.io/v1beta2",
            "both",
            &spec("b", "  pause: true\n  state: stopped\n"),
        ),
        connector(
            "kafka.strimzi.io/v1",
            "v-one",
            &spec("c", "  pause: true\n"),
        ),
    ];
    std::fs::write(dir.path().join("s.yaml"), docs.join("---\n")).unwrap();
    let (code, out, err) = declare("diff", &sim, dir.path(), &[]).await;
    assert_eq!(code, 1, "{out}{err}");
    for line in [
        "+ create paused (paused)",
        "+ create both (stopped)",
        "+ create v-one (running)",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert!(
        err.contains(
            "connector \"both\": both spec.pause and spec.state are set: spec.state (stopped) wins"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "connector \"v-one\": spec.pause is not part of the v1 API: ignored (use spec.state)"
        ),
        "{err}"
    );
}

/// `spec.autoRestart` hands a connector's restarts to `reconcile`: an enabled one is
/// written with the `connect-sentinel.remediated-by` marker sidecars read, a disabled
/// one without it, and neither is warned about.
#[tokio::test]
async fn auto_restart_marks_the_connector_for_the_reconciler() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = |topic: &str, auto: &str| {
        format!(
            "  autoRestart:\n    {auto}\n  config:\n    topics: {topic}\n    file: /tmp/{topic}\n"
        )
    };
    let docs = [
        connector("kafka.strimzi.io/v1", "first", &spec("a", "enabled: true")),
        connector(
            "kafka.strimzi.io/v1",
            "second",
            &spec("b", "maxRestarts: 5"),
        ),
        connector(
            "kafka.strimzi.io/v1",
            "disabled",
            &spec("c", "enabled: false"),
        ),
    ];
    std::fs::write(dir.path().join("r.yaml"), docs.join("---\n")).unwrap();
    let (code, out, err) = declare("apply", &sim, dir.path(), &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("autoRestart"), "{err}");
    let marker = |config: Value| config["connect-sentinel.remediated-by"].clone();
    assert_eq!(marker(common::config_of(&sim, "first").await), "reconciler");
    assert_eq!(
        marker(common::config_of(&sim, "second").await),
        "reconciler"
    );
    assert!(marker(common::config_of(&sim, "disabled").await).is_null());
}
