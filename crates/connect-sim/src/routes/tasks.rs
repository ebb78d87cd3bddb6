//! Task, offsets and topics endpoints (spec §7, §10, §11).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use serde_json::{Value, json};

use crate::{
    body,
    error::{ApiError, ApiResult},
    sim::Sim,
};

/// A task id from the path; a non-integer is Jersey's plain 404 (spec §7.3).
fn task_id(raw: &str) -> ApiResult<u32> {
    raw.parse().map_err(|_| ApiError::no_route())
}

/// `GET /connectors/{name}/tasks` (spec §7.1).
pub async fn list(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    sim.herder().await?;
    sim.with(|c, now| c.queued_read(&name, now).map(|conn| c.tasks_json(conn)))
        .map(Json)
}

/// `GET /connectors/{name}/tasks-config` (spec §7.2, 2.8 up to 4.0).
pub async fn tasks_config(
    State(sim): State<Sim>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    sim.herder().await?;
    sim.with(|c, now| {
        c.queued_read(&name, now)
            .map(|conn| c.tasks_config_json(conn))
    })
    .map(Json)
}

/// `GET /connectors/{name}/tasks/{id}/status` (spec §7.3).
pub async fn status(
    State(sim): State<Sim>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let id = task_id(&id)?;
    sim.with(|c, _| c.task_status_json(&name, id)).map(Json)
}

/// `POST /connectors/{name}/tasks/{id}/restart` (spec §7.4): 204.
pub async fn restart(
    State(sim): State<Sim>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = task_id(&id)?;
    sim.herder().await?;
    sim.with(|c, now| c.restart_task(&name, id, now))
        .map(|()| StatusCode::NO_CONTENT)
}

/// `GET /connectors/{name}/offsets` (spec §10, 3.5+).
pub async fn offsets(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    sim.herder().await?;
    sim.with(|c, _| {
        c.connector(&name)
            .map(|conn| json!({"offsets": conn.offsets}))
    })
    .map(Json)
}

/// `PATCH /connectors/{name}/offsets` (spec §10, 3.6+).
pub async fn alter_offsets(
    State(sim): State<Sim>,
    Path(name): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    sim.herder().await?;
    let changes = offsets_body(body::json(&headers, &bytes)?)?;
    sim.with(|c, now| c.alter_offsets(&name, Some(changes), now))
        .map(Json)
}

const ENTITIES: &str = "org.apache.kafka.connect.runtime.rest.entities";

/// The `offsets` list of a PATCH body: empty or absent is a 400, a wrong shape or an
/// unknown field a Jackson 500 (spec §10, §0.2).
fn offsets_body(value: Option<Value>) -> ApiResult<Vec<Value>> {
    let missing = || {
        ApiError::bad_request(
            "Partitions / offsets need to be provided for an alter offsets request",
        )
    };
    let offsets = match value {
        None | Some(Value::Null) => return Err(missing()),
        Some(Value::Object(mut map)) => {
            body::reject_unknown_fields(
                &map,
                &format!("{ENTITIES}.ConnectorOffsets"),
                &["offsets"],
            )?;
            map.remove("offsets")
        }
        Some(other) => {
            return Err(body::cannot_deserialize(
                &format!("{ENTITIES}.ConnectorOffsets"),
                &other,
            ));
        }
    };
    let list = match offsets {
        None | Some(Value::Null) => return Err(missing()),
        Some(Value::Array(list)) if list.is_empty() => return Err(missing()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(body::cannot_deserialize(
                &format!("java.util.ArrayList<{ENTITIES}.ConnectorOffset>"),
                &other,
            ));
        }
    };
    list.iter().try_for_each(check_offset_entry)?;
    Ok(list)
}

/// One `{"partition":{…},"offset":{…}|null}` entry.
fn check_offset_entry(entry: &Value) -> ApiResult<()> {
    let class = format!("{ENTITIES}.ConnectorOffset");
    let Value::Object(map) = entry else {
        return Err(body::cannot_deserialize(&class, entry));
    };
    body::reject_unknown_fields(map, &class, &["partition", "offset"])?;
    let partition = map.get("partition").unwrap_or(&Value::Null);
    let offset = map.get("offset").unwrap_or(&Value::Null);
    for value in [partition, offset] {
        if !(value.is_object() || value.is_null()) {
            return Err(body::cannot_deserialize(
                "java.util.LinkedHashMap<java.lang.String,java.lang.Object>",
                value,
            ));
        }
    }
    match partition.is_object() {
        true => Ok(()),
        false => Err(ApiError::bad_request(
            "Partitions / offsets need to be provided for an alter offsets request",
        )),
    }
}

/// `DELETE /connectors/{name}/offsets` (spec §10, 3.6+).
pub async fn reset_offsets(
    State(sim): State<Sim>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    sim.herder().await?;
    sim.with(|c, now| c.alter_offsets(&name, None, now))
        .map(Json)
}

/// `GET /connectors/{name}/topics` (spec §11): no existence check.
pub async fn topics(State(sim): State<Sim>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    if !sim.config().topic_tracking {
        return Err(ApiError::forbidden("Topic tracking is disabled."));
    }
    let topics = sim.with(|c, _| {
        c.connectors
            .get(&name)
            .map(|conn| conn.topics.clone())
            .unwrap_or_default()
    });
    Ok(Json(json!({ name: {"topics": topics} })))
}

/// `PUT /connectors/{name}/topics/reset` (spec §11): 202, no existence check.
pub async fn reset_topics(
    State(sim): State<Sim>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if !sim.config().topic_tracking {
        return Err(ApiError::forbidden("Topic tracking is disabled."));
    }
    if !sim.config().topic_tracking_reset {
        return Err(ApiError::forbidden("Topic tracking reset is disabled."));
    }
    sim.with(|c, _| {
        if let Some(conn) = c.connectors.get_mut(&name) {
            conn.topics.clear();
        }
    });
    Ok(StatusCode::ACCEPTED)
}
