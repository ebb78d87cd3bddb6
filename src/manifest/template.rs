//! Templating of config values with minijinja: `{{ env.NAME }}` and `{{ vars.NAME }}`
//! (or `{{ vars["db.password"] }}`), strict about undefined names. Only string values
//! holding `{{` are templates, rendered after parsing, so YAML/JSON quoting cannot
//! break and Connect's own `${file:…}`, `${env:…}` and `${topic}` pass through untouched.
//! Values are then stringified as Connect stores them (spec §5.1, §20.1).
//! Rendering is bounded ([`super::sandbox`]): the bytes a value's lookups return count
//! against [`limits::VALUE_BYTES`], and a file's rendered values against
//! [`limits::RENDERED_FILE_BYTES`].

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
};

use minijinja::{
    Environment, ErrorKind,
    value::{Object, Value as Jinja},
};
use serde_json::Value;

use super::{ManifestError, files, limits, load::Raw, sandbox};
use crate::plan::Config;

/// The template inputs, a snapshot of the environment and the `--vars` values, and the
/// engine: built once per load, shared by every connector.
#[derive(Clone, Debug)]
pub struct Context {
    env: Arc<BTreeMap<String, String>>,
    vars: Arc<BTreeMap<String, String>>,
    engine: Arc<Environment<'static>>,
}

impl Context {
    pub fn new(env: BTreeMap<String, String>, vars: BTreeMap<String, String>) -> Self {
        Self {
            env: Arc::new(env),
            vars: Arc::new(vars),
            engine: Arc::new(sandbox::engine()),
        }
    }
}

/// A map exposed to templates that records lookups (to know which values used
/// `vars`) and misses (to name the undefined variable in the error).
#[derive(Debug)]
struct Lookup {
    values: Arc<BTreeMap<String, String>>,
    hits: Mutex<BTreeSet<String>>,
    misses: Mutex<Vec<String>>,
    /// Bytes returned by the current render's lookups, `env` and `vars` together.
    served: Arc<Served>,
}

/// What one render's lookups returned; past [`limits::VALUE_BYTES`] a lookup fails.
#[derive(Debug, Default)]
struct Served {
    bytes: Mutex<usize>,
    exceeded: Mutex<bool>,
}

impl Served {
    /// Counts `n` more bytes; `false` (and remembered) when that is over the limit.
    fn take(&self, n: usize) -> bool {
        let mut bytes = self.bytes.lock().unwrap_or_else(|p| p.into_inner());
        *bytes += n;
        let over = *bytes > limits::VALUE_BYTES;
        if over {
            *self.exceeded.lock().unwrap_or_else(|p| p.into_inner()) = true;
        }
        !over
    }

    /// Starts a new render; returns whether the last one went over.
    fn reset(&self) -> bool {
        *self.bytes.lock().unwrap_or_else(|p| p.into_inner()) = 0;
        std::mem::take(&mut *self.exceeded.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Lookup {
    fn new(values: &Arc<BTreeMap<String, String>>, served: &Arc<Served>) -> Arc<Self> {
        Arc::new(Self {
            values: values.clone(),
            hits: Mutex::default(),
            misses: Mutex::default(),
            served: served.clone(),
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
            Some(value) if !self.served.take(value.len()) => None,
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

/// How many rendered bytes one manifest file has left ([`limits::RENDERED_FILE_BYTES`]).
#[derive(Debug)]
pub struct Budget(usize);

impl Budget {
    pub fn per_file() -> Self {
        Self(limits::RENDERED_FILE_BYTES)
    }

    fn spend(&mut self, n: usize) -> Result<(), String> {
        self.0 = self.0.checked_sub(n).ok_or_else(|| {
            let limit = files::bytes(limits::RENDERED_FILE_BYTES as u64);
            format!("the rendered templates of this file exceed the {limit} limit")
        })?;
        Ok(())
    }
}

/// The template inputs of one connector, wrapped for minijinja.
struct Inputs {
    env: Arc<Lookup>,
    vars: Arc<Lookup>,
    served: Arc<Served>,
}

/// Renders and stringifies a raw connector's config; also returns the keys whose
/// value used `vars`.
pub fn config(
    raw: &Raw,
    context: &Context,
    budget: &mut Budget,
) -> Result<(Config, BTreeSet<String>), ManifestError> {
    let served = Arc::new(Served::default());
    let inputs = Inputs {
        env: Lookup::new(&context.env, &served),
        vars: Lookup::new(&context.vars, &served),
        served,
    };
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
        let (rendered, used_vars) = render(&context.engine, &text, &inputs)
            .and_then(|r| budget.spend(r.0.len()).map(|()| r))
            .map_err(fail)?;
        if used_vars {
            from_vars.insert(key.clone());
        }
        config.insert(key.clone(), rendered);
    }
    Ok((config, from_vars))
}

fn render(
    engine: &Environment<'_>,
    template: &str,
    inputs: &Inputs,
) -> Result<(String, bool), String> {
    sandbox::check(template)?;
    let context = Jinja::from_object(Root {
        env: inputs.env.clone(),
        vars: inputs.vars.clone(),
    });
    // minijinja drops one trailing newline of a template; a config value keeps it.
    let result = engine.render_str(template, context).map(|r| {
        match template.ends_with('\n') && !r.ends_with('\n') {
            true => r + "\n",
            false => r,
        }
    });
    let over = inputs.served.reset();
    let (_, env_misses) = inputs.env.take();
    let (used_vars, var_misses) = inputs.vars.take();
    match result {
        _ if over => Err(value_too_large()),
        Ok(rendered) if rendered.len() > limits::VALUE_BYTES => Err(value_too_large()),
        Ok(rendered) => Ok((rendered, used_vars)),
        Err(e) => Err(explain(&e, &env_misses, &var_misses)),
    }
}

fn value_too_large() -> String {
    let limit = files::bytes(limits::VALUE_BYTES as u64);
    format!("the rendered value exceeds the {limit} limit of a config value")
}

fn explain(e: &minijinja::Error, env_misses: &[String], var_misses: &[String]) -> String {
    if e.kind() == ErrorKind::OutOfFuel {
        return format!(
            "the template needs more than {} steps (the limit of a config value)",
            limits::TEMPLATE_FUEL
        );
    }
    if matches!(
        e.kind(),
        ErrorKind::UnknownFunction | ErrorKind::UnknownFilter | ErrorKind::UnknownTest
    ) {
        return format!(
            "template error: {} (config templates have no functions and a short list of filters and tests; see README, Templating)",
            e.detail().unwrap_or(&e.to_string())
        );
    }
    let undefined = env_misses
        .iter()
        .map(|m| format!("env.{m}"))
        .chain(var_misses.iter().map(|m| format!("vars.{m}")))
        .collect::<Vec<_>>();
    match undefined.is_empty() {
        true => format!("template error: {}", e.detail().unwrap_or(&e.to_string())),
        false => format!("undefined variable {}", undefined.join(", ")),
    }
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
            extras: Default::default(),
        }
    }

    fn context() -> Context {
        Context::new(
            [("HOST".to_string(), "db".to_string())].into(),
            [("db.password".to_string(), "pw".to_string())].into(),
        )
    }

    fn render_config(
        raw: &Raw,
        context: &Context,
    ) -> Result<(Config, BTreeSet<String>), ManifestError> {
        config(raw, context, &mut Budget::per_file())
    }

    #[test]
    fn renders_env_and_vars_and_tracks_vars() {
        let (config, from_vars) = render_config(
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
        let err = render_config(&raw(json!({"k": "{{ vars.NOPE }}"})), &context()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.yaml (document 2, line 7): connector \"c\", key \"k\": undefined variable vars.NOPE"
        );
        let err = render_config(&raw(json!({"k": "{{ env.NOPE }}"})), &context()).unwrap_err();
        assert!(
            err.to_string().ends_with("undefined variable env.NOPE"),
            "{err}"
        );
        let err = render_config(&raw(json!({"k": "{{ nope }}"})), &context()).unwrap_err();
        assert!(
            err.to_string().contains("key \"k\": template error"),
            "{err}"
        );
    }
}
