//! `connect-sentinel reconcile`: long-running. Applies the manifests at start-up, again
//! after every debounced change of a manifest, ConfigMap or `--vars` file (secret
//! rotation) that changed its content, and every `--interval` (drift made by hand);
//! serves /livez, /readyz, /metrics and / on `--port`; stops cleanly on SIGTERM.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::{net::TcpListener, sync::mpsc};

#[cfg(feature = "k8s")]
use crate::reconciler::k8s::{self, lease};
use crate::{
    cli::{ReconcileArgs, SourceKind},
    reconciler::{
        self, Reconciler, Source,
        metrics::Metrics,
        schedule::{self, Changes, Signals},
        server::{self, ServerState},
        watch::{self, Watcher},
    },
    settings,
};

/// A validated reconciler, its watcher and the state its server reads.
pub struct Reconcile {
    pub reconciler: Reconciler,
    pub state: ServerState,
    watcher: Option<Watcher>,
    changes: Changes,
    interval: std::time::Duration,
    debounce: std::time::Duration,
    #[cfg(feature = "k8s")]
    election: Option<(lease::Election, tokio::sync::watch::Sender<bool>)>,
}

/// A Kubernetes client, when the flags need one (ConfigMap source, leader election).
#[cfg(feature = "k8s")]
pub type Kube = Option<kube::Client>;
/// Built without the `k8s` feature: never a client.
#[cfg(not(feature = "k8s"))]
pub type Kube = Option<std::convert::Infallible>;

/// Validates the flags and starts watching the files (no Connect call yet).
pub fn build(args: &ReconcileArgs) -> anyhow::Result<Reconcile> {
    build_with(args, None)
}

/// [`build`] with a Kubernetes client for `--source configmaps` and
/// `--leader-election` (`main` infers one; tests pass one for a mocked API).
pub fn build_with(args: &ReconcileArgs, kube: Kube) -> anyhow::Result<Reconcile> {
    anyhow::ensure!(
        !args.interval.is_zero(),
        "invalid --interval: must be more than 0"
    );
    let (signals, changes) = schedule::changes();
    let (source, watcher) = source(args, &kube, signals)?;
    let declare = settings::declare(&args.declare)?;
    let metrics = Arc::new(Metrics::default());
    let write = settings::write(&args.write);
    let reconciler = Reconciler::new(declare, source, write, metrics.clone());
    #[cfg(feature = "k8s")]
    let election = election(args, kube)?;
    #[cfg(feature = "k8s")]
    let reconciler = match &election {
        Some((_, leading)) => reconciler.with_leader(leading.subscribe()),
        None => reconciler,
    };
    #[cfg(not(feature = "k8s"))]
    anyhow::ensure!(
        !args.kube.leader_election,
        "--leader-election needs the k8s feature"
    );
    let state = ServerState {
        status: reconciler.subscribe(),
        heartbeat: reconciler.heartbeat(),
        stall: args.interval * 2 + args.write.timeout + args.debounce * schedule::SETTLE_LIMIT,
        metrics,
    };
    Ok(Reconcile {
        reconciler,
        state,
        watcher,
        changes,
        interval: args.interval,
        debounce: args.debounce,
        #[cfg(feature = "k8s")]
        election,
    })
}

/// The manifest source, and the file watcher when it is files (the `--vars` path is
/// watched for both sources: secret rotation). Every path must exist.
fn source(
    args: &ReconcileArgs,
    kube: &Kube,
    signals: Signals,
) -> anyhow::Result<(Source, Option<Watcher>)> {
    let files = &args.declare.files;
    let mut watched: Vec<_> = args.declare.vars.iter().cloned().collect();
    let source = match args.source {
        SourceKind::Files => {
            anyhow::ensure!(
                !files.is_empty(),
                "invalid --filename: give at least one manifest file or directory (-f)"
            );
            watched.extend(files.iter().cloned());
            Source::Files(files.clone())
        }
        SourceKind::Configmaps => {
            anyhow::ensure!(
                files.is_empty(),
                "invalid --filename: not with --source configmaps"
            );
            configmaps(args, kube, signals.configmaps.clone())?
        }
    };
    let watcher = match watched.is_empty() {
        true => None,
        false => Some(watch::watch_into(&watched, signals.files)?),
    };
    Ok((source, watcher))
}

#[cfg(feature = "k8s")]
fn configmaps(
    args: &ReconcileArgs,
    kube: &Kube,
    changes: mpsc::Sender<()>,
) -> anyhow::Result<Source> {
    let client = kube
        .clone()
        .context("--source configmaps needs a Kubernetes client")?;
    let namespace = match args.kube.all_namespaces {
        true => None,
        false => Some(namespace(args, &client)),
    };
    let maps = k8s::watch(client, namespace.as_deref(), &args.kube.selector, changes);
    Ok(Source::ConfigMaps(maps))
}

#[cfg(not(feature = "k8s"))]
fn configmaps(_: &ReconcileArgs, _: &Kube, _: mpsc::Sender<()>) -> anyhow::Result<Source> {
    anyhow::bail!("--source configmaps needs the k8s feature (this binary was built without it)")
}

/// `--namespace`, else `POD_NAMESPACE`, else the client's default namespace.
#[cfg(feature = "k8s")]
fn namespace(args: &ReconcileArgs, client: &kube::Client) -> String {
    args.kube
        .namespace
        .clone()
        .or_else(|| {
            std::env::var("POD_NAMESPACE")
                .ok()
                .filter(|n| !n.is_empty())
        })
        .unwrap_or_else(|| client.default_namespace().to_string())
}

/// The Lease campaign, with `--leader-election`.
#[cfg(feature = "k8s")]
fn election(
    args: &ReconcileArgs,
    kube: Kube,
) -> anyhow::Result<Option<(lease::Election, tokio::sync::watch::Sender<bool>)>> {
    if !args.kube.leader_election {
        return Ok(None);
    }
    let client = kube.context("--leader-election needs a Kubernetes client")?;
    let namespace = args
        .kube
        .lease_namespace
        .clone()
        .unwrap_or_else(|| namespace(args, &client));
    let identity = args
        .kube
        .identity
        .clone()
        .or_else(|| std::env::var("POD_NAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|i| !i.is_empty())
        .context("--leader-election needs an identity: set --identity or POD_NAME")?;
    anyhow::ensure!(
        args.kube.lease_duration >= std::time::Duration::from_secs(3),
        "invalid --lease-duration: at least 3s (it is renewed every third)"
    );
    let election = lease::Election {
        api: kube::Api::namespaced(client, &namespace),
        name: args.kube.lease_name.clone(),
        identity,
        duration: args.kube.lease_duration,
        seen: Default::default(),
    };
    Ok(Some((election, tokio::sync::watch::Sender::new(false))))
}

/// Binds `--bind`:`--port` (`::` falling back to 0.0.0.0).
pub async fn bind(args: &ReconcileArgs) -> anyhow::Result<TcpListener> {
    super::serve::listen(args.bind, args.port).await
}

/// Runs the loop and the HTTP server until `shutdown` resolves.
pub async fn run(
    reconcile: Reconcile,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    // The campaign stops (and releases the lease) only after the loop has finished
    // its pass, so a standby never takes over while this replica is still writing.
    let (campaign_stop, campaign_rx) = tokio::sync::watch::channel(false);
    #[cfg(feature = "k8s")]
    let campaign = reconcile.election.map(|(election, leading)| {
        tokio::spawn(lease::run(election, leading, stopped(campaign_rx)))
    });
    #[cfg(not(feature = "k8s"))]
    drop(campaign_rx);
    let Reconcile {
        reconciler,
        state,
        watcher,
        changes,
        interval,
        debounce,
        ..
    } = reconcile;
    let looping = tokio::spawn(reconciler::run(
        reconciler,
        changes,
        (interval, debounce),
        stopped(stop_rx),
    ));
    let app = server::router(state);
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    serve.await.context("reconcile server failed")?;
    let _ = looping.await;
    let _ = campaign_stop.send(true);
    #[cfg(feature = "k8s")]
    if let Some(campaign) = campaign {
        let _ = campaign.await;
    }
    drop(watcher);
    Ok(())
}

/// `reconcile` from the command line.
pub async fn main(args: ReconcileArgs) -> anyhow::Result<()> {
    let reconcile = build_with(&args, kube_client(&args).await?)?;
    let listener = bind(&args).await?;
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, source = ?args.source, files = ?args.declare.files, interval = ?args.interval, "reconciling");
    run(reconcile, listener, crate::shutdown::signal()).await
}

/// The in-cluster (or kubeconfig) client, when the flags need one.
#[cfg(feature = "k8s")]
async fn kube_client(args: &ReconcileArgs) -> anyhow::Result<Kube> {
    if args.source == SourceKind::Files && !args.kube.leader_election {
        return Ok(None);
    }
    let client = kube::Client::try_default()
        .await
        .context("cannot configure a Kubernetes client (in-cluster or KUBECONFIG)")?;
    Ok(Some(client))
}

#[cfg(not(feature = "k8s"))]
async fn kube_client(_: &ReconcileArgs) -> anyhow::Result<Kube> {
    Ok(None)
}
