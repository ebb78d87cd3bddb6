//! Kubernetes Events for the restart loop: every restart, recreate, classification and
//! escalation of a connector declared in a watched ConfigMap becomes an Event on that
//! ConfigMap (`kubectl describe configmap` shows what was done and why). Connectors
//! declared in files get none: there is no object to post on.

use std::sync::Arc;

use kube::runtime::events::{Event, EventType};
use tokio::sync::{mpsc, watch};

use super::ConfigMaps;
use crate::{health::poller::AutoRestartedSet, remediate};

/// The Event API's limit on a note, in bytes.
const NOTE_LIMIT: usize = 1024;

/// Posts each tapped remediation event on its connector's ConfigMap until the tap
/// closes (the restart loop stopped).
pub async fn post(
    mut tap: mpsc::Receiver<remediate::Event>,
    declared: watch::Receiver<Arc<AutoRestartedSet>>,
    maps: ConfigMaps,
) {
    while let Some(event) = tap.recv().await {
        let document = declared
            .borrow()
            .get(&event.connector)
            .map(|a| a.location.file.clone());
        if let Some(document) = document {
            maps.publish_on(&document, &to_event(&event)).await;
        }
    }
}

/// The Kubernetes Event of one remediation event.
pub fn to_event(event: &remediate::Event) -> Event {
    let ok = event.outcome == "accepted";
    let reason = match (event.step, ok) {
        ("recreate", true) => "Recreated",
        ("recreate", false) => "RecreateFailed",
        ("classify", _) => "NotRestarted",
        ("escalate", _) => "Escalated",
        (_, true) => "Restarted",
        (_, false) => "RestartFailed",
    };
    let mut note = format!(
        "connector {}: {} (attempt {}): {}",
        event.connector, event.step, event.attempt, event.outcome
    );
    if !event.cause.is_empty() {
        note.push_str("; cause: ");
        note.push_str(&event.cause);
    }
    Event {
        type_: match ok {
            true => EventType::Normal,
            false => EventType::Warning,
        },
        reason: reason.into(),
        note: Some(truncated(note)),
        action: "Remediate".into(),
        secondary: None,
    }
}

/// `note` cut to [`NOTE_LIMIT`] bytes on a character boundary.
fn truncated(mut note: String) -> String {
    if note.len() > NOTE_LIMIT {
        let mut end = NOTE_LIMIT - 3;
        while !note.is_char_boundary(end) {
            end -= 1;
        }
        note.truncate(end);
        note.push_str("...");
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(step: &'static str, outcome: &str, cause: &str) -> remediate::Event {
        remediate::Event {
            connector: "orders".into(),
            step,
            attempt: 2,
            outcome: outcome.into(),
            cause: cause.into(),
        }
    }

    #[test]
    fn each_step_and_outcome_has_its_reason_and_type() {
        let cases = [
            ("restart-tasks", "accepted", "Restarted", EventType::Normal),
            (
                "restart-connector",
                "timed out",
                "RestartFailed",
                EventType::Warning,
            ),
            ("recreate", "accepted", "Recreated", EventType::Normal),
            (
                "recreate",
                "still listed",
                "RecreateFailed",
                EventType::Warning,
            ),
            (
                "classify",
                "non-restartable (auth)",
                "NotRestarted",
                EventType::Warning,
            ),
            ("escalate", "escalated", "Escalated", EventType::Warning),
        ];
        for (step, outcome, reason, type_) in cases {
            let e = to_event(&event(step, outcome, "Caused by: boom"));
            assert_eq!(
                (e.reason.as_str(), e.type_),
                (reason, type_),
                "{step} {outcome}"
            );
            let note = e.note.unwrap();
            assert!(
                note.starts_with("connector orders: ") && note.ends_with("boom"),
                "{note}"
            );
        }
    }

    #[test]
    fn a_long_cause_is_cut_to_the_note_limit() {
        let e = to_event(&event("escalate", "escalated", &"é".repeat(2000)));
        let note = e.note.unwrap();
        assert!(
            note.len() <= NOTE_LIMIT && note.ends_with("..."),
            "{}",
            note.len()
        );
    }
}
