//! Connector endpoints: list, create, info, config, status, lifecycle (spec §2–§9).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{encode_segment, query_value, query_values};
use crate::{
    body,
    error::{ApiError, ApiResult},
    ops::Restarted,
    sim::Sim,
};

/// `GET /connectors[?expand=…]` (spec §2): `expand` is ignored before 2.3.
pub async fn list(State(sim): State<Sim>, RawQuery(query): RawQuery) -> Response {
    let expand =
        query_values(query.as_deref(), "expand").filter(|_| sim.config().version.at_least(2, 3));
    let body = sim.with(|c, _| c.list_body(expand.as_deref()));
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `POST /connectors` (spec §3).
pub async fn create(
    State(sim): State<Sim>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    sim.herder().await?;
    let value = body::json(&headers, &bytes)?;
    let request = body::create_request(value.as_ref(), sim.config().version.at_least(3, 7))?;
    let info =
        sim.with(|c, now| c.create(&request.name, request.config, request.initial_state, now))?;
    Ok(created(&headers, &request.name, info))
}

/// 201 with an absolute `Location` (spec §0.1).
fn created(headers: &HeaderMap, name: &str, info: Value) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost:8083");
    let location = format!("http://{host}/connectors/{}", encode_segment(name));
    let mut response = (StatusCode::CREATED, Json(info)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `GET /connectors/{name}` (spec §4).
pub async fn info(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    sim.herder().await?;
    sim.with(|c, now| c.queued_read(&name, now).map(|conn| c.info_json(conn)))
        .map(Json)
}

/// `GET /connectors/{name}/config` (spec §5.1): the stored map, verbatim (or with its
/// secrets masked, as a vendor would).
pub async fn config(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    sim.herder().await?;
    sim.with(|c, now| {
        c.queued_read(&name, now)
            .map(|conn| serde_json::json!(c.shown_config(conn)))
    })
    .map(Json)
}

/// The flat config map of a PUT/PATCH body; a missing body is Connect's NPE (500).
fn config_body(headers: &HeaderMap, bytes: &Bytes) -> ApiResult<crate::validate::RawConfig> {
    match body::json(headers, bytes)? {
        Some(value) => body::config_map(&value),
        None => Err(ApiError::internal(
            "Cannot invoke \"java.util.Map.get(Object)\" because \"connectorConfig\" is null",
        )),
    }
}

/// `PUT /connectors/{name}/config` (spec §5.2): 201 when created, 200 when replaced.
pub async fn put_config(
    State(sim): State<Sim>,
    Path(name): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    sim.herder().await?;
    let raw = config_body(&headers, &bytes)?;
    match sim.with(|c, now| c.put_config(&name, raw, now))? {
        (true, info) => Ok(created(&headers, &name, info)),
        (false, info) => Ok(Json(info).into_response()),
    }
}

/// `PATCH /connectors/{name}/config` (spec §5.3, 3.8+).
pub async fn patch_config(
    State(sim): State<Sim>,
    Path(name): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    sim.herder().await?;
    let patch = config_body(&headers, &bytes)?;
    sim.with(|c, now| c.patch_config(&name, patch, now))
        .map(Json)
}

/// `GET /connectors/{name}/status` (spec §6): never queued, never 409.
pub async fn status(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    sim.with(|c, _| c.status_json(&name))
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("No status found for connector {name}")))
}

/// `POST /connectors/{name}/restart` (spec §8): 204, or 202 with the predicted status.
pub async fn restart(
    State(sim): State<Sim>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    sim.herder().await?;
    let flag = |key| body::java_bool(query_value(query.as_deref(), key).as_deref());
    let (include_tasks, only_failed) = (flag("includeTasks"), flag("onlyFailed"));
    match sim.with(|c, now| c.restart(&name, include_tasks, only_failed, now))? {
        Restarted::Connector => Ok(StatusCode::NO_CONTENT.into_response()),
        Restarted::Planned(body) => Ok((StatusCode::ACCEPTED, Json(body)).into_response()),
    }
}

/// `PUT /connectors/{name}/pause` (spec §9): 202, not queued.
pub async fn pause(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    sim.with(|c, now| c.pause(&name, now))
        .map(|()| StatusCode::ACCEPTED)
}

/// `PUT /connectors/{name}/resume` (spec §9): 202, not queued.
pub async fn resume(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    sim.with(|c, now| c.resume(&name, now))
        .map(|()| StatusCode::ACCEPTED)
}

/// `PUT /connectors/{name}/stop` (spec §9, 3.5+): 204.
pub async fn stop(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    sim.herder().await?;
    sim.with(|c, now| c.stop(&name, now))
        .map(|()| StatusCode::NO_CONTENT)
}

/// `DELETE /connectors/{name}` (spec §9): 204.
pub async fn delete(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    sim.herder().await?;
    sim.with(|c, now| c.delete(&name, now))
        .map(|()| StatusCode::NO_CONTENT)
}
