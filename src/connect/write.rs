//! Connect's write endpoints for `apply`: config PUT (spec §5.2), create with
//! `initial_state` (§3, 3.7+), validate (§14), pause/resume/stop/delete (§9), plus the
//! configs-and-states read the planner needs (§2.2). Writes wait longer than reads:
//! Connect validates synchronously and may take up to its own 90 s request timeout.

use std::{collections::BTreeMap, time::Duration};

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use super::{Answer, ConnectClient, ConnectError, check, segment};

/// Connect's own REST request timeout (spec §0.3): a write may take this long.
const WRITE_TIMEOUT: Duration = Duration::from_secs(90);

/// A flat config map as sent to Connect.
pub type ConfigMap = BTreeMap<String, String>;

/// The `POST /connectors` body with `initial_state` (spec §3).
#[derive(Serialize)]
struct CreateBody<'a> {
    name: &'a str,
    config: &'a ConfigMap,
    initial_state: &'a str,
}

impl ConnectClient {
    pub(super) async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, ConnectError> {
        super::no_dot_segments(path)?;
        let timeout = self.options.timeout.max(WRITE_TIMEOUT);
        let mut request = self.request(method.clone(), path).timeout(timeout);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let call = format!("{method} {path}");
        let answer = self
            .send(call.clone(), request)
            .await
            .map_err(|e| match e {
                ConnectError::Timeout { call, .. } => ConnectError::Timeout {
                    call,
                    timeout_ms: timeout.as_millis(),
                },
                other => other,
            })?;
        check(&call, &answer)?;
        Ok(answer)
    }

    /// `PUT /connectors/{name}/config`: creates (`true`, 201) or replaces (200).
    pub async fn put_config(&self, name: &str, config: &ConfigMap) -> Result<bool, ConnectError> {
        let path = format!("/connectors/{}/config", segment(name));
        let answer = self.write(Method::PUT, &path, Some(json(config))).await?;
        Ok(answer.status.as_u16() == 201)
    }

    /// `POST /connectors` with `initial_state` `RUNNING`, `PAUSED` or `STOPPED`
    /// (Kafka 3.7+, KIP-980); older workers answer 500 `Unrecognized field`.
    pub async fn create(
        &self,
        name: &str,
        config: &ConfigMap,
        initial_state: &str,
    ) -> Result<(), ConnectError> {
        let body = CreateBody {
            name,
            config,
            initial_state,
        };
        self.write(Method::POST, "/connectors", Some(json(&body)))
            .await
            .map(drop)
    }

    /// `PUT /connector-plugins/{class}/config/validate` (spec §14): the report, which
    /// is 200 even when the config has errors.
    pub async fn validate(&self, class: &str, config: &ConfigMap) -> Result<Value, ConnectError> {
        let path = format!("/connector-plugins/{}/config/validate", segment(class));
        let answer = self.write(Method::PUT, &path, Some(json(config))).await?;
        serde_json::from_slice(&answer.body).map_err(|e| ConnectError::Garbage {
            call: format!("PUT {path}"),
            reason: e.to_string(),
        })
    }

    /// `PUT /connectors/{name}/pause` (spec §9, 202).
    pub async fn pause(&self, name: &str) -> Result<(), ConnectError> {
        self.lifecycle(Method::PUT, name, "/pause").await
    }

    /// `PUT /connectors/{name}/resume` (spec §9, 202; also resumes a STOPPED one).
    pub async fn resume(&self, name: &str) -> Result<(), ConnectError> {
        self.lifecycle(Method::PUT, name, "/resume").await
    }

    /// `PUT /connectors/{name}/stop` (spec §9, 204; Kafka 3.5+).
    pub async fn stop(&self, name: &str) -> Result<(), ConnectError> {
        self.lifecycle(Method::PUT, name, "/stop").await
    }

    /// `DELETE /connectors/{name}` (spec §9, 204).
    pub async fn delete(&self, name: &str) -> Result<(), ConnectError> {
        self.lifecycle(Method::DELETE, name, "").await
    }

    async fn lifecycle(
        &self,
        method: Method,
        name: &str,
        suffix: &str,
    ) -> Result<(), ConnectError> {
        let path = format!("/connectors/{}{suffix}", segment(name));
        self.write(method, &path, None).await.map(drop)
    }

    /// `GET /connectors/{name}/config` (spec §5.1).
    pub async fn config(&self, name: &str) -> Result<ConfigMap, ConnectError> {
        self.get_json(&format!("/connectors/{}/config", segment(name)))
            .await
    }
}

/// A body as JSON (maps of strings always serialize).
fn json(body: &impl Serialize) -> Value {
    serde_json::to_value(body).unwrap_or_default()
}
