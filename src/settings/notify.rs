//! `serve --webhook-*` turned into [`NotifySettings`]: each URL checked (http or https,
//! a host) without ever echoing it, the retry and rate-limit numbers bounded, the HTTP
//! client built, and who sends (`POD_NAME`, else `HOSTNAME`; the worker id; the Connect
//! URL) resolved once.

use std::time::Duration;

use super::{SettingsError, invalid, reconcile::env};
use crate::{
    cli::{NotifyArgs, WebhookFormat},
    notify::{Format, Identity, NotifySettings, Retry, WebhookUrl, deliver::Http},
    verdict::WorkerScope,
};

/// The longest wait between two tries.
const BACKOFF_CAP: Duration = Duration::from_secs(60);

/// Notifications from the flags; `None` without `--webhook-url`. They need
/// `--auto-restart` (`auto_restart`): they report its phases.
pub fn notify(
    args: &NotifyArgs,
    auto_restart: bool,
    worker: &WorkerScope,
    connect_url: &str,
) -> Result<Option<NotifySettings>, SettingsError> {
    let urls = urls(args)?;
    if urls.is_empty() {
        return Ok(None);
    }
    if !auto_restart {
        return Err(invalid(
            "webhook-url",
            "needs --auto-restart: notifications report its escalations and recoveries",
        ));
    }
    let https = urls.iter().any(WebhookUrl::is_https);
    let transport = Http::new(args.webhook_timeout, https)
        .map_err(|e| invalid("webhook-url", e.to_string()))?;
    let identity = identity(worker, connect_url);
    Ok(Some(NotifySettings {
        format: match args.webhook_format {
            WebhookFormat::Generic => Format::Generic,
            WebhookFormat::Slack => Format::Slack,
        },
        retry: retry(args)?,
        per_minute: match args.webhook_rate_limit {
            0 => return Err(invalid("webhook-rate-limit", "must be at least 1 a minute")),
            n => n,
        },
        ..NotifySettings::new(urls, identity, transport)
    }))
}

/// Each non-empty `--webhook-url`, parsed; an error says which one (by position) and
/// why, never what it holds.
fn urls(args: &NotifyArgs) -> Result<Vec<WebhookUrl>, SettingsError> {
    let given: Vec<&str> = args
        .webhook_urls
        .iter()
        .map(|s| s.0.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let total = given.len();
    let parse = |(n, raw): (usize, &&str)| {
        WebhookUrl::parse(raw).map_err(|e| {
            let which = match total {
                1 => String::new(),
                _ => format!(" (URL {} of {total})", n + 1),
            };
            invalid("webhook-url", format!("{e}{which}"))
        })
    };
    given.iter().enumerate().map(parse).collect()
}

fn retry(args: &NotifyArgs) -> Result<Retry, SettingsError> {
    if args.webhook_timeout.is_zero() {
        return Err(invalid("webhook-timeout", "must be more than 0"));
    }
    if args.webhook_attempts == 0 {
        return Err(invalid("webhook-attempts", "must be at least 1"));
    }
    if args.webhook_backoff.is_zero() {
        return Err(invalid("webhook-backoff", "must be more than 0"));
    }
    Ok(Retry {
        attempts: args.webhook_attempts,
        base: args.webhook_backoff,
        cap: BACKOFF_CAP.max(args.webhook_backoff),
    })
}

/// This sentinel (`POD_NAME`, else `HOSTNAME`), its worker and the Connect URL.
fn identity(worker: &WorkerScope, connect_url: &str) -> Identity {
    Identity {
        sentinel: env("POD_NAME")
            .or_else(|| env("HOSTNAME"))
            .unwrap_or_else(|| "connect-sentinel".into()),
        worker: match worker {
            WorkerScope::All => None,
            WorkerScope::Exact(id) | WorkerScope::Host(id) => Some(id.clone()),
        },
        connect_url: connect_url.to_string(),
    }
}
