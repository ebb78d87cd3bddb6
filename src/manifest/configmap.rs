//! ConfigMaps that hold connector documents, read the same way whether they come from
//! a YAML file in git (`kind: ConfigMap`, or a `kind: List` of them) or from the API
//! server (`reconcile --source configmaps`): every data key is one document, named
//! `configmap/<namespace>/<name>/<key>` (prefixed with the file it is in), and the
//! `enabled` label, connect-operator's, says whether its connectors are declared
//! (`"true"` or no label) or disabled (`"false"`: declared absent, see [`Enabled`]).

use std::{collections::BTreeMap, path::Path};

use serde_json::Value;

/// A ConfigMap as far as connectors care: who it is, its labels, its data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ConfigMapDoc {
    pub namespace: Option<String>,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub data: BTreeMap<String, String>,
}

/// What the `enabled` label says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enabled {
    /// `enabled: "true"`, or no such label: the connectors are declared.
    Yes,
    /// `enabled: "false"`: the connectors are not declared; owned ones are deleted
    /// under `--prune`, others left alone with a warning.
    No,
}

/// What one YAML or JSON document of a manifest file is.
#[derive(Debug)]
pub enum Kind {
    /// A connector (REST shape or Strimzi `KafkaConnector`).
    Connector(Value),
    /// A ConfigMap: its keys are documents.
    ConfigMap(Value),
    /// Another Kubernetes resource (a Deployment, a Kustomization …): not ours.
    Other { kind: String },
}

/// Sorts one document; a `kind: List` gives its items, each sorted the same way.
pub fn classify(value: Value, out: &mut Vec<Kind>) {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match (kind, api) {
        ("ConfigMap", "v1" | "") => out.push(Kind::ConfigMap(value)),
        ("List", "v1" | "") => {
            let items = match value {
                Value::Object(mut map) => map.remove("items"),
                _ => None,
            };
            for item in items
                .and_then(|i| i.as_array().cloned())
                .unwrap_or_default()
            {
                classify(item, out);
            }
        }
        ("", _) => out.push(Kind::Connector(value)),
        // Any group's KafkaConnector (Strimzi's, IBM Event Streams', …): the Strimzi
        // reader checks the version; anything else of Strimzi's group or without an
        // apiVersion is refused there rather than skipped.
        ("KafkaConnector", _) => out.push(Kind::Connector(value)),
        (_, api) if api.starts_with("kafka.strimzi.io/") || api.is_empty() => {
            out.push(Kind::Connector(value))
        }
        (kind, _) => out.push(Kind::Other {
            kind: kind.to_string(),
        }),
    }
}

impl ConfigMapDoc {
    /// A `kind: ConfigMap` document; the error says which field is wrong.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        let metadata = value
            .get("metadata")
            .and_then(Value::as_object)
            .ok_or("a ConfigMap without metadata")?;
        let name = match metadata.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_string(),
            None | Some(Value::String(_)) => return Err("a ConfigMap without metadata.name".into()),
            Some(other) => {
                return Err(format!(
                    "a ConfigMap's metadata.name must be a string, found {other} (quote it)"
                ));
            }
        };
        let namespace = metadata
            .get("namespace")
            .and_then(Value::as_str)
            .map(String::from);
        Ok(Self {
            labels: strings(metadata.get("labels"), "metadata.labels", &name)?,
            data: strings(value.get("data"), "data", &name)?,
            namespace,
            name,
        })
    }

    /// `configmap/<namespace>/<name>` (without a namespace, `configmap/<name>`).
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("configmap/{ns}/{}", self.name),
            None => format!("configmap/{}", self.name),
        }
    }

    /// The name of one key's document in errors: `configmap/ns/name/key`, after the
    /// file it is in, if any (`connectors.yaml: configmap/ns/name/key`).
    pub fn document(&self, file: Option<&Path>, key: &str) -> String {
        match file {
            Some(file) => format!("{}: {}/{key}", file.display(), self.id()),
            None => format!("{}/{key}", self.id()),
        }
    }

    /// The `enabled` label (connect-operator's): `true` or `false`, in any case;
    /// anything else is an error (never a silent delete).
    pub fn enabled(&self) -> Result<Enabled, String> {
        match self.labels.get("enabled").map(|v| v.to_ascii_lowercase()) {
            None => Ok(Enabled::Yes),
            Some(v) if v == "true" => Ok(Enabled::Yes),
            Some(v) if v == "false" => Ok(Enabled::No),
            Some(_) => Err(format!(
                "label enabled must be \"true\" or \"false\", found {:?}",
                self.labels["enabled"]
            )),
        }
    }
}

/// A map of strings (`labels`, `data`): absent or null is empty; anything else that is
/// not strings is an error (a number in `data` is refused by the API server too).
fn strings(
    value: Option<&Value>,
    field: &str,
    name: &str,
) -> Result<BTreeMap<String, String>, String> {
    let map = match value {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(format!("ConfigMap {name}: {field} must be a map")),
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(format!(
                "ConfigMap {name}: {field}.{k} must be a string (quote it)"
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_configmap_document_is_read() {
        let doc = ConfigMapDoc::from_value(&json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "orders", "namespace": "kafka",
                         "labels": {"destination": "connect", "enabled": "false"}},
            "data": {"a.json": "{}", "b.json": "{}"}
        }))
        .unwrap();
        assert_eq!(doc.id(), "configmap/kafka/orders");
        assert_eq!(doc.data.len(), 2);
        assert_eq!(doc.enabled(), Ok(Enabled::No));
        assert_eq!(
            doc.document(Some(Path::new("cm.yaml")), "a.json"),
            "cm.yaml: configmap/kafka/orders/a.json"
        );
    }

    #[test]
    fn bad_fields_and_labels_are_named() {
        let err = ConfigMapDoc::from_value(&json!({"metadata": {"name": "x"}, "data": {"k": 1}}))
            .unwrap_err();
        assert!(err.contains("data.k must be a string"), "{err}");
        let doc = ConfigMapDoc {
            name: "x".into(),
            labels: [("enabled".to_string(), "yes".to_string())].into(),
            ..Default::default()
        };
        let err = doc.enabled().unwrap_err();
        assert!(
            err.contains("must be \"true\" or \"false\", found \"yes\""),
            "{err}"
        );
    }

    #[test]
    fn lists_and_other_resources_are_sorted() {
        let mut out = Vec::new();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
            {"apiVersion": "apps/v1", "kind": "Deployment"},
            {"apiVersion": "eventstreams.ibm.com/v1beta2", "kind": "KafkaConnector"},
        ]});
        classify(list, &mut out);
        classify(json!({"name": "c", "config": {}}), &mut out);
        classify(
            json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaConnector"}),
            &mut out,
        );
        assert!(matches!(out[0], Kind::ConfigMap(_)));
        assert!(matches!(&out[1], Kind::Other { kind } if kind == "Deployment"));
        assert!(
            matches!(out[2], Kind::Connector(_)),
            "any group's KafkaConnector"
        );
        assert!(matches!(out[3], Kind::Connector(_)));
        assert!(matches!(out[4], Kind::Connector(_)));
    }
}
