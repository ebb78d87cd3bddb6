//! Test helpers: a simulator on 127.0.0.1:0 and a small JSON client for it.
#![allow(dead_code)]

use connect_sim::{ControlClient, Running, SimConfig, Version};
use reqwest::{Method, header};
use serde_json::{Value, json};

/// How long a wait on a readiness signal may take before the test fails; it only
/// bounds failure, a passing test never waits for it.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// A running simulator, a REST client and its control client.
pub struct TestSim {
    pub running: Running,
    pub client: reqwest::Client,
    pub control: ControlClient,
}

/// One answer: status, parsed JSON body (`Value::String` when the body is not JSON,
/// `Value::Null` when empty) and headers.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: header::HeaderMap,
}

impl Answer {
    /// The `message` of a Connect error body.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

/// A synchronous simulator (no lifecycle delay, no rebalance window) for `version`.
pub async fn start_version(version: &str) -> TestSim {
    let version: Version = version.parse().expect("valid version");
    start(SimConfig {
        version,
        ..SimConfig::synchronous()
    })
    .await
}

/// A simulator with the given configuration.
pub async fn start(config: SimConfig) -> TestSim {
    let running = connect_sim::spawn(config).await.expect("simulator starts");
    let client = client();
    let control = running.control().expect("the control client builds");
    TestSim {
        running,
        client,
        control,
    }
}

/// An HTTP client. Installs the ring crypto provider first: in a workspace build
/// reqwest carries the product's `rustls-no-provider` feature and needs one.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// `GET url`, its body parsed as JSON.
pub async fn get_json(url: &str) -> Value {
    let answer = client().get(url).send().await.unwrap();
    answer.json().await.unwrap()
}

/// The default (3.9.0) synchronous simulator.
pub async fn start_sync() -> TestSim {
    start(SimConfig::synchronous()).await
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    /// Sends a request with an optional JSON body.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        Self::answer(request.send().await.expect("request is answered")).await
    }

    pub async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body is read");
        let body = match text.is_empty() {
            true => Value::Null,
            false => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        };
        Answer {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> Answer {
        self.send(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Option<Value>) -> Answer {
        self.send(Method::PUT, path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// `POST /_sim/connectors`, asserting success.
    pub async fn seed(&self, body: Value) {
        self.control.seed(&body).await.expect("seeded");
    }

    /// Creates a FileStreamSink connector `name` through `POST /connectors`.
    pub async fn create_sink(&self, name: &str, tasks: u32) -> Answer {
        let config = json!({"connector.class": "FileStreamSink", "tasks.max": tasks.to_string(), "topics": "orders"});
        self.post("/connectors", Some(json!({"name": name, "config": config})))
            .await
    }

    /// Moves the simulated clock forward (`POST /_sim/advance`).
    pub async fn advance(&self, ms: u64) {
        self.control.advance(ms).await.expect("the clock moved");
    }

    /// `PUT /_sim/faults`, asserting success.
    pub async fn faults(&self, spec: Value) {
        self.control.faults(&spec).await.expect("faults set");
    }

    /// The `by_route` count of `route` in `GET /_sim/requests`.
    pub async fn count(&self, route: &str) -> u64 {
        let counts = self.control.requests().await.expect("request counts");
        counts["by_route"][route].as_u64().unwrap_or(0)
    }

    /// Waits until `GET /_sim/requests` has counted `n` requests of `route` (the sim
    /// counts a request on arrival, before any fault); panics after [`PATIENCE`].
    pub async fn until_counted(&self, route: &str, n: u64) {
        let arrived = async {
            while self.count(route).await < n {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        };
        if tokio::time::timeout(PATIENCE, arrived).await.is_err() {
            panic!("the simulator never counted {n} × {route}");
        }
    }

    /// The connector's state in `GET …/status`.
    pub async fn connector_state(&self, name: &str) -> String {
        let status = self.get(&format!("/connectors/{name}/status")).await;
        status.body["connector"]["state"]
            .as_str()
            .unwrap_or("<none>")
            .to_string()
    }

    /// Task states in `GET …/status`, by id order.
    pub async fn task_states(&self, name: &str) -> Vec<String> {
        let status = self.get(&format!("/connectors/{name}/status")).await;
        let tasks = status.body["tasks"].as_array().cloned().unwrap_or_default();
        tasks
            .iter()
            .map(|t| t["state"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}
