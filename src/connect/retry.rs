//! Coming back later when Connect asks: a 409 during a rebalance (spec §18), or a 500
//! that reads `Request timed out` or `a rebalance is expected` (spec §20.1), retried
//! with doubling, capped, jittered waits. One mechanism for every write and restart.

use std::{future::Future, time::Duration};

use super::ConnectError;

/// The longest wait between two retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Retries after the first call.
    pub retries: u32,
    /// The first wait; it doubles each retry, at most [`MAX_BACKOFF`].
    pub base: Duration,
}

/// Whether Connect asked us to come back later.
pub fn retryable(error: &ConnectError) -> bool {
    match error {
        ConnectError::Conflict { message, .. } => !message.contains("already exists"),
        ConnectError::Status {
            status: 500,
            message,
            ..
        } => message.starts_with("Request timed out") || message.contains("rebalance is expected"),
        _ => false,
    }
}

/// Calls `f` until it succeeds, fails for good, or the retries are spent.
pub async fn retry<T, F, Fut>(backoff: Backoff, mut f: F) -> Result<T, ConnectError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ConnectError>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if retryable(&e) && attempt < backoff.retries => {
                tokio::time::sleep(delay(backoff.base, attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// `base × 2^attempt`, capped, with jitter in its upper half so that many callers
/// retrying after one rebalance do not all come back at once.
pub fn delay(base: Duration, attempt: u32) -> Duration {
    let full = base.saturating_mul(1 << attempt.min(16)).min(MAX_BACKOFF);
    let half = full / 2;
    half + half.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_millis(200);
        for attempt in 0..20 {
            let full = base.saturating_mul(1 << attempt.min(16)).min(MAX_BACKOFF);
            let got = delay(base, attempt);
            assert!(got >= full / 2 && got <= full, "{attempt}: {got:?}");
        }
    }

    #[test]
    fn only_rebalance_answers_are_retried() {
        let conflict = |message: &str| ConnectError::Conflict {
            call: "PUT x".into(),
            message: message.into(),
        };
        let status = |status, message: &str| ConnectError::Status {
            call: "PUT x".into(),
            status,
            message: message.into(),
        };
        assert!(retryable(&conflict(
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
        )));
        assert!(!retryable(&conflict("Connector a already exists")));
        assert!(retryable(&status(
            500,
            "Request cannot be completed because a rebalance is expected"
        )));
        assert!(retryable(&status(500, "Request timed out")));
        assert!(!retryable(&status(500, "Failed to find any class")));
        assert!(!retryable(&status(
            400,
            "Connector configuration is invalid"
        )));
    }
}
