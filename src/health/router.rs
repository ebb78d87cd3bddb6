//! The HTTP surface of `serve`, answered from memory: probes never wait on Connect.
//!
//! | path | meaning |
//! |---|---|
//! | `GET /` | kafka-connect-healthcheck's verdict: 200 or 503 with its JSON |
//! | `GET /ping` | `{"status":"UP"}`, always 200 |
//! | `GET /livez` | the process and its poller are alive |
//! | `GET /readyz` | Connect reachable and its worker healthy (`/health` on 3.9+) |
//! | `GET /connectors/{name}` | one connector and its tasks, any worker |
//! | `GET /connectors/{name}/tasks/{id}` | one task |
//! | `GET /remediation` | connectors under auto-restart: attempts, next attempt, phase |
//! | `GET /metrics` | Prometheus / OpenMetrics text |

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use tokio::time::Instant;

use super::{HealthState, Observed, usable};
use crate::{
    connect::{ConnectorStatus, WorkerHealth},
    verdict::{self, error_json},
};

/// The router over shared state.
pub fn router(state: HealthState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/ping", get(|| async { Json(json!({"status": "UP"})) }))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/connectors/{name}", get(connector))
        .route("/connectors/{name}/tasks/{id}", get(task))
        .route("/remediation", get(remediation))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "application/json")],
            )
        })
        .with_state(state)
}

fn code(healthy: bool) -> StatusCode {
    if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

fn unavailable(body: Value) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

async fn root(State(state): State<HealthState>) -> Response {
    let observed = state.latest();
    match usable::verdict(&observed, state.max_age, Instant::now()) {
        Ok(v) => {
            let mut body = v.to_json();
            if !observed.remediation.is_empty() {
                body["remediation"] = json!(observed.remediation);
            }
            (code(v.healthy), Json(body)).into_response()
        }
        Err(reason) => unavailable(error_json(
            &reason.to_string(),
            &state.policy.unhealthy_states,
        )),
    }
}

async fn livez(State(state): State<HealthState>) -> Response {
    match state.poller_alive() {
        true => Json(json!({"status": "UP"})).into_response(),
        false => {
            unavailable(json!({"status": "DOWN", "reason": "the poller has stopped iterating"}))
        }
    }
}

async fn readyz(State(state): State<HealthState>) -> Response {
    let observed = state.latest();
    let snapshot = match state.usable(&observed) {
        Ok(snapshot) => snapshot,
        Err(reason) => {
            return unavailable(json!({"ready": false, "reason": reason.to_string()}));
        }
    };
    match &snapshot.worker {
        Ok(WorkerHealth::Healthy) => Json(json!({"ready": true})).into_response(),
        Ok(WorkerHealth::Starting(m)) => {
            unavailable(json!({"ready": false, "reason": format!("worker starting: {m}")}))
        }
        Ok(WorkerHealth::Unhealthy(m)) => {
            unavailable(json!({"ready": false, "reason": format!("worker unhealthy: {m}")}))
        }
        Err(e) => unavailable(json!({"ready": false, "reason": e.to_string()})),
    }
}

/// A refusal: status and JSON body.
type Refusal = (StatusCode, Json<Value>);

/// Finds a connector in the usable snapshot, or the 404/503 answer.
fn find(
    state: &HealthState,
    observed: &Arc<Observed>,
    name: &str,
) -> Result<Option<ConnectorStatus>, Refusal> {
    let unusable = |reason: usable::Unusable| {
        let body = json!({"healthy": false, "error": reason.to_string()});
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    };
    let snapshot = state.usable(observed).map_err(unusable)?;
    let not_found = |why: String| (StatusCode::NOT_FOUND, Json(json!({"error": why})));
    if !state.policy.selects(name) {
        return Err(not_found(format!(
            "connector {name} is excluded by --include/--exclude"
        )));
    }
    snapshot
        .connectors
        .get(name)
        .cloned()
        .ok_or_else(|| not_found(format!("connector {name} not found")))
}

async fn connector(State(state): State<HealthState>, Path(name): Path<String>) -> Response {
    let observed = state.latest();
    let status = match find(&state, &observed, &name) {
        Ok(status) => status,
        Err(refusal) => return refusal.into_response(),
    };
    let verdict = verdict::evaluate_one(
        &state.policy,
        &name,
        status.clone(),
        None,
        &observed.transitions,
    );
    let body = json!({
        "connector": name, "status": status, "failures": verdict.failures,
        "transitional": !verdict.transitional.is_empty(), "healthy": verdict.healthy,
    });
    (code(verdict.healthy), Json(body)).into_response()
}

async fn task(
    State(state): State<HealthState>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let observed = state.latest();
    let status = match find(&state, &observed, &name) {
        Ok(status) => status,
        Err(refusal) => return refusal.into_response(),
    };
    let task = id
        .parse::<u32>()
        .ok()
        .and_then(|id| status.as_ref()?.tasks.iter().find(|t| t.id == id).cloned());
    let (Some(only), Some(task)) = (status, task) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("task {name}-{id} not found")})),
        )
            .into_response();
    };
    let verdict = verdict::evaluate_one(
        &state.policy,
        &name,
        Some(only),
        Some(task.id),
        &observed.transitions,
    );
    let body = json!({
        "connector": name, "id": task.id, "state": task.state, "worker_id": task.worker_id,
        "trace": task.trace, "transitional": !verdict.transitional.is_empty(), "healthy": verdict.healthy,
    });
    (code(verdict.healthy), Json(body)).into_response()
}

async fn remediation(State(state): State<HealthState>) -> Response {
    let observed = state.latest();
    Json(json!({"connectors": observed.remediation})).into_response()
}

async fn metrics(State(state): State<HealthState>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        state.metrics.encode(),
    )
        .into_response()
}
