//! Why a connector or task failed, read from its trace: does a restart help? Rules are
//! tried in order, the first match wins: the user's `--restart-rule`s (matched against
//! the whole trace), then the built-in ones (matched against the trace's message lines,
//! the first line and its `Caused by:` lines, never the `at …` stack frames, where class
//! and method names such as `…rebalance(…)` would match by accident). Built-in rules
//! that say "a restart does not fix it" come before the transient ones, so a timeout
//! caused by an authentication failure is not restarted. No rule matching is `unknown`
//! and restartable, as every failure was before classification.

use std::{fmt, str::FromStr, sync::LazyLock};

use regex::Regex;
use serde::Serialize;

use crate::plan::redact::mask;

/// What a rule prescribes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Remedy {
    /// Never restarted, never escalated; still listed (the lowest precedence when a
    /// connector's instances disagree).
    Ignore,
    /// Climb the ladder.
    #[default]
    Restart,
    /// A restart does not fix it: straight to escalation.
    Escalate,
}

impl Remedy {
    pub fn as_str(self) -> &'static str {
        match self {
            Remedy::Ignore => "ignore",
            Remedy::Restart => "restart",
            Remedy::Escalate => "escalate",
        }
    }
}

/// One failure's classification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Classified {
    pub remedy: Remedy,
    /// The rule that matched: a built-in name (`authentication`, `timeout`, …),
    /// `rule N` (the Nth `--restart-rule`, from 1), or `unknown`.
    pub rule: String,
    /// The line that tells why, masked: the message line the built-in rule matched,
    /// else the deepest `Caused by:` line, else the trace's first line.
    pub cause: String,
}

impl Default for Classified {
    fn default() -> Self {
        Self {
            remedy: Remedy::Restart,
            rule: UNKNOWN.into(),
            cause: String::new(),
        }
    }
}

/// The rule name of a failure no rule matched.
pub const UNKNOWN: &str = "unknown";

/// A `--restart-rule`: `REGEX=restart|ignore|escalate`.
#[derive(Clone, Debug)]
pub struct UserRule {
    pub pattern: Regex,
    pub remedy: Remedy,
}

/// A `--restart-rule` that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} (expected REGEX=restart|ignore|escalate)")]
pub struct RuleError(String);

/// Split at the last `=`, so the regex may hold one.
impl FromStr for UserRule {
    type Err = RuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (pattern, remedy) = s
            .rsplit_once('=')
            .ok_or_else(|| RuleError(format!("{s:?} has no =")))?;
        let remedy = match remedy.trim().to_ascii_lowercase().as_str() {
            "restart" => Remedy::Restart,
            "ignore" => Remedy::Ignore,
            "escalate" => Remedy::Escalate,
            other => return Err(RuleError(format!("unknown remedy {other:?} in {s:?}"))),
        };
        if pattern.is_empty() {
            return Err(RuleError(format!("empty regex in {s:?}")));
        }
        let pattern = Regex::new(pattern).map_err(|e| RuleError(format!("{s:?}: {e}")))?;
        Ok(Self { pattern, remedy })
    }
}

impl fmt::Display for UserRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.pattern.as_str(), self.remedy.as_str())
    }
}

/// The user's rules, tried before the built-in ones.
#[derive(Clone, Debug)]
pub struct Classifier {
    pub user: Vec<UserRule>,
}

/// The built-in rules only.
impl Default for Classifier {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl Classifier {
    /// Also compiles the built-in rules now, at start-up, not on the first failure's
    /// poll (tens of milliseconds in a debug build).
    pub fn new(user: Vec<UserRule>) -> Self {
        LazyLock::force(&BUILT_IN);
        Self { user }
    }

    /// The classification of `trace` (`None`: a failure without a trace, unknown).
    pub fn classify(&self, trace: Option<&str>) -> Classified {
        let trace = trace.unwrap_or_default();
        if let Some((n, rule)) = self
            .user
            .iter()
            .zip(1..)
            .find_map(|(r, n)| r.pattern.is_match(trace).then_some((n, r)))
        {
            return classified(rule.remedy, format!("rule {n}"), root_cause(trace));
        }
        for b in BUILT_IN.iter() {
            if let Some(line) = message_lines(trace).find(|l| b.pattern.is_match(l)) {
                return classified(b.remedy, b.name.to_string(), line);
            }
        }
        classified(Remedy::Restart, UNKNOWN.into(), root_cause(trace))
    }
}

fn classified(remedy: Remedy, rule: String, cause: &str) -> Classified {
    let cause = cause.trim().trim_start_matches("Caused by:").trim();
    Classified {
        remedy,
        rule,
        cause: mask(cause).into_owned(),
    }
}

/// The first line, then every line that is not a stack frame (`at …`, `... 12 more`):
/// exception summaries, `Caused by:` lines and multi-line messages.
fn message_lines(trace: &str) -> impl Iterator<Item = &str> {
    trace.lines().filter(|l| {
        let l = l.trim_start();
        !(l.starts_with("at ") || (l.starts_with("... ") && l.ends_with(" more")))
    })
}

/// The deepest `Caused by:` line, else the first line.
fn root_cause(trace: &str) -> &str {
    let first = trace.lines().next().unwrap_or_default();
    trace
        .lines()
        .rfind(|l| l.trim_start().starts_with("Caused by:"))
        .unwrap_or(first)
}

/// A built-in rule.
struct BuiltIn {
    name: &'static str,
    remedy: Remedy,
    pattern: Regex,
}

/// The built-in rules: the "a restart does not fix it" ones first.
static BUILT_IN: LazyLock<Vec<BuiltIn>> = LazyLock::new(|| {
    let rule = |name, remedy, pattern: &str| BuiltIn {
        name,
        remedy,
        pattern: Regex::new(pattern).expect("valid built-in rule"),
    };
    use Remedy::{Escalate, Restart};
    vec![
        rule(
            "authentication",
            Escalate,
            r"[A-Za-z]*AuthenticationException\b|(?i)\bauthentication failed\b|\bAccess denied for user\b|\bpassword authentication failed\b",
        ),
        rule(
            "authorization",
            Escalate,
            r"[A-Za-z]*AuthorizationException\b|\bAccessDeniedException\b|(?i)\bnot authorized\b",
        ),
        rule(
            "http-401-403",
            Escalate,
            r"(?i)\b40[13]\s+(Unauthorized|Forbidden)\b|\b(status|code|status code|http)[\s:=]+40[13]\b",
        ),
        rule(
            "config",
            Escalate,
            r"\bConfigException\b|\bInvalidConfigurationException\b|\bMissing required configuration\b",
        ),
        rule(
            "missing-class",
            Escalate,
            r"\bClassNotFoundException\b|\bNoClassDefFoundError\b|\bFailed to find any class that implements\b",
        ),
        rule(
            "schema",
            Escalate,
            r"(?i)schema being registered is incompatible|\bincompatible schema\b|\bIncompatibleSchemaException\b|\bSchemaParseException\b",
        ),
        rule(
            "timeout",
            Restart,
            r"[A-Za-z]*TimeoutException\b|(?i)\btimed out\b",
        ),
        rule(
            "connection",
            Restart,
            r"\bjava\.net\.ConnectException\b|\bNetworkException\b|\bDisconnectException\b|(?i)\bconnection (refused|reset)\b",
        ),
        rule(
            "rebalance",
            Restart,
            r"\bRebalanceInProgressException\b|\bCommitFailedException\b|(?i)\brebalanc",
        ),
        rule(
            "retriable",
            Restart,
            r"\bRetriableException\b|\bNotLeaderOrFollowerException\b|\bLeaderNotAvailableException\b|\bNotCoordinatorException\b|\bCoordinatorNotAvailableException\b",
        ),
    ]
});

/// The names of the built-in rules, in the order they are tried.
pub fn built_in_names() -> impl Iterator<Item = (&'static str, Remedy)> {
    BUILT_IN.iter().map(|b| (b.name, b.remedy))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rule(trace: &str) -> (Remedy, String) {
        let c = Classifier::default().classify(Some(trace));
        (c.remedy, c.rule)
    }

    #[test]
    fn kafka_and_connect_failures_classify_as_an_operator_would() {
        let cases = [
            (
                "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.rebalance(WorkerSinkTask.java:1)\nCaused by: org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed",
                "authentication",
            ),
            (
                "org.apache.kafka.common.errors.TopicAuthorizationException: Not authorized to access topics: [t]",
                "authorization",
            ),
            (
                "org.apache.kafka.common.config.ConfigException: Missing required configuration \"file\"",
                "config",
            ),
            (
                "java.lang.NoClassDefFoundError: io/confluent/Foo",
                "missing-class",
            ),
            (
                "org.apache.kafka.common.errors.SerializationException: Error registering Avro schema\nCaused by: io.confluent.kafka.schemaregistry.client.rest.exceptions.RestClientException: Schema being registered is incompatible with an earlier schema",
                "schema",
            ),
            (
                "org.apache.kafka.connect.errors.ConnectException: java.net.SocketTimeoutException: connect timed out",
                "timeout",
            ),
            (
                "org.apache.kafka.connect.errors.ConnectException: connection refused",
                "connection",
            ),
            (
                "org.apache.kafka.common.errors.RebalanceInProgressException: rebalancing",
                "rebalance",
            ),
            (
                "org.apache.kafka.connect.errors.RetriableException: try later",
                "retriable",
            ),
            (
                "com.example.HttpException: HTTP 403 Forbidden from the sink",
                "http-401-403",
            ),
            (
                "org.apache.kafka.common.errors.TimeoutException: no answer\nCaused by: org.apache.kafka.common.errors.SaslAuthenticationException: bad password",
                "authentication",
            ),
        ];
        for (trace, expected) in cases {
            assert_eq!(rule(trace).1, expected, "{trace}");
        }
        assert_eq!(
            rule("java.lang.IllegalStateException: boom"),
            (Remedy::Restart, UNKNOWN.into())
        );
    }

    #[test]
    fn stack_frames_never_match_a_built_in_rule() {
        let trace = "java.lang.IllegalStateException: boom\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.rebalanceTimedOut(WorkerSinkTask.java:1)\n\tat org.x.ConfigException.y(Y.java:2)";
        assert_eq!(rule(trace).1, UNKNOWN);
    }

    #[test]
    fn the_cause_is_the_matched_line_or_the_root_cause_masked() {
        let trace = "org.apache.kafka.connect.errors.ConnectException: failed\n\tat x\nCaused by: java.sql.SQLException: jdbc:postgresql://u:hunter22@db/x refused";
        let c = Classifier::default().classify(Some(trace));
        assert_eq!(c.rule, UNKNOWN);
        assert!(c.cause.starts_with("java.sql.SQLException"), "{}", c.cause);
        assert!(!c.cause.contains("hunter22"), "{}", c.cause);
        let auth = Classifier::default().classify(Some(
            "X: wrap\nCaused by: org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed",
        ));
        assert_eq!(
            auth.cause,
            "org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed"
        );
    }

    #[test]
    fn user_rules_come_first_and_say_why_they_are_malformed() {
        let user: Vec<UserRule> = ["Authentication failed=restart", "boom=ignore"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let classifier = Classifier::new(user);
        let auth = classifier.classify(Some("SaslAuthenticationException: Authentication failed"));
        assert_eq!(
            (auth.remedy, auth.rule.as_str()),
            (Remedy::Restart, "rule 1")
        );
        let boom = classifier.classify(Some("java.lang.IllegalStateException: boom"));
        assert_eq!(
            (boom.remedy, boom.rule.as_str()),
            (Remedy::Ignore, "rule 2")
        );
        let with_eq: UserRule = "a=b=escalate".parse().unwrap();
        assert_eq!(with_eq.pattern.as_str(), "a=b");
        for bad in ["no-equals", "x=reboot", "=restart", "(=ignore"] {
            let e = bad.parse::<UserRule>().unwrap_err().to_string();
            assert!(
                e.contains("expected REGEX=restart|ignore|escalate"),
                "{bad}: {e}"
            );
        }
    }

    proptest! {
        /// Any text classifies without panicking; a trace that starts with a
        /// non-restartable exception is never restartable, whatever follows it.
        #[test]
        fn a_non_restartable_summary_is_never_restarted(tail in ".{0,200}") {
            let c = Classifier::default();
            let _ = c.classify(Some(&tail));
            let trace = format!("org.apache.kafka.common.config.ConfigException: bad\n{tail}");
            prop_assert_eq!(c.classify(Some(&trace)).remedy, Remedy::Escalate);
        }
    }
}
