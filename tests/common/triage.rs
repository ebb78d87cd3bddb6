//! A connect-sim cluster with one connector in each kind of trouble, for the status
//! page's tests: `zz-failed` (its task FAILED, a secret in the trace and the config),
//! `mm-degraded` (one of two tasks FAILED), `pp-paused` and `aa-healthy`.

use serde_json::{Value, json};

const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
pub const TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: cannot write\n\tat Sink.put(Sink.java:1)\nCaused by: java.net.ConnectException: Connection refused; password=CANARY-ui-secret\n\tat Net.open(Net.java:9)";

/// A FileStreamSink seed with `topics` and `tasks`, a canary in its config.
pub fn sink(name: &str, topics: &str, tasks: Value) -> Value {
    json!({"name": name, "config": {"connector.class": SINK, "topics": topics, "file": "/tmp/x",
        "connection.password": "CANARY-config-secret"}, "tasks": tasks})
}

/// The four connectors, and `extra` ones.
pub async fn seeded(extra: &[Value]) -> connect_sim::Running {
    let sim = super::sim("3.9.0").await;
    let failed = json!([{"state": "FAILED", "trace": TRACE}]);
    let degraded = json!([{"state": "RUNNING"}, {"state": "FAILED", "trace": TRACE}]);
    let mut connectors = vec![
        sink("aa-healthy", "orders", json!([{"state": "RUNNING"}])),
        sink("zz-failed", "payments", failed),
        sink("mm-degraded", "audit", degraded),
        json!({"name": "pp-paused", "state": "PAUSED", "tasks": [{"state": "PAUSED"}]}),
    ];
    connectors.extend(extra.iter().cloned());
    super::seed(&sim, json!({ "connectors": connectors })).await;
    sim
}
