//! The recreate step, which only a caller with declared configs can take (the
//! reconciler; the sidecar's ladder has none): the core driven as the reconciler will
//! drive it, against connect-sim, with a per-connector policy whose ladder ends in
//! `recreate=1` and an executor given the declared configs.

mod common;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use connect_sentinel::{
    health::{Observed, metrics::HealthMetrics, remedy::Remediation},
    poll::Poller,
    remediate::{
        Policies, RestartPolicy, StepKind,
        execute::{ConfigMap, Declared, Executor, RETRY},
    },
    verdict::Policy,
};
use serde_json::json;
use tokio::{sync::watch, time::Instant};

#[derive(Debug)]
struct Manifests(BTreeMap<String, ConfigMap>);

impl Declared for Manifests {
    fn config(&self, connector: &str) -> Option<ConfigMap> {
        self.0.get(connector).cloned()
    }
}

/// One decide → perform → apply round on a fresh poll; the step taken, if any.
async fn round(r: &mut Remediation, poller: &Poller, metrics: &HealthMetrics) -> Option<StepKind> {
    let snapshot = poller.poll().await.unwrap();
    let decision = r.decide(&snapshot, &Policy::default(), Instant::now(), metrics);
    let step = decision.due.first().map(|a| a.step);
    r.start(decision.due);
    if step.is_some() {
        let finished = r.next_finished().await;
        assert!(finished.result.is_ok(), "{finished:?}");
        r.apply(finished, metrics);
    }
    step
}

#[tokio::test]
async fn recreate_deletes_then_puts_the_declared_config() {
    let sim = common::sim("3.9.0").await;
    let task = json!({"state": "FAILED", "trace": "java.lang.IllegalStateException: wedged", "restart_outcome": "FAILED"});
    common::seed(
        &sim,
        json!({"connectors": [{"name": "orders", "tasks": [task]}]}),
    )
    .await;
    let mut declared = common::client(&sim).config("orders").await.unwrap();
    declared.insert("declared".into(), "yes".into());
    let recreating = RestartPolicy {
        schedule: "0s".parse().unwrap(),
        ladder: "tasks=1,recreate=1".parse().unwrap(),
        ..RestartPolicy::default()
    };
    let policies = Policies {
        default: Some(RestartPolicy::default()),
        per_connector: BTreeMap::from([("orders".to_string(), Some(recreating))]),
    };
    let manifests = Manifests(BTreeMap::from([("orders".to_string(), declared)]));
    let executor =
        Executor::new(common::client(&sim), false, RETRY).with_declared(Arc::new(manifests));
    let mut remediation = Remediation::new(policies, executor, 10);
    let observed = watch::channel(Arc::new(Observed::new(Instant::now()))).1;
    let metrics = HealthMetrics::new(observed, Duration::from_secs(10));
    let poller = Poller::new(common::client(&sim));
    common::take_requests(&sim).await;
    assert_eq!(
        round(&mut remediation, &poller, &metrics).await,
        Some(StepKind::RestartTasks)
    );
    assert_eq!(
        round(&mut remediation, &poller, &metrics).await,
        Some(StepKind::Recreate)
    );
    let by_route = common::take_requests(&sim).await["by_route"].clone();
    assert_eq!(by_route["DELETE /connectors/{name}"], 1, "{by_route}");
    assert_eq!(by_route["PUT /connectors/{name}/config"], 1, "{by_route}");
    assert_eq!(common::config_of(&sim, "orders").await["declared"], "yes");
    let history = remediation.view(Instant::now()).history;
    let steps: Vec<_> = history
        .iter()
        .map(|h| (h.event.step, h.event.outcome.as_str()))
        .collect();
    assert_eq!(
        steps,
        [("restart-tasks", "accepted"), ("recreate", "accepted")]
    );
}

/// Without declared configs a recreate fails, naming the connector.
#[tokio::test]
async fn recreate_without_a_declared_config_says_so() {
    let sim = common::sim("3.9.0").await;
    common::seed(
        &sim,
        json!({"connectors": [common::connector("loose", &["FAILED"])]}),
    )
    .await;
    let policy = RestartPolicy {
        ladder: "recreate=1".parse().unwrap(),
        ..RestartPolicy::default()
    };
    let executor = Executor::new(common::client(&sim), false, RETRY);
    let mut remediation = Remediation::new(Policies::uniform(policy), executor, 10);
    let observed = watch::channel(Arc::new(Observed::new(Instant::now()))).1;
    let metrics = HealthMetrics::new(observed, Duration::from_secs(10));
    let snapshot = Poller::new(common::client(&sim)).poll().await.unwrap();
    let decision = remediation.decide(&snapshot, &Policy::default(), Instant::now(), &metrics);
    remediation.start(decision.due);
    let finished = remediation.next_finished().await;
    let error = finished.result.as_ref().unwrap_err().to_string();
    assert_eq!(
        error,
        "connector loose has no declared config to recreate it from"
    );
    remediation.apply(finished, &metrics);
    let text = metrics.encode();
    assert!(
        text.contains(r#"step="recreate",outcome="not_declared"} 1"#),
        "{text}"
    );
}
