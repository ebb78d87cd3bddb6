//! Secret redaction for everything `diff` and `apply` print: values of secret-looking
//! keys, values that came from `--vars`, and any text (Connect's error messages echo
//! configs, spec §3 step 3) that contains a `--vars` value or a declared secret-looking
//! key's value (however it was written: literally, `{{ env.X }}`, …).

use std::{
    borrow::Cow,
    collections::{BTreeMap, BTreeSet},
    sync::LazyLock,
};

use aho_corasick::AhoCorasick;
use regex::Regex;

/// What a redacted value prints as.
pub const REDACTED: &str = "(redacted)";

/// Key names whose values are secrets, after kafka-ui's sanitizer list: anywhere in
/// the name `password`, `passwd`, `passphrase`, `secret`, `token`, `credential(s)`,
/// `jaas` and `user.info` (`sasl.jaas.config` and `basic.auth.user.info` hold
/// passwords inline), `api key`, `private key` and `access key`; `key` only as the last
/// segment (`ssl.key`, `aws.secret.access.key`) so `key.converter` stays readable;
/// segments starting `aws.access`, `aws.secret`, `aws.session`; and `connection.uri` as
/// the last segments (MongoDB's, which holds the password).
static SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(password|passwd|passphrase|secret|token|credential|jaas|user\.info",
        r"|(^|[._-])key$|api[._-]?key|private[._-]?key|access[._-]?key",
        r"|(^|[._-])aws[._-](access|secret|session)|(^|[._-])connection[._-]uri$)",
    ))
    .expect("valid regex")
});

/// Values that carry a secret whatever their key, redacted whole: a JDBC URL's
/// `password=`, a query string's `token=`, `secret=` or `api_key=`.
static SECRET_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(password|passwd|pwd|secret|token|api[_-]?key)=").expect("valid regex")
});

/// A URI's user-info password (`mongodb://admin:SECRET@host`): the scheme, user and
/// colon are kept, the password up to the authority's last `@` is cut.
static URI_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)([a-z][a-z0-9+.\-]*://[^\s:/@"']*:)[^\s/"']*@"#).expect("valid regex")
});

/// A secret parameter in free text (`…?user=app&password=SECRET`, `token: SECRET`): the
/// name and separator are kept, the value up to a separator is cut.
static SECRET_PARAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s&;,'"()\[\]{}<>]+"#,
    )
    .expect("valid regex")
});

/// A bearer token (`Authorization: Bearer SECRET`): 8 characters or more.
static BEARER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(bearer)\s+[a-z0-9\-._~+/]{8,}=*").expect("valid regex"));

/// A basic-auth value (`Basic dXNlcjpwYXNz`), cut when it decodes to `user:password`.
static BASIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(basic)\s+([a-z0-9+/]{4,}={0,2})").expect("valid regex"));

/// Whether a key's name says its value is a secret (`connection.password`, …).
pub fn secret_looking(key: &str) -> bool {
    SECRET_KEY.is_match(key)
}

/// `text` with URI passwords, secret parameters, bearer tokens and basic-auth
/// credentials cut out; borrowed when there is nothing to cut (the common case). Also
/// applied to the traces Connect reports (`connect::types`).
pub fn mask(text: &str) -> Cow<'_, str> {
    let text = URI_PASSWORD.replace_all(text, format!("${{1}}{REDACTED}@").as_str());
    let text = match SECRET_PARAM.replace_all(&text, format!("${{1}}{REDACTED}").as_str()) {
        Cow::Borrowed(_) => text,
        Cow::Owned(masked) => Cow::Owned(masked),
    };
    let text = match BEARER.replace_all(&text, format!("${{1}} {REDACTED}").as_str()) {
        Cow::Borrowed(_) => text,
        Cow::Owned(masked) => Cow::Owned(masked),
    };
    match BASIC.replace_all(&text, |c: &regex::Captures| basic(&c[0], &c[1], &c[2])) {
        Cow::Borrowed(_) => text,
        Cow::Owned(masked) => Cow::Owned(masked),
    }
}

/// A `Basic …` match with its credentials cut, or as it was when it is not base64 of
/// `user:password` (`basic authentication` in prose stays).
fn basic(whole: &str, word: &str, value: &str) -> String {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(value);
    match decoded.is_ok_and(|d| d.contains(&b':')) {
        true => format!("{word} {REDACTED}"),
        false => whole.to_string(),
    }
}

/// The shortest `--vars` value scrubbed from free text: shorter ones (`1`, `true`)
/// would mangle messages without protecting anything.
const MIN_SCRUB_LEN: usize = 4;

/// Knows which values are secret.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Values cut from free text: every `--vars` value and every declared value of a
    /// secret-looking key, longest first (so overlapping values scrub fully).
    secrets: Vec<String>,
    /// Finds every one of `secrets` in one pass over a text (pattern ids are indexes
    /// into `secrets`): a scan per secret made printing N connectors with a password
    /// each N² work. `None` without secrets (or if it cannot be built: then a scan).
    finder: Option<AhoCorasick>,
    /// Per connector, the keys whose rendered value used `--vars`.
    from_vars: BTreeMap<String, BTreeSet<String>>,
}

impl Redactor {
    /// A redactor for these secret values (cut from text) and templated keys.
    pub fn new(
        secrets: impl IntoIterator<Item = String>,
        from_vars: BTreeMap<String, BTreeSet<String>>,
    ) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.len() >= MIN_SCRUB_LEN)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        secrets.dedup();
        let finder = match secrets.is_empty() {
            true => None,
            false => AhoCorasick::new(&secrets).ok(),
        };
        Self {
            secrets,
            finder,
            from_vars,
        }
    }

    /// Indexes (into `secrets`, so longest first) of the secrets `text` holds.
    fn found(&self, text: &str) -> BTreeSet<usize> {
        match &self.finder {
            Some(finder) => finder
                .find_overlapping_iter(text)
                .map(|m| m.pattern().as_usize())
                .collect(),
            None => (0..self.secrets.len())
                .filter(|&i| text.contains(self.secrets[i].as_str()))
                .collect(),
        }
    }

    /// Whether a key's value is secret for this connector.
    pub fn secret_key(&self, connector: &str, key: &str) -> bool {
        secret_looking(key)
            || self
                .from_vars
                .get(connector)
                .is_some_and(|keys| keys.contains(key))
    }

    /// A config value as it may be printed.
    pub fn value<'a>(&self, connector: &str, key: &str, value: &'a str) -> Cow<'a, str> {
        let secret = self.secret_key(connector, key)
            || SECRET_VALUE.is_match(value)
            || !self.found(value).is_empty();
        match secret {
            true => Cow::Borrowed(REDACTED),
            false => mask(value),
        }
    }

    /// Free text (an error message) with every secret value, URI password and token
    /// cut out.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in self.found(text).into_iter().map(|i| &self.secrets[i]) {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        mask(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_match_and_ordinary_ones_do_not() {
        let r = Redactor::default();
        for key in [
            "connection.password",
            "database.password",
            "sasl.jaas.config",
            "aws.secret.access.key",
            "ssl.key",
            "api.key",
            "apikey",
            "schema.registry.basic.auth.user.info",
            "bearer.token",
            "my_key",
            "ssl.keystore.passphrase",
            "aws.access.key.id",
            "aws.session.token",
            "gcs.credentials.json",
            "connection.uri",
            "mongo.connection.uri",
            "s3.access.key",
        ] {
            assert!(r.secret_key("c", key), "{key}");
        }
        for key in [
            "key.converter",
            "key.converter.schemas.enable",
            "topics",
            "connection.user",
            "s3.bucket.name",
            "keystore.type",
            "primary.key.fields",
            "value.converter",
            "key.ignore",
            "connection.url",
            "connection.uri.options",
            "monkey",
        ] {
            assert!(!r.secret_key("c", key), "{key}");
        }
    }

    #[test]
    fn vars_values_are_redacted_everywhere() {
        let vars = BTreeMap::from([("c".to_string(), BTreeSet::from(["user".to_string()]))]);
        let r = Redactor::new(["CANARY-s3cr3t".to_string(), "ab".to_string()], vars);
        assert_eq!(r.value("c", "user", "bob"), REDACTED);
        assert_eq!(r.value("d", "user", "bob"), "bob");
        assert_eq!(r.value("d", "url", "x?u=CANARY-s3cr3t"), REDACTED);
        assert_eq!(r.value("d", "url", "jdbc:x?password=p"), REDACTED);
        assert_eq!(
            r.text("Invalid value CANARY-s3cr3t for ab"),
            "Invalid value (redacted) for ab"
        );
    }

    #[test]
    fn uri_passwords_and_tokens_are_cut_from_values_and_text() {
        let r = Redactor::default();
        let cases = [
            (
                "mongodb://admin:CANARY@db:27017/x",
                "mongodb://admin:(redacted)@db:27017/x",
            ),
            (
                "jdbc:mysql://u:CANARY@h/db",
                "jdbc:mysql://u:(redacted)@h/db",
            ),
            (
                "mongodb://u:p@ss@h1,h2/db",
                "mongodb://u:(redacted)@h1,h2/db",
            ),
            (
                "Authorization: Bearer CANARY.tok-1",
                "Authorization: Bearer (redacted)",
            ),
            (
                "Authorization: Basic dXNlcjpDQU5BUlk=",
                "Authorization: Basic (redacted)",
            ),
            (
                "https://connect:8083/connectors",
                "https://connect:8083/connectors",
            ),
            ("https://user@host/x", "https://user@host/x"),
            ("uses basic authentication", "uses basic authentication"),
        ];
        for (value, shown) in cases {
            assert_eq!(r.value("c", "header", value), shown, "{value}");
            assert_eq!(
                r.text(&format!("failed: {value}")),
                format!("failed: {shown}")
            );
        }
        assert_eq!(
            r.value("c", "url", "https://h/x?access_token=CANARY"),
            REDACTED
        );
    }

    proptest::proptest! {
        /// The one-pass finder redacts exactly what a scan per secret did.
        #[test]
        fn one_pass_redaction_matches_a_scan_per_secret(
            secrets in proptest::collection::vec("[ab]{1,6}", 0..8),
            text in "[abc]{0,40}",
        ) {
            let r = Redactor::new(secrets, BTreeMap::new());
            let mut scanned = text.clone();
            for secret in &r.secrets {
                scanned = scanned.replace(secret.as_str(), REDACTED);
            }
            proptest::prop_assert_eq!(r.text(&text), scanned);
            let any = r.secrets.iter().any(|s| text.contains(s.as_str()));
            proptest::prop_assert_eq!(r.value("c", "url", &text) == REDACTED, any);
        }
    }
}
