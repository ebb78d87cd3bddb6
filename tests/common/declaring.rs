//! Helpers for `diff` and `apply` through the binary against connect-sim: running a
//! command, a directory of manifests, reading the simulator back.

use std::process::Output;

use connect_sim::Running;
use serde_json::Value;
use tempfile::TempDir;

use super::text;

/// Runs the binary off the async runtime (the simulator lives on it), within
/// [`super::PATIENCE`].
pub async fn run(command: &str, sim: &Running, extra: &[&str]) -> Output {
    run_env(command, sim, extra, &[]).await
}

/// [`run`] with extra environment variables.
pub async fn run_env(command: &str, sim: &Running, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let backoff = ["--retry-backoff", "1ms"];
    let backoff = if command == "apply" {
        &backoff[..]
    } else {
        &[]
    };
    let extra: Vec<&str> = backoff.iter().chain(extra).copied().collect();
    super::run_env(super::argv(command, sim, &extra), env).await
}

/// [`run`], as its exit code (-1 when killed), stdout and stderr.
pub async fn run_text(command: &str, sim: &Running, extra: &[&str]) -> (i32, String, String) {
    let out = run(command, sim, extra).await;
    let (stdout, stderr) = text(&out);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{:?}", text(out));
}

/// A directory of manifests, rewritten per step.
pub struct Manifests(TempDir);

impl Manifests {
    pub fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    pub fn set(&self, file: &str, text: &str) -> &Self {
        std::fs::write(self.0.path().join(file), text).unwrap();
        self
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.0.path().join(file)).unwrap();
    }

    pub fn dir(&self) -> &str {
        self.0.path().to_str().unwrap()
    }
}

/// A FileStreamSink manifest (valid in the simulator's catalogue).
pub fn sink(name: &str, topics: &str, state: &str) -> String {
    format!(
        "name: {name}\nstate: {state}\nconfig:\n  connector.class: FileStreamSink\n  topics: {topics}\n  file: /tmp/{name}.log\n  tasks.max: 1\n"
    )
}

/// A request's JSON answer.
pub async fn answer(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// A GET on the simulator, parsed.
pub async fn get(sim: &Running, path: &str) -> Value {
    answer(super::http().get(format!("{}{path}", sim.url()))).await
}

pub async fn states(sim: &Running) -> Value {
    let all = get(sim, "/connectors?expand=status").await;
    let map = all.as_object().unwrap();
    map.iter()
        .map(|(name, v)| (name.clone(), v["status"]["connector"]["state"].clone()))
        .collect()
}

pub async fn config(sim: &Running, name: &str) -> Value {
    get(sim, &format!("/connectors/{name}/config")).await
}

/// Asserts that `text` holds every line.
pub fn assert_has(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
}

/// How many Connect writes (PUT/POST/DELETE, validation excluded) the sim received.
pub async fn writes(sim: &Running) -> u64 {
    let counts = super::take_requests(sim).await;
    counts["by_route"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| !route.starts_with("GET") && !route.contains("validate"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum()
}
