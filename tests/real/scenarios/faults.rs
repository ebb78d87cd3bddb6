//! Cluster faults seen through serve: a worker stopped (its tasks move to the others),
//! a worker killed (stale RUNNING statuses with the dead worker's id until the group
//! notices), the broker stopped and started, and the worker's REST port accepting but
//! never answering. No restart storm in any of them. The last three are the fault
//! matrix: throughout each, `/ping` and `/livez` answer within 1 s, every 503 of `/`
//! and `/readyz` says why, and the sidecar never panics ([`liveness`]).

use serde_json::Value;

use super::{
    liveness::{self, Sampler},
    support::{LIFECYCLE, file_sink, metric, tasks_in, wait_status},
};
use crate::{Needs, Scenario, cluster::Cluster, http, proxy::Proxy, scenario, sentinel};

pub static SCENARIOS: &[Scenario] = &[
    scenario!(worker_stopped_its_tasks_move, Needs::Destructive),
    scenario!(worker_killed_stale_then_reassigned, Needs::Destructive),
    scenario!(broker_stopped_then_started, Needs::Destructive),
    scenario!(rest_port_hung_then_answering, Needs::Shared),
];

/// A healthy three-task sink, and serve (auto-restart on) polling worker 0.
async fn healthy_sink(cluster: &Cluster, name: &str) -> sentinel::Running {
    healthy_sink_via(cluster, name, cluster.url()).await
}

/// [`healthy_sink`] with serve polling `connect` (worker 0, or a proxy in front of it).
async fn healthy_sink_via(cluster: &Cluster, name: &str, connect: &str) -> sentinel::Running {
    let dir = cluster.scratch(name);
    file_sink(cluster, name, dir.join("out.txt").to_str().unwrap(), 3).await;
    tasks_in(cluster, name, "RUNNING").await;
    let served = sentinel::Running::serve(connect, &["--auto-restart"]);
    wait_status(&served.url, "/", 200).await;
    served
}

/// The end of one fault of the matrix: what the probes saw, and no panic logged.
async fn matrix_done(sampler: Sampler, served: &sentinel::Running, fault: &str) {
    sampler.finish(fault).await;
    liveness::no_panics(&served.logs());
}

/// Waits until no task of `name` is on `worker` and all run; returns the status.
async fn moved_off(cluster: &Cluster, name: &str, worker: &str) -> Value {
    let url = format!("{}/connectors/{name}/status", cluster.url());
    http::eventually(
        &format!("{name}'s tasks off {worker}"),
        LIFECYCLE,
        || async {
            let status = http::json(&url).await;
            let tasks = status["tasks"].as_array()?;
            let moved = tasks
                .iter()
                .all(|t| t["state"] == "RUNNING" && t["worker_id"] != worker);
            (moved && tasks.len() == 3).then_some(status.clone())
        },
    )
    .await
}

/// While `moved` resolves, `/` never reported a connector or task failure and no
/// restart was made. A 503 is allowed only for the worker itself: while the group
/// rebalances, the polled worker's herder may answer `GET /health` past the deadline
/// (seen on 4.3.1 after a SIGKILL), which `/` reports as kafka-connect-healthcheck's
/// "broker" entry.
async fn stays_healthy_until<F: std::future::Future<Output = Value>>(
    served: &sentinel::Running,
    moved: F,
) -> Value {
    let sampler = async {
        loop {
            let (status, body) = http::get(&format!("{}/", served.url)).await;
            let worker_only = body["failures"]
                .as_array()
                .is_some_and(|f| f.iter().all(|f| f["type"] == "broker"))
                && body["worker_problem"].is_string();
            assert!(
                status == 200 || (status == 503 && worker_only),
                "/ while the worker was away: {status} {body}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    };
    let status = tokio::select! { s = moved => s, () = sampler => unreachable!() };
    let restarts = metric(&served.url, "connect_sentinel_restarts_total", "").await;
    assert_eq!(restarts, 0.0, "no restarts:\n{}", served.logs());
    status
}

async fn worker_stopped_its_tasks_move(cluster: &Cluster) {
    let served = healthy_sink(cluster, "moving-sink").await;
    let gone = cluster.worker_id(2);
    cluster.kill_worker(2, false);
    stays_healthy_until(&served, moved_off(cluster, "moving-sink", &gone)).await;
    cluster.start_worker(2);
}

async fn worker_killed_stale_then_reassigned(cluster: &Cluster) {
    let served = healthy_sink(cluster, "orphan-sink").await;
    let before = tasks_in(cluster, "orphan-sink", "RUNNING").await;
    let victim = (1..3).find(|&i| before.to_string().contains(&cluster.worker_id(i)));
    let victim = victim.unwrap_or(1);
    let gone = cluster.worker_id(victim);
    let sampler = Sampler::start(&served.url);
    cluster.kill_worker(victim, true);
    let url = format!("{}/connectors/orphan-sink/status", cluster.url());
    let stale = http::json(&url).await;
    assert!(
        stale.to_string().contains(&gone),
        "right after SIGKILL Connect still reports the dead worker's instances: {stale}"
    );
    stays_healthy_until(&served, moved_off(cluster, "orphan-sink", &gone)).await;
    matrix_done(sampler, &served, "worker SIGKILL").await;
    cluster.start_worker(victim);
}

async fn broker_stopped_then_started(cluster: &Cluster) {
    let served = healthy_sink(cluster, "patient-sink").await;
    let sampler = Sampler::start(&served.url);
    cluster.stop_broker();
    let ready = wait_status(&served.url, "/readyz", 503).await;
    assert!(ready["reason"].is_string(), "{ready}");
    let body = wait_status(&served.url, "/", 503).await;
    assert!(body["failures"].to_string().contains("broker"), "{body}");
    let (status, _) = http::get(&format!("{}/livez", served.url)).await;
    assert_eq!(status, 200, "/livez stays up while the broker is away");
    cluster.start_broker();
    wait_status(&served.url, "/readyz", 200).await;
    let body = wait_status(&served.url, "/", 200).await;
    assert_eq!(body["healthy"], true, "{body}");
    matrix_done(sampler, &served, "broker down").await;
    let restarts = metric(&served.url, "connect_sentinel_restarts_total", "").await;
    assert_eq!(restarts, 0.0, "no restart storm:\n{}", served.logs());
    tasks_in(cluster, "patient-sink", "RUNNING").await;
}

/// Worker 0's REST port accepts connections and requests and never answers (a proxy
/// in front of it hangs) for three more polls after `/` and `/readyz` turned 503
/// naming the call that timed out; `/ping` and `/livez` keep answering, nothing is
/// restarted; once it answers again, both are back to 200.
async fn rest_port_hung_then_answering(cluster: &Cluster) {
    let proxy = Proxy::start(cluster.url()).await;
    let served = healthy_sink_via(cluster, "hung-sink", &proxy.url).await;
    let sampler = Sampler::start(&served.url);
    proxy.hang(true);
    let body = wait_status(&served.url, "/", 503).await;
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("did not answer")),
        "{body}"
    );
    let ready = wait_status(&served.url, "/readyz", 503).await;
    assert!(ready["reason"].is_string(), "{ready}");
    let errors = || metric(&served.url, "connect_sentinel_poll_errors_total", "");
    let failed = errors().await;
    http::eventually("three more polls failing while hung", LIFECYCLE, || async {
        (errors().await >= failed + 3.0).then_some(())
    })
    .await;
    proxy.hang(false);
    wait_status(&served.url, "/readyz", 200).await;
    let body = wait_status(&served.url, "/", 200).await;
    assert_eq!(body["healthy"], true, "{body}");
    matrix_done(sampler, &served, "REST port hung").await;
    let restarts = metric(&served.url, "connect_sentinel_restarts_total", "").await;
    assert_eq!(restarts, 0.0, "no restart while Connect could not be read");
}
