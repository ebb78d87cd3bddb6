//! The IO half of auto-remediation: performs the restarts the [`Ledger`](super::Ledger)
//! decided, retrying rebalance answers (spec §18) through [`crate::connect::retry`].
//!
//! - Every worker in scope (no worker id): one KIP-745 call restarts the connector and
//!   its failed tasks (`includeTasks=true&onlyFailed=true`, spec §8). A 204 answer
//!   means the worker predates 3.0 and restarted only the connector instance; from then
//!   on (and right away) failed tasks are restarted one by one (spec §7.4).
//! - One worker in scope (`--connect-worker-id`), or a `--restart-trace` filter: only
//!   the chosen instances are restarted, one call each, so N sidecars never restart the
//!   same task N times and a non-matching failure is left alone.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::Failed;
use crate::connect::{
    ConnectClient, ConnectError, Restarted,
    retry::{Backoff, retry},
};

/// How restart calls are retried when Connect is rebalancing: three retries, waiting
/// 200 ms, then doubling.
pub const RETRY: Backoff = Backoff {
    retries: 3,
    base: Duration::from_millis(200),
};

/// Restarts failed instances through one Connect client.
#[derive(Clone, Debug)]
pub struct Executor {
    client: ConnectClient,
    /// Restart exactly the instances given, one call each: with a worker id (only
    /// this worker's) or a trace filter (only matching failures); the KIP-745 call
    /// would restart every FAILED instance of the connector (spec §8).
    precise: bool,
    /// Set once a worker answered the KIP-745 call with 204 (before 3.0).
    legacy: Arc<AtomicBool>,
    retry: Backoff,
}

impl Executor {
    pub fn new(client: ConnectClient, precise: bool, retry: Backoff) -> Self {
        Self {
            client,
            precise,
            legacy: Arc::default(),
            retry,
        }
    }

    /// Restarts `failed` instances of `connector`.
    pub async fn restart(&self, connector: &str, failed: &Failed) -> Result<(), ConnectError> {
        if self.precise || self.legacy.load(Ordering::Relaxed) {
            return self.one_by_one(connector, failed, failed.connector).await;
        }
        let call = || self.client.restart_connector(connector, true, true);
        match retry(self.retry, call).await? {
            Restarted::Accepted(_) => Ok(()),
            Restarted::ConnectorOnly => {
                tracing::info!(
                    connector,
                    "Connect predates 3.0: restarting failed tasks one by one"
                );
                self.legacy.store(true, Ordering::Relaxed);
                self.one_by_one(connector, failed, false).await
            }
        }
    }

    /// The connector instance (when `connector`), then each failed task; every call is
    /// tried even when an earlier one failed, and the first error is returned.
    async fn one_by_one(
        &self,
        name: &str,
        failed: &Failed,
        connector: bool,
    ) -> Result<(), ConnectError> {
        let mut first_error = None;
        if connector {
            let call = || self.client.restart_connector(name, false, false);
            first_error = retry(self.retry, call).await.err();
        }
        for &id in &failed.tasks {
            let call = || self.client.restart_task(name, id);
            if let Err(e) = retry(self.retry, call).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
