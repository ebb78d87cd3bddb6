//! Templating of config values with minijinja: `{{ env.NAME }}` and `{{ vars.NAME }}`
//! (or `{{ vars["db.password"] }}`), strict about undefined names. Only string values
//! holding `{{` are templates, rendered after parsing, so YAML/JSON quoting cannot
//! break and Connect's own `${file:…}`, `${env:…}` and `${topic}` pass through untouched.
//! Values are then stringified as Connect stores them (spec §5.1, §20.1).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
};

use minijinja::{
    Environment, UndefinedBehavior,
    value::{Object, Value as Jinja},
};
use serde_json::Value;

use super::{ManifestError, load::Raw};
use crate::plan::Config;

/// The template inputs: a snapshot of the environment and the `--vars` values.
#[derive(Clone, Debug, Default)]
pub struct Context {
    env: BTreeMap<String, String>,
    vars: BTreeMap<String, String>,
}

impl Context {
    pub fn new(env: BTreeMap<String, String>, vars: BTreeMap<String, String>) -> Self {
        Self { env, vars }
    }
}

/// A map exposed to templates that records lookups (to know which values used
/// `vars`) and misses (to name the undefined variable in the error).
#[derive(Debug)]
struct Lookup {
    values: BTreeMap<String, String>,
    hits: Mutex<BTreeSet<String>>,
    misses: Mutex<Vec<String>>,
}

impl Lookup {
    fn new(values: BTreeMap<String, String>) -> Arc<Self> {
        Arc::new(Self {
            values,
            hits: Mutex::default(),
            misses: Mutex::default(),
        })
    }

    fn take(&self) -> (bool, Vec<String>) {
        let hit =
            !std::mem::take(&mut *self.hits.lock().unwrap_or_else(|p| p.into_inner())).is_empty();
        let misses = std::mem::take(&mut *self.misses.lock().unwrap_or_else(|p| p.into_inner()));
        (hit, misses)
    }
}

impl Object for Lookup {
    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        let key = key.as_str()?;
        match self.values.get(key) {
            Some(value) => {
                let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
                hits.insert(key.to_string());
                Some(Jinja::from(value.as_str()))
            }
            None => {
                let mut misses = self.misses.lock().unwrap_or_else(|p| p.into_inner());
                misses.push(key.to_string());
                None
            }
        }
    }
}

/// The template's top level: `env` and `vars`.
#[derive(Debug)]
struct Root {
    env: Arc<Lookup>,
    vars: Arc<Lookup>,
}

impl Object for Root {
    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        match key.as_str()? {
            "env" => Some(Jinja::from_dyn_object(self.env.clone())),
            "vars" => Some(Jinja::from_dyn_object(self.vars.clone())),
            _ => None,
        }
    }
}

/// Renders and stringifies a raw connector's config; also returns the keys whose
/// value used `vars`.
pub fn config(raw: &Raw, context: &Context) -> Result<(Config, BTreeSet<String>), ManifestError> {
    let engine = engine();
    let env = Lookup::new(context.env.clone());
    let vars = Lookup::new(context.vars.clone());
    let mut config = Config::new();
    let mut from_vars = BTreeSet::new();
    for (key, value) in &raw.config {
        let fail = |reason: String| ManifestError::Template {
            location: raw.location.to_string(),
            connector: raw.name.clone(),
            key: key.clone(),
            reason,
        };
        let text = stringify(value).map_err(fail)?;
        if !text.contains("{{") {
            config.insert(key.clone(), text);
            continue;
        }
        let (rendered, used_vars) = render(&engine, &text, &env, &vars).map_err(fail)?;
        if used_vars {
            from_vars.insert(key.clone());
        }
        config.insert(key.clone(), rendered);
    }
    Ok((config, from_vars))
}

fn engine() -> Environment<'static> {
    let mut engine = Environment::new();
    engine.set_undefined_behavior(UndefinedBehavior::Strict);
    engine
}

fn render(
    engine: &Environment<'_>,
    template: &str,
    env: &Arc<Lookup>,
    vars: &Arc<Lookup>,
) -> Result<(String, bool), String> {
    let context = Jinja::from_object(Root {
        env: env.clone(),
        vars: vars.clone(),
    });
    // minijinja drops one trailing newline of a template; a config value keeps it.
    let result = engine.render_str(template, context).map(|r| {
        match template.ends_with('\n') && !r.ends_with('\n') {
            true => r + "\n",
            false => r,
        }
    });
    let (_, env_misses) = env.take();
    let (used_vars, var_misses) = vars.take();
    let result = result.map(|rendered| (rendered, used_vars));
    result.map_err(|e| {
        let undefined = env_misses
            .iter()
            .map(|m| format!("env.{m}"))
            .chain(var_misses.iter().map(|m| format!("vars.{m}")))
            .collect::<Vec<_>>();
        match undefined.is_empty() {
            true => format!("template error: {}", e.detail().unwrap_or(&e.to_string())),
            false => format!("undefined variable {}", undefined.join(", ")),
        }
    })
}

/// A value as Connect stores it: numbers and booleans as their JSON text, lists of
/// scalars comma-joined (Connect's LIST type); null and objects are refused.
pub fn stringify(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Array(_) | Value::Object(_) => {
                    Err("a list may only hold strings, numbers or booleans".to_string())
                }
                scalar => stringify(scalar),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|items| items.join(",")),
        Value::Null => Err("null is not a config value (omit the key instead)".into()),
        Value::Object(_) => {
            Err("an object is not a config value (Connect configs are flat)".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::{manifest::Location, plan::TargetState};

    fn raw(config: Value) -> Raw {
        Raw {
            name: "c".into(),
            config: config.as_object().unwrap().clone(),
            state: TargetState::Running,
            location: Location {
                file: PathBuf::from("m.yaml"),
                document: 2,
                line: Some(7),
            },
        }
    }

    fn context() -> Context {
        Context::new(
            [("HOST".to_string(), "db".to_string())].into(),
            [("db.password".to_string(), "pw".to_string())].into(),
        )
    }

    #[test]
    fn renders_env_and_vars_and_tracks_vars() {
        let (config, from_vars) = config(
            &raw(json!({
                "url": "jdbc:postgresql://{{ env.HOST }}:5432/x",
                "connection.password": "{{ vars['db.password'] }}",
                "tasks.max": 2, "on": true, "topics": ["a", "b"],
                "transforms.r.replacement": "${topic}-x",
                "secret.file": "${file:/etc/s.properties:pw}",
            })),
            &context(),
        )
        .unwrap();
        assert_eq!(config["url"], "jdbc:postgresql://db:5432/x");
        assert_eq!(config["connection.password"], "pw");
        assert_eq!(config["tasks.max"], "2");
        assert_eq!(config["on"], "true");
        assert_eq!(config["topics"], "a,b");
        assert_eq!(config["transforms.r.replacement"], "${topic}-x");
        assert_eq!(config["secret.file"], "${file:/etc/s.properties:pw}");
        assert_eq!(
            from_vars,
            BTreeSet::from(["connection.password".to_string()])
        );
    }

    #[test]
    fn undefined_names_are_errors_naming_file_connector_and_key() {
        let err = config(&raw(json!({"k": "{{ vars.NOPE }}"})), &context()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.yaml (document 2, line 7): connector \"c\", key \"k\": undefined variable vars.NOPE"
        );
        let err = config(&raw(json!({"k": "{{ env.NOPE }}"})), &context()).unwrap_err();
        assert!(
            err.to_string().ends_with("undefined variable env.NOPE"),
            "{err}"
        );
        let err = config(&raw(json!({"k": "{{ nope }}"})), &context()).unwrap_err();
        assert!(
            err.to_string().contains("key \"k\": template error"),
            "{err}"
        );
    }
}
