//! Server info, health and plugin endpoints (spec §1, §12, §14, §16).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
};
use serde_json::{Value, json};

use super::query_value;
use crate::{
    body,
    cluster::Health,
    error::{ApiError, ApiResult},
    plugin_version, plugins,
    sim::{Sim, iso8601},
    validate::{self, Invalid},
};

/// The git id every simulated worker reports.
pub const COMMIT: &str = "a60e31147e6b01ee";
/// The Kafka cluster id every simulated worker reports.
pub const KAFKA_CLUSTER_ID: &str = "Sim3dE_fGhIjK-LmNoPqRs";

/// `GET /` (spec §1): answered without the herder, even when it is stuck.
pub async fn root(State(sim): State<Sim>) -> Json<Value> {
    let version = sim.config().version;
    let mut info = json!({"version": version.to_string(), "commit": COMMIT});
    if version.at_least(1, 1) {
        info["kafka_cluster_id"] = json!(KAFKA_CLUSTER_ID);
    }
    Json(info)
}

/// `GET /health` (spec §16, 3.9+): driven by `PUT /_sim/health` and the `timeout` fault.
pub async fn health(State(sim): State<Sim>) -> (StatusCode, Json<Value>) {
    let began = iso8601(std::time::SystemTime::now());
    let state = match sim.herder().await {
        Err(_) => Health::Unhealthy,
        Ok(()) => sim.with(|c, _| c.health),
    };
    let (status, word, message) = match state {
        Health::Healthy => (
            StatusCode::OK,
            "healthy",
            "Worker has completed startup and is ready to handle requests.".to_string(),
        ),
        Health::Starting => (
            StatusCode::SERVICE_UNAVAILABLE,
            "starting",
            format!(
                "Worker is still starting up. The worker is currently initializing and reading to the end of internal topics, which began at {began}."
            ),
        ),
        Health::Unhealthy => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "unhealthy",
            format!(
                "Worker was unable to handle this request and may be unable to handle other requests. The worker is currently ensuring membership in the cluster, which began at {began}."
            ),
        ),
    };
    (status, Json(json!({"status": word, "message": message})))
}

/// `GET /connector-plugins[?connectorsOnly=false]` (spec §12).
pub async fn plugins(State(sim): State<Sim>, RawQuery(query): RawQuery) -> Json<Value> {
    let version = sim.config().version;
    let only = query_value(query.as_deref(), "connectorsOnly").map(|v| body::java_bool(Some(&v)));
    let connectors_only = !version.at_least(3, 2) || only.unwrap_or(true);
    let mut list: Vec<&plugins::Plugin> = plugins::all()
        .iter()
        .filter(|p| !connectors_only || p.kind.is_connector())
        .collect();
    list.sort_by_key(|p| p.class);
    let kafka = version.to_string();
    Json(Value::Array(
        list.iter().map(|p| p.to_json(&kafka)).collect(),
    ))
}

/// `GET /connector-plugins/{plugin}/config` (spec §12, 3.2+): the plugin's own keys,
/// then a connector's common ones; 4.1+ takes `?version=` (KIP-891) and lists
/// `connector.plugin.version` after the class.
pub async fn plugin_config(
    State(sim): State<Sim>,
    Path(plugin): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let found = plugins::find(&plugin)
        .ok_or_else(|| ApiError::not_found(format!("Unknown plugin {plugin}.")))?;
    let kafka = sim.config().version;
    let versioned = kafka.at_least(4, 1);
    if versioned && let Some(spec) = query_value(query.as_deref(), "version") {
        plugin_version::check_query(found, &spec, &kafka.to_string())?;
    }
    let mut defs = Vec::new();
    for (i, def) in plugins::all_defs(found).into_iter().enumerate() {
        defs.push(def.to_json(i + 1, kafka));
        if versioned && def.name == "connector.class" {
            defs.push(plugin_version::definition(found, kafka, i + 1));
        }
    }
    Ok(Json(Value::Array(defs)))
}

/// `PUT /connector-plugins/{plugin}/config/validate` (spec §14): 200 even with errors.
pub async fn validate(
    State(sim): State<Sim>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let raw = match body::json(&headers, &bytes)? {
        Some(value) => body::config_map(&value)?,
        None => Default::default(),
    };
    if let Some(Some(class)) = raw.get("connector.class") {
        let strip = |s: &str| {
            s.trim()
                .strip_suffix("Connector")
                .unwrap_or(s.trim())
                .to_string()
        };
        if !strip(class).ends_with(&strip(&plugin)) {
            return Err(ApiError::bad_request(format!(
                "Included connector type {class} does not match request type {plugin}"
            )));
        }
    }
    match validate::validate(&raw, sim.config().version) {
        Ok(report) => Ok(Json(report.body)),
        Err(Invalid::NoConnectorType) => Err(ApiError::internal(format!(
            "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Connector config {} contains no connector type",
            validate::java_map(&raw)
        ))),
        // 4.1+ wraps it once more (seen on a real 4.3.1 worker); still a 500.
        Err(Invalid::UnknownClass(class)) => Err(ApiError::internal(format!(
            "{}org.apache.kafka.connect.errors.ConnectException: {}",
            if sim.config().version.at_least(4, 1) {
                "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: "
            } else {
                ""
            },
            validate::unknown_class_message(&class, &sim.config().version.to_string())
        ))),
        Err(Invalid::BadVersionRange(message)) => Err(ApiError::bad_request(message)),
    }
}
