//! The scenarios, and what they share: ConfigMaps written through the real API (server-
//! side apply), Events and Leases read back from it, the reconciler in process.

mod configmaps;
mod connect_operator;
mod election;
mod manifests;
mod rbac;
mod remediation;

use std::{collections::BTreeMap, future::Future, time::Duration};

use connect_sim::Running;
use k8s_openapi::api::{core::v1::ConfigMap, events::v1::Event};
use kube::{
    Api, Client,
    api::{DeleteParams, ListParams, Patch, PatchParams},
};
use serde_json::{Value, json};

use crate::{
    Scenario,
    common::{
        self,
        reconciling::{self, Reconciling},
    },
};

pub fn all() -> &'static [Scenario] {
    &[
        configmaps::LISTED_WATCHED_APPLIED,
        configmaps::MALFORMED,
        configmaps::RESUMES_AFTER_RESTART,
        connect_operator::APPLIED_UNCHANGED,
        election::RELEASE_HANDS_OVER,
        election::PARTITIONED_LEADER,
        rbac::LEAST_PRIVILEGE,
        rbac::MISSING_RULE,
        manifests::SERVER_DRY_RUN,
        remediation::RESTARTS_ARE_EVENTS,
    ]
}

/// The selected label of every test ConfigMap.
pub const SELECTED: (&str, &str) = ("destination", "connect");

/// Creates or replaces ConfigMap `name` with `labels` and `data` (server-side apply).
pub async fn put(client: &Client, ns: &str, name: &str, labels: &[(&str, &str)], data: Value) {
    let labels: BTreeMap<_, _> = labels.iter().copied().collect();
    let map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels}, "data": data});
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .patch(
            name,
            &PatchParams::apply("kube-tier").force(),
            &Patch::Apply(map),
        )
        .await
        .unwrap();
}

/// `put` with the selected label.
pub async fn declare(client: &Client, ns: &str, name: &str, data: Value) {
    put(client, ns, name, &[SELECTED], data).await;
}

pub async fn delete(client: &Client, ns: &str, name: &str) {
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .delete(name, &DeleteParams::default())
        .await
        .unwrap();
}

/// A FileStreamSink connector as JSON text, writing to `file`.
pub fn sink(name: &str, file: &str) -> String {
    json!({"name": name, "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "orders", "file": file, "tasks.max": 1}})
    .to_string()
}

/// The `file` of connector `name` in connect-sim, if it exists.
pub async fn file_of(sim: &Running, name: &str) -> Option<String> {
    let url = format!("{}/connectors/{name}/config", sim.url());
    let response = common::http().get(url).send().await.unwrap();
    match response.status().as_u16() {
        200 => response.json::<Value>().await.unwrap()["file"]
            .as_str()
            .map(String::from),
        _ => None,
    }
}

/// `reconcile --source configmaps --namespace NS` against `sim` with `client`.
pub async fn reconciler(client: Client, ns: &str, sim: &Running, extra: &[&str]) -> Reconciling {
    let url = sim.url();
    let mut argv = vec!["--source", "configmaps", "--namespace", ns];
    argv.extend(["--connect-url", &url, "--interval", "1h"]);
    argv.extend(extra);
    reconciling::start(&argv, Some(client)).await
}

/// The events.k8s.io Events in `ns`.
pub async fn events(client: &Client, ns: &str) -> Vec<Event> {
    Api::<Event>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

/// Waits (at most `seconds`) until the reconciler's status satisfies `f`: for waits
/// longer than `Reconciling::until`'s, such as a watch backing off while kube-apiserver
/// restarts (kube's backoff grows to tens of seconds).
pub async fn until_within(
    r: &Reconciling,
    seconds: u64,
    what: &str,
    f: impl Fn(&connect_sentinel::reconciler::Status) -> bool,
) {
    let mut rx = r.status.clone();
    let waited = tokio::time::timeout(Duration::from_secs(seconds), rx.wait_for(|s| f(s))).await;
    assert!(
        waited.is_ok(),
        "never within {seconds}s: {what}; last: {:?}",
        *r.status.borrow()
    );
}

/// Polls `check` (every 100 ms, for at most 20 s) until it gives `Some`; panics naming
/// `what` otherwise. For state the reconciler does not publish (Events, the Lease).
pub async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, check: impl Fn() -> F) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
