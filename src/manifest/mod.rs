//! Declared connectors: manifest files (JSON or YAML, Connect's REST shape or a
//! Strimzi `KafkaConnector`) loaded from files and directories, templated with
//! `{{ env.X }}` and `{{ vars.X }}`, and turned into [`Desired`] connectors; ConfigMaps
//! (in files or from the API server) whose data keys are such documents or jq programs
//! (connect-operator's, [`jq`]). Every error names the file and the document (and
//! line/column where the parser knows it).

mod collect;
pub mod configmap;
mod declaring;
pub mod dialect;
mod files;
pub mod jq;
pub mod limits;
mod load;
mod sandbox;
pub mod selector;
mod strimzi;
mod template;
mod vars;

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    path::{Path, PathBuf},
};

pub use configmap::ConfigMapDoc;
pub use dialect::Template;
pub use files::read_bytes;
pub use selector::Selector;
pub use strimzi::AutoRestart;
pub use template::Context;
pub use vars::{load_vars, properties};

use crate::plan::{
    Desired,
    redact::{self, Redactor},
};

/// Where a connector was declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based index of the document in the file (YAML `---` or a JSON array element).
    pub document: usize,
    /// 1-based line where the document starts, when known.
    pub line: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (document {}", self.file.display(), self.document)?;
        match self.line {
            Some(line) => write!(f, ", line {line})"),
            None => f.write_str(")"),
        }
    }
}

/// One declared connector, rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    pub desired: Desired,
    pub location: Location,
    /// Keys whose rendered value used `{{ vars.… }}` (always redacted).
    pub from_vars: BTreeSet<String>,
    /// `autoRestart` (ours or Strimzi's `spec.autoRestart`): `reconcile` restarts it.
    pub auto_restart: Option<AutoRestart>,
}

/// A declared connector whose manifest enables `autoRestart`, and where it is declared
/// (the object a Kubernetes Event about its restarts is posted on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoRestarted {
    pub name: String,
    /// `maxRestarts`; `None`: unlimited.
    pub max_restarts: Option<u32>,
    pub location: Location,
}

/// Something a manifest does that is accepted but ignored in part (Strimzi's leniency:
/// a forbidden `spec.config` key, `spec.pause` beside `spec.state`, `spec.autoRestart`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub location: Location,
    pub connector: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            location,
            connector,
            message,
        } = self;
        write!(f, "{location}: connector {connector:?}: {message}")
    }
}

/// A connector a disabled ConfigMap (`enabled: "false"`) names: declared absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retired {
    pub name: String,
    pub location: Location,
}

/// Everything declared, plus the `--vars` values (to scrub them from any output).
#[derive(Clone, Debug, Default)]
pub struct Manifests {
    pub connectors: Vec<Declared>,
    /// Connectors of disabled ConfigMaps.
    pub retired: Vec<Retired>,
    pub vars: BTreeMap<String, String>,
    /// What was accepted but ignored, in file order; printed by `diff` and `apply`,
    /// logged by `reconcile`.
    pub warnings: Vec<Warning>,
}

impl Manifests {
    /// The desired connectors.
    pub fn desired(&self) -> Vec<Desired> {
        self.connectors.iter().map(|d| d.desired.clone()).collect()
    }

    /// The declared connectors whose manifest enables `autoRestart` (`reconcile`
    /// restarts them when they fail), in declaration order.
    pub fn auto_restarted(&self) -> Vec<AutoRestarted> {
        self.connectors
            .iter()
            .filter_map(|d| {
                let auto = d.auto_restart.filter(|a| a.enabled)?;
                Some(AutoRestarted {
                    name: d.desired.name.clone(),
                    max_restarts: auto.max_restarts,
                    location: d.location.clone(),
                })
            })
            .collect()
    }

    /// The names of the connectors disabled ConfigMaps name.
    pub fn retired_names(&self) -> BTreeSet<String> {
        self.retired.iter().map(|r| r.name.clone()).collect()
    }

    /// A redactor that knows every `--vars` value, every templated key, and the
    /// declared values of secret-looking keys (an `{{ env.X }}` password included), so
    /// Connect's error messages that echo a config lose them too.
    pub fn redactor(&self) -> Redactor {
        let from_vars = self
            .connectors
            .iter()
            .map(|d| (d.desired.name.clone(), d.from_vars.clone()))
            .collect();
        let declared_secrets = self
            .connectors
            .iter()
            .flat_map(|d| &d.desired.config)
            .filter(|(key, _)| redact::secret_looking(key))
            .map(|(_, value)| value.clone());
        Redactor::new(
            self.vars.values().cloned().chain(declared_secrets),
            from_vars,
        )
    }
}

/// Why the manifests cannot be used. Messages never hold a `--vars` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{path}: invalid {format}{at}: {reason}")]
    Syntax {
        path: String,
        format: &'static str,
        /// ` at document N, line L, column C`, as far as known.
        at: String,
        reason: String,
    },
    #[error("{location}: {reason}")]
    Shape { location: String, reason: String },
    #[error("connector {name:?} is declared twice: in {first} and in {second}")]
    Duplicate {
        name: String,
        first: String,
        second: String,
    },
    #[error("{location}: connector {connector:?}, key {key:?}: {reason}")]
    Template {
        location: String,
        connector: String,
        key: String,
        reason: String,
    },
    #[error("--vars {path}: {reason}")]
    Vars { path: String, reason: String },
    /// A jq program that does not compile, fails, outputs no connector JSON, or was
    /// stopped; `at` is ` at line L, column C` where jq knows it.
    #[error("{document}: {what}{at}: {reason}")]
    Jq {
        document: String,
        what: &'static str,
        at: String,
        reason: String,
    },
    #[error("no manifests (.json, .yaml, .yml, .jq) found in {0}")]
    Empty(String),
    /// The runtime shut down before the blocking load ran.
    #[error("loading the manifests was interrupted (shutting down)")]
    Interrupted,
}

/// Where manifests are read from. All end in the same load step.
#[derive(Clone, Copy, Debug)]
pub enum Inputs<'a> {
    /// Files and directories (`-f`).
    Files(&'a [PathBuf]),
    /// Documents already in memory, `(name, text)`, each read as a ConfigMap key.
    Documents(&'a [(PathBuf, String)]),
    /// ConfigMaps the API server selected (`reconcile --source configmaps`).
    ConfigMaps(&'a [ConfigMapDoc]),
}

/// [`Inputs`] owned, to move to another thread.
#[derive(Clone, Debug)]
pub enum OwnedInputs {
    Files(Vec<PathBuf>),
    Documents(Vec<(PathBuf, String)>),
    ConfigMaps(Vec<ConfigMapDoc>),
}

impl From<Inputs<'_>> for OwnedInputs {
    fn from(inputs: Inputs<'_>) -> Self {
        match inputs {
            Inputs::Files(files) => Self::Files(files.to_vec()),
            Inputs::Documents(documents) => Self::Documents(documents.to_vec()),
            Inputs::ConfigMaps(maps) => Self::ConfigMaps(maps.to_vec()),
        }
    }
}

impl OwnedInputs {
    pub fn borrowed(&self) -> Inputs<'_> {
        match self {
            Self::Files(files) => Inputs::Files(files),
            Self::Documents(documents) => Inputs::Documents(documents),
            Self::ConfigMaps(maps) => Inputs::ConfigMaps(maps),
        }
    }
}

/// How documents are read: their dialect, which ConfigMaps in files count, and the
/// jq worker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `--template`.
    pub template: Template,
    /// `--selector`: the ConfigMaps in manifest files that hold connectors.
    pub selector: Selector,
    pub jq: jq::JqRunner,
}

/// [`load_with`] with the default [`Options`] (no jq worker).
pub fn load(
    inputs: Inputs<'_>,
    vars_path: Option<&Path>,
    env: BTreeMap<String, String>,
) -> Result<Manifests, ManifestError> {
    load_with(inputs, vars_path, env, &Options::default())
}

/// Loads `--vars` and every manifest of `inputs`, rendered with `env` as
/// `{{ env.X }}` (jq programs run with both), and checked (no name declared twice).
pub fn load_with(
    inputs: Inputs<'_>,
    vars_path: Option<&Path>,
    env: BTreeMap<String, String>,
    options: &Options,
) -> Result<Manifests, ManifestError> {
    let vars = vars_path.map_or_else(|| Ok(BTreeMap::new()), load_vars)?;
    let mut declared = declaring::Declaring::default();
    let mut collect = collect::Collect::new(options);
    match inputs {
        Inputs::Files(paths) => {
            for file in files::manifest_files(paths)? {
                let text = files::read_text(&file, limits::MANIFEST_FILE_BYTES)
                    .map_err(|reason| files::io_error(&file, reason))?;
                declared.count(&file, text.len() as u64)?;
                collect.file(&file, &text)?;
            }
        }
        Inputs::Documents(documents) => {
            for (name, text) in documents {
                declared.count(name, text.len() as u64)?;
                collect.document(name, text)?;
            }
        }
        Inputs::ConfigMaps(maps) => {
            for map in maps {
                let size = map.data.values().map(|t| t.len() as u64).sum();
                declared.count(Path::new(&map.id()), size)?;
                collect.configmap(map, None)?;
            }
        }
    }
    let resolved = collect.resolve(&vars, &env)?;
    let context = Context::new(env, vars.clone());
    let scrub = declaring::Scrub::new(&vars);
    for entry in resolved {
        declared.entry(entry, &context, &scrub)?;
    }
    Ok(Manifests {
        connectors: declared.connectors,
        retired: declared.retired,
        vars,
        warnings: declared.warnings,
    })
}
