//! Reading a Prometheus / OpenMetrics text exposition the way a scrape does, so tests
//! compare series one by one: every sample becomes `name{a="1",b="2"} value` with its
//! labels sorted by name and its value as a number (`1.0` and `1` are the same sample),
//! and the names a scrape would store (`# TYPE` lines included) can be listed.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

/// One sample: its name, labels by name, and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    /// `name{a="1",b="2"} value`, labels in name order, the value as Rust prints an f64.
    pub fn canonical(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        match labels.is_empty() {
            true => format!("{} {}", self.name, self.value),
            false => format!("{}{{{}}} {}", self.name, labels.join(","), self.value),
        }
    }
}

/// Every sample of `text` (comments and blank lines skipped); panics on a line it
/// cannot read, naming it.
pub fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| sample(l).unwrap_or_else(|| panic!("not a sample line: {l:?}")))
        .collect()
}

/// The canonical samples of `text` whose names start with `prefix`.
pub fn series(text: &str, prefix: &str) -> BTreeSet<String> {
    samples(text)
        .iter()
        .filter(|s| s.name.starts_with(prefix))
        .map(Sample::canonical)
        .collect()
}

/// Canonical forms of hand-written `name{a="1"} 1` lines (labels in any order).
pub fn canonical(lines: &[&str]) -> BTreeSet<String> {
    lines
        .iter()
        .map(|l| sample(l).unwrap_or_else(|| panic!("bad expected line {l:?}")))
        .map(|s| s.canonical())
        .collect()
}

/// Panics showing what is missing from `got` and what it has beyond `want`.
pub fn assert_same(got: &BTreeSet<String>, want: &BTreeSet<String>, context: &str) {
    let missing: Vec<_> = want.difference(got).collect();
    let extra: Vec<_> = got.difference(want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{context}: series differ\nmissing: {missing:#?}\nextra: {extra:#?}"
    );
}

/// Every metric name a scrape of `text` stores: sample names, and for each `# TYPE`
/// line the names of its type (`_total` of a counter; `_bucket`, `_sum`, `_count` of a
/// histogram), so a family without samples yet still counts.
pub fn names(text: &str) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = samples(text).into_iter().map(|s| s.name).collect();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[""],
        };
        names.extend(suffixes.iter().map(|s| format!("{name}{s}")));
    }
    names
}

fn sample(line: &str) -> Option<Sample> {
    let (head, value) = match line.find('{') {
        Some(open) => {
            let close = line.rfind('}')?;
            let labels = labels(&line[open + 1..close])?;
            let value = line[close + 1..].split_whitespace().next()?;
            ((line[..open].to_string(), labels), value)
        }
        None => {
            let mut parts = line.split_whitespace();
            let name = parts.next()?.to_string();
            ((name, BTreeMap::new()), parts.next()?)
        }
    };
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: head.0,
        labels: head.1,
        value,
    })
}

/// `a="1",b="x\"y"` into a map, unescaping `\\`, `\"` and `\n`.
fn labels(text: &str) -> Option<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let (value, after) = quoted(after)?;
        labels.insert(key.trim().to_string(), value);
        rest = after.trim_start_matches(',').trim();
    }
    Some(labels)
}

/// The value up to the closing quote, unescaped, and what follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}
