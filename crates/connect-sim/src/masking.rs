//! Vendor-style masking of secrets on read (`--mask-secrets`, `PUT /_sim/masking`).
//! Real Kafka Connect returns stored values as they are (spec §5.1); managed services
//! and proxies in front of it do not: Confluent Cloud answers `****` for secrets, and
//! UIs show `********`. With a mask set, every config the simulator shows (the config
//! GET, connector info, `?expand=info`, create and replace answers) has each sensitive
//! value replaced by the mask; what is stored is unchanged. A value that is a config
//! provider reference (`${provider:path:key}`) is a pointer, not the secret, and is
//! shown as it is, as Confluent Cloud does.

use std::collections::BTreeMap;

use crate::plugins;

/// The mask `--mask-secrets` uses without a value: Confluent Cloud's.
pub const DEFAULT_MASK: &str = "****************";

/// Words in a key that make it sensitive whatever the plugin (lower-cased).
const SENSITIVE_WORDS: &[&str] = &["password", "secret", "token", "credential"];

/// Whether `key` of a connector of `class` is a secret: a PASSWORD key of the plugin's
/// `ConfigDef` in the catalogue, or a key naming a password, secret, token or
/// credential.
pub fn sensitive(class: Option<&str>, key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let by_name = SENSITIVE_WORDS.iter().any(|w| lower.contains(w));
    let by_type = || {
        class.and_then(plugins::find_connector).is_some_and(|p| {
            plugins::all_defs(p)
                .iter()
                .any(|d| d.name == key && d.ty == "PASSWORD")
        })
    };
    by_name || by_type()
}

/// `config` as shown with `mask`: every sensitive value that is not a provider
/// reference replaced.
pub fn shown(config: &BTreeMap<String, String>, mask: &str) -> BTreeMap<String, String> {
    let class = config.get("connector.class").map(String::as_str);
    config
        .iter()
        .map(|(key, value)| {
            let hide = sensitive(class, key) && !value.trim_start().starts_with("${");
            let value = if hide { mask } else { value.as_str() };
            (key.clone(), value.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn secrets_are_masked_and_the_rest_shown() {
        let stored = config(&[
            (
                "connector.class",
                "io.confluent.connect.jdbc.JdbcSourceConnector",
            ),
            ("connection.password", "pw-1"),
            ("db.secret.token", "t"),
            ("vault.password", "${vault:secret/db:password}"),
            ("topic.prefix", "orders-"),
        ]);
        let shown = shown(&stored, "****");
        assert_eq!(shown["connection.password"], "****");
        assert_eq!(shown["db.secret.token"], "****");
        assert_eq!(shown["vault.password"], "${vault:secret/db:password}");
        assert_eq!(shown["topic.prefix"], "orders-");
        assert_eq!(shown["connector.class"], stored["connector.class"]);
    }

    #[test]
    fn password_keys_of_the_plugin_are_sensitive() {
        let jdbc = Some("io.confluent.connect.jdbc.JdbcSinkConnector");
        assert!(sensitive(jdbc, "connection.password"));
        assert!(!sensitive(jdbc, "connection.url"));
        assert!(sensitive(None, "SASL_PASSWORD"));
        assert!(!sensitive(None, "topics"));
    }
}
