//! Conformance of connect-sim with real Kafka Connect: ONE list of REST scenarios
//! (`scenarios.json`) and ONE runner, used by the fast tier against connect-sim
//! (`tests/sim_conformance.rs`) and by the real tier against a real cluster
//! (`tests/real/scenarios/conformance.rs`).
//!
//! A scenario is a list of steps: a request (`"req": "METHOD /path"`, optional `body`,
//! or `raw` text, optional `auth` `user:pass`), the expected `status` (a code or a list)
//! and body properties (`expect`, see [`expect`]). An `eventually` step repeats the
//! request until the expectation holds, for at most the target's limit. `since`/`until`
//! (until exclusive) gate scenarios and steps by version. `{scratch}`, `{bootstrap}` and
//! `{version}` are replaced in requests and expectations. Where connect-sim deliberately
//! differs, a step's `sim` object gives the sim's answer and the `reason`: it is what
//! the fast tier checks, and the README's table of known differences lists it.

#![allow(dead_code)]

pub mod expect;

use std::{collections::BTreeMap, time::Duration};

use serde::Deserialize;
use serde_json::Value;

use expect::{Props, Status};

/// The scenario areas: each is one real-tier scenario and one fast-tier test.
pub const AREAS: &[&str] = &[
    "errors",
    "create",
    "validate",
    "lifecycle",
    "restart",
    "offsets",
    "rebalance",
    "versions",
    "auth",
];

/// One scenario: its own connector names, a version range, steps.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub area: String,
    #[serde(default)]
    pub doc: String,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    /// `user:pass`: the scenario needs its own cluster with basic auth.
    #[serde(default)]
    pub basic_auth: Option<String>,
    pub steps: Vec<Step>,
}

/// One request and what its answer must be.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub req: String,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub raw: Option<String>,
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub expect: Props,
    #[serde(default)]
    pub eventually: bool,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub sim: Option<SimDifference>,
}

/// A known difference: what connect-sim answers instead, and why.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimDifference {
    pub reason: String,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub expect: Option<Props>,
    /// The step does not apply to the sim at all.
    #[serde(default)]
    pub skip: bool,
}

/// Where the scenarios run.
#[derive(Clone, Debug)]
pub struct Target {
    /// The Connect REST base URL.
    pub base: String,
    /// The worker version, `X.Y.Z`.
    pub version: String,
    /// True for connect-sim (its `sim` differences apply).
    pub is_sim: bool,
    /// Placeholder values (`scratch`, `bootstrap`, `version`).
    pub vars: BTreeMap<String, String>,
    /// How long an `eventually` step may take, and the pause between tries.
    pub limit: Duration,
    pub poll: Duration,
}

/// Every scenario in `scenarios.json`.
pub fn scenarios() -> Vec<Scenario> {
    let text = include_str!("scenarios.json");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("scenarios.json: {e}"))
}

/// The scenarios of `area` that apply to `version`.
pub fn of_area(area: &str, version: &str) -> Vec<Scenario> {
    scenarios()
        .into_iter()
        .filter(|s| s.area == area && applies(version, s.since.as_deref(), s.until.as_deref()))
        .collect()
}

/// `(major, minor, patch)` of `X.Y[.Z]`.
fn parse_version(v: &str) -> (u32, u32, u32) {
    let mut parts = v.split('.').map(|p| p.parse().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// True when `since <= version < until`.
pub fn applies(version: &str, since: Option<&str>, until: Option<&str>) -> bool {
    let v = parse_version(version);
    since.is_none_or(|s| v >= parse_version(s)) && until.is_none_or(|u| v < parse_version(u))
}

/// Replaces `{var}` placeholders in every string of `value`.
fn fill(value: &Value, vars: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(s) => Value::String(fill_str(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|v| fill(v, vars)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (fill_str(k, vars), fill(v, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn fill_str(s: &str, vars: &BTreeMap<String, String>) -> String {
    vars.iter()
        .fold(s.to_string(), |s, (k, v)| s.replace(&format!("{{{k}}}"), v))
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Sends one step's request: (status, JSON body or the text as a JSON string).
async fn send(http: &reqwest::Client, target: &Target, step: &Step) -> (u16, Value) {
    let (method, path) = step
        .req
        .split_once(' ')
        .unwrap_or_else(|| panic!("step {:?}: want \"METHOD /path\"", step.req));
    let url = format!("{}{}", target.base, fill_str(path, &target.vars));
    let mut request = http.request(method.parse().expect("an HTTP method"), url);
    if let Some(body) = &step.body {
        request = request.json(&fill(body, &target.vars));
    } else if let Some(raw) = &step.raw {
        request = request
            .header("content-type", "application/json")
            .body(raw.clone());
    }
    if let Some((user, pass)) = step.auth.as_deref().and_then(|a| a.split_once(':')) {
        request = request.basic_auth(user, Some(pass));
    }
    match request.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
            (status, body)
        }
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// Runs every step of `scenario` on `target`; `Err` names the step and what failed.
pub async fn run(scenario: &Scenario, target: &Target) -> Result<(), String> {
    let http = client();
    for (i, step) in scenario.steps.iter().enumerate() {
        if !applies(
            &target.version,
            step.since.as_deref(),
            step.until.as_deref(),
        ) {
            continue;
        }
        let (mut status, mut props) = (step.status.clone(), step.expect.clone());
        if target.is_sim
            && let Some(diff) = &step.sim
        {
            if diff.skip {
                continue;
            }
            status = diff.status.clone().or(status);
            props = diff.expect.clone().unwrap_or(props);
        }
        let props: Props = props
            .iter()
            .map(|(k, v)| (fill_str(k, &target.vars), fill(v, &target.vars)))
            .collect();
        let deadline = tokio::time::Instant::now() + target.limit;
        loop {
            let (got, body) = send(&http, target, step).await;
            let outcome = expect::check(got, &body, status.as_ref(), &props);
            match outcome {
                Ok(()) => break,
                Err(_) if step.eventually && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(target.poll).await;
                }
                Err(e) => {
                    let waited = if step.eventually {
                        format!(" (waited {:?})", target.limit)
                    } else {
                        String::new()
                    };
                    return Err(format!(
                        "{} step {i} `{}`{waited}: {e}; answer {got} {}",
                        scenario.name,
                        step.req,
                        expect::short(&body)
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The known differences (`sim` objects) as `(scenario, request, reason)`.
pub fn known_differences() -> Vec<(String, String, String)> {
    scenarios()
        .iter()
        .flat_map(|s| {
            s.steps.iter().filter_map(|step| {
                let diff = step.sim.as_ref()?;
                Some((s.name.clone(), step.req.clone(), diff.reason.clone()))
            })
        })
        .collect()
}
