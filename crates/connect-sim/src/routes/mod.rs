//! The Connect REST router, built for one Kafka version: paths a version lacks are not
//! registered (Jersey's 404), methods it lacks on a known path give 405 (spec §0.1, §19).
//! Every Connect request passes the [`connect_layer`]: counted, then faults, then auth.

mod connectors;
mod misc;
mod tasks;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use base64::Engine;

use crate::{
    config::Version,
    control,
    error::{self, ApiError},
    faults::{self, Kind},
    sim::Sim,
};

/// The whole simulator: the Connect API for the configured version plus `/_sim`.
pub fn router(sim: Sim) -> Router {
    let version = sim.config().version;
    connect_routes(version)
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(middleware::from_fn_with_state(sim.clone(), connect_layer))
        .merge(control::router())
        .with_state(sim)
}

fn connect_routes(v: Version) -> Router<Sim> {
    let mut config = get(connectors::config).put(connectors::put_config);
    if v.at_least(3, 8) {
        config = config.patch(connectors::patch_config);
    }
    let mut r = Router::new()
        .route("/", get(misc::root))
        .route(
            "/connectors",
            get(connectors::list).post(connectors::create),
        )
        .route(
            "/connectors/{name}",
            get(connectors::info).delete(connectors::delete),
        )
        .route("/connectors/{name}/config", config)
        .route("/connectors/{name}/tasks", get(tasks::list));
    if v.at_least(0, 10) {
        r = r
            .route("/connectors/{name}/status", get(connectors::status))
            .route("/connectors/{name}/restart", post(connectors::restart))
            .route("/connectors/{name}/pause", put(connectors::pause))
            .route("/connectors/{name}/resume", put(connectors::resume))
            .route("/connectors/{name}/tasks/{id}/status", get(tasks::status))
            .route(
                "/connectors/{name}/tasks/{id}/restart",
                post(tasks::restart),
            )
            .route("/connector-plugins", get(misc::plugins))
            .route(
                "/connector-plugins/{plugin}/config/validate",
                put(misc::validate),
            );
    }
    if v.at_least(2, 5) {
        r = r
            .route("/connectors/{name}/topics", get(tasks::topics))
            .route("/connectors/{name}/topics/reset", put(tasks::reset_topics));
    }
    if v.at_least(2, 8) && !v.at_least(4, 0) {
        r = r.route("/connectors/{name}/tasks-config", get(tasks::tasks_config));
    }
    if v.at_least(3, 2) {
        r = r.route(
            "/connector-plugins/{plugin}/config",
            get(misc::plugin_config),
        );
    }
    if v.at_least(3, 5) {
        let mut offsets = get(tasks::offsets);
        if v.at_least(3, 6) {
            offsets = offsets
                .patch(tasks::alter_offsets)
                .delete(tasks::reset_offsets);
        }
        r = r
            .route("/connectors/{name}/stop", put(connectors::stop))
            .route("/connectors/{name}/offsets", offsets);
    }
    if v.at_least(3, 9) {
        r = r.route("/health", get(misc::health));
    }
    r
}

/// Counts the request by route template, applies faults, then checks basic auth.
async fn connect_layer(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", MatchedPath::as_str);
    sim.count(format!("{} {route}", request.method()));
    let action = sim
        .faults()
        .action(request.method().as_str(), request.uri().path());
    if action.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(action.latency_ms)).await;
    }
    match action.kind {
        Some(Kind::Hang) => {
            sim.until_shutdown().await;
            return faults::reset();
        }
        Some(Kind::Respond(status, body)) => return faults::respond(status, body),
        Some(Kind::Garbage) => return faults::garbage(),
        Some(Kind::Reset) => return faults::reset(),
        None => {}
    }
    if !authorized(&sim, request.headers()) {
        return error::unauthorized();
    }
    next.run(request).await.into_response()
}

/// True when no auth is configured or the request carries the right basic credentials.
fn authorized(sim: &Sim, headers: &HeaderMap) -> bool {
    let Some((user, password)) = &sim.config().basic_auth else {
        return true;
    };
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .unwrap_or_default();
    decoded == format!("{user}:{password}").into_bytes()
}

/// Percent-encodes a path segment (for `Location` headers).
pub(crate) fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The values of a repeated query parameter, or `None` when the key is absent.
pub(crate) fn query_values(query: Option<&str>, key: &str) -> Option<Vec<String>> {
    let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes());
    let values: Vec<String> = pairs
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect();
    (!values.is_empty()).then_some(values)
}

/// The first value of a query parameter.
pub(crate) fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query_values(query, key).and_then(|v| v.into_iter().next())
}
