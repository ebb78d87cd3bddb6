//! Declared connectors: manifest files (JSON or YAML, Connect's REST shape or a
//! Strimzi `KafkaConnector`) loaded from files and directories, templated with
//! `{{ env.X }}` and `{{ vars.X }}`, and turned into [`Desired`] connectors. Every
//! error names the file and the document (and line/column where the parser knows it).

mod load;
mod template;
mod vars;

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    path::{Path, PathBuf},
};

pub use template::Context;
pub use vars::load_vars;

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
}

/// Everything declared, plus the `--vars` values (to scrub them from any output).
#[derive(Clone, Debug, Default)]
pub struct Manifests {
    pub connectors: Vec<Declared>,
    pub vars: BTreeMap<String, String>,
}

impl Manifests {
    /// The desired connectors.
    pub fn desired(&self) -> Vec<Desired> {
        self.connectors.iter().map(|d| d.desired.clone()).collect()
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
    #[error("no manifests (.json, .yaml, .yml) found in {0}")]
    Empty(String),
}

/// Where manifests are read from. Both end in the same load step.
#[derive(Clone, Copy, Debug)]
pub enum Inputs<'a> {
    /// Files and directories (`-f`).
    Files(&'a [PathBuf]),
    /// Documents already in memory, `(name, text)`: every key of every watched
    /// ConfigMap.
    Documents(&'a [(PathBuf, String)]),
}

/// Loads `--vars` and every manifest of `inputs`, rendered with `env` as
/// `{{ env.X }}` and checked (no name declared twice).
pub fn load(
    inputs: Inputs<'_>,
    vars_path: Option<&Path>,
    env: BTreeMap<String, String>,
) -> Result<Manifests, ManifestError> {
    let vars = vars_path.map_or_else(|| Ok(BTreeMap::new()), load_vars)?;
    let context = Context::new(env, vars.clone());
    let mut declared: Vec<Declared> = Vec::new();
    match inputs {
        Inputs::Files(paths) => {
            for file in load::files(paths)? {
                declare(load::connectors_in(&file)?, &context, &mut declared)?;
            }
        }
        Inputs::Documents(documents) => {
            for (name, text) in documents {
                let raws = load::connectors_in_text(name, text)?;
                declare(raws, &context, &mut declared)?;
            }
        }
    }
    Ok(Manifests {
        connectors: declared,
        vars,
    })
}

/// Renders `raws` and adds them to `declared`, refusing duplicate names.
fn declare(
    raws: Vec<load::Raw>,
    context: &Context,
    declared: &mut Vec<Declared>,
) -> Result<(), ManifestError> {
    for raw in raws {
        let (config, from_vars) = template::config(&raw, context)?;
        let connector = Declared {
            desired: Desired {
                name: raw.name,
                config,
                state: raw.state,
            },
            location: raw.location,
            from_vars,
        };
        refuse_duplicate(declared, &connector)?;
        declared.push(connector);
    }
    Ok(())
}

fn refuse_duplicate(declared: &[Declared], new: &Declared) -> Result<(), ManifestError> {
    match declared.iter().find(|d| d.desired.name == new.desired.name) {
        Some(first) => Err(ManifestError::Duplicate {
            name: new.desired.name.clone(),
            first: first.location.to_string(),
            second: new.location.to_string(),
        }),
        None => Ok(()),
    }
}
