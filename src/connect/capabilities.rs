//! What a Connect worker can do, learned from its answers once and kept in the client:
//! whether it has `GET /health` (3.9+) and which version it runs (`initial_state`
//! needs 3.7+, spec §19).

use std::{
    future::Future,
    sync::atomic::{AtomicBool, Ordering},
};

use tokio::sync::OnceCell;

use super::ConnectError;

/// The answers worth remembering, shared by a client and its clones.
#[derive(Debug, Default)]
pub struct Learned {
    /// Set once `GET /health` answered 404 (a worker before 3.9).
    no_health: AtomicBool,
    /// The version `GET /` reported, once asked.
    version: OnceCell<String>,
}

impl Learned {
    pub fn no_health_endpoint(&self) -> bool {
        self.no_health.load(Ordering::Relaxed)
    }

    pub fn set_no_health_endpoint(&self) {
        self.no_health.store(true, Ordering::Relaxed);
    }

    /// The remembered version, or `ask`'s answer (remembered only when it succeeds).
    pub async fn version<F>(&self, ask: impl FnOnce() -> F) -> Result<&str, ConnectError>
    where
        F: Future<Output = Result<String, ConnectError>>,
    {
        self.version.get_or_try_init(ask).await.map(String::as_str)
    }
}

/// Whether `POST /connectors` takes `initial_state` (Kafka 3.7+, spec §19). Confluent
/// Platform reports its own numbering (`7.7.1-ccs` is Kafka 3.7; 8.x is Kafka 4.x).
pub fn supports_initial_state(version: &str) -> bool {
    let mut parts = version.split(['.', '-']);
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let confluent = version.contains("-c");
    let (major, minor) = match (confluent, major) {
        (true, 7) => (3, minor),
        (true, m) if m >= 8 => (m - 4, minor),
        _ => (major, minor),
    };
    (major, minor) >= (3, 7)
}

#[cfg(test)]
mod tests {
    use super::supports_initial_state;

    #[test]
    fn initial_state_needs_kafka_3_7() {
        for (version, yes) in [
            ("3.9.0", true),
            ("3.7.0", true),
            ("3.6.2", false),
            ("2.8.1", false),
            ("4.0.0", true),
            ("7.7.1-ccs", true),
            ("7.6.0-ce", false),
            ("8.0.0-ccs", true),
            ("unknown", false),
        ] {
            assert_eq!(supports_initial_state(version), yes, "{version}");
        }
    }
}
