//! The scrape-time gauges read what `/` answers: fresh, stale, failed, not yet polled.

use proptest::prelude::*;
use tokio::time::advance;

use super::*;
use crate::health::fixtures::{failed, polled, refused};

const MAX_AGE: Duration = Duration::from_secs(10);

fn now_gauges(observed: &Observed) -> Gauges {
    gauges(observed, MAX_AGE, Instant::now())
}

#[tokio::test(start_paused = true)]
async fn a_stale_snapshot_reads_down_and_unhealthy_as_root_answers_503() {
    let observed = polled(&[("a", "RUNNING")]);
    let fresh = now_gauges(&observed);
    assert_eq!((fresh.connect_up, fresh.healthy), (1, 1));
    advance(MAX_AGE + Duration::from_millis(1)).await;
    let stale = now_gauges(&observed);
    assert_eq!(
        (stale.connect_up, stale.healthy, stale.failure_rate),
        (0, 0, 0.0)
    );
}

#[tokio::test(start_paused = true)]
async fn no_poll_yet_or_a_failed_poll_reads_down_and_unhealthy() {
    let zero = (0, 0, 0.0);
    let nothing = now_gauges(&Observed::new(Instant::now()));
    assert_eq!(
        (nothing.connect_up, nothing.healthy, nothing.failure_rate),
        zero
    );
    let down = now_gauges(&failed(polled(&[("a", "FAILED")]), refused()));
    assert_eq!((down.connect_up, down.healthy, down.failure_rate), zero);
    let failing = now_gauges(&polled(&[("a", "FAILED"), ("b", "RUNNING")]));
    assert_eq!(
        (failing.connect_up, failing.healthy, failing.failure_rate),
        (1, 0, 0.5)
    );
}

#[tokio::test(start_paused = true)]
async fn a_stale_scrape_has_no_state_series() {
    let (_tx, rx) = watch::channel(Arc::new(polled(&[("a", "RUNNING")])));
    let metrics = crate::health::metrics::HealthMetrics::new(rx, MAX_AGE);
    let fresh = metrics.encode();
    assert!(fresh.contains("connect_sentinel_healthy 1"), "{fresh}");
    assert!(
        fresh.contains(
            r#"connect_sentinel_connector_state{connector="a",state="RUNNING",worker="w:8083"} 1"#
        ),
        "{fresh}"
    );
    advance(MAX_AGE * 2).await;
    let stale = metrics.encode();
    assert!(stale.contains("connect_sentinel_healthy 0"), "{stale}");
    assert!(stale.contains("connect_sentinel_connect_up 0"), "{stale}");
    assert!(!stale.contains("connector_state{"), "{stale}");
}

proptest! {
    /// At any age, `healthy` is 1 exactly when the usable rule yields a healthy verdict.
    #[test]
    fn healthy_reads_what_the_usable_rule_answers(age_ms in 0u64..20_000, failing in any::<bool>()) {
        let state = if failing { "FAILED" } else { "RUNNING" };
        let observed = polled(&[("a", state)]);
        let at = observed.ok_at.unwrap() + Duration::from_millis(age_ms);
        let answer = usable::verdict(&observed, MAX_AGE, at).is_ok_and(|v| v.healthy);
        prop_assert_eq!(gauges(&observed, MAX_AGE, at).healthy == 1, answer);
        prop_assert_eq!(answer, !failing && age_ms <= 10_000);
    }
}
