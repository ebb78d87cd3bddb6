//! The reconciler's restarts are Kubernetes Events on the ConfigMap the connector is
//! declared in: a `Restarted` (Normal) for each restart, then an `Escalated` (Warning)
//! once the ladder is exhausted, each naming the connector and the failure's cause. The
//! status page names the ConfigMap and key it is declared in, and the `kubectl` command
//! that shows those Events.

use serde_json::json;

use super::{declare, events, eventually, reconciler};
use crate::{Scenario, common, common::reconciling::outcome, server::ApiServer};

pub const RESTARTS_ARE_EVENTS: Scenario = Scenario {
    name: "remediation::restarts_and_escalations_are_events_on_the_configmap",
    run: |s| Box::pin(restarts_are_events(s)),
};

const TRACE: &str = "org.apache.kafka.common.errors.TimeoutException: Timed out waiting";

async fn restarts_are_events(server: &ApiServer) {
    let (kube, sim) = (server.admin().await, common::sim("3.9.0").await);
    let ns = server.namespace("remedy").await;
    let auto = json!({"name": "auto", "autoRestart": {"maxRestarts": 5}, "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "orders", "file": "/tmp/auto", "tasks.max": 1}});
    declare(
        &kube,
        &ns,
        "restarted",
        json!({"auto.json": auto.to_string()}),
    )
    .await;
    let flags = [
        "--restart-check-interval",
        "50ms",
        "--restart-backoff",
        "0s",
        "--restart-ladder",
        "tasks=1",
    ];
    let r = reconciler(kube.clone(), &ns, &sim, &flags).await;
    r.until("created", |s| outcome(s) == "applied").await;
    let (_, page) = r.get("/ui").await;
    let page = page.replace("&#x2f;", "/");
    for shown in [
        format!("ConfigMap {ns}/restarted, key auto.json"),
        format!("kubectl -n {ns} describe configmap restarted"),
    ] {
        assert!(
            page.contains(&shown),
            "the page names where auto is declared: {page}"
        );
    }
    let failed = json!({"state": "FAILED", "trace": TRACE, "restart_outcome": "FAILED"});
    common::control(&sim)
        .task_state("auto", 0, &failed)
        .await
        .unwrap();
    let on_restarted = |reason: &'static str| {
        let (kube, ns) = (kube.clone(), ns.clone());
        move || {
            let (kube, ns) = (kube.clone(), ns.clone());
            async move {
                events(&kube, &ns).await.into_iter().find(|e| {
                    e.reason.as_deref() == Some(reason)
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("restarted")
                })
            }
        }
    };
    let restarted = eventually("a Restarted Event", on_restarted("Restarted")).await;
    assert_eq!(restarted.type_.as_deref(), Some("Normal"));
    let note = restarted.note.unwrap_or_default();
    assert!(
        note.starts_with("connector auto: restart-tasks (attempt 1): accepted")
            && note.contains("TimeoutException"),
        "{note}"
    );
    let escalated = eventually("an Escalated Event", on_restarted("Escalated")).await;
    assert_eq!(escalated.type_.as_deref(), Some("Warning"));
    assert_eq!(escalated.action.as_deref(), Some("Remediate"));
    r.stop().await;
}
