//! Restart calls (spec §7.4, §8).

use reqwest::Method;

use super::{ConnectClient, ConnectError, ConnectorStatus, segment};

/// What `POST /connectors/{name}/restart` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restarted {
    /// 202 (KIP-745, 3.0+): restarts recorded; the body predicts which instances restart
    /// (they show `RESTARTING`).
    Accepted(Option<ConnectorStatus>),
    /// 204: the connector instance alone was restarted. Asking for tasks and getting
    /// this means the worker predates 3.0 (spec §8).
    ConnectorOnly,
}

impl ConnectClient {
    /// `POST /connectors/{name}/restart?includeTasks=…&onlyFailed=…` (spec §8).
    pub async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Restarted, ConnectError> {
        let path = format!(
            "/connectors/{}/restart?includeTasks={include_tasks}&onlyFailed={only_failed}",
            segment(name)
        );
        // Restarts may be synchronous (§7.4, §8 204 path) and queue behind a rebalance
        // (§18): they get the write deadline, not the probe-sized read timeout.
        let answer = self.write(Method::POST, &path, None).await?;
        if answer.status.as_u16() == 202 {
            Ok(Restarted::Accepted(
                serde_json::from_slice(&answer.body).ok(),
            ))
        } else {
            Ok(Restarted::ConnectorOnly)
        }
    }

    /// `POST /connectors/{name}/tasks/{id}/restart` (spec §7.4).
    pub async fn restart_task(&self, name: &str, id: u32) -> Result<(), ConnectError> {
        let path = format!("/connectors/{}/tasks/{id}/restart", segment(name));
        self.write(Method::POST, &path, None).await.map(|_| ())
    }
}
