//! `reconcile`'s loop: level-triggered and idempotent. Every pass is one run of the
//! [`crate::declare`] pipeline: it re-reads every manifest and `--vars` value, plans
//! against what Connect runs, validates every config it would write, and applies; a pass that
//! finds nothing to change writes nothing (two reads). Passes run at start-up, after
//! a debounced file or ConfigMap change that changed an input ([`watch`], `k8s`,
//! [`schedule`]), on becoming leader, and every `--interval` (drift made by hand).
//!
//! Data flows one way: files → render → normalise → plan → apply → Connect.

pub mod counters;
mod fingerprint;
pub mod hand_over;
#[cfg(feature = "k8s")]
pub mod k8s;
pub mod router;
pub mod schedule;
pub mod view;
pub mod watch;

pub use schedule::{Trigger, run};

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::SystemTime,
};

use serde::Serialize;
use tokio::{sync::watch as channel, time::Instant};

use crate::{
    declare::{
        ChangeResult, Declare, DeclareError, Event, Finished, InvalidConfig, Mode, Run,
        WriteSettings,
    },
    health::poller::AutoRestartedSet,
    manifest::{self, Inputs},
    plan::{Desired, redact::Redactor},
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

/// A sentence for logs and `/readyz`'s `reason`, e.g. `4 change(s) applied`.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InSync => f.write_str("Connect matches the manifests"),
            Self::Applied { changes } => write!(f, "{changes} change(s) applied"),
            Self::Partial { applied, failed } => {
                write!(f, "{failed} change(s) failed, {applied} applied")
            }
            Self::Invalid { reason } => write!(f, "invalid manifests or config: {reason}"),
            Self::Unreachable { reason } => write!(f, "cannot read Connect: {reason}"),
            Self::Refused { reason } => write!(f, "plan refused: {reason}"),
            Self::Standby => f.write_str("standby: another replica holds the leader lease"),
        }
    }
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
    /// When the last pass that converged finished (RFC 3339, UTC, e.g.
    /// `2026-12-02T07:20:00.123Z`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "rfc3339")]
    pub last_success: Option<SystemTime>,
    /// Settled bursts of file or ConfigMap events that changed no input (no pass ran).
    pub unchanged: u64,
}

/// `Some(time)` as an RFC 3339 string (milliseconds, UTC).
fn rfc3339<S: serde::Serializer>(time: &Option<SystemTime>, to: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(t) => to.collect_str(&humantime::format_rfc3339_millis(*t)),
        None => to.serialize_none(),
    }
}

/// Where manifests are read from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Files and directories (`-f`).
    Files(Vec<PathBuf>),
    /// Every key of the watched ConfigMaps.
    #[cfg(feature = "k8s")]
    ConfigMaps(k8s::ConfigMaps),
}

impl Source {
    /// Tells Kubernetes how a pass went: a Warning Event on the ConfigMap a refusal
    /// names, or `Applied` on every watched ConfigMap.
    async fn report(&self, _outcome: &Outcome) {
        #[cfg(feature = "k8s")]
        if let Source::ConfigMaps(maps) = self {
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

/// One reconciler: the declare pipeline, the source, and what the last pass saw.
pub struct Reconciler {
    declare: Declare,
    source: Source,
    write: WriteSettings,
    /// The declared set of the last pass that converged (drift = changes without it
    /// changing).
    converged_on: Option<Vec<Desired>>,
    metrics: Arc<counters::ReconcileMetrics>,
    status: channel::Sender<Status>,
    heartbeat: Arc<Mutex<Instant>>,
    /// With leader election: whether this replica leads (only the leader writes).
    leader: Option<channel::Receiver<bool>>,
    /// Connectors declared in the last readable manifests.
    declared: usize,
    /// The manifest warnings last logged: logged again only when they change, not on
    /// every resync.
    warned: Vec<manifest::Warning>,
    /// The notes on connectors left alone last logged, likewise.
    noted: Vec<String>,
    /// The declared connectors whose manifest enables `autoRestart` and their configs,
    /// as of the last pass that loaded the manifests (what the restart loop remediates).
    hand_over: hand_over::HandOver,
    /// Each declared connector as the last pass left it (the status page).
    board: view::Board,
}

impl Reconciler {
    pub fn new(
        declare: Declare,
        source: Source,
        write: WriteSettings,
        metrics: Arc<counters::ReconcileMetrics>,
    ) -> Self {
        Self {
            declare,
            source,
            write,
            converged_on: None,
            metrics,
            status: channel::Sender::new(Status::default()),
            heartbeat: Arc::new(Mutex::new(Instant::now())),
            leader: None,
            declared: 0,
            warned: Vec::new(),
            noted: Vec::new(),
            hand_over: hand_over::HandOver::default(),
            board: view::Board::default(),
        }
    }

    /// Readers of the connectors whose manifest enables `autoRestart`.
    pub fn auto_restarted(&self) -> channel::Receiver<Arc<AutoRestartedSet>> {
        self.hand_over.auto_restarted()
    }

    /// The declared configs the restart loop's recreate step PUTs back.
    pub fn recreatable(&self) -> hand_over::Recreatable {
        self.hand_over.recreatable()
    }

    /// Readers of each declared connector as the last pass left it.
    pub fn declared(&self) -> channel::Receiver<Arc<view::Pass>> {
        self.board.subscribe()
    }

    /// Writes only while `leader` says this replica leads.
    pub fn with_leader(mut self, leader: channel::Receiver<bool>) -> Self {
        self.leader = Some(leader);
        self
    }

    /// Whether this replica leads (`None` without leader election).
    pub fn leading(&self) -> Option<channel::Receiver<bool>> {
        self.leader.clone()
    }

    /// Where the manifests come from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Readers of the published [`Status`].
    pub fn subscribe(&self) -> channel::Receiver<Status> {
        self.status.subscribe()
    }

    /// When the loop last started or finished a pass.
    pub fn heartbeat(&self) -> Arc<Mutex<Instant>> {
        self.heartbeat.clone()
    }

    /// One pass of the declare pipeline. Never panics on bad input.
    pub async fn pass(&mut self, trigger: Trigger) -> Outcome {
        self.beat();
        let started = Instant::now();
        let standby = self.leader.as_ref().is_some_and(|l| !*l.borrow());
        let outcome = match standby {
            true => {
                self.board.clear();
                Outcome::Standby
            }
            false => self.converge().await,
        };
        self.source.report(&outcome).await;
        self.metrics
            .record_pass(trigger, &outcome, started.elapsed());
        self.publish(&outcome);
        self.beat();
        outcome
    }

    /// Runs the pipeline over the source; stops at once if this replica loses the
    /// leader lease meanwhile.
    async fn converge(&mut self) -> Outcome {
        #[cfg(feature = "k8s")]
        let configmaps;
        let inputs = match &self.source {
            Source::Files(files) => Inputs::Files(files),
            #[cfg(feature = "k8s")]
            Source::ConfigMaps(maps) if !maps.ready() => {
                let reason = "the Kubernetes API has not listed the ConfigMaps yet";
                self.board.unread(reason);
                return Outcome::Unreachable {
                    reason: reason.into(),
                };
            }
            #[cfg(feature = "k8s")]
            Source::ConfigMaps(maps) => {
                configmaps = maps.configmaps();
                Inputs::ConfigMaps(&configmaps)
            }
        };
        let (heartbeat, metrics) = (&self.heartbeat, &self.metrics);
        let done = |event: Event<'_>| {
            beat(heartbeat);
            if let Event::Done(report, redactor) = event {
                log(report, redactor, metrics);
            }
        };
        let run = tokio::select! {
            run = self.declare.run(inputs, Mode::Apply(&self.write), done) => run,
            () = lost(self.leader.clone()) => {
                tracing::warn!("lost the leader lease during a pass: stopped writing");
                self.board.clear();
                return Outcome::Standby;
            }
        };
        self.outcome(run)
    }

    /// The outcome of a run; notes drift and what converged.
    fn outcome(&mut self, run: Run) -> Outcome {
        if let Some(desired) = &run.desired {
            self.declared = desired.len();
            self.warn(&run.warnings);
            let options = &self.declare.options;
            self.hand_over
                .publish(&run.auto_restarted, desired, options, &run.redactor);
        }
        self.note(&run.notes, &run.redactor);
        let context = view::Context {
            previous: self.converged_on.as_deref(),
            owner: &self.declare.options.owner,
            from_api: !matches!(self.source, Source::Files(_)),
        };
        self.board.publish(&run, context);
        let redactor = &run.redactor;
        let finished = match run.result {
            Ok(finished) => finished,
            Err(e) => return failed(&e, redactor),
        };
        let changes = finished.plan().changes().count();
        if changes > 0 && self.converged_on.is_some() && self.converged_on == run.desired {
            tracing::warn!(
                connectors = changes,
                "drift: Connect no longer matches the unchanged manifests"
            );
            self.metrics.drift(changes);
        }
        let outcome = match finished {
            Finished::Planned(_) => Outcome::InSync,
            Finished::Invalid { invalid, .. } => refused(&invalid, redactor),
            Finished::Written { reports, .. } => written(&reports),
        };
        if outcome.converged() {
            self.converged_on = run.desired;
        }
        outcome
    }

    /// Logs the manifests' warnings when they differ from the last ones logged.
    fn warn(&mut self, warnings: &[manifest::Warning]) {
        for w in changed(&mut self.warned, warnings) {
            tracing::warn!(file = %w.location, connector = %w.connector, warning = %w.message, "manifest warning");
        }
    }

    /// Logs the notes on connectors left alone when they differ from the last pass's.
    fn note(&mut self, notes: &[String], redactor: &Redactor) {
        for note in changed(&mut self.noted, notes) {
            tracing::warn!(note = %redactor.text(note), "left alone");
        }
    }

    fn publish(&self, outcome: &Outcome) {
        match outcome {
            Outcome::InSync => tracing::debug!("in sync"),
            o if o.converged() => tracing::info!(outcome = %o.label(), detail = %o, "pass applied"),
            o => tracing::warn!(outcome = %o.label(), detail = %o, "pass did not converge"),
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
        beat(&self.heartbeat);
    }
}

fn beat(heartbeat: &Mutex<Instant>) {
    *heartbeat.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
}

/// `now`, remembered in `last`, when it differs from `last`; nothing when it is the same
/// (what a pass logs once, not on every resync).
fn changed<'a, T: PartialEq + Clone>(last: &mut Vec<T>, now: &'a [T]) -> &'a [T] {
    if last.as_slice() == now {
        return &[];
    }
    *last = now.to_vec();
    now
}

/// A run that stopped before writing.
fn failed(error: &DeclareError, redactor: &Redactor) -> Outcome {
    let reason = redactor.text(&error.to_string());
    match error {
        DeclareError::Manifest(_) => Outcome::Invalid { reason },
        DeclareError::Connect(_) => Outcome::Unreachable { reason },
        DeclareError::Plan(_) => Outcome::Refused { reason },
    }
}

/// Validation refused some configs: nothing was written.
fn refused(invalid: &[InvalidConfig], redactor: &Redactor) -> Outcome {
    let reasons: Vec<String> = invalid
        .iter()
        .map(|i| format!("{}: {}", i.name, i.problems.join("; ")))
        .collect();
    let reason = redactor.text(&format!(
        "invalid config, nothing written: {}",
        reasons.join(" | ")
    ));
    tracing::error!(%reason, "pass refused");
    Outcome::Invalid { reason }
}

/// Every change was tried.
fn written(reports: &[ChangeResult]) -> Outcome {
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

/// One log line per change, redacted, and its count.
fn log(report: &ChangeResult, redactor: &Redactor, metrics: &counters::ReconcileMetrics) {
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
