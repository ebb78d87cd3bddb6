//! `connect-sentinel serve`: the health server. Binds, starts the poll loop on its own
//! thread, serves probes from memory on the caller's runtime, and stops cleanly on
//! SIGTERM.

use std::{future::Future, sync::Arc};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    cli::ServeArgs,
    health::{
        HealthState,
        metrics::HealthMetrics,
        poller::{self, PollLoop},
        remedy::Remediation,
        router,
    },
    notify::{self, Delivery},
    poll::Poller,
    remediate::{
        Policies,
        execute::{Executor, RETRY},
    },
    server::{self, Running},
    settings::{self, ServeSettings},
    verdict::WorkerScope,
};

/// Everything `serve` needs, validated.
pub struct Server {
    /// The poll loop, to be started on its own thread.
    pub poll_loop: PollLoop,
    /// What the HTTP handlers read.
    pub state: HealthState,
    /// The HTTP server's timeouts and connection cap.
    pub limits: server::Limits,
    /// Webhook delivery, run on the server's runtime until shutdown.
    pub delivery: Option<Delivery>,
}

/// Builds the server from its settings (no IO yet).
pub fn build(settings: ServeSettings) -> Server {
    let ServeSettings {
        client,
        policy,
        restart,
        remediation_history,
        poll_interval,
        max_age,
        http,
        metrics_compat,
        connector_info,
        notify,
        program,
        ..
    } = settings;
    let remediation = restart.map(|r| {
        let precise = policy.worker != WorkerScope::All || r.trace.is_some();
        let executor = Executor::new(client.clone(), precise, RETRY);
        Remediation::new(Policies::uniform(r), executor, remediation_history)
    });
    let (publisher, observed) = poller::channel();
    let policy = Arc::new(policy);
    let metrics = HealthMetrics::new(observed.clone(), max_age).with_compat(
        metrics_compat,
        observed.clone(),
        max_age,
        policy.worker.clone(),
    );
    let (metrics, notifier, delivery) = notify::attach(notify, metrics);
    let connect_url: Arc<str> = client.base_url().into();
    let poll_loop = PollLoop {
        poller: Poller::new(client).with_info(connector_info),
        policy: policy.clone(),
        interval: poll_interval,
        remediation,
        only: None,
        notifier,
        metrics: metrics.clone(),
        publisher,
    };
    let state = HealthState {
        policy,
        observed,
        poll_interval,
        max_age,
        metrics,
        connect_url,
        program,
    };
    Server {
        poll_loop,
        state,
        limits: http,
        delivery,
    }
}

/// Runs the poll loop (on its own thread), webhook delivery (a task here) and the HTTP
/// server (here) until `shutdown` resolves.
pub async fn run(
    server: Server,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopping) = server::stop_signal();
    let poll_loop_done = server
        .poll_loop
        .spawn(stopping.clone().wait())
        .context("cannot start the poll loop")?;
    let delivery = server
        .delivery
        .map(|d| tokio::spawn(d.run(stopping.wait())));
    let app = (router::router(server.state), server.limits);
    server::serve_until("health server", listener, app, shutdown, stop).await;
    let _ = poll_loop_done.await;
    if let Some(delivery) = delivery {
        let _ = delivery.await;
    }
    Ok(())
}

/// [`run`] on a task of its own until the handle stops it.
pub fn start(server: Server, listener: TcpListener) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    Ok(Running::spawn("health server", addr, move |stopping| {
        run(server, listener, stopping.wait())
    }))
}

/// Logs a warning when a worker id is set but matches no connector or task.
pub fn warn_if_worker_unknown(state: &HealthState) {
    if state.policy.worker == WorkerScope::All {
        return;
    }
    let observed = state.latest();
    let Some(Ok(snapshot)) = &observed.poll else {
        return;
    };
    let ids = snapshot.instances().map(|i| i.worker_id);
    let mut seen = ids.peekable();
    if seen.peek().is_some() && !seen.any(|id| state.policy.worker.matches(id)) {
        tracing::warn!(worker = %state.policy.worker, "--connect-worker-id matches no connector or task; check the id (host:port) or use a host only");
    }
}

/// `serve` from the command line.
pub async fn main(args: ServeArgs) -> anyhow::Result<()> {
    let settings = settings::serve(&args)?;
    if let Some(notify) = &settings.notify {
        notify.announce();
    }
    let listener = server::listen(settings.listen).await?;
    let server = build(settings);
    let addr = listener.local_addr()?;
    tracing::info!(%addr, connect = server.poll_loop.poller.client().base_url(), interval = %humantime::format_duration(server.poll_loop.interval), "serving health checks");
    let state = server.state.clone();
    tokio::spawn(async move {
        let mut rx = state.observed.clone();
        if rx.wait_for(|o| o.poll.is_some()).await.is_ok() {
            warn_if_worker_unknown(&state);
        }
    });
    start(server, listener)?
        .until(crate::shutdown::signal())
        .await
}
