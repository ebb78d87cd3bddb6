//! How to reach Connect: URL, credentials, extra headers, TLS and the per-call
//! deadline, and their checks (no credentials in the URL, valid headers). Its `Debug`
//! never shows a credential (settings and clients are printed with `{:?}` in errors
//! and tests).

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::{ConnectError, TlsOptions};

/// How to reach Connect. (`Debug` shows no credential: the password, the token and
/// header values print as `(redacted)`.)
#[derive(Clone)]
pub struct ClientOptions {
    /// Base URL, e.g. `http://localhost:8083` (credentials in it are refused).
    pub url: String,
    /// `user:password` split at the first colon.
    pub basic_auth: Option<(String, String)>,
    pub bearer_token: Option<String>,
    /// Extra headers sent on every call.
    pub headers: Vec<(String, String)>,
    pub tls: TlsOptions,
    /// Per-call deadline.
    pub timeout: Duration,
}

impl ClientOptions {
    /// Plain HTTP to `url` with a 500 ms per-call timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            basic_auth: None,
            bearer_token: None,
            headers: vec![],
            tls: TlsOptions::default(),
            timeout: Duration::from_millis(500),
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = format_args!("(redacted)");
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "(redacted)"))
            .collect();
        f.debug_struct("ClientOptions")
            .field("url", &self.url)
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|(u, _)| (u, hidden)),
            )
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| hidden))
            .field("headers", &headers)
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .finish()
    }
}

pub(super) fn validate_url(url: &str) -> Result<String, ConnectError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        ConnectError::Settings(format!(
            "invalid Connect URL {:?}: {e}",
            without_userinfo(url)
        ))
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ConnectError::Settings(
            "the Connect URL must not hold credentials; use --basic-auth".into(),
        ));
    }
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ConnectError::Settings(format!(
            "invalid Connect URL {url:?}: expected http:// or https://"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Whether a validated URL's scheme is `https` (schemes are case-insensitive).
pub(super) fn is_https(url: &str) -> bool {
    url.get(..6)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https:"))
}

/// `url` with anything between `//` and `@` masked: an unparsable URL may still hold
/// credentials, and error messages must not.
fn without_userinfo(url: &str) -> String {
    match (url.find("//"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => format!("{}***{}", &url[..start + 2], &url[at..]),
        _ => url.to_string(),
    }
}

pub(super) fn extra_headers(headers: &[(String, String)]) -> Result<HeaderMap, ConnectError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let bad = |what: &str| ConnectError::Settings(format!("invalid header {what} in {name:?}"));
        let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| bad("name"))?;
        let mut value =
            reqwest::header::HeaderValue::from_str(value.trim()).map_err(|_| bad("value"))?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::ConnectClient;

    #[test]
    fn debug_shows_no_credential() {
        let options = ClientOptions {
            basic_auth: Some(("admin".into(), "CANARY-pw".into())),
            bearer_token: Some("CANARY-token".into()),
            headers: vec![("X-Api-Key".into(), "CANARY-key".into())],
            ..ClientOptions::new("http://connect:8083")
        };
        let client = ConnectClient::new(options.clone()).unwrap();
        let shown = format!(
            "{options:?} {client:?} {:?}",
            client.patient(Duration::ZERO)
        );
        assert!(!shown.contains("CANARY"), "{shown}");
        assert!(
            shown.contains("admin") && shown.contains("X-Api-Key"),
            "{shown}"
        );
    }

    #[test]
    fn only_https_urls_load_a_trust_store() {
        assert!(is_https("https://connect:8443"));
        assert!(
            is_https("HTTPS://connect:8443"),
            "schemes are case-insensitive"
        );
        assert!(!is_https("http://connect:8083"));
        assert!(!is_https("http:"));
    }
}
