//! Strimzi `KafkaConnector` resources, read the way Strimzi's operator reads them
//! (checked against strimzi-kafka-operator 1.2: `AbstractConnectorSpec`,
//! `KafkaConnectorConfiguration`, the connector operator's `asJson`):
//!
//! - any API group (`kafka.strimzi.io`, IBM's `eventstreams.ibm.com`, …) with the
//!   versions Strimzi served, `v1alpha1`, `v1beta2` and `v1`;
//! - `spec.config` keys Strimzi forbids (`name`, `connector.class`, `tasks.max`,
//!   `connector.plugin.version`, compared lower-cased, as Strimzi does) are dropped with
//!   a warning, and `metadata.name`, `spec.class`, `spec.tasksMax` and `spec.version`
//!   set them instead;
//! - `spec.state` wins over the deprecated `spec.pause` (v1alpha1, v1beta2; v1 has no
//!   `pause`);
//! - `spec.autoRestart` is read and kept on the declared connector.
//!
//! Pure: a JSON object in, the connector and its warnings out.

use serde_json::{Map, Value};

use super::load::{kind, object, state, string};
use crate::plan::TargetState;

/// Strimzi's automatic restart of failed connectors and tasks (`spec.autoRestart`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoRestart {
    /// `enabled` (Strimzi's default when the object is there: true).
    pub enabled: bool,
    /// `maxRestarts`; `None`: unlimited.
    pub max_restarts: Option<u32>,
}

/// What a resource carries besides its name, config and state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    pub auto_restart: Option<AutoRestart>,
    /// Warnings about this document (what was ignored, and why).
    pub warnings: Vec<String>,
}

/// A connector read from one document, in Connect's terms (either shape: [`parse`]
/// reads a `KafkaConnector`, `load` the REST shape).
#[derive(Debug)]
pub struct Resource {
    pub name: String,
    pub config: Map<String, Value>,
    pub state: TargetState,
    pub extras: Extras,
}

/// The KafkaConnector API versions Strimzi has served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ApiVersion {
    V1Alpha1,
    V1Beta2,
    V1,
}

/// `spec.config` keys Strimzi drops, and what sets each instead.
const FORBIDDEN: [(&str, &str); 4] = [
    ("name", "metadata.name names the connector"),
    ("connector.class", "spec.class sets it"),
    ("tasks.max", "spec.tasksMax sets it"),
    ("connector.plugin.version", "spec.version sets it"),
];

/// `spec` fields copied into the config, and the key each becomes.
const FROM_SPEC: [(&str, &str); 2] = [
    ("tasksMax", "tasks.max"),
    ("version", "connector.plugin.version"),
];

/// Reads a document that has a `kind`: a `KafkaConnector` of any group.
pub fn parse(mut map: Map<String, Value>) -> Result<Resource, String> {
    let api = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    let version = api_version(api, kind)?;
    let metadata = object(map.remove("metadata"), "metadata")?;
    let mut spec = object(map.remove("spec"), "spec")?;
    let name = string(metadata.get("name"), "metadata.name")?;
    let mut warnings = Vec::new();
    let mut config = match spec.remove("config") {
        None | Some(Value::Null) => Map::new(),
        some => object(some, "spec.config")?,
    };
    drop_forbidden(&mut config, &mut warnings);
    let class = spec.remove("class").ok_or("spec.class is missing")?;
    config.insert("connector.class".into(), class);
    for (field, key) in FROM_SPEC {
        match spec.remove(field) {
            None | Some(Value::Null) => {}
            Some(value) => {
                config.insert(key.into(), value);
            }
        }
    }
    let state = target_state(&spec, version, &mut warnings)?;
    let auto_restart = auto_restart(spec.get("autoRestart"), "spec.autoRestart")?;
    Ok(Resource {
        name,
        config,
        state,
        extras: Extras {
            auto_restart,
            warnings,
        },
    })
}

/// `group/version` with a non-empty group, kind `KafkaConnector` and a version
/// Strimzi served.
fn api_version(api: &str, kind: &str) -> Result<ApiVersion, String> {
    let split = api.rsplit_once('/').filter(|(group, _)| !group.is_empty());
    let (Some((_, version)), "KafkaConnector") = (split, kind) else {
        return Err(format!(
            "unknown manifest shape: apiVersion {api:?} kind {kind:?}; only KafkaConnector resources (GROUP/v1, v1beta2 or v1alpha1, e.g. kafka.strimzi.io/v1) are read"
        ));
    };
    match version {
        "v1alpha1" => Ok(ApiVersion::V1Alpha1),
        "v1beta2" => Ok(ApiVersion::V1Beta2),
        "v1" => Ok(ApiVersion::V1),
        other => Err(format!(
            "apiVersion {api:?}: KafkaConnector version {other:?} is not one Strimzi served; use v1 (or v1beta2, v1alpha1)"
        )),
    }
}

/// Drops the keys Strimzi forbids in `spec.config` (matched lower-cased, as Strimzi
/// does), one warning each.
fn drop_forbidden(config: &mut Map<String, Value>, warnings: &mut Vec<String>) {
    let forbidden = |key: &str| {
        let lower = key.to_lowercase();
        FORBIDDEN
            .iter()
            .find(|(k, _)| *k == lower)
            .map(|(_, why)| *why)
    };
    config.retain(|key, _| match forbidden(key) {
        None => true,
        Some(why) => {
            warnings.push(format!(
                "spec.config key {key:?} is ignored, as Strimzi ignores it ({why})"
            ));
            false
        }
    });
}

/// `spec.state` (running, paused, stopped) and the deprecated `spec.pause`: state wins
/// when both are set; v1 has no `pause` at all (the API server would prune it).
fn target_state(
    spec: &Map<String, Value>,
    version: ApiVersion,
    warnings: &mut Vec<String>,
) -> Result<TargetState, String> {
    let declared = match spec.get("state") {
        None | Some(Value::Null) => None,
        some => Some(state(some, "spec.state")?),
    };
    let pause = match spec.get("pause") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(pause)) => Some(*pause),
        Some(other) => {
            return Err(format!(
                "spec.pause must be a boolean, found {}",
                kind(other)
            ));
        }
    };
    let target = match (version, declared, pause) {
        (ApiVersion::V1, declared, Some(_)) => {
            warnings.push("spec.pause is not part of the v1 API: ignored (use spec.state)".into());
            declared.unwrap_or_default()
        }
        (_, Some(declared), Some(_)) => {
            warnings.push(format!(
                "both spec.pause and spec.state are set: spec.state ({}) wins, as in Strimzi",
                declared.as_str()
            ));
            declared
        }
        (_, Some(declared), None) => declared,
        (_, None, Some(true)) => TargetState::Paused,
        (_, None, _) => TargetState::Running,
    };
    Ok(target)
}

/// `spec.autoRestart` (or our format's `autoRestart`, named `field` in errors):
/// `{enabled?: bool (true), maxRestarts?: int}`.
pub(super) fn auto_restart(
    value: Option<&Value>,
    field: &str,
) -> Result<Option<AutoRestart>, String> {
    let map = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(format!("{field} must be an object, found {}", kind(other)));
        }
    };
    let enabled = match map.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(enabled)) => *enabled,
        Some(other) => {
            return Err(format!(
                "{field}.enabled must be a boolean, found {}",
                kind(other)
            ));
        }
    };
    let max_restarts = match map.get("maxRestarts") {
        None | Some(Value::Null) => None,
        Some(n) => Some(
            n.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    format!("{field}.maxRestarts must be a whole number of 0 or more, found {n}")
                })?,
        ),
    };
    Ok(Some(AutoRestart {
        enabled,
        max_restarts,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(doc: Value) -> Result<Resource, String> {
        let Value::Object(map) = doc else {
            unreachable!()
        };
        parse(map)
    }

    fn connector(api: &str, spec: Value) -> Value {
        json!({"apiVersion": api, "kind": "KafkaConnector", "metadata": {"name": "c"}, "spec": spec})
    }

    #[test]
    fn any_group_and_the_three_versions() {
        for api in [
            "kafka.strimzi.io/v1",
            "kafka.strimzi.io/v1beta2",
            "kafka.strimzi.io/v1alpha1",
            "eventstreams.ibm.com/v1beta2",
        ] {
            let got = read(connector(api, json!({"class": "X", "tasksMax": 2}))).unwrap();
            assert_eq!(got.config["tasks.max"], json!(2), "{api}");
        }
        let err = read(connector("kafka.strimzi.io/v1beta1", json!({"class": "X"}))).unwrap_err();
        assert!(
            err.contains("version \"v1beta1\" is not one Strimzi served"),
            "{err}"
        );
        let err = read(connector("v1", json!({"class": "X"}))).unwrap_err();
        assert!(err.starts_with("unknown manifest shape"), "{err}");
    }

    #[test]
    fn forbidden_keys_are_dropped_with_a_warning_each() {
        let spec = json!({"class": "X", "tasksMax": 3, "version": "1.2",
            "config": {"tasks.max": 1, "Connector.Class": "Y", "name": "z",
                "connector.plugin.version": "9", "tasks.max.enforce": true, "topics": "t"}});
        let got = read(connector("kafka.strimzi.io/v1", spec)).unwrap();
        let mut keys: Vec<&String> = got.config.keys().collect();
        keys.sort();
        let want = [
            "connector.class",
            "connector.plugin.version",
            "tasks.max",
            "tasks.max.enforce",
            "topics",
        ];
        assert_eq!(keys, want);
        assert_eq!(got.config["tasks.max"], json!(3));
        assert_eq!(got.config["connector.class"], json!("X"));
        assert_eq!(got.config["connector.plugin.version"], json!("1.2"));
        assert_eq!(got.extras.warnings.len(), 4, "{:?}", got.extras.warnings);
        assert!(
            got.extras
                .warnings
                .iter()
                .any(|w| w.contains("\"Connector.Class\""))
        );
    }

    #[test]
    fn state_wins_over_pause_and_v1_has_no_pause() {
        let state = |api: &str, spec: Value| {
            let got = read(connector(api, spec)).unwrap();
            (got.state, got.extras.warnings.len())
        };
        let beta = "kafka.strimzi.io/v1beta2";
        let paused = json!({"class": "X", "pause": true});
        assert_eq!(state(beta, paused.clone()), (TargetState::Paused, 0));
        let both = json!({"class": "X", "pause": true, "state": "stopped"});
        assert_eq!(state(beta, both.clone()), (TargetState::Stopped, 1));
        assert_eq!(
            state("kafka.strimzi.io/v1", paused),
            (TargetState::Running, 1)
        );
        assert_eq!(
            state("kafka.strimzi.io/v1", both),
            (TargetState::Stopped, 1)
        );
        assert!(read(connector(beta, json!({"class": "X", "pause": "yes"}))).is_err());
    }

    #[test]
    fn auto_restart_is_read() {
        let spec = |auto: Value| json!({"class": "X", "autoRestart": auto});
        let api = "kafka.strimzi.io/v1";
        let got = read(connector(api, spec(json!({})))).unwrap();
        assert_eq!(
            got.extras.auto_restart,
            Some(AutoRestart {
                enabled: true,
                max_restarts: None
            })
        );
        let got = read(connector(
            api,
            spec(json!({"enabled": false, "maxRestarts": 7})),
        ))
        .unwrap();
        assert_eq!(
            got.extras.auto_restart,
            Some(AutoRestart {
                enabled: false,
                max_restarts: Some(7)
            })
        );
        for bad in [
            json!({"maxRestarts": -1}),
            json!({"enabled": 1}),
            json!(true),
        ] {
            assert!(read(connector(api, spec(bad.clone()))).is_err(), "{bad}");
        }
    }
}
