//! `connect-sentinel reconcile`: long-running. Applies the manifests at start-up, again
//! after every debounced change of a manifest, ConfigMap or `--vars` file (secret
//! rotation) that changed its content, and every `--interval` (drift made by hand);
//! serves /livez, /readyz, /metrics and / on `--port`; stops cleanly on SIGTERM.

use std::{future::Future, net::SocketAddr, sync::Arc};

#[cfg(feature = "k8s")]
use anyhow::Context;
use futures::future::BoxFuture;
use tokio::{net::TcpListener, sync::mpsc};

#[cfg(feature = "k8s")]
use crate::reconciler::k8s::{self, lease};
#[cfg(feature = "k8s")]
use crate::settings::{Election, Namespace};
use crate::{
    cli::ReconcileArgs,
    connect::ConnectClient,
    health::{
        HealthState,
        metrics::HealthMetrics,
        poller::{self, Only, PollLoop},
        remedy::Remediation,
    },
    notify::{self, Delivery},
    poll::Poller,
    reconciler::{
        self, Reconciler, Source,
        counters::ReconcileMetrics,
        router::{self as routes, Remediated, ServerState},
        schedule::{self, Changes, Signals},
        watch::{self, Watcher},
    },
    remediate::{
        Policies,
        execute::{Executor, RETRY},
    },
    server::{self, Running},
    settings::{
        self, KubeSettings, ReconcileRestarts, ReconcileSettings, ServeSettings, SourceSettings,
    },
    ui,
    verdict::Policy,
};

/// A validated reconciler, its watcher and the state its server reads.
pub struct Reconcile {
    pub reconciler: Reconciler,
    pub state: ServerState,
    watcher: Option<Watcher>,
    changes: Changes,
    interval: std::time::Duration,
    debounce: std::time::Duration,
    limits: server::Limits,
    /// Restarts of declared connectors with `autoRestart` (on a thread of its own), and
    /// their notifications.
    restarts: Restarts,
    #[cfg(feature = "k8s")]
    election: Option<(lease::Election, tokio::sync::watch::Sender<bool>)>,
}

/// A Kubernetes client, when the flags need one (ConfigMap source, leader election).
#[cfg(feature = "k8s")]
pub type Kube = Option<kube::Client>;
/// Built without the `k8s` feature: never a client.
#[cfg(not(feature = "k8s"))]
pub type Kube = Option<std::convert::Infallible>;

/// Builds the reconciler from its settings and starts watching the files (no Connect
/// call yet).
pub fn build(settings: ReconcileSettings) -> anyhow::Result<Reconcile> {
    build_with(settings, None)
}

/// [`build`] with a Kubernetes client for `--source configmaps` and
/// `--leader-election` (`main` infers one; tests pass one for a mocked API).
pub fn build_with(settings: ReconcileSettings, kube: Kube) -> anyhow::Result<Reconcile> {
    let (signals, changes) = schedule::changes();
    let (source, watcher) = source(&settings, &kube, signals)?;
    let metrics = Arc::new(ReconcileMetrics::default());
    let stall =
        settings.interval * 2 + settings.write.timeout + settings.debounce * schedule::SETTLE_LIMIT;
    let client = settings.declare.client.clone();
    let diff = ui::declared::diff_command(&settings.program, &settings.declare).into();
    let reconciler = Reconciler::new(settings.declare, source, settings.write, metrics.clone());
    #[cfg(feature = "k8s")]
    let election = settings.election.map(|e| election(e, kube)).transpose()?;
    #[cfg(feature = "k8s")]
    let reconciler = match &election {
        Some((_, leading)) => reconciler.with_leader(leading.subscribe()),
        None => reconciler,
    };
    let restarts = restarts(&client, settings.restarts, &reconciler, settings.program);
    let state = ServerState {
        status: reconciler.subscribe(),
        heartbeat: reconciler.heartbeat(),
        stall,
        metrics,
        remediation: restarts.remediated.clone(),
        declared: reconciler.declared(),
        diff,
    };
    Ok(Reconcile {
        reconciler,
        state,
        watcher,
        changes,
        interval: settings.interval,
        debounce: settings.debounce,
        limits: settings.http,
        restarts,
        #[cfg(feature = "k8s")]
        election,
    })
}

/// How long the Events queued at shutdown may take to post.
const EVENTS_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// How many remediation events `/remediation` keeps.
const HISTORY: usize = 100;

/// The loop that remediates failed connectors whose manifest enables `autoRestart`
/// (while this replica leads), what its server reads of it, and what runs beside it.
struct Restarts {
    poll_loop: PollLoop,
    remediated: Remediated,
    /// Webhook delivery, with `--webhook-url`.
    delivery: Option<Delivery>,
    /// Kubernetes Events on the ConfigMaps the connectors are declared in.
    events: Option<BoxFuture<'static, ()>>,
}

fn restarts(
    client: &ConnectClient,
    settings: ReconcileRestarts,
    reconciler: &Reconciler,
    program: Arc<str>,
) -> Restarts {
    let (publisher, observed) = poller::channel();
    let max_age = ServeSettings::default_max_age(settings.interval);
    let metrics = HealthMetrics::new(observed.clone(), max_age);
    let (metrics, notifier, delivery) = notify::attach(settings.notify, metrics);
    let executor = Executor::new(client.clone(), false, RETRY)
        .with_declared(Arc::new(reconciler.recreatable()));
    let remediation = Remediation::new(Policies::uniform(settings.policy), executor, HISTORY);
    let (remediation, events) = events(remediation, reconciler);
    let only = Only {
        connectors: reconciler.auto_restarted(),
        leading: reconciler.leading(),
    };
    let policy = Arc::new(Policy::default());
    let poll_loop = PollLoop {
        poller: Poller::new(client.clone()),
        policy: policy.clone(),
        interval: settings.interval,
        remediation: Some(remediation),
        only: Some(only),
        notifier,
        metrics: metrics.clone(),
        publisher,
    };
    Restarts {
        poll_loop,
        remediated: Remediated {
            health: HealthState {
                policy,
                observed,
                poll_interval: settings.interval,
                max_age,
                metrics,
                connect_url: client.base_url().into(),
                program,
            },
            connectors: reconciler.auto_restarted(),
        },
        delivery,
        events,
    }
}

/// With ConfigMaps as the source: remediation tapped, and the task posting its events.
#[cfg(feature = "k8s")]
fn events(
    remediation: Remediation,
    reconciler: &Reconciler,
) -> (Remediation, Option<BoxFuture<'static, ()>>) {
    let Source::ConfigMaps(maps) = reconciler.source() else {
        return (remediation, None);
    };
    let (remediation, tap) = remediation.with_tap();
    let post = k8s::remediation::post(tap, reconciler.auto_restarted(), maps.clone());
    (remediation, Some(Box::pin(post)))
}

#[cfg(not(feature = "k8s"))]
fn events(
    remediation: Remediation,
    _: &Reconciler,
) -> (Remediation, Option<BoxFuture<'static, ()>>) {
    (remediation, None)
}

/// The manifest source, and the file watcher when it is files (the `--vars` path is
/// watched for both sources: secret rotation). Every path must exist.
fn source(
    settings: &ReconcileSettings,
    kube: &Kube,
    signals: Signals,
) -> anyhow::Result<(Source, Option<Watcher>)> {
    let mut watched: Vec<_> = settings.declare.vars.iter().cloned().collect();
    let source = match &settings.source {
        SourceSettings::Files(files) => {
            watched.extend(files.iter().cloned());
            Source::Files(files.clone())
        }
        SourceSettings::ConfigMaps(maps) => configmaps(maps, kube, signals.configmaps.clone())?,
    };
    let watcher = match watched.is_empty() {
        true => None,
        false => Some(watch::watch_into(&watched, signals.files)?),
    };
    Ok((source, watcher))
}

#[cfg(feature = "k8s")]
fn configmaps(
    maps: &KubeSettings,
    kube: &Kube,
    changes: mpsc::Sender<()>,
) -> anyhow::Result<Source> {
    let client = kube
        .clone()
        .context("--source configmaps needs a Kubernetes client")?;
    let namespace = maps.namespace.as_ref().map(|n| named(n, &client));
    let maps = k8s::watch(client, namespace.as_deref(), &maps.selector, changes);
    Ok(Source::ConfigMaps(maps))
}

#[cfg(not(feature = "k8s"))]
fn configmaps(_: &KubeSettings, _: &Kube, _: mpsc::Sender<()>) -> anyhow::Result<Source> {
    anyhow::bail!("--source configmaps needs the k8s feature (this binary was built without it)")
}

/// The namespace settings name, or the client's default.
#[cfg(feature = "k8s")]
fn named(namespace: &Namespace, client: &kube::Client) -> String {
    match namespace {
        Namespace::Named(name) => name.clone(),
        Namespace::ClientDefault => client.default_namespace().to_string(),
    }
}

/// The Lease campaign.
#[cfg(feature = "k8s")]
fn election(
    settings: Election,
    kube: Kube,
) -> anyhow::Result<(lease::Election, tokio::sync::watch::Sender<bool>)> {
    let client = kube.context("--leader-election needs a Kubernetes client")?;
    let namespace = named(&settings.lease_namespace, &client);
    let election = lease::Election {
        api: kube::Api::namespaced(client, &namespace),
        name: settings.lease_name,
        identity: settings.identity,
        duration: settings.duration,
        seen: Default::default(),
    };
    Ok((election, tokio::sync::watch::Sender::new(false)))
}

/// Binds the settings' address (`::` falling back to 0.0.0.0).
pub async fn bind(settings: &ReconcileSettings) -> anyhow::Result<TcpListener> {
    server::listen(settings.listen).await
}

/// Runs the loop and the HTTP server until `shutdown` resolves.
pub async fn run(
    reconcile: Reconcile,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopping) = server::stop_signal();
    // The campaign stops (and releases the lease) only after the loop has stopped
    // (shutdown cuts its pass short, dropping in-flight Connect calls), so a standby
    // never takes over while this replica is still writing.
    let (campaign_stop, campaign_stopping) = server::stop_signal();
    #[cfg(feature = "k8s")]
    let campaign = reconcile.election.map(|(election, leading)| {
        tokio::spawn(lease::run(election, leading, campaign_stopping.wait()))
    });
    #[cfg(not(feature = "k8s"))]
    drop(campaign_stopping);
    let Reconcile {
        reconciler,
        state,
        watcher,
        changes,
        interval,
        debounce,
        limits,
        restarts,
        ..
    } = reconcile;
    let restarts_done = restarts.poll_loop.spawn(stopping.clone().wait())?;
    let delivery = restarts
        .delivery
        .map(|d| tokio::spawn(d.run(stopping.clone().wait())));
    let events = restarts.events.map(tokio::spawn);
    let looping = tokio::spawn(reconciler::run(
        reconciler,
        changes,
        (interval, debounce),
        stopping.wait(),
    ));
    let app = (routes::router(state), limits);
    server::serve_until("reconcile server", listener, app, shutdown, stop).await;
    let _ = looping.await;
    let _ = restarts_done.await;
    if let Some(delivery) = delivery {
        let _ = delivery.await;
    }
    // The tap closed with the loop; the Events still queued get a few seconds.
    if let Some(events) = events {
        let abort = events.abort_handle();
        if tokio::time::timeout(EVENTS_DRAIN, events).await.is_err() {
            abort.abort();
        }
    }
    campaign_stop.fire();
    #[cfg(feature = "k8s")]
    if let Some(campaign) = campaign {
        let _ = campaign.await;
    }
    drop(watcher);
    Ok(())
}

/// [`run`] on a task of its own until the handle stops it.
pub fn start(reconcile: Reconcile, listener: TcpListener) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    Ok(Running::spawn("reconcile server", addr, move |stopping| {
        run(reconcile, listener, stopping.wait())
    }))
}

/// `reconcile` from the command line.
pub async fn main(args: ReconcileArgs) -> anyhow::Result<()> {
    let settings = settings::reconcile(&args)?;
    if let Some(notify) = &settings.restarts.notify {
        notify.announce();
    }
    let listener = bind(&settings).await?;
    let (source, interval) = (settings.source.clone(), settings.interval);
    let reconcile = build_with(settings.clone(), kube_client(&settings).await?)?;
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, %source, interval = %humantime::format_duration(interval), "reconciling");
    start(reconcile, listener)?
        .until(crate::shutdown::signal())
        .await
}

/// The in-cluster (or kubeconfig) client, when the settings need one.
#[cfg(feature = "k8s")]
async fn kube_client(settings: &ReconcileSettings) -> anyhow::Result<Kube> {
    if !settings.needs_kube() {
        return Ok(None);
    }
    let client = kube::Client::try_default()
        .await
        .context("cannot configure a Kubernetes client (in-cluster or KUBECONFIG)")?;
    Ok(Some(client))
}

#[cfg(not(feature = "k8s"))]
async fn kube_client(_: &ReconcileSettings) -> anyhow::Result<Kube> {
    Ok(None)
}
