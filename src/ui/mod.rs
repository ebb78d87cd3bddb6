//! The status page (`GET /ui` on `serve`, and on `reconcile` for the declared
//! connectors it restarts): what is broken, since when, why, and what remediation did
//! about it, at a glance. [`model`] turns the latest observation into
//! rows in triage order (pure); [`render`] writes them as HTML. The page works without
//! JavaScript (chips and search are links and a form, pages are links); its small
//! embedded script refreshes it every 2 s and ticks the data's age. Read-only: it
//! shows the command to run instead of a button.

pub mod declared;
pub mod model;
pub mod render;

use std::time::SystemTime;

use axum::{
    extract::{RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use tokio::time::Instant;

use crate::{
    connect::WorkerHealth,
    health::{HealthState, Observed},
    snapshot::Snapshot,
};
use model::{Query, Triage};
use render::{Freshness, View, WorkerClass};

/// Rows per page: a 10,000-connector cluster is 50 pages, each a light page.
pub const PER_PAGE: usize = 200;

/// The longest search kept (a longer one is cut).
const SEARCH_LIMIT: usize = 200;

/// `?state=…&q=…&page=…`, each optional: the first of a repeated one counts, and
/// anything unreadable (an unknown state, a page that is no number) is ignored.
pub fn query(raw: Option<&str>) -> Query {
    let (mut state, mut search, mut page) = (None, None, None);
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "state" => state = state.or(Some(value)),
            "q" => search = search.or(Some(value)),
            "page" => page = page.or(Some(value)),
            _ => {}
        }
    }
    Query {
        triage: state.as_deref().and_then(Triage::parse),
        search: search
            .unwrap_or_default()
            .trim()
            .chars()
            .take(SEARCH_LIMIT)
            .collect(),
        page: page.and_then(|p| p.parse().ok()).unwrap_or(1),
    }
}

/// What one page is drawn from: a poll loop's state and its latest observation.
pub struct Source<'a> {
    pub health: &'a HealthState,
    pub observed: &'a Observed,
    /// What the page says before the loop's first poll (`None`: nothing, it never
    /// polls).
    pub no_poll: Option<&'a str>,
    /// A line about the reconciler's last pass (reconcile's page only).
    pub pass: Option<String>,
    /// The connectors shown (reconcile's: those it restarts); `None`: all in scope.
    pub only: Option<&'a dyn Fn(&str) -> bool>,
    /// The declared connectors, desired against live (reconcile's page only).
    pub declared: Option<declared::Declared<'a>>,
}

impl<'a> Source<'a> {
    /// `serve`'s page of `health`, as of `observed`: every connector in scope.
    pub fn of(health: &'a HealthState, observed: &'a Observed) -> Self {
        Self {
            health,
            observed,
            no_poll: Some("No poll of Kafka Connect has completed yet."),
            pass: None,
            only: None,
            declared: None,
        }
    }
}

/// `GET /ui` on `serve`.
pub async fn page(State(state): State<HealthState>, RawQuery(raw): RawQuery) -> Response {
    let observed = state.latest();
    respond(&Source::of(&state, &observed), raw.as_deref())
}

/// The page of `source` for the query string `raw`, as an HTTP answer.
pub fn respond(source: &Source<'_>, raw: Option<&str>) -> Response {
    let query = query(raw);
    let snapshot = source.observed.latest_snapshot();
    let keep = source.only.unwrap_or(&|_| true);
    let summaries = snapshot
        .map(|s| model::summaries(source.observed, s, &source.health.policy, keep))
        .unwrap_or_default();
    let chosen = model::select(&summaries, &query, PER_PAGE);
    let page = chosen.map(|rows| match snapshot {
        Some(s) => model::rows(source.observed, s, &rows),
        None => Vec::new(),
    });
    let now = SystemTime::now();
    let needle = query.search.trim().to_lowercase();
    let view = View {
        page,
        query: &query,
        freshness: freshness(source, snapshot),
        connect_url: &source.health.connect_url,
        program: &source.health.program,
        now,
        declared: (source.declared.as_ref()).map(|d| declared::section(d, &needle, PER_PAGE, now)),
    };
    match render::page(&view) {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the status page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot render the status page",
            )
                .into_response()
        }
    }
}

/// How old the data is, why there may be none, and the worker's health.
fn freshness(source: &Source<'_>, snapshot: Option<&Snapshot>) -> Freshness {
    let observed = source.observed;
    let read_at = observed
        .ok_at
        .map(|at| SystemTime::now() - Instant::now().saturating_duration_since(at));
    let problem = match &observed.poll {
        None => source.no_poll.map(str::to_string),
        Some(Err(failure)) => Some(format!(
            "The last poll of Kafka Connect failed: {}",
            failure.error
        )),
        Some(Ok(_)) => None,
    };
    let worker = match snapshot.map(|s| &s.worker) {
        Some(Ok(WorkerHealth::Healthy)) => (WorkerClass::Healthy, "Worker healthy".to_string()),
        Some(Ok(WorkerHealth::Starting(m))) => {
            (WorkerClass::Unhealthy, format!("Worker starting: {m}"))
        }
        Some(Ok(WorkerHealth::Unhealthy(m))) => {
            (WorkerClass::Unhealthy, format!("Worker unhealthy: {m}"))
        }
        Some(Err(e)) => (WorkerClass::Unknown, format!("Worker health unknown: {e}")),
        None => (WorkerClass::Unknown, "Worker health unknown".to_string()),
    };
    Freshness {
        read_at,
        max_age: source.health.max_age,
        problem,
        worker,
        pass: source.pass.clone(),
    }
}
