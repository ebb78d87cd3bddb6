//! Finding manifest files and reading their documents into raw connectors: the Connect
//! REST shape `{"name", "config", "state"?}` or a Strimzi `KafkaConnector` resource.

use std::path::Path;

use serde_json::{Map, Value};
use serde_saphyr::Spanned;

use super::{
    Location, ManifestError,
    strimzi::{self, Extras},
};
use crate::{connect::facts::EXPECTED_TASKS_KEY, plan::TargetState};

/// A connector as written in a manifest, before templating.
#[derive(Clone, Debug, PartialEq)]
pub struct Raw {
    pub name: String,
    /// Values as parsed (strings, numbers, booleans, lists).
    pub config: Map<String, Value>,
    pub state: TargetState,
    pub location: Location,
    /// What a Strimzi resource adds: `spec.autoRestart`, warnings.
    pub extras: Extras,
}

/// The connectors declared in `text`, named `file` in errors (a path, or a ConfigMap
/// key such as `configmap/ns/name/key.yaml`); JSON when the name ends in `.json`.
pub fn connectors_in_text(file: &Path, text: &str) -> Result<Vec<Raw>, ManifestError> {
    let is_json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    documents(file, text, is_json)?
        .into_iter()
        .enumerate()
        .map(|(i, (line, value))| {
            let location = Location {
                file: file.to_path_buf(),
                document: i + 1,
                line,
            };
            shape(value, location)
        })
        .collect()
}

/// The documents of `text` (JSON when `json`, else YAML) with the line each starts at.
pub fn documents(
    file: &Path,
    text: &str,
    json: bool,
) -> Result<Vec<(Option<u64>, Value)>, ManifestError> {
    match json {
        true => json_documents(file, text),
        false => yaml_documents(file, text),
    }
}

/// A JSON file holds one object or an array of objects.
fn json_documents(file: &Path, text: &str) -> Result<Vec<(Option<u64>, Value)>, ManifestError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ManifestError::Syntax {
        path: file.display().to_string(),
        format: "JSON",
        at: format!(" at line {}, column {}", e.line(), e.column()),
        reason: strip_position(&e.to_string()),
    })?;
    Ok(match value {
        Value::Array(items) => items.into_iter().map(|v| (None, v)).collect(),
        other => vec![(Some(1), other)],
    })
}

/// `serde_json` appends ` at line L column C`; the position is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_string(),
        None => message.to_string(),
    }
}

/// YAML: one or many `---` documents; a document may also be a list of connectors.
fn yaml_documents(file: &Path, text: &str) -> Result<Vec<(Option<u64>, Value)>, ManifestError> {
    let documents: Vec<Spanned<Value>> =
        serde_saphyr::from_multiple(text).map_err(|e| yaml_error(file, text, &e))?;
    let mut out = Vec::new();
    for document in documents {
        let line = Some(document.referenced.line());
        match document.value {
            Value::Array(items) => out.extend(items.into_iter().map(|v| (line, v))),
            other => out.push((line, other)),
        }
    }
    Ok(out)
}

fn yaml_error(file: &Path, text: &str, e: &serde_saphyr::Error) -> ManifestError {
    let at = match e.location() {
        Some(loc) => {
            let document = document_at(text, loc.line());
            format!(
                " at document {document}, line {}, column {}",
                loc.line(),
                loc.column()
            )
        }
        None => String::new(),
    };
    ManifestError::Syntax {
        path: file.display().to_string(),
        format: "YAML",
        at,
        reason: match e.without_snippet() {
            serde_saphyr::Error::Budget { breach, .. } => budget_sentence(breach),
            other => first_line(&other.to_string()),
        },
    }
}

/// A YAML safety limit, as a sentence (the parser's own text is a Rust debug form).
fn budget_sentence(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let what = match breach {
        B::Documents { documents } => {
            format!("more than {} documents ({documents})", documents - 1)
        }
        B::Depth { depth } => format!("nesting deeper than {} levels", depth - 1),
        B::Nodes { nodes } => format!("more than {} values ({nodes})", nodes - 1),
        B::Aliases { aliases } => format!("more than {} aliases ({aliases})", aliases - 1),
        B::Anchors { anchors } => format!("more than {} anchors ({anchors})", anchors - 1),
        _ => "more YAML than the parser's safety limits allow".to_string(),
    };
    format!("the file holds {what}; split it into smaller files")
}

/// The 1-based document holding `line`: one more than the `---` markers above it
/// (a leading marker opens the first document).
fn document_at(text: &str, line: u64) -> usize {
    let lines: Vec<&str> = text.lines().take(line as usize).collect();
    let markers = lines.iter().filter(|l| l.starts_with("---")).count();
    let leading = text.trim_start().starts_with("---");
    (markers + usize::from(!leading)).max(1)
}

/// The message's first line without the `error: line L column C: ` prefix (the
/// position is reported separately).
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((_, reason)) => reason.to_string(),
        None => line.to_string(),
    }
}

/// Recognises one document's shape.
pub fn shape(value: Value, location: Location) -> Result<Raw, ManifestError> {
    let shape_error = |reason: String| ManifestError::Shape {
        location: location.to_string(),
        reason,
    };
    let Value::Object(map) = value else {
        return Err(shape_error(format!(
            "expected a connector object, found {}",
            kind(&value)
        )));
    };
    let parsed = match map.get("kind") {
        Some(_) => strimzi::parse(map),
        None => rest(map),
    };
    let resource = parsed.map_err(&shape_error)?;
    check_name(&resource.name).map_err(shape_error)?;
    Ok(Raw {
        name: resource.name,
        config: resource.config,
        state: resource.state,
        location,
        extras: resource.extras,
    })
}

type Parsed = Result<strimzi::Resource, String>;

/// `{"name": …, "config": {…}, "state": …, "expectedTasks": N, "autoRestart": {…}}`;
/// `tasks` and `type` (as in `GET /connectors/{name}` output) are accepted and ignored.
fn rest(mut map: Map<String, Value>) -> Parsed {
    const KEYS: [&str; 7] = [
        "name",
        "config",
        "state",
        "tasks",
        "type",
        "expectedTasks",
        "autoRestart",
    ];
    let unknown: Vec<&String> = map.keys().filter(|k| !KEYS.contains(&k.as_str())).collect();
    if !unknown.is_empty() || !map.contains_key("config") {
        return Err(format!(
            "unknown manifest shape: expected {{\"name\", \"config\", \"state\"?, \"expectedTasks\"?, \"autoRestart\"?}} or a Strimzi KafkaConnector (apiVersion kafka.strimzi.io/v1 or another GROUP/VERSION, kind KafkaConnector); found keys {:?}",
            map.keys().collect::<Vec<_>>()
        ));
    }
    let mut config = object(map.remove("config"), "config")?;
    expected_tasks(map.get("expectedTasks"), &mut config)?;
    let name = match map.get("name") {
        Some(v) => string(Some(v), "name")?,
        None => string(config.get("name"), "name (or config.name)")?,
    };
    check_config_name(&name, &config)?;
    let state = state(map.get("state"), "state")?;
    let auto_restart = strimzi::auto_restart(map.get("autoRestart"), "autoRestart")?;
    Ok(strimzi::Resource {
        name,
        config,
        state,
        extras: Extras {
            auto_restart,
            ..Extras::default()
        },
    })
}

/// `expectedTasks: N` (a whole number of 0 or more) is written to Connect as the
/// config key [`EXPECTED_TASKS_KEY`], where the health check reads it; a config that
/// sets the key to another value is refused.
fn expected_tasks(value: Option<&Value>, config: &mut Map<String, Value>) -> Result<(), String> {
    let Some(value) = value else {
        return Ok(());
    };
    let n = value
        .as_u64()
        .filter(|n| *n <= u64::from(u32::MAX))
        .ok_or_else(|| {
            format!("expectedTasks must be a whole number of 0 or more, found {value}")
        })?;
    let text = Value::String(n.to_string());
    match config.get(EXPECTED_TASKS_KEY) {
        Some(set) if set != &text && set.as_u64() != Some(n) => Err(format!(
            "expectedTasks {n} contradicts config.{EXPECTED_TASKS_KEY} {set}: set one of them"
        )),
        _ => {
            config.insert(EXPECTED_TASKS_KEY.to_string(), text);
            Ok(())
        }
    }
}

pub(super) fn object(value: Option<Value>, field: &str) -> Result<Map<String, Value>, String> {
    match value {
        Some(Value::Object(map)) => Ok(map),
        Some(other) => Err(format!("{field} must be an object, found {}", kind(&other))),
        None => Err(format!("{field} is missing")),
    }
}

pub(super) fn string(value: Option<&Value>, field: &str) -> Result<String, String> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::String(_)) => Err(format!("{field} is empty")),
        Some(other) => Err(format!("{field} must be a string, found {}", kind(other))),
        None => Err(format!("{field} is missing")),
    }
}

pub(super) fn state(value: Option<&Value>, field: &str) -> Result<TargetState, String> {
    match value {
        None | Some(Value::Null) => Ok(TargetState::Running),
        Some(Value::String(s)) => TargetState::parse(s)
            .ok_or_else(|| format!("{field} {s:?} is not one of running, paused, stopped")),
        Some(other) => Err(format!("{field} must be a string, found {}", kind(other))),
    }
}

/// `.` and `..` are dot segments in a URL path: `PUT /connectors/../config` is sent
/// as `PUT /config`, so such a connector could be created but never read or changed.
fn check_name(name: &str) -> Result<(), String> {
    match name {
        "." | ".." => Err(format!(
            "connector name {name:?} is refused: it cannot be addressed in Connect's REST paths"
        )),
        _ => Ok(()),
    }
}

/// Connect answers 400 when `config.name` differs from the connector's name (spec §3).
fn check_config_name(name: &str, config: &Map<String, Value>) -> Result<(), String> {
    match config.get("name") {
        Some(Value::String(inner)) if inner.trim() != name => Err(format!(
            "config.name {inner:?} does not match the connector name {name:?}"
        )),
        _ => Ok(()),
    }
}

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
