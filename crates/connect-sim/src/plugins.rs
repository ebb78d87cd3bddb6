//! The simulated plugin catalogue (spec §12, §14): a few real-looking connectors with
//! their config definitions (including PASSWORD keys), plus converters, transformations
//! and predicates for `connectorsOnly=false`.

use serde_json::{Value, json};

use crate::{catalogue::CATALOGUE, config::Version};

/// A plugin's kind, as `type` in `GET /connector-plugins` (spec §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Source,
    Sink,
    Converter,
    HeaderConverter,
    Transformation,
    Predicate,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Source => "source",
            Kind::Sink => "sink",
            Kind::Converter => "converter",
            Kind::HeaderConverter => "header_converter",
            Kind::Transformation => "transformation",
            Kind::Predicate => "predicate",
        }
    }

    pub fn is_connector(self) -> bool {
        matches!(self, Kind::Source | Kind::Sink)
    }
}

/// A config key's default: required keys have none at all (`NO_DEFAULT_VALUE`).
#[derive(Clone, Copy, Debug)]
pub enum Dflt {
    Required,
    Null,
    Value(&'static str),
}

/// One `ConfigDef` key (spec §14 `definition`).
#[derive(Clone, Copy, Debug)]
pub struct Def {
    pub name: &'static str,
    /// Upper-case ConfigDef type: `STRING`, `INT`, `LIST`, `PASSWORD`, …
    pub ty: &'static str,
    pub default: Dflt,
    pub importance: &'static str,
    pub group: &'static str,
    pub display: &'static str,
    pub doc: &'static str,
}

/// A `ConfigDef` key; `const` so the catalogue is static data.
pub const fn def(
    name: &'static str,
    ty: &'static str,
    default: Dflt,
    importance: &'static str,
    group: &'static str,
    display: &'static str,
    doc: &'static str,
) -> Def {
    Def {
        name,
        ty,
        default,
        importance,
        group,
        display,
        doc,
    }
}

impl Def {
    /// The `definition` object of a validate response; `order` is 1-based within the list
    /// and named `order_in_group` from 4.2 on (spec §21; `order` on a real 3.9.1 worker,
    /// `order_in_group` on 4.3.1).
    pub fn to_json(&self, order: usize, kafka: Version) -> Value {
        let default = match self.default {
            Dflt::Required | Dflt::Null => Value::Null,
            Dflt::Value(v) => json!(v),
        };
        let mut def = json!({
            "name": self.name, "type": self.ty, "required": matches!(self.default, Dflt::Required),
            "default_value": default, "importance": self.importance, "documentation": self.doc,
            "group": self.group, "width": "MEDIUM", "display_name": self.display,
            "dependents": [],
        });
        put_order(&mut def, kafka, order);
        def
    }
}

/// Adds the order field of a `definition`: `order` last before 4.2, `order_in_group`
/// right after `group` from 4.2 on.
pub fn put_order(def: &mut Value, kafka: Version, order: usize) {
    let Some(map) = def.as_object_mut() else {
        return;
    };
    if !kafka.at_least(4, 2) {
        map.insert("order".into(), json!(order));
        return;
    }
    let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    for (key, value) in entries {
        let after_group = key == "group";
        map.insert(key, value);
        if after_group {
            map.insert("order_in_group".into(), json!(order));
        }
    }
}

/// Where a plugin's version comes from.
#[derive(Clone, Copy, Debug)]
pub enum PluginVersion {
    /// Bundled with Kafka: reports the worker's version.
    Kafka,
    Fixed(&'static str),
    /// Reports no version, so `version` is omitted (spec §12).
    Undefined,
}

/// One installed plugin.
#[derive(Clone, Copy, Debug)]
pub struct Plugin {
    pub class: &'static str,
    pub kind: Kind,
    pub version: PluginVersion,
    /// `task.class` of the task configs it generates.
    pub task_class: &'static str,
    /// The most tasks it ever generates (e.g. FileStreamSource: 1).
    pub max_tasks: Option<u32>,
    pub defs: &'static [Def],
    /// Whether its alter-offsets hook confirms (spec §10 success messages).
    pub confirms_offsets: bool,
}

impl Plugin {
    /// The simple class name, e.g. `FileStreamSinkConnector`.
    pub fn simple_name(&self) -> &'static str {
        self.class.rsplit('.').next().unwrap_or(self.class)
    }

    /// True when `name` is this plugin's class, simple name, or alias without `Connector`.
    pub fn matches(&self, name: &str) -> bool {
        let simple = self.simple_name();
        name == self.class || name == simple || Some(name) == simple.strip_suffix("Connector")
    }

    /// The `version` string, if the plugin reports one.
    pub fn version(&self, kafka: &str) -> Option<String> {
        match self.version {
            PluginVersion::Kafka => Some(kafka.to_string()),
            PluginVersion::Fixed(v) => Some(v.to_string()),
            PluginVersion::Undefined => None,
        }
    }

    /// The list entry of `GET /connector-plugins`.
    pub fn to_json(&self, kafka: &str) -> Value {
        let mut entry = json!({"class": self.class, "type": self.kind.as_str()});
        if let Some(version) = self.version(kafka) {
            entry["version"] = json!(version);
        }
        entry
    }

    /// `PluginDesc{…}`, as Connect prints it in the unknown-class error (spec §3).
    pub fn desc(&self, kafka: &str) -> String {
        let version = self.version(kafka).unwrap_or_else(|| "undefined".into());
        format!(
            "PluginDesc{{klass=class {}, name='{}', version='{version}', encodedVersion={version}, type={}, typeName='{}', location='classpath'}}",
            self.class,
            self.class,
            self.kind.as_str(),
            self.kind.as_str()
        )
    }
}

/// Finds a plugin by class, simple name or alias.
pub fn find(name: &str) -> Option<&'static Plugin> {
    CATALOGUE.iter().find(|p| p.matches(name))
}

/// Finds a connector plugin by class, simple name or alias.
pub fn find_connector(name: &str) -> Option<&'static Plugin> {
    CATALOGUE
        .iter()
        .find(|p| p.kind.is_connector() && p.matches(name))
}

/// A plugin's whole `ConfigDef` as `GET /connector-plugins/{plugin}/config` lists it:
/// the plugin's own keys first, then for connectors the common `ConnectorConfig` keys
/// and the sink or source extras (as real 3.9.1 and 4.3.1 workers list them).
pub fn all_defs(plugin: &'static Plugin) -> Vec<&'static Def> {
    use crate::catalogue::{COMMON, SINK, SOURCE};
    let (common, extra): (&[Def], &[Def]) = match plugin.kind {
        Kind::Sink => (COMMON, SINK),
        Kind::Source => (COMMON, SOURCE),
        _ => (&[], &[]),
    };
    plugin.defs.iter().chain(common).chain(extra).collect()
}

/// Every installed plugin.
pub fn all() -> &'static [Plugin] {
    CATALOGUE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_connectors_by_class_simple_name_and_alias() {
        for name in [
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "FileStreamSinkConnector",
            "FileStreamSink",
        ] {
            assert_eq!(
                find_connector(name).map(|p| p.kind),
                Some(Kind::Sink),
                "{name}"
            );
        }
        assert!(find_connector("JsonConverter").is_none());
        assert!(find("JsonConverter").is_some());
    }

    #[test]
    fn every_connector_declares_a_task_class_and_definitions() {
        for p in all().iter().filter(|p| p.kind.is_connector()) {
            assert!(
                !p.task_class.is_empty() && !p.defs.is_empty(),
                "{}",
                p.class
            );
        }
    }
}
