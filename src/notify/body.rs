//! What a webhook receives, made without IO: a generic JSON document, or a
//! Slack-compatible body (`text`, the fallback Slack shows in notifications, plus
//! `blocks` with the same content laid out). Every cause line and the Connect URL pass
//! through [`mask`] first (URI passwords, `password=`/`token=` values, bearer and basic
//! credentials), on top of the Connect client's own scrubbing of what it read.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::event::{Event, Kind};
use crate::plan::redact::mask;

/// Who sends: part of every message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// This sentinel: `POD_NAME`, else `HOSTNAME`, else `connect-sentinel`.
    pub sentinel: String,
    /// The worker whose instances it watches (`--connect-worker-id`), when set.
    pub worker: Option<String>,
    /// The Connect REST URL (validated: never with credentials).
    pub connect_url: String,
}

/// How a body is laid out (`--webhook-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// A JSON document with one field per fact.
    #[default]
    Generic,
    /// Slack's incoming-webhook body: `text` and `blocks`.
    Slack,
}

/// Events the rate limit held back, sent as one message when it allows again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Held {
    pub count: u32,
    /// The first few connectors, in the order they came.
    pub connectors: Vec<String>,
}

/// How many connector names a held-back message lists.
const LISTED: usize = 10;

impl Held {
    /// Adds one held-back event.
    pub fn add(&mut self, event: &Event) {
        self.count += 1;
        if self.connectors.len() < LISTED && !self.connectors.contains(&event.connector) {
            self.connectors.push(event.connector.clone());
        }
    }
}

/// One message to send.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Event(Event),
    /// `count` more events were held back by the rate limit of `per_minute`.
    Held {
        held: Held,
        per_minute: u32,
        at: SystemTime,
    },
}

/// The longest cause line a body carries (Slack's section text allows 3,000).
const CAUSE_CHARS: usize = 500;

/// The body of `message` in `format`, as `from` sends it.
pub fn render(message: &Message, format: Format, from: &Identity) -> Value {
    match format {
        Format::Generic => generic(message, from),
        Format::Slack => slack(message, from),
    }
}

fn sentinel(from: &Identity) -> Value {
    json!({"name": from.sentinel, "worker": from.worker,
        "connect_url": mask(&from.connect_url)})
}

fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

fn generic(message: &Message, from: &Identity) -> Value {
    let mut body = match message {
        Message::Event(e) => json!({
            "kind": e.kind.as_str(), "connector": e.connector,
            "phase": {"from": e.from, "to": e.to}, "cause": cause(e),
            "attempts": e.attempts, "time": rfc3339(e.at),
        }),
        Message::Held { held, at, .. } => json!({
            "kind": "held_back", "count": held.count, "connectors": held.connectors,
            "time": rfc3339(*at),
        }),
    };
    body["text"] = text(message).into();
    body["sentinel"] = sentinel(from);
    body["source"] = "connect-sentinel".into();
    body
}

fn slack(message: &Message, from: &Identity) -> Value {
    let mut section = format!("{} {}", emoji(message), escape(&text(message)));
    if let Message::Event(e) = message
        && let Some(cause) = cause(e)
    {
        section.push_str(&format!("\n```{}```", escape(&cause)));
    }
    let context = escape(&context(message, from));
    json!({
        "text": text(message),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    })
}

/// Slack's context line: who sends, about which Connect, when.
fn context(message: &Message, from: &Identity) -> String {
    let at = match message {
        Message::Event(e) => e.at,
        Message::Held { at, .. } => *at,
    };
    let mut line = format!("{} · Connect {}", from.sentinel, mask(&from.connect_url));
    if let Some(worker) = &from.worker {
        line.push_str(&format!(" · worker {worker}"));
    }
    line.push_str(&format!(" · {}", rfc3339(at)));
    line
}

fn emoji(message: &Message) -> &'static str {
    match message {
        Message::Event(e) if e.kind == Kind::Recovery => ":white_check_mark:",
        Message::Event(e) if e.kind == Kind::Escalation => ":rotating_light:",
        Message::Event(_) => ":warning:",
        Message::Held { .. } => ":hourglass:",
    }
}

/// Slack reads `&`, `<` and `>` as markup (`<!channel>` would ping everyone).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The cause line, redacted and bounded.
fn cause(event: &Event) -> Option<String> {
    let line = event.cause.as_deref()?;
    let masked = mask(line);
    Some(match masked.char_indices().nth(CAUSE_CHARS) {
        Some((cut, _)) => format!("{}…", &masked[..cut]),
        None => masked.into_owned(),
    })
}

/// One line saying what happened (the generic `text`, Slack's fallback).
pub fn text(message: &Message) -> String {
    match message {
        Message::Event(e) => event_text(e),
        Message::Held {
            held, per_minute, ..
        } => {
            let names = held.connectors.join(", ");
            let more = held.count as usize > held.connectors.len();
            let etc = if more { ", …" } else { "" };
            format!(
                "{} more notifications were held back by the rate limit ({per_minute} a minute): {names}{etc}",
                held.count
            )
        }
    }
}

fn event_text(e: &Event) -> String {
    let what = match e.kind {
        Kind::PersistentFailure => "has a persistent failure",
        Kind::Escalation => "escalated",
        Kind::Recovery => "recovered",
    };
    let from = e.from.as_deref().unwrap_or("healthy");
    let to = e.to.as_deref().unwrap_or("healthy");
    let restarts = match e.attempts {
        1 => "1 restart".to_string(),
        n => format!("{n} restarts"),
    };
    format!(
        "connector {} {what} ({from} → {to}, {restarts})",
        e.connector
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            sentinel: "connect-0".into(),
            worker: Some("10.0.0.5:8083".into()),
            connect_url: "http://connect:8083".into(),
        }
    }

    fn escalation(cause: &str) -> Message {
        Message::Event(Event {
            connector: "jdbc-sink".into(),
            kind: Kind::Escalation,
            from: Some("remediating".into()),
            to: Some("escalated".into()),
            cause: Some(cause.into()),
            attempts: 3,
            at: SystemTime::UNIX_EPOCH,
        })
    }

    #[test]
    fn the_generic_document_has_one_field_per_fact() {
        let body = render(
            &escalation("ConnectException: refused"),
            Format::Generic,
            &identity(),
        );
        assert_eq!(body["kind"], "escalation");
        assert_eq!(
            body["phase"],
            json!({"from": "remediating", "to": "escalated"})
        );
        assert_eq!(
            (body["attempts"].as_u64(), body["time"].as_str()),
            (Some(3), Some("1970-01-01T00:00:00Z"))
        );
        assert_eq!(body["sentinel"]["worker"], "10.0.0.5:8083");
        assert_eq!(
            body["text"],
            "connector jdbc-sink escalated (remediating → escalated, 3 restarts)"
        );
    }

    #[test]
    fn the_slack_body_has_text_and_escaped_blocks() {
        let body = render(
            &escalation("bad <!channel> & co"),
            Format::Slack,
            &identity(),
        );
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .starts_with("connector jdbc-sink escalated")
        );
        let section = body["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            section.contains("bad &lt;!channel&gt; &amp; co"),
            "{section}"
        );
        let context = body["blocks"][1]["elements"][0]["text"].as_str().unwrap();
        assert!(
            context.contains("connect-0") && context.contains("1970-01-01T00:00:00Z"),
            "{context}"
        );
    }

    #[test]
    fn causes_are_redacted_and_bounded_in_both_formats() {
        let secret =
            "SQLException: jdbc:mysql://app:CANARY1@db/x?password=CANARY2 Bearer CANARY3abcdef";
        for format in [Format::Generic, Format::Slack] {
            let body = render(&escalation(secret), format, &identity()).to_string();
            assert!(
                !body.contains("CANARY") && body.contains("SQLException"),
                "{body}"
            );
        }
        let long = "x".repeat(2000);
        let Message::Event(e) = escalation(&long) else {
            unreachable!()
        };
        assert_eq!(cause(&e).unwrap().chars().count(), CAUSE_CHARS + 1);
    }

    #[test]
    fn held_back_events_are_one_message() {
        let mut held = Held::default();
        for n in 0..12 {
            let Message::Event(mut e) = escalation("x") else {
                unreachable!()
            };
            e.connector = format!("c{n}");
            held.add(&e);
        }
        let message = Message::Held {
            held,
            per_minute: 20,
            at: SystemTime::UNIX_EPOCH,
        };
        let body = render(&message, Format::Generic, &identity());
        assert_eq!(
            (body["kind"].as_str(), body["count"].as_u64()),
            (Some("held_back"), Some(12))
        );
        assert_eq!(body["connectors"].as_array().unwrap().len(), LISTED);
        assert!(body["text"].as_str().unwrap().ends_with("c9, …"), "{body}");
    }
}
