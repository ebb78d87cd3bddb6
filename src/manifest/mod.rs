//! Declared connectors: manifest files (JSON or YAML, Connect's REST shape or a
//! Strimzi `KafkaConnector`) loaded from files and directories, templated with
//! `{{ env.X }}` and `{{ vars.X }}`, and turned into [`Desired`] connectors. Every
//! error names the file and the document (and line/column where the parser knows it).

mod files;
pub mod limits;
mod load;
mod sandbox;
mod strimzi;
mod template;
mod vars;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fmt,
    path::{Path, PathBuf},
};

pub use files::read_bytes;
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
    /// A Strimzi resource's `spec.autoRestart` (read, not acted on yet).
    pub auto_restart: Option<AutoRestart>,
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

/// Everything declared, plus the `--vars` values (to scrub them from any output).
#[derive(Clone, Debug, Default)]
pub struct Manifests {
    pub connectors: Vec<Declared>,
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
    /// The runtime shut down before the blocking load ran.
    #[error("loading the manifests was interrupted (shutting down)")]
    Interrupted,
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

/// [`Inputs`] owned, to move to another thread.
#[derive(Clone, Debug)]
pub enum OwnedInputs {
    Files(Vec<PathBuf>),
    Documents(Vec<(PathBuf, String)>),
}

impl From<Inputs<'_>> for OwnedInputs {
    fn from(inputs: Inputs<'_>) -> Self {
        match inputs {
            Inputs::Files(files) => Self::Files(files.to_vec()),
            Inputs::Documents(documents) => Self::Documents(documents.to_vec()),
        }
    }
}

impl OwnedInputs {
    pub fn borrowed(&self) -> Inputs<'_> {
        match self {
            Self::Files(files) => Inputs::Files(files),
            Self::Documents(documents) => Inputs::Documents(documents),
        }
    }
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
    let mut declared = Declaring::default();
    match inputs {
        Inputs::Files(paths) => {
            for file in files::manifest_files(paths)? {
                let (raws, size) = load::connectors_in(&file)?;
                declared.count(&file, size)?;
                declared.add(raws, &context)?;
            }
        }
        Inputs::Documents(documents) => {
            for (name, text) in documents {
                declared.count(name, text.len() as u64)?;
                declared.add(load::connectors_in_text(name, text)?, &context)?;
            }
        }
    }
    let mut warnings = declared.warnings;
    warnings.extend(strimzi::auto_restart_notice(&declared.connectors));
    Ok(Manifests {
        connectors: declared.connectors,
        vars,
        warnings,
    })
}

/// The connectors declared so far, and where each name was first declared.
#[derive(Default)]
struct Declaring {
    connectors: Vec<Declared>,
    /// Index into `connectors` by name: the duplicate check is one lookup.
    by_name: HashMap<String, usize>,
    /// Bytes of the manifests read so far.
    bytes: u64,
    warnings: Vec<Warning>,
}

impl Declaring {
    /// Counts one manifest's `size`, refusing one over [`limits::MANIFEST_FILE_BYTES`]
    /// or all over [`limits::MANIFEST_TOTAL_BYTES`].
    fn count(&mut self, name: &Path, size: u64) -> Result<(), ManifestError> {
        self.bytes += size;
        let (limit, what) = match () {
            () if size > limits::MANIFEST_FILE_BYTES => {
                (limits::MANIFEST_FILE_BYTES, "larger than")
            }
            () if self.bytes > limits::MANIFEST_TOTAL_BYTES => (
                limits::MANIFEST_TOTAL_BYTES,
                "the manifests together exceed",
            ),
            () => return Ok(()),
        };
        let reason = format!("{what} the {} limit", files::bytes(limit));
        Err(files::io_error(name, reason))
    }

    /// Renders one file's `raws` and adds them, refusing duplicate names.
    fn add(&mut self, raws: Vec<load::Raw>, context: &Context) -> Result<(), ManifestError> {
        let mut rendered = template::Budget::per_file();
        for raw in raws {
            let (config, from_vars) = template::config(&raw, context, &mut rendered)?;
            self.warnings
                .extend(raw.extras.warnings.into_iter().map(|message| Warning {
                    location: raw.location.clone(),
                    connector: raw.name.clone(),
                    message,
                }));
            let connector = Declared {
                desired: Desired {
                    name: raw.name,
                    config,
                    state: raw.state,
                },
                location: raw.location,
                from_vars,
                auto_restart: raw.extras.auto_restart,
            };
            self.push(connector)?;
        }
        Ok(())
    }

    fn push(&mut self, new: Declared) -> Result<(), ManifestError> {
        let index = self.connectors.len();
        if let Some(&first) = self.by_name.get(&new.desired.name) {
            return Err(ManifestError::Duplicate {
                name: new.desired.name.clone(),
                first: self.connectors[first].location.to_string(),
                second: new.location.to_string(),
            });
        }
        self.by_name.insert(new.desired.name.clone(), index);
        self.connectors.push(new);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_bytes_are_capped_per_file_and_in_all() {
        let mut declared = Declaring::default();
        let big = Path::new("configmap/ns/big/a.yaml");
        let err = declared
            .count(big, limits::MANIFEST_FILE_BYTES + 1)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "configmap/ns/big/a.yaml: larger than the 4 MiB limit"
        );
        let mut declared = Declaring::default();
        for _ in 0..limits::MANIFEST_TOTAL_BYTES / limits::MANIFEST_FILE_BYTES {
            declared.count(big, limits::MANIFEST_FILE_BYTES).unwrap();
        }
        let err = declared.count(Path::new("last.yaml"), 1).unwrap_err();
        assert!(
            err.to_string().contains("together exceed the 64 MiB limit"),
            "{err}"
        );
    }
}
