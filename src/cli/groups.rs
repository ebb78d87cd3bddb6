//! The flag groups several commands flatten: manifests (`DeclareArgs`), writing
//! (`WriteArgs`), the Kubernetes side of `reconcile` (`KubeArgs`), the connection to
//! Connect (`ConnectArgs`), health scope (`ScopeArgs`), auto-restart
//! (`RemediationArgs`) and its webhook notifications (`NotifyArgs`). Each is one help
//! heading.

use std::{path::PathBuf, time::Duration};

use clap::Args;

use super::{PlanOutput, TemplateArg, WebhookFormat, duration};

/// Flags shared by `diff` and `apply`: manifests, templating, ownership.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Manifests")]
pub struct DeclareArgs {
    /// Manifest file or directory (repeatable; directories are read recursively for
    /// .json, .yaml and .yml).
    #[arg(
        short = 'f',
        long = "filename",
        visible_alias = "file",
        env = "CONNECT_SENTINEL_FILES",
        value_delimiter = ','
    )]
    pub files: Vec<PathBuf>,
    /// Values for `{{ vars.NAME }}` and jq's `$NAME`: a directory with one file per
    /// value (a mounted Secret) and `*.properties` files, or a .properties file. They
    /// are redacted in all output.
    #[arg(long, env = "CONNECT_SENTINEL_VARS")]
    pub vars: Option<PathBuf>,
    /// Label selector of the ConfigMaps that hold connectors (every data key is one
    /// document): the watched ConfigMaps of `--source configmaps`, and the
    /// `kind: ConfigMap` documents of manifest files.
    #[arg(
        long,
        env = "CONNECT_SENTINEL_SELECTOR",
        default_value = crate::manifest::selector::DEFAULT
    )]
    pub selector: String,
    /// How documents are read: `auto` (a `.json` text that is not JSON is a jq
    /// program, `.jq` is jq), `jq` (every ConfigMap value and `.json` file is jq), or
    /// `jinja` (JSON and YAML with `{{ … }}` templates only).
    #[arg(long, env = "CONNECT_SENTINEL_TEMPLATE", value_enum, default_value_t = TemplateArg::Auto)]
    pub template: TemplateArg,
    /// Who owns the connectors this tool writes (the `connect-sentinel.owner` config
    /// key); only owned connectors are pruned.
    #[arg(
        long,
        env = "CONNECT_SENTINEL_OWNER",
        default_value = crate::settings::DEFAULT_OWNER
    )]
    pub owner: String,
    /// Config key left out of comparisons, e.g. one the server adds; `*` matches any
    /// run (repeatable). `__internal.*` is always ignored.
    #[arg(
        long = "ignore-key",
        env = "CONNECT_SENTINEL_IGNORE_KEYS",
        value_delimiter = ','
    )]
    pub ignore_keys: Vec<String>,
    /// Secret key (16+ bytes) of the fingerprint stored with every written config
    /// (`connect-sentinel.fingerprint`, HMAC-SHA256), which tells a rotated secret from
    /// a value the server masks; without it the fingerprint uses a public key.
    #[arg(
        long,
        env = "CONNECT_SENTINEL_FINGERPRINT_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub fingerprint_key: Option<String>,
    /// Delete connectors owned by --owner that are no longer declared.
    #[arg(long)]
    pub prune: bool,
    /// With --prune, allow deleting every owned connector when nothing is declared.
    #[arg(long, requires = "prune")]
    pub force: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = PlanOutput::Text, help_heading = "Output")]
    pub output: PlanOutput,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// How changes are written (`apply`, `reconcile`).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Writing")]
pub struct WriteArgs {
    /// How many connectors change at once.
    #[arg(long, env = "CONNECT_SENTINEL_CONCURRENCY", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Deadline of one connector's whole change, retries included.
    #[arg(long, env = "CONNECT_SENTINEL_APPLY_TIMEOUT", value_parser = duration, value_name = "DURATION", default_value = "2m")]
    pub timeout: Duration,
    /// Retries of a write Connect answers with 409 or "rebalance expected".
    #[arg(long, env = "CONNECT_SENTINEL_RETRIES", default_value_t = 6)]
    pub retries: u32,
    /// First retry delay; it doubles each retry (at most 10s), with jitter.
    #[arg(long, env = "CONNECT_SENTINEL_RETRY_BACKOFF", value_parser = duration, value_name = "DURATION", default_value = "200ms")]
    pub retry_backoff: Duration,
}

/// The Kubernetes side of `reconcile`: ConfigMap source and leader election.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Kubernetes")]
pub struct KubeArgs {
    /// Namespace of the ConfigMaps [default: POD_NAMESPACE, else the client's namespace].
    #[arg(
        long,
        env = "CONNECT_SENTINEL_NAMESPACE",
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Option<String>,
    /// Watch ConfigMaps in every namespace (needs a ClusterRole).
    #[arg(long, env = "CONNECT_SENTINEL_ALL_NAMESPACES")]
    pub all_namespaces: bool,
    /// Run several replicas safely: only the holder of a coordination.k8s.io Lease writes.
    #[arg(long, env = "CONNECT_SENTINEL_LEADER_ELECTION")]
    pub leader_election: bool,
    /// Name of the Lease.
    #[arg(
        long,
        env = "CONNECT_SENTINEL_LEASE_NAME",
        default_value = "connect-sentinel-reconciler"
    )]
    pub lease_name: String,
    /// Namespace of the Lease [default: as --namespace].
    #[arg(long, env = "CONNECT_SENTINEL_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// How long a leader keeps the Lease without renewing it (renewed every third).
    #[arg(long, env = "CONNECT_SENTINEL_LEASE_DURATION", value_parser = duration, value_name = "DURATION", default_value = "15s")]
    pub lease_duration: Duration,
    /// This replica's identity in the Lease [default: POD_NAME, else HOSTNAME].
    #[arg(long, env = "CONNECT_SENTINEL_IDENTITY")]
    pub identity: Option<String>,
}

/// How to reach Kafka Connect.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    /// Kafka Connect REST URL.
    #[arg(
        long,
        env = "HEALTHCHECK_CONNECT_URL",
        default_value = "http://localhost:8083"
    )]
    pub connect_url: String,
    /// Basic auth `user:password` (split at the first colon).
    #[arg(long, env = "HEALTHCHECK_BASIC_AUTH", hide_env_values = true)]
    pub basic_auth: Option<String>,
    /// Bearer token sent as `Authorization: Bearer …`.
    #[arg(long, env = "HEALTHCHECK_BEARER_TOKEN", hide_env_values = true)]
    pub bearer_token: Option<String>,
    /// Extra header `Name: value` on every Connect call (repeatable).
    #[arg(
        long = "header",
        env = "HEALTHCHECK_HEADERS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub headers: Vec<String>,
    /// PEM file of CA certificates to trust for an https:// Connect URL.
    #[arg(long, env = "HEALTHCHECK_TLS_CA_FILE")]
    pub tls_ca_file: Option<PathBuf>,
    /// PEM client certificate for mutual TLS.
    #[arg(long, env = "HEALTHCHECK_TLS_CLIENT_CERT")]
    pub tls_client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    #[arg(long, env = "HEALTHCHECK_TLS_CLIENT_KEY")]
    pub tls_client_key: Option<PathBuf>,
    /// Do not verify Connect's certificate (testing only).
    #[arg(long, env = "HEALTHCHECK_TLS_INSECURE")]
    pub tls_insecure: bool,
    /// Deadline of each Connect call, e.g. `500ms`.
    #[arg(long, env = "HEALTHCHECK_CONNECT_TIMEOUT", value_parser = duration, value_name = "DURATION", default_value = "500ms")]
    pub connect_timeout: Duration,
}

/// Which connectors and tasks count, and when they are unhealthy.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Scope")]
pub struct ScopeArgs {
    /// This worker's id: `host:port` (exact), `host` (any port), or `auto` (pod IP or
    /// hostname with the Connect URL's port). Unset: every worker.
    #[arg(long, env = "HEALTHCHECK_CONNECT_WORKER_ID")]
    pub connect_worker_id: Option<String>,
    /// Comma-separated states that count as failures.
    #[arg(long, env = "HEALTHCHECK_UNHEALTHY_STATES", default_value = "FAILED")]
    pub unhealthy_states: String,
    /// Comma-separated containers that count: connector, task.
    #[arg(
        long,
        env = "HEALTHCHECK_CONSIDERED_CONTAINERS",
        default_value = "CONNECTOR,TASK"
    )]
    pub considered_containers: String,
    /// Unhealthy when more than this percentage (0–100) of containers in scope fail.
    #[arg(
        long,
        env = "HEALTHCHECK_FAILURE_THRESHOLD_PERCENTAGE",
        default_value = "0"
    )]
    pub failure_threshold_percentage: String,
    /// Only connectors whose name matches this regex.
    #[arg(long, env = "HEALTHCHECK_INCLUDE")]
    pub include: Option<String>,
    /// Skip connectors whose name matches this regex.
    #[arg(long, env = "HEALTHCHECK_EXCLUDE")]
    pub exclude: Option<String>,
    /// How long UNASSIGNED, RESTARTING and "no status yet" are forgiven.
    #[arg(long, env = "HEALTHCHECK_GRACE_PERIOD", value_parser = duration, value_name = "DURATION", default_value = "5m")]
    pub grace_period: Duration,
}

/// The silent-failure checks (`serve`, `status`).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Silent failures")]
pub struct SilentArgs {
    /// Where a connector's expected RUNNING task count comes from when its config has
    /// no `connect-sentinel.expected-tasks` key: `none` (nothing is expected),
    /// `tasks-max`, or `previous` (the most it has run since its config last changed).
    #[arg(long, env = "HEALTHCHECK_EXPECTED_TASKS", value_enum, default_value_t = ExpectedTasksArg::None)]
    pub expected_tasks: ExpectedTasksArg,
    /// Read each connector's class, `tasks.max` and `connect-sentinel.*` keys with its
    /// status: `poll` (in the same call, `expand=info`) or `off` (statuses only; the
    /// task-count checks then know no expected count).
    #[arg(long, env = "HEALTHCHECK_CONNECTOR_INFO", value_enum, default_value_t = ConnectorInfoArg::Poll)]
    pub connector_info: ConnectorInfoArg,
}

/// `--expected-tasks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExpectedTasksArg {
    None,
    TasksMax,
    Previous,
}

/// `--connector-info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConnectorInfoArg {
    Poll,
    Off,
}

/// Auto-restart of failed connectors and tasks (`serve --auto-restart`).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Auto-restart")]
pub struct RemediationArgs {
    /// Remediate FAILED connectors and tasks in scope through the REST API: classify each
    /// failure, then climb --restart-ladder with backoff.
    #[arg(long, env = "HEALTHCHECK_AUTO_RESTART")]
    pub auto_restart: bool,
    /// Waits before each restart, the last repeating: the first is counted from the
    /// failure, each next from the previous restart (the default is Strimzi's schedule).
    #[arg(
        long,
        env = "HEALTHCHECK_RESTART_BACKOFF",
        default_value = "0s,2m,6m,12m,20m,30m,42m,56m,60m"
    )]
    pub restart_backoff: String,
    /// At most this many actions per connector, whatever --restart-ladder says
    /// [default: the ladder's length].
    #[arg(long, env = "HEALTHCHECK_MAX_RESTARTS")]
    pub max_restarts: Option<u32>,
    /// Keep `/` healthy while fewer than this many restarts of a failure have been
    /// tried; after that (or once --max-restarts is reached) it counts [default: at once].
    #[arg(long, env = "HEALTHCHECK_ESCALATE_AFTER_RESTARTS")]
    pub escalate_after_restarts: Option<u32>,
    /// A connector healthy for this long starts its restart count again.
    #[arg(long, env = "HEALTHCHECK_RESTART_RESET_AFTER", value_parser = duration, value_name = "DURATION", default_value = "10m")]
    pub restart_reset_after: Duration,
    /// Restart only failures whose trace matches this regex (e.g. transient errors).
    #[arg(long, env = "HEALTHCHECK_RESTART_TRACE")]
    pub restart_trace: Option<String>,
    /// Restart only connectors whose name matches this regex (within --include).
    #[arg(long, env = "HEALTHCHECK_RESTART_INCLUDE")]
    pub restart_include: Option<String>,
    /// Never restart connectors whose name matches this regex.
    #[arg(long, env = "HEALTHCHECK_RESTART_EXCLUDE")]
    pub restart_exclude: Option<String>,
    /// The remediation ladder: steps tried in order, each `NAME=ATTEMPTS` with an
    /// optional own wait (`connector=2/5m`): `tasks` (restart the failed tasks),
    /// `connector` (the connector and all its tasks); then the failure escalates.
    #[arg(
        long,
        env = "HEALTHCHECK_RESTART_LADDER",
        default_value = "tasks=3,connector=2"
    )]
    pub restart_ladder: String,
    /// Classify failures by trace, before the built-in rules: `REGEX=restart`,
    /// `REGEX=ignore` (never restart, never escalate) or `REGEX=escalate` (no restart)
    /// (repeatable; one rule per line in the env var).
    #[arg(
        long = "restart-rule",
        env = "HEALTHCHECK_RESTART_RULES",
        value_delimiter = '\n',
        value_name = "REGEX=REMEDY"
    )]
    pub restart_rules: Vec<String>,
    /// How many remediation actions `GET /remediation` keeps in `history`.
    #[arg(long, env = "HEALTHCHECK_REMEDIATION_HISTORY", default_value_t = crate::remediate::history::DEFAULT_LEN)]
    pub remediation_history: usize,
}

/// A flag value that is a secret (a webhook URL carries its token): `Debug` hides it,
/// so printing the parsed flags shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(hidden)")
    }
}

/// Webhook notifications of auto-restart (`serve --webhook-url`).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Notifications")]
pub struct NotifyArgs {
    /// Webhook to POST persistent failures, escalations and recoveries to (serve:
    /// needs --auto-restart; reconcile: of autoRestart connectors; repeatable,
    /// comma-separated in the env var). A secret: only its host is ever logged.
    #[arg(
        long = "webhook-url",
        env = "CONNECT_SENTINEL_WEBHOOK_URLS",
        value_delimiter = ',',
        hide_env_values = true,
        value_name = "URL"
    )]
    pub webhook_urls: Vec<Secret>,
    /// Body: `generic` (a JSON document) or `slack` (Slack's `text` and `blocks`).
    #[arg(long, env = "CONNECT_SENTINEL_WEBHOOK_FORMAT", value_enum, default_value_t = WebhookFormat::Generic)]
    pub webhook_format: WebhookFormat,
    /// Deadline of one webhook call.
    #[arg(long, env = "CONNECT_SENTINEL_WEBHOOK_TIMEOUT", value_parser = duration, value_name = "DURATION", default_value = "5s")]
    pub webhook_timeout: Duration,
    /// Tries per message, the first included (no answer, 408, 429 and 5xx are retried).
    #[arg(long, env = "CONNECT_SENTINEL_WEBHOOK_ATTEMPTS", default_value_t = 5)]
    pub webhook_attempts: u32,
    /// Wait before the first retry; it doubles each retry, at most 60s (a longer
    /// Retry-After is honoured up to 60s).
    #[arg(long, env = "CONNECT_SENTINEL_WEBHOOK_BACKOFF", value_parser = duration, value_name = "DURATION", default_value = "1s")]
    pub webhook_backoff: Duration,
    /// Messages per minute per webhook; the events beyond it are held back and sent
    /// as one message when the minute allows.
    #[arg(
        long,
        env = "CONNECT_SENTINEL_WEBHOOK_RATE_LIMIT",
        default_value_t = 20
    )]
    pub webhook_rate_limit: u32,
}

/// The limits of `serve`'s and `reconcile`'s HTTP server.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "HTTP server")]
pub struct HttpArgs {
    /// Close a connection that sent no whole request head this long after connecting
    /// or after its previous response (so also the idle keep-alive timeout).
    #[arg(long, env = "CONNECT_SENTINEL_HEADER_TIMEOUT", value_parser = duration, default_value = "5s")]
    pub header_timeout: Duration,
    /// Connections served at once; further ones wait to be accepted.
    #[arg(long, env = "CONNECT_SENTINEL_MAX_CONNECTIONS", default_value_t = crate::server::Limits::MAX_CONNECTIONS)]
    pub max_connections: usize,
}
