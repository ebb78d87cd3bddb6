//! The few facts the health check keeps of each connector's config, read from the same
//! `GET /connectors?expand=status&expand=info` call as the statuses: its class, type,
//! `tasks.max`, its topics, and the values of our two keys ([`EXPECTED_TASKS_KEY`],
//! [`REMEDIATED_BY_KEY`]). The config is read as it streams by and every other value is
//! skipped unread, so no secret and no whole config is ever held (memory: a 10,000
//! connector cluster keeps ~100 bytes per connector, not its configs).

use std::hash::{DefaultHasher, Hash, Hasher};

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::types::{ConnectorStatus, Expansion};

/// The config key holding a connector's expected number of RUNNING tasks.
pub const EXPECTED_TASKS_KEY: &str = "connect-sentinel.expected-tasks";
/// The config key naming who restarts the connector (`reconciler`: sidecars leave it).
pub use crate::plan::REMEDIATED_BY_KEY;

/// What the health check knows of one connector's config.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// `connector.class`.
    pub class: Option<CompactString>,
    /// `source` or `sink`, as `info` reports it.
    #[serde(rename = "type")]
    pub kind: Option<CompactString>,
    /// `tasks.max`, when it is a whole number.
    pub tasks_max: Option<u32>,
    /// [`EXPECTED_TASKS_KEY`], when it is a whole number (anything else is ignored).
    pub expected_tasks: Option<u32>,
    /// [`REMEDIATED_BY_KEY`], as set.
    pub remediated_by: Option<String>,
    /// The topics it reads or writes: `topics`, `topic` or `topics.regex`, as set (the
    /// status page searches them).
    pub topics: Option<CompactString>,
    /// An order-independent hash of the whole config (never shown): tells the
    /// `previous` expected-tasks mode that the config changed.
    #[serde(skip)]
    pub config_hash: u64,
}

/// A whole number of tasks, as a config value holds it.
pub fn task_count(value: &str) -> Option<u32> {
    value.trim().parse().ok()
}

/// The config map read into [`Facts`]; other values are skipped unread.
struct ConfigFacts(Facts);

impl<'de> Deserialize<'de> for ConfigFacts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ConfigFacts;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a connector config object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ConfigFacts, A::Error> {
                let mut facts = Facts::default();
                while let Some(key) = map.next_key::<String>()? {
                    let value = match key.as_str() {
                        "connector.class" | "tasks.max" | EXPECTED_TASKS_KEY
                        | REMEDIATED_BY_KEY | "topics" | "topic" | "topics.regex" => {
                            let value = map.next_value::<Option<String>>()?.unwrap_or_default();
                            let hash = pair_hash(&key, &value);
                            keep(&mut facts, &key, value);
                            hash
                        }
                        _ => pair_hash(&key, &map.next_value::<HashedValue>()?.0),
                    };
                    facts.config_hash = facts.config_hash.wrapping_add(value);
                }
                Ok(ConfigFacts(facts))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// Sets the fact `key` names.
fn keep(facts: &mut Facts, key: &str, value: String) {
    match key {
        "connector.class" => facts.class = Some(value.trim().into()),
        "tasks.max" => facts.tasks_max = task_count(&value),
        EXPECTED_TASKS_KEY => facts.expected_tasks = task_count(&value),
        REMEDIATED_BY_KEY => facts.remediated_by = Some(value.trim().to_string()),
        _ => facts.topics = Some(value.trim().into()),
    }
}

fn pair_hash(key: &str, value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    (key, value).hash(&mut hasher);
    hasher.finish()
}

/// A config value (a string or null) reduced to its hash as it is read: never kept,
/// and not even copied when the text has no escapes.
struct HashedValue(u64);

impl<'de> Deserialize<'de> for HashedValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = HashedValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a config value")
            }
            fn visit_str<E>(self, v: &str) -> Result<HashedValue, E> {
                Ok(HashedValue(pair_hash("", &v)))
            }
            fn visit_unit<E>(self) -> Result<HashedValue, E> {
                Ok(HashedValue(0))
            }
            fn visit_none<E>(self) -> Result<HashedValue, E> {
                Ok(HashedValue(0))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// A connector's status and, where the answer had its info, its facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Polled {
    pub status: ConnectorStatus,
    pub facts: Option<Facts>,
}

/// An `expand=status&expand=info` entry.
#[derive(Deserialize)]
pub struct PolledEntry {
    status: Option<ConnectorStatus>,
    info: Option<InfoFacts>,
}

#[derive(Deserialize)]
struct InfoFacts {
    config: ConfigFacts,
    #[serde(rename = "type")]
    kind: Option<CompactString>,
}

impl Expansion for Polled {
    const QUERY: &'static str = "expand=status&expand=info";
    type Entry = PolledEntry;
    fn from_entry(entry: PolledEntry) -> Option<Self> {
        let mut status = entry.status?;
        status.tasks.shrink_to_fit();
        let facts = entry.info.map(|info| Facts {
            kind: info.kind,
            ..info.config.0
        });
        Some(Self { status, facts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::types::Expanded;

    const BODY: &str = r#"{"a": {
        "status": {"name": "a", "connector": {"state": "RUNNING", "worker_id": "w:1"},
                   "tasks": [], "type": "source"},
        "info": {"name": "a", "type": "source", "tasks": [{"connector": "a", "task": 0}],
                 "config": {"connector.class": "FileStreamSource", "tasks.max": "3", "topic": "lines",
                            "connection.password": "canary-secret",
                            "connect-sentinel.expected-tasks": " 2 ",
                            "connect-sentinel.remediated-by": "reconciler"}}},
      "b": {"status": {"name": "b", "connector": {"state": "RUNNING", "worker_id": "w:1"}}}}"#;

    #[test]
    fn facts_keep_only_the_keys_they_name() {
        let Expanded::ByName(map) = serde_json::from_str::<Expanded<Polled>>(BODY).unwrap() else {
            panic!("expected entries by name");
        };
        let facts = map["a"].as_ref().unwrap().facts.clone().unwrap();
        assert_eq!(facts.class.as_deref(), Some("FileStreamSource"));
        assert_eq!(facts.kind.as_deref(), Some("source"));
        assert_eq!((facts.tasks_max, facts.expected_tasks), (Some(3), Some(2)));
        assert_eq!(facts.remediated_by.as_deref(), Some("reconciler"));
        assert_eq!(facts.topics.as_deref(), Some("lines"));
        assert!(!format!("{facts:?}").contains("canary"), "{facts:?}");
        assert_eq!(map["b"].as_ref().unwrap().facts, None);
    }

    #[test]
    fn the_config_hash_changes_with_any_value_but_not_with_order() {
        let facts = |config: &str| {
            serde_json::from_str::<ConfigFacts>(config)
                .unwrap()
                .0
                .config_hash
        };
        let one = facts(r#"{"x": "1", "y": "2"}"#);
        assert_eq!(one, facts(r#"{"y": "2", "x": "1"}"#));
        assert_ne!(one, facts(r#"{"x": "1", "y": "3"}"#));
    }
}
