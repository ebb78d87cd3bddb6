//! Expectations on one answer: the status (one code or a list) and body properties
//! addressed by JSON pointer. A property is a plain JSON value (equality) or an object of
//! `$`-matchers: `$regex`, `$contains` (substring, array element or object key),
//! `$exists`, `$len`, `$one_of`, `$all` / `$some` (every / one array element matches a
//! nested property map) and `$not` (a nested matcher that must fail).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// The expected status: one code or any of several.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Status {
    One(u16),
    Any(Vec<u16>),
}

impl Status {
    fn allows(&self, status: u16) -> bool {
        match self {
            Status::One(s) => *s == status,
            Status::Any(list) => list.contains(&status),
        }
    }
}

/// Body properties: JSON pointer → matcher.
pub type Props = BTreeMap<String, Value>;

/// Checks `status` and `body` against the expectation; `Err` says what failed.
pub fn check(
    status: u16,
    body: &Value,
    want: Option<&Status>,
    props: &Props,
) -> Result<(), String> {
    if let Some(want) = want
        && !want.allows(status)
    {
        return Err(format!("status {status}, expected {want:?}"));
    }
    check_props(body, props)
}

fn check_props(body: &Value, props: &Props) -> Result<(), String> {
    for (pointer, matcher) in props {
        let found = body.pointer(pointer);
        matches(found, matcher).map_err(|e| format!("at {pointer:?}: {e}"))?;
    }
    Ok(())
}

/// True when `matcher` is an object whose keys all start with `$`.
fn is_matcher(matcher: &Value) -> bool {
    matcher
        .as_object()
        .is_some_and(|m| !m.is_empty() && m.keys().all(|k| k.starts_with('$')))
}

fn matches(found: Option<&Value>, matcher: &Value) -> Result<(), String> {
    if !is_matcher(matcher) {
        return match found {
            Some(v) if v == matcher => Ok(()),
            Some(v) => Err(format!("{} is not {matcher}", short(v))),
            None => Err(format!("absent, expected {matcher}")),
        };
    }
    for (op, arg) in matcher.as_object().into_iter().flatten() {
        one(found, op, arg)?;
    }
    Ok(())
}

fn one(found: Option<&Value>, op: &str, arg: &Value) -> Result<(), String> {
    if op == "$exists" {
        return match (found.is_some(), arg.as_bool() != Some(false)) {
            (true, true) | (false, false) => Ok(()),
            (true, false) => Err(format!(
                "present ({}), expected absent",
                short(found.unwrap())
            )),
            (false, true) => Err("absent, expected present".into()),
        };
    }
    if op == "$not" {
        return match matches(found, arg) {
            Ok(()) => Err(format!("matches {arg}, expected not to")),
            Err(_) => Ok(()),
        };
    }
    let v = found.ok_or_else(|| format!("absent, expected {op} {arg}"))?;
    let ok = match op {
        "$regex" => {
            let re = regex::Regex::new(arg.as_str().unwrap_or_default())
                .map_err(|e| format!("bad regex {arg}: {e}"))?;
            v.as_str().is_some_and(|s| re.is_match(s))
        }
        "$contains" => match (v, arg) {
            (Value::String(s), Value::String(part)) => s.contains(part.as_str()),
            (Value::Array(items), _) => items.contains(arg),
            (Value::Object(map), Value::String(key)) => map.contains_key(key),
            _ => false,
        },
        "$len" => {
            let len = match v {
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                Value::String(s) => s.len(),
                _ => usize::MAX,
            };
            Some(len as u64) == arg.as_u64()
        }
        "$one_of" => arg.as_array().is_some_and(|a| a.contains(v)),
        "$all" | "$some" => {
            let props: Props = serde_json::from_value(arg.clone())
                .map_err(|e| format!("{op} needs a property map: {e}"))?;
            let items = v
                .as_array()
                .ok_or_else(|| format!("{} is no array", short(v)))?;
            let results: Vec<Result<(), String>> =
                items.iter().map(|item| check_props(item, &props)).collect();
            if op == "$all" {
                if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
                    return Err(format!("not every element: {e}"));
                }
                !items.is_empty()
            } else {
                results.iter().any(Result::is_ok)
            }
        }
        _ => return Err(format!("unknown matcher {op}")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{} fails {op} {arg}", short(v)))
    }
}

/// A value cut to a readable length for failure messages.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 600 {
        format!("{}…", s.chars().take(600).collect::<String>())
    } else {
        s
    }
}
