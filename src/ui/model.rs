//! The status page's rows, with no IO: each connector of a usable snapshot with one
//! combined state, in triage order (failed, persistent failure, degraded, missing
//! tasks, unassigned, paused or stopped, healthy), its time in state, each task's
//! root-cause line and trace, and what remediation did; then filtered by a chip and a
//! search, and paged. Triage, chips and search read a [`Summary`] of every connector;
//! only the page's connectors become [`Row`]s (traces, tasks, history).

use std::time::SystemTime;

use serde::Serialize;

use crate::{
    connect::{ConnectorStatus, TaskStatus},
    health::{Observed, since},
    remediate::{Entry, Phase, history::HistoryEntry},
    silent::{Check, Finding},
    snapshot::Snapshot,
    verdict::Policy,
};

/// A connector's place in the triage order (the declaration order is the order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Triage {
    Failed,
    Persistent,
    Degraded,
    MissingTasks,
    Unassigned,
    Paused,
    Healthy,
}

impl Triage {
    pub const ALL: [Triage; 7] = [
        Triage::Failed,
        Triage::Persistent,
        Triage::Degraded,
        Triage::MissingTasks,
        Triage::Unassigned,
        Triage::Paused,
        Triage::Healthy,
    ];

    /// The name in `?state=` and in CSS classes.
    pub fn key(self) -> &'static str {
        match self {
            Triage::Failed => "failed",
            Triage::Persistent => "persistent",
            Triage::Degraded => "degraded",
            Triage::MissingTasks => "missing-tasks",
            Triage::Unassigned => "unassigned",
            Triage::Paused => "paused",
            Triage::Healthy => "healthy",
        }
    }

    /// The chip's label.
    pub fn label(self) -> &'static str {
        match self {
            Triage::Failed => "Failed",
            Triage::Persistent => "Persistent failure",
            Triage::Degraded => "Degraded",
            Triage::MissingTasks => "Missing tasks",
            Triage::Unassigned => "Unassigned",
            Triage::Paused => "Paused / stopped",
            Triage::Healthy => "Healthy",
        }
    }

    pub fn parse(key: &str) -> Option<Triage> {
        Triage::ALL.into_iter().find(|t| t.key() == key)
    }
}

/// One task as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskRow {
    pub id: u32,
    pub state: String,
    pub worker: String,
    /// The trace's root cause (its last `Caused by:` line, else its first line).
    pub cause: Option<String>,
    /// The whole trace (as masked as everywhere else).
    pub trace: Option<String>,
}

/// One connector as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub name: String,
    pub triage: Triage,
    /// The combined state, e.g. `FAILED`, `DEGRADED (1 of 3 tasks FAILED)`.
    pub state: String,
    /// When its worst instance entered its state.
    #[serde(skip)]
    pub since: Option<SystemTime>,
    pub class: String,
    pub kind: String,
    pub topics: String,
    pub worker: String,
    /// The connector instance's own root-cause line and trace, when it failed.
    pub cause: Option<String>,
    pub trace: Option<String>,
    pub tasks: Vec<TaskRow>,
    /// The silent-failure checks that hold (`no-tasks`, `missing-tasks`, …).
    pub silent: Vec<&'static str>,
    pub remediation: Option<Entry>,
    /// Its last remediation actions, newest first.
    pub history: Vec<HistoryEntry>,
}

/// How many actions of a connector's history a row shows.
const HISTORY_PER_ROW: usize = 5;

/// What triage, the chips and the search need of a connector, without its row.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary<'a> {
    pub name: &'a str,
    pub triage: Triage,
    pub class: &'a str,
    pub topics: &'a str,
}

/// What [`select`] sorts, counts and searches.
pub trait Triaged {
    fn triage(&self) -> Triage;
    /// Name, class and topics: what the search matches.
    fn searched(&self) -> [&str; 3];
}

impl Triaged for Summary<'_> {
    fn triage(&self) -> Triage {
        self.triage
    }
    fn searched(&self) -> [&str; 3] {
        [self.name, self.class, self.topics]
    }
}

impl Triaged for Row {
    fn triage(&self) -> Triage {
        self.triage
    }
    fn searched(&self) -> [&str; 3] {
        [&self.name, &self.class, &self.topics]
    }
}

/// Every connector `policy` selects and `keep` keeps, in triage order, then by name.
pub fn summaries<'a>(
    observed: &Observed,
    snapshot: &'a Snapshot,
    policy: &Policy,
    keep: &dyn Fn(&str) -> bool,
) -> Vec<Summary<'a>> {
    let mut all: Vec<Summary<'a>> = snapshot
        .connectors
        .iter()
        .filter(|(name, _)| policy.selects(name) && keep(name))
        .map(|(name, status)| {
            let facts = snapshot.facts.get(name.as_str());
            Summary {
                name,
                triage: triage_of(observed, name, status.as_ref()).0,
                class: facts.and_then(|f| f.class.as_deref()).unwrap_or_default(),
                topics: facts.and_then(|f| f.topics.as_deref()).unwrap_or_default(),
            }
        })
        .collect();
    all.sort_by(|a, b| (a.triage, a.name).cmp(&(b.triage, b.name)));
    all
}

/// The rows of `chosen` (in their order).
pub fn rows(observed: &Observed, snapshot: &Snapshot, chosen: &[&Summary<'_>]) -> Vec<Row> {
    let status = |name: &str| snapshot.connectors.get(name).and_then(Option::as_ref);
    chosen
        .iter()
        .map(|s| row(observed, snapshot, s.name, status(s.name)))
        .collect()
}

/// The triage place and combined state of `name`, from its status, its remediation and
/// the silent checks that hold.
fn triage_of(
    observed: &Observed,
    name: &str,
    status: Option<&ConnectorStatus>,
) -> (Triage, String) {
    let entry = observed.remediation.iter().find(|e| e.connector == name);
    let findings: Vec<&Finding> = observed.silent.of(name, None).collect();
    combined(status, entry, &findings)
}

fn row(
    observed: &Observed,
    snapshot: &Snapshot,
    name: &str,
    status: Option<&ConnectorStatus>,
) -> Row {
    let entry = observed.remediation.iter().find(|e| e.connector == name);
    let findings: Vec<&Finding> = observed.silent.of(name, None).collect();
    let (triage, state) = triage_of(observed, name, status);
    let facts = snapshot.facts.get(name).cloned().unwrap_or_default();
    let connector = status.map(|s| &s.connector);
    let trace = connector.and_then(|c| c.trace.clone());
    Row {
        name: name.to_string(),
        triage,
        state,
        since: observed.since.of(name).map(|(_, at)| at),
        class: facts.class.as_deref().unwrap_or_default().to_string(),
        kind: kind(
            facts.kind.as_deref(),
            status.and_then(|s| s.kind.as_deref()),
        ),
        topics: facts.topics.as_deref().unwrap_or_default().to_string(),
        worker: connector
            .map(|c| c.worker_id.to_string())
            .unwrap_or_default(),
        cause: trace.as_deref().map(root_cause),
        trace,
        tasks: status
            .map(|s| s.tasks.iter().map(task_row).collect())
            .unwrap_or_default(),
        silent: findings.iter().map(|f| f.check.name()).collect(),
        remediation: entry.cloned(),
        history: history_of(&observed.remediation_history, name),
    }
}

/// `source` or `sink`, from the info or else the status; nothing when neither knows.
fn kind(info: Option<&str>, status: Option<&str>) -> String {
    let known = |k: &&str| *k != "unknown";
    info.filter(known)
        .or(status.filter(known))
        .unwrap_or_default()
        .to_string()
}

fn task_row(task: &TaskStatus) -> TaskRow {
    TaskRow {
        id: task.id,
        state: task.state.to_string(),
        worker: task.worker_id.to_string(),
        cause: task.trace.as_deref().map(root_cause),
        trace: task.trace.clone(),
    }
}

fn history_of(history: &[HistoryEntry], name: &str) -> Vec<HistoryEntry> {
    let own = history.iter().rev().filter(|h| h.event.connector == name);
    own.take(HISTORY_PER_ROW).cloned().collect()
}

/// The triage place and combined state of a connector.
pub fn combined(
    status: Option<&ConnectorStatus>,
    entry: Option<&Entry>,
    findings: &[&Finding],
) -> (Triage, String) {
    let given_up = entry.is_some_and(|e| matches!(e.phase, Phase::Persistent | Phase::Escalated));
    let Some(status) = status else {
        return (Triage::Unassigned, since::NO_STATUS.into());
    };
    let failed_tasks = status.tasks.iter().filter(|t| t.state == "FAILED").count();
    let all = status.tasks.len();
    let connector_failed = status.connector.state == "FAILED";
    if given_up && (connector_failed || failed_tasks > 0) {
        return (Triage::Persistent, "PERSISTENT FAILURE".into());
    }
    if connector_failed || (all > 0 && failed_tasks == all) {
        return (Triage::Failed, "FAILED".into());
    }
    if failed_tasks > 0 {
        return (
            Triage::Degraded,
            format!("DEGRADED ({failed_tasks} of {all} tasks FAILED)"),
        );
    }
    if let Some(f) = findings.iter().find(|f| f.check != Check::Stuck) {
        return (Triage::MissingTasks, missing(f));
    }
    match since::worst(Some(status)) {
        s @ ("UNASSIGNED" | "RESTARTING") => (Triage::Unassigned, s.into()),
        s @ ("PAUSED" | "STOPPED") => (Triage::Paused, s.into()),
        "RUNNING" => (Triage::Healthy, "RUNNING".into()),
        other => (Triage::Unassigned, other.into()),
    }
}

fn missing(f: &Finding) -> String {
    match (f.check, f.tasks_expected) {
        (Check::NoTasks, _) => "RUNNING, NO TASKS".into(),
        (Check::NoStatus, _) => since::NO_STATUS.into(),
        (_, Some(expected)) => format!("MISSING TASKS ({} of {expected} running)", f.tasks_running),
        (_, None) => "MISSING TASKS".into(),
    }
}

/// A trace's root cause: its last `Caused by:` line, else its first line.
pub fn root_cause(trace: &str) -> String {
    let caused = trace
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Caused by:"));
    let line = caused.or_else(|| trace.lines().next()).unwrap_or_default();
    line.trim().to_string()
}

/// What the page is asked for: a chip, a search, a page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub triage: Option<Triage>,
    /// Matched, case-insensitively, against name, class and topics.
    pub search: String,
    /// From 1.
    pub page: usize,
}

/// The rows of one page and what the chips count.
#[derive(Debug, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// Per chip, the connectors matching the search in it.
    pub counts: Vec<(Triage, usize)>,
    /// How many match the chip and the search.
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
}

impl<T> Page<T> {
    /// The same page with each row turned into another.
    pub fn map<U>(self, f: impl FnOnce(Vec<T>) -> Vec<U>) -> Page<U> {
        Page {
            rows: f(self.rows),
            counts: self.counts,
            matching: self.matching,
            page: self.page,
            pages: self.pages,
        }
    }
}

/// The items `query` selects, `per_page` at a time.
pub fn select<'a, T: Triaged>(items: &'a [T], query: &Query, per_page: usize) -> Page<&'a T> {
    let needle = query.search.trim().to_lowercase();
    let found: Vec<&T> = items.iter().filter(|r| matches(*r, &needle)).collect();
    let counts = Triage::ALL
        .iter()
        .map(|t| (*t, found.iter().filter(|r| r.triage() == *t).count()))
        .collect();
    let chosen: Vec<&T> = found
        .into_iter()
        .filter(|r| query.triage.is_none_or(|t| r.triage() == t))
        .collect();
    let pages = chosen.len().div_ceil(per_page).max(1);
    let page = query.page.clamp(1, pages);
    let rows = chosen
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .copied()
        .collect();
    Page {
        rows,
        counts,
        matching: chosen.len(),
        page,
        pages,
    }
}

fn matches(item: &impl Triaged, needle: &str) -> bool {
    needle.is_empty()
        || item
            .searched()
            .iter()
            .any(|f| f.to_lowercase().contains(needle))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::health::fixtures;

    fn row(name: &str, triage: Triage, class: &str, topics: &str) -> Row {
        Row {
            name: name.into(),
            triage,
            state: String::new(),
            since: None,
            class: class.into(),
            kind: String::new(),
            topics: topics.into(),
            worker: String::new(),
            cause: None,
            trace: None,
            tasks: Vec::new(),
            silent: Vec::new(),
            remediation: None,
            history: Vec::new(),
        }
    }

    #[test]
    fn the_root_cause_is_the_last_caused_by_else_the_first_line() {
        let trace = "a.B: outer\n\tat x\nCaused by: c.D: middle\nCaused by: e.F: inner\n\tat y";
        assert_eq!(root_cause(trace), "e.F: inner");
        assert_eq!(root_cause("only: one line\n\tat z"), "only: one line");
        assert_eq!(root_cause(""), "");
    }

    #[test]
    fn states_combine_the_connector_and_its_tasks() {
        let snapshot = fixtures::snapshot(&[("a", "RUNNING"), ("b", "PAUSED"), ("c", "FAILED")]);
        let status = |n: &str| snapshot.connectors[n].clone();
        let mut degraded = status("a").unwrap();
        degraded.tasks = ["RUNNING", "FAILED"]
            .iter()
            .enumerate()
            .map(|(i, s)| TaskStatus {
                id: i as u32,
                state: (*s).into(),
                worker_id: "w:1".into(),
                trace: None,
            })
            .collect();
        let cases = [
            (status("a"), (Triage::Healthy, "RUNNING")),
            (status("b"), (Triage::Paused, "PAUSED")),
            (status("c"), (Triage::Failed, "FAILED")),
            (
                Some(degraded),
                (Triage::Degraded, "DEGRADED (1 of 2 tasks FAILED)"),
            ),
            (None, (Triage::Unassigned, "NO STATUS")),
        ];
        for (status, (triage, text)) in cases {
            let (t, s) = combined(status.as_ref(), None, &[]);
            assert_eq!((t, s.as_str()), (triage, text));
        }
    }

    #[test]
    fn search_and_chip_narrow_then_page() {
        let rows = vec![
            row("orders-sink", Triage::Failed, "FileStreamSink", "orders"),
            row("audit", Triage::Healthy, "JdbcSink", "audit-log"),
            row("mirror", Triage::Healthy, "MirrorSource", ""),
        ];
        let query = |search: &str, triage| Query {
            triage,
            search: search.into(),
            page: 1,
        };
        let by_class = select(&rows, &query("jdbc", None), 10);
        assert_eq!(
            by_class
                .rows
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            ["audit"]
        );
        let by_topic = select(&rows, &query("ORDERS", None), 10);
        assert_eq!(by_topic.matching, 1);
        let chip = select(&rows, &query("", Some(Triage::Healthy)), 1);
        assert_eq!((chip.matching, chip.pages, chip.rows.len()), (2, 2, 1));
        let healthy = chip
            .counts
            .iter()
            .find(|(t, _)| *t == Triage::Healthy)
            .unwrap();
        assert_eq!(healthy.1, 2, "chips count every state, whichever is chosen");
    }

    proptest! {
        /// The page lists every row once, in triage order then by name, whatever the
        /// page size.
        #[test]
        fn pages_cover_the_rows_in_triage_order(
            states in prop::collection::vec(0usize..7, 0..40),
            per_page in 1usize..12,
        ) {
            let mut rows: Vec<Row> = states.iter().enumerate()
                .map(|(i, t)| row(&format!("c{i:02}"), Triage::ALL[*t], "", ""))
                .collect();
            rows.sort_by(|a, b| (a.triage, &a.name).cmp(&(b.triage, &b.name)));
            let first = select(&rows, &Query::default(), per_page);
            let mut seen = Vec::new();
            for page in 1..=first.pages {
                let q = Query { page, ..Query::default() };
                seen.extend(select(&rows, &q, per_page).rows.into_iter().map(|r| (r.triage, r.name.clone())));
            }
            prop_assert_eq!(seen.len(), rows.len());
            prop_assert!(seen.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
