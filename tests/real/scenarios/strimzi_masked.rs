//! Strimzi's leniency and masked secrets against real Connect: a `KafkaConnector` with
//! `tasks.max` in `spec.config` (Debezium's tutorial does it) is applied the way Strimzi
//! applies it, and the fingerprint stored with a config (an unknown key real Connect
//! accepts) tells a rotated secret apart behind a gateway that masks secrets.

use std::path::Path;

use serde_json::json;

use super::declare::{LIFECYCLE, assert_no_writes, declare, live_config, wait_declared};
use crate::{Needs, Scenario, cluster::Cluster, http, proxy::Proxy, scenario};

pub static SCENARIOS: &[Scenario] = &[
    scenario!(
        strimzi_forbidden_keys_applied_as_strimzi_does,
        Needs::Shared
    ),
    scenario!(masked_secret_fingerprint_round_trip, Needs::Shared),
];

const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// A FileStreamSink `KafkaConnector` of `api` with `tasks.max: 5` and `name` in its
/// config, and `spec` lines added.
fn strimzi(dir: &Path, api: &str, name: &str, spec: &str) -> String {
    let file = dir.join(format!("{name}.out"));
    format!(
        "apiVersion: {api}\nkind: KafkaConnector\nmetadata:\n  name: {name}\nspec:\n  class: {SINK}\n{spec}  config:\n    tasks.max: 5\n    name: wrong\n    topics: {name}-in\n    file: {}\n",
        file.display()
    )
}

async fn strimzi_forbidden_keys_applied_as_strimzi_does(cluster: &Cluster) {
    let dir = cluster.scratch("strimzi-forbidden");
    let docs = [
        strimzi(&dir, "kafka.strimzi.io/v1beta2", "strimzi-default", ""),
        strimzi(
            &dir,
            "eventstreams.ibm.com/v1",
            "strimzi-two",
            "  tasksMax: 2\n",
        ),
    ];
    std::fs::write(dir.join("connectors.yaml"), docs.join("---\n")).unwrap();
    let (code, out, err) = declare("apply", &dir, cluster.url(), &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 of 2 change(s) applied, 0 failed."), "{out}");
    for name in ["strimzi-default", "strimzi-two"] {
        for key in ["tasks.max", "name"] {
            let warning = format!(
                "connector \"{name}\": spec.config key \"{key}\" is ignored, as Strimzi ignores it"
            );
            assert!(err.contains(&warning), "{warning}\n{err}");
        }
    }
    let declared = [
        json!({"name": "strimzi-default"}),
        json!({"name": "strimzi-two"}),
    ];
    wait_declared(cluster, &declared).await;
    let default = live_config(cluster, "strimzi-default").await;
    assert!(default.get("tasks.max").is_none(), "never sent: {default}");
    assert_eq!(default["name"], "strimzi-default");
    assert_eq!(live_config(cluster, "strimzi-two").await["tasks.max"], "2");
    let status = format!("{}/connectors/strimzi-two/status", cluster.url());
    http::eventually("strimzi-two runs 2 tasks", LIFECYCLE, || async {
        let tasks = http::json(&status).await["tasks"].as_array()?.clone();
        let running = tasks.iter().filter(|t| t["state"] == "RUNNING").count();
        (running == 2).then_some(())
    })
    .await;

    let proxy = Proxy::start(cluster.url()).await;
    let (code, out, err) = declare("diff", &dir, &proxy.url, &[]).await;
    assert_eq!(code, 0, "no endless drift: {out}{err}");
    assert_no_writes(&proxy, "a diff of forbidden keys");
}

/// `db.password` from `--vars`: FileStreamSink ignores the key, Connect stores it.
fn write_secret_sink(dir: &Path, vars: &Path, password: &str) {
    let file = dir.join("masked.out");
    let manifest = json!({"name": "masked-sink", "config": {"connector.class": SINK,
        "tasks.max": 1, "topics": "masked-in", "file": file.to_str().unwrap(),
        "db.password": "{{ vars.pw }}"}});
    std::fs::write(dir.join("masked.json"), manifest.to_string()).unwrap();
    std::fs::write(vars.join("pw"), password).unwrap();
}

async fn masked_secret_fingerprint_round_trip(cluster: &Cluster) {
    let dir = cluster.scratch("masked");
    let vars_dir = cluster.scratch("masked-vars");
    let vars = ["--vars", vars_dir.to_str().unwrap()];
    write_secret_sink(&dir, &vars_dir, "CANARY-real-1");
    let (code, out, err) = declare("apply", &dir, cluster.url(), &vars).await;
    assert_eq!(code, 0, "{out}{err}");
    wait_declared(cluster, &[json!({"name": "masked-sink"})]).await;
    let stored = live_config(cluster, "masked-sink").await;
    assert_eq!(stored["db.password"], "CANARY-real-1");
    let fingerprint = stored["connect-sentinel.fingerprint"]
        .as_str()
        .unwrap_or_default();
    assert!(
        fingerprint.starts_with("v1:"),
        "Connect keeps the key: {stored}"
    );

    let proxy = Proxy::start(cluster.url()).await;
    proxy.mask(true);
    let (code, out, err) = declare("diff", &dir, &proxy.url, &vars).await;
    assert_eq!(code, 0, "a masked secret is not drift: {out}{err}");
    let (code, out, err) = declare("apply", &dir, &proxy.url, &vars).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_no_writes(&proxy, "a masked, unrotated secret");

    write_secret_sink(&dir, &vars_dir, "CANARY-real-2");
    let (code, out, err) = declare("diff", &dir, &proxy.url, &vars).await;
    assert_eq!(code, 1, "a rotation is seen through the mask: {out}{err}");
    assert!(
        out.contains("~ db.password: (redacted) → (redacted)"),
        "{out}"
    );
    assert!(!format!("{out}{err}").contains("CANARY"), "{out}{err}");
    let (code, out, err) = declare("apply", &dir, &proxy.url, &vars).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(!format!("{out}{err}").contains("CANARY"), "{out}{err}");
    assert_eq!(
        live_config(cluster, "masked-sink").await["db.password"],
        "CANARY-real-2"
    );
    proxy.clear();
    let (code, out, err) = declare("diff", &dir, &proxy.url, &vars).await;
    assert_eq!(code, 0, "{out}{err}");
}
