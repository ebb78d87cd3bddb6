//! `serve`'s settings: the client, the health and restart policies, webhook
//! notifications, the poll cadence and where to listen, validated once. `demo` and tests build these directly.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use super::{SettingsError, client, invalid, limits, notify, policy, restart_policy, silent};
use crate::{
    cli::{MetricsCompat, ServeArgs},
    connect::ConnectClient,
    health::metrics::Compat,
    notify::NotifySettings,
    remediate::RestartPolicy,
    server::Limits,
    verdict::Policy,
};

/// Everything `serve` needs, validated.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    pub client: ConnectClient,
    pub policy: Policy,
    /// `None` without `--auto-restart`.
    pub restart: Option<RestartPolicy>,
    /// How many remediation events `GET /remediation` keeps.
    pub remediation_history: usize,
    /// Webhook notifications; `None` without `--webhook-url`.
    pub notify: Option<NotifySettings>,
    pub poll_interval: Duration,
    /// A snapshot older than this makes `/` unhealthy.
    pub max_age: Duration,
    pub listen: SocketAddr,
    /// The HTTP server's timeouts and connection cap.
    pub http: Limits,
    /// Other projects' series `/metrics` also carries.
    pub metrics_compat: Option<Compat>,
    /// Whether each poll also reads the connectors' info (`--connector-info poll`).
    pub connector_info: bool,
    /// How the status page's commands name this binary.
    pub program: Arc<str>,
}

impl ServeSettings {
    /// `--max-age`'s default: five poll intervals, at least 10 s.
    pub fn default_max_age(poll_interval: Duration) -> Duration {
        (poll_interval * 5).max(Duration::from_secs(10))
    }
}

/// `serve`'s settings from its flags.
pub fn serve(args: &ServeArgs) -> Result<ServeSettings, SettingsError> {
    if args.poll_interval.is_zero() {
        return Err(invalid("poll-interval", "must be more than 0"));
    }
    let max_age = args
        .max_age
        .unwrap_or_else(|| ServeSettings::default_max_age(args.poll_interval));
    if max_age <= args.poll_interval {
        return Err(invalid(
            "max-age",
            format!(
                "{} must be more than --poll-interval {}: every snapshot would be stale",
                humantime::format_duration(max_age),
                humantime::format_duration(args.poll_interval)
            ),
        ));
    }
    let (silent, connector_info) = silent(&args.silent, args.fail_on_silent.as_deref())?;
    let client = client(&args.connect)?;
    let policy = Policy {
        silent,
        ..policy(&args.scope, &args.connect.connect_url)?
    };
    let restart = restart_policy(&args.remediation)?;
    let notify = notify(
        &args.notify,
        restart.is_some(),
        &policy.worker,
        client.base_url(),
    )?;
    Ok(ServeSettings {
        client,
        policy,
        restart,
        notify,
        remediation_history: args.remediation.remediation_history,
        poll_interval: args.poll_interval,
        max_age,
        listen: SocketAddr::new(args.bind, args.port),
        http: limits(&args.http)?,
        metrics_compat: match args.metrics_compat {
            MetricsCompat::None => None,
            MetricsCompat::Strimzi => Some(Compat::Strimzi),
        },
        connector_info,
        program: super::PROGRAM.into(),
    })
}
