//! The schedule and ledger, on tokio's paused clock (no real waiting), plus property
//! tests of the invariants: never more than `max_restarts`, never sooner than the
//! schedule allows, held only before escalation.

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime},
};

use proptest::prelude::*;
use regex::Regex;
use tokio::time::{Instant, advance};

use super::*;
use crate::{
    connect::{InstanceStatus, TaskStatus, WorkerHealth},
    verdict::WorkerScope,
};

const MIN: Duration = Duration::from_secs(60);

fn failing(name: &str) -> BTreeMap<String, Failed> {
    let failed = Failed {
        connector: false,
        tasks: vec![0],
        cause: Some("boom".into()),
    };
    BTreeMap::from([(name.to_string(), failed)])
}

/// One poll at the current (paused) time; each restart due finishes at once.
fn restarts_at(ledger: &mut Ledger, policy: &RestartPolicy, failing_now: bool) -> Vec<Restart> {
    let failed = if failing_now {
        failing("c")
    } else {
        BTreeMap::new()
    };
    let due = ledger.step(failed, policy, Instant::now());
    for restart in &due {
        ledger.finished(&restart.connector, "accepted");
    }
    due
}

#[test]
fn default_schedule_is_strimzis() {
    let s = Schedule::default();
    let minutes: Vec<u64> = (0..11).map(|n| s.delay(n).as_secs() / 60).collect();
    assert_eq!(minutes, [0, 2, 6, 12, 20, 30, 42, 56, 60, 60, 60]);
    assert_eq!(s.to_string().parse::<Schedule>().unwrap(), s);
}

#[test]
fn schedules_parse_or_say_why() {
    let s: Schedule = "0s, 500ms,1m".parse().unwrap();
    assert_eq!(
        s.delays(),
        [Duration::ZERO, Duration::from_millis(500), MIN]
    );
    for bad in ["", "soon", "1m,,2m", "5"] {
        let e = bad.parse::<Schedule>().unwrap_err().to_string();
        assert!(
            e.contains("expected comma-separated durations"),
            "{bad}: {e}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn follows_the_schedule_then_stops_at_max_restarts() {
    let policy = RestartPolicy {
        max_restarts: Some(3),
        ..RestartPolicy::default()
    };
    let mut ledger = Ledger::default();
    let first = restarts_at(&mut ledger, &policy, true);
    assert_eq!(first.len(), 1, "the first restart is immediate");
    assert_eq!((first[0].attempt, first[0].next_in), (1, Some(2 * MIN)));
    advance(MIN + Duration::from_secs(59)).await;
    assert!(
        restarts_at(&mut ledger, &policy, true).is_empty(),
        "1m59s < 2m"
    );
    advance(Duration::from_secs(1)).await;
    assert_eq!(restarts_at(&mut ledger, &policy, true)[0].attempt, 2);
    advance(6 * MIN).await;
    let third = restarts_at(&mut ledger, &policy, true);
    assert_eq!((third[0].attempt, third[0].next_in), (3, None));
    advance(24 * 60 * MIN).await;
    assert!(
        restarts_at(&mut ledger, &policy, true).is_empty(),
        "max reached"
    );
    let view = ledger.view(&policy, Instant::now());
    assert_eq!((view[0].phase, view[0].attempts), ("escalated", 3));
    assert_eq!(view[0].next_attempt_in_seconds, None);
}

#[tokio::test(start_paused = true)]
async fn a_healthy_connector_starts_again_after_reset_after() {
    let policy = RestartPolicy::default();
    let mut ledger = Ledger::default();
    restarts_at(&mut ledger, &policy, true);
    advance(2 * MIN).await;
    restarts_at(&mut ledger, &policy, true);
    assert!(restarts_at(&mut ledger, &policy, false).is_empty());
    assert_eq!(ledger.view(&policy, Instant::now())[0].phase, "recovered");
    advance(9 * MIN).await;
    restarts_at(&mut ledger, &policy, false);
    assert_eq!(
        ledger.get("c").map(|r| r.attempts),
        Some(2),
        "not yet reset"
    );
    // Failing again inside the reset period keeps the count (6m since the last: due).
    assert_eq!(restarts_at(&mut ledger, &policy, true)[0].attempt, 3);
    restarts_at(&mut ledger, &policy, false);
    advance(10 * MIN).await;
    restarts_at(&mut ledger, &policy, false);
    assert_eq!(ledger.get("c"), None, "healthy for 10m: forgotten");
    assert_eq!(restarts_at(&mut ledger, &policy, true)[0].attempt, 1);
}

#[tokio::test(start_paused = true)]
async fn failures_are_held_until_the_escalation_point() {
    let policy = RestartPolicy {
        schedule: "0s".parse().unwrap(),
        escalate_after: Some(2),
        ..RestartPolicy::default()
    };
    let mut ledger = Ledger::default();
    let key = Key {
        connector: "c".into(),
        task: Some(0),
    };
    for attempt in 1..=2 {
        assert!(
            ledger.held(&failing("c"), &policy).contains(&key),
            "before restart {attempt}"
        );
        assert_eq!(restarts_at(&mut ledger, &policy, true)[0].attempt, attempt);
        advance(Duration::from_secs(1)).await;
    }
    assert!(
        ledger.held(&failing("c"), &policy).is_empty(),
        "2 restarts did not help"
    );
    assert!(
        ledger
            .held(&failing("c"), &RestartPolicy::default())
            .is_empty(),
        "no escalation flag: never held"
    );
}

#[tokio::test(start_paused = true)]
async fn no_restart_starts_while_an_earlier_one_of_the_connector_is_in_flight() {
    let policy = RestartPolicy {
        schedule: "0s".parse().unwrap(),
        ..RestartPolicy::default()
    };
    let mut ledger = Ledger::default();
    assert_eq!(ledger.step(failing("c"), &policy, Instant::now()).len(), 1);
    for _ in 0..5 {
        advance(Duration::from_secs(1)).await;
        let due = ledger.step(failing("c"), &policy, Instant::now());
        assert!(due.is_empty(), "in flight: {due:?}");
    }
    assert_eq!(
        ledger.get("c").map(|r| (r.attempts, r.in_flight)),
        Some((1, true))
    );
    ledger.finished("c", "timeout");
    let record = ledger.get("c").unwrap();
    assert_eq!(
        (record.in_flight, record.last_outcome.as_deref()),
        (false, Some("timeout"))
    );
    assert_eq!(
        ledger.step(failing("c"), &policy, Instant::now())[0].attempt,
        2
    );
}

#[tokio::test(start_paused = true)]
async fn a_record_whose_restart_is_in_flight_outlives_reset_after() {
    let policy = RestartPolicy::default();
    let mut ledger = Ledger::default();
    ledger.step(failing("c"), &policy, Instant::now());
    ledger.step(BTreeMap::new(), &policy, Instant::now());
    advance(policy.reset_after * 2).await;
    ledger.step(BTreeMap::new(), &policy, Instant::now());
    ledger.finished("c", "accepted");
    assert_eq!(
        ledger.get("c").and_then(|r| r.last_outcome.as_deref()),
        Some("accepted")
    );
    ledger.step(BTreeMap::new(), &policy, Instant::now());
    assert_eq!(
        ledger.get("c"),
        None,
        "finished and healthy long enough: forgotten"
    );
}

fn snapshot(tasks: &[(&str, &str, Option<&str>)]) -> Snapshot {
    let status = ConnectorStatus {
        name: "c".into(),
        connector: InstanceStatus {
            state: "RUNNING".into(),
            worker_id: "w1:8083".into(),
            trace: None,
        },
        tasks: tasks
            .iter()
            .zip(0..)
            .map(|(&(state, worker, trace), id)| TaskStatus {
                id,
                state: state.into(),
                worker_id: worker.into(),
                trace: trace.map(String::from),
            })
            .collect(),
        kind: Some("sink".into()),
    };
    Snapshot {
        taken_at: SystemTime::now(),
        duration: Duration::ZERO,
        connectors: BTreeMap::from([("c".to_string(), Some(status))]),
        facts: Default::default(),
        worker: Ok(WorkerHealth::Healthy),
    }
}

#[test]
fn only_failed_tasks_in_scope_and_matching_the_trace_are_restarted() {
    let s = snapshot(&[
        (
            "FAILED",
            "w1:8083",
            Some("java.net.ConnectException: refused\n\tat x"),
        ),
        (
            "FAILED",
            "w2:8083",
            Some("java.net.ConnectException: refused"),
        ),
        (
            "FAILED",
            "w1:8083",
            Some("org.apache.kafka.connect.errors.DataException: bad record"),
        ),
        ("RUNNING", "w1:8083", None),
    ]);
    let all = failed(&s, &Policy::default(), &RestartPolicy::default());
    assert_eq!(all["c"].tasks, [0, 1, 2]);
    assert_eq!(
        all["c"].cause.as_deref(),
        Some("java.net.ConnectException: refused")
    );
    let mine = Policy {
        worker: WorkerScope::Host("w1".into()),
        ..Policy::default()
    };
    let transient = RestartPolicy {
        trace: Some(Regex::new("ConnectException").unwrap()),
        ..RestartPolicy::default()
    };
    assert_eq!(failed(&s, &mine, &transient)["c"].tasks, [0]);
    let excluded = RestartPolicy {
        exclude: Some(Regex::new("^c$").unwrap()),
        ..RestartPolicy::default()
    };
    assert!(failed(&s, &Policy::default(), &excluded).is_empty());
}

proptest! {
    /// Over any sequence of polls (gap, failing?, the call in flight finishes?),
    /// restarts never exceed the maximum, each comes no sooner than the schedule allows
    /// and never while an earlier one is in flight, and held ⇔ attempts < limit.
    #[test]
    fn restarts_respect_schedule_maximum_and_in_flight(
        polls in prop::collection::vec((0u64..900, any::<bool>(), any::<bool>()), 1..60),
        max in prop::option::of(0u32..6),
        limit in prop::option::of(1u32..5),
    ) {
        let policy = RestartPolicy { max_restarts: max, escalate_after: limit, ..RestartPolicy::default() };
        let start = Instant::now();
        let (mut ledger, mut now, mut made) = (Ledger::default(), start, Vec::<Instant>::new());
        let mut in_flight = false;
        for (gap, is_failing, finishes) in polls {
            now += Duration::from_secs(gap);
            let f = if is_failing { failing("c") } else { BTreeMap::new() };
            let attempts = ledger.get("c").map_or(0, |r| r.attempts);
            let held = !ledger.held(&f, &policy).is_empty();
            let allowed = limit.is_some_and(|l| attempts < l) && max.is_none_or(|m| attempts < m);
            prop_assert_eq!(held, is_failing && allowed);
            for restart in ledger.step(f, &policy, now) {
                prop_assert!(!in_flight, "restarted while in flight");
                in_flight = true;
                if let Some(&last) = made.last() {
                    prop_assert!(now - last >= policy.schedule.delay(restart.attempt - 1));
                }
                made.push(now);
            }
            prop_assert!(max.is_none_or(|m| ledger.get("c").is_none_or(|r| r.attempts <= m)));
            if finishes && in_flight {
                ledger.finished("c", "accepted");
                in_flight = false;
            }
        }
    }
}
