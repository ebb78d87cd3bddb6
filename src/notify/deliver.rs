//! Delivery to one webhook URL: a worker that sends its messages in order, each
//! retried on its [`Retry`] schedule, within the URL's rate limit ([`Window`]); events
//! over the limit are held back and sent as one message when the window reopens. The
//! HTTP call is behind [`Transport`], so retries and the rate limit are tested with
//! tokio's paused clock and a scripted receiver. Logs name the URL's host only.

use std::{future::Future, time::Duration};

use tokio::{sync::mpsc, time::Instant};

use super::{
    Counters, Outcome,
    body::{self, Format, Held, Identity, Message},
    event::Event,
    limit::{Retry, Window},
    url::WebhookUrl,
};

/// A receiver's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// `Retry-After`, in seconds, when it sent one.
    pub retry_after: Option<Duration>,
}

/// Why a message did not get an answer; the text never holds the URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("cannot send: {0}")]
    Transport(String),
}

/// Posts one JSON body to a URL.
pub trait Transport: Send + Sync + 'static {
    fn post(
        &self,
        url: &WebhookUrl,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Reply, SendError>> + Send;
}

/// Whether an answer is worth another try: no answer, 408, 429 and 5xx.
fn retryable(result: &Result<Reply, SendError>) -> bool {
    match result {
        Ok(reply) => matches!(reply.status, 408 | 429 | 500..=599),
        Err(_) => true,
    }
}

fn delivered(result: &Result<Reply, SendError>) -> bool {
    matches!(result, Ok(reply) if (200..300).contains(&reply.status))
}

/// What one URL's worker needs.
pub struct Target<T> {
    pub url: WebhookUrl,
    pub transport: std::sync::Arc<T>,
    pub format: Format,
    pub identity: Identity,
    pub retry: Retry,
    pub per_minute: u32,
    pub counters: Counters,
}

impl<T: Transport> Target<T> {
    /// Sends `message`, retrying on the schedule; counts and logs how it went.
    pub async fn send(&self, message: &Message) {
        let body = body::render(message, self.format, &self.identity).to_string();
        let webhook = self.url.host();
        for attempt in 1.. {
            let result = self.transport.post(&self.url, body.clone().into_bytes());
            let result = result.await;
            let why = reason(&result);
            match next(&result, attempt, &self.retry) {
                Next::Sent => tracing::debug!(webhook, attempt, "notification sent"),
                Next::GiveUp => tracing::warn!(
                    webhook,
                    attempts = attempt,
                    error = why,
                    "notification failed"
                ),
                Next::Retry(wait) => {
                    let retry_in = humantime::format_duration(wait).to_string();
                    tracing::info!(
                        webhook,
                        attempt,
                        error = why,
                        retry_in,
                        "notification not delivered; retrying"
                    );
                    self.counters.count(Outcome::Retried);
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            let outcome = if delivered(&result) {
                Outcome::Sent
            } else {
                Outcome::Failed
            };
            return self.counters.count(outcome);
        }
    }

    /// Sends each event that comes, in order, within the rate limit, until the
    /// channel closes; events over the limit are held and sent as one message when the
    /// window reopens.
    pub async fn run(self, mut events: mpsc::Receiver<Event>) {
        let mut window = Window::new(self.per_minute);
        let mut held = Held::default();
        loop {
            let reopens = window.reopens_at(Instant::now());
            tokio::select! {
                event = events.recv() => {
                    let Some(event) = event else { return };
                    match held.count == 0 && window.admit(Instant::now()) {
                        true => self.send(&Message::Event(event)).await,
                        false => self.hold(&mut held, &event),
                    }
                }
                () = tokio::time::sleep_until(reopens), if held.count > 0 => {
                    window.admit(Instant::now());
                    let held = std::mem::take(&mut held);
                    let at = std::time::SystemTime::now();
                    self.send(&Message::Held { held, per_minute: self.per_minute, at }).await;
                }
            }
        }
    }

    fn hold(&self, held: &mut Held, event: &Event) {
        if held.count == 0 {
            tracing::warn!(
                webhook = self.url.host(),
                per_minute = self.per_minute,
                "notification rate limit reached; holding the rest back until the window reopens"
            );
        }
        held.add(event);
        self.counters.count(Outcome::RateLimited);
    }
}

/// What to do after a try.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Sent,
    GiveUp,
    Retry(Duration),
}

/// After try `attempt` got `result`: done, given up, or another try after a wait.
fn next(result: &Result<Reply, SendError>, attempt: u32, retry: &Retry) -> Next {
    if delivered(result) {
        return Next::Sent;
    }
    if !retryable(result) || attempt >= retry.attempts {
        return Next::GiveUp;
    }
    let asked = result.as_ref().ok().and_then(|r| r.retry_after);
    Next::Retry(retry.delay(attempt, asked))
}

fn reason(result: &Result<Reply, SendError>) -> String {
    match result {
        Ok(reply) => format!("HTTP {}", reply.status),
        Err(e) => e.to_string(),
    }
}

/// The real transport: reqwest over rustls (ring), no redirects (a redirect could
/// carry the body elsewhere), a deadline per call.
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

impl Http {
    /// A client for `urls` with a `timeout` per call; the trust store is loaded only
    /// when one of them is `https://`.
    pub fn new(timeout: Duration, https: bool) -> Result<Self, SendError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("connect-sentinel/", env!("CARGO_PKG_VERSION")));
        let builder = crate::connect::configure_tls(builder, &Default::default(), https)
            .map_err(|e| SendError::Transport(e.to_string()))?;
        let client = builder
            .build()
            .map_err(|e| SendError::Transport(crate::connect::causes(&e.without_url())))?;
        Ok(Self { client, timeout })
    }
}

impl Transport for Http {
    async fn post(&self, url: &WebhookUrl, body: Vec<u8>) -> Result<Reply, SendError> {
        let request = self.client.post(url.secret().clone());
        let request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| match e.is_timeout() {
                true => SendError::Timeout(self.timeout),
                false => SendError::Transport(crate::connect::causes(&e.without_url())),
            })?;
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse().ok())
            .map(Duration::from_secs);
        Ok(Reply {
            status: response.status().as_u16(),
            retry_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_follows_a_try() {
        let retry = Retry::default();
        let reply = |status, secs: Option<u64>| {
            Ok(Reply {
                status,
                retry_after: secs.map(Duration::from_secs),
            })
        };
        let timeout = Err(SendError::Timeout(Duration::from_secs(5)));
        let second = Next::Retry(Duration::from_secs(2));
        for (result, attempt, want) in [
            (reply(204, None), 1, Next::Sent),
            (reply(404, None), 1, Next::GiveUp),
            (reply(302, None), 1, Next::GiveUp),
            (reply(429, Some(7)), 1, Next::Retry(Duration::from_secs(7))),
            (reply(503, None), 2, second),
            (reply(503, None), 5, Next::GiveUp),
            (timeout, 1, Next::Retry(Duration::from_secs(1))),
        ] {
            assert_eq!(
                next(&result, attempt, &retry),
                want,
                "{result:?} #{attempt}"
            );
        }
    }
}
