//! A webhook URL, which is a secret: Slack's carry their token in the path, others a
//! `?token=` or a password. Only its host is ever shown: `Debug` and `Display` print
//! `scheme://host:port` and nothing after it, so a URL that reaches a log line, an
//! error or a test failure gives nothing away.

use std::fmt;

/// Why a webhook URL cannot be used; the text never holds the URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a URL ({0}); the value is not shown")]
    Unparsable(String),
    #[error("expected http:// or https://, got {0}:// (the rest is not shown)")]
    Scheme(String),
    #[error("has no host (the rest is not shown)")]
    NoHost,
}

/// A validated `http://` or `https://` webhook URL.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: reqwest::Url,
    /// `scheme://host[:port]`, what logs and errors show.
    host: String,
}

impl WebhookUrl {
    /// Parses and checks `raw` (surrounding whitespace trimmed).
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let url =
            reqwest::Url::parse(raw.trim()).map_err(|e| UrlError::Unparsable(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UrlError::Scheme(url.scheme().to_string()));
        }
        let Some(host) = url.host_str() else {
            return Err(UrlError::NoHost);
        };
        let host = match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        };
        Ok(Self { url, host })
    }

    /// The whole URL, to send to; never log it.
    pub fn secret(&self) -> &reqwest::Url {
        &self.url
    }

    /// `scheme://host[:port]`: safe to show.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether it needs TLS.
    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/…", self.host)
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_is_ever_shown() {
        let raw = "https://hooks.slack.com/services/T0/B0/CANARY?token=CANARY2";
        let url = WebhookUrl::parse(raw).unwrap();
        let shown = format!("{url} {url:?} {}", url.host());
        assert!(
            !shown.contains("CANARY") && !shown.contains("services"),
            "{shown}"
        );
        assert_eq!(url.host(), "https://hooks.slack.com");
        assert_eq!(url.secret().as_str(), raw);
        let local = WebhookUrl::parse(" http://127.0.0.1:9000/hook ").unwrap();
        assert_eq!(
            (local.host(), local.is_https()),
            ("http://127.0.0.1:9000", false)
        );
    }

    #[test]
    fn bad_urls_are_refused_without_showing_them() {
        for (raw, want) in [
            (
                "ftp://files.example/CANARY",
                "expected http:// or https://, got ftp://",
            ),
            ("hooks.slack.com/CANARY", "not a URL"),
            ("http://", "not a URL"),
            ("unix:/run/CANARY.sock", "got unix://"),
        ] {
            let error = WebhookUrl::parse(raw).unwrap_err().to_string();
            assert!(
                error.contains(want) && !error.contains("CANARY"),
                "{raw}: {error}"
            );
        }
    }
}
