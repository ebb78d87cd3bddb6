//! Request bodies as Jersey and Jackson treat them (spec §0.1, §0.2): a body that is
//! not `application/json` is a 415; malformed or mis-typed JSON is a **500** carrying a
//! Jackson-style message; scalar config values are coerced to strings.

use axum::http::{HeaderMap, header};
use serde_json::Value;

use crate::{
    error::{ApiError, ApiResult},
    model::Target,
    validate::RawConfig,
};

const CREATE_REQUEST: &str =
    "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest";
const SOURCE_SUFFIX: &str = "(`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)";

/// Parses a JSON body; `Ok(None)` for an empty one.
pub fn json(headers: &HeaderMap, bytes: &[u8]) -> ApiResult<Option<Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return Err(ApiError::unsupported_media_type());
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| ApiError::internal(jackson_parse_error(bytes, &e)))
}

/// The bare word (e.g. `not` in `not json`) a syntax error stopped in, with the
/// 1-based column Jackson reports after it.
fn bare_word(bytes: &[u8], e: &serde_json::Error) -> Option<(String, usize)> {
    let line = bytes.split(|b| *b == b'\n').nth(e.line().checked_sub(1)?)?;
    let at = e.column().checked_sub(1)?.min(line.len().checked_sub(1)?);
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let start = line[..at]
        .iter()
        .rposition(|b| !word(b))
        .map_or(0, |i| i + 1);
    let end = line[at..]
        .iter()
        .position(|b| !word(b))
        .map_or(line.len(), |i| at + i);
    (start < end && !line[start].is_ascii_digit()).then(|| {
        (
            String::from_utf8_lossy(&line[start..end]).into_owned(),
            end + 2,
        )
    })
}

fn jackson_parse_error(bytes: &[u8], e: &serde_json::Error) -> String {
    let serde = e.to_string();
    if serde.starts_with("key must be a string")
        && let Some(line) = bytes.split(|b| *b == b'\n').nth(e.line().saturating_sub(1))
        && let Some(&c) = line.get(e.column().saturating_sub(1))
    {
        return format!(
            "Unexpected character ('{}' (code {c})): was expecting double-quote to start field name\n at [Source: REDACTED {SOURCE_SUFFIX}; line: {}, column: {}]",
            c as char,
            e.line(),
            e.column()
        );
    }
    let in_value = serde.starts_with("expected ident") || serde.starts_with("expected value");
    if in_value && let Some((word, column)) = bare_word(bytes, e) {
        return format!(
            "Unrecognized token '{word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: REDACTED {SOURCE_SUFFIX}; line: {}, column: {column}]",
            e.line()
        );
    }
    let what = match e.classify() {
        serde_json::error::Category::Eof => {
            "Unexpected end-of-input: expected close marker for Object".to_string()
        }
        _ => format!("Unexpected character: {e}"),
    };
    format!(
        "{what}\n at [Source: REDACTED {SOURCE_SUFFIX}; line: {}, column: {}]",
        e.line(),
        e.column()
    )
}

fn token(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "Object value (token `JsonToken.START_OBJECT`)",
        Value::Array(_) => "Array value (token `JsonToken.START_ARRAY`)",
        Value::String(_) => "String value (token `JsonToken.VALUE_STRING`)",
        Value::Number(_) => "Number value (token `JsonToken.VALUE_NUMBER_INT`)",
        Value::Bool(_) => "Boolean value (token `JsonToken.VALUE_TRUE`)",
        Value::Null => "Null value (token `JsonToken.VALUE_NULL`)",
    }
}

/// Jackson's message for a value of the wrong JSON type.
pub fn cannot_deserialize(java_type: &str, value: &Value) -> ApiError {
    ApiError::internal(format!(
        "Cannot deserialize value of type `{java_type}` from {}",
        token(value)
    ))
}

/// A scalar coerced to a Java `String` as Jackson does; `None` for JSON null.
fn scalar(value: &Value) -> ApiResult<Option<String>> {
    match value {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Null => Ok(None),
        other => Err(cannot_deserialize("java.lang.String", other)),
    }
}

/// A flat `Map<String, String>` body (PUT/PATCH config, validate).
pub fn config_map(value: &Value) -> ApiResult<RawConfig> {
    let Value::Object(map) = value else {
        return Err(cannot_deserialize(
            "java.util.LinkedHashMap<java.lang.String,java.lang.String>",
            value,
        ));
    };
    map.iter()
        .map(|(k, v)| Ok((k.clone(), scalar(v)?)))
        .collect()
}

/// A parsed `POST /connectors` body (spec §3).
#[derive(Debug)]
pub struct CreateRequest {
    /// Trimmed; `null` counts as `""`.
    pub name: String,
    pub config: RawConfig,
    pub initial_state: Target,
}

/// Parses a create request; `initial_state` is an unknown field before 3.7 (spec §19).
pub fn create_request(body: Option<&Value>, initial_state_known: bool) -> ApiResult<CreateRequest> {
    let Some(body) = body else {
        return Err(ApiError::internal(format!(
            "Cannot invoke \"{CREATE_REQUEST}.name()\" because \"createRequest\" is null"
        )));
    };
    let Value::Object(map) = body else {
        return Err(cannot_deserialize(CREATE_REQUEST, body));
    };
    let known: &[&str] = if initial_state_known {
        &["config", "name", "initial_state"]
    } else {
        &["config", "name"]
    };
    reject_unknown_fields(map, CREATE_REQUEST, known)?;
    let name = map
        .get("name")
        .map(scalar)
        .transpose()?
        .flatten()
        .unwrap_or_default();
    let config = match map.get("config") {
        None | Some(Value::Null) => {
            return Err(ApiError::internal(
                "Cannot invoke \"java.util.Map.get(Object)\" because \"connectorConfig\" is null",
            ));
        }
        Some(config) => config_map(config)?,
    };
    let initial_state = map
        .get("initial_state")
        .map(initial_state)
        .transpose()?
        .unwrap_or(Target::Started);
    Ok(CreateRequest {
        name: name.trim().to_string(),
        config,
        initial_state,
    })
}

/// Jackson's `Unrecognized field` 500 for the first key of `map` not in `known`.
pub fn reject_unknown_fields(
    map: &serde_json::Map<String, Value>,
    class: &str,
    known: &[&str],
) -> ApiResult<()> {
    let Some(field) = map.keys().find(|k| !known.contains(&k.as_str())) else {
        return Ok(());
    };
    let quoted: Vec<String> = known.iter().map(|k| format!("\"{k}\"")).collect();
    Err(ApiError::internal(format!(
        "Unrecognized field \"{field}\" (class {class}), not marked as ignorable ({} known properties: {}])\n at [Source: REDACTED {SOURCE_SUFFIX}; line: 1, column: 2] (through reference chain: {class}[\"{field}\"])",
        known.len(),
        quoted.join(", ")
    )))
}

fn initial_state(value: &Value) -> ApiResult<Target> {
    let text = scalar(value)?.unwrap_or_default();
    match text.to_ascii_uppercase().as_str() {
        "RUNNING" => Ok(Target::Started),
        "PAUSED" => Ok(Target::Paused),
        "STOPPED" => Ok(Target::Stopped),
        _ => Err(ApiError::internal(format!(
            "Cannot deserialize value of type `{CREATE_REQUEST}$InitialState` from String \"{text}\": not one of the values accepted for Enum class: [STOPPED, PAUSED, RUNNING]"
        ))),
    }
}

/// Java's `Boolean.valueOf`: only a case-insensitive `true` is true (spec §0.1).
pub fn java_bool(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_are_coerced_and_nested_values_refused() {
        let config = config_map(&json!({"tasks.max": 2, "flag": true, "gone": null})).unwrap();
        assert_eq!(config["tasks.max"].as_deref(), Some("2"));
        assert_eq!(config["flag"].as_deref(), Some("true"));
        assert_eq!(config["gone"], None);
        let err = config_map(&json!({"nested": {"a": 1}})).unwrap_err();
        assert_eq!(err.status, 500);
        assert!(
            err.message.starts_with(
                "Cannot deserialize value of type `java.lang.String` from Object value"
            )
        );
    }

    #[test]
    fn initial_state_is_unrecognized_before_3_7() {
        let body = json!({"name": "a", "config": {}, "initial_state": "PAUSED"});
        let err = create_request(Some(&body), false).unwrap_err();
        assert!(
            err.message
                .starts_with("Unrecognized field \"initial_state\""),
            "{}",
            err.message
        );
        assert!(
            err.message
                .contains("(2 known properties: \"config\", \"name\"])")
        );
        let ok = create_request(Some(&body), true).unwrap();
        assert_eq!(ok.initial_state, Target::Paused);
    }

    #[test]
    fn java_bool_accepts_only_true() {
        assert!(java_bool(Some("TRUE")) && java_bool(Some("true")));
        assert!(!java_bool(Some("1")) && !java_bool(Some("yes")) && !java_bool(None));
    }
}
