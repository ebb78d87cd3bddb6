//! The control API under `/_sim`, never behind auth or faults: reset, seed, set states,
//! faults, `/health`, and request counters, so tests and benchmarks can drive the cluster.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::{post, put},
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::{
    cluster::Health,
    error::{ApiError, ApiResult},
    faults::{FaultSpec, Faults},
    model::{AfterRestart, default_trace},
    seed::{self, SeedBody},
    sim::Sim,
};

/// The `/_sim` routes.
pub fn router() -> Router<Sim> {
    Router::new()
        .route("/_sim/reset", post(reset))
        .route("/_sim/advance", post(advance))
        .route("/_sim/connectors", post(seed_connectors))
        .route("/_sim/connectors/{name}/state", put(connector_state))
        .route("/_sim/connectors/{name}/tasks/{id}/state", put(task_state))
        .route("/_sim/connectors/{name}/tasks", put(task_configs))
        .route(
            "/_sim/faults",
            put(set_faults).delete(clear_faults).get(get_faults),
        )
        .route("/_sim/health", put(set_health))
        .route("/_sim/masking", put(set_masking).get(get_masking))
        .route(
            "/_sim/requests",
            axum::routing::get(requests).delete(clear_requests),
        )
}

/// Parses a control body; anything malformed is a 400 naming the problem.
fn parse<T: DeserializeOwned>(bytes: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid control request body: {e}")))
}

async fn reset(State(sim): State<Sim>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    ms: u64,
}

/// Moves the simulated clock forward by `ms`, applying every lifecycle step due by then.
async fn advance(State(sim): State<Sim>, bytes: Bytes) -> ApiResult<StatusCode> {
    let body: AdvanceBody = parse(&bytes)?;
    sim.advance(std::time::Duration::from_millis(body.ms));
    sim.with(|_, _| ());
    Ok(StatusCode::NO_CONTENT)
}

async fn seed_connectors(State(sim): State<Sim>, bytes: Bytes) -> ApiResult<Json<Value>> {
    let body: SeedBody = parse(&bytes)?;
    let names = sim.with(|c, _| seed::seed(c, body))?;
    Ok(Json(json!({"seeded": names.len()})))
}

/// `{"state":"FAILED","trace":"…","restart_outcome":"RUNNING","worker_id":"…"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    state: String,
    trace: Option<String>,
    #[serde(default)]
    restart_outcome: AfterRestart,
    worker_id: Option<String>,
}

async fn connector_state(
    State(sim): State<Sim>,
    Path(name): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let body: StateBody = parse(&bytes)?;
    let state = seed::parse_state(&body.state, false)?;
    sim.with(|c, _| {
        let worker = c.connector(&name).map(|conn| c.worker_id(conn.worker))?;
        let conn = c
            .connectors
            .get_mut(&name)
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))?;
        conn.status = state.map(|state| {
            let trace = body
                .trace
                .or_else(|| (state == crate::model::State::Failed).then(|| default_trace(&name)));
            let worker_id = body.worker_id.unwrap_or(worker);
            crate::model::Instance {
                state,
                worker_id,
                trace,
                restart_outcome: body.restart_outcome,
            }
        });
        Ok(Json(c.status_json(&name).unwrap_or(Value::Null)))
    })
}

async fn task_state(
    State(sim): State<Sim>,
    Path((name, id)): Path<(String, u32)>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let body: StateBody = parse(&bytes)?;
    let state = seed::parse_state(&body.state, true)?.unwrap_or(crate::model::State::Running);
    sim.with(|c, _| {
        let conn = c
            .connectors
            .get_mut(&name)
            .ok_or_else(|| ApiError::not_found(format!("Connector {name} not found")))?;
        let task = conn.tasks.get_mut(&id).ok_or_else(|| {
            ApiError::not_found(format!(
                "Task {name}-{id} not found: the connector has {} task(s)",
                conn.task_count
            ))
        })?;
        task.state = state;
        task.restart_outcome = body.restart_outcome;
        task.trace = body.trace.or_else(|| {
            (state == crate::model::State::Failed).then(|| default_trace(&format!("{name}-{id}")))
        });
        if let Some(worker_id) = body.worker_id {
            task.worker_id = worker_id;
        }
        Ok(Json(task.to_json(Some(id))))
    })
}

/// `{"count": N}`: the connector now generates N task configs (as a real connector
/// whose `taskConfigs` returns fewer than `tasks.max`, e.g. a MirrorSourceConnector
/// whose topics match nothing), at once and after every restart, until its config
/// changes. Tasks past N are gone; new ones start RUNNING. `{"count": null}`: back to
/// `tasks.max`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskConfigsBody {
    count: Option<u32>,
}

async fn task_configs(
    State(sim): State<Sim>,
    Path(name): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let body: TaskConfigsBody = parse(&bytes)?;
    if body.count.is_some_and(|n| n > seed::MAX_TASKS) {
        return Err(ApiError::bad_request(format!(
            "count must be at most {}",
            seed::MAX_TASKS
        )));
    }
    sim.with(|c, _| {
        c.set_task_configs(&name, body.count)?;
        Ok(Json(c.status_json(&name).unwrap_or(Value::Null)))
    })
}

async fn set_faults(State(sim): State<Sim>, bytes: Bytes) -> ApiResult<Json<FaultSpec>> {
    let spec: FaultSpec = parse(&bytes)?;
    let faults = Faults::compile(spec.clone())?;
    sim.set_faults(faults);
    Ok(Json(spec))
}

async fn clear_faults(State(sim): State<Sim>) -> StatusCode {
    sim.set_faults(Faults::default());
    StatusCode::NO_CONTENT
}

async fn get_faults(State(sim): State<Sim>) -> Json<FaultSpec> {
    Json(sim.faults().spec.clone())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthBody {
    status: Health,
}

async fn set_health(State(sim): State<Sim>, bytes: Bytes) -> ApiResult<StatusCode> {
    let body: HealthBody = parse(&bytes)?;
    sim.with(|c, _| c.health = body.status);
    Ok(StatusCode::NO_CONTENT)
}

/// `{"mask": "****"}` masks secrets on read from now on; `{"mask": null}` shows them
/// as stored again.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaskingBody {
    mask: Option<String>,
}

async fn set_masking(State(sim): State<Sim>, bytes: Bytes) -> ApiResult<Json<Value>> {
    let body: MaskingBody = parse(&bytes)?;
    if body.mask.as_deref().is_some_and(str::is_empty) {
        return Err(ApiError::bad_request(
            "mask must not be empty (null turns masking off)",
        ));
    }
    sim.with(|c, _| c.mask = body.mask.clone());
    Ok(Json(json!({"mask": body.mask})))
}

async fn get_masking(State(sim): State<Sim>) -> Json<Value> {
    Json(json!({"mask": sim.with(|c, _| c.mask.clone())}))
}

async fn requests(State(sim): State<Sim>) -> Json<Value> {
    Json(sim.requests_json())
}

async fn clear_requests(State(sim): State<Sim>) -> StatusCode {
    sim.clear_requests();
    StatusCode::NO_CONTENT
}
