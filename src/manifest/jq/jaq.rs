//! One jq program evaluated with jaq (jaq-core, jaq-std, jaq-json), as connect-operator
//! runs `jq -n --arg NAME VALUE …`: null input, every `--vars` value bound as `$NAME`
//! (and in `$ARGS.named`), the environment as `env` and `$ENV`. Module loading is off.
//! Output values are capped in number and size; this runs in the worker process
//! ([`super::worker`]), whose deadline and memory limit bound the rest.

use std::{collections::BTreeMap, fmt::Write as _};

use jaq_core::{
    Compiler, Ctx, Vars, data,
    load::{self, Arena, File, Loader},
};
use jaq_json::Val;

use super::eval::{Bindings, Failure, FailureKind};
use crate::manifest::limits;

/// Extra definitions: `env` reads the given environment, not the worker's own.
const PRELUDE: &str = "def env: $ENV;";

type Data = data::JustLut<Val>;

/// Runs `code` with null input; every output value, as JSON.
pub fn evaluate(code: &str, bindings: &Bindings) -> Result<Vec<serde_json::Value>, Failure> {
    let names: Vec<String> = bindings
        .vars
        .keys()
        .map(|name| format!("${name}"))
        .chain(["$ENV".to_string(), "$ARGS".to_string()])
        .collect();
    let arena = Arena::default();
    let prelude = load::parse(PRELUDE, |p| p.defs()).unwrap_or_default();
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .chain(prelude);
    let modules = Loader::new(defs)
        .load(&arena, File { code, path: () })
        .map_err(|errors| load_failure(code, errors))?;
    load::import(&modules, |_| Err("importing data is not supported".into()))
        .map_err(|errors| load_failure(code, errors))?;
    let funs = jaq_core::funs::<Data>()
        .chain(jaq_std::funs::<Data>().filter(|(name, ..)| *name != "env"))
        .chain(jaq_json::funs::<Data>());
    let filter = Compiler::default()
        .with_funs(funs)
        .with_global_vars(names.iter().map(String::as_str))
        .compile(modules)
        .map_err(|errors| compile_failure(code, errors))?;
    let ctx = Ctx::<Data>::new(&filter.lut, Vars::new(values(bindings)));
    outputs(filter.id.run((ctx, Val::Null)))
}

/// The global variables' values, in the order of their names.
fn values(bindings: &Bindings) -> Vec<Val> {
    let text = |s: &String| Val::from(s.clone());
    let object = |map: &BTreeMap<String, String>| {
        Val::obj(map.iter().map(|(k, v)| (text(k), text(v))).collect())
    };
    let args = Val::obj(
        [
            (Val::from("positional".to_string()), Val::from_iter([])),
            (Val::from("named".to_string()), object(&bindings.vars)),
        ]
        .into_iter()
        .collect(),
    );
    bindings
        .vars
        .values()
        .map(text)
        .chain([object(&bindings.env), args])
        .collect()
}

/// Collects the outputs, each written as JSON within [`limits::JQ_OUTPUT_BYTES`] in
/// all, at most [`limits::JQ_OUTPUTS`] of them.
fn outputs<'a>(
    run: impl Iterator<Item = jaq_core::ValX<'a, Val>>,
) -> Result<Vec<serde_json::Value>, Failure> {
    let mut budget = Capped::new(limits::JQ_OUTPUT_BYTES);
    let mut values = Vec::new();
    for output in run {
        if values.len() == limits::JQ_OUTPUTS {
            let why = format!("it outputs more than {} values", limits::JQ_OUTPUTS);
            return Err(Failure::new(FailureKind::Output, None, why));
        }
        let value = output.map_err(exception)?;
        values.push(json(&value, &mut budget)?);
    }
    Ok(values)
}

/// One output as JSON, its text counted against `budget`.
fn json(value: &Val, budget: &mut Capped) -> Result<serde_json::Value, Failure> {
    let start = budget.text.len();
    if write!(budget, "{value}").is_err() {
        let limit = crate::manifest::files::bytes(limits::JQ_OUTPUT_BYTES as u64);
        let why = format!("its output exceeds the {limit} limit");
        return Err(Failure::new(FailureKind::Output, None, why));
    }
    let text = &budget.text[start..];
    serde_json::from_str(text).map_err(|e| {
        let why = format!("an output value is not JSON ({e})");
        Failure::new(FailureKind::Output, None, why)
    })
}

/// A runtime error, or `halt`/`halt_error`.
fn exception(exn: jaq_core::Exn<'_, Val>) -> Failure {
    let message = match exn.get_err() {
        Ok(error) => error.to_string(),
        Err(exn) => match exn.get_halt() {
            Ok(code) => format!("the program called halt (exit code {code})"),
            Err(_) => "the program stopped with an exception".to_string(),
        },
    };
    Failure::new(FailureKind::Runtime, None, message)
}

/// A `fmt::Write` that refuses to grow past its limit.
struct Capped {
    text: String,
    limit: usize,
}

impl Capped {
    fn new(limit: usize) -> Self {
        Self {
            text: String::new(),
            limit,
        }
    }
}

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        match self.text.len() + s.len() > self.limit {
            true => Err(std::fmt::Error),
            false => {
                self.text.push_str(s);
                Ok(())
            }
        }
    }
}

/// The first lex or parse error, with its position.
fn load_failure(code: &str, errors: load::Errors<&str, ()>) -> Failure {
    let mut found = errors.into_iter().flat_map(|(_, error)| match error {
        load::Error::Io(errs) => errs
            .into_iter()
            .map(|(path, e)| (path, format!("cannot import {path:?}: {e}")))
            .collect::<Vec<_>>(),
        load::Error::Lex(errs) => errs
            .into_iter()
            .map(|(expect, at)| (at, found(&format!("expected {}", expect.as_str()), at)))
            .collect(),
        load::Error::Parse(errs) => errs
            .into_iter()
            .map(|(expect, at)| (at, found(&format!("expected {}", expect.as_str()), at)))
            .collect(),
    });
    match found.next() {
        Some((at, message)) => Failure::new(FailureKind::Syntax, position(code, at), message),
        None => Failure::new(FailureKind::Syntax, None, "the program cannot be read"),
    }
}

/// `expected X, found Y` (or `… at the end of the program`).
fn found(expected: &str, at: &str) -> String {
    match at.chars().next() {
        None => format!("{expected}, found the end of the program"),
        Some(_) => {
            let token: String = at
                .chars()
                .take_while(|c| !c.is_whitespace())
                .take(20)
                .collect();
            format!("{expected}, found {token:?}")
        }
    }
}

/// The first undefined name, with its position.
fn compile_failure(code: &str, errors: jaq_core::compile::Errors<&str, ()>) -> Failure {
    let first = errors.into_iter().flat_map(|(_, errs)| errs).next();
    match first {
        Some((name, undefined)) => {
            let what = undefined.as_str();
            let message = match (what, name.starts_with('$')) {
                ("variable", _) => format!(
                    "undefined variable {name} (no --vars value maps to it; names are upper-cased, with . and - as _)"
                ),
                _ => format!("undefined {what} {name}"),
            };
            Failure::new(FailureKind::Undefined, position(code, name), message)
        }
        None => Failure::new(FailureKind::Undefined, None, "the program does not compile"),
    }
}

/// The 1-based line and column (in characters) where `part`, a slice of `code`, starts.
fn position(code: &str, part: &str) -> Option<(usize, usize)> {
    let start = (part.as_ptr() as usize).checked_sub(code.as_ptr() as usize)?;
    let before = code.get(..start)?;
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn bindings() -> Bindings {
        Bindings {
            vars: [(
                "SCHEMA_REGISTRY_URL".to_string(),
                "http://sr:8081".to_string(),
            )]
            .into(),
            env: [("MYSQL_USER".to_string(), "root".to_string())].into(),
        }
    }

    #[test]
    fn connect_operators_program_shape() {
        let program = r#"{
          "name": "jdbc",
          "config": {
            "connection.user": env.MYSQL_USER,
            "alt": $ENV.MYSQL_USER,
            "value.converter.schema.registry.url": $SCHEMA_REGISTRY_URL,
            "named": $ARGS.named.SCHEMA_REGISTRY_URL,
            "tasks.max": "1"
          }
        }"#;
        let out = evaluate(program, &bindings()).unwrap();
        assert_eq!(
            out,
            vec![json!({"name": "jdbc", "config": {
                "connection.user": "root", "alt": "root",
                "value.converter.schema.registry.url": "http://sr:8081",
                "named": "http://sr:8081", "tasks.max": "1"}})]
        );
    }

    #[test]
    fn the_real_environment_is_not_read() {
        let out = evaluate("env.PATH, $ENV.HOME", &bindings()).unwrap();
        assert_eq!(out, vec![json!(null), json!(null)]);
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = evaluate("{\n  \"a\": 1,\n  \"b\": (2\n}", &bindings()).unwrap_err();
        assert_eq!(err.kind, FailureKind::Syntax);
        assert_eq!(err.at.map(|(line, _)| line), Some(4), "{err:?}");
        let err = evaluate("{\"a\": $NOPE}", &bindings()).unwrap_err();
        assert_eq!(
            (err.kind, err.at),
            (FailureKind::Undefined, Some((1, 7))),
            "{err:?}"
        );
        assert!(err.message.contains("undefined variable $NOPE"), "{err:?}");
        let err = evaluate("nosuchfilter", &bindings()).unwrap_err();
        assert!(err.message.contains("undefined filter"), "{err:?}");
    }

    #[test]
    fn runtime_errors_and_halt_are_failures() {
        let err = evaluate("{} | .a.b.c = (1 | .x)", &bindings()).unwrap_err();
        assert_eq!(err.kind, FailureKind::Runtime, "{err:?}");
        let err = evaluate("halt", &bindings()).unwrap_err();
        assert!(err.message.contains("halt"), "{err:?}");
        let err = evaluate(r#"error("x" * 5000)"#, &bindings()).unwrap_err();
        assert!(
            err.message.len() <= crate::manifest::jq::eval::MESSAGE_BYTES + 4,
            "{}",
            err.message.len()
        );
    }

    #[test]
    fn outputs_are_capped() {
        let err = evaluate("range(2000)", &bindings()).unwrap_err();
        assert!(err.message.contains("more than 1000 values"), "{err:?}");
        let err = evaluate(r#""x" * (5 * 1024 * 1024)"#, &bindings()).unwrap_err();
        assert!(err.message.contains("exceeds the 4 MiB limit"), "{err:?}");
    }

    #[test]
    fn positions_count_characters() {
        let code = "é\nab $X";
        let at = &code[code.find('$').unwrap()..];
        assert_eq!(position(code, at), Some((2, 4)));
        assert_eq!(position(code, "elsewhere"), None);
    }
}
