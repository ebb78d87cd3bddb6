//! SIGTERM while work is in flight: `reconcile` with a hung PUT (holding the leader
//! Lease of a mocked Kubernetes API, reached through KUBECONFIG) and `serve` with a
//! hung poll and a half-sent request both exit 0 at once, and the Lease is released.
//! Each exit is awaited for at most [`BOUND`], less than the hung calls' 60 s timeout.
#![cfg(feature = "k8s")]

mod common;

use std::time::Duration;

use common::{
    kube_api::KubeApi,
    process::{self, Spawned, Stream, bin},
};
use connect_sim::Running;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Kubernetes kills a pod 30 s after SIGTERM; these exits must come well before.
const BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_drops_a_hung_put_and_releases_the_lease_on_sigterm() {
    let (sim, api) = (common::sim("3.9.0").await, KubeApi::start().await);
    common::faults(&sim, json!({"hang": true, "method": "PUT"})).await;
    let (dir, kubeconfig) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let manifest = json!({"name": "files-sink", "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "orders", "file": "/tmp/x"}});
    std::fs::write(dir.path().join("sink.json"), manifest.to_string()).unwrap();
    let mut command = bin();
    command
        .args(["reconcile", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--connect-url", &sim.url(), "--connect-timeout", "60s"])
        .args(["--leader-election", "--identity", "replica-a"])
        .args(["--lease-namespace", "team-a"])
        .arg("-f")
        .arg(dir.path())
        .env("KUBECONFIG", write_kubeconfig(kubeconfig.path(), &api.url))
        .env_remove("KUBERNETES_SERVICE_HOST");
    let mut child = Spawned::spawn(command, Stream::Stderr);
    common::eventually("a PUT in flight", || async {
        (puts(&sim).await > 0).then_some(())
    })
    .await;
    assert_eq!(holder(&api), json!("replica-a"), "it leads while writing");
    child.terminate();
    let status = tokio::time::timeout(BOUND, child.exit("SIGTERM")).await;
    let status = status.unwrap_or_else(|_| panic!("still running {BOUND:?} after SIGTERM"));
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
    assert_eq!(holder(&api), Value::Null, "the Lease is released");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_exits_at_once_on_sigterm_with_a_hung_poll_and_a_half_sent_request() {
    let sim = common::sim("3.9.0").await;
    let mut command = process::serve_json(&sim.url());
    command.args(["--connect-timeout", "60s"]).args([
        "--poll-interval",
        "50ms",
        "--header-timeout",
        "1h",
    ]);
    common::faults(&sim, json!({"hang": true})).await;
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let addr = child.logged_addr().await;
    common::eventually("a poll in flight", || async {
        let counts = common::control(&sim).requests().await.unwrap();
        (counts["total"].as_u64() > Some(0)).then_some(())
    })
    .await;
    // One request answered (so the connection is accepted), the next one half-sent.
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /livez HTTP/1.1\r\nHost: s\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    half.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    half.write_all(b"GET / HTTP/1.1\r\nHost: s\r\n")
        .await
        .unwrap();
    child.terminate();
    let status = tokio::time::timeout(BOUND, child.exit("SIGTERM")).await;
    let status = status.unwrap_or_else(|_| panic!("still running {BOUND:?} after SIGTERM"));
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
}

/// PUTs the simulator has received.
async fn puts(sim: &Running) -> u64 {
    let counts = common::control(sim).requests().await.unwrap();
    let routes = counts["by_route"].as_object().cloned().unwrap_or_default();
    let put = routes.iter().filter(|(route, _)| route.starts_with("PUT"));
    put.filter_map(|(_, n)| n.as_u64()).sum()
}

/// The holder of the reconciler's Lease in `team-a` (`null` when released or absent).
fn holder(api: &KubeApi) -> Value {
    let lease = api.lease("team-a", "connect-sentinel-reconciler");
    lease.map_or(Value::Null, |l| l["spec"]["holderIdentity"].clone())
}

/// A kubeconfig for the mocked API, written into `dir`; its path.
fn write_kubeconfig(dir: &std::path::Path, server: &str) -> std::path::PathBuf {
    let config = json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "mock",
        "clusters": [{"name": "mock", "cluster": {"server": server}}],
        "users": [{"name": "mock", "user": {}}],
        "contexts": [{"name": "mock", "context": {"cluster": "mock", "user": "mock", "namespace": "team-a"}}],
    });
    let path = dir.join("kubeconfig");
    std::fs::write(&path, config.to_string()).unwrap();
    path
}
