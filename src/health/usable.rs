//! The one rule for "is the last observation good enough to answer from": a poll has
//! completed, it succeeded, and it is no older than `--max-age`. The router answers
//! `/`, `/readyz` and `/connectors/…` by it and `/metrics` derives its gauges by it, so
//! a scrape never reads healthy while `/` answers 503. Pure: the caller passes `now`.

use std::time::Duration;

use thiserror::Error;
use tokio::time::Instant;

use super::Observed;
use crate::{connect::ConnectError, snapshot::Snapshot, verdict::Verdict};

/// Why the last observation cannot be answered from; the text is the `error` of `/`.
#[derive(Debug, Error, PartialEq)]
pub enum Unusable<'a> {
    #[error("no poll of Kafka Connect has completed yet")]
    NoPollYet,
    #[error("{0}")]
    PollFailed(&'a ConnectError),
    #[error(
        "the last snapshot is {} ms old (max {} ms): the poller is stuck",
        age.as_millis(),
        max_age.as_millis()
    )]
    Stale { age: Duration, max_age: Duration },
    #[error("no verdict yet")]
    NoVerdict,
}

/// The last snapshot, if a poll completed, succeeded, and is at most `max_age` old.
pub fn snapshot(
    observed: &Observed,
    max_age: Duration,
    now: Instant,
) -> Result<&Snapshot, Unusable<'_>> {
    let snapshot = match &observed.poll {
        None => return Err(Unusable::NoPollYet),
        Some(Err(failure)) => return Err(Unusable::PollFailed(&failure.error)),
        Some(Ok(snapshot)) => snapshot,
    };
    let age = observed
        .ok_at
        .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
    if age > max_age {
        return Err(Unusable::Stale { age, max_age });
    }
    Ok(snapshot)
}

/// The verdict of the usable snapshot: what `/` answers.
pub fn verdict(
    observed: &Observed,
    max_age: Duration,
    now: Instant,
) -> Result<&Verdict, Unusable<'_>> {
    snapshot(observed, max_age, now)?;
    observed.verdict.as_ref().ok_or(Unusable::NoVerdict)
}

#[cfg(test)]
mod tests {
    use tokio::time::advance;

    use super::*;
    use crate::health::fixtures::{failed, polled, refused};

    const MAX_AGE: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn a_fresh_successful_poll_is_usable_until_max_age_passes() {
        let observed = polled(&[("a", "RUNNING")]);
        advance(MAX_AGE).await;
        assert!(verdict(&observed, MAX_AGE, Instant::now()).is_ok_and(|v| v.healthy));
        advance(Duration::from_millis(1)).await;
        let stale = verdict(&observed, MAX_AGE, Instant::now()).unwrap_err();
        assert_eq!(
            stale.to_string(),
            "the last snapshot is 10001 ms old (max 10000 ms): the poller is stuck"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_polled_or_a_failed_poll_is_unusable_at_any_age() {
        let nothing = Observed::new(Instant::now());
        let err = snapshot(&nothing, MAX_AGE, Instant::now()).unwrap_err();
        assert_eq!(err, Unusable::NoPollYet);
        let failed = failed(polled(&[]), refused());
        assert_eq!(
            verdict(&failed, MAX_AGE, Instant::now()).unwrap_err(),
            Unusable::PollFailed(&refused())
        );
    }
}
