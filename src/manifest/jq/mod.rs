//! jq programs as connector documents, the dialect of connect-operator's ConfigMaps:
//! a program such as `{"name": "jdbc", "config": {"connection.user":
//! env.MYSQL_USER, "schema.registry.url": $SCHEMA_REGISTRY_URL}}` produces the
//! connector's JSON. `$NAME` is a `--vars` value (its key upper-cased, `.` and `-` as
//! `_`, as connect-operator names properties); `env.NAME` and `$ENV.NAME` the
//! environment with the `--vars` values added under those names.
//!
//! Programs are evaluated by jaq ([`eval`]) in a child process, `connect-sentinel
//! __jq-worker` ([`worker`]), so a runaway program is bounded: the parent
//! ([`runner`]) stops it after [`limits::JQ_DEADLINE`], and the worker limits its own
//! memory ([`limits::JQ_MEMORY_BYTES`]) and CPU time.

pub mod eval;
#[cfg(feature = "jq")]
mod jaq;
mod runner;
pub mod worker;

use std::{collections::BTreeMap, path::PathBuf};

pub use eval::{Bindings, Failure, FailureKind};
pub use runner::run;

use super::limits;

/// Where the jq worker is: the `connect-sentinel` binary, run as `PROGRAM __jq-worker`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JqRunner {
    /// `None`: no worker here (a library caller that gave none); jq programs fail.
    pub program: Option<PathBuf>,
}

impl JqRunner {
    /// The worker is `program` (tests pass the binary cargo built).
    pub fn worker(program: impl Into<PathBuf>) -> Self {
        Self {
            program: Some(program.into()),
        }
    }

    /// This process's own binary (what `main` uses).
    pub fn this_binary() -> Self {
        Self {
            program: std::env::current_exe().ok(),
        }
    }
}

/// connect-operator's name for a property key: upper-cased, `.` and `-` as `_`.
pub fn jq_name(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '.' | '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// Whether `name` can be written `$name` in jq.
fn identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The bindings of every program: each `--vars` value under its jq name (keys that map
/// to no jq identifier are left out), and the environment with those values added
/// (a `--vars` value wins over an environment variable of the same name). Two keys
/// that map to one name with different values are an error naming both.
pub fn bindings(
    vars: &BTreeMap<String, String>,
    env: &BTreeMap<String, String>,
) -> Result<Bindings, String> {
    let mut named: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for (key, value) in vars {
        let name = jq_name(key);
        if !identifier(&name) {
            continue;
        }
        match named.get(&name) {
            Some((first, other)) if *other != value.as_str() => {
                return Err(format!(
                    "{first:?} and {key:?} are both ${name} in jq, with different values"
                ));
            }
            _ => {
                named.insert(name, (key, value));
            }
        }
    }
    let vars: BTreeMap<String, String> = named
        .into_iter()
        .map(|(name, (_, value))| (name, value.to_string()))
        .collect();
    let mut env = env.clone();
    env.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(Bindings { vars, env })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_connect_operators() {
        assert_eq!(jq_name("schema.registry.url"), "SCHEMA_REGISTRY_URL");
        assert_eq!(jq_name("orders-db.password"), "ORDERS_DB_PASSWORD");
        assert_eq!(jq_name("MYSQL_USER"), "MYSQL_USER");
    }

    #[test]
    fn bindings_map_names_overlay_env_and_refuse_clashes() {
        let vars = BTreeMap::from([
            ("schema.registry.url".to_string(), "http://sr".to_string()),
            ("SCHEMA_REGISTRY_URL".to_string(), "http://sr".to_string()),
            ("9lives".to_string(), "x".to_string()),
        ]);
        let env = BTreeMap::from([
            ("SCHEMA_REGISTRY_URL".to_string(), "from-env".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ]);
        let b = bindings(&vars, &env).unwrap();
        assert_eq!(b.vars.len(), 1, "{b:?}");
        assert_eq!(b.vars["SCHEMA_REGISTRY_URL"], "http://sr");
        assert_eq!(b.env["SCHEMA_REGISTRY_URL"], "http://sr", "--vars wins");
        assert_eq!(b.env["HOME"], "/root");
        let clash = BTreeMap::from([
            ("a.b".to_string(), "1".to_string()),
            ("A_B".to_string(), "2".to_string()),
        ]);
        let err = bindings(&clash, &BTreeMap::new()).unwrap_err();
        assert!(err.contains("\"A_B\" and \"a.b\" are both $A_B"), "{err}");
    }
}
