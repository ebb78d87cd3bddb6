//! HTTP for the real tier: one client, JSON reads, and bounded waits on observed state.

use std::{future::Future, time::Duration};

use serde_json::Value;

/// A plain client with a per-request deadline (a hung worker fails the scenario, never
/// hangs it).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// `GET url` as (status, JSON or the text as a JSON string); status 0 when unreachable.
pub async fn get(url: &str) -> (u16, Value) {
    send("GET", url, None).await
}

/// `GET url` as JSON (a JSON string when unreachable or not JSON).
pub async fn json(url: &str) -> Value {
    get(url).await.1
}

/// `method url` with an optional JSON body: (status, JSON or the text as a JSON string;
/// status 0 and the error when unreachable).
pub async fn send(method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    let mut request = client().request(method.parse().unwrap(), url);
    if let Some(body) = body {
        request = request.json(body);
    }
    match request.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// Polls `check` every 200 ms until it yields `Some`, for at most `limit`; then panics
/// naming `what`. Real Connect's lifecycles are asynchronous: this waits on the state
/// they reach, never on a fixed sleep.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {limit:?} in vain for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
