//! A client for the control API (`/_sim`), used by both test suites, the benchmarks'
//! helpers and the product's `demo`: seeding, faults, worker health, connector and
//! task states, the simulated clock and the request log. Plain HTTP on loopback.

use serde_json::{Value, json};

/// A control call Connect-sim did not accept.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{call}: {reason}")]
    Transport { call: String, reason: String },
    #[error("{call} answered HTTP {status}: {body}")]
    Refused {
        call: String,
        status: u16,
        body: String,
    },
}

/// The control API of one simulator.
#[derive(Clone, Debug)]
pub struct ControlClient {
    base: String,
    http: reqwest::Client,
}

impl ControlClient {
    /// The control API at `url` (`http://127.0.0.1:<port>`), calls bounded by `timeout`.
    pub fn new(url: &str, timeout: std::time::Duration) -> Result<Self, ControlError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| transport("the control client", &e))?;
        Ok(Self {
            base: url.trim_end_matches('/').to_string(),
            http,
        })
    }

    /// `POST /_sim/connectors`: seeds connectors (see the README's seed format).
    pub async fn seed(&self, body: &Value) -> Result<(), ControlError> {
        self.call(reqwest::Method::POST, "/_sim/connectors", Some(body))
            .await
    }

    /// `PUT /_sim/faults`.
    pub async fn faults(&self, spec: &Value) -> Result<(), ControlError> {
        self.call(reqwest::Method::PUT, "/_sim/faults", Some(spec))
            .await
    }

    /// `DELETE /_sim/faults`.
    pub async fn clear_faults(&self) -> Result<(), ControlError> {
        self.call(reqwest::Method::DELETE, "/_sim/faults", None)
            .await
    }

    /// `PUT /_sim/health`: what `GET /health` answers.
    pub async fn health(&self, body: &Value) -> Result<(), ControlError> {
        self.call(reqwest::Method::PUT, "/_sim/health", Some(body))
            .await
    }

    /// `PUT /_sim/masking`: secrets are shown as `mask` on read (`None`: as stored).
    pub async fn masking(&self, mask: Option<&str>) -> Result<(), ControlError> {
        let body = json!({ "mask": mask });
        self.call(reqwest::Method::PUT, "/_sim/masking", Some(&body))
            .await
    }

    /// `PUT /_sim/connectors/{name}/tasks/{id}/state`, e.g. `{"state": "FAILED"}`.
    pub async fn task_state(&self, name: &str, id: u32, body: &Value) -> Result<(), ControlError> {
        let path = format!("/_sim/connectors/{name}/tasks/{id}/state");
        self.call(reqwest::Method::PUT, &path, Some(body)).await
    }

    /// `PUT /_sim/connectors/{name}/tasks`: the connector generates `count` task configs
    /// (`None`: `tasks.max`).
    pub async fn task_configs(&self, name: &str, count: Option<u32>) -> Result<(), ControlError> {
        let path = format!("/_sim/connectors/{name}/tasks");
        let body = json!({ "count": count });
        self.call(reqwest::Method::PUT, &path, Some(&body)).await
    }

    /// `PUT /_sim/connectors/{name}/state`.
    pub async fn connector_state(&self, name: &str, body: &Value) -> Result<(), ControlError> {
        let path = format!("/_sim/connectors/{name}/state");
        self.call(reqwest::Method::PUT, &path, Some(body)).await
    }

    /// `POST /_sim/advance`: moves the simulated clock `ms` forward.
    pub async fn advance(&self, ms: u64) -> Result<(), ControlError> {
        let body = json!({ "ms": ms });
        self.call(reqwest::Method::POST, "/_sim/advance", Some(&body))
            .await
    }

    /// `GET /_sim/requests`: the request counts.
    pub async fn requests(&self) -> Result<Value, ControlError> {
        let text = self
            .send(reqwest::Method::GET, "/_sim/requests", None)
            .await?;
        serde_json::from_str(&text).map_err(|e| ControlError::Transport {
            call: "GET /_sim/requests".into(),
            reason: e.to_string(),
        })
    }

    /// `DELETE /_sim/requests`: zeroes the counts.
    pub async fn clear_requests(&self) -> Result<(), ControlError> {
        self.call(reqwest::Method::DELETE, "/_sim/requests", None)
            .await
    }

    /// [`ControlClient::send`] without the body of the answer.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(), ControlError> {
        self.send(method, path, body).await.map(drop)
    }

    /// Sends one call; a non-2xx answer is [`ControlError::Refused`].
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<String, ControlError> {
        let call = format!("{method} {path}");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = request.send().await.map_err(|e| transport(&call, &e))?;
        let status = answer.status().as_u16();
        let text = answer.text().await.map_err(|e| transport(&call, &e))?;
        match status {
            200..=299 => Ok(text),
            _ => Err(ControlError::Refused {
                call,
                status,
                body: text,
            }),
        }
    }
}

fn transport(call: &str, e: &reqwest::Error) -> ControlError {
    ControlError::Transport {
        call: call.into(),
        reason: e.to_string(),
    }
}
