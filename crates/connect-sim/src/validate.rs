//! Connector config validation (spec §14), shared by `PUT …/config/validate` and by
//! create/replace (spec §3 steps 1–4): the common `ConnectorConfig` keys, the sink or
//! source extras, then the plugin's own keys.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{
    catalogue::{COMMON, SINK, SOURCE},
    config::Version,
    plugin_version,
    plugins::{self, Def, Dflt, Kind, Plugin},
};

/// A submitted config: values may be JSON `null` (spec §14 error strings).
pub type RawConfig = BTreeMap<String, Option<String>>;

/// Why validation could not even produce a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// No `connector.class`: POST/PUT answer 400, validate answers 500 (spec §3, §14).
    NoConnectorType,
    /// `connector.class` names no installed connector: 500 (spec §3 step 4).
    UnknownClass(String),
    /// 4.1+: `connector.plugin.version` is no version range (Connect's message).
    BadVersionRange(String),
}

/// The result of validating a config: the JSON body of a validate response and the
/// error strings in order.
#[derive(Debug, Clone)]
pub struct Report {
    pub plugin: &'static Plugin,
    pub body: Value,
    pub errors: Vec<String>,
}

/// The Connect worker group id the simulated cluster runs under.
pub const WORKER_GROUP: &str = "connect-cluster";

/// Validates `config` as a worker of version `kafka` does; `Err` when there is no
/// result at all (no or unknown class, or a plugin version that is not installed).
pub fn validate(config: &RawConfig, kafka: Version) -> Result<Report, Invalid> {
    let class = match config.get("connector.class") {
        Some(Some(class)) if !class.trim().is_empty() => class.trim(),
        _ => return Err(Invalid::NoConnectorType),
    };
    let plugin =
        plugins::find_connector(class).ok_or_else(|| Invalid::UnknownClass(class.into()))?;
    let pinned = config.get(plugin_version::KEY).cloned().flatten();
    let versioned = kafka.at_least(4, 1);
    // A version no plugin has: the class and the version key both carry the error.
    let mut version_error = None;
    if versioned && let Some(spec) = &pinned {
        version_error = plugin_version::missing(plugin, spec, &kafka.to_string())
            .map_err(Invalid::BadVersionRange)?;
    }
    let defs: Vec<&Def> = COMMON
        .iter()
        .chain(kind_defs(plugin.kind))
        .chain(plugin.defs)
        .collect();
    let mut configs = Vec::with_capacity(defs.len());
    let mut errors = Vec::new();
    for (i, def) in defs.iter().enumerate() {
        let value = config.get(def.name);
        let mut errs = check(def, value);
        errs.extend(cross_checks(def.name, plugin.kind, config));
        if def.name == "connector.class" {
            errs.extend(version_error.clone());
        }
        errors.extend(errs.iter().cloned());
        configs.push(
            json!({"definition": def.to_json(i + 1, kafka), "value": value_json(def, value, errs)}),
        );
        if versioned && def.name == "connector.class" {
            let errs: Vec<String> = version_error.iter().cloned().collect();
            errors.extend(errs.iter().cloned());
            configs.push(json!({
                "definition": plugin_version::definition(plugin, kafka, i + 1),
                "value": plugin_version::value(plugin, &kafka.to_string(), pinned.as_deref(), errs),
            }));
        }
    }
    let body = json!({
        "name": class, "error_count": errors.len(), "groups": groups(&defs), "configs": configs,
    });
    Ok(Report {
        plugin,
        body,
        errors,
    })
}

fn kind_defs(kind: Kind) -> &'static [Def] {
    match kind {
        Kind::Sink => SINK,
        Kind::Source => SOURCE,
        _ => &[],
    }
}

fn groups(defs: &[&Def]) -> Vec<&'static str> {
    let mut groups: Vec<&'static str> = Vec::new();
    for def in defs {
        if !groups.contains(&def.group) {
            groups.push(def.group);
        }
    }
    groups
}

/// The error strings for one key's value (spec §14 typical error strings).
fn check(def: &Def, value: Option<&Option<String>>) -> Vec<String> {
    let v = match value {
        None if matches!(def.default, Dflt::Required) => {
            return vec![format!(
                "Missing required configuration \"{}\" which has no default value.",
                def.name
            )];
        }
        None => return vec![],
        Some(None) => {
            return vec!["Null value can not be supplied as the configuration value.".into()];
        }
        Some(Some(v)) => v,
    };
    let invalid = |reason: &str| {
        vec![format!(
            "Invalid value {v} for configuration {}: {reason}",
            def.name
        )]
    };
    match def.ty {
        "INT" | "SHORT" | "LONG" => match v.trim().parse::<i64>() {
            // The parse failure leaves null, which tasks.max's range validator refuses too.
            Err(_) if def.name == "tasks.max" => vec![
                invalid(&format!("Not a number of type {}", def.ty)).remove(0),
                format!(
                    "Invalid value null for configuration {}: Value must be non-null",
                    def.name
                ),
            ],
            Err(_) => invalid(&format!("Not a number of type {}", def.ty)),
            Ok(n) if def.name == "tasks.max" && n < 1 => invalid("Value must be at least 1"),
            Ok(_) => vec![],
        },
        "BOOLEAN" if !matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false") => {
            invalid("Expected value to be either true or false")
        }
        "CLASS" if !v.trim().is_empty() && !v.contains('.') => {
            invalid(&format!("Class {v} could not be found."))
        }
        _ if def.name == "name" && v.trim().is_empty() => invalid("String may not be empty"),
        _ if def.name == "name" && v.chars().any(char::is_control) => invalid(
            "String may not contain control sequences but had the following ASCII control values: 0",
        ),
        _ => vec![],
    }
}

/// Checks that span keys: a sink needs exactly one of `topics`/`topics.regex`, and its
/// consumer group must not be the worker group.
fn cross_checks(key: &str, kind: Kind, config: &RawConfig) -> Vec<String> {
    let set = |k: &str| {
        config
            .get(k)
            .and_then(|v| v.as_deref())
            .is_some_and(|v| !v.trim().is_empty())
    };
    match (kind, key) {
        (Kind::Sink, "topics" | "topics.regex") if !set("topics") && !set("topics.regex") => {
            vec!["Must configure one of topics or topics.regex".into()]
        }
        (Kind::Sink, "topics" | "topics.regex") if set("topics") && set("topics.regex") => {
            vec!["topics and topics.regex are mutually exclusive options, but both are set.".into()]
        }
        (Kind::Sink, "name") => match config.get("name").cloned().flatten() {
            Some(name) if format!("connect-{name}") == WORKER_GROUP => vec![format!(
                "Consumer group for sink connector named {name} conflicts with Connect worker group {WORKER_GROUP}"
            )],
            _ => vec![],
        },
        _ => vec![],
    }
}

/// The `value` object: PASSWORD values show as `[hidden]`, unset keys show their default.
fn value_json(def: &Def, value: Option<&Option<String>>, errors: Vec<String>) -> Value {
    let shown = match (value, def.default) {
        (Some(Some(_)), _) if def.ty == "PASSWORD" => json!("[hidden]"),
        (Some(Some(v)), _) => json!(v),
        (None, Dflt::Value(default)) => json!(default),
        _ => Value::Null,
    };
    json!({"name": def.name, "value": shown, "recommended_values": [], "errors": errors, "visible": true})
}

/// The 400 message of a create/replace whose config has errors (spec §3 step 2).
pub fn invalid_config_message(errors: &[String]) -> String {
    let mut message = format!(
        "Connector configuration is invalid and contains the following {} error(s):",
        errors.len()
    );
    for error in errors {
        message.push('\n');
        message.push_str(error);
    }
    message.push_str("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`");
    message
}

/// `{k=v, k2=v2}`: how Java prints a config map in the "contains no connector type" error.
/// It echoes every value, secrets included, exactly as Connect does (spec §3 step 3).
pub fn java_map(config: &RawConfig) -> String {
    let entries: Vec<String> = config
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null")))
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// The unknown-class message (spec §3 step 4).
pub fn unknown_class_message(class: &str, kafka_version: &str) -> String {
    let available: Vec<String> = plugins::all()
        .iter()
        .filter(|p| p.kind.is_connector())
        .map(|p| p.desc(kafka_version))
        .collect();
    format!(
        "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
        available.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate_39(config: &RawConfig) -> Result<Report, Invalid> {
        validate(config, Version::new(3, 9, 0))
    }

    fn raw(pairs: &[(&str, &str)]) -> RawConfig {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect()
    }

    #[test]
    fn missing_required_keys_are_reported_in_order() {
        let report = validate_39(&raw(&[("connector.class", "FileStreamSink")])).unwrap();
        assert_eq!(
            report.errors[0],
            "Missing required configuration \"name\" which has no default value."
        );
        assert!(
            report
                .errors
                .contains(&"Must configure one of topics or topics.regex".to_string())
        );
        assert_eq!(report.body["error_count"], report.errors.len());
    }

    #[test]
    fn passwords_are_hidden_and_defaults_shown() {
        let config = raw(&[
            ("connector.class", "JdbcSink"),
            ("name", "n"),
            ("topics", "t"),
            ("connection.url", "jdbc:x"),
            ("connection.password", "s3cret"),
        ]);
        let report = validate_39(&config).unwrap();
        let value = |key: &str| {
            report.body["configs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["value"]["name"] == key)
                .unwrap()["value"]["value"]
                .clone()
        };
        assert_eq!(value("connection.password"), "[hidden]");
        assert_eq!(value("tasks.max"), "1");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    #[test]
    fn bad_numbers_and_missing_class_are_errors() {
        let report = validate_39(&raw(&[
            ("connector.class", "FileStreamSink"),
            ("tasks.max", "x"),
        ]))
        .unwrap();
        assert!(report.errors.contains(
            &"Invalid value x for configuration tasks.max: Not a number of type INT".into()
        ));
        assert_eq!(
            validate_39(&raw(&[("name", "a")])).unwrap_err(),
            Invalid::NoConnectorType
        );
        assert!(matches!(
            validate_39(&raw(&[("connector.class", "Nope")])),
            Err(Invalid::UnknownClass(_))
        ));
    }
}
