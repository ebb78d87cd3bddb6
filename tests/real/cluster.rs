//! A real Kafka Connect cluster for the real tier, driven through `scripts/real-connect`
//! (the contract other tools use too): start, fault operations, logs, and stop on drop.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use serde_json::Value;

use crate::http;

/// The versions the real tier runs against: `REAL_CONNECT_VERSIONS` (comma list) or
/// 3.9.1 and the newest 4.x whose jars Maven Central serves.
pub fn versions() -> Vec<String> {
    std::env::var("REAL_CONNECT_VERSIONS")
        .unwrap_or_else(|_| "3.9.1,4.3.1".into())
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The shared clusters run Prometheus' JMX exporter in every worker with Strimzi's
/// mapping of the MBeans the Strimzi-compatible series stand for, so scenarios compare
/// them with Connect's own.
pub const JMX_EXPORTER: [&str; 2] = [
    "--jmx-exporter",
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/real/strimzi-jmx-rules.yaml"
    ),
];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/real-connect")
}

/// Runs `scripts/real-connect ARGS`; its stdout lines on success, a panic with the
/// script's stderr (which names what to install when java or mvn is missing) otherwise.
pub fn script_run(args: &[&str]) -> Vec<String> {
    let out = Command::new(script())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/real-connect (bash needed): {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/real-connect {} failed:\n{stderr}",
        args.join(" ")
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// One running cluster: a KRaft broker and `urls.len()` workers.
pub struct Cluster {
    pub version: String,
    pub dir: tempfile::TempDir,
    pub urls: Vec<String>,
}

impl Cluster {
    /// Starts a cluster of `workers` workers of `version` (extra: e.g. `--basic-auth u:p`).
    pub fn start(version: &str, workers: usize, extra: &[&str]) -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix(&format!("real-connect-{version}-"))
            .tempdir()
            .unwrap();
        let path = dir.path().to_str().unwrap().to_string();
        let pid = std::process::id().to_string();
        let workers = workers.to_string();
        let mut args = vec![
            "start",
            &path,
            "--workers",
            &workers,
            "--kafka",
            version,
            "--owner-pid",
            &pid,
        ];
        args.extend(extra);
        let urls = script_run(&args);
        eprintln!("real tier: Kafka {version} cluster up: {}", urls.join(" "));
        Cluster {
            version: version.to_string(),
            dir,
            urls,
        }
    }

    pub fn url(&self) -> &str {
        &self.urls[0]
    }

    fn path(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    /// The worker id Connect reports for worker `i` (`127.0.0.1:PORT`).
    pub fn worker_id(&self, i: usize) -> String {
        self.urls[i].trim_start_matches("http://").to_string()
    }

    /// The broker's bootstrap address (`127.0.0.1:BROKER_PORT` from `cluster.env`).
    pub fn broker(&self) -> String {
        format!("127.0.0.1:{}", self.env("BROKER_PORT"))
    }

    /// Worker `i`'s JMX exporter (`/metrics` on `WORKER_I_METRICS_PORT`), when the
    /// cluster was started with [`JMX_EXPORTER`].
    pub fn jmx_metrics_url(&self, i: usize) -> String {
        let port = self.env(&format!("WORKER_{i}_METRICS_PORT"));
        format!("http://127.0.0.1:{port}/metrics")
    }

    /// A value of `cluster.env`.
    fn env(&self, key: &str) -> String {
        let env = std::fs::read_to_string(self.dir.path().join("cluster.env")).unwrap();
        let value = env
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("cluster.env names no {key}"));
        value.trim_matches('\'').to_string()
    }

    /// SIGTERM (or SIGKILL with `hard`) worker `i`.
    pub fn kill_worker(&self, i: usize, hard: bool) {
        let i = i.to_string();
        let mut args = vec!["kill-worker", self.path(), &i];
        if hard {
            args.push("--hard");
        }
        script_run(&args);
    }

    pub fn start_worker(&self, i: usize) {
        script_run(&["start-worker", self.path(), &i.to_string()]);
    }

    pub fn stop_broker(&self) {
        script_run(&["stop-broker", self.path()]);
    }

    pub fn start_broker(&self) {
        script_run(&["start-broker", self.path()]);
    }

    /// The last lines of the broker's and every worker's log.
    pub fn logs_tail(&self) -> String {
        script_run(&["logs", self.path()]).join("\n")
    }

    /// A scratch directory inside the cluster's (FileStream files, manifests).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join("scratch").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Deletes every connector and waits until the list is empty (a clean slate for the
    /// next scenario).
    pub async fn reset(&self) {
        let names: Vec<String> = http::json(&format!("{}/connectors", self.url()))
            .await
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for name in &names {
            http::eventually(
                &format!("delete {name}"),
                Duration::from_secs(60),
                || async {
                    let status = http::client()
                        .delete(format!("{}/connectors/{name}", self.url()))
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    (status == 204 || status == 404).then_some(())
                },
            )
            .await;
        }
        http::eventually("no connectors listed", Duration::from_secs(60), || async {
            let list = http::json(&format!("{}/connectors", self.url())).await;
            (list == Value::Array(vec![])).then_some(())
        })
        .await;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).args(["stop", self.path()]).status();
    }
}
