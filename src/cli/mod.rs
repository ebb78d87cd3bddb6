//! The command-line surface (clap derive). Flags an operator sets in a pod spec also
//! read `HEALTHCHECK_*` environment variables, the names kafka-connect-healthcheck uses;
//! a flag overrides its variable. Raw values are validated in [`crate::settings`].

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

mod groups;

pub use groups::{
    ConnectArgs, ConnectorInfoArg, DeclareArgs, ExpectedTasksArg, HttpArgs, KubeArgs, NotifyArgs,
    RemediationArgs, ScopeArgs, Secret, SilentArgs, WriteArgs,
};

/// Make Kafka Connect on Kubernetes trustworthy: health server, exec probe, status,
/// auto-restart and declarative connector configs in one binary.
#[derive(Debug, Parser)]
#[command(name = "connect-sentinel", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log level: trace, debug, info, warning (warn), error, critical [default: info;
    /// `demo`: error, so its own lines tell the story].
    #[arg(
        long,
        global = true,
        help_heading = "Logging",
        env = "HEALTHCHECK_LOG_LEVEL"
    )]
    pub log_level: Option<String>,
    /// Log format.
    #[arg(long, global = true, env = "HEALTHCHECK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, help_heading = "Logging")]
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
    /// Print a shell completion script, e.g. `connect-sentinel completions bash >
    /// /etc/bash_completion.d/connect-sentinel`.
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout, or write one page per command to --dir.
    Man(ManArgs),
}

/// `completions` flags.
#[derive(Clone, Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `man` flags.
#[derive(Clone, Debug, Args)]
pub struct ManArgs {
    /// Write `connect-sentinel.1` and one `connect-sentinel-COMMAND.1` per command here.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// `--template`: the dialect of connector documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TemplateArg {
    Auto,
    Jq,
    Jinja,
}

/// Output format of `diff` and `apply --dry-run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanOutput {
    Text,
    Json,
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
    #[arg(long, help_heading = "Output")]
    pub dry_run: bool,
    #[command(flatten)]
    pub write: WriteArgs,
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
    #[arg(long, env = "CONNECT_SENTINEL_INTERVAL", value_parser = duration, value_name = "DURATION", default_value = "1m", help_heading = "Reconcile")]
    pub interval: Duration,
    /// Quiet time after a file change before re-reading (editors and Kubernetes
    /// volume updates write in bursts).
    #[arg(long, env = "CONNECT_SENTINEL_DEBOUNCE", value_parser = duration, value_name = "DURATION", default_value = "500ms", help_heading = "Reconcile")]
    pub debounce: Duration,
    /// Port of /livez, /readyz, /metrics and / (the last pass as JSON).
    #[arg(
        long,
        env = "CONNECT_SENTINEL_PORT",
        default_value_t = 18084,
        help_heading = "Server"
    )]
    pub port: u16,
    /// Address to bind: `::` is dual-stack, falling back to 0.0.0.0.
    #[arg(
        long,
        env = "CONNECT_SENTINEL_BIND",
        default_value = "::",
        help_heading = "Server"
    )]
    pub bind: std::net::IpAddr,
    /// Where manifests come from: `files` (-f) or `configmaps` (the Kubernetes API).
    #[arg(long, env = "CONNECT_SENTINEL_SOURCE", value_enum, default_value_t = SourceKind::Files, help_heading = "Reconcile")]
    pub source: SourceKind,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub restarts: ReconcileRestartArgs,
}

/// How `reconcile` restarts the declared connectors whose manifest enables
/// `autoRestart` (Strimzi's `spec.autoRestart`, or ours).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Auto-restart of declared connectors (autoRestart)")]
pub struct ReconcileRestartArgs {
    /// How often the statuses of those connectors are read (one expanded call; none
    /// while no manifest enables autoRestart or another replica leads).
    #[arg(long, env = "CONNECT_SENTINEL_RESTART_CHECK_INTERVAL", value_parser = duration, value_name = "DURATION", default_value = "30s")]
    pub restart_check_interval: Duration,
    /// Waits before each restart, the last repeating (Strimzi's schedule by default).
    #[arg(
        long = "restart-backoff",
        env = "CONNECT_SENTINEL_RESTART_BACKOFF",
        default_value = "0s,2m,6m,12m,20m,30m,42m,56m,60m"
    )]
    pub restart_backoff: String,
    /// A connector healthy for this long starts its restart count again.
    #[arg(long = "restart-reset-after", env = "CONNECT_SENTINEL_RESTART_RESET_AFTER", value_parser = duration, value_name = "DURATION", default_value = "10m")]
    pub restart_reset_after: Duration,
    /// The remediation ladder, each step `NAME=ATTEMPTS` (`unlimited` allowed) with an
    /// optional own wait: `tasks`, `connector`, then `recreate` (DELETE and PUT the
    /// declared config; offsets are kept); `maxRestarts` caps the whole ladder.
    #[arg(long, env = "CONNECT_SENTINEL_RESTART_LADDER", default_value = crate::settings::STRIMZI_LADDER)]
    pub restart_ladder: String,
    /// Classify failures by trace, before the built-in rules: `REGEX=restart`,
    /// `REGEX=ignore` or `REGEX=escalate` (repeatable; one rule per line in the env var).
    #[arg(
        long = "restart-rule",
        env = "CONNECT_SENTINEL_RESTART_RULES",
        value_delimiter = '\n',
        value_name = "REGEX=REMEDY"
    )]
    pub restart_rules: Vec<String>,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// Where `reconcile` reads manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    Files,
    Configmaps,
}

/// `demo` flags.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Demo")]
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
    #[arg(long, value_parser = duration, value_name = "DURATION", default_value = "40s")]
    pub fail_every: Duration,
    /// How long auto-restart waits after a failure before its first restart, so the
    /// failure can be watched on the status page and in `/`.
    #[arg(long, value_parser = duration, value_name = "DURATION", default_value = "15s")]
    pub restart_after: Duration,
    /// Stop after this long (default: run until Ctrl-C).
    #[arg(long, value_parser = duration, value_name = "DURATION")]
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
    #[arg(long, value_parser = duration, value_name = "DURATION", default_value = "900ms")]
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
    #[arg(short, long, value_enum, default_value_t = Output::Table, help_heading = "Output")]
    pub output: Output,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only connectors whose name matches this regex.
    #[arg(long, help_heading = "Scope")]
    pub include: Option<String>,
    /// Skip connectors whose name matches this regex.
    #[arg(long, help_heading = "Scope")]
    pub exclude: Option<String>,
    /// URL of a running `serve` (e.g. http://localhost:18083): adds its auto-restart
    /// state to each connector.
    #[arg(long, env = "CONNECT_SENTINEL_URL", help_heading = "Output")]
    pub sentinel_url: Option<String>,
    #[command(flatten)]
    pub silent: SilentArgs,
}

/// `serve` flags.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(
        long,
        env = "HEALTHCHECK_PORT",
        default_value_t = 18083,
        help_heading = "Server"
    )]
    pub port: u16,
    /// Address to bind: `::` is dual-stack (IPv4 too), falling back to 0.0.0.0.
    #[arg(
        long,
        env = "HEALTHCHECK_BIND",
        default_value = "::",
        help_heading = "Server"
    )]
    pub bind: std::net::IpAddr,
    /// How often to poll Connect, e.g. `250ms`, `5s`.
    #[arg(long, env = "HEALTHCHECK_POLL_INTERVAL", value_parser = duration, value_name = "DURATION", default_value = "2s", help_heading = "Server")]
    pub poll_interval: Duration,
    /// A snapshot older than this makes `/` unhealthy; more than --poll-interval
    /// [default: 5 × poll interval, at least 10s].
    #[arg(long, env = "HEALTHCHECK_MAX_AGE", value_parser = duration, value_name = "DURATION", help_heading = "Server")]
    pub max_age: Option<Duration>,
    /// Also serve another project's metric names on /metrics: `strimzi` adds the series
    /// Strimzi's JMX exporter rules make of Connect's MBeans (this worker's with
    /// --connect-worker-id), so its dashboards and alerts work unchanged.
    #[arg(long, env = "HEALTHCHECK_METRICS_COMPAT", value_enum, default_value_t = MetricsCompat::None, help_heading = "Server")]
    pub metrics_compat: MetricsCompat,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub silent: SilentArgs,
    /// Silent failures that make `/` (and `/connectors/{name}`) unhealthy, comma-separated:
    /// no-tasks, missing-tasks, stuck, no-status, or all. They are always in /metrics
    /// and the per-connector endpoints [default: none, kafka-connect-healthcheck's `/`].
    #[arg(
        long,
        env = "HEALTHCHECK_FAIL_ON_SILENT",
        value_name = "CHECKS",
        help_heading = "Silent failures"
    )]
    pub fail_on_silent: Option<String>,
    #[command(flatten)]
    pub remediation: RemediationArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// `serve --webhook-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum WebhookFormat {
    /// A JSON document with one field per fact.
    Generic,
    /// Slack's incoming-webhook body (`text`, `blocks`).
    Slack,
}

/// `serve --metrics-compat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MetricsCompat {
    /// Only connect-sentinel's own series.
    None,
    /// Strimzi's names for Kafka Connect too.
    Strimzi,
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
    /// Overall deadline of the command, retries included; past it `restart` exits 2.
    #[arg(long, value_parser = duration, value_name = "DURATION", default_value = "30s")]
    pub timeout: Duration,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// The longest duration any flag takes (ten years): beyond it, deadlines and
/// schedules computed from a duration would overflow the clock.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// Parses human durations: `250ms`, `5s`, `2m`, at most [`MAX_DURATION`].
pub fn duration(s: &str) -> Result<Duration, String> {
    let parsed = humantime::parse_duration(s.trim())
        .map_err(|e| format!("invalid duration {s:?}: {e} (e.g. 250ms, 5s, 2m)"))?;
    bounded(parsed).map_err(|too_long| format!("{s:?} is {too_long}"))
}

/// `d` if it is at most [`MAX_DURATION`]; else why not.
pub fn bounded(d: Duration) -> Result<Duration, String> {
    match d <= MAX_DURATION {
        true => Ok(d),
        false => Err("too long: at most 10 years".into()),
    }
}
