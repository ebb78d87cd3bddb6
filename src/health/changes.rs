//! What changed between two polls, for the log: one [`Change`] per connector or task
//! whose state differs, or that is gone. Pure: [`between`] walks both snapshots'
//! name-ordered maps side by side (one comparison per connector, no lookups, nothing
//! copied), so a poll of 10,000 connectors costs the poll thread little when nothing
//! changed; [`log`] writes the lines.

use crate::{
    connect::{ConnectorStatus, types::first_line},
    snapshot::{Snapshot, instances},
};

/// One line of the transition log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change<'a> {
    /// A connector (`task: None`) or task reached `to`; `from` is `None` when new.
    State {
        connector: &'a str,
        task: Option<u32>,
        from: Option<&'a str>,
        to: &'a str,
        trace: Option<&'a str>,
    },
    /// A connector lost its status record (deleted, or being deleted), or a task left.
    Gone {
        connector: &'a str,
        task: Option<u32>,
    },
}

/// Every change from `before` to `after`, connectors in name order.
pub fn between<'a>(before: &'a Snapshot, after: &'a Snapshot) -> Vec<Change<'a>> {
    let mut out = Vec::new();
    let mut old = before.connectors.iter().peekable();
    for (name, now) in &after.connectors {
        while let Some((gone, was)) = old.next_if(|(o, _)| *o < name) {
            connector(&mut out, gone, was.as_ref(), None);
        }
        let was = old
            .next_if(|(o, _)| *o == name)
            .and_then(|(_, s)| s.as_ref());
        connector(&mut out, name, was, now.as_ref());
    }
    for (gone, was) in old {
        connector(&mut out, gone, was.as_ref(), None);
    }
    out
}

/// The changes of one connector (`None`: no status record in that poll).
fn connector<'a>(
    out: &mut Vec<Change<'a>>,
    name: &'a str,
    was: Option<&'a ConnectorStatus>,
    now: Option<&'a ConnectorStatus>,
) {
    for i in now.into_iter().flat_map(|now| instances(name, now)) {
        let from = was.and_then(|w| state_of(w, i.task));
        if from != Some(i.state) {
            let (task, to, trace) = (i.task, i.state, i.trace);
            out.push(Change::State {
                connector: name,
                task,
                from,
                to,
                trace,
            });
        }
    }
    match (was, now) {
        (Some(_), None) => out.push(Change::Gone {
            connector: name,
            task: None,
        }),
        (Some(was), Some(now)) => {
            let left = was
                .tasks
                .iter()
                .filter(|t| state_of(now, Some(t.id)).is_none());
            out.extend(left.map(|t| Change::Gone {
                connector: name,
                task: Some(t.id),
            }));
        }
        _ => {}
    }
}

/// The state of the connector (`None`) or one of its tasks in `status`, if there.
fn state_of(status: &ConnectorStatus, task: Option<u32>) -> Option<&str> {
    match task {
        None => Some(&status.connector.state),
        Some(id) => status
            .tasks
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.state.as_str()),
    }
}

/// Logs every change from `before` to `after`: FAILED as a warning with the trace's
/// first line, the rest as information.
pub fn log(before: &Snapshot, after: &Snapshot) {
    for change in between(before, after) {
        match change {
            Change::State {
                connector,
                task,
                from,
                to,
                trace,
            } => {
                let task = task.map(|t| t.to_string()).unwrap_or_default();
                let from = from.unwrap_or("new");
                if to == "FAILED" {
                    let cause = trace.map(first_line).unwrap_or_default();
                    tracing::warn!(connector, task, from, to, cause, "state changed");
                } else {
                    tracing::info!(connector, task, from, to, "state changed");
                }
            }
            Change::Gone {
                connector,
                task: None,
            } => tracing::info!(connector, "gone"),
            Change::Gone {
                connector,
                task: Some(id),
            } => {
                tracing::info!(connector, task = id.to_string(), "gone")
            }
        }
    }
}

#[cfg(test)]
mod tests;
