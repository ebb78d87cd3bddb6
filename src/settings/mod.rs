//! Raw command-line values turned into validated settings: the Connect client, the
//! health [`Policy`], and the declare pipeline with its write settings. Invalid values
//! are refused at start-up with a message that names the flag (kafka-connect-healthcheck
//! crashed or ignored them, peers §1.5.10). Nothing below this layer sees clap types.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use regex::Regex;

use crate::{
    cli::{
        ConnectArgs, ConnectorInfoArg, DeclareArgs, ExpectedTasksArg, HttpArgs, RemediationArgs,
        ScopeArgs, SilentArgs, TemplateArg, WriteArgs,
    },
    connect::{ClientOptions, ConnectClient, ConnectError, TlsOptions, retry::Backoff},
    declare::{Declare, WriteSettings},
    manifest::{self, Selector, Template, jq::JqRunner},
    plan,
    remediate::{Classifier, RestartPolicy, UserRule},
    server::Limits,
    silent,
    verdict::{Policy, WorkerScope},
};

mod notify;
mod reconcile;
mod serve;

pub use notify::notify;
pub use reconcile::{
    Election, KubeSettings, Namespace, ReconcileRestarts, ReconcileSettings, STRIMZI_LADDER,
    SourceSettings, reconcile,
};
pub use serve::{ServeSettings, serve};

/// Settings that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A flag value that cannot be used.
    #[error("invalid --{flag}: {reason}")]
    Flag { flag: &'static str, reason: String },
    /// The Connect client cannot be built (a bad URL, header or TLS file).
    #[error(transparent)]
    Client(#[from] ConnectError),
}

/// The HTTP server's limits: both must be more than 0.
fn limits(args: &HttpArgs) -> Result<Limits, SettingsError> {
    if args.header_timeout.is_zero() {
        return Err(invalid("header-timeout", "must be more than 0"));
    }
    if args.max_connections == 0 {
        return Err(invalid("max-connections", "must be at least 1"));
    }
    Ok(Limits {
        header_timeout: args.header_timeout,
        max_connections: args.max_connections,
    })
}

fn invalid(flag: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Flag {
        flag,
        reason: reason.into(),
    }
}

/// The Connect client from the flags.
pub fn client(args: &ConnectArgs) -> Result<ConnectClient, SettingsError> {
    Ok(ConnectClient::new(client_options(args)?)?)
}

/// The declare pipeline from the flags: the client, `--vars`, this process's
/// environment for `{{ env.X }}` and jq's `env`, how documents are read (this binary
/// is the jq worker), and the planner options.
pub fn declare(args: &DeclareArgs) -> Result<Declare, SettingsError> {
    let owner = args.owner.trim();
    if owner.is_empty() {
        return Err(invalid("owner", "must not be empty"));
    }
    let options = plan::Options {
        owner: owner.to_string(),
        ignore: args.ignore_keys.clone(),
        prune: args.prune,
        force: args.force,
        fingerprint: fingerprint_key(args.fingerprint_key.as_deref())?,
    };
    Ok(Declare {
        client: client(&args.connect)?,
        vars: args.vars.clone(),
        env: std::env::vars().collect::<BTreeMap<_, _>>(),
        manifests: manifest_options(args)?,
        options,
    })
}

/// Shortest `--fingerprint-key`: 128 bits, so the fingerprint cannot be brute-forced
/// to guess a weak secret.
const FINGERPRINT_KEY_BYTES: usize = 16;

/// How the status page's copy-paste commands name this binary (the demo names its own
/// path instead: it is rarely on PATH there).
pub const PROGRAM: &str = "connect-sentinel";

/// `--owner`'s default.
pub const DEFAULT_OWNER: &str = "connect-sentinel";

/// The fingerprint key: `--fingerprint-key` (at least 16 bytes, surrounding whitespace
/// such as a trailing newline trimmed), or the built-in one. The message never shows it.
fn fingerprint_key(raw: Option<&str>) -> Result<plan::masked::FingerprintKey, SettingsError> {
    let Some(raw) = raw else {
        return Ok(Default::default());
    };
    let key = raw.trim();
    match key.len() >= FINGERPRINT_KEY_BYTES {
        true => Ok(plan::masked::FingerprintKey::new(key.as_bytes())),
        false => Err(invalid(
            "fingerprint-key",
            format!(
                "must be at least {FINGERPRINT_KEY_BYTES} bytes (got {})",
                key.len()
            ),
        )),
    }
}

/// `--template` and `--selector` (validated here, so a selector the API server would
/// refuse stops start-up), with this binary as the jq worker.
fn manifest_options(args: &DeclareArgs) -> Result<manifest::Options, SettingsError> {
    let selector = Selector::parse(&args.selector).map_err(|e| invalid("selector", e))?;
    let template = match args.template {
        TemplateArg::Auto => Template::Auto,
        TemplateArg::Jq => Template::Jq,
        TemplateArg::Jinja => Template::Jinja,
    };
    Ok(manifest::Options {
        template,
        selector,
        jq: JqRunner::this_binary(),
    })
}

/// The manifest files and directories (`-f`): at least one.
pub fn manifest_files(args: &DeclareArgs) -> Result<Vec<PathBuf>, SettingsError> {
    match args.files.is_empty() {
        true => Err(invalid(
            "filename",
            "give at least one manifest file or directory (-f)",
        )),
        false => Ok(args.files.clone()),
    }
}

/// How `apply` and `reconcile` write.
pub fn write(args: &WriteArgs) -> WriteSettings {
    WriteSettings {
        concurrency: usize::from(args.concurrency),
        timeout: args.timeout,
        backoff: Backoff {
            retries: args.retries,
            base: args.retry_backoff,
        },
    }
}

/// The Connect client options from the flags.
pub fn client_options(args: &ConnectArgs) -> Result<ClientOptions, SettingsError> {
    let basic_auth = match args.basic_auth.as_deref().unwrap_or("").trim() {
        "" => None,
        value => {
            let (user, password) = value
                .split_once(':')
                .ok_or_else(|| invalid("basic-auth", "expected user:password"))?;
            Some((user.to_string(), password.to_string()))
        }
    };
    let headers = args
        .headers
        .iter()
        .filter(|h| !h.trim().is_empty())
        .map(|h| {
            h.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| invalid("header", "expected `Name: value`"))?;
    let tls = TlsOptions {
        ca_file: args.tls_ca_file.clone(),
        client_cert: args.tls_client_cert.clone(),
        client_key: args.tls_client_key.clone(),
        insecure: args.tls_insecure,
    };
    let bearer_token = args.bearer_token.clone().filter(|t| !t.is_empty());
    if let Some(token) = &bearer_token {
        bearer_header(token)?;
    }
    Ok(ClientOptions {
        url: args.connect_url.clone(),
        basic_auth,
        bearer_token,
        headers,
        tls,
        timeout: args.connect_timeout,
    })
}

/// Refuses a token no HTTP header can carry (control characters such as a trailing
/// newline from `$(cat file)`), which would fail every call; the token is never shown.
fn bearer_header(token: &str) -> Result<(), SettingsError> {
    match reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")) {
        Ok(_) => Ok(()),
        Err(_) => Err(invalid(
            "bearer-token",
            "holds a character an HTTP header cannot carry (a control character such as \
             a newline, or non-ASCII); the value is not shown",
        )),
    }
}

/// The health policy from the flags; `connect_url` gives the port for `auto` worker ids.
pub fn policy(args: &ScopeArgs, connect_url: &str) -> Result<Policy, SettingsError> {
    let (consider_connectors, consider_tasks) = containers(&args.considered_containers)?;
    Ok(Policy {
        unhealthy_states: states(&args.unhealthy_states)?,
        consider_connectors,
        consider_tasks,
        threshold: threshold(&args.failure_threshold_percentage)?,
        worker: worker_scope(args.connect_worker_id.as_deref(), connect_url)?,
        include: regex("include", args.include.as_deref())?,
        exclude: regex("exclude", args.exclude.as_deref())?,
        grace: args.grace_period,
        silent: Default::default(),
    })
}

/// The silent-failure settings and whether to read connector info (`--expected-tasks`,
/// `--connector-info`, `serve`'s `--fail-on-silent`).
pub fn silent(
    args: &SilentArgs,
    fail_on: Option<&str>,
) -> Result<(silent::Settings, bool), SettingsError> {
    let info = args.connector_info == ConnectorInfoArg::Poll;
    let expected = match args.expected_tasks {
        ExpectedTasksArg::None => silent::ExpectedFrom::None,
        ExpectedTasksArg::TasksMax if !info => {
            return Err(invalid(
                "expected-tasks",
                "tasks-max reads tasks.max from the connector info: drop --connector-info off",
            ));
        }
        ExpectedTasksArg::TasksMax => silent::ExpectedFrom::TasksMax,
        ExpectedTasksArg::Previous => silent::ExpectedFrom::Previous,
    };
    let fail_on = checks(fail_on.unwrap_or(""))?;
    Ok((silent::Settings { expected, fail_on }, info))
}

/// `--fail-on-silent`: check names, or `all`.
fn checks(raw: &str) -> Result<BTreeSet<silent::Check>, SettingsError> {
    let mut out = BTreeSet::new();
    for part in raw
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
    {
        match (part.as_str(), silent::Check::parse(&part)) {
            ("all", _) => out.extend(silent::Check::ALL),
            (_, Some(check)) => {
                out.insert(check);
            }
            (_, None) => {
                let known: Vec<&str> = silent::Check::ALL.iter().map(|c| c.name()).collect();
                return Err(invalid(
                    "fail-on-silent",
                    format!(
                        "unknown check {part:?}; expected some of {}, or all",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// `--restart-backoff`: durations of at most 10 years each.
fn schedule(raw: &str) -> Result<crate::remediate::Schedule, SettingsError> {
    let schedule: crate::remediate::Schedule = raw
        .parse()
        .map_err(|e: crate::remediate::ScheduleError| invalid("restart-backoff", e.to_string()))?;
    match schedule
        .delays()
        .iter()
        .find(|d| **d > crate::cli::MAX_DURATION)
    {
        Some(long) => Err(invalid(
            "restart-backoff",
            format!(
                "{} is too long: at most 10 years",
                humantime::format_duration(*long)
            ),
        )),
        None => Ok(schedule),
    }
}

/// `--restart-ladder`.
fn ladder(raw: &str) -> Result<crate::remediate::Ladder, SettingsError> {
    raw.parse()
        .map_err(|e: crate::remediate::ladder::LadderError| {
            invalid("restart-ladder", e.to_string())
        })
}

/// `--restart-rule`s (blank ones skipped) before the built-in rules.
fn classifier(raw: &[String]) -> Result<Classifier, SettingsError> {
    let rules = raw
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(|r| r.parse())
        .collect::<Result<Vec<UserRule>, _>>()
        .map_err(|e| invalid("restart-rule", e.to_string()))?;
    Ok(Classifier::new(rules))
}

/// The auto-restart policy, `None` without `--auto-restart`.
pub fn restart_policy(args: &RemediationArgs) -> Result<Option<RestartPolicy>, SettingsError> {
    let schedule = schedule(&args.restart_backoff)?;
    let ladder = ladder(&args.restart_ladder)?;
    if ladder.recreates() {
        return Err(invalid(
            "restart-ladder",
            "recreate needs declared connectors: serve has no declared configs (use tasks and connector)",
        ));
    }
    let policy = RestartPolicy {
        schedule,
        ladder,
        classifier: classifier(&args.restart_rules)?,
        max_restarts: args.max_restarts,
        escalate_after: args.escalate_after_restarts,
        reset_after: args.restart_reset_after,
        trace: regex("restart-trace", args.restart_trace.as_deref())?,
        include: regex("restart-include", args.restart_include.as_deref())?,
        exclude: regex("restart-exclude", args.restart_exclude.as_deref())?,
    };
    Ok(args.auto_restart.then_some(policy))
}

/// A policy that only filters connectors by name (`status`'s `--include`/`--exclude`).
pub fn name_filters(include: Option<&str>, exclude: Option<&str>) -> Result<Policy, SettingsError> {
    Ok(Policy {
        include: regex("include", include)?,
        exclude: regex("exclude", exclude)?,
        ..Policy::default()
    })
}

fn states(raw: &str) -> Result<Vec<String>, SettingsError> {
    let states: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().to_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    const KNOWN: &[&str] = &[
        "FAILED",
        "PAUSED",
        "UNASSIGNED",
        "RUNNING",
        "RESTARTING",
        "STOPPED",
    ];
    match states.iter().find(|s| !KNOWN.contains(&s.as_str())) {
        _ if states.is_empty() => Err(invalid("unhealthy-states", "at least one state is needed")),
        Some(unknown) => Err(invalid(
            "unhealthy-states",
            format!(
                "unknown state {unknown}; expected some of {}",
                KNOWN.join(", ")
            ),
        )),
        None => Ok(states),
    }
}

fn containers(raw: &str) -> Result<(bool, bool), SettingsError> {
    let (mut connectors, mut tasks) = (false, false);
    for part in raw
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
    {
        match part.as_str() {
            "connector" => connectors = true,
            "task" => tasks = true,
            other => {
                return Err(invalid(
                    "considered-containers",
                    format!("unknown container {other:?}; expected connector and/or task"),
                ));
            }
        }
    }
    match connectors || tasks {
        true => Ok((connectors, tasks)),
        false => Err(invalid(
            "considered-containers",
            "expected connector and/or task",
        )),
    }
}

fn threshold(raw: &str) -> Result<f64, SettingsError> {
    let pct: f64 = raw.trim().parse().map_err(|_| {
        invalid(
            "failure-threshold-percentage",
            format!("{raw:?} is not a number"),
        )
    })?;
    match (0.0..=100.0).contains(&pct) {
        true => Ok(pct * 0.01),
        false => Err(invalid(
            "failure-threshold-percentage",
            format!("{pct} is not within 0..=100"),
        )),
    }
}

fn regex(flag: &'static str, raw: Option<&str>) -> Result<Option<Regex>, SettingsError> {
    raw.filter(|r| !r.is_empty())
        .map(Regex::new)
        .transpose()
        .map_err(|e| invalid(flag, e.to_string()))
}

/// `host:port` is exact, a bare host matches any port, `auto` resolves this pod.
fn worker_scope(raw: Option<&str>, connect_url: &str) -> Result<WorkerScope, SettingsError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(WorkerScope::All);
    };
    if raw.eq_ignore_ascii_case("auto") {
        return auto_worker(connect_url);
    }
    let has_port = raw.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !host.ends_with(':') && port.parse::<u16>().is_ok()
    });
    Ok(if has_port {
        WorkerScope::Exact(raw.to_string())
    } else {
        WorkerScope::Host(raw.to_string())
    })
}

/// `auto`: `POD_IP` (set from the downward API) or `HOSTNAME`, with the Connect port.
fn auto_worker(connect_url: &str) -> Result<WorkerScope, SettingsError> {
    let host = ["POD_IP", "HOSTNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
        .ok_or_else(|| {
            invalid(
                "connect-worker-id",
                "auto needs POD_IP or HOSTNAME in the environment",
            )
        })?;
    let port = reqwest::Url::parse(connect_url)
        .ok()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(8083);
    Ok(WorkerScope::Exact(format!("{}:{port}", host.trim())))
}
