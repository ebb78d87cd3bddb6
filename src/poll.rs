//! One poll of Connect turned into a [`Snapshot`]: every connector's status and the
//! [`Facts`] of its config (one `expand=status&expand=info` call, through
//! [`crate::connect::listing`], with its version fallbacks), the names that have no
//! status yet, and the worker's health: `GET /health` (3.9+) or, before 3.9, a
//! herder-queued info read as the readiness fallback (spec §16). The calls run
//! concurrently: three on 2.3+.

use std::{collections::BTreeMap, time::SystemTime};

use crate::{
    connect::{
        ConnectClient, ConnectError, ConnectorStatus, WorkerHealth,
        facts::{Facts, Polled},
        listing::{self, Missing},
    },
    snapshot::{Poll, PollFailure, Snapshot},
};

/// Polls Connect. (The client remembers whether the worker has `GET /health`, so
/// workers before 3.9 cost one call, not two, from the second poll on.)
#[derive(Clone, Debug)]
pub struct Poller {
    client: ConnectClient,
    /// Whether the listing also asks for each connector's info (its [`Facts`]).
    info: bool,
}

/// Every listed connector's status (`None`: no record yet) and the facts read with it.
type Listed = (
    BTreeMap<String, Option<ConnectorStatus>>,
    BTreeMap<String, Facts>,
);

impl Poller {
    /// A poller that reads the connectors' facts with their statuses.
    pub fn new(client: ConnectClient) -> Self {
        Self { client, info: true }
    }

    /// With `info` false, polls statuses only (`--connector-info off`): no facts.
    pub fn with_info(self, info: bool) -> Self {
        Self { info, ..self }
    }

    pub fn client(&self) -> &ConnectClient {
        &self.client
    }

    /// Takes one snapshot.
    pub async fn poll(&self) -> Poll {
        let started = tokio::time::Instant::now();
        let (listed, health) = tokio::join!(self.list(), self.health_endpoint());
        let worker = match (health, &listed) {
            (Some(health), _) => health,
            (None, Ok((connectors, _))) => self.fallback_health(connectors.keys().next()).await,
            (None, Err(e)) => Err(e.clone()),
        };
        let (duration, taken_at) = (started.elapsed(), SystemTime::now());
        match listed {
            Ok((connectors, facts)) => Ok(Snapshot {
                taken_at,
                duration,
                connectors,
                facts,
                worker,
            }),
            Err(error) => Err(PollFailure {
                taken_at,
                duration,
                error,
            }),
        }
    }

    /// The statuses, and with `info` the facts, of every listed connector.
    async fn list(&self) -> Result<Listed, ConnectError> {
        let client = &self.client;
        if !self.info {
            let statuses = listing::list(client, Missing::Absent, |name| async move {
                client.status(&name).await
            });
            return Ok((statuses.await?, BTreeMap::new()));
        }
        let polled = listing::list(client, Missing::Absent, |name| async move {
            let status = client.status(&name).await?;
            Ok(status.map(|status| Polled {
                status,
                facts: None,
            }))
        });
        Ok(split(polled.await?))
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

/// The statuses and the facts of a listing, as two maps.
fn split(polled: BTreeMap<String, Option<Polled>>) -> Listed {
    let mut facts = BTreeMap::new();
    let connectors = polled
        .into_iter()
        .map(|(name, entry)| {
            let status = entry.map(|Polled { status, facts: f }| {
                if let Some(f) = f {
                    facts.insert(name.clone(), f);
                }
                status
            });
            (name, status)
        })
        .collect();
    (connectors, facts)
}
