//! What evaluating one jq program takes and gives: its [`Bindings`], its output values
//! or a typed [`Failure`]. The evaluation itself is jaq's ([`super::jaq`], the `jq`
//! cargo feature); a binary built without it refuses jq programs with a clear error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a program is evaluated with: `$NAME` values (jq names) and the environment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Bindings {
    pub vars: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
}

/// Why a program produced no connectors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// 1-based line and column in the program, for syntax and compile errors.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    /// The program does not parse.
    Syntax,
    /// It parses, but names something undefined (a variable, a filter).
    Undefined,
    /// It raised an error while running.
    Runtime,
    /// What it produced is not connector JSON or is too much.
    Output,
    /// The worker stopped it (deadline, memory) or could not run it.
    Stopped,
    /// No worker to run it with (a library caller that gave none).
    NoWorker,
}

impl Failure {
    pub fn new(kind: FailureKind, at: Option<(usize, usize)>, message: impl Into<String>) -> Self {
        let mut message: String = message.into();
        if message.len() > MESSAGE_BYTES {
            let cut = (0..=MESSAGE_BYTES)
                .rev()
                .find(|&i| message.is_char_boundary(i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        Self { kind, at, message }
    }

    pub fn stopped(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Stopped, None, message)
    }
}

/// Longest error message kept (an `error(.)` may carry a whole object).
pub const MESSAGE_BYTES: usize = 1000;

/// Runs `code` with null input; every output value, as JSON.
#[cfg(feature = "jq")]
pub fn evaluate(code: &str, bindings: &Bindings) -> Result<Vec<serde_json::Value>, Failure> {
    super::jaq::evaluate(code, bindings)
}

/// Built without the `jq` feature: every program is refused.
#[cfg(not(feature = "jq"))]
pub fn evaluate(_: &str, _: &Bindings) -> Result<Vec<serde_json::Value>, Failure> {
    Err(Failure::stopped(
        "this binary was built without the jq feature (the sidecar image's is): use the full image",
    ))
}
