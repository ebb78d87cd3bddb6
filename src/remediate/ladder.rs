//! The remediation ladder: the steps tried, in order, for a failure a restart may fix:
//! restart the failed tasks, then the connector and all its tasks, then (declared
//! connectors only) delete and recreate it from its declared config. Each step has a
//! number of attempts and, optionally, its own wait; once every attempt has been made
//! (or `--max-restarts` reached) the ladder is exhausted and the failure escalates.

use std::{fmt, str::FromStr, time::Duration};

use serde::Serialize;

/// What one rung does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Restart the failed instances (KIP-745 `includeTasks&onlyFailed`, or one by one).
    RestartTasks,
    /// Restart the connector and every task (`includeTasks=true&onlyFailed=false`).
    RestartConnector,
    /// DELETE the connector, then PUT its declared config (offsets are kept).
    Recreate,
}

impl StepKind {
    /// The name in `--restart-ladder`, logs, metrics and `/remediation`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::RestartTasks => "restart-tasks",
            StepKind::RestartConnector => "restart-connector",
            StepKind::Recreate => "recreate",
        }
    }

    /// The short name `--restart-ladder` takes (`tasks`, `connector`, `recreate`).
    fn flag_name(self) -> &'static str {
        match self {
            StepKind::RestartTasks => "tasks",
            StepKind::RestartConnector => "connector",
            StepKind::Recreate => "recreate",
        }
    }
}

/// One rung: what, how many times, and its own wait before each attempt (`None`: the
/// backoff schedule's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    pub attempts: u32,
    pub wait: Option<Duration>,
}

/// The rungs in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ladder(Vec<Step>);

/// The next action of a ladder: which step and which attempt of it (from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rung {
    pub step: Step,
    pub attempt_of_step: u32,
}

impl Ladder {
    pub fn new(steps: Vec<Step>) -> Self {
        Self(steps)
    }

    pub fn steps(&self) -> &[Step] {
        &self.0
    }

    /// The same ladder without its recreate step (for connectors with no declared
    /// config, e.g. every connector the sidecar sees).
    pub fn without_recreate(&self) -> Self {
        Self(
            self.0
                .iter()
                .filter(|s| s.kind != StepKind::Recreate)
                .copied()
                .collect(),
        )
    }

    /// True when some step recreates.
    pub fn recreates(&self) -> bool {
        self.0.iter().any(|s| s.kind == StepKind::Recreate)
    }

    /// How many actions the whole ladder makes (saturating).
    pub fn len(&self) -> u32 {
        self.0
            .iter()
            .fold(0u32, |n, s| n.saturating_add(s.attempts))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rung of action `made + 1`, when `made` actions have been made; `None` once
    /// the ladder is exhausted.
    pub fn next(&self, made: u32) -> Option<Rung> {
        let mut before = 0u32;
        for step in &self.0 {
            let after = before.saturating_add(step.attempts);
            if made < after {
                let attempt_of_step = made - before + 1;
                return Some(Rung {
                    step: *step,
                    attempt_of_step,
                });
            }
            before = after;
        }
        None
    }
}

/// tasks ×3, connector ×2: three cheap restarts of only what failed catch most
/// transient failures; two of the whole connector catch a task stuck on state its
/// connector handed out; no recreate outside declared connectors.
impl Default for Ladder {
    fn default() -> Self {
        "tasks=3,connector=2".parse().expect("valid default ladder")
    }
}

/// The attempts of a step with no limit but `--max-restarts` or `maxRestarts`
/// (`connector=unlimited`, Strimzi's operator's second step).
const UNLIMITED: &str = "unlimited";

/// A ladder that cannot be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0} (expected e.g. tasks=3,connector=2,recreate=1, or connector=unlimited; a step may add its own wait: connector=2/5m)"
)]
pub struct LadderError(String);

impl FromStr for Ladder {
    type Err = LadderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let steps = s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(step)
            .collect::<Result<Vec<_>, _>>()?;
        let kinds: Vec<_> = steps.iter().map(|s| s.kind).collect();
        if kinds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(LadderError(format!(
                "{s:?}: each step at most once, in the order tasks, connector, recreate"
            )));
        }
        Ok(Self(steps))
    }
}

/// `NAME=ATTEMPTS` or `NAME=ATTEMPTS/WAIT`.
fn step(part: &str) -> Result<Step, LadderError> {
    let (name, rest) = part
        .split_once('=')
        .ok_or_else(|| LadderError(format!("{part:?} has no =")))?;
    let kind = match name.trim() {
        "tasks" => StepKind::RestartTasks,
        "connector" => StepKind::RestartConnector,
        "recreate" => StepKind::Recreate,
        other => return Err(LadderError(format!("unknown step {other:?}"))),
    };
    let (attempts, wait) = match rest.split_once('/') {
        Some((n, wait)) => (n, Some(wait)),
        None => (rest, None),
    };
    let attempts = match attempts.trim() {
        UNLIMITED => u32::MAX,
        count => count
            .parse()
            .map_err(|_| LadderError(format!("{part:?}: {attempts:?} is not a count")))?,
    };
    let wait = wait
        .map(|w| humantime::parse_duration(w.trim()))
        .transpose()
        .map_err(|e| LadderError(format!("{part:?}: {e}")))?;
    Ok(Step {
        kind,
        attempts,
        wait,
    })
}

impl fmt::Display for Ladder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|s| {
                let wait = s
                    .wait
                    .map(|w| format!("/{}", humantime::format_duration(w)))
                    .unwrap_or_default();
                let attempts = match s.attempts {
                    u32::MAX => UNLIMITED.to_string(),
                    n => n.to_string(),
                };
                format!("{}={attempts}{wait}", s.kind.flag_name())
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ladders_parse_print_and_say_why_not() {
        let l: Ladder = "tasks=3, connector=2/5m,recreate=1".parse().unwrap();
        assert_eq!(l.len(), 6);
        assert_eq!(l.steps()[1].wait, Some(Duration::from_secs(300)));
        assert_eq!(l.to_string().parse::<Ladder>().unwrap(), l);
        assert!(l.recreates() && !l.without_recreate().recreates());
        assert_eq!(Ladder::default().to_string(), "tasks=3,connector=2");
        for bad in [
            "tasks",
            "reboot=1",
            "tasks=x",
            "connector=1,tasks=1",
            "tasks=1,tasks=2",
            "tasks=1/soon",
        ] {
            let e = bad.parse::<Ladder>().unwrap_err().to_string();
            assert!(e.contains("expected e.g. tasks=3"), "{bad}: {e}");
        }
        assert!("".parse::<Ladder>().unwrap().is_empty());
        let strimzi: Ladder = "tasks=3,connector=unlimited".parse().unwrap();
        assert_eq!(strimzi.steps()[1].attempts, u32::MAX);
        assert_eq!(strimzi.to_string(), "tasks=3,connector=unlimited");
        assert_eq!(strimzi.len(), u32::MAX, "saturates");
    }

    #[test]
    fn next_walks_each_step_then_stops() {
        let l = Ladder::default();
        let walk: Vec<_> = (0..6)
            .map(|n| l.next(n).map(|r| (r.step.kind.as_str(), r.attempt_of_step)))
            .collect();
        assert_eq!(
            walk,
            [
                Some(("restart-tasks", 1)),
                Some(("restart-tasks", 2)),
                Some(("restart-tasks", 3)),
                Some(("restart-connector", 1)),
                Some(("restart-connector", 2)),
                None
            ]
        );
    }

    proptest! {
        /// Exactly `len()` actions, each step's attempts in a row, never past its count.
        #[test]
        fn the_ladder_makes_exactly_its_attempts(counts in prop::collection::vec(0u32..5, 3)) {
            let kinds = [StepKind::RestartTasks, StepKind::RestartConnector, StepKind::Recreate];
            let steps = kinds.iter().zip(&counts).map(|(&kind, &attempts)| Step { kind, attempts, wait: None });
            let l = Ladder::new(steps.collect());
            let made: Vec<Rung> = (0..).map_while(|n| l.next(n)).collect();
            prop_assert_eq!(made.len() as u32, counts.iter().sum::<u32>());
            for r in &made {
                prop_assert!(r.attempt_of_step >= 1 && r.attempt_of_step <= r.step.attempts);
            }
        }
    }
}
