//! Reading what Connect runs, for the plan: every connector's stored config and state.

use std::{collections::BTreeMap, time::Duration};

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use crate::{
    connect::{
        ConnectClient, ConnectError, WorkerHealth,
        retry::{Backoff, retry},
    },
    plan::Live,
};

/// How many per-connector reads run at once (older workers, or connectors the
/// expanded list leaves out).
const READ_CONCURRENCY: usize = 8;

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
/// `GET /connectors/{name}/config` waits for the herder, so during a rebalance it may
/// answer 409 or "a rebalance is expected" like a write: it is retried with `backoff`.
pub async fn live(client: &ConnectClient, backoff: Backoff) -> Result<Vec<Live>, ConnectError> {
    let client = &client.patient(PLAN_READ_TIMEOUT);
    let (expanded, names, health) = tokio::join!(
        client.expanded_info(),
        client.connector_names(),
        client.health()
    );
    ready(health?)?;
    let mut found: BTreeMap<String, Live> = match expanded? {
        Value::Object(map) => map.into_iter().filter_map(from_expanded).collect(),
        _ => BTreeMap::new(),
    };
    let missing: Vec<String> = names?
        .into_iter()
        .filter(|n| !found.contains_key(n))
        .collect();
    let reads: Vec<_> = missing
        .into_iter()
        .map(|name| one(client, name, backoff))
        .collect();
    let read: Vec<Option<Live>> = stream::iter(reads)
        .buffered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    found.extend(read.into_iter().flatten().map(|l| (l.name.clone(), l)));
    Ok(found.into_values().collect())
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

fn from_expanded((name, entry): (String, Value)) -> Option<(String, Live)> {
    let config = serde_json::from_value(entry["info"]["config"].clone()).ok()?;
    let status = entry["status"]["connector"]["state"].as_str();
    Some((name.clone(), Live::observed(name, config, status)))
}

/// One connector's config and state; `None` when it vanished meanwhile (404).
async fn one(
    client: &ConnectClient,
    name: String,
    backoff: Backoff,
) -> Result<Option<Live>, ConnectError> {
    let config = match retry(backoff, || client.config(&name)).await {
        Err(ConnectError::Status { status: 404, .. }) => return Ok(None),
        other => other?,
    };
    let status = client.status(&name).await?;
    let state = status.as_ref().map(|s| s.connector.state.as_str());
    Ok(Some(Live::observed(name, config, state)))
}
