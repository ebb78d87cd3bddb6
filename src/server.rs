//! What the health server and the reconcile server share: binding (`::` falling back
//! to 0.0.0.0), serving a router until a shutdown future resolves while telling the
//! server's background loops to stop, and the `/livez` and `/metrics` answers. IO at
//! the edge: each server takes a bound listener, so tests bind `127.0.0.1:0`.

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, SocketAddr},
};

use anyhow::Context;
use axum::{
    Json, Router,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use tokio::{net::TcpListener, sync::watch};

/// Binds `addr`; `::` falls back to 0.0.0.0 where IPv6 is unavailable.
pub async fn listen(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let (ip, port) = (addr.ip(), addr.port());
    match TcpListener::bind(addr).await {
        Ok(listener) => Ok(listener),
        Err(e) if ip.is_unspecified() && ip.is_ipv6() => {
            tracing::debug!(error = %e, "IPv6 unavailable, binding 0.0.0.0");
            let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
            TcpListener::bind(v4)
                .await
                .with_context(|| format!("cannot listen on {v4}"))
        }
        Err(e) => Err(e).with_context(|| format!("cannot listen on {addr}")),
    }
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

/// Serves `app` on `listener` until `shutdown` resolves; then `stop` tells the loops,
/// and in-flight requests finish. `name` names the server in the error.
pub async fn serve_until(
    name: &str,
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    stop: StopSignal,
) -> anyhow::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.0.send(true);
        })
        .await
        .with_context(|| format!("{name} failed"))
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
