//! The status page as HTML: the rows of [`super::model`] through one minijinja
//! template (HTML auto-escaped: a connector name or trace can never be markup), with the
//! stylesheet and script embedded in the binary. Times are rendered relative to `now`.

use std::{
    sync::LazyLock,
    time::{Duration, SystemTime},
};

use minijinja::{
    Environment,
    value::{Serde, Value},
};
use serde::Serialize;

use super::{
    declared::Section,
    model::{Page, Query, Row, Triage},
};

const TEMPLATE: &str = include_str!("assets/page.html");
const STYLE: &str = include_str!("assets/page.css");
const SCRIPT: &str = include_str!("assets/page.js");

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_template("page.html", TEMPLATE)
        .expect("the embedded page template parses");
    env
});

/// What the header says of the data and the worker.
pub struct Freshness {
    /// When the data was read, if a poll ever succeeded.
    pub read_at: Option<SystemTime>,
    /// Older than this is stale.
    pub max_age: Duration,
    /// Why there is no table (no poll yet, the last poll failed).
    pub problem: Option<String>,
    /// The worker's health, as a sentence.
    pub worker: (WorkerClass, String),
    /// The reconciler's last pass, as a sentence (reconcile's page).
    pub pass: Option<String>,
}

/// The worker line's colour.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerClass {
    Healthy,
    Unhealthy,
    Unknown,
}

/// Everything one page shows.
pub struct View<'a> {
    pub page: Page<Row>,
    pub query: &'a Query,
    pub freshness: Freshness,
    pub connect_url: &'a str,
    /// How the commands name this binary.
    pub program: &'a str,
    pub now: SystemTime,
    /// Reconcile's declared connectors, desired against live.
    pub declared: Option<Section>,
}

#[derive(Serialize)]
struct Chip {
    key: &'static str,
    label: &'static str,
    count: usize,
    active: bool,
    href: String,
}

#[derive(Serialize)]
struct RowView<'a> {
    #[serde(flatten)]
    row: &'a Row,
    class_short: &'a str,
    since_text: String,
    since_ms: u128,
    search: String,
    command: Option<String>,
    next_in: Option<String>,
}

/// The template's context.
#[derive(Serialize)]
struct PageContext<'a> {
    style: &'static str,
    script: &'static str,
    problem: &'a Option<String>,
    pass: &'a Option<String>,
    worker_class: WorkerClass,
    worker_text: &'a str,
    age_s: Option<u64>,
    stale: bool,
    read_at_ms: Option<u128>,
    max_age_s: u64,
    chips: Vec<Chip>,
    all_href: String,
    all_active: bool,
    total: usize,
    broken: usize,
    search: &'a str,
    triage: Option<&'static str>,
    rows: Vec<RowView<'a>>,
    matching: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
    declared: &'a Option<Section>,
}

/// The page's HTML.
pub fn page(view: &View<'_>) -> Result<String, minijinja::Error> {
    let Freshness {
        read_at,
        max_age,
        problem,
        worker,
        pass,
    } = &view.freshness;
    let age = read_at.map(|at| view.now.duration_since(at).unwrap_or_default());
    let total: usize = view.page.counts.iter().map(|(_, n)| n).sum();
    let (query, page) = (view.query, &view.page);
    let link = |page: usize| href(query.triage, &query.search, page);
    let context = PageContext {
        style: STYLE,
        script: SCRIPT,
        problem,
        pass,
        worker_class: worker.0,
        worker_text: &worker.1,
        age_s: age.map(|a| a.as_secs()),
        stale: age.is_some_and(|a| a > *max_age),
        read_at_ms: read_at.map(epoch_ms),
        max_age_s: max_age.as_secs(),
        chips: chips(view),
        all_href: href(None, &query.search, 1),
        all_active: query.triage.is_none(),
        total,
        broken: total - count(view, Triage::Healthy) - count(view, Triage::Paused)
            + view.declared.as_ref().map_or(0, |d| d.failing),
        search: &query.search,
        triage: query.triage.map(Triage::key),
        rows: page.rows.iter().map(|r| row_view(r, view)).collect(),
        matching: page.matching,
        page: page.page,
        pages: page.pages,
        prev: (page.page > 1).then(|| link(page.page - 1)),
        next: (page.page < page.pages).then(|| link(page.page + 1)),
        declared: &view.declared,
    };
    let template = TEMPLATES.get_template("page.html")?;
    template.render(Value::from(Serde(&context)))
}

fn count(view: &View<'_>, triage: Triage) -> usize {
    view.page
        .counts
        .iter()
        .find(|(t, _)| *t == triage)
        .map_or(0, |(_, n)| *n)
}

fn chips(view: &View<'_>) -> Vec<Chip> {
    let chip = |(triage, count): &(Triage, usize)| Chip {
        key: triage.key(),
        label: triage.label(),
        count: *count,
        active: view.query.triage == Some(*triage),
        href: href(Some(*triage), &view.query.search, 1),
    };
    view.page.counts.iter().map(chip).collect()
}

/// `?state=…&q=…&page=…` with only what is set.
fn href(triage: Option<Triage>, search: &str, page: usize) -> String {
    let mut query = form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
    if let Some(t) = triage {
        query.append_pair("state", t.key());
    }
    if !search.is_empty() {
        query.append_pair("q", search);
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    query.finish()
}

fn row_view<'a>(row: &'a Row, view: &View<'_>) -> RowView<'a> {
    let held = row
        .since
        .map(|at| view.now.duration_since(at).unwrap_or_default());
    let next_in = row
        .remediation
        .as_ref()
        .and_then(|e| e.next_attempt_in_seconds);
    RowView {
        row,
        class_short: row.class.rsplit('.').next().unwrap_or(&row.class),
        since_text: held
            .map(|d| format!("for {}", approximately(d)))
            .unwrap_or_default(),
        since_ms: row.since.map(epoch_ms).unwrap_or_default(),
        search: format!("{} {} {}", row.name, row.class, row.topics).to_lowercase(),
        command: restart_command(row, view),
        next_in: next_in.map(|s| approximately(Duration::from_secs_f64(s.max(0.0)))),
    }
}

/// The command that restarts what failed, for a row that has failed instances.
fn restart_command(row: &Row, view: &View<'_>) -> Option<String> {
    let broken = matches!(
        row.triage,
        Triage::Failed | Triage::Persistent | Triage::Degraded
    );
    let words = [
        view.program,
        "restart",
        "--connect-url",
        view.connect_url,
        "--failed",
        &row.name,
    ];
    broken.then(|| shlex::try_join(words).unwrap_or_else(|_| words.join(" ")))
}

fn epoch_ms(at: SystemTime) -> u128 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// `41 min`, `12 s`, `3 h 5 min`, `2 d 4 h`: two units at most.
pub fn approximately(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        let cases = [
            (0, "0 s"),
            (59, "59 s"),
            (2460, "41 min"),
            (11100, "3 h 5 min"),
            (187200, "2 d 4 h"),
        ];
        for (secs, text) in cases {
            assert_eq!(approximately(Duration::from_secs(secs)), text);
        }
    }

    #[test]
    fn links_carry_only_what_is_set() {
        assert_eq!(href(None, "", 1), "?");
        assert_eq!(href(Some(Triage::Failed), "", 1), "?state=failed");
        assert_eq!(href(None, "a b&c", 2), "?q=a+b%26c&page=2");
    }
}
