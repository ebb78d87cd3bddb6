//! Delivery on tokio's paused clock against a scripted receiver: retries and their
//! waits, `Retry-After`, answers not worth a retry, the rate limit's held-back
//! message, full queues and shutdown.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use serde_json::Value;
use tokio::{
    sync::{oneshot, watch},
    time::Instant,
};

use super::{
    deliver::{Reply, SendError, Transport},
    notifier::with_transport,
    *,
};
use crate::remediate::{Entry, Failed};

/// Answers from a script (then hangs), recording when each body came.
struct Script {
    replies: Mutex<VecDeque<Result<Reply, SendError>>>,
    seen: watch::Sender<Vec<(Duration, Value)>>,
    start: Instant,
}

impl Script {
    fn new(statuses: &[u16]) -> Arc<Self> {
        let reply = |&status| {
            Ok(Reply {
                status,
                retry_after: None,
            })
        };
        Self::replies(statuses.iter().map(reply).collect())
    }

    fn replies(replies: VecDeque<Result<Reply, SendError>>) -> Arc<Self> {
        Arc::new(Self {
            replies: Mutex::new(replies),
            seen: watch::channel(Vec::new()).0,
            start: Instant::now(),
        })
    }

    /// The first `n` bodies and their times since the start, once they have come.
    async fn seen(&self, n: usize) -> Vec<(Duration, Value)> {
        let mut rx = self.seen.subscribe();
        rx.wait_for(|seen| seen.len() >= n).await.unwrap().clone()
    }
}

impl Transport for Script {
    async fn post(&self, _url: &WebhookUrl, body: Vec<u8>) -> Result<Reply, SendError> {
        let body = serde_json::from_slice(&body).unwrap();
        let at = self.start.elapsed();
        self.seen.send_modify(|seen| seen.push((at, body)));
        let next = self.replies.lock().unwrap().pop_front();
        match next {
            Some(reply) => reply,
            None => std::future::pending().await,
        }
    }
}

fn settings(per_minute: u32) -> NotifySettings {
    let url = WebhookUrl::parse("http://127.0.0.1:9/hook").unwrap();
    let identity = Identity {
        sentinel: "test".into(),
        worker: None,
        connect_url: "http://connect:8083".into(),
    };
    let transport = deliver::Http::new(Duration::from_secs(5), false).unwrap();
    NotifySettings {
        per_minute,
        ..NotifySettings::new(vec![url], identity, transport)
    }
}

fn escalated(name: &str) -> Entry {
    Entry {
        connector: name.into(),
        phase: crate::remediate::Phase::Escalated,
        attempts: 1,
        max_restarts: Some(1),
        attempts_before_escalation: None,
        next_step: None,
        next_attempt_in_seconds: None,
        last_step: None,
        last_outcome: None,
        remedy: Default::default(),
        rule: String::new(),
        failed: Failed::default(),
    }
}

fn event(name: &str) -> Event {
    event::change(None, Some(&escalated(name)), SystemTime::UNIX_EPOCH).unwrap()
}

/// Delivery of `settings` over `script`, running until the returned sender fires.
fn started(
    settings: NotifySettings,
    script: &Arc<Script>,
) -> (Notifier, Counters, oneshot::Sender<()>) {
    let counters = Counters::default();
    let (notifier, delivery) = with_transport(settings, counters.clone(), script.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(delivery.run(async move { drop(stopped.await) }));
    (notifier, counters, stop)
}

fn offsets(seen: &[(Duration, Value)]) -> Vec<u64> {
    seen.iter().map(|(at, _)| at.as_secs()).collect()
}

#[tokio::test(start_paused = true)]
async fn a_refused_message_is_retried_after_the_base_wait() {
    let script = Script::new(&[500, 200]);
    let (notifier, counters, _stop) = started(settings(20), &script);
    notifier.queue(event("a"));
    let seen = script.seen(2).await;
    assert_eq!(offsets(&seen), [0, 1]);
    assert_eq!(seen[0].1, seen[1].1, "the same body again");
    tokio::task::yield_now().await;
    assert_eq!(
        (counters.get(Outcome::Sent), counters.get(Outcome::Retried)),
        (1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn tries_are_bounded_and_waits_double() {
    let script = Script::new(&[503; 6]);
    let (notifier, counters, _stop) = started(settings(20), &script);
    notifier.queue(event("a"));
    assert_eq!(offsets(&script.seen(5).await), [0, 1, 3, 7, 15]);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(script.seen.borrow().len(), 5, "5 tries in all");
    let counts = [Outcome::Failed, Outcome::Retried, Outcome::Sent].map(|o| counters.get(o));
    assert_eq!(counts, [1, 4, 0]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_a_4xx_is_not_retried() {
    let asked = Reply {
        status: 429,
        retry_after: Some(Duration::from_secs(7)),
    };
    let not_found = Reply {
        status: 404,
        retry_after: None,
    };
    let script = Script::replies(
        [
            Ok(asked),
            Ok(Reply {
                status: 204,
                retry_after: None,
            }),
            Ok(not_found),
        ]
        .into(),
    );
    let (notifier, counters, _stop) = started(settings(20), &script);
    notifier.queue(event("a"));
    notifier.queue(event("b"));
    let seen = script.seen(3).await;
    assert_eq!(offsets(&seen), [0, 7, 7]);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(script.seen.borrow().len(), 3, "a 404 is not tried again");
    assert_eq!(
        (counters.get(Outcome::Sent), counters.get(Outcome::Failed)),
        (1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn events_over_the_rate_limit_come_as_one_message_when_it_reopens() {
    let script = Script::new(&[200; 4]);
    let (notifier, counters, _stop) = started(settings(2), &script);
    for name in ["a", "b", "c", "d", "e"] {
        notifier.queue(event(name));
    }
    let seen = script.seen(3).await;
    assert_eq!(offsets(&seen), [0, 0, 60]);
    let held = &seen[2].1;
    assert_eq!(
        (held["kind"].as_str(), held["count"].as_u64()),
        (Some("held_back"), Some(3))
    );
    assert_eq!(held["connectors"], serde_json::json!(["c", "d", "e"]));
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(script.seen.borrow().len(), 3);
    assert_eq!(
        (
            counters.get(Outcome::Sent),
            counters.get(Outcome::RateLimited)
        ),
        (3, 3)
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_drops_instead_of_waiting() {
    let counters = Counters::default();
    let (notifier, _delivery) = with_transport(settings(20), counters.clone(), Script::new(&[]));
    for n in 0..300 {
        notifier.queue(event(&format!("c{n}")));
    }
    assert_eq!(counters.get(Outcome::Dropped), 300 - 256);
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_a_hung_call_and_counts_what_was_queued() {
    let script = Script::new(&[]);
    let (notifier, counters, stop) = started(settings(20), &script);
    for name in ["a", "b", "c"] {
        notifier.queue(event(name));
    }
    script.seen(1).await;
    tokio::task::yield_now().await;
    stop.send(()).unwrap();
    let dropped = async {
        while counters.get(Outcome::Dropped) == 0 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(1), dropped)
        .await
        .unwrap();
    assert_eq!(
        counters.get(Outcome::Dropped),
        2,
        "the hung one is cancelled, two were queued"
    );
}

#[tokio::test(start_paused = true)]
async fn the_notifier_sends_one_message_per_transition() {
    let script = Script::new(&[200; 4]);
    let (mut notifier, _counters, _stop) = started(settings(20), &script);
    let remediating = Entry {
        phase: crate::remediate::Phase::Remediating,
        ..escalated("a")
    };
    let recovered = Entry {
        phase: crate::remediate::Phase::Recovered,
        ..escalated("a")
    };
    for view in [
        vec![remediating],
        vec![escalated("a")],
        vec![escalated("a")],
        vec![recovered.clone()],
        vec![recovered],
        vec![],
    ] {
        notifier.observe(&view);
    }
    let seen = script.seen(2).await;
    let kinds: Vec<_> = seen.iter().map(|(_, b)| b["kind"].clone()).collect();
    assert_eq!(kinds, ["escalation", "recovery"]);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(script.seen.borrow().len(), 2);
}
