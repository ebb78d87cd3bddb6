//! The Connect error body (spec §0.2) and the simulator's one error type.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

/// An error answered as `{"error_code": N, "message": "..."}`, the shape of every error
/// produced inside Connect's JAX-RS layer (spec §0.2). The control API uses it too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// Jersey's answer for an unknown path (spec §0.1).
    pub fn no_route() -> Self {
        Self::not_found("HTTP 404 Not Found")
    }

    /// Jersey's answer for a known path with an unsupported method (spec §0.1).
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "HTTP 405 Method Not Allowed",
        )
    }

    /// Jersey's answer for a body that is not `application/json` (spec §0.1).
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "HTTP 415 Unsupported Media Type",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error_code": self.status.as_u16(), "message": self.message});
        (self.status, Json(body)).into_response()
    }
}

/// The bare-text 401 of `BasicAuthSecurityRestExtension` (spec §0.2): not JSON, though
/// real workers (3.9.1, 4.3.1) label it `Content-Type: application/json`.
pub fn unauthorized() -> Response {
    let mut response =
        (StatusCode::UNAUTHORIZED, "User cannot access the resource.").into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
