//! The reconciler's ladder ends in `recreate` (DELETE, then PUT the declared config) and
//! the connector keeps its offsets; a sidecar running beside it leaves the connector to
//! the reconciler. A FileStreamSource writes lines into a topic a declared FileStreamSink
//! copies into a file: the sink commits three lines, fails when its directory goes, and
//! is recreated once the directory is back; the new file then holds only the fourth line.

use std::path::Path;

use serde_json::{Value, json};

use super::support::{LIFECYCLE, SINK, tasks_in, wait_status};
use crate::{Needs, Scenario, cluster::Cluster, http, scenario, sentinel::Running};

pub static SCENARIOS: &[Scenario] = &[scenario!(
    reconcile_recreate_keeps_offsets_beside_a_sidecar,
    Needs::Shared
)];

const SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const TOPIC: &str = "keeper-lines";

/// Waits until the sink's committed offset of [`TOPIC`] is `n`.
async fn committed(cluster: &Cluster, n: u64) {
    let url = format!("{}/connectors/keeper/offsets", cluster.url());
    http::eventually(&format!("keeper committed {n}"), LIFECYCLE, || async {
        let body = http::json(&url).await;
        let offsets = body["offsets"].as_array()?;
        let at = offsets
            .iter()
            .find_map(|o| o["offset"]["kafka_offset"].as_u64());
        (at == Some(n)).then_some(())
    })
    .await;
}

/// The lines of `file` once it has `n` of them.
async fn lines(file: &Path, n: usize) -> Vec<String> {
    http::eventually(
        &format!("{} has {n} lines", file.display()),
        LIFECYCLE,
        || async {
            let text = std::fs::read_to_string(file).ok()?;
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            (lines.len() >= n).then_some(lines)
        },
    )
    .await
}

/// `reconcile` of `dir`, remediating `keeper` with a ladder of one recreate.
fn reconcile(cluster: &Cluster, dir: &Path) -> Running {
    let args = [
        "-f",
        dir.to_str().unwrap(),
        "--connect-url",
        cluster.url(),
        "--restart-check-interval",
        "1s",
        "--restart-ladder",
        "recreate=1",
    ];
    Running::start("reconcile", &args)
}

async fn reconcile_recreate_keeps_offsets_beside_a_sidecar(cluster: &Cluster) {
    let (dir, out) = (cluster.scratch("recreate"), cluster.scratch("recreate-out"));
    let input = cluster.scratch("recreate-in").join("in.txt");
    std::fs::write(&input, "1\n2\n3\n").unwrap();
    let source = json!({"connector.class": SOURCE, "tasks.max": "1", "topic": TOPIC,
        "file": input.to_str().unwrap()});
    let url = format!("{}/connectors/keeper-source/config", cluster.url());
    let (code, body) = http::send("PUT", &url, Some(&source)).await;
    assert_eq!(code, 201, "{body}");
    let copy = out.join("copy.txt");
    let sink = json!({"name": "keeper", "autoRestart": {"maxRestarts": 3}, "config": {
        "connector.class": SINK, "tasks.max": "1", "topics": TOPIC,
        "file": copy.to_str().unwrap()}});
    std::fs::write(dir.join("keeper.json"), sink.to_string()).unwrap();
    let first = reconcile(cluster, &dir);
    assert_eq!(lines(&copy, 3).await, ["1", "2", "3"]);
    committed(cluster, 3).await;
    assert!(first.terminate().success());

    std::fs::remove_dir_all(&out).unwrap();
    let restart = format!("{}/connectors/keeper/tasks/0/restart", cluster.url());
    let (code, body) = http::send("POST", &restart, None).await;
    assert!(code < 300, "{code} {body}");
    tasks_in(cluster, "keeper", "FAILED").await;
    let mut more = std::fs::OpenOptions::new()
        .append(true)
        .open(&input)
        .unwrap();
    std::io::Write::write_all(&mut more, b"4\n").unwrap();
    std::fs::create_dir_all(&out).unwrap();

    let sidecar = Running::serve(cluster.url(), &["--auto-restart", "--grace-period", "0s"]);
    wait_status(&sidecar.url, "/connectors/keeper", 503).await;
    let second = reconcile(cluster, &dir);
    let recreated = recreate_entry(&second).await;
    assert_eq!(recreated["outcome"], "accepted", "{recreated}");
    assert_eq!(lines(&copy, 1).await, ["4"], "offsets survive the recreate");
    committed(cluster, 4).await;
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        "4\n",
        "no line twice"
    );
    assert!(!second.events("recreated").is_empty(), "{}", second.logs());
    let sidecars = http::json(&format!("{}/remediation", sidecar.url)).await;
    assert!(
        !sidecars.to_string().contains("keeper"),
        "the reconciler's: {sidecars}"
    );
    for name in ["keeper", "keeper-source"] {
        let url = format!("{}/connectors/{name}", cluster.url());
        http::send("DELETE", &url, None).await;
    }
}

/// The reconciler's `history` entry of keeper's recreate, once there is one.
async fn recreate_entry(reconciler: &Running) -> Value {
    let url = format!("{}/remediation", reconciler.url);
    http::eventually("keeper recreated", LIFECYCLE, || async {
        let body = http::json(&url).await;
        let history = body["history"].as_array()?.clone();
        history
            .into_iter()
            .find(|e| e["connector"] == "keeper" && e["step"] == "recreate")
    })
    .await
}
