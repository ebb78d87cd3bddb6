//! Webhook notifications of `serve --webhook-url`: a connector's persistent failure,
//! escalation and recovery, sent as a generic JSON document or a Slack-compatible body.
//!
//! Data flows one way. The poll loop hands each poll's remediation view to its
//! [`Notifier`], which derives the events with the pure [`event::events`] (two
//! consecutive views, one event per transition, none in a steady state) and queues them
//! with `try_send`: a full queue drops and counts, so a slow or hung receiver never
//! delays a poll. [`Delivery`] runs on the server's runtime until shutdown: one worker
//! per URL ([`deliver`]) sends in order, retries with doubling waits ([`limit::Retry`])
//! and keeps to a rate limit ([`limit::Window`]), holding the excess back as one
//! message. Bodies are made by [`body`] with every cause line redacted; a URL is a
//! secret ([`url::WebhookUrl`] shows only its host). Everything counts in
//! `connect_sentinel_notifications_total{outcome}`.

pub mod body;
pub mod deliver;
pub mod event;
pub mod limit;
mod notifier;
pub mod url;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};

pub use body::{Format, Identity};
pub use event::{Event, Kind};
pub use limit::Retry;
pub use notifier::{Delivery, Notifier, attach, channel};
pub use url::{UrlError, WebhookUrl};

/// How notifications are sent (`serve --webhook-*`), validated.
#[derive(Clone, Debug)]
pub struct NotifySettings {
    /// Where to (at least one).
    pub urls: Vec<WebhookUrl>,
    pub format: Format,
    pub retry: Retry,
    /// Messages per minute per URL; the excess is held back as one message.
    pub per_minute: u32,
    /// Who sends, in every message.
    pub identity: Identity,
    /// The HTTP client (built with the settings, so a TLS problem stops start-up).
    pub transport: deliver::Http,
}

impl NotifySettings {
    /// Logs where notifications go: the hosts only (a URL may carry a token).
    pub fn announce(&self) {
        let hosts: Vec<&str> = self.urls.iter().map(|u| u.host()).collect();
        tracing::info!(webhooks = hosts.join(", "), format = ?self.format, "notifications on");
    }

    /// Generic bodies, [`Retry::default`], 20 a minute, over `transport`.
    pub fn new(urls: Vec<WebhookUrl>, identity: Identity, transport: deliver::Http) -> Self {
        Self {
            urls,
            format: Format::Generic,
            retry: Retry::default(),
            per_minute: 20,
            identity,
            transport,
        }
    }
}

/// How one notification (or one try of it) went: the `outcome` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A message a receiver accepted (2xx); a held-back summary counts once.
    Sent,
    /// A message given up on: out of tries, or an answer a retry cannot fix (4xx).
    Failed,
    /// A try that will be repeated (no answer, 408, 429, 5xx).
    Retried,
    /// An event dropped: a queue was full, or the server stopped before it was sent.
    Dropped,
    /// An event held back by the rate limit (sent later inside one summary message).
    RateLimited,
}

impl Outcome {
    const ALL: [Outcome; 5] = [
        Self::Sent,
        Self::Failed,
        Self::Retried,
        Self::Dropped,
        Self::RateLimited,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Retried => "retried",
            Self::Dropped => "dropped",
            Self::RateLimited => "rate_limited",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// `notifications_total{outcome}`; clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    by_outcome: Family<OutcomeLabels, Counter>,
}

impl Counters {
    /// Registers the family (every outcome at 0, so alerts see the series at once).
    pub fn register(&self, registry: &mut Registry) {
        for outcome in Outcome::ALL {
            let _ = self.by_outcome.get_or_create(&Self::labels(outcome));
        }
        registry.register(
            "notifications",
            "Webhook notifications by outcome",
            self.by_outcome.clone(),
        );
    }

    fn labels(outcome: Outcome) -> OutcomeLabels {
        OutcomeLabels {
            outcome: outcome.label(),
        }
    }

    pub fn count(&self, outcome: Outcome) {
        self.add(outcome, 1);
    }

    pub fn add(&self, outcome: Outcome, n: u64) {
        self.by_outcome
            .get_or_create(&Self::labels(outcome))
            .inc_by(n);
    }

    /// The count of `outcome` so far.
    pub fn get(&self, outcome: Outcome) -> u64 {
        self.by_outcome.get_or_create(&Self::labels(outcome)).get()
    }
}

#[cfg(test)]
mod tests;
