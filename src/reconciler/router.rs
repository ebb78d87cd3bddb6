//! `reconcile`'s HTTP surface: `/livez` (the loop keeps iterating), `/readyz` (the last
//! pass converged), `/metrics`, `/` (the last pass as JSON), and `/remediation` (the
//! declared connectors with `autoRestart` under restart).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;
use tokio::{sync::watch, time::Instant};

use super::{Status, counters::ReconcileMetrics};
use crate::{
    health::{Observed, metrics::HealthMetrics},
    server,
};

/// What the handlers read; cheap to clone.
#[derive(Clone, Debug)]
pub struct ServerState {
    pub status: watch::Receiver<Status>,
    pub heartbeat: Arc<Mutex<Instant>>,
    /// Past this without a heartbeat, the loop is considered stuck.
    pub stall: Duration,
    pub metrics: Arc<ReconcileMetrics>,
    /// The restart loop of declared connectors with `autoRestart`.
    pub remediation: Remediated,
}

/// What the restart loop publishes: its latest observation and its metrics.
#[derive(Clone, Debug)]
pub struct Remediated {
    pub observed: watch::Receiver<Arc<Observed>>,
    pub metrics: Arc<HealthMetrics>,
}

/// The router over shared state.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/remediation", get(remediation))
        .with_state(state)
}

async fn root(State(state): State<ServerState>) -> Response {
    Json(state.status.borrow().clone()).into_response()
}

async fn livez(State(state): State<ServerState>) -> Response {
    let beat = *state.heartbeat.lock().unwrap_or_else(|e| e.into_inner());
    let alive = beat.elapsed() <= state.stall;
    server::livez(alive, "the reconcile loop has stopped iterating")
}

async fn readyz(State(state): State<ServerState>) -> Response {
    let status = state.status.borrow().clone();
    let reason = match &status.last {
        None => "no reconcile pass has finished yet".to_string(),
        Some(outcome) if outcome.converged() => {
            return Json(json!({"ready": true})).into_response();
        }
        Some(super::Outcome::Standby) => {
            return Json(json!({"ready": true, "leader": false})).into_response();
        }
        Some(outcome) => outcome.to_string(),
    };
    let body = json!({"ready": false, "reason": reason, "last": status.last});
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// Both registries in one exposition: the passes', then the restart loop's.
async fn metrics(State(state): State<ServerState>) -> Response {
    let mut text = state.metrics.encode_families();
    text.push_str(&state.remediation.metrics.encode());
    server::metrics(text)
}

/// The declared connectors under auto-restart, as `serve`'s `/remediation` shows them.
async fn remediation(State(state): State<ServerState>) -> Response {
    let observed = state.remediation.observed.borrow().clone();
    Json(crate::health::router::remediation_document(&observed)).into_response()
}
