//! `reconcile --source configmaps` against a mocked Kubernetes API and connect-sim, kept
//! only for what a real API server cannot be made to do on demand: answer a watch
//! request with 500 InternalError (the reflector's backoff and re-list after a failed
//! watch *request*, not just a dropped connection). Everything else (list and watch with
//! a selector, updates, deletes, --prune, the malformed-ConfigMap Warning Event, Applied
//! Events, watch resumption after kube-apiserver restarts and etcd compaction, Lease
//! leader election and failover, RBAC) runs against a real kube-apiserver in the
//! Kubernetes tier: tests/kube (`cargo test --test kube`).
#![cfg(feature = "k8s")]

mod common;

use common::{
    kube_api::KubeApi,
    reconciling::{self, Reconciling, outcome},
};
use connect_sim::Running;
use serde_json::{Value, json};

async fn start(sim: &Running, api: &KubeApi, extra: &[&str]) -> Reconciling {
    let url = sim.url();
    let mut argv = vec!["--source", "configmaps", "--namespace", "team-a"];
    argv.extend(["--connect-url", &url, "--interval", "1h"]);
    argv.extend(extra);
    reconciling::start(&argv, Some(api.client())).await
}

fn labels() -> Value {
    json!({"destination": "connect"})
}

fn sink(name: &str, file: &str) -> String {
    json!({"name": name, "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "orders", "file": file, "tasks.max": 1}})
    .to_string()
}

async fn file_of(sim: &Running, name: &str) -> Option<String> {
    let url = format!("{}/connectors/{name}/config", sim.url());
    let response = common::http().get(url).send().await.unwrap();
    match response.status().as_u16() {
        200 => response.json::<Value>().await.unwrap()["file"]
            .as_str()
            .map(String::from),
        _ => None,
    }
}

/// connect-sim, the mocked API with ConfigMap `sinks` declaring `a` (file /tmp/a1), and
/// a reconciler that has created it.
async fn running() -> (Running, KubeApi, Reconciling) {
    let (sim, api) = (common::sim("3.9.0").await, KubeApi::start().await);
    api.apply(
        "team-a",
        "sinks",
        labels(),
        json!({"a.json": sink("a", "/tmp/a1")}),
    );
    let r = start(&sim, &api, &[]).await;
    r.until("created", |s| outcome(s) == "applied").await;
    (sim, api, r)
}

/// The watch breaks and the next watch request fails: kube's backoff retries, and a
/// change made meanwhile is still applied.
#[tokio::test]
async fn a_watch_error_recovers() {
    let (sim, api, r) = running().await;
    api.break_watches(1);
    api.apply(
        "team-a",
        "sinks",
        labels(),
        json!({"a.json": sink("a", "/tmp/after-error")}),
    );
    let passes = r.status.borrow().passes;
    r.until("re-listed and applied", |s| {
        s.passes > passes && outcome(s) == "applied"
    })
    .await;
    assert_eq!(
        file_of(&sim, "a").await.as_deref(),
        Some("/tmp/after-error")
    );
    let watches = api
        .requests()
        .iter()
        .filter(|r| r.ends_with("watch=true"))
        .count();
    assert!(watches >= 2, "{:?}", api.requests());
    r.stop().await;
}

/// A changed ConfigMap runs a pass of its own trigger, `configmaps`.
#[tokio::test]
async fn a_configmap_change_has_its_own_trigger() {
    let (sim, api, r) = running().await;
    let passes = r.status.borrow().passes;
    api.apply(
        "team-a",
        "sinks",
        labels(),
        json!({"a.json": sink("a", "/tmp/a2")}),
    );
    r.until("applied", |s| s.passes > passes && outcome(s) == "applied")
        .await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/a2"));
    let metrics = r.get("/metrics").await.1;
    let series = r#"passes_total{trigger="configmaps",outcome="applied"}"#;
    assert!(metrics.contains(series), "{metrics}");
    assert!(!metrics.contains(r#"trigger="files""#), "{metrics}");
    r.stop().await;
}
