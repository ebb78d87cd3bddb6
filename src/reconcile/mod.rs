//! `reconcile`'s loop: level-triggered and idempotent. Every pass re-reads every
//! manifest and `--vars` value, plans against what Connect runs (the pure
//! [`crate::plan`]), validates every config it would write, and applies; a pass that
//! finds nothing to change writes nothing (two reads). Passes run at start-up, after
//! a debounced file or ConfigMap change that changed an input ([`watch`], `k8s`,
//! [`schedule`]), on becoming leader, and every `--interval` (drift made by hand).
//!
//! Data flows one way: files → render → normalise → plan → apply → Connect.

mod fingerprint;
#[cfg(feature = "k8s")]
pub mod k8s;
pub mod metrics;
pub mod schedule;
pub mod server;
pub mod watch;

pub use schedule::{Trigger, run};

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::SystemTime,
};

use serde::Serialize;
use tokio::{sync::watch as channel, time::Instant};

use crate::{
    connect::ConnectClient,
    declare::{
        self,
        apply::{self, Report, Settings},
    },
    plan::{self, Desired, Plan, redact::Redactor},
    spec::{self, Manifests},
};

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
    /// Another replica holds the leader lease: this one only watches.
    Standby,
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
            Self::Standby => "standby",
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
    /// Settled bursts of file or ConfigMap events that changed no input (no pass ran).
    pub unchanged: u64,
}

/// Where manifests are read from.
#[derive(Clone, Debug)]
pub enum Origin {
    /// Files and directories (`-f`).
    Files(Vec<PathBuf>),
    /// Every key of the watched ConfigMaps.
    #[cfg(feature = "k8s")]
    ConfigMaps(k8s::ConfigMaps),
}

/// Where the manifests come from and how to write them.
#[derive(Clone, Debug)]
pub struct Source {
    pub origin: Origin,
    pub vars: Option<PathBuf>,
    pub options: plan::Options,
    /// Write settings; `initial_state` is found out from Connect's version.
    pub write: Settings,
}

impl Source {
    /// The rendered manifests; `Ok(None)` while a ConfigMap source has not listed yet.
    fn load(&self) -> Result<Option<Manifests>, spec::SpecError> {
        match &self.origin {
            Origin::Files(files) => spec::load_all(files, self.vars.as_deref(), env()).map(Some),
            #[cfg(feature = "k8s")]
            Origin::ConfigMaps(maps) if !maps.ready() => Ok(None),
            #[cfg(feature = "k8s")]
            Origin::ConfigMaps(maps) => {
                let vars = spec::vars(self.vars.as_deref())?;
                let context = spec::Context::new(env(), vars.clone());
                let connectors = spec::load_texts(&maps.documents(), &context)?;
                Ok(Some(Manifests { connectors, vars }))
            }
        }
    }

    /// Tells Kubernetes how a pass went: a Warning Event on the ConfigMap a refusal
    /// names, or `Applied` on every watched ConfigMap.
    async fn report(&self, _outcome: &Outcome) {
        #[cfg(feature = "k8s")]
        if let Origin::ConfigMaps(maps) = &self.origin {
            match _outcome {
                Outcome::Invalid { reason } | Outcome::Refused { reason } => {
                    maps.invalid(reason).await
                }
                Outcome::Applied { changes } => {
                    maps.applied(&format!("{changes} change(s) applied to Connect"))
                        .await
                }
                _ => {}
            }
        }
    }
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
    /// With leader election: whether this replica leads (only the leader writes).
    leader: Option<channel::Receiver<bool>>,
    /// Connectors declared in the last readable manifests.
    declared: usize,
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
            leader: None,
            declared: 0,
        }
    }

    /// Writes only while `leader` says this replica leads.
    pub fn with_leader(mut self, leader: channel::Receiver<bool>) -> Self {
        self.leader = Some(leader);
        self
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
        let standby = self.leader.as_ref().is_some_and(|l| !*l.borrow());
        let outcome = match standby {
            true => Outcome::Standby,
            false => match self.source.load() {
                Ok(Some(manifests)) => self.converge(&manifests).await,
                Ok(None) => Outcome::Unreachable {
                    reason: "the Kubernetes API has not listed the ConfigMaps yet".into(),
                },
                Err(e) => Outcome::Invalid {
                    reason: e.to_string(),
                },
            },
        };
        self.source.report(&outcome).await;
        self.metrics
            .record_pass(trigger, &outcome, started.elapsed());
        self.publish(&outcome);
        self.beat();
        outcome
    }

    async fn converge(&mut self, manifests: &Manifests) -> Outcome {
        let redactor = manifests.redactor();
        let desired = manifests.desired();
        self.declared = desired.len();
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

    /// Validates, then applies the plan's changes; stops writing at once if this
    /// replica loses the leader lease meanwhile.
    async fn write(&mut self, plan: &Plan, redactor: &Redactor) -> Outcome {
        if plan.is_empty() {
            return Outcome::InSync;
        }
        if let Err(e) = self.learn_version().await {
            return Outcome::Unreachable {
                reason: redactor.text(&e.to_string()),
            };
        }
        tokio::select! {
            outcome = self.validate_and_apply(plan, redactor) => outcome,
            () = lost(self.leader.clone()) => {
                tracing::warn!("lost the leader lease during a pass: stopped writing");
                Outcome::Standby
            }
        }
    }

    async fn validate_and_apply(&self, plan: &Plan, redactor: &Redactor) -> Outcome {
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
        self.beat();
        let reports = apply::execute(&self.client, plan, &self.source.write, |r| {
            self.beat();
            log(r, redactor, &self.metrics)
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
            self.source.write.initial_state = apply::supports_initial_state(&version);
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
            s.declared = self.declared;
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

/// Resolves when this replica stops leading; never without leader election.
async fn lost(leader: Option<channel::Receiver<bool>>) {
    match leader {
        Some(mut rx) => {
            let _ = rx.wait_for(|leading| !*leading).await;
        }
        None => std::future::pending().await,
    }
}
