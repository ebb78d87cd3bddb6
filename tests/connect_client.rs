//! The Connect client and one poll against connect-sim: call counts, version
//! fallbacks, and every failure mode as a typed, clear reason.

mod common;

use std::time::Duration;

use connect_sentinel::{
    connect::{ClientOptions, ConnectClient, ConnectError, WorkerHealth},
    poll::Poller,
};
use connect_sim::SimConfig;
use serde_json::json;

/// A poll on 3.9 costs exactly three calls: expand=status, the name list and /health;
/// a connector without a status record is listed with `None` (spec §2.2, §16).
#[tokio::test]
async fn poll_makes_three_calls_and_keeps_statusless_connectors() {
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, json!({"connectors": [common::connector("a", &["RUNNING", "FAILED"]), {"name": "new", "state": "NONE"}]})).await;
    common::take_requests(&sim).await;
    let snapshot = Poller::new(common::client(&sim)).poll().await.unwrap();
    assert_eq!(
        snapshot.connectors["a"].as_ref().unwrap().tasks[1].state,
        "FAILED"
    );
    assert_eq!(snapshot.connectors["new"], None);
    assert_eq!(snapshot.worker, Ok(WorkerHealth::Healthy));
    let counts = common::take_requests(&sim).await;
    assert_eq!(counts["total"], 3, "{counts}");
    assert_eq!(counts["by_route"]["GET /health"], 1);
}

/// Before 2.3 `expand` is ignored: statuses are fetched one by one (URL-encoded names);
/// before 3.9 an info read stands in for /health, and from the second poll on the 404
/// of /health is not asked again (spec §2.2, §16, §19).
#[tokio::test]
async fn poll_falls_back_before_2_3_and_3_9() {
    let sim = common::sim("2.2.0").await;
    common::seed(&sim, json!({"connectors": [common::connector("orders sink #1", &["RUNNING"]), common::connector("b", &["FAILED"])]})).await;
    let poller = Poller::new(common::client(&sim));
    poller.poll().await.unwrap();
    common::take_requests(&sim).await;
    let snapshot = poller.poll().await.unwrap();
    assert_eq!(snapshot.connectors.len(), 2);
    assert_eq!(
        snapshot.connectors["orders sink #1"]
            .as_ref()
            .unwrap()
            .connector
            .state,
        "RUNNING"
    );
    assert_eq!(snapshot.worker, Ok(WorkerHealth::Healthy));
    let counts = common::take_requests(&sim).await;
    assert_eq!(
        counts["by_route"]["GET /connectors/{name}/status"], 2,
        "{counts}"
    );
    assert_eq!(counts["by_route"]["GET /connectors/{name}"], 1, "{counts}");
    assert!(
        counts["by_route"].get("GET /health").is_none()
            && counts["by_route"].get("<unmatched>").is_none(),
        "{counts}"
    );
}

/// Before 3.9, a worker whose herder is stuck reads as unhealthy via the info call.
#[tokio::test]
async fn fallback_health_detects_a_stuck_herder() {
    let sim = common::sim_with(SimConfig {
        version: "3.5.0".parse().unwrap(),
        request_timeout: Duration::from_millis(10),
        ..SimConfig::synchronous()
    })
    .await;
    common::seed(&sim, json!({"connectors": [{"name": "a"}]})).await;
    common::faults(&sim, json!({"timeout": true})).await;
    let snapshot = Poller::new(common::client(&sim)).poll().await.unwrap();
    let Ok(WorkerHealth::Unhealthy(reason)) = &snapshot.worker else {
        panic!("expected unhealthy, got {:?}", snapshot.worker)
    };
    assert!(reason.contains("Request timed out"), "{reason}");
}

/// /health's starting and unhealthy answers carry Connect's message (spec §16).
#[tokio::test]
async fn health_states_are_read_with_their_messages() {
    let sim = common::sim("3.9.0").await;
    common::control(&sim)
        .health(&json!({"status": "starting"}))
        .await
        .unwrap();
    let client = common::client(&sim);
    let Some(WorkerHealth::Starting(message)) = client.health().await.unwrap() else {
        panic!("not starting")
    };
    assert!(
        message.starts_with("Worker is still starting up."),
        "{message}"
    );
}

/// Each failure mode is a typed error with a clear reason, never a hang.
#[tokio::test]
async fn failures_are_typed_and_clear() {
    let sim = common::sim("3.9.0").await;
    let client = common::client(&sim);
    let cases = [
        (
            json!({"status": 409, "body": {"error_code": 409, "message": "Cannot complete request momentarily"}}),
            "conflict",
        ),
        (json!({"status": 500}), "http_status"),
        (json!({"garbage": true}), "invalid_json"),
        (json!({"hang": true}), "timeout"),
        (json!({"reset": true}), "unreachable"),
    ];
    for (fault, label) in cases {
        common::faults(&sim, fault.clone()).await;
        let error = client.connector_names().await.unwrap_err();
        assert_eq!(error.label(), label, "{fault}: {error}");
        assert!(
            error.to_string().contains("GET /connectors") || label == "unreachable",
            "{error}"
        );
    }
}

/// Connect not listening: `Unreachable` naming the URL and the OS reason.
#[tokio::test]
async fn closed_port_is_unreachable() {
    let sim = common::sim("3.9.0").await;
    let url = sim.url();
    sim.stop().await.unwrap();
    let client = ConnectClient::new(ClientOptions::new(&url)).unwrap();
    let error = client.connector_names().await.unwrap_err();
    assert!(
        matches!(error, ConnectError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&url) && error.to_string().to_lowercase().contains("refused"),
        "{error}"
    );
}

/// Basic auth is split at the first colon (kafka-connect-healthcheck bug §1.5.5), a
/// wrong password is `Unauthorized`, and neither reason shows the password.
#[tokio::test]
async fn basic_auth_with_a_colon_in_the_password() {
    let password = "canary:s3cret-CANARY";
    let auth = Some(("admin".to_string(), password.to_string()));
    let sim = common::sim_with(SimConfig {
        basic_auth: auth.clone(),
        ..SimConfig::synchronous()
    })
    .await;
    let good = ConnectClient::new(ClientOptions {
        basic_auth: auth,
        ..common::options(&sim)
    })
    .unwrap();
    assert_eq!(good.connector_names().await.unwrap(), Vec::<String>::new());
    let wrong = Some(("admin".to_string(), "canary".to_string()));
    let bad = ConnectClient::new(ClientOptions {
        basic_auth: wrong,
        ..common::options(&sim)
    })
    .unwrap();
    let error = bad.connector_names().await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert!(
        !format!("{error} {error:?}").contains("s3cret"),
        "{error:?}"
    );
}

/// Bad settings are refused with the offending value named.
#[test]
fn bad_settings_are_refused() {
    let with = |f: fn(&mut ClientOptions)| {
        let mut options = ClientOptions::new("http://127.0.0.1:1");
        f(&mut options);
        ConnectClient::new(options).unwrap_err().to_string()
    };
    assert!(
        with(|o| o.url = "http://u:p@127.0.0.1:1".into()).contains("must not hold credentials")
    );
    assert!(with(|o| o.url = "ftp://127.0.0.1".into()).contains("expected http"));
    let unparsable = with(|o| o.url = "http://u:CANARY-pw@127.0.0.1:99999".into());
    assert!(
        unparsable.contains("invalid Connect URL \"http://***@127.0.0.1:99999\""),
        "{unparsable}"
    );
    assert!(
        with(|o| o.tls.ca_file = Some("/nonexistent/ca.pem".into()))
            .contains("/nonexistent/ca.pem")
    );
    assert!(with(|o| o.headers = vec![("Bad Header".into(), "x".into())]).contains("Bad Header"));
}
