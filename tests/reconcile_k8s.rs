//! `reconcile --source configmaps` against a mocked Kubernetes API and connect-sim:
//! list+watch, modify, delete (with --prune), a malformed ConfigMap (Event, nothing
//! written, watch unaffected), a watch error with recovery, and leader-only writes.
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
/// a reconciler with `extra` flags that has created it.
async fn running(extra: &[&str]) -> (Running, KubeApi, Reconciling) {
    let (sim, api) = (common::sim("3.9.0").await, KubeApi::start().await);
    api.apply(
        "team-a",
        "sinks",
        labels(),
        json!({"a.json": sink("a", "/tmp/a1")}),
    );
    let r = start(&sim, &api, extra).await;
    r.until("created", |s| outcome(s) == "applied").await;
    (sim, api, r)
}

/// A ConfigMap listed at start-up is applied; a modified one updates the connector; a
/// new one adds its connectors; a deleted one deletes its (owned) connectors with
/// --prune. Other labels are ignored.
#[tokio::test]
async fn configmaps_are_listed_watched_and_applied() {
    let (sim, api) = (common::sim("3.9.0").await, KubeApi::start().await);
    api.apply(
        "team-a",
        "sinks",
        labels(),
        json!({"a.json": sink("a", "/tmp/a1")}),
    );
    api.apply(
        "team-a",
        "ignored",
        json!({"destination": "elsewhere"}),
        json!({"x.json": sink("x", "/tmp/x")}),
    );
    let r = start(&sim, &api, &["--prune"]).await;
    r.until("created", |s| outcome(s) == "applied").await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/a1"));
    assert_eq!(file_of(&sim, "x").await, None, "not selected");
    api.apply(
        "team-a",
        "sinks",
        labels(),
        json!({"a.json": sink("a", "/tmp/a2")}),
    );
    let yaml = "apiVersion: kafka.strimzi.io/v1\nkind: KafkaConnector\nmetadata: {name: b}\nspec:\n  class: org.apache.kafka.connect.file.FileStreamSinkConnector\n  tasksMax: 1\n  config: {topics: audit, file: /tmp/b}\n";
    api.apply("team-a", "more", labels(), json!({"b.yaml": yaml}));
    r.until("updated and added", |s| {
        s.declared == 2 && outcome(s) == "applied"
    })
    .await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/a2"));
    assert_eq!(file_of(&sim, "b").await.as_deref(), Some("/tmp/b"));
    api.delete("team-a", "more");
    r.until("pruned", |s| s.declared == 1 && outcome(s) == "applied")
        .await;
    assert_eq!(file_of(&sim, "b").await, None, "deleted with its ConfigMap");
    assert!(
        api.events().iter().any(|e| e["reason"] == "Applied"),
        "{:?}",
        api.events()
    );
    r.stop().await;
}

/// A malformed ConfigMap: nothing is written, a Warning Event names it, the watch goes
/// on, and fixing it applies everything.
#[tokio::test]
async fn a_malformed_configmap_gets_an_event_and_blocks_writes() {
    let (sim, api, r) = running(&[]).await;
    api.apply(
        "team-a",
        "bad",
        labels(),
        json!({"b.yaml": "name: [unclosed\n"}),
    );
    api.apply(
        "team-a",
        "sinks",
        labels(),
        json!({"a.json": sink("a", "/tmp/a2")}),
    );
    r.until("refused", |s| outcome(s) == "invalid").await;
    assert_eq!(
        file_of(&sim, "a").await.as_deref(),
        Some("/tmp/a1"),
        "nothing written"
    );
    let events = api.events();
    let warning = events
        .iter()
        .find(|e| e["type"] == "Warning")
        .expect("a Warning Event");
    assert_eq!(warning["regarding"]["name"], "bad", "{warning}");
    assert!(
        warning["note"]
            .as_str()
            .unwrap()
            .contains("configmap/team-a/bad/b.yaml"),
        "{warning}"
    );
    api.apply(
        "team-a",
        "bad",
        labels(),
        json!({"b.json": sink("b", "/tmp/b")}),
    );
    r.until("fixed", |s| outcome(s) == "applied").await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/a2"));
    r.stop().await;
}

/// The watch breaks and the next watch request fails: kube's backoff retries, and a
/// change made meanwhile is still applied.
#[tokio::test]
async fn a_watch_error_recovers() {
    let (sim, api, r) = running(&[]).await;
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

/// Two replicas with --leader-election: only the Lease holder writes; the other is
/// standby (ready) and takes over when the leader stops and releases the Lease.
#[tokio::test]
async fn only_the_leader_writes() {
    let (sim, api) = (common::sim("3.9.0").await, KubeApi::start().await);
    api.apply(
        "team-a",
        "sinks",
        labels(),
        json!({"a.json": sink("a", "/tmp/a1")}),
    );
    let flags = |id: &'static str| {
        [
            "--leader-election",
            "--identity",
            id,
            "--lease-duration",
            "3s",
        ]
    };
    let one = start(&sim, &api, &flags("one")).await;
    one.until("leading and applied", |s| outcome(s) == "applied")
        .await;
    let two = start(&sim, &api, &flags("two")).await;
    two.until("standby", |s| outcome(s) == "standby").await;
    assert_eq!(
        api.lease("team-a", "connect-sentinel-reconciler").unwrap()["spec"]["holderIdentity"],
        "one"
    );
    one.stop().await;
    api.apply(
        "team-a",
        "sinks",
        labels(),
        json!({"a.json": sink("a", "/tmp/by-two")}),
    );
    two.until("took over", |s| outcome(s) == "applied").await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/by-two"));
    assert_eq!(
        api.lease("team-a", "connect-sentinel-reconciler").unwrap()["spec"]["holderIdentity"],
        "two"
    );
    two.stop().await;
}
