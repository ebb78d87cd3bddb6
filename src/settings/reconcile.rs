//! `reconcile`'s settings: the declare pipeline, where manifests come from, how to
//! write, the cadence, where to listen, and leader election, with every environment
//! lookup (`POD_NAMESPACE`, `POD_NAME`, `HOSTNAME`) done here, once.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use super::{
    SettingsError, classifier, declare, invalid, ladder, limits, manifest_files, notify, schedule,
    write,
};
use crate::{
    cli::{KubeArgs, ReconcileArgs, SourceKind},
    declare::{Declare, WriteSettings},
    notify::NotifySettings,
    remediate::RestartPolicy,
    server::Limits,
    verdict::WorkerScope,
};

/// Everything `reconcile` needs, validated.
#[derive(Clone, Debug)]
pub struct ReconcileSettings {
    pub declare: Declare,
    pub source: SourceSettings,
    pub write: WriteSettings,
    /// Full resync this often.
    pub interval: Duration,
    /// Quiet time after a change before a pass.
    pub debounce: Duration,
    pub listen: SocketAddr,
    /// The HTTP server's timeouts and connection cap.
    pub http: Limits,
    /// With `--leader-election`.
    pub election: Option<Election>,
    /// How declared connectors with `autoRestart` are restarted.
    pub restarts: ReconcileRestarts,
    /// How the status page's commands name this binary.
    pub program: Arc<str>,
}

/// `reconcile`'s restarts of declared connectors whose manifest enables `autoRestart`.
#[derive(Clone, Debug)]
pub struct ReconcileRestarts {
    /// The schedule and reset; `maxRestarts` comes from each manifest.
    pub policy: RestartPolicy,
    /// How often their statuses are read.
    pub interval: Duration,
    /// Webhook notifications of their phases; `None` without `--webhook-url`.
    pub notify: Option<NotifySettings>,
}

impl ReconcileSettings {
    /// Whether a Kubernetes client is needed (ConfigMap source or leader election).
    pub fn needs_kube(&self) -> bool {
        matches!(self.source, SourceSettings::ConfigMaps { .. }) || self.election.is_some()
    }
}

/// Where manifests come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSettings {
    /// Files and directories (`-f`).
    Files(Vec<PathBuf>),
    /// Every key of the ConfigMaps `kube` selects.
    ConfigMaps(KubeSettings),
}

/// For logs: `files a.yaml, dir/` or `configmaps destination=connect in ns`.
impl std::fmt::Display for SourceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Files(files) => {
                let files: Vec<_> = files.iter().map(|p| p.display().to_string()).collect();
                write!(f, "files {}", files.join(", "))
            }
            Self::ConfigMaps(maps) => {
                let namespace = match &maps.namespace {
                    None => "every namespace",
                    Some(Namespace::Named(name)) => name,
                    Some(Namespace::ClientDefault) => "the client's namespace",
                };
                write!(f, "configmaps {} in {namespace}", maps.selector)
            }
        }
    }
}

/// Which ConfigMaps hold manifests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeSettings {
    /// `None`: every namespace (`--all-namespaces`).
    pub namespace: Option<Namespace>,
    pub selector: String,
}

/// A namespace given (`--namespace`, `POD_NAMESPACE`), or the client's default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespace {
    Named(String),
    ClientDefault,
}

/// The Lease campaign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    pub lease_name: String,
    pub lease_namespace: Namespace,
    pub duration: Duration,
    /// This replica's identity: `--identity`, else `POD_NAME`, else `HOSTNAME`.
    pub identity: String,
}

/// `reconcile`'s settings from its flags and the environment.
pub fn reconcile(args: &ReconcileArgs) -> Result<ReconcileSettings, SettingsError> {
    if args.interval.is_zero() {
        return Err(invalid("interval", "must be more than 0"));
    }
    let declare = declare(&args.declare)?;
    let restarts = restarts(args, declare.client.base_url())?;
    Ok(ReconcileSettings {
        declare,
        source: source(args)?,
        write: write(&args.write),
        interval: args.interval,
        debounce: args.debounce,
        listen: SocketAddr::new(args.bind, args.port),
        http: limits(&args.http)?,
        election: election(&args.kube)?,
        restarts,
        program: super::PROGRAM.into(),
    })
}

/// Strimzi's schedule and ladder, read every 30 s, no webhook.
impl Default for ReconcileRestarts {
    fn default() -> Self {
        Self {
            policy: RestartPolicy {
                ladder: ladder(STRIMZI_LADDER).expect("valid reconcile ladder"),
                ..RestartPolicy::default()
            },
            interval: Duration::from_secs(30),
            notify: None,
        }
    }
}

/// Like Strimzi's operator: restart the failed tasks three times, then the connector and
/// its tasks until `maxRestarts` (unlimited when unset). `--restart-ladder`'s default.
pub const STRIMZI_LADDER: &str = "tasks=3,connector=unlimited";

fn restarts(args: &ReconcileArgs, connect_url: &str) -> Result<ReconcileRestarts, SettingsError> {
    let restart = &args.restarts;
    if restart.restart_check_interval.is_zero() {
        return Err(invalid("restart-check-interval", "must be more than 0"));
    }
    let policy = RestartPolicy {
        schedule: schedule(&restart.restart_backoff)?,
        ladder: ladder(&restart.restart_ladder)?,
        classifier: classifier(&restart.restart_rules)?,
        reset_after: restart.restart_reset_after,
        ..RestartPolicy::default()
    };
    Ok(ReconcileRestarts {
        policy,
        interval: restart.restart_check_interval,
        notify: notify(&args.restarts.notify, true, &WorkerScope::All, connect_url)?,
    })
}

fn source(args: &ReconcileArgs) -> Result<SourceSettings, SettingsError> {
    match (args.source, args.declare.files.is_empty()) {
        (SourceKind::Files, _) => Ok(SourceSettings::Files(manifest_files(&args.declare)?)),
        (SourceKind::Configmaps, false) => Err(invalid("filename", "not with --source configmaps")),
        (SourceKind::Configmaps, true) => Ok(SourceSettings::ConfigMaps(KubeSettings {
            namespace: (!args.kube.all_namespaces).then(|| namespace(&args.kube)),
            selector: args.declare.selector.trim().to_string(),
        })),
    }
}

/// `--namespace`, else `POD_NAMESPACE`, else the client's default namespace.
fn namespace(args: &KubeArgs) -> Namespace {
    args.namespace
        .clone()
        .or_else(|| env("POD_NAMESPACE"))
        .map_or(Namespace::ClientDefault, Namespace::Named)
}

fn election(args: &KubeArgs) -> Result<Option<Election>, SettingsError> {
    if !args.leader_election {
        return Ok(None);
    }
    if cfg!(not(feature = "k8s")) {
        return Err(invalid("leader-election", "needs the k8s feature"));
    }
    if args.lease_duration < Duration::from_secs(3) {
        return Err(invalid(
            "lease-duration",
            "at least 3s (it is renewed every third)",
        ));
    }
    let identity = args
        .identity
        .clone()
        .filter(|i| !i.is_empty())
        .or_else(|| env("POD_NAME"))
        .or_else(|| env("HOSTNAME"))
        .ok_or_else(|| invalid("identity", "leader election needs one: set it or POD_NAME"))?;
    let lease_namespace = args
        .lease_namespace
        .clone()
        .map_or_else(|| namespace(args), Namespace::Named);
    Ok(Some(Election {
        lease_name: args.lease_name.clone(),
        lease_namespace,
        duration: args.lease_duration,
        identity,
    }))
}

/// An environment variable, when set and not empty.
pub(super) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
