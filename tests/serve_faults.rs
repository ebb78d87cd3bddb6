//! `serve` under Connect faults: `/ping` and `/livez` always answer at once from
//! memory, while `/` and `/readyz` turn 503 with a clear reason; never a hang
//! (kafka-connect-healthcheck hung on every path, peers §1.5.1).

mod common;

use std::time::Duration;

use common::serve;
use serde_json::json;

/// Each fault, with a word its reason must contain.
const FAULTS: &[(&str, &str)] = &[
    (r#"{"hang": true}"#, "did not answer"),
    (r#"{"latency_ms": 5000}"#, "did not answer"),
    (
        r#"{"status": 409, "body": {"error_code": 409, "message": "Cannot complete request momentarily"}}"#,
        "rebalancing",
    ),
    (r#"{"status": 500}"#, "HTTP 500"),
    (r#"{"garbage": true}"#, "invalid JSON"),
    (r#"{"reset": true}"#, "unreachable"),
    (
        r#"{"status": 401, "body": "User cannot access the resource."}"#,
        "credentials",
    ),
];

/// A client whose deadline is far below a 1 s Kubernetes probe timeout.
fn impatient() -> reqwest::Client {
    let _ = common::http();
    reqwest::Client::builder()
        .timeout(Duration::from_millis(250))
        .build()
        .unwrap()
}

#[tokio::test]
async fn ping_and_livez_stay_instant_while_root_reports_the_fault() {
    let sim = common::sim("3.9.0").await;
    common::seed(
        &sim,
        json!({"connectors": [common::connector("a", &["RUNNING"])]}),
    )
    .await;
    let served = serve(&sim, &["--connect-timeout", "100ms"]).await;
    let client = impatient();
    for (fault, reason) in FAULTS {
        common::faults(&sim, serde_json::from_str(fault).unwrap()).await;
        served.fresh().await;
        for path in ["/ping", "/livez"] {
            let answer = client.get(format!("{}{path}", served.url)).send().await;
            assert_eq!(
                answer.map(|a| a.status().as_u16()).ok(),
                Some(200),
                "{path} under {fault}"
            );
        }
        let root = client.get(format!("{}/", served.url)).send().await.unwrap();
        assert_eq!(root.status(), 503, "{fault}");
        let body: serde_json::Value = root.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains(reason),
            "{fault}: {body}"
        );
        let ready = client
            .get(format!("{}/readyz", served.url))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 503, "{fault}");
    }
    common::faults(&sim, json!({})).await;
    served.fresh().await;
    assert_eq!(
        served.get("/").await.0,
        200,
        "healthy again once the fault clears"
    );
}

/// `/readyz` follows the worker's `/health`: 503 while it is starting.
#[tokio::test]
async fn readyz_is_503_while_the_worker_starts() {
    let sim = common::sim("3.9.0").await;
    common::control(&sim)
        .health(&json!({"status": "starting"}))
        .await
        .unwrap();
    let served = serve(&sim, &[]).await;
    let (status, body) = served.get("/readyz").await;
    assert_eq!(status, 503);
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .starts_with("worker starting"),
        "{body}"
    );
    assert_eq!(served.get("/livez").await.0, 200);
}

/// Per-connector and per-task endpoints: 200 / 503 / 404.
#[tokio::test]
async fn per_connector_and_task_endpoints() {
    let sim = common::sim("3.9.0").await;
    common::seed(
        &sim,
        json!({"connectors": [common::connector("a", &["RUNNING", "FAILED"])]}),
    )
    .await;
    let served = serve(&sim, &[]).await;
    assert_eq!(served.get("/connectors/a").await.0, 503);
    assert_eq!(served.get("/connectors/a/tasks/0").await.0, 200);
    let (status, body) = served.get("/connectors/a/tasks/1").await;
    assert_eq!((status, body["state"].as_str()), (503, Some("FAILED")));
    assert_eq!(served.get("/connectors/nope").await.0, 404);
    assert_eq!(served.get("/connectors/a/tasks/9").await.0, 404);
}

/// `/metrics`: OpenMetrics text with one-hot states and poll counters.
#[tokio::test]
async fn metrics_expose_states_and_polls() {
    let sim = common::sim("3.9.0").await;
    common::seed(
        &sim,
        json!({"connectors": [common::connector("a", &["FAILED"])]}),
    )
    .await;
    let served = serve(&sim, &[]).await;
    let text = common::http()
        .get(format!("{}/metrics", served.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"connect_sentinel_task_state{connector="a",task="0",state="FAILED",worker="#
        ),
        "{text}"
    );
    assert!(text.contains("connect_sentinel_connect_up 1"), "{text}");
    assert!(text.contains("connect_sentinel_healthy 0"), "{text}");
    assert!(
        text.contains("# TYPE connect_sentinel_polls counter")
            && text.trim_end().ends_with("# EOF"),
        "{text}"
    );
}

/// Waits (bounded) until `/` answers 503 because the snapshot is older than --max-age.
async fn until_stale(served: &common::Served) {
    let stale = async {
        loop {
            let (code, body) = served.get("/").await;
            if code == 503 && body["error"].as_str().is_some_and(|e| e.contains("old")) {
                return;
            }
        }
    };
    let waited = tokio::time::timeout(Duration::from_secs(20), stale).await;
    assert!(waited.is_ok(), "/ never answered 503 for a stale snapshot");
}

/// A snapshot older than --max-age makes `/` unhealthy with a reason, and `/metrics`
/// agrees: healthy 0, connect_up 0, no state series. Here the poller is stuck (Connect
/// accepts and never answers, within a long --connect-timeout), so once stale the
/// snapshot stays stale: no race with a poll finishing just before the probe.
#[tokio::test]
async fn stale_snapshot_is_unhealthy_in_root_and_metrics() {
    let sim = common::sim("3.9.0").await;
    common::seed(
        &sim,
        json!({"connectors": [common::connector("a", &["RUNNING"])]}),
    )
    .await;
    let flags = ["--max-age", "100ms", "--connect-timeout", "60s"];
    let served = serve(&sim, &flags).await;
    common::faults(&sim, json!({"hang": true})).await;
    until_stale(&served).await;
    let (_, metrics) = served.get("/metrics").await;
    let text = metrics.as_str().unwrap();
    assert!(text.contains("connect_sentinel_healthy 0"), "{text}");
    assert!(text.contains("connect_sentinel_connect_up 0"), "{text}");
    assert!(!text.contains("connect_sentinel_task_state{"), "{text}");
    assert_eq!(served.get("/readyz").await.0, 503);
}

/// `--bind ::1` serves over IPv6 (kafka-connect-healthcheck was IPv4-only, peers §1.5.16).
#[tokio::test]
async fn serves_over_ipv6() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let sim = common::sim("3.9.0").await;
    let served = common::serve_flags(&[
        "--bind",
        "::1",
        "--poll-interval",
        "20ms",
        "--connect-url",
        &sim.url(),
    ])
    .await;
    assert!(served.url.starts_with("http://[::1]:"), "{}", served.url);
    assert_eq!(served.get("/ping").await.0, 200);
}
