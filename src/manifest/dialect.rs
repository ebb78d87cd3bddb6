//! The dialect of each connector document (`--template`): data (JSON or YAML, whose
//! string values may hold `{{ … }}` minijinja templates) or a jq program
//! (connect-operator's ConfigMaps), chosen per document from its name, and for a
//! `.json` name from its text.

use std::path::Path;

/// `--template`: how documents are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Template {
    /// Per document: `.jq` is jq; `.yaml`/`.yml` YAML; `.json` JSON, or jq when the
    /// text is not JSON (connect-operator's keys are `.json`); other names YAML.
    #[default]
    Auto,
    /// Every ConfigMap value and every `.json`/`.jq` file is a jq program (YAML files
    /// stay YAML; the ConfigMaps in them hold jq).
    Jq,
    /// Nothing is jq but `.jq` files: JSON and YAML with `{{ … }}` templates.
    Jinja,
}

/// How one document is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Yaml,
    Json,
    Jq,
    /// JSON if it parses as JSON, else a jq program.
    JsonElseJq,
}

/// The dialect of the document called `name` (a file, or a ConfigMap key when
/// `in_configmap`).
pub fn detect(name: &str, template: Template, in_configmap: bool) -> Dialect {
    let extension = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let json = extension.as_deref() == Some("json");
    match (extension.as_deref(), template) {
        (Some("jq"), _) => Dialect::Jq,
        (_, Template::Jinja) if json => Dialect::Json,
        (_, Template::Jinja) => Dialect::Yaml,
        (_, Template::Jq) if json || in_configmap => Dialect::Jq,
        (_, Template::Jq) => Dialect::Yaml,
        (_, Template::Auto) if json => Dialect::JsonElseJq,
        (_, Template::Auto) => Dialect::Yaml,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_the_flag_decide() {
        use Dialect::*;
        let cases = [
            ("a.json", Template::Auto, false, JsonElseJq),
            ("a.JSON", Template::Auto, true, JsonElseJq),
            ("a.yaml", Template::Auto, true, Yaml),
            ("a", Template::Auto, true, Yaml),
            ("a.jq", Template::Jinja, false, Jq),
            ("a.json", Template::Jinja, true, Json),
            ("a.yml", Template::Jinja, true, Yaml),
            ("a.yaml", Template::Jq, true, Jq),
            ("a.yaml", Template::Jq, false, Yaml),
            ("a.json", Template::Jq, false, Jq),
        ];
        for (name, template, in_configmap, expected) in cases {
            assert_eq!(
                detect(name, template, in_configmap),
                expected,
                "{name} {template:?}"
            );
        }
    }
}
