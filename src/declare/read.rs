//! Reading what Connect runs, for the plan: every connector's stored config and state,
//! through the same listing (and version fallbacks) as the health poll.

use std::time::Duration;

use crate::{
    connect::{
        ConnectClient, ConnectError, WorkerHealth,
        listing::{self, Missing},
        retry::Backoff,
        types::StoredConnector,
    },
    plan::Live,
};

/// How long the planner's reads may take at least, whatever `--connect-timeout` says:
/// `GET /health` waits for the herder thread, which a real rebalance or connectors
/// starting keep busy for seconds on a loaded worker.
const PLAN_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Every connector with its stored config and state: one expanded call on 2.3+, plus a
/// per-connector read for names it leaves out (no status record yet, spec §2.2).
///
/// A worker that says it is starting or unhealthy (`GET /health`, 3.9+) is an error:
/// while it reads its config topic it may list no connectors at all (spec §20.2), and a
/// plan against that would re-create, and so restart, every declared connector.
///
/// During a rebalance the herder-queued reads (`GET /connectors/{name}/config`) answer
/// 409 or "a rebalance is expected" like a write: every read is retried with `backoff`,
/// and past its retries until `deadline` from now.
pub async fn live(
    client: &ConnectClient,
    backoff: Backoff,
    deadline: Duration,
) -> Result<Vec<Live>, ConnectError> {
    let until = tokio::time::Instant::now() + deadline;
    let client = &client
        .patient(PLAN_READ_TIMEOUT)
        .retrying_reads(backoff, until);
    let read_one = |name: String| one(client, name);
    let (listed, health) = tokio::join!(
        listing::list(client, Missing::ReadEach, read_one),
        client.health()
    );
    ready(health?)?;
    let live = listed?.into_iter().filter_map(|(name, stored)| {
        let stored = stored?;
        Some(Live::observed(name, stored.config, stored.state.as_deref()))
    });
    Ok(live.collect())
}

/// `Ok` for a healthy worker, or one older than 3.9 (no `/health`, `None`).
fn ready(health: Option<WorkerHealth>) -> Result<(), ConnectError> {
    let (state, message) = match health {
        None | Some(WorkerHealth::Healthy) => return Ok(()),
        Some(WorkerHealth::Starting(message)) => ("starting", message),
        Some(WorkerHealth::Unhealthy(message)) => ("unhealthy", message),
    };
    Err(ConnectError::NotReady { state, message })
}

/// One connector's config and state; `None` when it vanished meanwhile (404).
async fn one(
    client: &ConnectClient,
    name: String,
) -> Result<Option<StoredConnector>, ConnectError> {
    let config = match client.config(&name).await {
        Err(ConnectError::Status { status: 404, .. }) => return Ok(None),
        other => other?,
    };
    let status = client.status(&name).await?;
    let state = status.map(|s| s.connector.state);
    Ok(Some(StoredConnector { config, state }))
}
