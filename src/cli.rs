//! The command-line surface (clap derive). Flags an operator sets in a pod spec also
//! read `HEALTHCHECK_*` environment variables, the names kafka-connect-healthcheck uses;
//! a flag overrides its variable. Raw values are validated in [`crate::settings`].

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Make Kafka Connect on Kubernetes trustworthy: health server, exec probe, status,
/// auto-restart and declarative connector configs in one binary.
#[derive(Debug, Parser)]
#[command(name = "connect-sentinel", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log level: trace, debug, info, warning (warn), error, critical.
    #[arg(
        long,
        global = true,
        env = "HEALTHCHECK_LOG_LEVEL",
        default_value = "info"
    )]
    pub log_level: String,
    /// Log format.
    #[arg(long, global = true, env = "HEALTHCHECK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the health server (a drop-in for kafka-connect-healthcheck).
    Serve(ServeArgs),
    /// One-shot check for exec probes. Exit 0 healthy, 1 unhealthy, 2 cannot tell.
    Probe(ProbeArgs),
    /// Show connectors and tasks as a table (or JSON).
    Status(StatusArgs),
    /// Restart connectors, their failed tasks, or one task. Exit 0 done, 1 Connect
    /// refused some, 2 bad input or Connect unreachable.
    Restart(RestartArgs),
    /// Try everything against an embedded simulated Connect cluster.
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Show what `apply` would change, as a key-level diff with secrets redacted.
    /// Exit 0 no changes, 1 changes, 2 error (like `kubectl diff`).
    Diff(DiffArgs),
    /// Make Connect match the manifests: validate every changed config, then create,
    /// update, pause, resume, stop and (with --prune) delete. Exit 0 all applied,
    /// 1 some failed, 2 bad input, invalid config or Connect unreachable.
    Apply(ApplyArgs),
    /// Keep Connect in line with the manifests: apply at start-up, on every file or
    /// `--vars` change, and every --interval; serves /livez, /readyz and /metrics.
    Reconcile(ReconcileArgs),
}

/// Output format of `diff` and `apply --dry-run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanOutput {
    Text,
    Json,
}

/// Flags shared by `diff` and `apply`: manifests, templating, ownership.
#[derive(Clone, Debug, Args)]
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
    /// Values for `{{ vars.NAME }}`: a directory with one file per value (a mounted
    /// Secret) or a .properties file. They are redacted in all output.
    #[arg(long, env = "CONNECT_SENTINEL_VARS")]
    pub vars: Option<PathBuf>,
    /// Who owns the connectors this tool writes (the `connect-sentinel.owner` config
    /// key); only owned connectors are pruned.
    #[arg(
        long,
        env = "CONNECT_SENTINEL_OWNER",
        default_value = "connect-sentinel"
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
    /// Delete connectors owned by --owner that are no longer declared.
    #[arg(long)]
    pub prune: bool,
    /// With --prune, allow deleting every owned connector when nothing is declared.
    #[arg(long, requires = "prune")]
    pub force: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = PlanOutput::Text)]
    pub output: PlanOutput,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `diff` flags.
#[derive(Clone, Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub declare: DeclareArgs,
}

/// `apply` flags.
#[derive(Clone, Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub declare: DeclareArgs,
    /// Only print the plan (the same output as `diff`); write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// How changes are written (`apply`, `reconcile`).
#[derive(Clone, Debug, Args)]
pub struct WriteArgs {
    /// How many connectors change at once.
    #[arg(long, env = "CONNECT_SENTINEL_CONCURRENCY", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Deadline of one connector's whole change, retries included.
    #[arg(long, env = "CONNECT_SENTINEL_APPLY_TIMEOUT", value_parser = duration, default_value = "2m")]
    pub timeout: Duration,
    /// Retries of a write Connect answers with 409 or "rebalance expected".
    #[arg(long, env = "CONNECT_SENTINEL_RETRIES", default_value_t = 6)]
    pub retries: u32,
    /// First retry delay; it doubles each retry (at most 10s), with jitter.
    #[arg(long, env = "CONNECT_SENTINEL_RETRY_BACKOFF", value_parser = duration, default_value = "200ms")]
    pub retry_backoff: Duration,
}

/// `reconcile` flags.
#[derive(Clone, Debug, Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub declare: DeclareArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    /// Full resync this often, correcting drift made by hand (a file change or a
    /// rotated `--vars` value triggers a pass at once).
    #[arg(long, env = "CONNECT_SENTINEL_INTERVAL", value_parser = duration, default_value = "1m")]
    pub interval: Duration,
    /// Quiet time after a file change before re-reading (editors and Kubernetes
    /// volume updates write in bursts).
    #[arg(long, env = "CONNECT_SENTINEL_DEBOUNCE", value_parser = duration, default_value = "500ms")]
    pub debounce: Duration,
    /// Port of /livez, /readyz, /metrics and / (the last pass as JSON).
    #[arg(long, env = "CONNECT_SENTINEL_PORT", default_value_t = 18084)]
    pub port: u16,
    /// Address to bind: `::` is dual-stack, falling back to 0.0.0.0.
    #[arg(long, env = "CONNECT_SENTINEL_BIND", default_value = "::")]
    pub bind: std::net::IpAddr,
    /// Where manifests come from: `files` (-f) or `configmaps` (the Kubernetes API).
    #[arg(long, env = "CONNECT_SENTINEL_SOURCE", value_enum, default_value_t = SourceKind::Files)]
    pub source: SourceKind,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
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

/// Where `reconcile` reads manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    Files,
    Configmaps,
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
    /// Label selector of the ConfigMaps that hold manifests (every key is one).
    #[arg(
        long,
        env = "CONNECT_SENTINEL_SELECTOR",
        default_value = "destination=connect"
    )]
    pub selector: String,
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
    #[arg(long, env = "CONNECT_SENTINEL_LEASE_DURATION", value_parser = duration, default_value = "15s")]
    pub lease_duration: Duration,
    /// This replica's identity in the Lease [default: POD_NAME, else HOSTNAME].
    #[arg(long, env = "CONNECT_SENTINEL_IDENTITY")]
    pub identity: Option<String>,
}

/// `demo` flags.
#[derive(Clone, Debug, Args)]
pub struct DemoArgs {
    /// Port of the health server (0 picks a free one).
    #[arg(long, default_value_t = 18083)]
    pub port: u16,
    /// Port of the simulated Connect REST API (0 picks a free one).
    #[arg(long, default_value_t = 8083)]
    pub sim_port: u16,
    /// Port of the reconcile loop's server (0 picks a free one).
    #[arg(long, default_value_t = 18084)]
    pub reconcile_port: u16,
    /// How often the flaky connector's task fails (auto-restart brings it back).
    #[arg(long, value_parser = duration, default_value = "20s")]
    pub fail_every: Duration,
    /// Stop after this long (default: run until Ctrl-C).
    #[arg(long, value_parser = duration)]
    pub duration: Option<Duration>,
}

/// `probe` flags.
#[derive(Clone, Debug, Args)]
pub struct ProbeArgs {
    /// Check only this connector.
    #[arg(long)]
    pub connector: Option<String>,
    /// Check only this task of --connector.
    #[arg(long, requires = "connector")]
    pub task: Option<u32>,
    /// Overall deadline; past it the probe exits 2.
    #[arg(long, value_parser = duration, default_value = "900ms")]
    pub timeout: Duration,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// Output format of `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

/// `status` flags.
#[derive(Clone, Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only connectors whose name matches this regex.
    #[arg(long)]
    pub include: Option<String>,
    /// Skip connectors whose name matches this regex.
    #[arg(long)]
    pub exclude: Option<String>,
    /// URL of a running `serve` (e.g. http://localhost:18083): adds its auto-restart
    /// state to each connector.
    #[arg(long, env = "CONNECT_SENTINEL_URL")]
    pub sentinel_url: Option<String>,
}

/// How to reach Kafka Connect.
#[derive(Clone, Debug, Args)]
pub struct ConnectArgs {
    /// Kafka Connect REST URL.
    #[arg(
        long,
        env = "HEALTHCHECK_CONNECT_URL",
        default_value = "http://localhost:8083"
    )]
    pub connect_url: String,
    /// Basic auth `user:password` (split at the first colon).
    #[arg(
        long,
        env = "HEALTHCHECK_BASIC_AUTH",
        hide_env_values = true,
        default_value = ""
    )]
    pub basic_auth: String,
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
    #[arg(long, env = "HEALTHCHECK_CONNECT_TIMEOUT", value_parser = duration, default_value = "500ms")]
    pub connect_timeout: Duration,
}

/// Which connectors and tasks count, and when they are unhealthy.
#[derive(Clone, Debug, Args)]
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
    #[arg(long, env = "HEALTHCHECK_GRACE_PERIOD", value_parser = duration, default_value = "5m")]
    pub grace_period: Duration,
}

/// `serve` flags.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long, env = "HEALTHCHECK_PORT", default_value_t = 18083)]
    pub port: u16,
    /// Address to bind: `::` is dual-stack (IPv4 too), falling back to 0.0.0.0.
    #[arg(long, env = "HEALTHCHECK_BIND", default_value = "::")]
    pub bind: std::net::IpAddr,
    /// How often to poll Connect, e.g. `250ms`, `5s`.
    #[arg(long, env = "HEALTHCHECK_POLL_INTERVAL", value_parser = duration, default_value = "2s")]
    pub poll_interval: Duration,
    /// A snapshot older than this makes `/` unhealthy [default: 5 × poll interval, at least 10s].
    #[arg(long, env = "HEALTHCHECK_MAX_AGE", value_parser = duration)]
    pub max_age: Option<Duration>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub remediation: RemediationArgs,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// Auto-restart of failed connectors and tasks (`serve --auto-restart`).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Auto-restart")]
pub struct RemediationArgs {
    /// Restart FAILED connectors and tasks in scope through the REST API, with backoff.
    #[arg(long, env = "HEALTHCHECK_AUTO_RESTART")]
    pub auto_restart: bool,
    /// Waits before each restart, the last repeating: the first is counted from the
    /// failure, each next from the previous restart [default: Strimzi's schedule].
    #[arg(
        long,
        env = "HEALTHCHECK_RESTART_BACKOFF",
        default_value = "0s,2m,6m,12m,20m,30m,42m,56m,60m"
    )]
    pub restart_backoff: String,
    /// Stop restarting a connector after this many attempts [default: never stop].
    #[arg(long, env = "HEALTHCHECK_MAX_RESTARTS")]
    pub max_restarts: Option<u32>,
    /// Keep `/` healthy while fewer than this many restarts of a failure have been
    /// tried; after that (or once --max-restarts is reached) it counts [default: at once].
    #[arg(long, env = "HEALTHCHECK_ESCALATE_AFTER_RESTARTS")]
    pub escalate_after_restarts: Option<u32>,
    /// A connector healthy for this long starts its restart count again.
    #[arg(long, env = "HEALTHCHECK_RESTART_RESET_AFTER", value_parser = duration, default_value = "10m")]
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
}

/// `restart` flags.
#[derive(Clone, Debug, Args)]
pub struct RestartArgs {
    /// Connectors to restart, by name.
    pub names: Vec<String>,
    /// Also restart every connector whose name matches this regex.
    #[arg(short = 'e', long)]
    pub regex: Option<String>,
    /// Restart only FAILED instances: the connector if it failed, and its failed tasks.
    #[arg(long, conflicts_with_all = ["tasks", "task"])]
    pub failed: bool,
    /// Restart the connector and all its tasks.
    #[arg(long, conflicts_with = "task")]
    pub tasks: bool,
    /// Restart only this task (needs exactly one connector name).
    #[arg(long)]
    pub task: Option<u32>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Parses human durations: `250ms`, `5s`, `2m`.
pub fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("invalid duration {s:?}: {e} (e.g. 250ms, 5s, 2m)"))
}
