//! The middle of the one load step: every manifest file, bare document and ConfigMap
//! (from a file or from the API server) becomes entries in declaration order, each
//! either parsed connectors (JSON/YAML, templated later) or a jq program. ConfigMaps in
//! files are selected with `--selector` (the API server selects the others); every
//! data key is a document of the dialect [`dialect::detect`] picks. [`Collect::resolve`]
//! then runs every jq program in one worker and turns their output into connectors.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde_json::Value;

use super::{
    Location, ManifestError, Options,
    configmap::{self, ConfigMapDoc, Enabled},
    dialect::{self, Dialect},
    jq::{self, Failure, FailureKind},
    load::{self, Raw},
};
use crate::plan::redact::{self, Redactor};

/// The connectors of one entry, and whether they are declared or disabled.
#[derive(Debug)]
pub struct Resolved {
    pub raws: Vec<Raw>,
    pub enabled: Enabled,
    /// The values came out of jq: already rendered, not templates.
    pub rendered: bool,
}

/// Entries so far, in order.
pub struct Collect<'a> {
    options: &'a Options,
    entries: Vec<Entry>,
}

struct Entry {
    enabled: Enabled,
    body: Body,
}

enum Body {
    Parsed(Vec<Raw>),
    Jq {
        document: String,
        code: String,
        /// Set when the text was tried as JSON first, with where JSON failed: that
        /// error is reported when jq fails no later in the text.
        json_error: Option<(ManifestError, (usize, usize))>,
    },
}

impl<'a> Collect<'a> {
    pub fn new(options: &'a Options) -> Self {
        Self {
            options,
            entries: Vec::new(),
        }
    }

    /// A manifest file: connectors, ConfigMaps (their keys are documents), or a program.
    pub fn file(&mut self, file: &Path, text: &str) -> Result<(), ManifestError> {
        let name = file.display().to_string();
        let documents = match dialect::detect(&name, self.options.template, false) {
            Dialect::Jq => return self.jq(name, text, None, Enabled::Yes),
            Dialect::JsonElseJq => match load::documents(file, text, true) {
                Ok(documents) => documents,
                Err(e) => return self.jq(name, text, Some(e), Enabled::Yes),
            },
            dialect => load::documents(file, text, dialect == Dialect::Json)?,
        };
        let connectors = self.documents(file, documents)?;
        self.entries.push(Entry {
            enabled: Enabled::Yes,
            body: Body::Parsed(connectors),
        });
        Ok(())
    }

    /// A file's documents: connectors are returned, selected ConfigMaps added as
    /// entries of their own, other resources skipped.
    fn documents(
        &mut self,
        file: &Path,
        documents: Vec<(Option<u64>, Value)>,
    ) -> Result<Vec<Raw>, ManifestError> {
        let mut connectors = Vec::new();
        for (i, (line, value)) in documents.into_iter().enumerate() {
            let location = Location {
                file: file.to_path_buf(),
                document: i + 1,
                line,
            };
            let mut kinds = Vec::new();
            configmap::classify(value, &mut kinds);
            for kind in kinds {
                match kind {
                    configmap::Kind::Connector(value) => {
                        connectors.push(load::shape(value, location.clone())?)
                    }
                    configmap::Kind::ConfigMap(value) => {
                        let doc = ConfigMapDoc::from_value(&value)
                            .map_err(|reason| shape_error(&location, reason))?;
                        if self.options.selector.matches(&doc.labels) {
                            self.configmap(&doc, Some(file))?;
                        }
                    }
                    configmap::Kind::Other { kind } => {
                        tracing::debug!(file = %location, kind, "not a connector: skipped")
                    }
                }
            }
        }
        Ok(connectors)
    }

    /// A bare document (a ConfigMap key given as text, its name ending in the key).
    pub fn document(&mut self, name: &Path, text: &str) -> Result<(), ManifestError> {
        let document = name.display().to_string();
        self.key(document, &name.to_string_lossy(), text, Enabled::Yes)
    }

    /// Every key of a selected ConfigMap (`file`: the manifest file it is in).
    pub fn configmap(
        &mut self,
        doc: &ConfigMapDoc,
        file: Option<&Path>,
    ) -> Result<(), ManifestError> {
        let enabled = doc.enabled().map_err(|reason| ManifestError::Shape {
            location: file.map_or_else(|| doc.id(), |f| format!("{}: {}", f.display(), doc.id())),
            reason,
        })?;
        for (key, text) in &doc.data {
            self.key(doc.document(file, key), key, text, enabled)?;
        }
        Ok(())
    }

    fn key(
        &mut self,
        document: String,
        key: &str,
        text: &str,
        enabled: Enabled,
    ) -> Result<(), ManifestError> {
        let path = PathBuf::from(&document);
        let parsed = match dialect::detect(key, self.options.template, true) {
            Dialect::Jq => return self.jq(document, text, None, enabled),
            Dialect::JsonElseJq => match load::connectors_in_text(&path, text) {
                Err(e @ ManifestError::Syntax { .. }) => {
                    return self.jq(document, text, Some(e), enabled);
                }
                parsed => parsed?,
            },
            Dialect::Json | Dialect::Yaml => load::connectors_in_text(&path, text)?,
        };
        self.entries.push(Entry {
            enabled,
            body: Body::Parsed(parsed),
        });
        Ok(())
    }

    fn jq(
        &mut self,
        document: String,
        code: &str,
        json_error: Option<ManifestError>,
        enabled: Enabled,
    ) -> Result<(), ManifestError> {
        let json_error = json_error.map(|e| (e, json_position(code)));
        self.entries.push(Entry {
            enabled,
            body: Body::Jq {
                document,
                code: code.to_string(),
                json_error,
            },
        });
        Ok(())
    }

    /// Runs every jq program (one worker for all) and returns every entry's connectors
    /// in order. jq errors are redacted with `vars` and the secret-looking `env` values.
    pub fn resolve(
        self,
        vars: &BTreeMap<String, String>,
        env: &BTreeMap<String, String>,
    ) -> Result<Vec<Resolved>, ManifestError> {
        let programs: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|e| match &e.body {
                Body::Jq { code, .. } => Some(code.as_str()),
                Body::Parsed(_) => None,
            })
            .collect();
        let mut outputs = match programs.is_empty() {
            true => Vec::new(),
            false => self.run(&programs, vars, env)?,
        }
        .into_iter();
        let mut resolved = Vec::with_capacity(self.entries.len());
        for entry in self.entries {
            let (raws, rendered) = match entry.body {
                Body::Parsed(raws) => (raws, false),
                Body::Jq { document, .. } => {
                    let values = outputs.next().unwrap_or_default();
                    (connectors(&document, values)?, true)
                }
            };
            resolved.push(Resolved {
                raws,
                enabled: entry.enabled,
                rendered,
            });
        }
        Ok(resolved)
    }

    fn run(
        &self,
        programs: &[&str],
        vars: &BTreeMap<String, String>,
        env: &BTreeMap<String, String>,
    ) -> Result<Vec<Vec<Value>>, ManifestError> {
        let bindings = jq::bindings(vars, env).map_err(|reason| ManifestError::Vars {
            path: "(jq names)".into(),
            reason,
        })?;
        jq::run(&self.options.jq, &bindings, programs).map_err(|(index, failure)| {
            let entry = self
                .entries
                .iter()
                .filter_map(|e| match &e.body {
                    Body::Jq {
                        document,
                        json_error,
                        ..
                    } => Some((document, json_error)),
                    Body::Parsed(_) => None,
                })
                .nth(index);
            let (document, json_error) =
                entry.map_or((String::new(), None), |(d, j)| (d.clone(), j.clone()));
            jq_error(document, failure, json_error, &scrubber(vars, env))
        })
    }
}

/// The connectors a program output: each value a connector, or a list of them.
fn connectors(document: &str, values: Vec<Value>) -> Result<Vec<Raw>, ManifestError> {
    let values = values.into_iter().flat_map(|v| match v {
        Value::Array(items) => items,
        other => vec![other],
    });
    values
        .enumerate()
        .map(|(i, value)| {
            let location = Location {
                file: PathBuf::from(document),
                document: i + 1,
                line: None,
            };
            load::shape(value, location)
        })
        .collect()
}

fn shape_error(location: &Location, reason: String) -> ManifestError {
    ManifestError::Shape {
        location: location.to_string(),
        reason,
    }
}

/// Cuts `--vars` values and secret-looking environment values out of jq's messages
/// (a runtime error may quote the value it failed on).
fn scrubber(vars: &BTreeMap<String, String>, env: &BTreeMap<String, String>) -> Redactor {
    let secrets = env
        .iter()
        .filter(|(name, _)| redact::secret_looking(name))
        .map(|(_, value)| value.clone());
    Redactor::new(vars.values().cloned().chain(secrets), BTreeMap::new())
}

/// Where `text` stops being JSON (1-based line and column).
fn json_position(text: &str) -> (usize, usize) {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => (usize::MAX, usize::MAX),
        Err(e) => (e.line(), e.column()),
    }
}

/// The error of a failed program. A text tried as JSON first that jq could not read
/// either is reported as the JSON it more likely was meant to be (jq failed no later
/// than JSON did), with what jq said after it; else as jq.
fn jq_error(
    document: String,
    failure: Failure,
    json_error: Option<(ManifestError, (usize, usize))>,
    scrub: &Redactor,
) -> ManifestError {
    let message = scrub.text(&failure.message);
    let at = failure
        .at
        .map(|(line, column)| format!(" at line {line}, column {column}"))
        .unwrap_or_default();
    let json_first = match (&json_error, failure.at) {
        (Some((_, json_at)), Some(jq_at)) => jq_at <= *json_at,
        _ => true,
    };
    match (json_error.map(|(e, _)| e), failure.kind) {
        (
            Some(ManifestError::Syntax {
                path,
                format,
                at: json_at,
                reason,
            }),
            FailureKind::Syntax,
        ) if json_first => ManifestError::Syntax {
            path,
            format,
            at: json_at,
            reason: format!("{reason} (nor is it a jq program:{at} {message})"),
        },
        (Some(json_error), FailureKind::NoWorker) => json_error,
        (_, kind) => ManifestError::Jq {
            document,
            what: match kind {
                FailureKind::Syntax | FailureKind::Undefined => "invalid jq program",
                FailureKind::Runtime => "jq program failed",
                FailureKind::Output => "unusable jq output",
                FailureKind::Stopped | FailureKind::NoWorker => "jq program stopped",
            },
            at,
            reason: message,
        },
    }
}
