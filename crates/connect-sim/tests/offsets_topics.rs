//! Offsets (KIP-875) and active topics (KIP-558) over real HTTP (spec §10, §11).

mod common;

use connect_sim::SimConfig;
use serde_json::{Value, json};

const NOT_STOPPED: &str = "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/x/stop' endpoint";
const STALE_CONFIG: &str = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)";
const NO_OFFSETS: &str = "Partitions / offsets need to be provided for an alter offsets request";

/// A sink offset entry for `orders` partition `p`.
fn sink_offset(p: u32, offset: Value) -> Value {
    json!({"partition": {"kafka_topic": "orders", "kafka_partition": p}, "offset": offset})
}

/// A stopped JdbcSink `x` (seeded) with offsets for partitions 0 and 1.
async fn stopped_jdbc_sink() -> common::TestSim {
    let sim = common::start_sync().await;
    let offsets = [
        sink_offset(0, json!({"kafka_offset": 5})),
        sink_offset(1, json!({"kafka_offset": 7})),
    ];
    sim.seed(json!({"connectors": [{"name": "x", "type": "sink", "state": "STOPPED", "offsets": offsets}]}))
        .await;
    sim
}

// ---------------------------------------------------------------------------------------
// §10 GET offsets
// ---------------------------------------------------------------------------------------

/// spec §10: GET offsets works in any state, with the `{"offsets":[…]}` shape.
#[tokio::test]
async fn get_offsets_works_in_every_state() {
    let sim = common::start_sync().await;
    let offsets = json!([sink_offset(0, json!({"kafka_offset": 4711}))]);
    for state in [
        "RUNNING",
        "PAUSED",
        "STOPPED",
        "FAILED",
        "UNASSIGNED",
        "NONE",
    ] {
        let name = format!("c-{}", state.to_lowercase());
        let seed = json!({"name": name, "type": "sink", "state": state, "offsets": offsets});
        sim.seed(json!({"connectors": [seed]})).await;
        let answer = sim.get(&format!("/connectors/{name}/offsets")).await;
        assert_eq!(answer.status, 200, "{state}");
        assert_eq!(answer.body, json!({"offsets": offsets}), "{state}");
    }
}

/// spec §10: GET offsets of an unknown connector is 404 `Connector X not found`.
#[tokio::test]
async fn get_offsets_of_an_unknown_connector_is_404() {
    let sim = common::start_sync().await;
    let answer = sim.get("/connectors/nope/offsets").await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.body,
        json!({"error_code": 404, "message": "Connector nope not found"})
    );
}

// ---------------------------------------------------------------------------------------
// §10 PATCH / DELETE offsets need STOPPED
// ---------------------------------------------------------------------------------------

/// spec §10: PATCH and DELETE on a running connector are 400 with the exact message.
#[tokio::test]
async fn altering_offsets_of_a_running_connector_is_400() {
    let sim = common::start_sync().await;
    assert_eq!(sim.create_sink("x", 1).await.status, 201);
    assert_eq!(sim.connector_state("x").await, "RUNNING");
    let patch = sim
        .patch(
            "/connectors/x/offsets",
            json!({"offsets": [sink_offset(0, json!({"kafka_offset": 1}))]}),
        )
        .await;
    assert_eq!(patch.status, 400);
    assert_eq!(
        patch.body,
        json!({"error_code": 400, "message": NOT_STOPPED})
    );
    let delete = sim.delete("/connectors/x/offsets").await;
    assert_eq!(delete.status, 400);
    assert_eq!(delete.message(), NOT_STOPPED);
}

/// spec §10: a PAUSED connector is not STOPPED either.
#[tokio::test]
async fn altering_offsets_of_a_paused_connector_is_400() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "x", "type": "sink", "state": "PAUSED"}]}))
        .await;
    let delete = sim.delete("/connectors/x/offsets").await;
    assert_eq!(delete.status, 400);
    assert_eq!(delete.message(), NOT_STOPPED);
}

/// spec §10: PATCH/DELETE offsets of an unknown connector is 404.
#[tokio::test]
async fn altering_offsets_of_an_unknown_connector_is_404() {
    let sim = common::start_sync().await;
    let patch = sim
        .patch(
            "/connectors/nope/offsets",
            json!({"offsets": [sink_offset(0, json!({"kafka_offset": 1}))]}),
        )
        .await;
    assert_eq!(patch.status, 404);
    assert_eq!(patch.message(), "Connector nope not found");
    let delete = sim.delete("/connectors/nope/offsets").await;
    assert_eq!(delete.status, 404);
    assert_eq!(delete.message(), "Connector nope not found");
}

/// spec §10: after `PUT …/stop`, a FileStream connector (whose hook confirms) gets the
/// short success messages for PATCH and DELETE.
#[tokio::test]
async fn file_stream_offsets_alter_and_reset_after_stop() {
    let sim = common::start_sync().await;
    assert_eq!(sim.create_sink("x", 2).await.status, 201);
    assert_eq!(sim.task_states("x").await, ["RUNNING", "RUNNING"]);
    assert_eq!(sim.put("/connectors/x/stop", None).await.status, 204);
    let patch = sim
        .patch(
            "/connectors/x/offsets",
            json!({"offsets": [sink_offset(0, json!({"kafka_offset": 10}))]}),
        )
        .await;
    assert_eq!(patch.status, 200);
    assert_eq!(
        patch.body,
        json!({"message": "The offsets for this connector have been altered successfully"})
    );
    let delete = sim.delete("/connectors/x/offsets").await;
    assert_eq!(delete.status, 200);
    assert_eq!(
        delete.body,
        json!({"message": "The offsets for this connector have been reset successfully"})
    );
}

/// spec §10: a connector whose hook does not confirm (JDBC) gets the framework-managed
/// messages.
#[tokio::test]
async fn jdbc_offsets_get_the_framework_managed_messages_after_stop() {
    let sim = common::start_sync().await;
    sim.seed(json!({"connectors": [{"name": "x", "type": "sink"}]}))
        .await;
    assert_eq!(sim.put("/connectors/x/stop", None).await.status, 204);
    let patch = sim
        .patch(
            "/connectors/x/offsets",
            json!({"offsets": [sink_offset(0, json!({"kafka_offset": 3}))]}),
        )
        .await;
    assert_eq!(patch.status, 200);
    assert_eq!(
        patch.body["message"],
        "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses."
    );
    let delete = sim.delete("/connectors/x/offsets").await;
    assert_eq!(delete.status, 200);
    assert_eq!(
        delete.body["message"],
        "The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses."
    );
}

/// spec §10: PATCH changes the given partitions and `"offset": null` removes one.
#[tokio::test]
async fn patch_offsets_updates_and_null_removes_a_partition() {
    let sim = stopped_jdbc_sink().await;
    let changes = json!({"offsets": [sink_offset(0, Value::Null), sink_offset(1, json!({"kafka_offset": 99}))]});
    assert_eq!(
        sim.patch("/connectors/x/offsets", changes).await.status,
        200
    );
    let offsets = sim.get("/connectors/x/offsets").await;
    assert_eq!(offsets.status, 200);
    assert_eq!(
        offsets.body,
        json!({"offsets": [sink_offset(1, json!({"kafka_offset": 99}))]})
    );
}

/// spec §10: DELETE resets every offset.
#[tokio::test]
async fn delete_offsets_resets_to_empty() {
    let sim = stopped_jdbc_sink().await;
    assert_eq!(
        sim.get("/connectors/x/offsets").await.body["offsets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(sim.delete("/connectors/x/offsets").await.status, 200);
    let offsets = sim.get("/connectors/x/offsets").await;
    assert_eq!(offsets.status, 200);
    assert_eq!(offsets.body, json!({"offsets": []}));
}

/// spec §10: an empty or absent `offsets` list is 400.
#[tokio::test]
async fn patch_offsets_without_offsets_is_400() {
    let sim = stopped_jdbc_sink().await;
    for body in [json!({}), json!({"offsets": []}), json!({"offsets": null})] {
        let answer = sim.patch("/connectors/x/offsets", body.clone()).await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(
            answer.body,
            json!({"error_code": 400, "message": NO_OFFSETS}),
            "{body}"
        );
    }
    assert_eq!(
        sim.get("/connectors/x/offsets").await.body["offsets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// spec §10 + §0.2: a body of the wrong shape is a 500 with a Jackson message, not a 400.
#[tokio::test]
async fn patch_offsets_with_a_wrong_shape_is_500() {
    let sim = stopped_jdbc_sink().await;
    let wrong = [
        json!([]),
        json!({"offsets": {}}),
        json!({"offsets": [{"partition": [], "offset": {}}]}),
    ];
    for body in wrong {
        let answer = sim.patch("/connectors/x/offsets", body.clone()).await;
        assert_eq!(answer.status, 500, "{body}");
        assert!(
            answer.message().starts_with("Cannot deserialize value"),
            "{body}: {}",
            answer.message()
        );
    }
}

/// spec §10 + §0.2: an unknown field in the offsets body fails Jackson deserialization
/// (`Unrecognized field`, 500), as Kafka's `testAlterSourceConnectorOffsetsInvalidRequestBody`
/// asserts.
#[tokio::test]
async fn patch_offsets_with_an_unknown_field_is_500() {
    let sim = stopped_jdbc_sink().await;
    let body = json!({"offsets": [sink_offset(0, json!({"kafka_offset": 1}))], "extra": true});
    let answer = sim.patch("/connectors/x/offsets", body).await;
    assert_eq!(answer.status, 500);
    assert!(
        answer.message().starts_with("Unrecognized field \"extra\""),
        "{}",
        answer.message()
    );
}

/// spec §10 + §18: PATCH and DELETE offsets are subject to the rebalance check (409);
/// GET offsets is not.
#[tokio::test]
async fn altering_offsets_during_a_rebalance_is_409() {
    let sim = stopped_jdbc_sink().await;
    sim.faults(json!({"rebalancing": true})).await;
    let stale = json!({"error_code": 409, "message": STALE_CONFIG});
    let patch = sim
        .patch(
            "/connectors/x/offsets",
            json!({"offsets": [sink_offset(0, Value::Null)]}),
        )
        .await;
    assert_eq!((patch.status, &patch.body), (409, &stale));
    let delete = sim.delete("/connectors/x/offsets").await;
    assert_eq!((delete.status, &delete.body), (409, &stale));
    assert_eq!(sim.get("/connectors/x/offsets").await.status, 200);
}

// ---------------------------------------------------------------------------------------
// §11 active topics
// ---------------------------------------------------------------------------------------

/// spec §11: topics of an unknown connector is 200 with an empty list (no existence check).
#[tokio::test]
async fn topics_of_an_unknown_connector_is_an_empty_list() {
    let sim = common::start_sync().await;
    let answer = sim.get("/connectors/nope/topics").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, json!({"nope": {"topics": []}}));
}

/// spec §11: a running sink reports its topics once it ran; reset is 202 with an empty body
/// and clears them.
#[tokio::test]
async fn topics_reset_is_202_with_an_empty_body() {
    let sim = common::start_sync().await;
    assert_eq!(sim.create_sink("x", 1).await.status, 201);
    assert_eq!(sim.task_states("x").await, ["RUNNING"]);
    assert_eq!(
        sim.get("/connectors/x/topics").await.body,
        json!({"x": {"topics": ["orders"]}})
    );
    let reset = sim.put("/connectors/x/topics/reset", None).await;
    assert_eq!(reset.status, 202);
    assert_eq!(reset.body, Value::Null);
    assert_eq!(
        sim.get("/connectors/x/topics").await.body,
        json!({"x": {"topics": []}})
    );
}

/// spec §11: reset has no existence check either.
#[tokio::test]
async fn topics_reset_of_an_unknown_connector_is_202() {
    let sim = common::start_sync().await;
    let reset = sim.put("/connectors/nope/topics/reset", None).await;
    assert_eq!(reset.status, 202);
    assert_eq!(reset.body, Value::Null);
}

/// spec §11: `topic.tracking.enable=false` makes both endpoints 403.
#[tokio::test]
async fn disabled_topic_tracking_is_403_for_both_endpoints() {
    let sim = common::start(SimConfig {
        topic_tracking: false,
        ..SimConfig::synchronous()
    })
    .await;
    let forbidden = json!({"error_code": 403, "message": "Topic tracking is disabled."});
    let topics = sim.get("/connectors/x/topics").await;
    assert_eq!((topics.status, &topics.body), (403, &forbidden));
    let reset = sim.put("/connectors/x/topics/reset", None).await;
    assert_eq!((reset.status, &reset.body), (403, &forbidden));
}

/// spec §11: `topic.tracking.allow.reset=false` makes only the reset 403.
#[tokio::test]
async fn disabled_topic_reset_is_403_for_reset_only() {
    let sim = common::start(SimConfig {
        topic_tracking_reset: false,
        ..SimConfig::synchronous()
    })
    .await;
    let reset = sim.put("/connectors/x/topics/reset", None).await;
    assert_eq!(reset.status, 403);
    assert_eq!(
        reset.body,
        json!({"error_code": 403, "message": "Topic tracking reset is disabled."})
    );
    let topics = sim.get("/connectors/x/topics").await;
    assert_eq!(topics.status, 200);
    assert_eq!(topics.body, json!({"x": {"topics": []}}));
}
