//! The two clocks of delivery, without IO: the per-URL rate limit (a sliding window of
//! at most N messages a minute) and the retry schedule (doubling waits from a base,
//! capped, a bounded number of attempts, a receiver's `Retry-After` honoured up to the
//! cap). Callers pass `now`, so both are tested with tokio's paused clock.

use std::{collections::VecDeque, time::Duration};

use tokio::time::Instant;

/// The window of the rate limit.
pub const PERIOD: Duration = Duration::from_secs(60);

/// At most `limit` messages in any [`PERIOD`].
#[derive(Clone, Debug)]
pub struct Window {
    limit: u32,
    /// When the messages of the current window were admitted, oldest first.
    admitted: VecDeque<Instant>,
}

impl Window {
    pub fn new(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            admitted: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        while self
            .admitted
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= PERIOD)
        {
            self.admitted.pop_front();
        }
    }

    /// Admits one message at `now` if the window has room.
    pub fn admit(&mut self, now: Instant) -> bool {
        self.expire(now);
        let room = self.admitted.len() < self.limit as usize;
        if room {
            self.admitted.push_back(now);
        }
        room
    }

    /// When the next message would be admitted (`now` if it would be now).
    pub fn reopens_at(&mut self, now: Instant) -> Instant {
        self.expire(now);
        match self.admitted.len() < self.limit as usize {
            true => now,
            false => self.admitted.front().map_or(now, |oldest| *oldest + PERIOD),
        }
    }
}

/// How often and how patiently one message is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Tries in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the first retry; it doubles each retry.
    pub base: Duration,
    /// The longest wait, also for a receiver's `Retry-After`.
    pub cap: Duration,
}

impl Default for Retry {
    /// 5 tries, waiting 1, 2, 4 and 8 s in between; at most 60 s per wait.
    fn default() -> Self {
        Self {
            attempts: 5,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

impl Retry {
    /// The wait before retry `n` (1 for the first), at least what the receiver asked.
    pub fn delay(&self, n: u32, asked: Option<Duration>) -> Duration {
        let doubling = 2u32.saturating_pow(n.saturating_sub(1));
        let own = self.base.saturating_mul(doubling);
        own.max(asked.unwrap_or_default()).min(self.cap)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn retries_double_from_the_base_up_to_the_cap() {
        let retry = Retry::default();
        let waits: Vec<u64> = (1..=8).map(|n| retry.delay(n, None).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(
            retry.delay(1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            retry.delay(1, Some(Duration::from_secs(3600))),
            retry.cap,
            "capped"
        );
        assert_eq!(retry.delay(u32::MAX, None), retry.cap, "no overflow");
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_admits_n_a_minute_and_says_when_it_reopens() {
        let mut window = Window::new(2);
        let start = Instant::now();
        assert!(window.admit(start) && window.admit(start));
        assert!(!window.admit(start));
        assert_eq!(window.reopens_at(start), start + PERIOD);
        tokio::time::advance(PERIOD).await;
        let later = Instant::now();
        assert_eq!(window.reopens_at(later), later);
        assert!(window.admit(later));
    }

    proptest! {
        /// However messages arrive, no 60 s span admits more than the limit.
        #[test]
        fn no_period_admits_more_than_the_limit(limit in 1u32..5, gaps in proptest::collection::vec(0u64..40_000, 1..60)) {
            let start = Instant::now();
            let mut window = Window::new(limit);
            let mut at = start;
            let mut admitted = Vec::new();
            for gap in gaps {
                at += Duration::from_millis(gap);
                if window.admit(at) {
                    admitted.push(at);
                }
                prop_assert!(window.reopens_at(at) >= at);
            }
            for (i, first) in admitted.iter().enumerate() {
                let within = admitted[i..].iter().filter(|t| **t - *first < PERIOD).count();
                prop_assert!(within <= limit as usize);
            }
        }

        #[test]
        fn waits_never_shrink_and_never_pass_the_cap(base in 1u64..5_000, cap in 1u64..120_000, n in 1u32..40) {
            let retry = Retry { attempts: 5, base: Duration::from_millis(base), cap: Duration::from_millis(cap) };
            prop_assert!(retry.delay(n + 1, None) >= retry.delay(n, None));
            prop_assert!(retry.delay(n, None) <= retry.cap);
        }
    }
}
