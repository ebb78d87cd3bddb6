//! `connect-sentinel reconcile`: long-running. Applies the manifests at start-up, again
//! after every debounced change of a manifest or `--vars` file (secret rotation), and
//! every `--interval` (drift made by hand); serves /livez, /readyz, /metrics and / on
//! `--port`; stops cleanly on SIGTERM.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::{net::TcpListener, sync::mpsc};

use crate::{
    cli::ReconcileArgs,
    cmd::apply::write_settings,
    connect::ConnectClient,
    declare,
    reconcile::{
        self, Reconciler, Source,
        metrics::Metrics,
        server::{self, ServerState},
        watch::{self, Watcher},
    },
    settings,
};

/// A validated reconciler, its watcher and the state its server reads.
pub struct Reconcile {
    pub reconciler: Reconciler,
    pub state: ServerState,
    watcher: Watcher,
    changes: mpsc::Receiver<()>,
    interval: std::time::Duration,
}

/// Validates the flags and starts watching the files (no Connect call yet).
pub fn build(args: &ReconcileArgs) -> anyhow::Result<Reconcile> {
    anyhow::ensure!(
        !args.interval.is_zero(),
        "invalid --interval: must be more than 0"
    );
    let options = declare::options(&args.declare)?;
    let client = ConnectClient::new(settings::client_options(&args.declare.connect)?)?;
    let source = Source {
        files: args.declare.files.clone(),
        vars: args.declare.vars.clone(),
        options,
        write: write_settings(&args.write, false),
    };
    let mut watched = source.files.clone();
    watched.extend(source.vars.clone());
    let (watcher, changes) = watch::watch(&watched, args.debounce)?;
    let metrics = Arc::new(Metrics::default());
    let reconciler = Reconciler::new(client, source, metrics.clone());
    let state = ServerState {
        status: reconciler.subscribe(),
        heartbeat: reconciler.heartbeat(),
        stall: args.interval * 2 + args.write.timeout + args.debounce,
        metrics,
    };
    Ok(Reconcile {
        reconciler,
        state,
        watcher,
        changes,
        interval: args.interval,
    })
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
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let Reconcile {
        reconciler,
        state,
        watcher,
        changes,
        interval,
    } = reconcile;
    let stopped = async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    };
    let looping = tokio::spawn(reconcile::run(reconciler, changes, interval, stopped));
    let app = server::router(state);
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    serve.await.context("reconcile server failed")?;
    let _ = looping.await;
    drop(watcher);
    Ok(())
}

/// `reconcile` from the command line.
pub async fn main(args: ReconcileArgs) -> anyhow::Result<()> {
    let reconcile = build(&args)?;
    let listener = bind(&args).await?;
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, files = ?args.declare.files, interval = ?args.interval, "reconciling");
    run(reconcile, listener, crate::shutdown::signal()).await
}
