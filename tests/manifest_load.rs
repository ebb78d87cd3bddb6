//! Loading manifests from files and directories: shapes, multi-document files,
//! templating with `--vars` laid out like a Kubernetes Secret volume, and errors that
//! name the file and position.

use std::{collections::BTreeMap, fs, path::Path};

use connect_sentinel::{
    manifest::{self, ManifestError},
    plan::{self, TargetState},
};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn load(paths: &[&Path], vars: Option<&Path>) -> Result<manifest::Manifests, ManifestError> {
    let paths: Vec<_> = paths.iter().map(|p| p.to_path_buf()).collect();
    let env = BTreeMap::from([("DB_HOST".to_string(), "orders-db".to_string())]);
    manifest::load(manifest::Inputs::Files(&paths), vars, env)
}

const STRIMZI: &str = r#"
apiVersion: kafka.strimzi.io/v1
kind: KafkaConnector
metadata:
  name: audit-sink
  labels: {strimzi.io/cluster: my-connect}
spec:
  class: org.apache.kafka.connect.file.FileStreamSinkConnector
  tasksMax: 2
  state: paused
  config:
    topics: [audit, audit-eu]
    file: /tmp/audit.log
"#;

/// Both shapes, YAML multi-document files, JSON arrays and nested directories load in
/// name order; dot entries (a ConfigMap's `..data`) are skipped.
#[test]
fn shapes_documents_and_directories() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/strimzi.yaml", STRIMZI);
    write(
        dir.path(),
        "b.yml",
        "name: one\nconfig: {connector.class: X, tasks.max: 1}\n---\nname: two\nstate: STOPPED\nconfig:\n  connector.class: Y\n",
    );
    write(
        dir.path(),
        "c.json",
        r#"[{"name": "three", "config": {"connector.class": "Z", "batch": 1.5, "on": true}}]"#,
    );
    write(dir.path(), "..data/ignored.yaml", "not: [valid");
    write(dir.path(), "notes.txt", "not a manifest");
    let manifests = load(&[dir.path()], None).unwrap();
    let names: Vec<&str> = manifests
        .connectors
        .iter()
        .map(|c| c.desired.name.as_str())
        .collect();
    assert_eq!(names, ["audit-sink", "one", "two", "three"]);
    let audit = &manifests.connectors[0].desired;
    assert_eq!(audit.state, TargetState::Paused);
    assert_eq!(audit.config["tasks.max"], "2");
    assert_eq!(audit.config["topics"], "audit,audit-eu");
    assert_eq!(
        audit.config["connector.class"],
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    );
    let two = &manifests.connectors[2];
    assert_eq!(two.desired.state, TargetState::Stopped);
    assert_eq!((two.location.document, two.location.line), (2, Some(4)));
    assert_eq!(manifests.connectors[3].desired.config["batch"], "1.5");
}

/// `--vars` as a Kubernetes Secret volume: `key -> ..data/key -> ..2024_…/key`; one
/// trailing newline trimmed; dot entries skipped; values tracked for redaction.
#[cfg(unix)]
#[test]
fn vars_from_a_secret_volume_layout() {
    use std::os::unix::fs::symlink;
    let vars = tempfile::tempdir().unwrap();
    let v = vars.path();
    fs::create_dir(v.join("..2024_05_01_10_00_00.123")).unwrap();
    fs::write(
        v.join("..2024_05_01_10_00_00.123/db-password"),
        "CANARY-s3cr3t-9f2b\n",
    )
    .unwrap();
    symlink("..2024_05_01_10_00_00.123", v.join("..data")).unwrap();
    symlink("..data/db-password", v.join("db-password")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c.yaml",
        "name: src\nconfig:\n  connection.url: 'jdbc:postgresql://{{ env.DB_HOST }}/x'\n  connection.password: \"{{ vars['db-password'] }}\"\n  transforms.r.replacement: '${topic}-copy'\n",
    );
    let manifests = load(&[dir.path()], Some(v)).unwrap();
    assert_eq!(manifests.vars.len(), 1, "{:?}", manifests.vars.keys());
    let c = &manifests.connectors[0];
    assert_eq!(
        c.desired.config["connection.password"],
        "CANARY-s3cr3t-9f2b"
    );
    assert_eq!(
        c.desired.config["connection.url"],
        "jdbc:postgresql://orders-db/x"
    );
    assert_eq!(
        c.desired.config["transforms.r.replacement"],
        "${topic}-copy"
    );
    assert!(c.from_vars.contains("connection.password"));
    let redactor = manifests.redactor();
    assert!(!redactor.text("x CANARY-s3cr3t-9f2b y").contains("CANARY"));
}

/// A `.properties` file works as `--vars` too.
#[test]
fn vars_from_a_properties_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "vars.properties", "# db\ndb.user=connect\n");
    write(
        dir.path(),
        "m/c.json",
        r#"{"name": "c", "config": {"connection.user": "{{ vars['db.user'] }}"}}"#,
    );
    let manifests = load(
        &[&dir.path().join("m")],
        Some(&dir.path().join("vars.properties")),
    )
    .unwrap();
    assert_eq!(
        manifests.connectors[0].desired.config["connection.user"],
        "connect"
    );
}

fn error_of(files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    let err = load(&[dir.path()], None).unwrap_err().to_string();
    err.replace(&format!("{}/", dir.path().display()), "")
}

/// Errors name the file and the document, line and column where known.
#[test]
fn errors_name_file_and_position() {
    let cases: [(&[(&str, &str)], &str); 7] = [
        (
            &[
                ("a.yaml", "name: x\nconfig: {}\n"),
                ("b.json", r#"{"name": "x", "config": {}}"#),
            ],
            "connector \"x\" is declared twice: in a.yaml (document 1, line 1) and in b.json (document 1, line 1)",
        ),
        (
            &[("a.yaml", "name: x\nconfig: {}\n---\nname: y\nconfig: [a\n")],
            "a.yaml: invalid YAML at document 2, line 5, column 9: unclosed bracket '['",
        ),
        (
            &[("a.json", "{\"name\": \"x\",\n \"config\": {,}}")],
            "a.json: invalid JSON at line 2, column 13: key must be a string",
        ),
        (
            &[("a.yaml", "name: x\nconfig: {}\n---\nnme: y\nconfig: {}\n")],
            "a.yaml (document 2, line 4): unknown manifest shape",
        ),
        (
            &[(
                "a.yaml",
                "apiVersion: kafka.strimzi.io/v1\nkind: KafkaConnect\nmetadata: {name: x}\n",
            )],
            "a.yaml (document 1, line 1): unknown manifest shape: apiVersion \"kafka.strimzi.io/v1\" kind \"KafkaConnect\"",
        ),
        (
            &[("a.yaml", "name: x\nstate: sleeping\nconfig: {}\n")],
            "a.yaml (document 1, line 1): state \"sleeping\" is not one of running, paused, stopped",
        ),
        (
            &[("a.yaml", "name: x\nconfig: {k: '{{ vars.pw }}'}\n")],
            "a.yaml (document 1, line 1): connector \"x\", key \"k\": undefined variable vars.pw",
        ),
    ];
    for (files, expected) in cases {
        let error = error_of(files);
        assert!(
            error.starts_with(expected),
            "{error}\n  expected {expected}"
        );
    }
}

/// The connector manifests shipped in deploy/ (turned into ConfigMaps by kustomize)
/// load with the real loader, given the Secret's key as a var.
#[test]
fn the_deploy_examples_load() {
    let vars = tempfile::tempdir().unwrap();
    write(vars.path(), "orders_db_password", "change-me\n");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/reconciler/connectors");
    let manifests = load(&[&dir], Some(vars.path())).unwrap();
    let names: Vec<&str> = manifests
        .connectors
        .iter()
        .map(|c| c.desired.name.as_str())
        .collect();
    assert_eq!(names, ["audit-file-sink", "orders-jdbc-source"]);
}

/// ConfigMap files: the selector picks which count, every data key is a document (JSON
/// or YAML by its name, templated), a `kind: List` holds them, other resources are
/// skipped, and `enabled: "false"` declares its connectors absent; a name both declared
/// and disabled is declared twice. With `--template jq` and no worker, a jq document
/// is an error that says so.
#[test]
fn configmap_files_are_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let list = r#"
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: sinks, labels: {destination: connect}}
    data:
      a.json: '{"name": "a", "config": {"connector.class": "X", "url": "{{ env.DB_HOST }}"}}'
      b.yaml: "name: b\nconfig: {connector.class: Y}\n"
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: disabled, labels: {destination: connect, enabled: "false"}}
    data:
      c.json: '{"name": "c", "config": {"connector.class": "Z", "pw": "{{ vars.missing }}"}}'
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: other, labels: {destination: elsewhere}}
    data: {d.json: 'not even json'}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: anything}
"#;
    write(dir.path(), "maps.yaml", list);
    let manifests = load(&[dir.path()], None).unwrap();
    let names: Vec<&str> = manifests
        .connectors
        .iter()
        .map(|d| d.desired.name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(manifests.connectors[0].desired.config["url"], "orders-db");
    assert_eq!(
        manifests.connectors[0].location.to_string(),
        format!(
            "{}: configmap/sinks/a.json (document 1, line 1)",
            dir.path().join("maps.yaml").display()
        )
    );
    assert_eq!(manifests.retired_names(), ["c".to_string()].into());

    write(
        dir.path(),
        "dup.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, labels: {destination: connect}}\ndata:\n  c.yaml: \"name: c\\nconfig: {connector.class: Z}\"\n",
    );
    let err = load(&[dir.path()], None).unwrap_err().to_string();
    assert!(
        err.starts_with("connector \"c\" is declared twice"),
        "{err}"
    );

    let paths = vec![dir.path().join("maps.yaml")];
    let options = manifest::Options {
        template: manifest::Template::Jq,
        ..Default::default()
    };
    let err = manifest::load_with(
        manifest::Inputs::Files(&paths),
        None,
        BTreeMap::new(),
        &options,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("configmap/sinks/a.json: jq program stopped: jq programs are run by the connect-sentinel binary"),
        "{err}"
    );
}

/// `autoRestart` (ours) and `spec.autoRestart` (Strimzi's) hand a connector's restarts
/// to `reconcile`: it is listed with its cap and location, and its config carries the
/// marker sidecars read; a disabled one is neither.
#[test]
fn auto_restart_hands_restarts_to_the_reconciler() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ours.yaml",
        "name: ours\nconfig: {connector.class: X}\nautoRestart: {maxRestarts: 3}\n---\n\
         name: manual\nconfig: {connector.class: X}\nautoRestart: {enabled: false}\n",
    );
    let strimzi = STRIMZI.replace("  state: paused\n", "  autoRestart: {enabled: true}\n");
    write(dir.path(), "strimzi.yaml", &strimzi);
    let manifests = load(&[dir.path()], None).unwrap();
    let auto = manifests.auto_restarted();
    let restarted: Vec<(&str, Option<u32>)> = auto
        .iter()
        .map(|a| (a.name.as_str(), a.max_restarts))
        .collect();
    assert_eq!(restarted, [("ours", Some(3)), ("audit-sink", None)]);
    let marker = |name: &str| {
        let declared = manifests.connectors.iter().find(|d| d.desired.name == name);
        declared
            .unwrap()
            .desired
            .config
            .get(plan::REMEDIATED_BY_KEY)
            .cloned()
    };
    assert_eq!(marker("ours").as_deref(), Some("reconciler"));
    assert_eq!(marker("audit-sink").as_deref(), Some("reconciler"));
    assert_eq!(marker("manual"), None);
    let location = &auto[0].location;
    assert!(location.file.ends_with("ours.yaml"), "{location}");
}

#[test]
fn a_bad_auto_restart_names_the_field() {
    let err = error_of(&[(
        "c.yaml",
        "name: c\nconfig: {connector.class: X}\nautoRestart: {maxRestarts: lots}\n",
    )]);
    assert!(
        err.contains("autoRestart.maxRestarts must be a whole number"),
        "{err}"
    );
    assert!(!err.contains("spec.autoRestart"), "{err}");
}

/// `expectedTasks` becomes the `connect-sentinel.expected-tasks` config key; a value
/// that is no whole number, or one the config contradicts, names the file.
#[test]
fn expected_tasks_is_written_as_our_config_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name: a\nexpectedTasks: 2\nconfig:\n  connector.class: FileStreamSource\n";
    write(dir.path(), "a.yaml", text);
    let loaded = load(&[dir.path()], None).unwrap();
    let config = &loaded.connectors[0].desired.config;
    assert_eq!(config["connect-sentinel.expected-tasks"], "2");
    let same = "name: a\nexpectedTasks: 2\nconfig:\n  connect-sentinel.expected-tasks: 2\n";
    write(dir.path(), "a.yaml", same);
    assert!(load(&[dir.path()], None).is_ok());
    let err = error_of(&[(
        "a.yaml",
        "name: a\nexpectedTasks: 1\nconfig:\n  connect-sentinel.expected-tasks: 2\n",
    )]);
    assert!(
        err.contains("a.yaml") && err.contains("contradicts"),
        "{err}"
    );
    let err = error_of(&[("a.yaml", "name: a\nexpectedTasks: two\nconfig: {}\n")]);
    assert!(
        err.contains("expectedTasks must be a whole number of 0 or more, found \"two\""),
        "{err}"
    );
}
