//! The pure core of `diff` and `apply`: desired and live connectors in, a plan out.
//! No IO. Configs are compared as Connect stores them (string to string, `name`
//! injected, ignored keys dropped; spec §5.1, §20.1), so an unchanged connector is
//! never written (each PUT restarts it, spec §5.2).
//!
//! Ownership: every config this tool writes carries [`OWNER_KEY`] = the owner. A live
//! connector is *owned* iff that key equals our owner; only owned connectors are ever
//! pruned, and only with `prune` set. Declaring an unowned connector adopts it (the
//! update adds the marker).
//!
//! Masked live values (a vendor's `****`) compare as unknown; the fingerprint every
//! written config carries ([`masked::FINGERPRINT_KEY`]) still tells a rotated secret
//! apart ([`masked`]).

mod compute;
pub mod masked;
pub mod redact;
pub mod render;
pub mod retire;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use compute::{plan, plan_retiring};

/// The config key that marks a connector as managed by an owner.
pub const OWNER_KEY: &str = "connect-sentinel.owner";

/// Written into the config of every connector whose manifest enables `autoRestart`,
/// with the value [`REMEDIATED_BY_RECONCILER`]: `reconcile` restarts it, and sidecars
/// leave it alone, so the two never restart the same connector.
pub const REMEDIATED_BY_KEY: &str = "connect-sentinel.remediated-by";

/// [`REMEDIATED_BY_KEY`]'s value for connectors `reconcile` remediates.
pub const REMEDIATED_BY_RECONCILER: &str = "reconciler";

/// A flat Connect config: every value a string (spec §0.1).
pub type Config = BTreeMap<String, String>;

/// The state a declared connector should be in (Strimzi's `spec.state`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    #[default]
    Running,
    Paused,
    Stopped,
}

impl TargetState {
    /// Parses `running`/`paused`/`stopped` in any case.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "running" => Some(Self::Running),
            "paused" => Some(Self::Paused),
            "stopped" => Some(Self::Stopped),
            _ => None,
        }
    }

    /// The target state a live status implies: there is no GET for the target state,
    /// so PAUSED and STOPPED mean those and anything else (RUNNING, FAILED,
    /// UNASSIGNED, no status yet) means started (spec §20.1).
    pub fn from_status(state: Option<&str>) -> Self {
        match state {
            Some("PAUSED") => Self::Paused,
            Some("STOPPED") => Self::Stopped,
            _ => Self::Running,
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
        }
    }
}

/// A connector as declared (after templating).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub config: Config,
    pub state: TargetState,
}

/// A connector as Connect reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Live {
    pub name: String,
    pub config: Config,
    pub state: TargetState,
    /// The connector instance is FAILED. It ignores pause and resume then; only a
    /// restart (a config write restarts it) or stop change it (spec §17).
    pub failed: bool,
}

impl Live {
    /// A connector from its stored config and its instance's reported state (`None`:
    /// no status record yet).
    pub fn observed(name: String, config: Config, status: Option<&str>) -> Self {
        Self {
            name,
            config,
            state: TargetState::from_status(status),
            failed: status == Some("FAILED"),
        }
    }
}

/// What may be shown of a live connector: its state and owner, never its config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSummary {
    pub state: TargetState,
    pub failed: bool,
    /// Its [`OWNER_KEY`] value, if any.
    pub owner: Option<String>,
}

impl Live {
    /// Its state and owner.
    pub fn summary(&self) -> LiveSummary {
        LiveSummary {
            state: self.state,
            failed: self.failed,
            owner: self.config.get(OWNER_KEY).cloned(),
        }
    }
}

/// What the plan may touch and how configs compare.
#[derive(Clone, Debug)]
pub struct Options {
    /// Our [`OWNER_KEY`] value.
    pub owner: String,
    /// Keys left out of comparisons (server-added ones); `*` matches any run.
    pub ignore: Vec<String>,
    /// Delete owned connectors that are no longer declared.
    pub prune: bool,
    /// Allow a prune that deletes every owned connector (empty declared set).
    pub force: bool,
    /// The key of the fingerprint every written config carries.
    pub fingerprint: masked::FingerprintKey,
}

/// Keys Confluent Platform injects and bumps itself (peers §8), always ignored.
pub const BUILTIN_IGNORE: &[&str] = &["__internal.*"];

impl Options {
    /// Whether `key` is left out of comparisons.
    pub fn ignores(&self, key: &str) -> bool {
        BUILTIN_IGNORE
            .iter()
            .copied()
            .chain(self.ignore.iter().map(String::as_str))
            .any(|pattern| glob(pattern, key))
    }
}

/// `*` matches any run of characters; everything else is literal.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// One key's change between the live and the desired config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum KeyChange {
    Added {
        key: String,
        new: String,
    },
    Removed {
        key: String,
        old: String,
    },
    Changed {
        key: String,
        old: String,
        new: String,
    },
}

impl KeyChange {
    pub fn key(&self) -> &str {
        match self {
            Self::Added { key, .. } | Self::Removed { key, .. } | Self::Changed { key, .. } => key,
        }
    }
}

/// A state change through the pause/resume/stop endpoints (spec §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transition {
    Pause,
    Resume,
    Stop,
}

impl Transition {
    /// The transition from `live` to `desired`, if any.
    pub fn between(live: TargetState, desired: TargetState) -> Option<Self> {
        match (live, desired) {
            (l, d) if l == d => None,
            (_, TargetState::Running) => Some(Self::Resume),
            (_, TargetState::Paused) => Some(Self::Pause),
            (_, TargetState::Stopped) => Some(Self::Stop),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Stop => "stop",
        }
    }
}

/// What happens to one connector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Create with this config, in this state.
    Create { config: Config, state: TargetState },
    /// Replace the config (PUT), then change state if needed. `adopt`: the live
    /// connector was not ours before.
    Update {
        config: Config,
        changes: Vec<KeyChange>,
        then: Option<Transition>,
        adopt: bool,
    },
    /// Only a state change.
    Transition(Transition),
    /// Delete an owned connector no longer declared (`prune`).
    Delete,
    /// Nothing to do.
    Unchanged,
}

impl Op {
    /// Whether this op writes the config (and so needs validation first).
    pub fn writes_config(&self) -> Option<&Config> {
        match self {
            Self::Create { config, .. } | Self::Update { config, .. } => Some(config),
            _ => None,
        }
    }
}

/// One connector's entry in the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub op: Op,
}

/// The whole plan, in connector-name order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// The steps that change something.
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.op != Op::Unchanged)
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.changes().next().is_none()
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "refusing to prune every connector owned by {owner:?} ({count} of them): the declared set is empty; pass --force if that is really intended"
    )]
    PruneEverything { owner: String, count: usize },
    #[error("connector {0:?} is declared more than once")]
    Duplicate(String),
}

/// Whether `live` is managed by `owner`.
pub fn owned(live: &Live, owner: &str) -> bool {
    live.config.get(OWNER_KEY).map(String::as_str) == Some(owner)
}

/// The config as it will be written: `name` injected and the owner marker set.
pub fn to_write(desired: &Desired, owner: &str) -> Config {
    let mut config = desired.config.clone();
    config.insert("name".into(), desired.name.clone());
    config.insert(OWNER_KEY.into(), owner.into());
    config
}

/// The config a create writes: [`to_write`]'s, fingerprinted when the options say so
/// (also what a recreate PUTs back).
pub fn written(desired: &Desired, options: &Options) -> Config {
    masked::fingerprinted(to_write(desired, &options.owner), &options.fingerprint)
}

/// The config as compared: ignored keys and the fingerprint dropped (Connect injects
/// `name` on store, so a live config always has it, and [`to_write`] adds it to the
/// desired one).
pub fn comparable(config: &Config, options: &Options) -> Config {
    config
        .iter()
        .filter(|(k, _)| *k != masked::FINGERPRINT_KEY && !options.ignores(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Key-level changes from `old` to `new`, in key order.
pub fn key_changes(old: &Config, new: &Config) -> Vec<KeyChange> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|key| match (old.get(key), new.get(key)) {
            (None, Some(n)) => Some(KeyChange::Added {
                key: key.clone(),
                new: n.clone(),
            }),
            (Some(o), None) => Some(KeyChange::Removed {
                key: key.clone(),
                old: o.clone(),
            }),
            (Some(o), Some(n)) if o != n => Some(KeyChange::Changed {
                key: key.clone(),
                old: o.clone(),
                new: n.clone(),
            }),
            _ => None,
        })
        .collect()
}

impl Transition {
    /// The state this transition ends in.
    pub fn target(self) -> TargetState {
        match self {
            Self::Pause => TargetState::Paused,
            Self::Resume => TargetState::Running,
            Self::Stop => TargetState::Stopped,
        }
    }
}
