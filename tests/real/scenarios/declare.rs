//! `diff` and `apply` against real Connect, as a user runs them: 20 connectors (FileStream
//! and MirrorMaker 2) created, updated and moved between running, paused and stopped;
//! no-op passes that write nothing; `--prune` of owned connectors only; and one bad
//! config that blocks every write. A counting proxy in front of a worker proves what was
//! (not) written. The shared helpers serve `declare_reconcile` too.

use std::{collections::BTreeMap, path::Path, time::Duration};

use serde_json::{Value, json};

use crate::{Needs, Scenario, cluster::Cluster, http, proxy::Proxy, scenario, sentinel};

pub static SCENARIOS: &[Scenario] = &[
    scenario!(declare_twenty_created_updated_and_moved, Needs::Shared),
    scenario!(declare_prune_deletes_owned_only, Needs::Shared),
    scenario!(declare_invalid_config_blocks_every_write, Needs::Shared),
];

/// How long a real lifecycle step may take on a loaded 2-core machine.
pub const LIFECYCLE: Duration = Duration::from_secs(90);

const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const MIRROR: &str = "org.apache.kafka.connect.mirror.MirrorSourceConnector";
const HEARTBEAT: &str = "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector";

/// A declared connector in Connect's REST shape.
pub fn manifest(name: &str, state: &str, config: Value) -> Value {
    json!({"name": name, "state": state, "config": config})
}

/// A FileStreamSink config writing into `dir`.
pub fn sink(dir: &Path, name: &str) -> Value {
    let file = dir.join(format!("{name}.out"));
    json!({"connector.class": SINK, "tasks.max": 1, "topics": format!("{name}-in"),
        "file": file.to_str().unwrap()})
}

/// A FileStreamSource config reading a file of `dir` (created empty).
fn source(dir: &Path, name: &str) -> Value {
    let file = dir.join(format!("{name}.in"));
    std::fs::write(&file, "").unwrap();
    json!({"connector.class": SOURCE, "tasks.max": 1, "topic": format!("{name}-out"),
        "file": file.to_str().unwrap()})
}

/// A MirrorMaker 2 connector of `class` with both clusters on the local broker.
fn mirror(cluster: &Cluster, class: &str, name: &str) -> Value {
    let broker = cluster.broker();
    json!({"connector.class": class, "tasks.max": 1,
        "source.cluster.alias": "upstream", "target.cluster.alias": "local",
        "source.cluster.bootstrap.servers": broker, "target.cluster.bootstrap.servers": broker,
        "topics": format!("{name}-.*")})
}

/// The 20 connectors of the main scenario: 12 sinks, 2 sources, 4 mirror sources and 2
/// heartbeats, in every target state.
pub fn twenty(cluster: &Cluster, dir: &Path) -> Vec<Value> {
    let states = ["running", "paused", "stopped"];
    let mut all = Vec::new();
    for i in 0..12 {
        let name = format!("sink-{i:02}");
        all.push(manifest(&name, states[i % 3], sink(dir, &name)));
    }
    for i in 0..2 {
        let name = format!("source-{i:02}");
        all.push(manifest(&name, states[i % 3], source(dir, &name)));
    }
    for i in 0..6 {
        let (class, name) = match i {
            0..4 => (MIRROR, format!("mirror-{i:02}")),
            _ => (HEARTBEAT, format!("heartbeat-{i:02}")),
        };
        let config = mirror(cluster, class, &name);
        all.push(manifest(&name, states[i % 3], config));
    }
    all
}

/// Writes `connectors` as one JSON manifest in `dir` (replacing the previous one).
pub fn write_manifests(dir: &Path, connectors: &[Value]) {
    let text = serde_json::to_string_pretty(connectors).unwrap();
    std::fs::write(dir.join("connectors.json"), text).unwrap();
}

/// `connect-sentinel ARGS`: exit code, stdout, stderr.
pub async fn cli(args: &[&str]) -> (i32, String, String) {
    let out = sentinel::run(args).await;
    let (stdout, stderr) = sentinel::text(&out);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// `connect-sentinel VERB -f DIR --connect-url URL EXTRA`.
pub async fn declare(verb: &str, dir: &Path, url: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![verb, "-f", dir.to_str().unwrap(), "--connect-url", url];
    args.extend(extra);
    cli(&args).await
}

/// Every connector's state as Connect reports it (`GET /connectors?expand=status`).
pub async fn live_states(cluster: &Cluster) -> BTreeMap<String, String> {
    let all = http::json(&format!("{}/connectors?expand=status", cluster.url())).await;
    let Some(all) = all.as_object() else {
        return BTreeMap::new();
    };
    let state = |v: &Value| v["status"]["connector"]["state"].as_str().map(String::from);
    all.iter()
        .filter_map(|(name, v)| Some((name.clone(), state(v)?)))
        .collect()
}

/// The state each manifest declares, upper-cased as Connect reports it.
pub fn declared_states(connectors: &[Value]) -> BTreeMap<String, String> {
    let name = |c: &Value| c["name"].as_str().unwrap().to_string();
    let state = |c: &Value| {
        c["state"]
            .as_str()
            .unwrap_or("running")
            .to_ascii_uppercase()
    };
    connectors.iter().map(|c| (name(c), state(c))).collect()
}

/// Waits until Connect runs exactly `connectors`, each in its declared state.
pub async fn wait_declared(cluster: &Cluster, connectors: &[Value]) {
    let want = declared_states(connectors);
    let what = format!("Connect reports exactly {want:?}");
    http::eventually(&what, LIFECYCLE, || async {
        (live_states(cluster).await == want).then_some(())
    })
    .await;
}

/// `name`'s stored config on Connect itself, from the expanded list (never herder-queued,
/// so never a 409 during a rebalance, unlike `GET /connectors/{name}/config`).
pub async fn live_config(cluster: &Cluster, name: &str) -> Value {
    all_configs(cluster).await[name].clone()
}

/// Asserts the proxy saw no write at all (`what` names the pass).
pub fn assert_no_writes(proxy: &Proxy, what: &str) {
    let writes = proxy.writes();
    assert!(writes.is_empty(), "{what} wrote: {writes:?}");
}

/// Sets `key` of the manifest named `name`.
fn set(connectors: &mut [Value], name: &str, key: &str, value: Value) {
    let c = connectors.iter_mut().find(|c| c["name"] == name).unwrap();
    match key {
        "state" => c["state"] = value,
        _ => c["config"][key] = value,
    }
}

async fn declare_twenty_created_updated_and_moved(cluster: &Cluster) {
    let dir = cluster.scratch("declare-twenty");
    let proxy = Proxy::start(cluster.url()).await;
    let mut connectors = twenty(cluster, &dir);
    write_manifests(&dir, &connectors);

    let (code, out, err) = declare("diff", &dir, &proxy.url, &[]).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("Plan: 20 to create, 0 to update"), "{out}");
    assert_no_writes(&proxy, "diff");

    let (code, out, err) = declare("apply", &dir, &proxy.url, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("20 of 20 change(s) applied, 0 failed."),
        "{out}"
    );
    // Paused and stopped creates never start: POST with initial_state (3.7+).
    let not_running = declared_states(&connectors)
        .values()
        .filter(|s| *s != "RUNNING")
        .count();
    assert_eq!(
        proxy.count("POST", "/connectors"),
        not_running,
        "{}",
        proxy.summary()
    );
    wait_declared(cluster, &connectors).await;
    assert_noop(cluster, &dir, &proxy, 20).await;

    for (name, state) in [
        ("sink-00", "paused"),
        ("sink-01", "stopped"),
        ("sink-02", "running"),
    ]
    .into_iter()
    .chain([
        ("mirror-00", "stopped"),
        ("mirror-02", "paused"),
        ("source-01", "running"),
    ]) {
        set(&mut connectors, name, "state", json!(state));
    }
    set(&mut connectors, "sink-03", "tasks.max", json!(2));
    set(&mut connectors, "mirror-01", "topics", json!("renamed-.*"));
    write_manifests(&dir, &connectors);
    let (code, out, err) = declare("diff", &dir, &proxy.url, &[]).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("Plan: 0 to create, 2 to update, 6 to change state"),
        "{out}"
    );
    assert!(out.contains("~ tasks.max: \"1\" → \"2\""), "{out}");

    proxy.clear();
    let (code, out, err) = declare("apply", &dir, &proxy.url, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("8 of 8 change(s) applied, 0 failed."), "{out}");
    assert_eq!(proxy.count("PUT", "/config"), 2, "{}", proxy.summary());
    wait_declared(cluster, &connectors).await;
    assert_eq!(live_config(cluster, "sink-03").await["tasks.max"], "2");
    assert_eq!(
        live_config(cluster, "mirror-01").await["topics"],
        "renamed-.*"
    );
    assert_noop(cluster, &dir, &proxy, 20).await;
}

/// `diff` exits 0 and a second `apply` writes nothing: a no-op reads, never writes.
async fn assert_noop(cluster: &Cluster, dir: &Path, proxy: &Proxy, count: usize) {
    proxy.clear();
    let (code, out, err) = declare("diff", dir, &proxy.url, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("No changes: {count} connector(s) up to date.")),
        "{out}"
    );
    let (code, out, err) = declare("apply", dir, &proxy.url, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_no_writes(proxy, "a no-op diff and apply");
    assert!(!live_states(cluster).await.is_empty());
}

async fn declare_prune_deletes_owned_only(cluster: &Cluster) {
    let dir = cluster.scratch("declare-prune");
    let proxy = Proxy::start(cluster.url()).await;
    let states = ["running", "paused", "stopped"];
    let mut connectors: Vec<Value> = (0..6)
        .map(|i| (format!("owned-{i}"), states[i % 3]))
        .map(|(n, state)| manifest(&n, state, sink(&dir, &n)))
        .collect();
    write_manifests(&dir, &connectors);
    let (code, out, err) = declare("apply", &dir, &proxy.url, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    let by_hand = sink(&dir, "by-hand");
    let url = format!("{}/connectors/by-hand/config", cluster.url());
    let (status, body) = http::send("PUT", &url, Some(&by_hand)).await;
    assert_eq!(status, 201, "{body}");
    let mut everything = connectors.clone();
    everything.push(manifest("by-hand", "running", by_hand.clone()));
    wait_declared(cluster, &everything).await;
    let before = live_config(cluster, "by-hand").await;

    connectors.truncate(3);
    write_manifests(&dir, &connectors);
    let (code, out, err) = declare("diff", &dir, &proxy.url, &["--prune"]).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("3 to delete, 3 unchanged"), "{out}");
    assert!(
        !out.contains("by-hand"),
        "an unowned connector is never planned: {out}"
    );
    proxy.clear();
    let (code, out, err) = declare("apply", &dir, &proxy.url, &["--prune"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let deletes = proxy.writes();
    assert_eq!(deletes.len(), 3, "{deletes:?}");
    assert!(
        deletes
            .iter()
            .all(|r| r.method == "DELETE" && r.path.starts_with("/connectors/owned-"))
    );
    everything.drain(3..6);
    wait_declared(cluster, &everything).await;
    assert_eq!(live_config(cluster, "by-hand").await, before);

    write_manifests(&dir, &[]);
    proxy.clear();
    let (code, out, err) = declare("apply", &dir, &proxy.url, &["--prune"]).await;
    assert_eq!(
        code, 2,
        "pruning every owned connector is refused: {out}{err}"
    );
    assert_no_writes(&proxy, "a refused prune-all");
    wait_declared(cluster, &everything).await;
}

async fn declare_invalid_config_blocks_every_write(cluster: &Cluster) {
    let dir = cluster.scratch("declare-invalid");
    let proxy = Proxy::start(cluster.url()).await;
    let mut connectors = twenty(cluster, &dir);
    connectors.truncate(6);
    write_manifests(&dir, &connectors);
    let (code, out, err) = declare("apply", &dir, &proxy.url, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    wait_declared(cluster, &connectors).await;
    let configs_before = all_configs(cluster).await;

    let good = connectors.clone();
    set(&mut connectors, "sink-00", "tasks.max", json!(3)); // an update
    set(&mut connectors, "sink-01", "state", json!("running")); // a resume
    connectors.remove(5); // a prune
    connectors.push(manifest("fresh", "running", sink(&dir, "fresh"))); // a create
    let mut bad = sink(&dir, "bad");
    bad["tasks.max"] = json!("many");
    connectors.push(manifest("bad", "running", bad));
    write_manifests(&dir, &connectors);
    proxy.clear();
    let (code, out, err) = declare("apply", &dir, &proxy.url, &["--prune"]).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("bad: invalid config:"), "{err}");
    assert!(err.contains("tasks.max: Invalid value many"), "{err}");
    assert!(
        err.contains("nothing applied: 1 connector(s) failed validation"),
        "{err}"
    );
    let writes = proxy.writes();
    assert_eq!(writes.len(), 3, "validation only: {writes:?}"); // fresh, bad, sink-00
    assert!(
        writes.iter().all(|r| r.path.ends_with("/config/validate")),
        "{writes:?}"
    );
    wait_declared(cluster, &good).await;
    assert_eq!(
        all_configs(cluster).await,
        configs_before,
        "nothing changed"
    );
}

/// Every connector's stored config.
async fn all_configs(cluster: &Cluster) -> Value {
    let all = http::json(&format!("{}/connectors?expand=info", cluster.url())).await;
    let Some(all) = all.as_object() else {
        return Value::Null;
    };
    let configs = all.iter();
    configs
        .map(|(n, v)| (n.clone(), v["info"]["config"].clone()))
        .collect()
}
