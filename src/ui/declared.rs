//! Reconcile's page section "Declared connectors": desired against live for every
//! connector the manifests declare, as the last pass left it ([`view`]), the ones that
//! need attention first. Each row says where the connector is declared, who owns it in
//! Connect, what the plan wanted and what became of it, and the command that shows
//! more (`kubectl describe configmap` for a ConfigMap, `connect-sentinel diff` for a
//! file). The page's search narrows it too; it shows at most a page of rows.

use std::time::SystemTime;

use serde::Serialize;

use super::render::approximately;
use crate::{
    declare::Declare,
    manifest::{Selector, Template},
    plan::TargetState,
    reconciler::view::{DeclaredRow, Drift, Fate, Origin, Ownership, Pass},
};

/// What the section is drawn from.
pub struct Declared<'a> {
    pub pass: &'a Pass,
    /// The words of `connect-sentinel diff` with the reconciler's flags; a file's row
    /// appends `-f FILE`.
    pub diff: &'a [String],
    /// This replica does not lead: it plans nothing.
    pub standby: bool,
}

/// The section, ready for the template.
#[derive(Debug, Serialize)]
pub struct Section {
    pub rows: Vec<RowView>,
    /// Declared connectors (and owned ones the plan deletes).
    pub total: usize,
    /// How many match the search.
    pub matching: usize,
    /// Failed or refused in the last pass.
    pub failing: usize,
    /// Pending: not written, or not planned.
    pub pending: usize,
    /// Drift found (in this pass or one before).
    pub drifted: usize,
    /// When the last pass finished, e.g. `4 s ago`.
    pub pass_age: Option<String>,
    pub standby: bool,
    /// Why the last pass has no rows (the manifests could not be read).
    pub problem: Option<String>,
}

/// One row, ready for the template.
#[derive(Debug, Serialize)]
pub struct RowView {
    pub name: String,
    /// `failed`, `refused`, `pending`, `applied`, `in-sync`.
    pub fate: &'static str,
    /// The fate in words, e.g. `applied`, `failed: Connect answered …`.
    pub fate_text: String,
    pub origin: String,
    pub desired: Option<&'static str>,
    pub live: Option<&'static str>,
    /// The declared state differs from the live one.
    pub differs: bool,
    pub owner: String,
    pub plan: String,
    pub drift: Option<String>,
    pub auto_restart: bool,
    pub command: Option<String>,
    pub search: String,
}

/// `PROGRAM diff` with the flags that make it plan as `declare` does (a
/// `--fingerprint-key` is a secret: it is never shown, so a masked live value may
/// show as a change).
pub fn diff_command(program: &str, declare: &Declare) -> Vec<String> {
    let mut words: Vec<String> = [program, "diff", "--connect-url", declare.client.base_url()]
        .map(String::from)
        .into();
    let mut flag = |name: &str, value: String| words.extend([name.to_string(), value]);
    if declare.options.owner != crate::settings::DEFAULT_OWNER {
        flag("--owner", declare.options.owner.clone());
    }
    if let Some(vars) = &declare.vars {
        flag("--vars", vars.display().to_string());
    }
    match declare.manifests.template {
        Template::Auto => {}
        Template::Jq => flag("--template", "jq".into()),
        Template::Jinja => flag("--template", "jinja".into()),
    }
    if declare.manifests.selector != Selector::default() {
        flag("--selector", declare.manifests.selector.to_string());
    }
    for key in &declare.options.ignore {
        flag("--ignore-key", key.clone());
    }
    words
}

/// The section for `needle` (already lower-case), at most `limit` rows.
pub fn section(declared: &Declared<'_>, needle: &str, limit: usize, now: SystemTime) -> Section {
    let rows = &declared.pass.rows;
    let count = |keep: fn(&DeclaredRow) -> bool| rows.iter().filter(|r| keep(r)).count();
    let views: Vec<RowView> = rows
        .iter()
        .map(|r| row_view(r, declared.diff, now))
        .filter(|v| needle.is_empty() || v.search.contains(needle))
        .collect();
    Section {
        total: rows.len(),
        matching: views.len(),
        failing: count(|r| r.attention() == 0),
        pending: count(|r| r.attention() == 1),
        drifted: count(|r| r.last_drift.is_some()),
        pass_age: declared.pass.at.map(|at| ago(at, now)),
        standby: declared.standby,
        problem: declared.pass.problem.clone(),
        rows: views.into_iter().take(limit).collect(),
    }
}

fn ago(at: SystemTime, now: SystemTime) -> String {
    format!(
        "{} ago",
        approximately(now.duration_since(at).unwrap_or_default())
    )
}

fn row_view(row: &DeclaredRow, diff: &[String], now: SystemTime) -> RowView {
    let origin = origin_text(&row.origin);
    let (fate, fate_text) = fate(&row.fate);
    let desired = row.desired.map(TargetState::as_str);
    RowView {
        name: row.name.clone(),
        fate,
        fate_text,
        search: format!("{} {origin}", row.name).to_lowercase(),
        origin,
        desired,
        live: row.live,
        differs: desired.is_some() && desired != row.live,
        owner: owner_text(&row.ownership),
        plan: row.plan.clone(),
        drift: row.last_drift.as_ref().map(|d| drift_text(d, now)),
        auto_restart: row.auto_restart,
        command: command(row, diff),
    }
}

fn drift_text(drift: &Drift, now: SystemTime) -> String {
    let what = match drift.corrected {
        true => "drift corrected",
        false => "drift found, not corrected",
    };
    format!("{what} {}: {}", ago(drift.at, now), drift.plan)
}

fn fate(fate: &Fate) -> (&'static str, String) {
    let class = match fate {
        Fate::InSync => "in-sync",
        Fate::Applied => "applied",
        Fate::Failed { .. } => "failed",
        Fate::Refused { .. } => "refused",
        Fate::Held | Fate::Unplanned { .. } => "pending",
    };
    (class, fate.text())
}

fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::File {
            path,
            document,
            line,
        } => match line {
            Some(line) => format!("{path} (document {document}, line {line})"),
            None => format!("{path} (document {document})"),
        },
        Origin::ConfigMap {
            namespace: Some(ns),
            name,
            key,
        } => format!("ConfigMap {ns}/{name}, key {key}"),
        Origin::ConfigMap {
            namespace: None,
            name,
            key,
        } => format!("ConfigMap {name}, key {key}"),
        Origin::Nowhere => "no longer declared".into(),
    }
}

fn owner_text(ownership: &Ownership) -> String {
    match ownership {
        Ownership::Ours => "ours".into(),
        Ownership::Unowned => "none (adopted when written)".into(),
        Ownership::Other { owner } => format!("{owner} (adopted when written)"),
        Ownership::Absent => "not in Connect".into(),
        Ownership::Unknown => "unknown".into(),
    }
}

/// What shows more about a row: its ConfigMap's Events, or the diff of its file (only
/// for a row that is not in sync).
fn command(row: &DeclaredRow, diff: &[String]) -> Option<String> {
    let words: Vec<&str> = match &row.origin {
        Origin::ConfigMap {
            namespace, name, ..
        } => {
            let mut words = vec!["kubectl"];
            if let Some(ns) = namespace {
                words.extend(["-n", ns]);
            }
            words.extend(["describe", "configmap", name]);
            words
        }
        Origin::File { path, .. } if row.attention() < 3 => {
            let mut words: Vec<&str> = diff.iter().map(String::as_str).collect();
            words.extend(["-f", path]);
            words
        }
        _ => return None,
    };
    Some(shlex::try_join(words.iter().copied()).unwrap_or_else(|_| words.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, origin: Origin, fate: Fate) -> DeclaredRow {
        DeclaredRow {
            name: name.into(),
            origin,
            desired: Some(TargetState::Running),
            live: Some("paused"),
            ownership: Ownership::Ours,
            plan: "resume".into(),
            drift: true,
            last_drift: None,
            fate,
            auto_restart: false,
        }
    }

    #[test]
    fn rows_carry_their_command_counts_and_search() {
        let file = Origin::File {
            path: "connectors/a b.yaml".into(),
            document: 1,
            line: Some(3),
        };
        let map = Origin::ConfigMap {
            namespace: Some("kafka".into()),
            name: "orders".into(),
            key: "c.yaml".into(),
        };
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(100);
        let mut drifted = row("b", file.clone(), Fate::InSync);
        drifted.last_drift = Some(Drift {
            at: now - std::time::Duration::from_secs(61),
            plan: "update tasks.max".into(),
            corrected: true,
        });
        let pass = Pass {
            problem: None,
            at: Some(now),
            rows: vec![
                row("a", file.clone(), Fate::Failed { error: "no".into() }),
                drifted,
                row("c", map, Fate::InSync),
                row("d", file, Fate::InSync),
            ],
        };
        let diff = ["connect-sentinel".to_string(), "diff".to_string()];
        let declared = Declared {
            pass: &pass,
            diff: &diff,
            standby: false,
        };
        let section = section(&declared, "", 10, now);
        assert_eq!((section.total, section.failing, section.drifted), (4, 1, 1));
        let commands: Vec<Option<&str>> =
            section.rows.iter().map(|r| r.command.as_deref()).collect();
        assert_eq!(
            commands,
            [
                Some("connect-sentinel diff -f 'connectors/a b.yaml'"),
                Some("connect-sentinel diff -f 'connectors/a b.yaml'"),
                Some("kubectl -n kafka describe configmap orders"),
                None,
            ]
        );
        assert_eq!(
            section.rows[1].drift.as_deref(),
            Some("drift corrected 1 min ago: update tasks.max")
        );
        assert!(section.rows[0].differs);
        let found = super::section(&declared, "kafka/orders", 10, now);
        assert_eq!((found.matching, found.rows[0].name.as_str()), (1, "c"));
        assert_eq!(super::section(&declared, "", 1, now).rows.len(), 1);
    }
}
