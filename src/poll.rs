//! One poll of Connect turned into a [`Snapshot`]: every connector's status (through
//! [`crate::connect::listing`], with its version fallbacks), the names that have no
//! status yet, and the worker's health: `GET /health` (3.9+) or, before 3.9, a
//! herder-queued info read as the readiness fallback (spec §16). The calls run
//! concurrently: three on 2.3+.

use std::time::SystemTime;

use crate::{
    connect::{
        ConnectClient, ConnectError, WorkerHealth,
        listing::{self, Missing},
    },
    snapshot::{Poll, PollFailure, Snapshot},
};

/// Polls Connect. (The client remembers whether the worker has `GET /health`, so
/// workers before 3.9 cost one call, not two, from the second poll on.)
#[derive(Clone, Debug)]
pub struct Poller {
    client: ConnectClient,
}

impl Poller {
    pub fn new(client: ConnectClient) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &ConnectClient {
        &self.client
    }

    /// Takes one snapshot.
    pub async fn poll(&self) -> Poll {
        let started = tokio::time::Instant::now();
        let client = &self.client;
        let (connectors, health) = tokio::join!(
            listing::list(client, Missing::Absent, |name| async move {
                client.status(&name).await
            }),
            self.health_endpoint()
        );
        let worker = match (health, &connectors) {
            (Some(health), _) => health,
            (None, Ok(connectors)) => self.fallback_health(connectors.keys().next()).await,
            (None, Err(e)) => Err(e.clone()),
        };
        let (duration, taken_at) = (started.elapsed(), SystemTime::now());
        match connectors {
            Ok(connectors) => Ok(Snapshot {
                taken_at,
                duration,
                connectors,
                worker,
            }),
            Err(error) => Err(PollFailure {
                taken_at,
                duration,
                error,
            }),
        }
    }

    /// `GET /health` (spec §16), or `None` when the worker predates 3.9.
    async fn health_endpoint(&self) -> Option<Result<WorkerHealth, ConnectError>> {
        self.client.health().await.transpose()
    }

    /// Before 3.9, a cheap read through the herder queue stands in for `/health`: the
    /// first connector's info, or `GET /` on an empty cluster. A 409/500/timeout there
    /// means the worker cannot serve requests (the zombie-worker case).
    async fn fallback_health(&self, first: Option<&String>) -> Result<WorkerHealth, ConnectError> {
        let probe = match first {
            Some(name) => self.client.info(name).await.map(|_| ()),
            None => self.client.version().await.map(|_| ()),
        };
        match probe {
            Ok(()) | Err(ConnectError::Status { status: 404, .. }) => Ok(WorkerHealth::Healthy),
            Err(
                e @ (ConnectError::Conflict { .. }
                | ConnectError::Status { .. }
                | ConnectError::Timeout { .. }),
            ) => Ok(WorkerHealth::Unhealthy(e.to_string())),
            Err(e) => Err(e),
        }
    }
}
