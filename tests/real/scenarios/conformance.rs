//! The conformance scenarios (`tests/conformance/scenarios.json`) against real Kafka
//! Connect: one real-tier scenario per area, every scenario of the area after a reset
//! of the shared cluster. The basic-auth area starts its own one-worker cluster. The
//! same scenarios run against connect-sim in `tests/sim_conformance.rs`.

#[path = "../../conformance/mod.rs"]
mod runner;

use std::{collections::BTreeMap, time::Duration};

use crate::{Needs, Scenario, cluster::Cluster, scenario};

pub static SCENARIOS: &[Scenario] = &[
    scenario!(conformance_errors, Needs::Shared),
    scenario!(conformance_create, Needs::Shared),
    scenario!(conformance_validate, Needs::Shared),
    scenario!(conformance_lifecycle, Needs::Shared),
    scenario!(conformance_restart, Needs::Shared),
    scenario!(conformance_offsets, Needs::Shared),
    scenario!(conformance_rebalance, Needs::Shared),
    scenario!(conformance_versions, Needs::Shared),
    scenario!(conformance_auth, Needs::Shared),
];

/// The broker's bootstrap address, from the cluster's `cluster.env`.
fn bootstrap(cluster: &Cluster) -> String {
    let env = std::fs::read_to_string(cluster.dir.path().join("cluster.env")).unwrap();
    let port = env
        .lines()
        .find_map(|l| l.strip_prefix("BROKER_PORT="))
        .expect("cluster.env names BROKER_PORT");
    format!("127.0.0.1:{}", port.trim_matches('\''))
}

fn target(cluster: &Cluster) -> runner::Target {
    let vars = BTreeMap::from([
        (
            "scratch".to_string(),
            cluster.scratch("conformance").display().to_string(),
        ),
        ("bootstrap".to_string(), bootstrap(cluster)),
        ("version".to_string(), cluster.version.clone()),
    ]);
    runner::Target {
        base: cluster.url().to_string(),
        version: cluster.version.clone(),
        is_sim: false,
        vars,
        limit: Duration::from_secs(60),
        poll: Duration::from_millis(200),
    }
}

async fn run_area(cluster: &Cluster, area: &str) {
    let scenarios = runner::of_area(area, &cluster.version);
    assert!(!scenarios.is_empty(), "no scenario in area {area}");
    for scenario in scenarios {
        let started = std::time::Instant::now();
        if let Some(auth) = scenario.basic_auth.as_deref() {
            let own = Cluster::start(&cluster.version, 1, &["--basic-auth", auth]);
            if let Err(e) = runner::run(&scenario, &target(&own)).await {
                panic!("{e}");
            }
        } else {
            cluster.reset().await;
            if let Err(e) = runner::run(&scenario, &target(cluster)).await {
                panic!("{e}");
            }
        }
        eprintln!("conformance {} took {:?}", scenario.name, started.elapsed());
    }
}

async fn conformance_errors(cluster: &Cluster) {
    run_area(cluster, "errors").await;
}
async fn conformance_create(cluster: &Cluster) {
    run_area(cluster, "create").await;
}
async fn conformance_validate(cluster: &Cluster) {
    run_area(cluster, "validate").await;
}
async fn conformance_lifecycle(cluster: &Cluster) {
    run_area(cluster, "lifecycle").await;
}
async fn conformance_restart(cluster: &Cluster) {
    run_area(cluster, "restart").await;
}
async fn conformance_offsets(cluster: &Cluster) {
    run_area(cluster, "offsets").await;
}
async fn conformance_rebalance(cluster: &Cluster) {
    run_area(cluster, "rebalance").await;
}
async fn conformance_versions(cluster: &Cluster) {
    run_area(cluster, "versions").await;
}
async fn conformance_auth(cluster: &Cluster) {
    run_area(cluster, "auth").await;
}
