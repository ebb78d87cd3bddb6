//! The engine config-value templates render in, built so that a template's work and
//! output stay proportional to its own size and the values it looks up: minijinja with
//! fuel, expressions only (no `{% … %}` statements, so no loops and no `set` that
//! doubles a string per line), no `*` (string and list repetition), no functions
//! (`range`, `namespace`), and only filters whose output is bounded by their input,
//! `join` and `replace` checked against [`limits::VALUE_BYTES`] before they build.

use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value, filters, tests as is};

use super::limits;

/// The engine: strict about undefined names, with the bounded filters and tests.
pub fn engine() -> Environment<'static> {
    let mut engine = Environment::empty();
    engine.set_undefined_behavior(UndefinedBehavior::Strict);
    engine.set_fuel(Some(limits::TEMPLATE_FUEL));
    add_filters(&mut engine);
    add_tests(&mut engine);
    engine
}

fn add_filters(engine: &mut Environment<'static>) {
    engine.add_filter("default", filters::default);
    engine.add_filter("d", filters::default);
    engine.add_filter("lower", filters::lower);
    engine.add_filter("upper", filters::upper);
    engine.add_filter("title", filters::title);
    engine.add_filter("capitalize", filters::capitalize);
    engine.add_filter("trim", filters::trim);
    engine.add_filter("length", filters::length);
    engine.add_filter("count", filters::length);
    engine.add_filter("string", filters::string);
    engine.add_filter("int", filters::int);
    engine.add_filter("float", filters::float);
    engine.add_filter("bool", filters::bool);
    engine.add_filter("first", filters::first);
    engine.add_filter("last", filters::last);
    engine.add_filter("reverse", filters::reverse);
    engine.add_filter("split", filters::split);
    engine.add_filter("list", filters::list);
    engine.add_filter("lines", filters::lines);
    engine.add_filter("abs", filters::abs);
    engine.add_filter("round", filters::round);
    engine.add_filter("join", join);
    engine.add_filter("replace", replace);
}

fn add_tests(engine: &mut Environment<'static>) {
    engine.add_test("defined", is::is_defined);
    engine.add_test("undefined", is::is_undefined);
    engine.add_test("none", is::is_none);
    engine.add_test("true", is::is_true);
    engine.add_test("false", is::is_false);
    engine.add_test("string", is::is_string);
    engine.add_test("number", is::is_number);
    engine.add_test("startingwith", is::is_startingwith);
    engine.add_test("endingwith", is::is_endingwith);
    engine.add_test("eq", is::is_eq);
    engine.add_test("ne", is::is_ne);
    engine.add_test("in", is::is_in);
}

fn too_large(what: &str) -> Error {
    let limit = super::files::bytes(limits::VALUE_BYTES as u64);
    Error::new(
        ErrorKind::InvalidOperation,
        format!("{what} would exceed the {limit} limit of a config value"),
    )
}

/// `join(sep)` that refuses, before building it, a result over the value limit.
fn join(value: &Value, sep: Option<&str>) -> Result<String, Error> {
    let sep = sep.unwrap_or("");
    let mut out = String::new();
    for (i, item) in value.try_iter()?.enumerate() {
        let item = item.to_string();
        let grown = out.len() + item.len() + if i > 0 { sep.len() } else { 0 };
        if grown > limits::VALUE_BYTES {
            return Err(too_large("join"));
        }
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&item);
    }
    Ok(out)
}

/// `replace(from, to)` that refuses, before building it, a result over the value limit.
fn replace(value: &str, from: &str, to: &str) -> Result<String, Error> {
    let matches = match from.is_empty() {
        true => value.chars().count() + 1,
        false => value.matches(from).count(),
    };
    let grown =
        (value.len() - matches * from.len()).saturating_add(matches.saturating_mul(to.len()));
    match grown > limits::VALUE_BYTES {
        true => Err(too_large("replace")),
        false => Ok(value.replace(from, to)),
    }
}

/// Refuses what could make a template's work or output outgrow its input: a
/// statement (`{% … %}`) anywhere, a `*` in an expression outside string literals.
pub fn check(template: &str) -> Result<(), String> {
    if template.len() > limits::TEMPLATE_BYTES {
        let limit = super::files::bytes(limits::TEMPLATE_BYTES as u64);
        return Err(format!("the template is larger than the {limit} limit"));
    }
    let mut rest = template;
    while let Some(open) = rest.find(['{']) {
        rest = &rest[open..];
        if rest.starts_with("{%") {
            return Err(
                "statements ({% … %}) are not supported in config values; use an expression such as {{ a if b else c }}".into(),
            );
        }
        rest = match rest.strip_prefix("{{") {
            Some(expression) => check_expression(expression)?,
            None => &rest[1..],
        };
    }
    Ok(())
}

/// Checks one expression up to its `}}`; returns the text after it. Its code (outside
/// string literals) is bounded: a long chain `a ~ b ~ …` nests as deep as it is long,
/// and minijinja's compiler recurses that deep (2,000 links overflow a thread's stack).
fn check_expression(expression: &str) -> Result<&str, String> {
    let mut quote = None;
    let mut code = 0;
    let mut chars = expression.char_indices();
    while let Some((i, c)) = chars.next() {
        code += usize::from(quote.is_none());
        if code > limits::EXPRESSION_CODE {
            return Err(format!(
                "an expression ({{{{ … }}}}) longer than {} characters (string literals not counted)",
                limits::EXPRESSION_CODE
            ));
        }
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '*') => {
                return Err(
                    "`*` (repetition or multiplication) is not supported in templates".into(),
                );
            }
            (None, '}') if expression[i..].starts_with("}}") => return Ok(&expression[i + 2..]),
            (None, _) => {}
        }
    }
    Ok("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_repetition_are_refused_and_literals_are_not_code() {
        assert!(check("a {{ env.X }} b {# c #}").is_ok());
        assert!(check("{{ '*' ~ \"}}*\" }} and * outside").is_ok());
        assert!(check("{{ 'it\\'s *' }}").is_ok());
        assert!(check("{% for i in range(3) %}x{% endfor %}").is_err());
        assert!(check("{{ 'x' * 100000000 }}").is_err());
        assert!(check("{{ [1] * 3 }}").is_err());
        assert!(check(&"x".repeat(limits::TEMPLATE_BYTES + 1)).is_err());
        let chain = format!("{{{{ {} 1 }}}}", "v ~ ".repeat(limits::EXPRESSION_CODE / 4));
        assert!(check(&chain).is_err());
        let literal = format!(
            "{{{{ v|default('{}') }}}}",
            "x".repeat(limits::EXPRESSION_CODE)
        );
        assert!(check(&literal).is_ok());
    }

    #[test]
    fn join_and_replace_refuse_results_over_the_limit() {
        let big = Value::from("x".repeat(limits::VALUE_BYTES / 2 + 1));
        let list = Value::from(vec![big.clone(), big]);
        assert!(join(&list, Some(",")).is_err());
        assert_eq!(
            join(&Value::from(vec!["a", "b"]), Some(", ")).unwrap(),
            "a, b"
        );
        let text = "ab".repeat(1000);
        assert!(replace(&text, "", &"y".repeat(1000)).is_err());
        assert!(replace(&text, "a", &"y".repeat(2000)).is_err());
        assert_eq!(replace("a-b-c", "-", "+").unwrap(), "a+b+c");
    }
}
