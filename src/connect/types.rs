//! Serde types for the Connect REST bodies the product reads (spec §6, §16).
//! States stay strings: Connect may add states, and the health check must not break.

use std::collections::BTreeMap;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::plan::redact::mask;

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
    #[serde(
        default,
        deserialize_with = "masked_trace",
        skip_serializing_if = "Option::is_none"
    )]
    pub trace: Option<String>,
}

/// A task instance's state record.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct TaskStatus {
    pub id: u32,
    pub state: CompactString,
    pub worker_id: CompactString,
    #[serde(
        default,
        deserialize_with = "masked_trace",
        skip_serializing_if = "Option::is_none"
    )]
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

/// A trace with URI passwords, tokens and `password=` parameters cut out as it is read:
/// a connector's exception may quote its connection string, and traces reach `/`, the
/// per-task endpoints, logs and `status`.
fn masked_trace<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let trace = Option::<String>::deserialize(d)?;
    Ok(trace.map(|t| match mask(&t) {
        std::borrow::Cow::Borrowed(_) => t,
        std::borrow::Cow::Owned(masked) => masked,
    }))
}

/// The first line of a Java stack trace: its summary (spec §20.2).
pub fn first_line(trace: &str) -> &str {
    trace.lines().next().unwrap_or_default().trim_end()
}

/// `GET /connectors?expand=…` (spec §2.2): entries by name on 2.3+ (`None` where an
/// entry lacks what was asked for), or the plain name list older workers answer with.
/// Deserialized in one pass straight into the map its caller keeps: no intermediate
/// JSON tree or second map (a 1,000-connector status body is about 240 KB).
#[derive(Debug, PartialEq, Eq)]
pub enum Expanded<T> {
    ByName(BTreeMap<String, Option<T>>),
    Names(Vec<String>),
}

/// What one expanded entry is read as, and the `expand` values that ask for it.
pub trait Expansion: Sized {
    /// The query, e.g. `expand=status`.
    const QUERY: &'static str;
    /// The entry as Connect sends it.
    type Entry: serde::de::DeserializeOwned;
    /// The value kept, `None` when the entry lacks it.
    fn from_entry(entry: Self::Entry) -> Option<Self>;
}

/// An `expand=status` entry; `status` is absent when Connect ignores `expand`.
#[derive(Deserialize)]
pub struct StatusEntry {
    status: Option<ConnectorStatus>,
}

impl Expansion for ConnectorStatus {
    const QUERY: &'static str = "expand=status";
    type Entry = StatusEntry;
    fn from_entry(entry: StatusEntry) -> Option<Self> {
        let mut status = entry.status?;
        status.tasks.shrink_to_fit();
        Some(status)
    }
}

/// A connector's stored config and its instance's state: what the planner reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredConnector {
    pub config: BTreeMap<String, String>,
    /// `None` when it has no status record yet.
    pub state: Option<CompactString>,
}

/// An `expand=info&expand=status` entry.
#[derive(Deserialize)]
pub struct InfoEntry {
    info: Option<Info>,
    status: Option<StateOnly>,
}

#[derive(Deserialize)]
struct Info {
    config: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct StateOnly {
    connector: StateField,
}

#[derive(Deserialize)]
struct StateField {
    state: CompactString,
}

impl Expansion for StoredConnector {
    const QUERY: &'static str = "expand=info&expand=status";
    type Entry = InfoEntry;
    fn from_entry(entry: InfoEntry) -> Option<Self> {
        Some(Self {
            config: entry.info?.config,
            state: entry.status.map(|s| s.connector.state),
        })
    }
}

impl<'de, T: Expansion> Deserialize<'de> for Expanded<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Expansion> serde::de::Visitor<'de> for Visit<T> {
            type Value = Expanded<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of connectors by name or an array of connector names")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Expanded<T>, A::Error> {
                let mut by_name = BTreeMap::new();
                while let Some((name, entry)) = map.next_entry::<String, T::Entry>()? {
                    by_name.insert(name, T::from_entry(entry));
                }
                Ok(Expanded::ByName(by_name))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Expanded<T>, A::Error> {
                Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(Expanded::Names)
            }
        }
        deserializer.deserialize_any(Visit(std::marker::PhantomData))
    }
}
