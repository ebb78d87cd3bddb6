//! Our own credentials cut out of everything Connect answers. A worker (or a proxy in
//! front of it) may echo the `Authorization` header, the basic-auth password or a
//! bearer token in an error body or a connector's trace; those bodies end up in
//! `/`, `/readyz`, logs and `status`. Every answer is checked once, as bytes, before it
//! is parsed; only an answer that holds a credential is rewritten: inside JSON strings
//! when it is JSON (so it still parses), as text otherwise.

use std::borrow::Cow;

use base64::Engine;
use bytes::Bytes;
use serde_json::Value;

use super::ClientOptions;

/// What a cut credential reads as.
const REDACTED: &str = "(redacted)";

/// Credentials shorter than this are not cut (they would mangle ordinary words).
const MIN_LEN: usize = 4;

/// Header names whose values are credentials.
fn secret_header(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie"
    ) || ["key", "token", "secret", "password", "auth"]
        .iter()
        .any(|part| name.contains(part))
}

/// The client's own credentials, as they may come back.
#[derive(Clone, Default)]
pub struct Scrubber {
    /// Matches any credential, raw or as JSON escapes it (over bytes).
    bytes: Option<regex::bytes::Regex>,
    /// Matches any credential in parsed text.
    text: Option<regex::Regex>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let armed = if self.text.is_some() { "on" } else { "off" };
        write!(f, "Scrubber({armed})")
    }
}

impl Scrubber {
    /// The basic-auth password, its `user:password` header value (base64), the bearer
    /// token and the values of credential headers (`Authorization`, `X-Api-Key`, …).
    pub fn new(options: &ClientOptions) -> Self {
        let mut secrets: Vec<String> = Vec::new();
        if let Some((user, password)) = &options.basic_auth {
            let pair = format!("{user}:{password}");
            secrets.push(base64::engine::general_purpose::STANDARD.encode(&pair));
            secrets.extend([pair, password.clone()]);
        }
        secrets.extend(options.bearer_token.clone());
        let headers = options.headers.iter().filter(|(n, _)| secret_header(n));
        secrets.extend(headers.map(|(_, v)| v.trim().to_string()));
        Self::of(secrets)
    }

    fn of(mut secrets: Vec<String>) -> Self {
        secrets.retain(|s| s.len() >= MIN_LEN);
        // Longest first, so a credential containing another is cut whole.
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        secrets.dedup();
        if secrets.is_empty() {
            return Self::default();
        }
        let mut forms: Vec<String> = secrets.iter().map(|s| regex::escape(s)).collect();
        let text = forms.join("|");
        forms.extend(secrets.iter().map(|s| regex::escape(&json_escaped(s))));
        Self {
            bytes: regex::bytes::Regex::new(&forms.join("|")).ok(),
            text: regex::Regex::new(&text).ok(),
        }
    }

    /// `body` with every credential cut; the same bytes when it holds none.
    pub fn body(&self, body: Bytes) -> Bytes {
        match &self.bytes {
            Some(found) if found.is_match(&body) => self.rewrite(&body),
            _ => body,
        }
    }

    fn rewrite(&self, body: &[u8]) -> Bytes {
        if let Ok(mut json) = serde_json::from_slice::<Value>(body) {
            self.walk(&mut json);
            return serde_json::to_vec(&json).unwrap_or_default().into();
        }
        let text = String::from_utf8_lossy(body);
        Bytes::from(self.text(&text).into_owned())
    }

    fn walk(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Cow::Owned(cut) = self.text(s) {
                    *s = cut;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.walk(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.walk(v)),
            _ => {}
        }
    }

    /// `text` with every credential cut.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.text {
            Some(found) => found.replace_all(text, REDACTED),
            None => Cow::Borrowed(text),
        }
    }
}

/// How `secret` reads inside a JSON string (quotes, backslashes, controls escaped).
fn json_escaped(secret: &str) -> String {
    let quoted = Value::from(secret).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        let options = ClientOptions {
            basic_auth: Some(("admin".into(), "CANARY\"pw".into())),
            bearer_token: Some("CANARY-token".into()),
            headers: vec![
                ("X-Api-Key".into(), "CANARY-key".into()),
                ("X-Team".into(), "payments".into()),
            ],
            ..ClientOptions::new("http://connect:8083")
        };
        Scrubber::new(&options)
    }

    #[test]
    fn json_bodies_stay_json_and_lose_every_credential() {
        let header = base64::engine::general_purpose::STANDARD.encode("admin:CANARY\"pw");
        let body = serde_json::json!({"message": format!("bad CANARY\"pw, Basic {header}"),
            "trace": "token CANARY-token key CANARY-key team payments", "id": 3});
        let cut = scrubber().body(serde_json::to_vec(&body).unwrap().into());
        let cut: Value = serde_json::from_slice(&cut).expect("still JSON");
        let text = cut.to_string();
        assert!(
            !text.contains("CANARY") && !text.contains(&header),
            "{text}"
        );
        assert!(text.contains("team payments") && cut["id"] == 3, "{text}");
    }

    #[test]
    fn text_bodies_are_cut_and_clean_ones_untouched() {
        let s = scrubber();
        let html = Bytes::from_static(b"<h1>401</h1> Authorization: Bearer CANARY-token");
        assert_eq!(
            &s.body(html)[..],
            b"<h1>401</h1> Authorization: Bearer (redacted)"
        );
        let clean = Bytes::from_static(b"{\"a\": \"b\"}");
        assert_eq!(s.body(clean.clone()), clean);
        let none = Scrubber::new(&ClientOptions::new("http://c:8083"));
        assert_eq!(none.text("pw"), "pw");
    }
}
