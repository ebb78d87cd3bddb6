//! Fault injection for the Connect API (never the control API): latency, hangs, canned
//! answers, garbage, dropped connections, a held-open rebalance window and herder
//! timeouts, optionally limited to matching requests and to a number of hits.

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// The `PUT /_sim/faults` body. Every field is optional; missing ones mean "no fault".
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSpec {
    /// Delay before answering matching requests.
    pub latency_ms: u64,
    /// Accept matching requests and never answer (until the simulator shuts down).
    pub hang: bool,
    /// Answer matching requests with this status (and `body`, or a Connect error body).
    pub status: Option<u16>,
    /// Answer matching requests with this body: a JSON string is sent as plain text.
    pub body: Option<Value>,
    /// Answer matching requests with invalid JSON and status 200.
    pub garbage: bool,
    /// Drop the connection of matching requests without an answer.
    pub reset: bool,
    /// Hold the rebalance window open (spec §18); cluster-wide.
    pub rebalancing: bool,
    /// Make herder-queued requests time out (spec §0.3); cluster-wide.
    pub timeout: bool,
    /// Only requests whose path (e.g. `/connectors/a/status`) matches this regex.
    pub path_regex: Option<String>,
    /// Only requests with this HTTP method.
    pub method: Option<String>,
    /// Only the next N matching requests; then the fault clears itself.
    pub count: Option<u64>,
}

/// The active faults: the spec, its compiled regex and the hits left.
#[derive(Debug, Default)]
pub struct Faults {
    pub spec: FaultSpec,
    regex: Option<Regex>,
    remaining: Option<u64>,
}

/// What the fault layer does with one request.
#[derive(Debug, Default)]
pub struct Action {
    pub latency_ms: u64,
    pub kind: Option<Kind>,
}

/// A replacement for the real answer.
#[derive(Debug)]
pub enum Kind {
    Hang,
    Respond(StatusCode, Option<Value>),
    Garbage,
    Reset,
}

impl Faults {
    /// Compiles a spec; a bad regex, status or method is a 400 naming the field.
    pub fn compile(spec: FaultSpec) -> Result<Self, ApiError> {
        let regex = spec
            .path_regex
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| ApiError::bad_request(format!("invalid path_regex: {e}")))?;
        if let Some(status) = spec.status {
            StatusCode::from_u16(status)
                .ok()
                .filter(|s| s.as_u16() >= 200)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("invalid status {status}: expected 200..=999"))
                })?;
        }
        if let Some(method) = &spec.method {
            method
                .parse::<axum::http::Method>()
                .map_err(|_| ApiError::bad_request(format!("invalid method {method:?}")))?;
        }
        Ok(Self {
            remaining: spec.count,
            regex,
            spec,
        })
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .spec
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        method_ok && self.regex.as_ref().is_none_or(|r| r.is_match(path))
    }

    /// Decides what happens to a request, using up one hit of a counted fault.
    pub fn action(&mut self, method: &str, path: &str) -> Action {
        if self.remaining == Some(0) || !self.matches(method, path) {
            return Action::default();
        }
        if let Some(left) = self.remaining.as_mut() {
            *left -= 1;
        }
        let s = &self.spec;
        let kind = if s.hang {
            Some(Kind::Hang)
        } else if s.reset {
            Some(Kind::Reset)
        } else if s.garbage {
            Some(Kind::Garbage)
        } else if s.status.is_some() || s.body.is_some() {
            let status = s
                .status
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::OK);
            Some(Kind::Respond(status, s.body.clone()))
        } else {
            None
        };
        Action {
            latency_ms: s.latency_ms,
            kind,
        }
    }
}

/// The canned answer for a `status`/`body` fault.
pub fn respond(status: StatusCode, body: Option<Value>) -> Response {
    match body {
        None if status.is_success() => status.into_response(),
        None => ApiError::new(status, format!("Injected fault: HTTP {}", status.as_u16()))
            .into_response(),
        Some(Value::String(text)) => (status, text).into_response(),
        Some(json) => (status, axum::Json(json)).into_response(),
    }
}

/// 200 with a JSON content type and a body that is not JSON.
pub fn garbage() -> Response {
    let mut response = (
        StatusCode::OK,
        "{\"connector\": {\"state\": \"RUNN<html>502 Bad Gateway",
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A response whose body fails at once: hyper then drops the connection mid-answer, so
/// the client sees a reset instead of a response.
pub fn reset() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    let mut response = Response::new(Body::from_stream(failing));
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("64"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_clear_themselves() {
        let spec = FaultSpec {
            status: Some(409),
            count: Some(2),
            ..FaultSpec::default()
        };
        let mut faults = Faults::compile(spec).unwrap();
        assert!(faults.action("GET", "/").kind.is_some());
        assert!(faults.action("GET", "/").kind.is_some());
        assert!(faults.action("GET", "/").kind.is_none());
    }

    #[test]
    fn path_and_method_filters_apply() {
        let spec = FaultSpec {
            garbage: true,
            path_regex: Some("/status$".into()),
            method: Some("get".into()),
            ..FaultSpec::default()
        };
        let mut faults = Faults::compile(spec).unwrap();
        assert!(faults.action("GET", "/connectors/a/status").kind.is_some());
        assert!(faults.action("GET", "/connectors/a").kind.is_none());
        assert!(faults.action("POST", "/connectors/a/status").kind.is_none());
    }

    #[test]
    fn bad_regex_and_status_are_rejected() {
        assert!(
            Faults::compile(FaultSpec {
                path_regex: Some("(".into()),
                ..FaultSpec::default()
            })
            .is_err()
        );
        assert!(
            Faults::compile(FaultSpec {
                status: Some(42),
                ..FaultSpec::default()
            })
            .is_err()
        );
    }
}
