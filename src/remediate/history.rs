//! The last N remediation events, newest last, for `GET /remediation`'s `history`.

use std::{collections::VecDeque, time::SystemTime};

use serde::Serialize;

use super::Event;

/// `--remediation-history`'s default.
pub const DEFAULT_LEN: usize = 100;

/// One event as `history` lists it: `time`, then the event's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    #[serde(flatten)]
    pub event: Event,
}

/// A bounded list of events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    len: usize,
    entries: VecDeque<HistoryEntry>,
}

impl History {
    /// Keeps the last `len` events (0: none).
    pub fn new(len: usize) -> Self {
        Self {
            len,
            entries: VecDeque::with_capacity(len.min(DEFAULT_LEN)),
        }
    }

    /// Adds `event`, seen `at`, dropping the oldest beyond the length.
    pub fn push(&mut self, event: &Event, at: SystemTime) {
        if self.len == 0 {
            return;
        }
        if self.entries.len() == self.len {
            self.entries.pop_front();
        }
        self.entries.push_back(HistoryEntry {
            time: humantime::format_rfc3339_millis(at).to_string(),
            event: event.clone(),
        });
    }

    /// Oldest first.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &HistoryEntry> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_n_newest_last() {
        let mut h = History::new(2);
        for n in 1..=3 {
            let event = Event {
                connector: format!("c{n}"),
                step: "restart-tasks",
                attempt: n,
                outcome: "accepted".into(),
                cause: String::new(),
            };
            h.push(&event, SystemTime::UNIX_EPOCH);
        }
        let names: Vec<_> = h.entries().map(|e| e.event.connector.as_str()).collect();
        assert_eq!(names, ["c2", "c3"]);
        assert_eq!(h.entries().next().unwrap().time, "1970-01-01T00:00:00.000Z");
        let mut none = History::new(0);
        none.push(
            &Event {
                connector: "c".into(),
                step: "escalate",
                attempt: 0,
                outcome: String::new(),
                cause: String::new(),
            },
            SystemTime::now(),
        );
        assert_eq!(none.entries().len(), 0);
    }
}
