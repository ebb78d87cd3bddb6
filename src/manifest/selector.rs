//! Kubernetes label selectors (`--selector`), parsed and matched here, so ConfigMap
//! files in git are selected exactly as the API server selects ConfigMaps for
//! `reconcile --source configmaps`: comma-separated requirements, each `key`, `!key`,
//! `key=value` (or `==`), `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key>N` or
//! `key<N`; every requirement must hold. `!=` and `notin` also match a missing label,
//! as in Kubernetes. Pure, no IO.

use std::{collections::BTreeMap, fmt};

/// A parsed label selector; the empty selector matches everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
    /// The text it was parsed from (for messages and the API server).
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Exists,
    Absent,
    In(Vec<String>),
    NotIn(Vec<String>),
    Greater(i64),
    Less(i64),
}

impl Default for Selector {
    /// connect-operator's selector: `destination=connect`.
    fn default() -> Self {
        Self::parse(DEFAULT).unwrap_or(Self {
            requirements: Vec::new(),
            text: String::new(),
        })
    }
}

/// The default `--selector`, connect-operator's.
pub const DEFAULT: &str = "destination=connect";

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Selector {
    /// Parses `text`; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_top(text)? {
            let part = part.trim();
            if part.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(format!("empty requirement in {text:?}"));
            }
            requirements.push(requirement(part)?);
        }
        Ok(Self {
            requirements,
            text: text.trim().to_string(),
        })
    }

    /// Whether a resource with these labels is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match (&self.op, value) {
            (Op::Exists, v) => v.is_some(),
            (Op::Absent, v) => v.is_none(),
            (Op::In(values), Some(v)) => values.contains(v),
            (Op::In(_), None) => false,
            (Op::NotIn(values), v) => v.is_none_or(|v| !values.contains(v)),
            (Op::Greater(n), Some(v)) => v.parse::<i64>().is_ok_and(|v| v > *n),
            (Op::Less(n), Some(v)) => v.parse::<i64>().is_ok_and(|v| v < *n),
            (Op::Greater(_) | Op::Less(_), None) => false,
        }
    }
}

/// Splits at commas outside parentheses.
fn split_top(text: &str) -> Result<Vec<&str>, String> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unbalanced ')' in {text:?}"))?;
            }
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    match depth {
        0 => {
            parts.push(&text[start..]);
            Ok(parts)
        }
        _ => Err(format!("unclosed '(' in {text:?}")),
    }
}

fn requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement {
            key: label_key(key.trim(), part)?,
            op: Op::Absent,
        });
    }
    if let Some((key, values)) = set_operator(part, " notin ") {
        return Ok(Requirement {
            key: label_key(key, part)?,
            op: Op::NotIn(set(values, part)?),
        });
    }
    if let Some((key, values)) = set_operator(part, " in ") {
        return Ok(Requirement {
            key: label_key(key, part)?,
            op: Op::In(set(values, part)?),
        });
    }
    comparison(part)
}

/// `key in (…)`: the key and the parenthesised list, split at the first `op`.
fn set_operator<'a>(part: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let (key, rest) = part.split_once(op)?;
    Some((key.trim(), rest.trim()))
}

fn set(values: &str, part: &str) -> Result<Vec<String>, String> {
    let inner = values
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| format!("{part:?}: expected a list in parentheses, e.g. (a,b)"))?;
    inner
        .split(',')
        .map(|v| label_value(v.trim(), part))
        .collect()
}

/// `key=value`, `key==value`, `key!=value`, `key>N`, `key<N`, or a bare `key`.
fn comparison(part: &str) -> Result<Requirement, String> {
    let Some(at) = part.find(['=', '!', '>', '<']) else {
        return Ok(Requirement {
            key: label_key(part, part)?,
            op: Op::Exists,
        });
    };
    let (key, rest) = (part[..at].trim(), &part[at..]);
    let key = label_key(key, part)?;
    let (op, value) = ["==", "!=", "=", ">", "<"]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v.trim())))
        .ok_or_else(|| format!("{part:?}: unknown operator"))?;
    let number = || {
        value
            .parse::<i64>()
            .map_err(|_| format!("{part:?}: {op} needs an integer"))
    };
    let op = match op {
        "!=" => Op::NotIn(vec![label_value(value, part)?]),
        ">" => Op::Greater(number()?),
        "<" => Op::Less(number()?),
        _ => Op::In(vec![label_value(value, part)?]),
    };
    Ok(Requirement { key, op })
}

/// A label key: an optional DNS prefix and `/`, then a name of at most 63 characters
/// of alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
fn label_key(key: &str, part: &str) -> Result<String, String> {
    let name = key.rsplit_once('/').map_or(key, |(prefix, name)| {
        match prefix.is_empty() || prefix.len() > 253 {
            true => "",
            false => name,
        }
    });
    match label_name(name) {
        true => Ok(key.to_string()),
        false => Err(format!("{part:?}: {key:?} is not a valid label key")),
    }
}

/// A label value: empty, or a label name.
fn label_value(value: &str, part: &str) -> Result<String, String> {
    match value.is_empty() || label_name(value) {
        true => Ok(value.to_string()),
        false => Err(format!("{part:?}: {value:?} is not a valid label value")),
    }
}

fn label_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    (1..=63).contains(&name.len())
        && name.chars().all(ok)
        && edge(name.chars().next())
        && edge(name.chars().last())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_forms_kubernetes_accepts() {
        let m = labels(&[("destination", "connect"), ("enabled", "true"), ("n", "5")]);
        let yes = [
            "",
            "destination=connect",
            "destination==connect",
            "destination",
            "!destination.cc",
            "destination=connect,!destination.cc",
            "enabled in (true, false)",
            "enabled notin (false)",
            "team notin (a)",
            "team!=x",
            "n>4",
            "n<6",
            " destination = connect , enabled ",
            "app.kubernetes.io/part-of!=kafka",
        ];
        for text in yes {
            assert!(Selector::parse(text).unwrap().matches(&m), "{text}");
        }
        let no = [
            "destination=ccloud",
            "!enabled",
            "team",
            "n>5",
            "enabled in (x)",
        ];
        for text in no {
            assert!(!Selector::parse(text).unwrap().matches(&m), "{text}");
        }
    }

    #[test]
    fn malformed_selectors_say_what_is_wrong() {
        for (text, says) in [
            ("a in (b", "unclosed"),
            ("a)", "unbalanced"),
            ("a in b", "parentheses"),
            ("a,,b", "empty requirement"),
            ("-a=b", "not a valid label key"),
            ("a=b c", "not a valid label value"),
            ("n>x", "integer"),
        ] {
            let err = Selector::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn the_default_is_connect_operators() {
        let selector = Selector::default();
        assert_eq!(selector.to_string(), "destination=connect");
        assert!(selector.matches(&labels(&[("destination", "connect")])));
        assert!(!selector.matches(&labels(&[])));
    }

    proptest! {
        /// `k=v` matches exactly the label maps holding `k: v`, `k!=v` the others;
        /// parsing never panics on any text.
        #[test]
        fn equality_and_inequality_split_every_map(
            key in "[a-z][a-z0-9.]{0,8}[a-z0-9]",
            value in "[a-z0-9]{1,6}",
            other in proptest::option::of("[a-z0-9]{1,6}"),
            junk in ".{0,40}",
        ) {
            let _ = Selector::parse(&junk);
            let map: BTreeMap<String, String> =
                other.iter().map(|v| (key.clone(), v.clone())).collect();
            let eq = Selector::parse(&format!("{key}={value}")).unwrap().matches(&map);
            let ne = Selector::parse(&format!("{key}!={value}")).unwrap().matches(&map);
            prop_assert_eq!(eq, other.as_deref() == Some(value.as_str()));
            prop_assert_ne!(eq, ne);
        }
    }
}
