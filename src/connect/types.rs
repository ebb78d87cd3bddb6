//! Serde types for the Connect REST bodies the product reads (spec §6, §16).
//! States stay strings: Connect may add states, and the health check must not break.

use std::collections::BTreeMap;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// `GET /connectors/{name}/status` (spec §6).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ConnectorStatus {
    pub name: CompactString,
    pub connector: InstanceStatus,
    #[serde(default)]
    pub tasks: Vec<TaskStatus>,
    /// `source`, `sink` or `unknown`; absent before Kafka 1.0.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CompactString>,
}

/// A connector instance's state record.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct InstanceStatus {
    pub state: CompactString,
    pub worker_id: CompactString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// A task instance's state record.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct TaskStatus {
    pub id: u32,
    pub state: CompactString,
    pub worker_id: CompactString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// The worker's own health (spec §16), or the fallback's reading before 3.9.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "message", rename_all = "lowercase")]
pub enum WorkerHealth {
    Healthy,
    Starting(String),
    Unhealthy(String),
}

/// The first line of a Java stack trace: its summary (spec §20.2).
pub fn first_line(trace: &str) -> &str {
    trace.lines().next().unwrap_or_default().trim_end()
}

/// `GET /connectors?expand=status` (spec §2.2): statuses by name on 2.3+ (`None` where
/// an entry has no `status`), or the plain name list older workers answer with.
/// Deserialized in one pass straight into the map the snapshot keeps: no intermediate
/// JSON tree or second map (a 1,000-connector body is about 240 KB).
#[derive(Debug, PartialEq, Eq)]
pub enum Expanded {
    ByName(BTreeMap<String, Option<ConnectorStatus>>),
    Names(Vec<String>),
}

/// One value of the expanded map; `status` is absent for `expand` values Connect ignores.
#[derive(Deserialize)]
struct ExpandedEntry {
    status: Option<ConnectorStatus>,
}

impl<'de> Deserialize<'de> for Expanded {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Expanded;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of connector statuses or an array of connector names")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Expanded, A::Error> {
                let mut by_name = BTreeMap::new();
                while let Some((name, entry)) = map.next_entry::<String, ExpandedEntry>()? {
                    let mut status = entry.status;
                    if let Some(s) = &mut status {
                        s.tasks.shrink_to_fit();
                    }
                    by_name.insert(name, status);
                }
                Ok(Expanded::ByName(by_name))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Expanded, A::Error> {
                Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(Expanded::Names)
            }
        }
        deserializer.deserialize_any(Visit)
    }
}
