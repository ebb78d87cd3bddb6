//! serve, probe, status and restart against a real FAILED task (a FileStreamSink writing
//! into a directory that does not exist), auto-restart that helps and that escalates,
//! and one sidecar per worker restarting only its own tasks.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::support::{LIFECYCLE, file_sink, metric, tasks_in, wait_status};
use crate::{Needs, Scenario, cluster::Cluster, http, scenario, sentinel};

pub static SCENARIOS: &[Scenario] = &[
    scenario!(failed_task_seen_by_serve_probe_status, Needs::Shared),
    scenario!(restart_command_brings_a_task_back, Needs::Shared),
    scenario!(auto_restart_recovers_once_the_cause_is_gone, Needs::Shared),
    scenario!(auto_restart_escalates_when_the_cause_stays, Needs::Shared),
    scenario!(
        a_config_exception_is_escalated_without_restarts,
        Needs::Shared
    ),
    scenario!(sidecar_per_worker_restarts_only_its_own, Needs::Shared),
    scenario!(basic_auth_through_connects_extension, Needs::Shared),
];

/// A FileStreamSink named `name` whose file lies in a missing directory, with every
/// task FAILED on Connect; returns the directory whose creation cures it.
async fn broken_sink(cluster: &Cluster, name: &str, tasks: u32) -> PathBuf {
    let cure = cluster.scratch(name).join("absent");
    let file = cure.join("out.txt");
    file_sink(cluster, name, file.to_str().unwrap(), tasks).await;
    tasks_in(cluster, name, "FAILED").await;
    cure
}

async fn failed_task_seen_by_serve_probe_status(cluster: &Cluster) {
    broken_sink(cluster, "broken-sink", 1).await;
    let served = sentinel::Running::serve(cluster.url(), &[]);
    let body = wait_status(&served.url, "/", 503).await;
    assert_eq!(body["healthy"], false, "{body}");
    let failures = body["failures"].to_string();
    assert!(
        failures.contains("broken-sink") && failures.contains("Couldn't find or create file"),
        "{body}"
    );
    for path in ["/connectors/broken-sink", "/connectors/broken-sink/tasks/0"] {
        let (status, answer) = http::get(&format!("{}{path}", served.url)).await;
        assert_eq!(status, 503, "{path}: {answer}");
    }
    let (status, answer) = http::get(&format!("{}/connectors/nosuch", served.url)).await;
    assert_eq!(status, 404, "{answer}");
    let failed = r#"connector="broken-sink",task="0",state="FAILED""#;
    assert_eq!(
        metric(&served.url, "connect_sentinel_task_state", failed).await,
        1.0
    );

    let probe = sentinel::run(&["probe", "--connect-url", cluster.url()]).await;
    let (out, err) = sentinel::text(&probe);
    assert_eq!(probe.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("broken-sink") && out.contains("FAILED"),
        "{out}"
    );
    let one = ["--connector", "broken-sink", "--task", "0"];
    let probe =
        sentinel::run(&[&["probe", "--connect-url", cluster.url()][..], &one].concat()).await;
    assert_eq!(probe.status.code(), Some(1), "{:?}", sentinel::text(&probe));

    let status = sentinel::run(&["status", "--connect-url", cluster.url()]).await;
    let (table, err) = sentinel::text(&status);
    let row = table.lines().find(|l| l.contains("broken-sink"));
    let row = row.unwrap_or_default();
    assert!(
        row.contains("0/1") && row.contains("Couldn't find"),
        "{table}{err}"
    );
    let status = sentinel::run(&["status", "--connect-url", cluster.url(), "-o", "json"]).await;
    let (out, err) = sentinel::text(&status);
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert!(json.to_string().contains("FAILED"), "{json}");
}

async fn restart_command_brings_a_task_back(cluster: &Cluster) {
    let cure = broken_sink(cluster, "restartable", 1).await;
    std::fs::create_dir_all(&cure).unwrap();
    let args = [
        "restart",
        "--connect-url",
        cluster.url(),
        "restartable",
        "--failed",
    ];
    let out = sentinel::run(&args).await;
    let (stdout, stderr) = sentinel::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("restartable"), "{stdout}");
    tasks_in(cluster, "restartable", "RUNNING").await;
    let probe = sentinel::run(&["probe", "--connect-url", cluster.url()]).await;
    assert_eq!(probe.status.code(), Some(0), "{:?}", sentinel::text(&probe));
}

async fn auto_restart_recovers_once_the_cause_is_gone(cluster: &Cluster) {
    let cure = broken_sink(cluster, "flaky-sink", 1).await;
    let flags = ["--auto-restart", "--restart-backoff", "0s,2s"];
    let served = sentinel::Running::serve(cluster.url(), &flags);
    let restarted = r#"connector="flaky-sink""#;
    http::eventually("a first restart, which cannot help", LIFECYCLE, || async {
        let n = metric(&served.url, "connect_sentinel_restarts_total", restarted).await;
        (n >= 1.0).then_some(())
    })
    .await;
    std::fs::create_dir_all(&cure).unwrap();
    tasks_in(cluster, "flaky-sink", "RUNNING").await;
    let body = wait_status(&served.url, "/", 200).await;
    assert_eq!(body["healthy"], true, "{body}");
    let events = served.events("restarted");
    assert!(!events.is_empty(), "no restart logged:\n{}", served.logs());
}

async fn auto_restart_escalates_when_the_cause_stays(cluster: &Cluster) {
    broken_sink(cluster, "sticky-sink", 1).await;
    let flags = [
        "--auto-restart",
        "--restart-backoff",
        "0s,1s",
        "--escalate-after-restarts",
        "2",
        "--max-restarts",
        "3",
    ];
    let served = sentinel::Running::serve(cluster.url(), &flags);
    let body = wait_status(&served.url, "/", 503).await;
    let remediation = http::eventually("three restarts, then escalated", LIFECYCLE, || async {
        let (_, body) = http::get(&format!("{}/remediation", served.url)).await;
        let entry = body["connectors"].get(0)?.clone();
        let done = entry["phase"] == "escalated" || entry["phase"] == "persistent";
        (entry["attempts"] == 3 && done).then_some(entry)
    })
    .await;
    assert_eq!(remediation["connector"], "sticky-sink", "{remediation}");
    assert_eq!(body["healthy"], false, "{body}");
    let polls = metric(&served.url, "connect_sentinel_polls_total", "").await;
    http::eventually("six more polls", LIFECYCLE, || async {
        let now = metric(&served.url, "connect_sentinel_polls_total", "").await;
        (now >= polls + 6.0).then_some(())
    })
    .await;
    let restarts = metric(
        &served.url,
        "connect_sentinel_restarts_total",
        "sticky-sink",
    )
    .await;
    assert_eq!(restarts, 3.0, "no restart past --max-restarts");
    tasks_in(cluster, "sticky-sink", "FAILED").await;
}

/// A sink whose consumer cannot be built (`consumer.override.bootstrap.servers` without
/// a port: Connect's validation accepts it, the task fails at start with a
/// `ConfigException`: Invalid url in bootstrap.servers): classified non-restartable, escalated at once (`/` 503 despite
/// --escalate-after-restarts) and never restarted, however many polls pass.
async fn a_config_exception_is_escalated_without_restarts(cluster: &Cluster) {
    let name = "misconfigured-sink";
    let config = json!({"connector.class": super::support::SINK, "tasks.max": "1",
        "topics": format!("{name}-topic"), "file": cluster.scratch(name).join("out.txt"),
        "consumer.override.bootstrap.servers": "no-port-here"});
    let url = format!("{}/connectors/{name}/config", cluster.url());
    let (status, body) = http::send("PUT", &url, Some(&config)).await;
    assert_eq!(status, 201, "create {name}: {body}");
    let failed = tasks_in(cluster, name, "FAILED").await;
    let trace = failed["tasks"][0]["trace"].as_str().unwrap_or_default();
    assert!(trace.contains("ConfigException"), "{trace}");
    let flags = [
        "--auto-restart",
        "--restart-backoff",
        "0s",
        "--escalate-after-restarts",
        "3",
    ];
    let served = sentinel::Running::serve(cluster.url(), &flags);
    let entry = http::eventually("persistent, rule config", LIFECYCLE, || async {
        let (_, body) = http::get(&format!("{}/remediation", served.url)).await;
        let entry = body["connectors"].get(0)?.clone();
        (entry["phase"] == "persistent").then_some(entry)
    })
    .await;
    assert_eq!(
        (entry["rule"].as_str(), entry["attempts"].as_u64()),
        (Some("config"), Some(0)),
        "{entry}"
    );
    let body = wait_status(&served.url, "/", 503).await;
    assert_eq!(body["healthy"], false, "{body}");
    let polls = metric(&served.url, "connect_sentinel_polls_total", "").await;
    http::eventually("four more polls", LIFECYCLE, || async {
        let now = metric(&served.url, "connect_sentinel_polls_total", "").await;
        (now >= polls + 4.0).then_some(())
    })
    .await;
    let restarts = metric(&served.url, "connect_sentinel_restarts_total", name).await;
    assert_eq!(restarts, 0.0, "no restart:\n{}", served.logs());
    let classified = served.events("classified: a restart does not help");
    assert_eq!(classified.len(), 1, "{}", served.logs());
    assert!(
        classified[0]["cause"]
            .as_str()
            .unwrap_or_default()
            .contains("ConfigException")
    );
    let (_, remediation) = http::get(&format!("{}/remediation", served.url)).await;
    let steps: Vec<&str> = remediation["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["step"].as_str())
        .collect();
    assert_eq!(steps, ["classify", "escalate"], "{remediation}");
}

/// Three failed tasks spread over the workers; one sidecar with worker 0's id restarts
/// only the tasks on worker 0 (once the cause is gone they run; the others stay FAILED).
async fn sidecar_per_worker_restarts_only_its_own(cluster: &Cluster) {
    let cure = broken_sink(cluster, "spread-sink", 3).await;
    let status = tasks_in(cluster, "spread-sink", "FAILED").await;
    let on = |s: &Value, worker: &str| -> Vec<u64> {
        let tasks = s["tasks"].as_array().unwrap();
        let mine = tasks.iter().filter(|t| t["worker_id"] == worker);
        mine.map(|t| t["id"].as_u64().unwrap()).collect()
    };
    let worker = (0..cluster.urls.len())
        .map(|i| cluster.worker_id(i))
        .find(|w| !on(&status, w).is_empty())
        .unwrap();
    let mine = on(&status, &worker);
    std::fs::create_dir_all(&cure).unwrap();
    let flags = ["--auto-restart", "--connect-worker-id", &worker];
    let served = sentinel::Running::serve(cluster.url(), &flags);
    let url = format!("{}/connectors/spread-sink/status", cluster.url());
    let after = http::eventually("the sidecar's own tasks RUNNING", LIFECYCLE, || async {
        let status = http::json(&url).await;
        let running = status["tasks"]
            .as_array()?
            .iter()
            .filter(|t| t["state"] == "RUNNING");
        let running: Vec<u64> = running.map(|t| t["id"].as_u64().unwrap()).collect();
        (running == mine).then_some(status)
    })
    .await;
    let others = after["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["worker_id"] != worker);
    assert!(others.clone().all(|t| t["state"] == "FAILED"), "{after}");
    assert!(
        served.events("restart failed").is_empty(),
        "{}",
        served.logs()
    );
}

/// Connect's own BasicAuthSecurityRestExtension in front of a worker: serve and probe
/// with the right credentials read it, with wrong ones say so (exit 2, 503 with the
/// reason), and the password appears in no answer or log line.
async fn basic_auth_through_connects_extension(cluster: &Cluster) {
    let canary = "CANARY-pw-4b1d";
    let secured = Cluster::start(
        &cluster.version,
        1,
        &["--basic-auth", &format!("ops:{canary}")],
    );
    let good = format!("ops:{canary}");
    let served = sentinel::Running::serve(secured.url(), &["--basic-auth", &good]);
    let body = wait_status(&served.url, "/", 200).await;
    assert_eq!(body["healthy"], true, "{body}");
    let wrong = sentinel::Running::serve(secured.url(), &["--basic-auth", "ops:not-it"]);
    let refused = wait_status(&wrong.url, "/readyz", 503).await;
    let args = [
        "probe",
        "--connect-url",
        secured.url(),
        "--basic-auth",
        "ops:nope",
    ];
    let probe = sentinel::run(&args).await;
    let (out, err) = sentinel::text(&probe);
    assert_eq!(probe.status.code(), Some(2), "{out}{err}");
    assert!(out.contains("401") || out.contains("credentials"), "{out}");
    let (_, root) = http::get(&format!("{}/", wrong.url)).await;
    let seen = format!(
        "{body}{refused}{root}{out}{err}{}{}",
        served.logs(),
        wrong.logs()
    );
    assert!(!seen.contains(canary), "the password leaked: {seen}");
}
