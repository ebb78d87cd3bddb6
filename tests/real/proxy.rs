//! A counting HTTP proxy in front of one Connect worker, on 127.0.0.1:0: every request
//! is forwarded as it came and recorded (method, path, answer status), so a scenario can
//! prove that a pass wrote nothing, or that Connect's rebalance answers were retried.
//! It can also hang: accept every connection and request and never answer, as a
//! worker whose REST threads are all stuck does; and mask secrets in what it returns
//! (every string value of a key naming a password becomes `****`), as a vendor's
//! gateway in front of Connect does.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};

/// One forwarded request and Connect's answer (0 when the worker was unreachable).
#[derive(Clone, Debug)]
pub struct Record {
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub status: u16,
    /// The answer's body, kept for error answers only (409 and 5xx).
    pub error: String,
}

impl Record {
    /// Anything but a read: PUT, POST, DELETE (validation included).
    pub fn is_write(&self) -> bool {
        self.method != "GET" && self.method != "HEAD"
    }

    /// A 409, or a 500 saying a rebalance is expected or the request timed out: what
    /// connect-sentinel retries.
    pub fn is_rebalance(&self) -> bool {
        self.status == 409
            || (self.status == 500
                && (self.error.contains("rebalance") || self.error.contains("timed out")))
    }
}

#[derive(Clone)]
struct Shared {
    target: String,
    client: reqwest::Client,
    records: Arc<Mutex<Vec<Record>>>,
    hung: Arc<AtomicBool>,
    masking: Arc<AtomicBool>,
}

/// The running proxy; it stops with the scenario's runtime.
pub struct Proxy {
    pub url: String,
    records: Arc<Mutex<Vec<Record>>>,
    hung: Arc<AtomicBool>,
    masking: Arc<AtomicBool>,
}

impl Proxy {
    /// Starts a proxy to `target` (a worker's URL) on the current runtime.
    pub async fn start(target: &str) -> Proxy {
        let shared = Shared {
            target: target.trim_end_matches('/').to_string(),
            client: client(),
            records: Arc::default(),
            hung: Arc::default(),
            masking: Arc::default(),
        };
        let (records, hung) = (shared.records.clone(), shared.hung.clone());
        let masking = shared.masking.clone();
        let app = Router::new().fallback(forward).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Proxy {
            url,
            records,
            hung,
            masking,
        }
    }

    /// From now on, secrets in answers are masked (`true`) or passed as they are.
    pub fn mask(&self, on: bool) {
        self.masking.store(on, Ordering::SeqCst);
    }

    /// From now on, requests are accepted and never answered (`true`), or forwarded
    /// again (`false`; requests that arrived while hung stay unanswered).
    pub fn hang(&self, hung: bool) {
        self.hung.store(hung, Ordering::SeqCst);
    }

    /// Every request so far, in arrival order.
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().unwrap().clone()
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.records.lock().unwrap().clear();
    }

    /// The writes recorded (PUT, POST, DELETE).
    pub fn writes(&self) -> Vec<Record> {
        self.records()
            .into_iter()
            .filter(Record::is_write)
            .collect()
    }

    /// Requests of `method` whose path ends with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        let matches = |r: &Record| r.method == method && r.path.ends_with(suffix);
        self.records().iter().filter(|r| matches(r)).count()
    }

    /// A one-line summary, for assertion messages.
    pub fn summary(&self) -> String {
        let records = self.records();
        let line = |r: &Record| format!("{} {} {}", r.method, r.path, r.status);
        records.iter().map(line).collect::<Vec<_>>().join("; ")
    }
}

/// A client patient enough for Connect's own 90 s request timeout.
fn client() -> reqwest::Client {
    let _ = crate::http::client(); // installs the crypto provider
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap()
}

async fn forward(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if shared.hung.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = shared
        .client
        .request(method.clone(), format!("{}{target}", shared.target))
        .body(body);
    for name in [header::CONTENT_TYPE, header::ACCEPT, header::AUTHORIZATION] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    let (status, content_type, mut body) = match request.send().await {
        Ok(answer) => answered(answer).await,
        Err(e) => (0, None, Bytes::from(e.to_string())),
    };
    if shared.masking.load(Ordering::SeqCst) {
        body = masked(body);
    }
    shared.records.lock().unwrap().push(Record {
        method: method.to_string(),
        path: uri.path().to_string(),
        status,
        error: error_text(status, &body),
    });
    respond(status, content_type, body)
}

async fn answered(answer: reqwest::Response) -> (u16, Option<String>, Bytes) {
    let status = answer.status().as_u16();
    let content_type = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (
        status,
        content_type,
        answer.bytes().await.unwrap_or_default(),
    )
}

/// A JSON body with every string value of a key naming a password replaced by `****`
/// (other bodies as they are).
fn masked(body: Bytes) -> Bytes {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    match v {
                        serde_json::Value::String(s) if key.contains("password") => {
                            *s = "****".into()
                        }
                        other => walk(other),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(mut value) => {
            walk(&mut value);
            Bytes::from(value.to_string())
        }
        Err(_) => body,
    }
}

fn error_text(status: u16, body: &Bytes) -> String {
    match status {
        409 | 500.. => String::from_utf8_lossy(body).into_owned(),
        _ => String::new(),
    }
}

fn respond(status: u16, content_type: Option<String>, body: Bytes) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    match content_type {
        Some(ct) => (status, [(header::CONTENT_TYPE, ct)], body).into_response(),
        None => (status, body).into_response(),
    }
}
