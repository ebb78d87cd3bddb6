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
//! | `GET /remediation` | connectors under auto-restart (phase, attempts, next step) and the last actions |
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
    server, silent,
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
        .route("/ui", get(crate::ui::page))
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
    server::livez(state.poller_alive(), "the poller has stopped iterating")
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
    let mut verdict = verdict::evaluate_one(
        &state.policy,
        &name,
        status.clone(),
        None,
        &observed.transitions,
    );
    let (silent, tasks) = silent_of(&state, &observed, &name, None, &mut verdict);
    let body = json!({
        "connector": name, "status": status, "failures": verdict.failures,
        "transitional": !verdict.transitional.is_empty(), "healthy": verdict.healthy,
        "tasks_running": tasks.running, "tasks_expected": tasks.expected,
        "silent_failures": silent,
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
    let mut verdict = verdict::evaluate_one(
        &state.policy,
        &name,
        Some(only),
        Some(task.id),
        &observed.transitions,
    );
    let (silent, _) = silent_of(&state, &observed, &name, Some(task.id), &mut verdict);
    let body = json!({
        "connector": name, "id": task.id, "state": task.state, "worker_id": task.worker_id,
        "trace": task.trace, "transitional": !verdict.transitional.is_empty(), "healthy": verdict.healthy,
        "silent_failures": silent,
    });
    (code(verdict.healthy), Json(body)).into_response()
}

/// The silent failures of `name` (of its task `task`, with the connector's own), and
/// its task counts; `verdict` counts those `--fail-on-silent` names (for a task, only
/// its own).
fn silent_of(
    state: &HealthState,
    observed: &Observed,
    name: &str,
    task: Option<u32>,
    verdict: &mut verdict::Verdict,
) -> (Vec<silent::Finding>, silent::Tasks) {
    let report = &observed.silent;
    let findings: Vec<silent::Finding> = report.of(name, task).cloned().collect();
    let own = findings.iter().filter(|f| task.is_none() || f.task == task);
    let only = silent::Report {
        findings: own.cloned().collect(),
        ..Default::default()
    };
    silent::count(
        verdict,
        &only,
        &state.policy.silent.fail_on,
        &Default::default(),
    );
    let tasks = report.tasks.get(name).copied().unwrap_or_default();
    (findings, tasks)
}

async fn remediation(State(state): State<HealthState>) -> Response {
    Json(remediation_document(&state.latest())).into_response()
}

/// `GET /remediation`'s body (`serve`'s and `reconcile`'s): each connector under
/// remediation, and the last actions.
pub fn remediation_document(observed: &Observed) -> Value {
    json!({
        "connectors": observed.remediation,
        "history": *observed.remediation_history,
    })
}

async fn metrics(State(state): State<HealthState>) -> Response {
    server::metrics(state.metrics.encode())
}

#[cfg(test)]
mod tests {
    //! The router on a hand-built state, in axum's `oneshot` style: the paths no
    //! simulator can hold still (no poll yet, a stale snapshot, a stopped poller).

    use std::{sync::Arc, time::Duration};

    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use serde_json::Value;
    use tokio::{sync::watch, time::Instant};
    use tower::ServiceExt;

    use super::router;
    use crate::health::{HealthState, Observed, fixtures, metrics::HealthMetrics};

    const MAX_AGE: Duration = Duration::from_secs(10);

    /// A state that holds `observed` (nothing publishes after it; a receiver keeps
    /// the last value when its sender is gone).
    fn state(observed: Observed) -> HealthState {
        let (_, rx) = watch::channel(Arc::new(observed));
        HealthState {
            policy: Arc::default(),
            observed: rx.clone(),
            poll_interval: Duration::from_secs(1),
            max_age: MAX_AGE,
            metrics: Arc::new(HealthMetrics::new(rx, MAX_AGE)),
            connect_url: "http://connect:8083".into(),
            program: "connect-sentinel".into(),
        }
    }

    async fn get(state: HealthState, path: &str) -> (u16, Value) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = router(state).oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn no_poll_yet_is_unhealthy_and_not_ready_but_alive() {
        let fresh = || state(Observed::new(Instant::now()));
        let (code, body) = get(fresh(), "/").await;
        assert_eq!(code, 503, "{body}");
        assert_eq!(body["error"], "no poll of Kafka Connect has completed yet");
        assert_eq!(get(fresh(), "/readyz").await.0, 503);
        assert_eq!(get(fresh(), "/livez").await.0, 200);
        assert_eq!(get(fresh(), "/ping").await.0, 200);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_snapshot_is_unhealthy_and_the_stopped_poller_is_not_alive() {
        let observed = fixtures::polled(&[("a", "RUNNING")]);
        tokio::time::advance(MAX_AGE + Duration::from_secs(1)).await;
        let stale = state(observed);
        let (code, body) = get(stale.clone(), "/").await;
        assert_eq!(code, 503, "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains("the poller is stuck"), "{body}");
        assert_eq!(get(stale.clone(), "/connectors/a").await.0, 503);
        let (code, body) = get(stale, "/livez").await;
        assert_eq!((code, body["status"].as_str()), (503, Some("DOWN")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fresh_snapshot_answers_from_memory() {
        let fresh = || state(fixtures::polled(&[("a", "RUNNING"), ("b", "FAILED")]));
        let (code, body) = get(fresh(), "/").await;
        assert_eq!(code, 503, "b failed: {body}");
        assert_eq!(body["failures"][0]["connector"], "b");
        assert_eq!(get(fresh(), "/connectors/a").await.0, 200);
        assert_eq!(get(fresh(), "/connectors/nosuch").await.0, 404);
        assert_eq!(get(fresh(), "/livez").await.0, 200);
    }
}
