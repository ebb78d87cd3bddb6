//! Shared helpers: connect-sim on 127.0.0.1:0 and clients for it.
#![allow(dead_code)]

pub mod declaring;
pub mod exposition;
pub mod kube_api;
pub mod process;
pub mod reconciling;
pub mod triage;
pub mod webhook;

use std::{process::Output, time::Duration};

use connect_sentinel::{
    cli::{Cli, Command},
    connect::{ClientOptions, ConnectClient},
};
use connect_sim::{Running, SimConfig};
use serde_json::{Value, json};

/// A synchronous simulator (lifecycle steps due by the next request) of `version`.
pub async fn sim(version: &str) -> Running {
    let config = SimConfig {
        version: version.parse().unwrap(),
        ..SimConfig::synchronous()
    };
    connect_sim::spawn(config).await.unwrap()
}

/// A simulator with a custom config.
pub async fn sim_with(config: SimConfig) -> Running {
    connect_sim::spawn(config).await.unwrap()
}

/// Client options for `sim` with a short timeout.
pub fn options(sim: &Running) -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_millis(300),
        ..ClientOptions::new(sim.url())
    }
}

/// A Connect client for `sim`.
pub fn client(sim: &Running) -> ConnectClient {
    ConnectClient::new(options(sim)).unwrap()
}

/// A plain HTTP client for control calls; a request that gets no answer fails after
/// [`PATIENCE`] instead of hanging the test.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(PATIENCE)
        .build()
        .unwrap()
}

/// `GET url`, its body parsed as JSON.
pub async fn get_json(url: &str) -> Value {
    let answer = http().get(url).send().await.unwrap();
    answer.json().await.unwrap()
}

/// The simulator's control client.
pub fn control(sim: &Running) -> connect_sim::ControlClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    sim.control().unwrap()
}

/// `POST /_sim/connectors`.
pub async fn seed(sim: &Running, body: Value) {
    control(sim).seed(&body).await.unwrap();
}

/// `PUT /_sim/faults`.
pub async fn faults(sim: &Running, spec: Value) {
    control(sim).faults(&spec).await.unwrap();
}

/// `GET /_sim/requests` then zero them.
pub async fn take_requests(sim: &Running) -> Value {
    let control = control(sim);
    let counts = control.requests().await.unwrap();
    control.clear_requests().await.unwrap();
    counts
}

/// `{"name": n, "tasks": [...]}` with task states.
pub fn connector(name: &str, tasks: &[&str]) -> Value {
    let tasks: Vec<Value> = tasks.iter().map(|s| json!({"state": s})).collect();
    json!({"name": name, "tasks": tasks})
}

/// `serve` on 127.0.0.1:0 against `sim`, polling every 20 ms, with extra flags; it
/// stops when this is dropped.
pub struct Served {
    pub url: String,
    pub state: connect_sentinel::health::HealthState,
    pub running: connect_sentinel::server::Running,
}

pub async fn serve(sim: &Running, extra: &[&str]) -> Served {
    serve_url(&sim.url(), extra).await
}

pub async fn serve_url(url: &str, extra: &[&str]) -> Served {
    let mut argv = vec!["--bind", "127.0.0.1", "--poll-interval", "20ms"];
    argv.extend(["--connect-url", url]);
    argv.extend(extra);
    serve_flags(&argv).await
}

/// `serve` on port 0 with exactly these flags, waiting for its first poll.
pub async fn serve_flags(flags: &[&str]) -> Served {
    let mut argv = vec!["connect-sentinel", "serve", "--port", "0"];
    argv.extend(flags);
    let Some(Command::Serve(args)) = <Cli as clap::Parser>::try_parse_from(argv).unwrap().command
    else {
        unreachable!()
    };
    let settings = connect_sentinel::settings::serve(&args).unwrap();
    let listener = connect_sentinel::server::listen(settings.listen)
        .await
        .unwrap();
    let server = connect_sentinel::cmd::serve::build(settings);
    let state = server.state.clone();
    let running = connect_sentinel::cmd::serve::start(server, listener).unwrap();
    let served = Served {
        url: running.url(),
        state,
        running,
    };
    served.fresh().await;
    served
}

impl Served {
    /// Waits until a poll that started after this call has been published.
    pub async fn fresh(&self) {
        let now = self.state.observed.borrow().seq;
        until(&self.state.observed, "two more polls", |o| o.seq >= now + 2).await;
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = http()
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// `base`/metrics once it contains every one of `markers`.
pub async fn metrics_when(base: &str, markers: &[&str]) -> String {
    let url = format!("{base}/metrics");
    eventually(&format!("{url} shows {markers:?}"), || async {
        let text = http().get(&url).send().await.ok()?.text().await.ok()?;
        markers.iter().all(|m| text.contains(m)).then_some(text)
    })
    .await
}

/// Connector `name`'s config in `sim`, or `null` when it does not exist.
pub async fn config_of(sim: &Running, name: &str) -> Value {
    let url = format!("{}/connectors/{name}/config", sim.url());
    let response = http().get(url).send().await.unwrap();
    match response.status().as_u16() {
        200 => response.json().await.unwrap(),
        _ => Value::Null,
    }
}

/// `GET url` as JSON; `None` while it cannot be read (for [`eventually`]).
pub async fn json_at(url: &str) -> Option<Value> {
    http().get(url).send().await.ok()?.json().await.ok()
}

/// Runs the binary to its exit without blocking the runtime (the simulator lives on
/// it); one that does not exit within [`PATIENCE`] is killed and fails the test.
pub async fn run(args: Vec<String>) -> Output {
    run_env(args, &[]).await
}

/// [`run`] with extra environment variables; the ones a developer's shell may set for
/// the product (`HEALTHCHECK_BASIC_AUTH`, `CONNECT_SENTINEL_OWNER`, …) are removed.
pub async fn run_env(args: Vec<String>, env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_connect-sentinel"));
    command
        .args(&args)
        .env_remove("HEALTHCHECK_BASIC_AUTH")
        .env_remove("HEALTHCHECK_CONNECT_TIMEOUT")
        .env_remove("CONNECT_SENTINEL_OWNER")
        .envs(env.iter().copied())
        .kill_on_drop(true);
    match tokio::time::timeout(PATIENCE, command.output()).await {
        Ok(output) => output.unwrap(),
        Err(_) => panic!(
            "`connect-sentinel {}` did not exit within {PATIENCE:?}",
            args.join(" ")
        ),
    }
}

pub fn argv(command: &str, sim: &Running, extra: &[&str]) -> Vec<String> {
    let mut args = vec![command.to_string(), "--connect-url".into(), sim.url()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// How long a wait on a readiness signal may take before the test fails; it only
/// bounds failure, a passing test never waits for it.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `probe` until it yields a value; panics naming `what` after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let polling = async {
        loop {
            if let Some(value) = probe().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    match tokio::time::timeout(PATIENCE, polling).await {
        Ok(value) => value,
        Err(_) => panic!("never: {what} (waited {PATIENCE:?})"),
    }
}

/// Waits (bounded, generously) until the watched value satisfies `f`; on timeout,
/// panics naming `what` and showing the last value.
pub async fn until<T: Clone + std::fmt::Debug>(
    rx: &tokio::sync::watch::Receiver<T>,
    what: &str,
    f: impl Fn(&T) -> bool,
) -> T {
    let mut rx = rx.clone();
    let last = rx.clone();
    match tokio::time::timeout(PATIENCE, rx.wait_for(|v| f(v))).await {
        Ok(value) => value.unwrap().clone(),
        Err(_) => panic!("never: {what}; last: {:?}", *last.borrow()),
    }
}
