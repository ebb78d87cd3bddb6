//! The simulated plugin catalogue (spec §12, §14): a few real-looking connectors with
//! their config definitions (including PASSWORD keys), plus converters, transformations
//! and predicates for `connectorsOnly=false`.

use serde_json::{Value, json};

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

const fn def(
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
    /// The `definition` object of a validate response; `order` is 1-based within the list.
    pub fn to_json(&self, order: usize) -> Value {
        let default = match self.default {
            Dflt::Required | Dflt::Null => Value::Null,
            Dflt::Value(v) => json!(v),
        };
        json!({
            "name": self.name, "type": self.ty, "required": matches!(self.default, Dflt::Required),
            "default_value": default, "importance": self.importance, "documentation": self.doc,
            "group": self.group, "width": "MEDIUM", "display_name": self.display,
            "dependents": [], "order": order,
        })
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

/// Every installed plugin.
pub fn all() -> &'static [Plugin] {
    CATALOGUE
}

use Dflt::{Null, Required, Value as V};

const FILE_SOURCE: &[Def] = &[
    def(
        "file",
        "STRING",
        Null,
        "HIGH",
        "Common",
        "File",
        "Source filename. If not specified, the standard input will be used",
    ),
    def(
        "topic",
        "LIST",
        Required,
        "HIGH",
        "Common",
        "Topic",
        "The topic to publish data to",
    ),
    def(
        "batch.size",
        "INT",
        V("2000"),
        "LOW",
        "Common",
        "Batch size",
        "The maximum number of records the source task can read from the file each time it is polled",
    ),
];

const FILE_SINK: &[Def] = &[def(
    "file",
    "STRING",
    Null,
    "HIGH",
    "Common",
    "File",
    "Destination filename. If not specified, the standard output will be used",
)];

const MIRROR_SOURCE: &[Def] = &[
    def(
        "source.cluster.alias",
        "STRING",
        Required,
        "HIGH",
        "Common",
        "Source cluster alias",
        "Alias of source cluster",
    ),
    def(
        "target.cluster.alias",
        "STRING",
        V("target"),
        "HIGH",
        "Common",
        "Target cluster alias",
        "Alias of target cluster. Used in metrics reporting.",
    ),
    def(
        "source.cluster.bootstrap.servers",
        "LIST",
        Required,
        "HIGH",
        "Common",
        "Source bootstrap servers",
        "A list of host/port pairs to use for establishing the initial connection to the source cluster.",
    ),
    def(
        "source.cluster.sasl.jaas.config",
        "PASSWORD",
        Null,
        "MEDIUM",
        "Common",
        "Source SASL JAAS config",
        "JAAS login context parameters for SASL connections to the source cluster.",
    ),
    def(
        "replication.factor",
        "INT",
        V("2"),
        "LOW",
        "Common",
        "Replication factor",
        "Replication factor for newly created remote topics.",
    ),
];

const JDBC_SOURCE: &[Def] = &[
    def(
        "connection.url",
        "STRING",
        Required,
        "HIGH",
        "Database",
        "JDBC URL",
        "JDBC connection URL.",
    ),
    def(
        "connection.user",
        "STRING",
        Null,
        "HIGH",
        "Database",
        "JDBC User",
        "JDBC connection user.",
    ),
    def(
        "connection.password",
        "PASSWORD",
        Null,
        "HIGH",
        "Database",
        "JDBC Password",
        "JDBC connection password.",
    ),
    def(
        "mode",
        "STRING",
        V(""),
        "HIGH",
        "Mode",
        "Table Loading Mode",
        "The mode for updating a table each time it is polled: bulk, incrementing, timestamp or timestamp+incrementing.",
    ),
    def(
        "table.whitelist",
        "LIST",
        V(""),
        "MEDIUM",
        "Database",
        "Table Whitelist",
        "List of tables to include in copying.",
    ),
    def(
        "topic.prefix",
        "STRING",
        Required,
        "HIGH",
        "Connector",
        "Topic Prefix",
        "Prefix to prepend to table names to generate the name of the Kafka topic to publish data to.",
    ),
    def(
        "poll.interval.ms",
        "INT",
        V("5000"),
        "HIGH",
        "Connector",
        "Poll Interval (ms)",
        "Frequency in ms to poll for new data in each table.",
    ),
];

const JDBC_SINK: &[Def] = &[
    def(
        "connection.url",
        "STRING",
        Required,
        "HIGH",
        "Connection",
        "JDBC URL",
        "JDBC connection URL.",
    ),
    def(
        "connection.user",
        "STRING",
        Null,
        "HIGH",
        "Connection",
        "JDBC User",
        "JDBC connection user.",
    ),
    def(
        "connection.password",
        "PASSWORD",
        Null,
        "HIGH",
        "Connection",
        "JDBC Password",
        "JDBC connection password.",
    ),
    def(
        "insert.mode",
        "STRING",
        V("insert"),
        "HIGH",
        "Writes",
        "Insert Mode",
        "The insertion mode to use: insert, upsert or update.",
    ),
    def(
        "auto.create",
        "BOOLEAN",
        V("false"),
        "MEDIUM",
        "DDL Support",
        "Auto-Create",
        "Whether to automatically create the destination table.",
    ),
    def(
        "batch.size",
        "INT",
        V("3000"),
        "MEDIUM",
        "Writes",
        "Batch Size",
        "Specifies how many records to attempt to batch together for insertion.",
    ),
];

const S3_SINK: &[Def] = &[
    def(
        "s3.bucket.name",
        "STRING",
        Required,
        "HIGH",
        "S3",
        "S3 Bucket",
        "The S3 Bucket.",
    ),
    def(
        "s3.region",
        "STRING",
        V("us-west-2"),
        "MEDIUM",
        "S3",
        "AWS region",
        "The AWS region to be used the connector.",
    ),
    def(
        "aws.access.key.id",
        "STRING",
        V(""),
        "HIGH",
        "S3",
        "AWS Access Key ID",
        "The AWS access key ID used to authenticate.",
    ),
    def(
        "aws.secret.access.key",
        "PASSWORD",
        Null,
        "HIGH",
        "S3",
        "AWS Secret Access Key",
        "The secret access key used to authenticate.",
    ),
    def(
        "flush.size",
        "INT",
        Required,
        "HIGH",
        "Connector",
        "Flush Size",
        "Number of records written to store before invoking file commits.",
    ),
    def(
        "storage.class",
        "CLASS",
        Required,
        "HIGH",
        "Storage",
        "Storage Class",
        "The underlying storage layer.",
    ),
    def(
        "format.class",
        "CLASS",
        Required,
        "HIGH",
        "Connector",
        "Format class",
        "The format class to use when writing data to the store.",
    ),
];

const DEBEZIUM_PG: &[Def] = &[
    def(
        "database.hostname",
        "STRING",
        Required,
        "HIGH",
        "Connection",
        "Hostname",
        "Resolvable hostname or IP address of the database server.",
    ),
    def(
        "database.port",
        "INT",
        V("5432"),
        "HIGH",
        "Connection",
        "Port",
        "Port of the database server.",
    ),
    def(
        "database.user",
        "STRING",
        Required,
        "HIGH",
        "Connection",
        "User",
        "Name of the database user to be used when connecting to the database.",
    ),
    def(
        "database.password",
        "PASSWORD",
        Null,
        "HIGH",
        "Connection",
        "Password",
        "Password of the database user to be used when connecting to the database.",
    ),
    def(
        "database.dbname",
        "STRING",
        Required,
        "HIGH",
        "Connection",
        "Database",
        "The name of the database from which the connector should capture changes",
    ),
    def(
        "topic.prefix",
        "STRING",
        Required,
        "HIGH",
        "Connector",
        "Topic prefix",
        "Topic prefix that identifies and provides a namespace for the particular database server/cluster.",
    ),
    def(
        "plugin.name",
        "STRING",
        V("decoderbufs"),
        "MEDIUM",
        "Connection",
        "Plugin",
        "The name of the Postgres logical decoding plugin installed on the server.",
    ),
];

const NONE: &[Def] = &[];

const fn connector(
    class: &'static str,
    kind: Kind,
    version: PluginVersion,
    task_class: &'static str,
    max_tasks: Option<u32>,
    defs: &'static [Def],
    confirms_offsets: bool,
) -> Plugin {
    Plugin {
        class,
        kind,
        version,
        task_class,
        max_tasks,
        defs,
        confirms_offsets,
    }
}

const fn other(class: &'static str, kind: Kind, version: PluginVersion) -> Plugin {
    Plugin {
        class,
        kind,
        version,
        task_class: "",
        max_tasks: None,
        defs: NONE,
        confirms_offsets: false,
    }
}

use Kind::*;
use PluginVersion::{Fixed, Kafka, Undefined};

static CATALOGUE: &[Plugin] = &[
    connector(
        "io.confluent.connect.jdbc.JdbcSinkConnector",
        Sink,
        Fixed("10.7.6"),
        "io.confluent.connect.jdbc.sink.JdbcSinkTask",
        None,
        JDBC_SINK,
        false,
    ),
    connector(
        "io.confluent.connect.jdbc.JdbcSourceConnector",
        Source,
        Fixed("10.7.6"),
        "io.confluent.connect.jdbc.source.JdbcSourceTask",
        None,
        JDBC_SOURCE,
        false,
    ),
    connector(
        "io.confluent.connect.s3.S3SinkConnector",
        Sink,
        Fixed("10.5.13"),
        "io.confluent.connect.s3.S3SinkTask",
        None,
        S3_SINK,
        false,
    ),
    connector(
        "io.debezium.connector.postgresql.PostgresConnector",
        Source,
        Fixed("2.7.3.Final"),
        "io.debezium.connector.postgresql.PostgresConnectorTask",
        Some(1),
        DEBEZIUM_PG,
        false,
    ),
    connector(
        "org.apache.kafka.connect.file.FileStreamSinkConnector",
        Sink,
        Kafka,
        "org.apache.kafka.connect.file.FileStreamSinkTask",
        None,
        FILE_SINK,
        true,
    ),
    connector(
        "org.apache.kafka.connect.file.FileStreamSourceConnector",
        Source,
        Kafka,
        "org.apache.kafka.connect.file.FileStreamSourceTask",
        Some(1),
        FILE_SOURCE,
        true,
    ),
    connector(
        "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        Source,
        Kafka,
        "org.apache.kafka.connect.mirror.MirrorSourceTask",
        None,
        MIRROR_SOURCE,
        true,
    ),
    other(
        "org.apache.kafka.connect.converters.ByteArrayConverter",
        Converter,
        Kafka,
    ),
    other(
        "org.apache.kafka.connect.json.JsonConverter",
        Converter,
        Kafka,
    ),
    other(
        "org.apache.kafka.connect.storage.StringConverter",
        Converter,
        Kafka,
    ),
    other(
        "io.confluent.connect.avro.AvroConverter",
        Converter,
        Undefined,
    ),
    other(
        "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        HeaderConverter,
        Kafka,
    ),
    other(
        "org.apache.kafka.connect.transforms.InsertField$Value",
        Transformation,
        Kafka,
    ),
    other(
        "org.apache.kafka.connect.transforms.RegexRouter",
        Transformation,
        Kafka,
    ),
    other(
        "org.apache.kafka.connect.transforms.TimestampConverter$Value",
        Transformation,
        Kafka,
    ),
    other(
        "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        Predicate,
        Kafka,
    ),
    other(
        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        Predicate,
        Kafka,
    ),
];

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
