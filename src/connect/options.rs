//! How to reach Connect: URL, credentials, extra headers, TLS and the per-call
//! deadline. Its `Debug` never shows a credential (settings and clients are printed
//! with `{:?}` in errors and tests).

use std::time::Duration;

use super::TlsOptions;

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
}
