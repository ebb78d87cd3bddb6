//! Coming back later when Connect asks: a 409 during a rebalance (spec §18), or a 500
//! that reads `Request timed out` or `a rebalance is expected` (spec §20.1), retried
//! with doubling, capped, jittered waits. One mechanism for every write, restart and
//! read: writes stop after a number of retries, reads (safe to repeat) also go on
//! until a deadline, so a long rebalance on a real cluster is waited out.

use std::{future::Future, time::Duration};

use tokio::time::Instant;

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

/// The shortest first wait once only the deadline keeps a read going, so a
/// `--retry-backoff 0s` never spins.
const MIN_DEADLINE_BASE: Duration = Duration::from_millis(1);

/// Calls `f` until it succeeds, fails for good, or the retries are spent.
pub async fn retry<T, F, Fut>(backoff: Backoff, f: F) -> Result<T, ConnectError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ConnectError>>,
{
    retry_until(backoff, None, f).await
}

/// [`retry`], and once the retries are spent, on until `until`: every wait doubles
/// (at most [`MAX_BACKOFF`]) and none goes past `until`. For reads.
pub async fn retry_until<T, F, Fut>(
    backoff: Backoff,
    until: Option<Instant>,
    mut f: F,
) -> Result<T, ConnectError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ConnectError>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if retryable(&e) => match next_wait(backoff, attempt, until) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(e),
            },
            other => return other,
        }
        attempt += 1;
    }
}

/// The wait before retry `attempt + 1`, or `None` when the retries are spent and the
/// deadline (if any) has passed.
fn next_wait(backoff: Backoff, attempt: u32, until: Option<Instant>) -> Option<Duration> {
    if attempt < backoff.retries {
        return Some(delay(backoff.base, attempt));
    }
    let left = until?.checked_duration_since(Instant::now())?;
    let wait = delay(backoff.base.max(MIN_DEADLINE_BASE), attempt);
    (!left.is_zero()).then(|| wait.min(left))
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

    /// A 409 that asks to come back later.
    fn rebalancing() -> ConnectError {
        ConnectError::Conflict {
            call: "PUT x".into(),
            message: "Cannot complete request momentarily due to stale configuration".into(),
        }
    }

    /// The instants of every call of a `retry` whose calls all fail with `error()`,
    /// and what it returned; in paused time, so the sleeps cost nothing.
    async fn calls(backoff: Backoff, error: fn() -> ConnectError) -> (Vec<Instant>, bool) {
        let mut at = Vec::new();
        let result: Result<(), _> = retry(backoff, || {
            at.push(Instant::now());
            async move { Err(error()) }
        })
        .await;
        (at, result.is_err())
    }

    /// Waits as documented: 1 s doubling, capped at 10 s, each in the upper half of
    /// its nominal value (the jitter), never more.
    #[tokio::test(start_paused = true)]
    async fn waits_double_up_to_the_cap_with_jitter_in_the_upper_half() {
        let nominal_ms = [1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000];
        let backoff = Backoff {
            retries: 7,
            base: Duration::from_secs(1),
        };
        let (at, failed) = calls(backoff, rebalancing).await;
        assert!(failed, "the last error is returned");
        assert_eq!(at.len(), 8, "the first call and 7 retries");
        for (gap, nominal) in at.windows(2).map(|w| w[1] - w[0]).zip(nominal_ms) {
            let nominal = Duration::from_millis(nominal);
            let most = nominal + Duration::from_millis(1); // the timer's millisecond tick
            assert!(gap >= nominal / 2 && gap <= most, "{gap:?} for {nominal:?}");
        }
    }

    /// A read keeps retrying past its retry count until the deadline, and never waits
    /// past it; without a deadline the count ends it.
    #[tokio::test(start_paused = true)]
    async fn reads_go_on_until_the_deadline() {
        let backoff = Backoff {
            retries: 2,
            base: Duration::from_millis(1),
        };
        let start = Instant::now();
        let until = start + Duration::from_secs(30);
        let mut at = Vec::new();
        let result: Result<(), _> = retry_until(backoff, Some(until), || {
            at.push(Instant::now());
            async { Err(rebalancing()) }
        })
        .await;
        assert!(result.is_err(), "the last rebalance answer is returned");
        assert!(at.len() > 3, "more than the 2 retries: {}", at.len());
        assert_eq!(
            *at.last().unwrap(),
            until,
            "the last call is at the deadline"
        );
        let gaps = at.windows(2).map(|w| w[1] - w[0]);
        assert!(
            gaps.clone()
                .all(|g| g <= MAX_BACKOFF + Duration::from_millis(1))
        );
        let (at, _) = calls(backoff, rebalancing).await;
        assert_eq!(at.len(), 3, "no deadline: the first call and 2 retries");
    }

    /// An answer that is not Connect asking us to come back is returned at once.
    #[tokio::test(start_paused = true)]
    async fn a_final_answer_is_not_retried() {
        let invalid = || ConnectError::Status {
            call: "PUT x".into(),
            status: 400,
            message: "Connector configuration is invalid".into(),
        };
        let backoff = Backoff {
            retries: 5,
            base: Duration::from_secs(1),
        };
        let (at, failed) = calls(backoff, invalid).await;
        assert!(failed);
        assert_eq!(at.len(), 1);
    }

    /// A call that succeeds after two rebalance answers returns its value.
    #[tokio::test(start_paused = true)]
    async fn success_after_retries_is_returned() {
        let mut left = 2;
        let backoff = Backoff {
            retries: 5,
            base: Duration::from_millis(100),
        };
        let got = retry(backoff, || {
            left -= 1;
            let answer = if left < 0 { Ok(7) } else { Err(rebalancing()) };
            async move { answer }
        })
        .await;
        assert_eq!((got.unwrap(), left), (7, -1));
    }

    /// The jitter spreads over the whole upper half, so callers do not come back at once.
    #[test]
    fn jitter_spreads_over_the_upper_half() {
        let waits: Vec<u128> = (0..200)
            .map(|_| delay(Duration::from_secs(4), 0).as_millis())
            .collect();
        let (low, high) = (waits.iter().min().unwrap(), waits.iter().max().unwrap());
        assert!(*low >= 2_000 && *low < 2_400, "lowest {low} ms");
        assert!(*high <= 4_000 && *high > 3_600, "highest {high} ms");
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
