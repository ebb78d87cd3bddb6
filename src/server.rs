//! The one HTTP server of `serve`, `reconcile` and `demo`: binding (`::` falling back
//! to 0.0.0.0), serving a router with bounded connections until a shutdown future
//! resolves while telling the server's background loops to stop, and the `/livez` and
//! `/metrics` answers. [`Running`] is the handle of a started server. IO at the edge:
//! each server takes a bound listener, so tests bind `127.0.0.1:0`.
//!
//! Every connection must send a whole request head within [`Limits::header_timeout`]
//! of being accepted or of its previous response (hyper's header-read timer, which
//! also closes idle keep-alive connections), and at most [`Limits::max_connections`]
//! are served at once: beyond that the next one is not accepted until one closes (it
//! waits in the kernel's backlog, costing this process nothing). On shutdown the
//! listener closes, open connections are asked to finish their request, and whatever
//! is still open after [`DRAIN`] is dropped.

mod running;

pub use running::Running;

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use axum::{
    Json, Router,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use serde_json::json;
use tokio::{
    net::{TcpListener, TcpSocket, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    task::JoinSet,
};

/// How long in-flight requests may take to finish once shutdown began. Every answer
/// comes from memory, so this only cuts off clients that stalled.
pub const DRAIN: Duration = Duration::from_secs(1);

/// What one server allows its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A connection that has not sent a whole request head this long after it was
    /// accepted, or after its previous response, is closed (so this is the idle
    /// keep-alive timeout too).
    pub header_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
}

impl Limits {
    /// `--header-timeout`'s default: a probe or scrape sends its head at once.
    pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
    /// `--max-connections`' default: about 1 MiB of buffers at most (some 16 KiB
    /// each), and still twenty times what kubelet and Prometheus open at once.
    pub const MAX_CONNECTIONS: usize = 64;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Self::HEADER_TIMEOUT,
            max_connections: Self::MAX_CONNECTIONS,
        }
    }
}

/// Connections the kernel queues for [`serve_until`] to accept (the standard
/// library's 128 would make clients over the connection cap retry their SYN instead).
pub const BACKLOG: u32 = 1024;

/// Binds `addr`; `::` falls back to 0.0.0.0 where IPv6 is unavailable.
pub async fn listen(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let (ip, port) = (addr.ip(), addr.port());
    match bind(addr) {
        Ok(listener) => Ok(listener),
        Err(e) if ip.is_unspecified() && ip.is_ipv6() => {
            tracing::debug!(error = %e, "IPv6 unavailable, binding 0.0.0.0");
            let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
            bind(v4).with_context(|| format!("cannot listen on {v4}"))
        }
        Err(e) => Err(e).with_context(|| format!("cannot listen on {addr}")),
    }
}

/// A listener on `addr` with [`BACKLOG`], rebinding a port in TIME_WAIT at once.
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The stop signal of a server's background loops: it fires when shutdown begins.
#[derive(Clone, Debug)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Resolves once the server began shutting down.
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}

/// The sending half of [`Stopping`], held by [`serve_until`].
#[derive(Debug)]
pub struct StopSignal(watch::Sender<bool>);

impl StopSignal {
    /// Tells every [`Stopping`] to stop, without a server.
    pub fn fire(self) {
        let _ = self.0.send(true);
    }
}

/// A new stop signal for a server and its loops.
pub fn stop_signal() -> (StopSignal, Stopping) {
    let (tx, rx) = watch::channel(false);
    (StopSignal(tx), Stopping(rx))
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves; then `stop`
/// tells the loops, and in-flight requests get [`DRAIN`] to finish. `name` names the
/// server in logs.
pub async fn serve_until(
    name: &str,
    listener: TcpListener,
    (app, limits): (Router, Limits),
    shutdown: impl Future<Output = ()>,
    stop: StopSignal,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut connections = Connections::new(app, limits);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(name, &listener, &permits) => {
                if let Some((stream, permit)) = accepted {
                    connections.serve(stream, permit);
                }
            }
        }
    }
    stop.fire();
    drop(listener);
    connections.drain(name).await;
}

/// The open connections: each on a task of its own, holding a permit of the cap.
struct Connections {
    app: Router,
    http: http1::Builder,
    graceful: GracefulShutdown,
    tasks: JoinSet<()>,
}

impl Connections {
    fn new(app: Router, limits: Limits) -> Self {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        Self {
            app,
            http,
            graceful: GracefulShutdown::new(),
            tasks: JoinSet::new(),
        }
    }

    /// Serves one connection until it closes, then gives its permit back.
    fn serve(&mut self, stream: TcpStream, permit: OwnedSemaphorePermit) {
        while self.tasks.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(self.app.clone());
        let served = self
            .graceful
            .watch(self.http.serve_connection(TokioIo::new(stream), service));
        self.tasks.spawn(async move {
            if let Err(e) = served.await {
                tracing::debug!(error = %e, "connection closed");
            }
            drop(permit);
        });
    }

    /// Asks every connection to finish its request and close; drops what is still
    /// open after [`DRAIN`].
    async fn drain(mut self, name: &str) {
        if tokio::time::timeout(DRAIN, self.graceful.shutdown())
            .await
            .is_err()
        {
            let open = self.tasks.len();
            tracing::debug!(server = name, open, "dropping connections still open");
        }
        self.tasks.shutdown().await;
    }
}

/// The next connection, once fewer than the cap are open; `None` after an accept
/// error (logged; after one that is not the client's, a pause, as when out of file
/// descriptors).
async fn accept(
    name: &str,
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> Option<(TcpStream, OwnedSemaphorePermit)> {
    let permit = match permits.clone().try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            tracing::debug!(
                server = name,
                "connection cap reached: new connections wait"
            );
            permits.clone().acquire_owned().await.ok()?
        }
    };
    match listener.accept().await {
        Ok((stream, _)) => Some((stream, permit)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset
            ) =>
        {
            None
        }
        Err(e) => {
            tracing::error!(server = name, error = %e, "cannot accept a connection");
            tokio::time::sleep(Duration::from_secs(1)).await;
            None
        }
    }
}

/// `/livez`: 200 `UP` while `alive`, else 503 `DOWN` with why.
pub fn livez(alive: bool, why_not: &str) -> Response {
    match alive {
        true => Json(json!({"status": "UP"})).into_response(),
        false => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "DOWN", "reason": why_not})),
        )
            .into_response(),
    }
}

/// `/metrics`: OpenMetrics text.
pub fn metrics(text: String) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}
