//! One poll of Connect turned into a [`Snapshot`]: every connector's status, the
//! names that have no status yet, and the worker's health. A poll makes at most three
//! calls, concurrently: `GET /connectors?expand=status`, `GET /connectors` (connectors
//! without a status record are left out of the first, spec §2.2), and `GET /health`
//! (3.9+) or, before 3.9, a herder-queued info read as the readiness fallback (spec §16).
//! Before Kafka 2.3 `expand` is ignored and statuses are fetched one by one with bounded
//! parallelism.

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime},
};

use futures::{StreamExt, stream};

use crate::connect::{ConnectClient, ConnectError, ConnectorStatus, WorkerHealth, types::Expanded};

/// How many per-connector status calls run at once before Kafka 2.3.
pub const FALLBACK_PARALLELISM: usize = 8;

/// What one poll saw.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Wall-clock time the poll finished (for JSON and logs).
    pub taken_at: SystemTime,
    /// How long the poll took.
    pub duration: Duration,
    /// Every listed connector; `None` when it has no status record yet (just created
    /// or being deleted: transitional, spec §18).
    pub connectors: BTreeMap<String, Option<ConnectorStatus>>,
    /// The worker's health, or why it could not be read.
    pub worker: Result<WorkerHealth, ConnectError>,
}

/// A poll that failed outright (Connect unreachable, 401, garbage, …).
#[derive(Clone, Debug, PartialEq)]
pub struct PollFailure {
    pub taken_at: SystemTime,
    pub duration: Duration,
    pub error: ConnectError,
}

/// The outcome of one poll.
pub type Poll = Result<Snapshot, PollFailure>;

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
        let (expanded, names, health) = tokio::join!(
            self.client.expanded_status(),
            self.client.connector_names(),
            self.health_endpoint()
        );
        let connectors = match (expanded, names) {
            (Ok(expanded), Ok(names)) => self.statuses(expanded, names).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
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

    /// Statuses from the expanded map (2.3+), or one by one from a plain array (before);
    /// names without a status record map to `None`.
    async fn statuses(
        &self,
        expanded: Expanded,
        names: Vec<String>,
    ) -> Result<BTreeMap<String, Option<ConnectorStatus>>, ConnectError> {
        let by_name = match expanded {
            Expanded::Names(names) => return self.one_by_one(names).await,
            Expanded::ByName(by_name) => by_name,
        };
        let mut connectors = by_name;
        for name in names {
            connectors.entry(name).or_insert(None);
        }
        Ok(connectors)
    }

    /// Before 2.3: one status call per connector, [`FALLBACK_PARALLELISM`] at a time; a
    /// connector that vanished in between is simply without status.
    async fn one_by_one(
        &self,
        names: Vec<String>,
    ) -> Result<BTreeMap<String, Option<ConnectorStatus>>, ConnectError> {
        let calls = names.into_iter().map(|name| async move {
            let status = self.client.status(&name).await;
            status.map(|s| (name, s))
        });
        let results: Vec<_> = stream::iter(calls)
            .buffer_unordered(FALLBACK_PARALLELISM)
            .collect()
            .await;
        results.into_iter().collect()
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
