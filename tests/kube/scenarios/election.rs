//! Leader election on a real coordination.k8s.io Lease: two replicas, one writer; a
//! leader that stops releases the Lease and the standby takes over at once; a leader
//! cut off from the API server (it can neither renew nor release) loses the Lease once
//! it expires, and the standby takes over.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use serde_json::json;

use super::{declare, eventually, file_of, reconciler, sink};
use crate::{Scenario, common, common::reconciling::outcome, proxy::Proxy, server::ApiServer};

pub const RELEASE_HANDS_OVER: Scenario = Scenario {
    name: "election::a_stopping_leader_hands_over",
    run: |s| Box::pin(release_hands_over(s)),
};

pub const PARTITIONED_LEADER: Scenario = Scenario {
    name: "election::a_cut_off_leader_fails_over",
    run: |s| Box::pin(partitioned_leader(s)),
};

const LEASE: &str = "connect-sentinel-reconciler";

fn flags(identity: &str) -> Vec<&str> {
    vec![
        "--leader-election",
        "--identity",
        identity,
        "--lease-duration",
        "3s",
    ]
}

/// The Lease's holder and transitions, as the API server has it.
async fn lease(kube: &Client, ns: &str) -> (Option<String>, i32) {
    let lease = Api::<Lease>::namespaced(kube.clone(), ns)
        .get(LEASE)
        .await
        .unwrap();
    let spec = lease.spec.unwrap_or_default();
    (spec.holder_identity, spec.lease_transitions.unwrap_or(0))
}

async fn holder_is(kube: &Client, ns: &str, who: &str) -> i32 {
    eventually(&format!("{who} holds the Lease"), || async {
        let (holder, transitions) = lease(kube, ns).await;
        (holder.as_deref() == Some(who)).then_some(transitions)
    })
    .await
}

async fn release_hands_over(server: &ApiServer) {
    let (kube, sim) = (server.admin().await, common::sim("3.9.0").await);
    let ns = server.namespace("lease").await;
    declare(&kube, &ns, "sinks", json!({"a.json": sink("a", "/tmp/a1")})).await;
    let one = reconciler(kube.clone(), &ns, &sim, &flags("one")).await;
    one.until("leading and applied", |s| outcome(s) == "applied")
        .await;
    let two = reconciler(kube.clone(), &ns, &sim, &flags("two")).await;
    two.until("standby", |s| outcome(s) == "standby").await;
    let first = holder_is(&kube, &ns, "one").await;
    let (_, body) = two.get("/readyz").await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"ready": true, "leader": false})
    );
    let (_, page) = two.get("/ui").await;
    assert!(page.contains("This replica is on standby"), "{page}");
    let (_, page) = one.get("/ui").await;
    assert!(
        page.contains(r#"data-name="a" data-fate"#),
        "the leader's page: {page}"
    );

    // A clean stop releases the Lease: `two` takes it without waiting for it to expire.
    one.stop().await;
    let released = tokio::time::Instant::now();
    let (holder, _) = lease(&kube, &ns).await;
    assert_ne!(holder.as_deref(), Some("one"), "released on shutdown");
    assert_eq!(
        holder_is(&kube, &ns, "two").await,
        first + 1,
        "one transition"
    );
    // Within a renewal period (1s), not a lease duration (3s) after one's last renewal.
    assert!(
        released.elapsed() < Duration::from_secs(3),
        "{:?}",
        released.elapsed()
    );
    declare(
        &kube,
        &ns,
        "sinks",
        json!({"a.json": sink("a", "/tmp/by-two")}),
    )
    .await;
    two.until("applied by the new leader", |s| outcome(s) == "applied")
        .await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/by-two"));
    two.stop().await;
}

async fn partitioned_leader(server: &ApiServer) {
    let (kube, sim) = (server.admin().await, common::sim("3.9.0").await);
    let ns = server.namespace("partition").await;
    declare(&kube, &ns, "sinks", json!({"a.json": sink("a", "/tmp/a1")})).await;
    let proxy = Proxy::start(server.addr).await;
    let one = reconciler(server.admin_via(proxy.addr).await, &ns, &sim, &flags("one")).await;
    one.until("leading and applied", |s| outcome(s) == "applied")
        .await;
    let two = reconciler(kube.clone(), &ns, &sim, &flags("two")).await;
    two.until("standby", |s| outcome(s) == "standby").await;
    let first = holder_is(&kube, &ns, "one").await;

    proxy.cut();
    let cut_at = tokio::time::Instant::now();
    // `one` still holds the Lease record but cannot renew it: `two` takes over once the
    // record has not changed for a whole lease duration (3s) as it observed it.
    assert_eq!(holder_is(&kube, &ns, "two").await, first + 1);
    let took = cut_at.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "taken over before the lease ran out: {took:?}"
    );
    declare(
        &kube,
        &ns,
        "sinks",
        json!({"a.json": sink("a", "/tmp/by-two")}),
    )
    .await;
    two.until("applied by the new leader", |s| outcome(s) == "applied")
        .await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/by-two"));
    two.stop().await;
    one.stop().await;
}
