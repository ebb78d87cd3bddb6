//! Secrets masked on read, as a vendor does (`--mask-secrets`, `PUT /_sim/masking`):
//! every config view shows the mask, what is stored is unchanged, and provider
//! references stay visible. Without it, values are shown as stored (spec §5.1).

mod common;

use connect_sim::SimConfig;
use serde_json::{Value, json};

const JDBC: &str = "io.confluent.connect.jdbc.JdbcSourceConnector";

fn config(password: &str) -> Value {
    json!({"connector.class": JDBC, "connection.url": "jdbc:postgresql://db/x",
        "topic.prefix": "t-", "connection.password": password,
        "db.secret": "${file:/etc/s.properties:secret}"})
}

/// The config as each view shows it: the config GET, info, `?expand=info`.
async fn views(sim: &common::TestSim) -> [Value; 3] {
    let config = sim.get("/connectors/jdbc/config").await.body;
    let info = sim.get("/connectors/jdbc").await.body["config"].clone();
    let expanded = sim.get("/connectors?expand=info").await.body["jdbc"]["info"]["config"].clone();
    [config, info, expanded]
}

#[tokio::test]
async fn every_view_masks_secrets_and_storage_keeps_them() {
    let sim = common::start(SimConfig {
        mask_secrets: Some("****".into()),
        ..SimConfig::synchronous()
    })
    .await;
    let created = sim
        .post(
            "/connectors",
            Some(json!({"name": "jdbc", "config": config("CANARY-pw-1")})),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["config"]["connection.password"], "****");
    for view in views(&sim).await {
        assert_eq!(view["connection.password"], "****", "{view}");
        assert_eq!(view["db.secret"], "${file:/etc/s.properties:secret}");
        assert_eq!(view["topic.prefix"], "t-");
    }
    // Turned off through the control API: the stored value shows again.
    sim.control.masking(None).await.unwrap();
    for view in views(&sim).await {
        assert_eq!(view["connection.password"], "CANARY-pw-1", "{view}");
    }
    let state = sim.get("/_sim/masking").await.body;
    assert_eq!(state, json!({"mask": null}));
}

#[tokio::test]
async fn masking_is_off_by_default_and_toggled_by_the_control_api() {
    let sim = common::start_sync().await;
    sim.post(
        "/connectors",
        Some(json!({"name": "jdbc", "config": config("pw-2")})),
    )
    .await;
    assert_eq!(views(&sim).await[0]["connection.password"], "pw-2");
    let set = sim
        .put("/_sim/masking", Some(json!({"mask": "[hidden]"})))
        .await;
    assert_eq!((set.status, &set.body), (200, &json!({"mask": "[hidden]"})));
    for view in views(&sim).await {
        assert_eq!(view["connection.password"], "[hidden]", "{view}");
    }
    let empty = sim.put("/_sim/masking", Some(json!({"mask": ""}))).await;
    assert_eq!(empty.status, 400, "{:?}", empty.body);
    let unknown = sim.put("/_sim/masking", Some(json!({"masks": "x"}))).await;
    assert_eq!(unknown.status, 400);
    // A reset goes back to the start-up setting (off).
    sim.post("/_sim/reset", None).await;
    assert_eq!(sim.get("/_sim/masking").await.body, json!({"mask": null}));
}
