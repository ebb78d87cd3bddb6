//! What a real worker does with FileStream connectors, imitated: a sink whose directory
//! does not exist fails its tasks with Connect's trace (again after every restart), a
//! healthy one runs, and neither has offsets until data flows (real 3.9.1 and 4.3.1).

mod common;

use std::path::PathBuf;

use serde_json::json;

/// A fresh scratch directory under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("connect-sim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_sink_into_a_missing_directory_fails_and_restarts_fail_again() {
    let sim = common::start_sync().await;
    let dir = Scratch::new("missing-dir");
    let file = dir.path().join("absent/out.txt");
    let config =
        json!({"connector.class": "FileStreamSink", "tasks.max": "2", "topics": "t", "file": file});
    assert_eq!(
        sim.put("/connectors/a/config", Some(config)).await.status,
        201
    );
    assert_eq!(sim.connector_state("a").await, "RUNNING");
    assert_eq!(sim.task_states("a").await, ["FAILED", "FAILED"]);
    let trace = sim.get("/connectors/a/tasks/0/status").await.body["trace"].clone();
    assert!(trace.as_str().unwrap().starts_with(&format!("org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '{}' for FileStreamSinkTask", file.display())), "{trace}");
    assert_eq!(
        sim.post("/connectors/a/tasks/0/restart", None).await.status,
        204
    );
    assert_eq!(
        sim.post("/connectors/a/restart?includeTasks=true", None)
            .await
            .status,
        202
    );
    sim.advance(1).await;
    assert_eq!(sim.task_states("a").await, ["FAILED", "FAILED"]);
    // Once the directory exists, a restart brings the tasks up.
    std::fs::create_dir_all(dir.path().join("absent")).unwrap();
    assert_eq!(
        sim.post(
            "/connectors/a/restart?includeTasks=true&onlyFailed=true",
            None
        )
        .await
        .status,
        202
    );
    sim.advance(1).await;
    assert_eq!(sim.task_states("a").await, ["RUNNING", "RUNNING"]);
}

#[tokio::test]
async fn running_connectors_have_no_offsets_until_data_flows() {
    let sim = common::start_sync().await;
    let dir = Scratch::new("offsets");
    let config = json!({"connector.class": "FileStreamSink", "tasks.max": "1", "topics": "t", "file": dir.path().join("out.txt")});
    assert_eq!(
        sim.put("/connectors/a/config", Some(config)).await.status,
        201
    );
    assert_eq!(sim.task_states("a").await, ["RUNNING"]);
    assert_eq!(
        sim.get("/connectors/a/offsets").await.body,
        json!({"offsets": []})
    );
}
