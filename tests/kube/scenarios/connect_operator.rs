//! connect-operator's ConfigMaps, unchanged, in the real API server: the fixtures of
//! `tests/fixtures/connect-operator` created as `kubectl apply` would, read by
//! `reconcile --source configmaps --vars DIR` (jq programs, `*.properties` files and a
//! Secret key in DIR), one ConfigMap with several keys, `enabled: "false"` pruning an
//! owned connector, and a broken program refused with a Warning Event that names the
//! ConfigMap, key and position.

use std::path::Path;

use serde_json::{Value, json};

use super::{SELECTED, declare, events, eventually, file_of, put, reconciler};
use crate::{Scenario, common, common::reconciling::outcome, server::ApiServer};

pub const APPLIED_UNCHANGED: Scenario = Scenario {
    name: "connect_operator::configmaps_applied_unchanged",
    run: |s| Box::pin(applied_unchanged(s)),
};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/connect-operator"
);

/// One fixture ConfigMap: `(name, labels, data)`.
type Fixture = (String, Vec<(String, String)>, Value);

/// The ConfigMaps of the fixture files.
fn fixture_configmaps() -> Vec<Fixture> {
    let mut maps = Vec::new();
    for file in [
        "customers-jdbc-source.yaml",
        "sinks.yaml",
        "datagen-disabled.yaml",
    ] {
        let text =
            std::fs::read_to_string(Path::new(FIXTURES).join("configmaps").join(file)).unwrap();
        let documents: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        for doc in documents.into_iter().filter(|d| d["kind"] == "ConfigMap") {
            let labels = doc["metadata"]["labels"].as_object().unwrap();
            let labels = labels
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let name = doc["metadata"]["name"].as_str().unwrap().to_string();
            maps.push((name, labels, doc["data"].clone()));
        }
    }
    maps
}

/// The fixtures' `--vars`, plus `MYSQL_CONNECTION_USER` as a Secret key (the
/// in-process reconciler cannot be given environment variables): jq's `env` sees it.
fn vars_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(Path::new(FIXTURES).join("vars")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    std::fs::write(dir.path().join("MYSQL_CONNECTION_USER"), "root\n").unwrap();
    dir
}

async fn applied_unchanged(server: &ApiServer) {
    let (kube, sim) = (server.admin().await, common::sim("3.9.0").await);
    let ns = server.namespace("connect-operator").await;
    let maps = fixture_configmaps();
    for (name, labels, data) in &maps {
        let labels: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        put(&kube, &ns, name, &labels, data.clone()).await;
    }
    let vars = vars_dir();
    let vars_arg = vars.path().to_str().unwrap();
    let r = reconciler(kube.clone(), &ns, &sim, &["--prune", "--vars", vars_arg]).await;
    r.until("applied", |s| s.declared == 3 && outcome(s) == "applied")
        .await;
    let jdbc = common::config_of(&sim, "customers-jdbc").await;
    assert_eq!(jdbc["connection.user"], "root");
    assert_eq!(jdbc["connection.password"], "CANARY-mysql-3141");
    assert_eq!(
        jdbc["value.converter.schema.registry.url"],
        "http://schema-registry:8081"
    );
    assert_eq!(
        file_of(&sim, "orders-archive").await.as_deref(),
        Some("/var/archive/orders.log")
    );
    assert_eq!(
        file_of(&sim, "pageviews-source").await,
        None,
        "enabled: \"false\""
    );

    let (_, _, sinks) = maps.iter().find(|(n, ..)| n == "order-sinks").unwrap();
    put(
        &kube,
        &ns,
        "order-sinks",
        &[SELECTED, ("enabled", "false")],
        sinks.clone(),
    )
    .await;
    r.until("disabled", |s| s.declared == 1 && outcome(s) == "applied")
        .await;
    assert_eq!(
        file_of(&sim, "orders-archive").await,
        None,
        "owned and disabled: pruned"
    );
    assert_eq!(file_of(&sim, "payments-archive").await, None);

    declare(
        &kube,
        &ns,
        "broken",
        json!({"b.json": "{\"name\": \"b\",\n \"config\": (}"}),
    )
    .await;
    r.until("refused", |s| outcome(s) == "invalid").await;
    let warning = eventually("a Warning Event on broken", || async {
        events(&kube, &ns).await.into_iter().find(|e| {
            e.type_.as_deref() == Some("Warning")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("broken")
        })
    })
    .await;
    let note = warning.note.unwrap_or_default();
    assert!(
        note.contains(&format!(
            "configmap/{ns}/broken/b.json: invalid jq program at line 2"
        )),
        "{note}"
    );
    let jdbc = common::config_of(&sim, "customers-jdbc").await;
    assert_eq!(jdbc["connection.user"], "root", "nothing deleted meanwhile");
    r.stop().await;
}
