//! `reconcile -f DIR` against real Connect: it converges, its resync passes write
//! nothing, it puts back connectors changed by hand (and its status page says so), a
//! bad manifest holds back every
//! write; and `apply` rides out the 409s of real rebalances (two applies at once, through
//! two workers, on many connectors).

use std::path::Path;

use serde_json::{Value, json};

use super::declare::{
    LIFECYCLE, assert_no_writes, declare, live_config, manifest, sink, twenty, wait_declared,
    write_manifests,
};
use crate::{Needs, Scenario, cluster::Cluster, http, proxy::Proxy, scenario, sentinel::Running};

pub static SCENARIOS: &[Scenario] = &[
    scenario!(declare_reconcile_resyncs_and_corrects_drift, Needs::Shared),
    scenario!(declare_apply_retries_rebalance_conflicts, Needs::Shared),
];

/// `GET /` of the reconciler: `{"passes":N,"last":{"outcome":…},…}`.
async fn progress(reconciler: &Running) -> Value {
    http::json(&format!("{}/", reconciler.url)).await
}

/// Waits until a pass that started after now has ended with `outcome`; returns `/`.
async fn pass_ending(reconciler: &Running, outcome: &str) -> Value {
    let passes = |v: &Value| v["passes"].as_u64().unwrap_or(0);
    let start = passes(&progress(reconciler).await);
    let what = format!("a reconcile pass after pass {start} ends {outcome}");
    http::eventually(&what, LIFECYCLE, || async {
        let now = progress(reconciler).await;
        (passes(&now) >= start + 2 && now["last"]["outcome"] == outcome).then_some(now)
    })
    .await
}

fn start_reconcile(dir: &Path, url: &str) -> Running {
    let dir = dir.to_str().unwrap();
    let args = ["-f", dir, "--connect-url", url, "--prune"];
    Running::start("reconcile", &[&args[..], &["--interval", "2s"]].concat())
}

async fn declare_reconcile_resyncs_and_corrects_drift(cluster: &Cluster) {
    let dir = cluster.scratch("reconcile");
    let proxy = Proxy::start(cluster.url()).await;
    let mut connectors = twenty(cluster, &dir);
    connectors.truncate(10);
    write_manifests(&dir, &connectors);
    let reconciler = start_reconcile(&dir, &proxy.url);
    wait_declared(cluster, &connectors).await;
    pass_ending(&reconciler, "in_sync").await;
    let (status, body) = http::get(&format!("{}/readyz", reconciler.url)).await;
    assert_eq!(status, 200, "{body}");

    proxy.clear();
    pass_ending(&reconciler, "in_sync").await;
    assert_no_writes(&proxy, "resync passes with nothing to do");

    by_hand(cluster).await;
    let put_back = || async {
        let tasks = live_config(cluster, "sink-00").await["tasks.max"].clone();
        (tasks == "1").then_some(())
    };
    http::eventually("resync puts sink-00's config back", LIFECYCLE, put_back).await;
    wait_declared(cluster, &connectors).await;
    let drift = reconciler.events("drift: Connect no longer matches the unchanged manifests");
    assert!(!drift.is_empty(), "{}", reconciler.logs());
    drift_on_the_page(&reconciler).await;

    invalid_manifest_blocks(cluster, &proxy, &reconciler, &dir, &mut connectors).await;
    connectors.truncate(8);
    write_manifests(&dir, &connectors);
    wait_declared(cluster, &connectors).await; // the file change pruned two
    assert!(reconciler.terminate().success());
}

/// The status page lists both hand edits as drift put back, first, each with the plan
/// that undid it, and the others in sync and ours.
async fn drift_on_the_page(reconciler: &Running) {
    let page = http::eventually("the drift on the status page", LIFECYCLE, || async {
        let answer = http::client()
            .get(format!("{}/ui", reconciler.url))
            .send()
            .await;
        let page = answer.ok()?.text().await.ok()?;
        page.contains("2 with drift").then_some(page)
    })
    .await;
    let rows: Vec<&str> = page.split(r#"<tr class="drow"#).skip(1).collect();
    assert_eq!(rows.len(), 10, "{page}");
    let drifted = |name: &str, plan: &str| {
        rows[..2].iter().any(|r| {
            r.contains(&format!(r#"data-name="{name}""#))
                && r.contains("drift corrected")
                && r.contains(plan)
        })
    };
    assert!(drifted("sink-00", "update tasks.max"), "{page}");
    assert!(drifted("sink-03", "resume"), "{page}");
    assert!(
        rows[2..]
            .iter()
            .all(|r| r.contains("in sync") && r.contains(">ours<")),
        "{page}"
    );
}

/// Changes sink-00's config (tasks.max 4) and pauses sink-03 straight on Connect.
async fn by_hand(cluster: &Cluster) {
    let mut config = live_config(cluster, "sink-00").await;
    config["tasks.max"] = json!("4");
    let url = format!("{}/connectors/sink-00/config", cluster.url());
    let (status, body) = http::send("PUT", &url, Some(&config)).await;
    assert_eq!(status, 200, "{body}");
    let url = format!("{}/connectors/sink-03/pause", cluster.url());
    let (status, body) = http::send("PUT", &url, None).await;
    assert_eq!(status, 202, "{body}");
}

/// One bad manifest among good changes: passes end `invalid`, /readyz says so, and
/// nothing but validation reaches Connect; fixing it applies the rest.
async fn invalid_manifest_blocks(
    cluster: &Cluster,
    proxy: &Proxy,
    reconciler: &Running,
    dir: &Path,
    connectors: &mut Vec<Value>,
) {
    let good = connectors.clone();
    let mut bad = sink(dir, "bad");
    bad["tasks.max"] = json!("many");
    connectors.push(manifest("bad", "running", bad));
    connectors[0]["config"]["tasks.max"] = json!(2);
    write_manifests(dir, connectors);
    pass_ending(reconciler, "invalid").await;
    proxy.clear();
    pass_ending(reconciler, "invalid").await;
    let (status, body) = http::get(&format!("{}/readyz", reconciler.url)).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.to_string().contains("tasks.max"), "{body}");
    let writes = proxy.writes();
    assert!(
        writes.iter().all(|r| r.path.ends_with("/config/validate")),
        "{writes:?}"
    );
    wait_declared(cluster, &good).await;
    assert_eq!(live_config(cluster, "sink-00").await["tasks.max"], "1");

    connectors.pop();
    write_manifests(dir, connectors);
    let fixed = || async {
        let tasks = live_config(cluster, "sink-00").await["tasks.max"].clone();
        (tasks == "2").then_some(())
    };
    http::eventually("the fixed manifests are applied", LIFECYCLE, fixed).await;
}

/// `n` running FileStream sinks named `PREFIX-i`.
fn sinks(dir: &Path, prefix: &str, n: usize) -> Vec<Value> {
    let name = |i| format!("{prefix}-{i:02}");
    (0..n)
        .map(|i| manifest(&name(i), "running", sink(dir, &name(i))))
        .collect()
}

async fn declare_apply_retries_rebalance_conflicts(cluster: &Cluster) {
    let (one, two) = (
        cluster.scratch("rebalance-a"),
        cluster.scratch("rebalance-b"),
    );
    let proxies = [
        Proxy::start(&cluster.urls[1]).await,
        Proxy::start(&cluster.urls[2]).await,
    ];
    let mut first = sinks(&one, "first", 30);
    write_manifests(&one, &first);
    let (code, out, err) = declare("apply", &one, &proxies[0].url, &[]).await;
    assert_eq!(code, 0, "{out}{err}");

    // Right after: 30 updates through one worker while 30 creates go through another.
    for c in &mut first {
        c["config"]["tasks.max"] = json!(2);
    }
    write_manifests(&one, &first);
    let second = sinks(&two, "second", 30);
    write_manifests(&two, &second);
    let (a, b) = tokio::join!(
        declare("apply", &one, &proxies[0].url, &[]),
        declare("apply", &two, &proxies[1].url, &[]),
    );
    for (code, out, err) in [a, b] {
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.contains("30 of 30 change(s) applied, 0 failed."),
            "{out}"
        );
    }
    let all: Vec<Value> = first.iter().chain(&second).cloned().collect();
    wait_declared(cluster, &all).await;
    assert_eq!(live_config(cluster, "first-29").await["tasks.max"], "2");
    assert_retried(&proxies);
}

/// Every 409 or rebalance 500 Connect answered was followed by a success of the same
/// call; prints how many there were.
fn assert_retried(proxies: &[Proxy]) {
    let mut conflicts = 0;
    for proxy in proxies {
        let records = proxy.records();
        for (i, r) in records.iter().enumerate().filter(|(_, r)| r.is_rebalance()) {
            let same = |s: &&crate::proxy::Record| s.method == r.method && s.path == r.path;
            let later = records[i + 1..].iter().filter(same).any(|s| s.status < 300);
            assert!(
                later,
                "{} {} ({}) never retried: {}",
                r.method, r.path, r.status, r.error
            );
            conflicts += 1;
        }
    }
    // How many there are is up to the cluster's timing (3 to 34 in runs here, and none
    // in one CI run on 4.3.1), so their number is reported, not required; the retry
    // path itself is pinned down deterministically against connect-sim's rebalance
    // window in tests/cli_diff_apply.rs.
    eprintln!("real rebalance answers retried: {conflicts}");
}
