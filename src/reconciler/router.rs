//! `reconcile`'s HTTP surface: `/livez` (the loop keeps iterating), `/readyz` (the last
//! pass converged), `/metrics`, `/` (the last pass as JSON), and `/remediation` (the
//! declared connectors with `autoRestart` under restart).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;
use tokio::{sync::watch, time::Instant};

use super::{Status, counters::ReconcileMetrics, view};
use crate::{
    health::{HealthState, poller::AutoRestartedSet},
    server, ui,
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
    /// Each declared connector as the last pass left it.
    pub declared: watch::Receiver<Arc<view::Pass>>,
    /// `connect-sentinel diff` with this reconciler's flags (the page's command).
    pub diff: Arc<[String]>,
}

/// What the restart loop publishes, read as `serve`'s handlers read their poll loop's,
/// and which connectors are its own.
#[derive(Clone, Debug)]
pub struct Remediated {
    pub health: HealthState,
    /// The declared connectors with `autoRestart` (the only ones its page shows).
    pub connectors: watch::Receiver<Arc<AutoRestartedSet>>,
}

/// The router over shared state.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/remediation", get(remediation))
        .route("/ui", get(ui))
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
    text.push_str(&state.remediation.health.metrics.encode());
    server::metrics(text)
}

/// The declared connectors under auto-restart, as `serve`'s `/remediation` shows them.
async fn remediation(State(state): State<ServerState>) -> Response {
    let observed = state.remediation.health.latest();
    Json(crate::health::router::remediation_document(&observed)).into_response()
}

/// The status page: every declared connector, desired against live, then those with
/// `autoRestart` as their restart loop sees them, under a line about the last pass.
async fn ui(State(state): State<ServerState>, RawQuery(raw): RawQuery) -> Response {
    let restarts = &state.remediation;
    let observed = restarts.health.latest();
    let auto = restarts.connectors.borrow().clone();
    let ours = |name: &str| auto.contains_key(name);
    let pass = state.declared.borrow().clone();
    let standby = matches!(state.status.borrow().last, Some(super::Outcome::Standby));
    let source = ui::Source {
        no_poll: (!auto.is_empty()).then_some(
            "No status read yet: the reconciler reads the statuses of declared connectors with autoRestart only while it leads.",
        ),
        pass: Some(pass_line(&state.status.borrow())),
        only: Some(&ours),
        declared: Some(ui::declared::Declared {
            pass: &pass,
            diff: &state.diff,
            standby,
        }),
        ..ui::Source::of(&restarts.health, &observed)
    };
    ui::respond(&source, raw.as_deref())
}

/// How much of the last outcome the pass line shows (the declared table has each
/// connector's whole problem).
const PASS_LINE_LIMIT: usize = 160;

/// `Reconciler: 4 change(s) applied (pass 3, 4 declared, converged 12:00:00.123Z).`
fn pass_line(status: &Status) -> String {
    let outcome = status
        .last
        .as_ref()
        .map_or_else(|| "no pass yet".to_string(), ToString::to_string);
    let outcome = match outcome.chars().count() > PASS_LINE_LIMIT {
        true => format!(
            "{}…",
            outcome.chars().take(PASS_LINE_LIMIT).collect::<String>()
        ),
        false => outcome,
    };
    let converged = status.last_success.map_or_else(
        || "never converged".to_string(),
        |at| format!("converged at {}", humantime::format_rfc3339_seconds(at)),
    );
    format!(
        "Reconciler: {outcome} (pass {}, {} declared, {converged}).",
        status.passes, status.declared
    )
}
