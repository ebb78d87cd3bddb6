//! A plan as text (a key-level diff, optionally coloured) or as JSON, with secrets
//! redacted through a [`Redactor`]. Pure: the caller decides on colour.

use std::{borrow::Cow, fmt::Write};

use serde::Serialize;

use super::{
    Config, KeyChange, Op, Plan, Step, TargetState, Transition,
    masked::{self, FINGERPRINT_KEY},
    redact::{REDACTED, Redactor},
};

/// ANSI colours, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    Never,
    Always,
}

impl Colour {
    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Self::Never => text.to_string(),
            Self::Always => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
}

const GREEN: &str = "32";
const RED: &str = "31";
const YELLOW: &str = "33";
const CYAN: &str = "36";

/// Counts of what a plan does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub state: usize,
    pub delete: usize,
    pub unchanged: usize,
}

impl Summary {
    pub fn of(plan: &Plan) -> Self {
        let mut s = Self::default();
        for step in &plan.steps {
            match step.op {
                Op::Create { .. } => s.create += 1,
                Op::Update { .. } => s.update += 1,
                Op::Transition(_) => s.state += 1,
                Op::Delete => s.delete += 1,
                Op::Unchanged => s.unchanged += 1,
            }
        }
        s
    }

    /// `Plan: 1 to create, …` or `No changes: …`.
    pub fn line(&self) -> String {
        if self.create + self.update + self.state + self.delete == 0 {
            return format!("No changes: {} connector(s) up to date.", self.unchanged);
        }
        format!(
            "Plan: {} to create, {} to update, {} to change state, {} to delete, {} unchanged.",
            self.create, self.update, self.state, self.delete, self.unchanged
        )
    }
}

/// The plan as a readable diff, one block per changed connector, then a summary.
pub fn text(plan: &Plan, redactor: &Redactor, colour: Colour) -> String {
    let mut out = String::new();
    for step in plan.changes() {
        step_text(&mut out, step, redactor, colour);
    }
    out.push_str(&Summary::of(plan).line());
    out.push('\n');
    out
}

fn step_text(out: &mut String, step: &Step, redactor: &Redactor, colour: Colour) {
    let name = &step.name;
    match &step.op {
        Op::Create { config, state } => {
            let head = format!("+ create {name} ({})", state.as_str());
            let _ = writeln!(out, "{}", colour.paint(GREEN, &head));
            for (key, value) in shown_keys(config) {
                let line = format!("    + {key} = {}", shown(redactor, name, key, value));
                let _ = writeln!(out, "{}", colour.paint(GREEN, &line));
            }
        }
        Op::Update {
            changes,
            then,
            adopt,
            ..
        } => {
            let adopt = if *adopt { " (adopt)" } else { "" };
            let head = format!("~ update {name}{adopt}");
            let _ = writeln!(out, "{}", colour.paint(YELLOW, &head));
            for change in changes {
                let _ = writeln!(out, "{}", change_line(change, name, redactor, colour));
            }
            if let Some(t) = then {
                let line = format!("    then {}", t.as_str());
                let _ = writeln!(out, "{}", colour.paint(CYAN, &line));
            }
        }
        Op::Transition(t) => {
            let head = format!("> {} {name}", t.as_str());
            let _ = writeln!(out, "{}", colour.paint(CYAN, &head));
        }
        Op::Delete => {
            let _ = writeln!(out, "{}", colour.paint(RED, &format!("- delete {name}")));
        }
        Op::Unchanged => {}
    }
}

fn change_line(change: &KeyChange, name: &str, redactor: &Redactor, colour: Colour) -> String {
    let v = |key: &str, value: &str| shown(redactor, name, key, value);
    match change {
        KeyChange::Added { key, new } => {
            colour.paint(GREEN, &format!("    + {key} = {}", v(key, new)))
        }
        KeyChange::Removed { key, old } => {
            colour.paint(RED, &format!("    - {key} = {}", v(key, old)))
        }
        KeyChange::Changed { key, old, new } => {
            let new = match masked::unknown(change) {
                true => REDACTED.to_string(),
                false => v(key, new),
            };
            colour.paint(YELLOW, &format!("    ~ {key}: {} → {new}", v(key, old)))
        }
    }
}

/// A created config's keys as shown: the fingerprint is bookkeeping, not config.
fn shown_keys(config: &Config) -> impl Iterator<Item = (&String, &String)> {
    config.iter().filter(|(key, _)| *key != FINGERPRINT_KEY)
}

/// A value JSON-quoted (with any password or token in it masked), or the redaction
/// marker for a secret value.
fn shown(redactor: &Redactor, connector: &str, key: &str, value: &str) -> String {
    let printable = redactor.value(connector, key, value);
    match matches!(printable, Cow::Borrowed(REDACTED)) {
        true => REDACTED.to_string(),
        false => serde_json::Value::from(printable.as_ref()).to_string(),
    }
}

/// One connector in `-o json`.
#[derive(Debug, Serialize)]
pub struct JsonStep {
    pub name: String,
    /// `create`, `update`, `pause`, `resume`, `stop`, `delete` or `unchanged`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<TargetState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub then: Option<Transition>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<KeyChange>,
}

/// The plan as JSON data: every step (unchanged ones too) and the summary.
pub fn json(plan: &Plan, redactor: &Redactor) -> serde_json::Value {
    let steps: Vec<JsonStep> = plan.steps.iter().map(|s| json_step(s, redactor)).collect();
    serde_json::json!({"changed": !plan.is_empty(), "summary": Summary::of(plan), "connectors": steps})
}

fn json_step(step: &Step, redactor: &Redactor) -> JsonStep {
    let mut out = JsonStep {
        name: step.name.clone(),
        action: "unchanged",
        state: None,
        then: None,
        adopt: false,
        changes: vec![],
    };
    match &step.op {
        Op::Create { config, state } => {
            out.action = "create";
            out.state = Some(*state);
            out.changes = shown_keys(config)
                .map(|(key, new)| {
                    let added = KeyChange::Added {
                        key: key.clone(),
                        new: new.clone(),
                    };
                    redact_change(&step.name, &added, redactor)
                })
                .collect();
        }
        Op::Update {
            changes,
            then,
            adopt,
            ..
        } => {
            out.action = "update";
            (out.then, out.adopt) = (*then, *adopt);
            out.changes = changes
                .iter()
                .map(|c| redact_change(&step.name, c, redactor))
                .collect();
        }
        Op::Transition(t) => out.action = t.as_str(),
        Op::Delete => out.action = "delete",
        Op::Unchanged => {}
    }
    out
}

fn redact_change(connector: &str, change: &KeyChange, redactor: &Redactor) -> KeyChange {
    let r = |v: &String| redactor.value(connector, change.key(), v).into_owned();
    let key = change.key().to_string();
    match change {
        KeyChange::Added { new, .. } => KeyChange::Added { key, new: r(new) },
        KeyChange::Removed { old, .. } => KeyChange::Removed { key, old: r(old) },
        KeyChange::Changed { old, new, .. } => KeyChange::Changed {
            key,
            old: r(old),
            // A value the server masks is a secret, whatever its key.
            new: match masked::unknown(change) {
                true => REDACTED.to_string(),
                false => r(new),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Config;

    fn plan() -> Plan {
        let config = Config::from([("db.password".to_string(), "pw".to_string())]);
        let op = Op::Create {
            config,
            state: TargetState::Paused,
        };
        Plan {
            steps: vec![Step {
                name: "a".into(),
                op,
            }],
        }
    }

    #[test]
    fn colour_only_when_asked_and_secrets_redacted() {
        let r = Redactor::default();
        let plain = text(&plan(), &r, Colour::Never);
        assert_eq!(
            plain,
            "+ create a (paused)\n    + db.password = (redacted)\nPlan: 1 to create, 0 to update, 0 to change state, 0 to delete, 0 unchanged.\n"
        );
        assert!(text(&plan(), &r, Colour::Always).contains("\x1b[32m+ create a (paused)\x1b[0m"));
        let data = json(&plan(), &r);
        assert_eq!(data["connectors"][0]["changes"][0]["new"], "(redacted)");
    }

    /// A value the server masks is a secret whatever its key: the new one is never
    /// shown; a create never lists the fingerprint.
    #[test]
    fn masked_values_hide_the_new_value_and_the_fingerprint_is_not_listed() {
        let update = Op::Update {
            config: Config::new(),
            changes: vec![KeyChange::Changed {
                key: "vendor.opaque".into(),
                old: "****".into(),
                new: "CANARY-new".into(),
            }],
            then: None,
            adopt: false,
        };
        let config = Config::from([
            (FINGERPRINT_KEY.to_string(), "v1:00".to_string()),
            ("topics".to_string(), "t".to_string()),
        ]);
        let create = Op::Create {
            config,
            state: TargetState::Running,
        };
        let steps = [("u", update), ("c", create)].map(|(name, op)| Step {
            name: name.into(),
            op,
        });
        let plan = Plan {
            steps: steps.to_vec(),
        };
        let r = Redactor::default();
        let shown = format!("{}{}", text(&plan, &r, Colour::Never), json(&plan, &r));
        assert!(
            shown.contains("~ vendor.opaque: \"****\" → (redacted)"),
            "{shown}"
        );
        assert!(
            !shown.contains("CANARY") && !shown.contains(FINGERPRINT_KEY),
            "{shown}"
        );
    }
}
