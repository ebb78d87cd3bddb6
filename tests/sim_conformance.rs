//! The conformance scenarios (`tests/conformance/scenarios.json`) against connect-sim
//! of each version the real tier runs (3.9.1 and 4.3.1), one test per area; each
//! scenario gets a fresh simulator with the default (asynchronous) lifecycle timing. The same
//! scenarios run against real Kafka Connect in `tests/real/scenarios/conformance.rs`.

#[path = "conformance/mod.rs"]
mod conformance;

use std::{collections::BTreeMap, time::Duration};

use connect_sim::SimConfig;

const VERSIONS: &[&str] = &["3.9.1", "4.3.1"];

/// The sim's rebalance window (300 ms after every config or task change by default) is
/// far longer than a real worker's, which no client on loopback ever saw: only the
/// `rebalance` area, which records that difference, keeps it.
fn rebalance_window(area: &str) -> Duration {
    if area == "rebalance" {
        SimConfig::default().rebalance_window
    } else {
        Duration::ZERO
    }
}

async fn run_area(area: &str) {
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for version in VERSIONS {
        for scenario in conformance::of_area(area, version) {
            let basic_auth = scenario.basic_auth.as_deref().map(|a| {
                let (user, pass) = a.split_once(':').unwrap();
                (user.to_string(), pass.to_string())
            });
            let sim = connect_sim::spawn(SimConfig {
                version: version.parse().unwrap(),
                basic_auth,
                rebalance_window: rebalance_window(area),
                ..SimConfig::default()
            })
            .await
            .unwrap();
            let vars = BTreeMap::from([
                ("scratch".to_string(), scratch.path().display().to_string()),
                ("bootstrap".to_string(), "127.0.0.1:9092".to_string()),
                ("version".to_string(), version.to_string()),
            ]);
            let target = conformance::Target {
                base: sim.url(),
                version: version.to_string(),
                is_sim: true,
                vars,
                limit: Duration::from_secs(10),
                poll: Duration::from_millis(50),
            };
            if let Err(e) = conformance::run(&scenario, &target).await {
                failures.push(format!("connect-sim {version}: {e}"));
            }
            ran += 1;
            sim.stop().await.unwrap();
        }
    }
    assert!(ran > 0, "no scenario in area {area}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The matchers accept what they should and refuse the rest (a runner that cannot fail
/// would prove nothing).
#[test]
fn matchers_accept_and_refuse() {
    use conformance::expect::{Props, Status, check};
    use serde_json::{Value, json};
    let props = |v: Value| -> Props { serde_json::from_value(v).unwrap() };
    let body = json!({"message": "Connector a not found", "tasks": [{"state": "FAILED"}]});
    let good = props(json!({"/message": {"$regex": "^Connector a"},
        "/tasks": {"$all": {"/state": "FAILED"}, "$len": 1}, "/x": {"$exists": false}}));
    assert!(check(404, &body, Some(&Status::One(404)), &good).is_ok());
    assert!(check(200, &body, Some(&Status::Any(vec![404, 500])), &good).is_err());
    for bad in [
        json!({"/message": "other"}),
        json!({"/tasks": {"$some": {"/state": "RUNNING"}}}),
        json!({"/message": {"$not": {"$contains": "not found"}}}),
        json!({"/tasks/0/state": {"$one_of": ["RUNNING"]}}),
        json!({"/x": {"$exists": true}}),
    ] {
        assert!(
            check(404, &body, None, &props(bad.clone())).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn every_scenario_has_a_known_area_and_a_unique_name() {
    let scenarios = conformance::scenarios();
    let mut names = std::collections::HashSet::new();
    for s in &scenarios {
        assert!(
            conformance::AREAS.contains(&s.area.as_str()),
            "{}: area {}",
            s.name,
            s.area
        );
        assert!(
            names.insert(s.name.clone()),
            "duplicate scenario {}",
            s.name
        );
        assert!(!s.steps.is_empty(), "{} has no steps", s.name);
    }
    for (scenario, req, reason) in conformance::known_differences() {
        assert!(
            reason.len() > 20,
            "{scenario} `{req}`: say why the sim differs"
        );
    }
}

macro_rules! area_tests {
    ($($area:ident),*) => {$(
        #[tokio::test]
        async fn $area() {
            run_area(stringify!($area)).await;
        }
    )*};
}

area_tests!(
    errors, create, validate, lifecycle, restart, offsets, rebalance, versions, auth
);
