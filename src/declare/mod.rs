//! The declare pipeline, written once for `diff`, `apply` and `reconcile`: load the
//! manifests (files or ConfigMap documents) → read Connect ([`read`]) → plan (the pure
//! [`crate::plan`]) → validate every config it would write → write ([`change`]). A run
//! returns a typed [`Run`]; callers only print, log and map it to an exit code or a
//! reconcile outcome.

pub mod change;
pub mod read;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    time::Duration,
};

use crate::{
    connect::{ConnectClient, ConnectError, retry::Backoff},
    manifest::{self, Inputs, ManifestError},
    plan::{self, Desired, LiveSummary, Plan, PlanError, redact::Redactor},
};

pub use change::{ChangeResult, InvalidConfig, WriteSettings};

/// Everything that stops a run before a single write.
#[derive(Debug, thiserror::Error)]
pub enum DeclareError {
    /// The manifests or `--vars` cannot be used.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Connect could not be read.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The plan was refused (e.g. a prune of every owned connector without --force).
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// How far a run goes.
#[derive(Clone, Copy, Debug)]
pub enum Mode<'a> {
    /// Plan only (`diff`, `apply --dry-run`).
    Plan,
    /// Validate, then write with these settings.
    Apply(&'a WriteSettings),
}

/// What a run reports as it goes, for progress and logs.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// The manifests loaded with these warnings (sent only when there are some).
    Warnings(&'a [manifest::Warning]),
    /// Validation of this many configs starts.
    Validating { configs: usize },
    /// Writing this many changes starts, `concurrency` at a time.
    Writing { changes: usize, concurrency: usize },
    /// One change finished (its message redacted with the redactor).
    Done(&'a ChangeResult, &'a Redactor),
}

/// What a run did, once the plan was made.
#[derive(Debug)]
pub enum Finished {
    /// Planned only: the mode said so, or there was nothing to change.
    Planned(Plan),
    /// Some configs failed validation: nothing was written.
    Invalid {
        plan: Plan,
        invalid: Vec<InvalidConfig>,
    },
    /// Every change was tried, one report each.
    Written {
        plan: Plan,
        reports: Vec<ChangeResult>,
    },
}

impl Finished {
    /// The plan the run made.
    pub fn plan(&self) -> &Plan {
        match self {
            Self::Planned(plan) | Self::Invalid { plan, .. } | Self::Written { plan, .. } => plan,
        }
    }
}

/// The result of one run.
#[derive(Debug)]
pub struct Run {
    /// Redacts every value and message printed about this run.
    pub redactor: Redactor,
    /// The declared connectors, once the manifests loaded.
    pub desired: Option<Vec<Desired>>,
    /// Of those, the ones whose manifest enables `autoRestart` (empty when the
    /// manifests did not load).
    pub auto_restarted: Vec<manifest::AutoRestarted>,
    /// What the manifests do that was accepted but ignored (empty when they did not
    /// load).
    pub warnings: Vec<manifest::Warning>,
    /// What the run leaves alone and why (a disabled connector it may not delete).
    pub notes: Vec<String>,
    /// Where each declared connector is declared (empty when the manifests did not
    /// load).
    pub locations: BTreeMap<String, manifest::Location>,
    /// What Connect ran, by name, once it was read (empty before that).
    pub live: BTreeMap<String, LiveSummary>,
    pub result: Result<Finished, DeclareError>,
}

/// The pipeline: a client for Connect and how manifests are rendered and planned.
/// (`Debug` leaves the environment's values out: they may hold secrets.)
#[derive(Clone)]
pub struct Declare {
    pub client: ConnectClient,
    /// `--vars`: a directory of mounted secrets or a .properties file.
    pub vars: Option<PathBuf>,
    /// `{{ env.X }}` values.
    pub env: BTreeMap<String, String>,
    /// How manifests are read: `--template`, `--selector`, the jq worker.
    pub manifests: manifest::Options,
    pub options: plan::Options,
}

impl std::fmt::Debug for Declare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Declare")
            .field("client", &self.client.base_url())
            .field("vars", &self.vars)
            .field("env", &format_args!("{} variables", self.env.len()))
            .field("manifests", &self.manifests)
            .field("options", &self.options)
            .finish()
    }
}

/// How the planner's reads are retried when no write settings say otherwise (`diff`,
/// `apply --dry-run`): `apply`'s defaults.
const READ_RETRY: Backoff = Backoff {
    retries: 6,
    base: Duration::from_millis(200),
};

/// How long the planner's reads go on retrying rebalance answers past their retries
/// when no write settings say otherwise: `apply`'s default `--timeout`.
const READ_DEADLINE: Duration = Duration::from_secs(120);

impl Declare {
    /// One run over `inputs`; `events` sees validation and writing start, and each
    /// write's report as it finishes.
    pub async fn run(
        &self,
        inputs: Inputs<'_>,
        mode: Mode<'_>,
        mut events: impl FnMut(Event<'_>),
    ) -> Run {
        let manifests = match self.load(inputs).await {
            Ok(manifests) => manifests,
            Err(e) => {
                return Run {
                    redactor: Redactor::default(),
                    desired: None,
                    auto_restarted: Vec::new(),
                    warnings: Vec::new(),
                    notes: Vec::new(),
                    locations: BTreeMap::new(),
                    live: BTreeMap::new(),
                    result: Err(e.into()),
                };
            }
        };
        let (redactor, desired) = (manifests.redactor(), manifests.desired());
        if !manifests.warnings.is_empty() {
            events(Event::Warnings(&manifests.warnings));
        }
        let retired = manifests.retired_names();
        let mut live = BTreeMap::new();
        let (notes, result) = match self
            .converge(&desired, &retired, mode, &redactor, &mut live, events)
            .await
        {
            Ok((finished, notes)) => (notes, Ok(finished)),
            Err(e) => (Vec::new(), Err(e)),
        };
        let locations = manifests
            .connectors
            .iter()
            .map(|d| (d.desired.name.clone(), d.location.clone()))
            .collect();
        Run {
            redactor,
            desired: Some(desired),
            auto_restarted: manifests.auto_restarted(),
            warnings: manifests.warnings,
            notes,
            locations,
            live,
            result,
        }
    }

    /// Loads the manifests on a blocking thread: reading and rendering them is bounded
    /// but not instant, and must never hold up the runtime (`reconcile`'s probes).
    async fn load(&self, inputs: Inputs<'_>) -> Result<manifest::Manifests, ManifestError> {
        let owned = manifest::OwnedInputs::from(inputs);
        let (vars, env) = (self.vars.clone(), self.env.clone());
        let options = self.manifests.clone();
        let loading = move || manifest::load_with(owned.borrowed(), vars.as_deref(), env, &options);
        match tokio::task::spawn_blocking(loading).await {
            Ok(loaded) => loaded,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(ManifestError::Interrupted),
        }
    }

    /// Reads Connect, plans `desired` (and `retired`, declared absent), and carries the
    /// plan out as far as `mode` says; also returns notes on what it leaves alone, and
    /// keeps a summary of what Connect ran in `seen`.
    async fn converge(
        &self,
        desired: &[Desired],
        retired: &BTreeSet<String>,
        mode: Mode<'_>,
        redactor: &Redactor,
        seen: &mut BTreeMap<String, LiveSummary>,
        events: impl FnMut(Event<'_>),
    ) -> Result<(Finished, Vec<String>), DeclareError> {
        let (backoff, deadline) = match mode {
            Mode::Plan => (READ_RETRY, READ_DEADLINE),
            Mode::Apply(settings) => (settings.backoff, settings.timeout),
        };
        let live = read::live(&self.client, backoff, deadline).await?;
        *seen = live.iter().map(|l| (l.name.clone(), l.summary())).collect();
        let plan = plan::plan_retiring(desired, retired, &live, &self.options)?;
        let notes = plan::retire::notes(retired, &live, &self.options);
        let finished = match mode {
            Mode::Apply(settings) if !plan.is_empty() => {
                self.write(plan, settings, redactor, events).await
            }
            _ => Finished::Planned(plan),
        };
        Ok((finished, notes))
    }

    /// Validates every config the plan writes, then (if all are valid) writes.
    async fn write(
        &self,
        plan: Plan,
        settings: &WriteSettings,
        redactor: &Redactor,
        mut events: impl FnMut(Event<'_>),
    ) -> Finished {
        let configs = plan.steps.iter().filter(|s| s.op.writes_config().is_some());
        events(Event::Validating {
            configs: configs.count(),
        });
        let invalid = change::validate(&self.client, &plan, settings).await;
        if !invalid.is_empty() {
            return Finished::Invalid { plan, invalid };
        }
        events(Event::Writing {
            changes: plan.changes().count(),
            concurrency: settings.concurrency.max(1),
        });
        let done = |r: &ChangeResult| events(Event::Done(r, redactor));
        let reports = change::execute(&self.client, &plan, settings, done).await;
        Finished::Written { plan, reports }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::ClientOptions;

    #[test]
    fn debug_never_shows_an_environment_value() {
        let declare = Declare {
            client: ConnectClient::new(ClientOptions::new("http://connect:8083")).unwrap(),
            vars: None,
            env: BTreeMap::from([("DB_PASSWORD".into(), "CANARY-env-3141".into())]),
            manifests: manifest::Options::default(),
            options: plan::Options {
                owner: "o".into(),
                ignore: vec![],
                prune: false,
                force: false,
                fingerprint: Default::default(),
            },
        };
        let shown = format!("{declare:?}");
        assert!(!shown.contains("CANARY"), "{shown}");
        assert!(shown.contains("1 variables"), "{shown}");
    }
}
