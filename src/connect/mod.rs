//! The Kafka Connect REST client: one place for timeouts, auth, TLS, URL-encoding and
//! status-code checks, so every caller gets a typed [`ConnectError`] with a clear,
//! secret-free reason instead of a hang or a misparsed error body.

mod capabilities;
pub mod facts;
pub mod listing;
mod options;
mod restarts;
pub mod retry;
mod scrub;
mod tls;
pub mod types;
mod write;

use std::{sync::Arc, time::Duration};

use crate::plan::redact::mask;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use capabilities::supports_initial_state;
pub use options::ClientOptions;
use options::{extra_headers, is_https, validate_url};
pub use restarts::Restarted;
pub use tls::{TlsOptions, causes, configure as configure_tls};
pub use types::{ConnectorStatus, InstanceStatus, TaskStatus, WorkerHealth};

/// Everything that can go wrong talking to Connect; `Display` is the reason shown to
/// users and probes, and never contains credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("Connect unreachable at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Connect did not answer {call} within {timeout_ms} ms")]
    Timeout { call: String, timeout_ms: u128 },
    #[error("Connect refused the credentials on {call} (HTTP {status})")]
    Unauthorized { call: String, status: u16 },
    #[error("Connect is rebalancing: {call} answered HTTP 409: {message}")]
    Conflict { call: String, message: String },
    #[error("Connect answered {call} with HTTP {status}: {message}")]
    Status {
        call: String,
        status: u16,
        message: String,
    },
    #[error("Connect answered {call} with invalid JSON: {reason}")]
    Garbage { call: String, reason: String },
    #[error("the Connect worker is {state} (GET /health): {message}")]
    NotReady {
        /// `starting` (503) or `unhealthy` (spec §16).
        state: &'static str,
        message: String,
    },
    #[error("invalid Connect client settings: {0}")]
    Settings(String),
    /// A name that would be a `.` or `..` path segment: the URL would address another
    /// resource (`/connectors/../config` is `/config`), so no request is sent.
    #[error("connector name {0:?} cannot be addressed in Connect's REST paths (a dot segment)")]
    DotSegment(String),
}

impl ConnectError {
    /// A short label for metrics (`reason="timeout"`).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Unreachable { .. } => "unreachable",
            Self::Timeout { .. } => "timeout",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Conflict { .. } => "conflict",
            Self::Status { .. } => "http_status",
            Self::Garbage { .. } => "invalid_json",
            Self::NotReady { .. } => "not_ready",
            Self::Settings(_) => "settings",
            Self::DotSegment(_) => "invalid_name",
        }
    }

    /// The HTTP status, when Connect answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { status, .. } | Self::Status { status, .. } => Some(*status),
            Self::Conflict { .. } => Some(409),
            _ => None,
        }
    }
}

/// Characters escaped in a path segment: connector names may hold spaces, `/`, `?`, `#`.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Percent-encodes one path segment (a connector name).
pub fn segment(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// Refuses a path with a `.` or `..` segment (literal or percent-encoded: URL parsers
/// treat `%2e` as `.`), which [`segment`] leaves as it is.
pub(crate) fn no_dot_segments(path: &str) -> Result<(), ConnectError> {
    let path = path.split('?').next().unwrap_or_default();
    for raw in path.split('/') {
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        if decoded == "." || decoded == ".." {
            return Err(ConnectError::DotSegment(decoded.into_owned()));
        }
    }
    Ok(())
}

/// A cheap-to-clone Connect client (connection pool shared); its `Debug` shows no
/// credential.
#[derive(Clone, Debug)]
pub struct ConnectClient {
    http: reqwest::Client,
    base: String,
    options: ClientOptions,
    /// Cuts our own credentials out of every answer before it is parsed.
    scrub: scrub::Scrubber,
    /// How `get_json` reads retry rebalance answers; `None`: never (probes, polls).
    reads: Option<(retry::Backoff, tokio::time::Instant)>,
    /// What the worker can do, learned once and shared by clones, so pollers and
    /// reconcile passes ask once, not on every round.
    learned: Arc<capabilities::Learned>,
}

/// One answer: status and raw body (parsed from bytes, never copied into a String).
struct Answer {
    status: StatusCode,
    body: bytes::Bytes,
}

impl ConnectClient {
    /// Builds a client; bad TLS files, headers or a URL with credentials are errors.
    pub fn new(options: ClientOptions) -> Result<Self, ConnectError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = validate_url(&options.url)?;
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .default_headers(extra_headers(&options.headers)?);
        builder = tls::configure(builder, &options.tls, is_https(&base))?;
        let http = builder.build().map_err(|e| {
            ConnectError::Settings(format!("cannot build the HTTP client: {}", tls::causes(&e)))
        })?;
        Ok(Self {
            http,
            base,
            scrub: scrub::Scrubber::new(&options),
            reads: None,
            options,
            learned: Arc::default(),
        })
    }

    /// The base URL (never holds credentials).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A request to `path` with the credentials set.
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        if let Some((user, password)) = &self.options.basic_auth {
            request.basic_auth(user, Some(password))
        } else if let Some(token) = &self.options.bearer_token {
            request.bearer_auth(token)
        } else {
            request
        }
    }

    /// A clone (sharing the connection pool) whose calls wait at least `at_least`:
    /// the planner's reads must outlast a busy herder, probes keep their short deadline.
    pub fn patient(&self, at_least: Duration) -> Self {
        let mut client = self.clone();
        client.options.timeout = client.options.timeout.max(at_least);
        client
    }

    /// A clone (sharing the connection pool) whose JSON reads retry 409 and
    /// rebalance answers with `backoff`, and past its retries until `until`
    /// ([`retry::retry_until`]): the planner's reads during a rebalance.
    pub fn retrying_reads(&self, backoff: retry::Backoff, until: tokio::time::Instant) -> Self {
        let mut client = self.clone();
        client.reads = Some((backoff, until));
        client
    }

    async fn call(&self, method: Method, path: &str) -> Result<Answer, ConnectError> {
        no_dot_segments(path)?;
        let request = self.request(method.clone(), path);
        let request = request.timeout(self.options.timeout);
        self.send(format!("{method} {path}"), request).await
    }

    /// Sends a built request; `call` names it in errors.
    async fn send(
        &self,
        call: String,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, ConnectError> {
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(&call, &e))?;
        let status = response.status();
        let body = read_body(response)
            .await
            .map_err(|e| self.transport_error(&call, &e))?;
        Ok(Answer {
            status,
            body: self.scrub.body(body),
        })
    }

    fn transport_error(&self, call: &str, e: &reqwest::Error) -> ConnectError {
        if e.is_timeout() {
            return ConnectError::Timeout {
                call: call.into(),
                timeout_ms: self.options.timeout.as_millis(),
            };
        }
        ConnectError::Unreachable {
            url: self.base.clone(),
            reason: root_cause(e),
        }
    }

    /// GETs `path` and parses a 2xx JSON body; other statuses become typed errors.
    /// Rebalance answers are retried when the client was made with
    /// [`ConnectClient::retrying_reads`].
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ConnectError> {
        match self.reads {
            None => self.get_json_once(path).await,
            Some((backoff, until)) => {
                retry::retry_until(backoff, Some(until), || self.get_json_once(path)).await
            }
        }
    }

    async fn get_json_once<T: DeserializeOwned>(&self, path: &str) -> Result<T, ConnectError> {
        let answer = self.call(Method::GET, path).await?;
        let call = format!("GET {path}");
        check(&call, &answer)?;
        serde_json::from_slice(&answer.body).map_err(|e| ConnectError::Garbage {
            call,
            reason: e.to_string(),
        })
    }

    /// `GET /connectors` (spec §2.1).
    pub async fn connector_names(&self) -> Result<Vec<String>, ConnectError> {
        self.get_json("/connectors").await
    }

    /// `GET /connectors/{name}/status`; `None` when it has no status record (404, §6).
    pub async fn status(&self, name: &str) -> Result<Option<ConnectorStatus>, ConnectError> {
        match self
            .get_json(&format!("/connectors/{}/status", segment(name)))
            .await
        {
            Err(ConnectError::Status { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// `GET /connectors/{name}` (a herder-queued read, spec §4).
    pub async fn info(&self, name: &str) -> Result<Value, ConnectError> {
        self.get_json(&format!("/connectors/{}", segment(name)))
            .await
    }

    /// `GET /health` (spec §16): `Ok(None)` when the worker predates 3.9 (404), without
    /// a call once that is known.
    pub async fn health(&self) -> Result<Option<WorkerHealth>, ConnectError> {
        if self.learned.no_health_endpoint() {
            return Ok(None);
        }
        let answer = self.call(Method::GET, "/health").await?;
        let message = || {
            serde_json::from_slice::<Value>(&answer.body)
                .ok()
                .and_then(|v| v["message"].as_str().map(|m| mask(m).into_owned()))
                .unwrap_or_default()
        };
        match answer.status.as_u16() {
            200 => Ok(Some(WorkerHealth::Healthy)),
            503 => Ok(Some(WorkerHealth::Starting(message()))),
            404 => {
                self.learned.set_no_health_endpoint();
                Ok(None)
            }
            401 | 403 => Err(ConnectError::Unauthorized {
                call: "GET /health".into(),
                status: answer.status.as_u16(),
            }),
            _ => Ok(Some(WorkerHealth::Unhealthy(message()))),
        }
    }

    /// `GET /` (spec §1): the worker's version string, asked every time (the health
    /// poll's herder-free fallback before 3.9 relies on it).
    pub async fn version(&self) -> Result<String, ConnectError> {
        let info: Value = self.get_json("/").await?;
        Ok(info["version"].as_str().unwrap_or("unknown").to_string())
    }

    /// Whether `POST /connectors` takes `initial_state` (3.7+): the version is asked
    /// once, then remembered by this client and its clones.
    pub async fn takes_initial_state(&self) -> Result<bool, ConnectError> {
        let version = self.learned.version(|| self.version()).await?;
        Ok(supports_initial_state(version))
    }
}

/// Turns non-2xx answers into typed errors, with Connect's message when it sent one.
fn check(call: &str, answer: &Answer) -> Result<(), ConnectError> {
    let status = answer.status.as_u16();
    if answer.status.is_success() {
        return Ok(());
    }
    let message = error_message(&String::from_utf8_lossy(&answer.body));
    Err(match status {
        401 | 403 => ConnectError::Unauthorized {
            call: call.into(),
            status,
        },
        409 => ConnectError::Conflict {
            call: call.into(),
            message,
        },
        _ => ConnectError::Status {
            call: call.into(),
            status,
            message,
        },
    })
}

/// Connect's `message`, else the body's first line, cut to 200 characters.
fn error_message(text: &str) -> String {
    let parsed = serde_json::from_str::<Value>(text).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v["message"].as_str())
        .unwrap_or(text);
    let line = types::first_line(message);
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None if line.is_empty() => "(empty body)".into(),
        None => line.to_string(),
    }
}

/// The innermost cause of a transport error, e.g. `Connection refused (os error 111)`.
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Reads a body into one buffer sized by `Content-Length`, dropping each chunk as it
/// is copied. (`Response::bytes` keeps every chunk until the end and then copies them
/// all: twice a 240 KB expanded-status body at the top of each poll.)
async fn read_body(mut response: reqwest::Response) -> Result<bytes::Bytes, reqwest::Error> {
    let hint = response.content_length().unwrap_or(0).min(1 << 20);
    let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(body.into())
}
