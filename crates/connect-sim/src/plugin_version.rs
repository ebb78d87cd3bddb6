//! Plugin versions (KIP-891, Kafka 4.1+, spec §21), as a real 4.3.1 worker answers:
//! the `connector.plugin.version` key in validate and plugin-config answers, the
//! `?version=` range on `GET /connector-plugins/{p}/config`, and the check of a
//! requested version on create. Ranges are Maven's: `1.0` means exactly 1.0 here
//! (`[1.0,1.0]`), `[a,b)` / `(a,b]` bound each side, an empty side is open.

use serde_json::{Value, json};

use crate::{config::Version, error::ApiError, plugins::Plugin};

/// The key that pins a connector's plugin version.
pub const KEY: &str = "connector.plugin.version";

/// One side of a range: the bound and whether it is included.
type Bound = Option<(Vec<u64>, bool)>;

fn numbers(v: &str) -> Vec<u64> {
    v.split(['.', '-']).map_while(|p| p.parse().ok()).collect()
}

/// A parsed range, or `Err` with the text of Maven's complaint.
fn parse(spec: &str) -> Result<(Bound, Bound), String> {
    let spec = spec.trim();
    let open = spec.starts_with(['[', '(']);
    let close = spec.ends_with([']', ')']);
    if !open && !close {
        let v = numbers(spec);
        return Ok((Some((v.clone(), true)), Some((v, true))));
    }
    if !(open && close) || spec.len() < 2 {
        return Err(format!("Unbounded range: {spec}"));
    }
    let inner = &spec[1..spec.len() - 1];
    let (low, high) = inner.split_once(',').unwrap_or((inner, inner));
    let side = |s: &str, inclusive: bool| -> Bound {
        let s = s.trim();
        (!s.is_empty()).then(|| (numbers(s), inclusive))
    };
    Ok((
        side(low, spec.starts_with('[')),
        side(high, spec.ends_with(']')),
    ))
}

fn contains(range: &(Bound, Bound), version: &str) -> bool {
    let v = numbers(version);
    let low_ok = range
        .0
        .as_ref()
        .is_none_or(|(b, inc)| if *inc { v >= *b } else { v > *b });
    let high_ok = range
        .1
        .as_ref()
        .is_none_or(|(b, inc)| if *inc { v <= *b } else { v < *b });
    low_ok && high_ok
}

/// How Connect prints the range in its not-found message: `[1.0,1.0]`.
fn shown(spec: &str) -> String {
    let spec = spec.trim();
    if spec.starts_with(['[', '(']) {
        spec.to_string()
    } else {
        format!("[{spec},{spec}]")
    }
}

fn not_found(plugin: &Plugin, spec: &str, available: &str) -> String {
    format!(
        "Plugin {} not found that matches the version range {}, available versions: [{available}]",
        plugin.class,
        shown(spec)
    )
}

/// `?version=` on the plugin-config endpoint: `Ok` when the plugin has a matching version.
pub fn check_query(plugin: &Plugin, spec: &str, kafka: &str) -> Result<(), ApiError> {
    let range = parse(spec).map_err(|_| {
        ApiError::bad_request(format!("Invalid version specification: {}", spec.trim()))
    })?;
    let available = plugin.version(kafka).unwrap_or_default();
    if contains(&range, &available) {
        Ok(())
    } else {
        Err(ApiError::bad_request(not_found(plugin, spec, &available)))
    }
}

/// The error a requested version no installed plugin has gets (validate puts it on
/// both `connector.class` and the version key, so a create lists it twice), or the
/// message of the 400 an unparsable range gets. A real 4.3.1 worker answers only the
/// first request naming a missing version that way; once one lookup failed, later
/// validates and creates fail with a NullPointerException (a Connect bug, not imitated).
pub fn missing(plugin: &Plugin, spec: &str, kafka: &str) -> Result<Option<String>, String> {
    let range = parse(spec)?;
    let available = plugin.version(kafka).unwrap_or_default();
    Ok((!contains(&range, &available)).then(|| not_found(plugin, spec, &available)))
}

/// The `definition` of `connector.plugin.version` (group Common, after the class).
pub fn definition(plugin: &Plugin, kafka: Version, order: usize) -> Value {
    let default = plugin.version(&kafka.to_string());
    let mut def = json!({
        "name": KEY, "type": "STRING", "required": false, "default_value": default,
        "importance": "MEDIUM", "documentation": "Version of the connector.",
        "group": "Common", "width": "MEDIUM", "display_name": "Connector version",
        "dependents": [],
    });
    crate::plugins::put_order(&mut def, kafka, order);
    def
}

/// The `value` of `connector.plugin.version` in a validate answer.
pub fn value(plugin: &Plugin, kafka: &str, given: Option<&str>, errors: Vec<String>) -> Value {
    let version = plugin.version(kafka);
    let shown = given.map(str::to_string).or(version.clone());
    json!({"name": KEY, "value": shown, "recommended_values": version.into_iter().collect::<Vec<_>>(),
        "errors": errors, "visible": true})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_match_like_maven() {
        let within = |spec: &str, v: &str| contains(&parse(spec).unwrap(), v);
        assert!(within("4.3.1", "4.3.1") && !within("9.9", "4.3.1"));
        assert!(within("[4.0,5.0)", "4.3.1") && !within("[4.0,4.3.1)", "4.3.1"));
        assert!(within("[4.0,)", "4.3.1") && within("(,4.3.1]", "4.3.1"));
        assert_eq!(parse("[bad"), Err("Unbounded range: [bad".into()));
        assert_eq!(shown("9.9"), "[9.9,9.9]");
    }
}
