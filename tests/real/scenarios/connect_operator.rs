//! connect-operator's ConfigMaps against real Connect: a ConfigMap file whose keys are
//! jq programs (a FileStream sink and a MirrorMaker 2 source whose bootstrap servers
//! come from a `*.properties` file of `--vars`) is validated and applied by real
//! workers, a second `apply` writes nothing, and `enabled: "false"` with `--prune`
//! deletes the owned connectors.

use std::path::Path;

use serde_json::json;

use super::declare::{assert_no_writes, declare, live_config, wait_declared};
use crate::{Needs, Scenario, cluster::Cluster, proxy::Proxy, scenario};

pub static SCENARIOS: &[Scenario] = &[scenario!(
    declare_connect_operator_configmaps,
    Needs::Shared
)];

/// The ConfigMap, `enabled` as given: two keys, each a jq program.
fn configmap(dir: &Path, enabled: &str) -> String {
    let file = dir.join("archive.out");
    let sink = format!(
        r#"{{"name": "co-archive", "config": {{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "topics": "\($TOPIC_PREFIX)orders", "file": "{}", "tasks.max": 1}}}}"#,
        file.display()
    );
    let mirror = r#"{"name": "co-mirror", "config": {
        "connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        "source.cluster.alias": "upstream", "target.cluster.alias": "local",
        "source.cluster.bootstrap.servers": $BOOTSTRAP_SERVERS,
        "target.cluster.bootstrap.servers": $ENV.BOOTSTRAP_SERVERS,
        "topics": "\($TOPIC_PREFIX).*", "tasks.max": 1}}"#;
    let map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "connect-operator", "labels": {"destination": "connect", "enabled": enabled}},
        "data": {"archive.json": sink, "mirror.json": mirror}});
    serde_json::to_string_pretty(&map).unwrap()
}

async fn declare_connect_operator_configmaps(cluster: &Cluster) {
    let dir = cluster.scratch("connect-operator");
    let vars = dir.join("vars");
    std::fs::create_dir_all(&vars).unwrap();
    let properties = format!("bootstrap.servers={}\ntopic.prefix=co.\n", cluster.broker());
    std::fs::write(vars.join("kafka.properties"), properties).unwrap();
    let maps = dir.join("maps");
    std::fs::create_dir_all(&maps).unwrap();
    std::fs::write(maps.join("cm.yaml"), configmap(&dir, "true")).unwrap();
    let proxy = Proxy::start(cluster.url()).await;
    let vars_arg = ["--vars", vars.to_str().unwrap()];

    let (code, out, err) = declare("apply", &maps, &proxy.url, &vars_arg).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 of 2 change(s) applied"), "{out}");
    let declared = [
        json!({"name": "co-archive", "config": {}}),
        json!({"name": "co-mirror", "config": {}}),
    ];
    wait_declared(cluster, &declared).await;
    let mirror = live_config(cluster, "co-mirror").await;
    assert_eq!(mirror["source.cluster.bootstrap.servers"], cluster.broker());
    assert_eq!(mirror["target.cluster.bootstrap.servers"], cluster.broker());
    assert_eq!(mirror["topics"], "co..*");
    proxy.clear();
    let (code, out, err) = declare("apply", &maps, &proxy.url, &vars_arg).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_no_writes(&proxy, "a second apply");

    std::fs::write(maps.join("cm.yaml"), configmap(&dir, "false")).unwrap();
    let mut prune = vars_arg.to_vec();
    prune.push("--prune");
    let (code, out, err) = declare("apply", &maps, &proxy.url, &prune).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("co-archive: deleted") && out.contains("co-mirror: deleted"),
        "{out}"
    );
    wait_declared(cluster, &[]).await;
}
