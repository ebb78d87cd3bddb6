//! The IO half of auto-remediation: performs the [`Action`]s the
//! [`Ledger`](super::Ledger) decided, retrying rebalance answers (spec §18) through
//! [`crate::connect::retry`].
//!
//! - `restart-tasks`, every worker in scope: one KIP-745 call restarts the connector
//!   and its failed tasks (`includeTasks=true&onlyFailed=true`, spec §8). A 204 answer
//!   means the worker predates 3.0 and restarted only the connector instance; from
//!   then on (and right away) failed tasks are restarted one by one (spec §7.4).
//! - `restart-connector`: `includeTasks=true&onlyFailed=false` (before 3.0, or
//!   precise: the connector instance and then every task in scope, one call each).
//! - Precise (one worker in scope with `--connect-worker-id`, or a `--restart-trace`
//!   filter): only the chosen instances are restarted, one call each, so N sidecars
//!   never restart the same task N times and a non-matching failure is left alone.
//! - `recreate`: DELETE, wait until Connect no longer lists it, then PUT the declared
//!   config (offsets live in Connect's offsets topic and survive). Only an executor
//!   given a source of declared configs ([`Executor::with_declared`]) can; the sidecar
//!   is never given one, and its ladder has no recreate step.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::{Action, InScope, StepKind};
use crate::connect::{
    ConnectClient, ConnectError, Restarted,
    retry::{Backoff, retry},
};

/// A connector's config, as `PUT /connectors/{name}/config` takes it.
pub type ConfigMap = BTreeMap<String, String>;

/// How restart calls are retried when Connect is rebalancing: three retries, waiting
/// 200 ms, then doubling.
pub const RETRY: Backoff = Backoff {
    retries: 3,
    base: Duration::from_millis(200),
};

/// How long a recreate waits for Connect to stop listing the deleted connector, and
/// how often it looks.
const DELETE_PATIENCE: Duration = Duration::from_secs(30);
const DELETE_POLL: Duration = Duration::from_millis(250);

/// Where declared configs come from (the reconciler's manifests).
pub trait Declared: fmt::Debug + Send + Sync {
    /// The declared config of `connector`, `None` when it is not declared.
    fn config(&self, connector: &str) -> Option<ConfigMap>;

    /// `text` (Connect's answer to a recreate, which may echo a config value) with
    /// every declared secret cut out; by default URI passwords, tokens and secret
    /// parameters ([`crate::plan::redact::mask`]).
    fn redact(&self, text: &str) -> String {
        crate::plan::redact::mask(text).into_owned()
    }
}

/// Why an action failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecuteError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("connector {0} has no declared config to recreate it from")]
    NotDeclared(String),
    #[error("connector {0} was deleted but Connect still lists it after {1:?}")]
    StillListed(String, Duration),
    /// A recreate's call failed; the message has its secrets cut out.
    #[error("{message}")]
    Redacted {
        label: &'static str,
        message: String,
    },
}

impl ExecuteError {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Connect(e) => e.label(),
            Self::NotDeclared(_) => "not_declared",
            Self::StillListed(..) => "delete_pending",
            Self::Redacted { label, .. } => label,
        }
    }
}

/// Performs actions through one Connect client.
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
    declared: Option<Arc<dyn Declared>>,
}

impl Executor {
    pub fn new(client: ConnectClient, precise: bool, retry: Backoff) -> Self {
        Self {
            client,
            precise,
            legacy: Arc::default(),
            retry,
            declared: None,
        }
    }

    /// This executor, able to recreate declared connectors from `declared`.
    pub fn with_declared(self, declared: Arc<dyn Declared>) -> Self {
        Self {
            declared: Some(declared),
            ..self
        }
    }

    /// Performs `action`.
    pub async fn perform(&self, action: &Action) -> Result<(), ExecuteError> {
        let (name, failed) = (&action.connector, &action.failed);
        match action.step {
            StepKind::RestartTasks => {
                let only = InScope {
                    connector: failed.connector,
                    tasks: failed.tasks.clone(),
                };
                self.restart(name, &only, true).await
            }
            StepKind::RestartConnector => self.restart(name, &failed.in_scope, false).await,
            StepKind::Recreate => self.recreate(name).await,
        }
    }

    /// Restarts `these` instances of `name`: the failed ones (`only_failed`) or all.
    async fn restart(
        &self,
        name: &str,
        these: &InScope,
        only_failed: bool,
    ) -> Result<(), ExecuteError> {
        if self.precise || self.legacy.load(Ordering::Relaxed) {
            return self.one_by_one(name, these, these.connector).await;
        }
        let call = || self.client.restart_connector(name, true, only_failed);
        match retry(self.retry, call).await? {
            Restarted::Accepted(_) => Ok(()),
            Restarted::ConnectorOnly => {
                tracing::info!(
                    connector = name,
                    "Connect predates 3.0: restarting tasks one by one"
                );
                self.legacy.store(true, Ordering::Relaxed);
                self.one_by_one(name, these, false).await
            }
        }
    }

    /// The connector instance (when `connector`), then each task; every call is tried
    /// even when an earlier one failed, and the first error is returned.
    async fn one_by_one(
        &self,
        name: &str,
        these: &InScope,
        connector: bool,
    ) -> Result<(), ExecuteError> {
        let mut first_error = None;
        if connector {
            let call = || self.client.restart_connector(name, false, false);
            first_error = retry(self.retry, call).await.err();
        }
        for &id in &these.tasks {
            let call = || self.client.restart_task(name, id);
            if let Err(e) = retry(self.retry, call).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), |e| Err(e.into()))
    }

    /// DELETE, wait until it is gone from the listing, PUT the declared config.
    async fn recreate(&self, name: &str) -> Result<(), ExecuteError> {
        let declared = self.declared.as_ref();
        let not_declared = || ExecuteError::NotDeclared(name.to_string());
        let declared = declared.ok_or_else(not_declared)?;
        let config = declared.config(name).ok_or_else(not_declared)?;
        let redacted = |e: ExecuteError| ExecuteError::Redacted {
            label: e.label(),
            message: declared.redact(&e.to_string()),
        };
        let steps = async {
            retry(self.retry, || self.client.delete(name)).await?;
            self.until_unlisted(name).await?;
            retry(self.retry, || self.client.put_config(name, &config)).await?;
            Ok(())
        };
        steps.await.map_err(redacted)
    }

    async fn until_unlisted(&self, name: &str) -> Result<(), ExecuteError> {
        let deadline = tokio::time::Instant::now() + DELETE_PATIENCE;
        loop {
            let names = self.client.connector_names().await?;
            if !names.iter().any(|n| n == name) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ExecuteError::StillListed(name.into(), DELETE_PATIENCE));
            }
            tokio::time::sleep(DELETE_POLL).await;
        }
    }
}
