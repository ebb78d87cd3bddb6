//! `reconcile`'s loop: level-triggered and idempotent. Every pass re-reads every
//! manifest and `--vars` value, plans against what Connect runs (the pure
//! [`crate::plan`]), validates every config it would write, and applies; a pass that
//! finds nothing to change writes nothing (two reads). Passes run at start-up, after
//! a debounced file change ([`watch`]), and every `--interval` (drift made by hand).
//!
//! Data flows one way: files → render → normalise → plan → apply → Connect.

pub mod metrics;
pub mod server;
pub mod watch;

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use serde::Serialize;
use tokio::{
    sync::{mpsc, watch as channel},
    time::Instant,
};

use crate::{
    connect::ConnectClient,
    declare::{
        self,
        apply::{self, Report, Settings},
    },
    plan::{self, Desired, Plan, redact::Redactor},
    spec::{self, Manifests},
};

/// What started a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The first pass, or a periodic resync.
    Resync,
    /// A manifest or `--vars` file changed.
    Files,
}

impl Trigger {
    pub fn label(self) -> &'static str {
        match self {
            Self::Resync => "resync",
            Self::Files => "files",
        }
    }
}

/// How a pass ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Connect already matched the manifests.
    InSync,
    /// Every change was applied.
    Applied { changes: usize },
    /// Some changes failed (each is logged); the others were applied.
    Partial { applied: usize, failed: usize },
    /// The manifests or a config are invalid: nothing was written.
    Invalid { reason: String },
    /// Connect could not be read.
    Unreachable { reason: String },
    /// The plan was refused (e.g. pruning every owned connector without --force).
    Refused { reason: String },
}

impl Outcome {
    /// A label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::InSync => "in_sync",
            Self::Applied { .. } => "applied",
            Self::Partial { .. } => "partial",
            Self::Invalid { .. } => "invalid",
            Self::Unreachable { .. } => "unreachable",
            Self::Refused { .. } => "refused",
        }
    }

    /// True when Connect now matches the manifests.
    pub fn converged(&self) -> bool {
        matches!(self, Self::InSync | Self::Applied { .. })
    }
}

/// The loop's state, published after every pass.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Status {
    /// Passes finished.
    pub passes: u64,
    /// How the last pass ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<Outcome>,
    /// Connectors declared in the last readable manifests.
    pub declared: usize,
    /// When the last pass that converged finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success: Option<SystemTime>,
}

/// Where the manifests come from and how to write them.
#[derive(Clone, Debug)]
pub struct Source {
    pub files: Vec<PathBuf>,
    pub vars: Option<PathBuf>,
    pub options: plan::Options,
    /// Write settings; `initial_state` is found out from Connect's version.
    pub write: Settings,
}

/// One reconciler: the client, the source, and what the last pass saw.
pub struct Reconciler {
    client: ConnectClient,
    source: Source,
    /// Whether the version check for `initial_state` has been done.
    version_known: bool,
    /// The declared set of the last pass that converged (drift = changes without it
    /// changing).
    converged_on: Option<Vec<Desired>>,
    metrics: Arc<metrics::Metrics>,
    status: channel::Sender<Status>,
    heartbeat: Arc<Mutex<Instant>>,
}

impl Reconciler {
    pub fn new(client: ConnectClient, source: Source, metrics: Arc<metrics::Metrics>) -> Self {
        Self {
            client,
            source,
            version_known: false,
            converged_on: None,
            metrics,
            status: channel::Sender::new(Status::default()),
            heartbeat: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// Readers of the published [`Status`].
    pub fn subscribe(&self) -> channel::Receiver<Status> {
        self.status.subscribe()
    }

    /// When the loop last started or finished a pass.
    pub fn heartbeat(&self) -> Arc<Mutex<Instant>> {
        self.heartbeat.clone()
    }

    /// One pass: load, plan, validate, apply. Never panics on bad input.
    pub async fn pass(&mut self, trigger: Trigger) -> Outcome {
        self.beat();
        let started = Instant::now();
        let outcome = match spec::load_all(&self.source.files, self.source.vars.as_deref(), env()) {
            Ok(manifests) => self.converge(&manifests).await,
            Err(e) => Outcome::Invalid {
                reason: e.to_string(),
            },
        };
        self.metrics
            .record_pass(trigger, &outcome, started.elapsed());
        self.publish(&outcome);
        self.beat();
        outcome
    }

    async fn converge(&mut self, manifests: &Manifests) -> Outcome {
        let redactor = manifests.redactor();
        let desired = manifests.desired();
        self.status.send_modify(|s| s.declared = desired.len());
        let live = match declare::live(&self.client).await {
            Ok(live) => live,
            Err(e) => {
                return Outcome::Unreachable {
                    reason: redactor.text(&e.to_string()),
                };
            }
        };
        let plan = match plan::plan(&desired, &live, &self.source.options) {
            Ok(plan) => plan,
            Err(e) => {
                return Outcome::Refused {
                    reason: redactor.text(&e.to_string()),
                };
            }
        };
        if !plan.is_empty() && self.converged_on.as_ref() == Some(&desired) {
            let drifted = plan.changes().count();
            tracing::warn!(
                connectors = drifted,
                "drift: Connect no longer matches the unchanged manifests"
            );
            self.metrics.drift(drifted);
        }
        let outcome = self.write(&plan, &redactor).await;
        if outcome.converged() {
            self.converged_on = Some(desired);
        }
        outcome
    }

    /// Validates, then applies the plan's changes.
    async fn write(&mut self, plan: &Plan, redactor: &Redactor) -> Outcome {
        if plan.is_empty() {
            return Outcome::InSync;
        }
        if let Err(e) = self.learn_version().await {
            return Outcome::Unreachable {
                reason: redactor.text(&e.to_string()),
            };
        }
        let invalid = apply::validate(&self.client, plan, &self.source.write).await;
        if !invalid.is_empty() {
            let reasons: Vec<String> = invalid
                .iter()
                .map(|i| format!("{}: {}", i.name, i.problems.join("; ")))
                .collect();
            let reason = redactor.text(&format!(
                "invalid config, nothing written: {}",
                reasons.join(" | ")
            ));
            tracing::error!(%reason, "pass refused");
            return Outcome::Invalid { reason };
        }
        let metrics = &self.metrics;
        let reports = apply::execute(&self.client, plan, &self.source.write, |r| {
            log(r, redactor, metrics)
        })
        .await;
        let failed = reports.iter().filter(|r| r.result.is_err()).count();
        match failed {
            0 => Outcome::Applied {
                changes: reports.len(),
            },
            _ => Outcome::Partial {
                applied: reports.len() - failed,
                failed,
            },
        }
    }

    /// Asks Connect its version once, for `initial_state` (3.7+).
    async fn learn_version(&mut self) -> Result<(), crate::connect::ConnectError> {
        if !self.version_known {
            let version = self.client.version().await?;
            self.source.write.initial_state = crate::cmd::apply::supports_initial_state(&version);
            self.version_known = true;
        }
        Ok(())
    }

    fn publish(&self, outcome: &Outcome) {
        match outcome {
            Outcome::InSync => tracing::debug!("in sync"),
            o if o.converged() => tracing::info!(outcome = ?o, "pass applied"),
            o => tracing::warn!(outcome = ?o, "pass did not converge"),
        }
        self.status.send_modify(|s| {
            s.passes += 1;
            s.last = Some(outcome.clone());
            if outcome.converged() {
                s.last_success = Some(SystemTime::now());
            }
        });
    }

    fn beat(&self) {
        *self.heartbeat.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }
}

/// This process's environment, for `{{ env.X }}` (read each pass: it never changes in a
/// pod, but tests set it per process).
fn env() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

/// One log line per change, redacted, and its count.
fn log(report: &Report, redactor: &Redactor, metrics: &metrics::Metrics) {
    metrics.change(report.verb, report.result.is_ok());
    match &report.result {
        Ok(()) => tracing::info!(connector = %report.name, action = %report.action, "applied"),
        Err(e) => {
            let error = redactor.text(&e.to_string());
            tracing::error!(connector = %report.name, action = report.verb, %error, "change failed")
        }
    }
}

/// Runs passes until `shutdown`: one at once, one per debounced file change (`files`),
/// and one every `interval`.
pub async fn run(
    mut reconciler: Reconciler,
    mut files: mpsc::Receiver<()>,
    interval: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let trigger = tokio::select! {
            _ = &mut shutdown => return,
            _ = ticker.tick() => Trigger::Resync,
            Some(()) = files.recv() => Trigger::Files,
        };
        reconciler.pass(trigger).await;
    }
}
