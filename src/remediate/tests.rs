//! The ledger on tokio's paused clock (no real waiting), step by step up the ladder,
//! plus property tests of its invariants: never two actions in flight per connector,
//! never more than the caps, never a restart of a non-restartable failure, held only
//! before escalation.

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

fn classified(remedy: Remedy) -> Classified {
    Classified {
        remedy,
        rule: "test".into(),
        cause: "boom".into(),
    }
}

fn failing_as(name: &str, remedy: Remedy) -> BTreeMap<String, Failed> {
    let failed = Failed {
        connector: false,
        tasks: vec![0],
        cause: Some("boom".into()),
        class: classified(remedy),
        in_scope: InScope {
            connector: true,
            tasks: vec![0, 1],
        },
    };
    BTreeMap::from([(name.to_string(), failed)])
}

fn failing(name: &str) -> BTreeMap<String, Failed> {
    failing_as(name, Remedy::Restart)
}

/// One poll at the current (paused) time; each action due finishes at once.
fn poll(ledger: &mut Ledger, policies: &Policies, failing_now: bool) -> Decided {
    let failed = if failing_now {
        failing("c")
    } else {
        BTreeMap::new()
    };
    let decided = ledger.step(failed, policies, Instant::now());
    for action in &decided.due {
        ledger.finished(&action.connector, "accepted");
    }
    decided
}

fn uniform(policy: RestartPolicy) -> Policies {
    Policies::uniform(policy)
}

fn phase(ledger: &Ledger, policies: &Policies) -> Phase {
    ledger.view(policies, Instant::now())[0].phase
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

/// tasks ×3, connector ×2 on a 0s,1s schedule: each rung when due and not before,
/// then (after the last wait) one escalation, then nothing more.
#[tokio::test(start_paused = true)]
async fn the_ladder_is_climbed_step_by_step_then_escalates_once() {
    let policies = uniform(RestartPolicy {
        schedule: "0s,1s".parse().unwrap(),
        ..RestartPolicy::default()
    });
    let mut ledger = Ledger::default();
    let mut steps = Vec::new();
    let first = poll(&mut ledger, &policies, true);
    assert_eq!(first.due.len(), 1, "the first action is immediate");
    steps.push((first.due[0].step, first.due[0].attempt_of_step));
    assert_eq!(phase(&ledger, &policies), Phase::Remediating);
    for _ in 0..4 {
        advance(Duration::from_millis(999)).await;
        assert!(
            poll(&mut ledger, &policies, true).due.is_empty(),
            "999ms < 1s"
        );
        advance(Duration::from_millis(1)).await;
        let d = poll(&mut ledger, &policies, true);
        assert!(d.events.is_empty(), "{d:?}");
        steps.push((d.due[0].step, d.due[0].attempt_of_step));
    }
    use StepKind::{RestartConnector as C, RestartTasks as T};
    assert_eq!(steps, [(T, 1), (T, 2), (T, 3), (C, 1), (C, 2)]);
    let view = &ledger.view(&policies, Instant::now())[0];
    assert_eq!(view.next_step, Some("escalate"));
    advance(Duration::from_secs(1)).await;
    let escalation = poll(&mut ledger, &policies, true);
    assert!(escalation.due.is_empty());
    let steps: Vec<_> = escalation
        .events
        .iter()
        .map(|e| (e.step, e.attempt))
        .collect();
    assert_eq!(steps, [("escalate", 5)]);
    assert_eq!(phase(&ledger, &policies), Phase::Persistent);
    for _ in 0..3 {
        advance(Duration::from_secs(3600)).await;
        let d = poll(&mut ledger, &policies, true);
        assert!(d.due.is_empty() && d.events.is_empty(), "{d:?}");
    }
    assert!(ledger.held(&failing("c"), &policies).is_empty());
}

#[tokio::test(start_paused = true)]
async fn max_restarts_caps_the_ladder_and_a_step_may_have_its_own_wait() {
    let policies = uniform(RestartPolicy {
        ladder: "tasks=1,connector=5/10m".parse().unwrap(),
        max_restarts: Some(2),
        ..RestartPolicy::default()
    });
    let mut ledger = Ledger::default();
    assert_eq!(poll(&mut ledger, &policies, true).due[0].next_in, 10 * MIN);
    advance(10 * MIN - Duration::from_secs(1)).await;
    assert!(poll(&mut ledger, &policies, true).due.is_empty());
    advance(Duration::from_secs(1)).await;
    let second = poll(&mut ledger, &policies, true);
    assert_eq!(second.due[0].step, StepKind::RestartConnector);
    let before_escalating = second.due[0].next_in;
    assert_eq!(
        before_escalating,
        6 * MIN,
        "capped: the schedule's third wait"
    );
    advance(before_escalating).await;
    assert_eq!(
        poll(&mut ledger, &policies, true).events[0].step,
        "escalate"
    );
    assert_eq!(ledger.get("c").unwrap().attempts, 2);
}

/// Right after a restart the instances show RESTARTING: that is neither a failure nor
/// a recovery, so the phase stays, and the escalation is not recorded again.
#[tokio::test(start_paused = true)]
async fn a_settling_connector_neither_fails_nor_recovers() {
    let policies = uniform(RestartPolicy {
        schedule: "0s".parse().unwrap(),
        escalate_after: Some(1),
        ..RestartPolicy::default()
    });
    let mut ledger = Ledger::default();
    let first = poll(&mut ledger, &policies, true);
    assert_eq!((first.due.len(), first.events[0].step), (1, "escalate"));
    let settling = Seen {
        failed: BTreeMap::new(),
        settling: ["c".to_string()].into(),
    };
    assert_eq!(
        ledger.step(settling, &policies, Instant::now()),
        Decided::default()
    );
    assert_eq!(phase(&ledger, &policies), Phase::Escalated);
    let again = poll(&mut ledger, &policies, true);
    assert_eq!((again.due.len(), again.events.len()), (1, 0), "{again:?}");
}

#[tokio::test(start_paused = true)]
async fn a_healthy_connector_starts_again_after_reset_after() {
    let policies = uniform(RestartPolicy::default());
    let mut ledger = Ledger::default();
    poll(&mut ledger, &policies, true);
    advance(2 * MIN).await;
    poll(&mut ledger, &policies, true);
    assert!(poll(&mut ledger, &policies, false).due.is_empty());
    assert_eq!(phase(&ledger, &policies), Phase::Recovered);
    advance(9 * MIN).await;
    poll(&mut ledger, &policies, false);
    assert_eq!(
        ledger.get("c").map(|r| r.attempts),
        Some(2),
        "not yet reset"
    );
    // Failing again inside the reset period keeps the count (6m since the last: due).
    assert_eq!(poll(&mut ledger, &policies, true).due[0].attempt, 3);
    poll(&mut ledger, &policies, false);
    advance(10 * MIN).await;
    poll(&mut ledger, &policies, false);
    assert_eq!(ledger.get("c"), None, "healthy for 10m: forgotten");
    assert_eq!(poll(&mut ledger, &policies, true).due[0].attempt, 1);
}

#[tokio::test(start_paused = true)]
async fn failures_are_held_until_the_escalation_point() {
    let policies = uniform(RestartPolicy {
        schedule: "0s".parse().unwrap(),
        escalate_after: Some(2),
        ..RestartPolicy::default()
    });
    let mut ledger = Ledger::default();
    let key = Key::new("c", Some(0));
    for attempt in 1..=2 {
        assert!(
            ledger.held(&failing("c"), &policies).contains(&key),
            "before action {attempt}"
        );
        let d = poll(&mut ledger, &policies, true);
        assert_eq!(d.due[0].attempt, attempt);
        advance(Duration::from_secs(1)).await;
    }
    assert!(
        ledger.held(&failing("c"), &policies).is_empty(),
        "2 actions did not help"
    );
    assert_eq!(phase(&ledger, &policies), Phase::Escalated);
    let d = poll(&mut ledger, &policies, true);
    assert_eq!(
        d.due[0].attempt, 3,
        "the ladder goes on past the escalation point"
    );
    let default = uniform(RestartPolicy::default());
    assert!(
        ledger.held(&failing("c"), &default).is_empty(),
        "no escalation point: never held"
    );
}

/// A non-restartable failure: one classification, one escalation, no action, counted.
#[tokio::test(start_paused = true)]
async fn a_non_restartable_failure_is_escalated_without_a_restart() {
    let policies = uniform(RestartPolicy {
        escalate_after: Some(3),
        ..RestartPolicy::default()
    });
    let mut ledger = Ledger::default();
    let auth = || failing_as("c", Remedy::Escalate);
    assert!(ledger.held(&auth(), &policies).is_empty(), "counts at once");
    let d = ledger.step(auth(), &policies, Instant::now());
    assert!(d.due.is_empty());
    let events: Vec<_> = d
        .events
        .iter()
        .map(|e| (e.step, e.outcome.as_str()))
        .collect();
    assert_eq!(
        events,
        [
            ("classify", "non-restartable (test)"),
            ("escalate", "escalated")
        ]
    );
    assert_eq!(d.events[0].cause, "boom");
    advance(24 * 60 * MIN).await;
    let again = ledger.step(auth(), &policies, Instant::now());
    assert_eq!(again, Decided::default(), "recorded once");
    assert_eq!(phase(&ledger, &policies), Phase::Persistent);
}

#[tokio::test(start_paused = true)]
async fn an_ignored_failure_is_never_restarted_nor_escalated_but_listed() {
    let policies = uniform(RestartPolicy::default());
    let mut ledger = Ledger::default();
    let ignored = || failing_as("c", Remedy::Ignore);
    for _ in 0..5 {
        assert!(
            ledger
                .held(&ignored(), &policies)
                .contains(&Key::new("c", Some(0)))
        );
        let d = ledger.step(ignored(), &policies, Instant::now());
        assert!(d.due.is_empty() && d.events.iter().all(|e| e.step == "classify"));
        advance(60 * MIN).await;
    }
    assert_eq!(phase(&ledger, &policies), Phase::Ignored);
}

#[tokio::test(start_paused = true)]
async fn each_connector_gets_its_own_policy() {
    let own = RestartPolicy {
        ladder: "connector=1".parse().unwrap(),
        ..RestartPolicy::default()
    };
    let policies = Policies {
        default: Some(RestartPolicy::default()),
        per_connector: BTreeMap::from([("own".into(), Some(own)), ("off".into(), None)]),
    };
    let mut failed = failing("c");
    failed.extend(failing("own"));
    failed.extend(failing("off"));
    let mut ledger = Ledger::default();
    let d = ledger.step(failed, &policies, Instant::now());
    let steps: Vec<_> = d
        .due
        .iter()
        .map(|a| (a.connector.as_str(), a.step))
        .collect();
    assert_eq!(
        steps,
        [
            ("c", StepKind::RestartTasks),
            ("own", StepKind::RestartConnector)
        ]
    );
    assert!(ledger.get("off").is_none());
}

#[tokio::test(start_paused = true)]
async fn no_action_starts_while_an_earlier_one_of_the_connector_is_in_flight() {
    let policies = uniform(RestartPolicy {
        schedule: "0s".parse().unwrap(),
        ..RestartPolicy::default()
    });
    let mut ledger = Ledger::default();
    assert_eq!(
        ledger
            .step(failing("c"), &policies, Instant::now())
            .due
            .len(),
        1
    );
    for _ in 0..5 {
        advance(Duration::from_secs(1)).await;
        let d = ledger.step(failing("c"), &policies, Instant::now());
        assert!(d.due.is_empty(), "in flight: {d:?}");
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
    let d = ledger.step(failing("c"), &policies, Instant::now());
    assert_eq!(d.due[0].attempt, 2);
}

#[tokio::test(start_paused = true)]
async fn a_record_whose_action_is_in_flight_outlives_reset_after() {
    let policies = uniform(RestartPolicy::default());
    let mut ledger = Ledger::default();
    ledger.step(failing("c"), &policies, Instant::now());
    ledger.step(BTreeMap::new(), &policies, Instant::now());
    advance(Duration::from_secs(1200)).await;
    ledger.step(BTreeMap::new(), &policies, Instant::now());
    ledger.finished("c", "accepted");
    assert_eq!(
        ledger.get("c").and_then(|r| r.last_outcome.as_deref()),
        Some("accepted")
    );
    ledger.step(BTreeMap::new(), &policies, Instant::now());
    assert_eq!(
        ledger.get("c"),
        None,
        "finished and healthy long enough: forgotten"
    );
}

#[test]
fn phase_changes_list_each_connector_whose_phase_moved() {
    let policies = uniform(RestartPolicy::default());
    let mut ledger = Ledger::default();
    let now = Instant::now();
    let empty = ledger.view(&policies, now);
    let mut failed = failing("a");
    failed.extend(failing_as("b", Remedy::Escalate));
    ledger.step(failed.clone(), &policies, now);
    let first = ledger.view(&policies, now);
    let at = SystemTime::UNIX_EPOCH;
    let changes = phase_changes(&empty, &first, at);
    let moved: Vec<_> = changes
        .iter()
        .map(|c| (c.connector.as_str(), c.from, c.to))
        .collect();
    assert_eq!(
        moved,
        [
            ("a", None, Phase::Remediating),
            ("b", None, Phase::Persistent)
        ]
    );
    assert_eq!(changes[1].cause, "boom");
    let json = serde_json::to_value(&changes[1]).unwrap();
    assert_eq!(json["at"], "1970-01-01T00:00:00.000Z");
    assert_eq!(json["to"], "persistent");
    ledger.step(
        failed
            .into_iter()
            .filter(|(n, _)| n == "a")
            .collect::<BTreeMap<_, _>>(),
        &policies,
        now,
    );
    let second = ledger.view(&policies, now);
    let moved: Vec<_> = phase_changes(&first, &second, at)
        .into_iter()
        .map(|c| (c.connector, c.from, c.to))
        .collect();
    assert_eq!(
        moved,
        [("b".to_string(), Some(Phase::Persistent), Phase::Recovered)]
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
fn only_failed_tasks_in_scope_and_matching_the_trace_are_remediated() {
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
    let all = failed(&s, &Policy::default(), &uniform(RestartPolicy::default()));
    assert_eq!(all["c"].tasks, [0, 1, 2]);
    assert_eq!(all["c"].in_scope.tasks, [0, 1, 2, 3]);
    assert_eq!(
        all["c"].cause.as_deref(),
        Some("java.net.ConnectException: refused")
    );
    assert_eq!(all["c"].class.rule, "connection");
    let mine = Policy {
        worker: WorkerScope::Host("w1".into()),
        ..Policy::default()
    };
    let transient = uniform(RestartPolicy {
        trace: Some(Regex::new("ConnectException").unwrap()),
        ..RestartPolicy::default()
    });
    let f = &failed(&s, &mine, &transient)["c"];
    assert_eq!(
        (f.tasks.as_slice(), f.in_scope.tasks.as_slice()),
        (&[0][..], &[0, 2, 3][..])
    );
    let excluded = uniform(RestartPolicy {
        exclude: Some(Regex::new("^c$").unwrap()),
        ..RestartPolicy::default()
    });
    assert!(failed(&s, &Policy::default(), &excluded).is_empty());
}

#[test]
fn a_restarting_instance_in_scope_is_settling() {
    let s = snapshot(&[
        ("RESTARTING", "w2:8083", None),
        ("RUNNING", "w1:8083", None),
    ]);
    let policies = uniform(RestartPolicy::default());
    let all = seen(&s, &Policy::default(), &policies);
    assert!(all.failed.is_empty() && all.settling.contains("c"));
    let mine = Policy {
        worker: WorkerScope::Host("w1".into()),
        ..Policy::default()
    };
    assert!(
        seen(&s, &mine, &policies).settling.is_empty(),
        "not this worker's"
    );
}

#[test]
fn the_most_severe_instance_decides_a_connectors_class() {
    let auth = "X: wrap\nCaused by: org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed";
    let s = snapshot(&[
        (
            "FAILED",
            "w1:8083",
            Some("java.net.SocketTimeoutException: x"),
        ),
        ("FAILED", "w1:8083", Some(auth)),
    ]);
    let f = &failed(&s, &Policy::default(), &uniform(RestartPolicy::default()))["c"];
    assert_eq!(
        (f.class.remedy, f.class.rule.as_str()),
        (Remedy::Escalate, "authentication")
    );
    assert!(
        f.cause
            .as_deref()
            .unwrap()
            .starts_with("org.apache.kafka.common.errors.Sasl")
    );
}

fn remedy() -> impl Strategy<Value = Remedy> {
    prop_oneof![
        Just(Remedy::Restart),
        Just(Remedy::Escalate),
        Just(Remedy::Ignore)
    ]
}

proptest! {
    /// Over any sequence of polls (gap, failing as what, the call in flight finishes?):
    /// never an action while one is in flight, never more than the cap, never an action
    /// for a non-restartable or ignored failure, each no sooner than its wait, each
    /// escalation at most once per failure, and held ⇔ the rules of `held`.
    #[test]
    fn actions_respect_caps_classes_schedule_and_in_flight(
        polls in prop::collection::vec((0u64..900, prop::option::of(remedy()), any::<bool>()), 1..60),
        max in prop::option::of(0u32..8),
        limit in prop::option::of(1u32..7),
        ladder in (0u32..4, 0u32..4),
    ) {
        let policy = RestartPolicy {
            ladder: format!("tasks={},connector={}", ladder.0, ladder.1).parse().unwrap(),
            max_restarts: max,
            escalate_after: limit,
            ..RestartPolicy::default()
        };
        let cap = policy.cap();
        let policies = uniform(policy.clone());
        let (mut ledger, mut now, mut last) = (Ledger::default(), Instant::now(), None::<Instant>);
        let mut in_flight = false;
        for (gap, failing_now, finishes) in polls {
            now += Duration::from_secs(gap);
            let f = failing_now.map_or_else(BTreeMap::new, |r| failing_as("c", r));
            let record = ledger.get("c").cloned();
            let attempts = record.as_ref().map_or(0, |r| r.attempts);
            let exhausted = record.as_ref().is_some_and(|r| r.exhausted);
            let held = !ledger.held(&f, &policies).is_empty();
            let expected = match failing_now {
                None | Some(Remedy::Escalate) => false,
                Some(Remedy::Ignore) => true,
                Some(Remedy::Restart) => limit.is_some_and(|l| attempts < l) && !exhausted,
            };
            prop_assert_eq!(held, expected);
            let decided = ledger.step(f, &policies, now);
            prop_assert!(decided.due.len() <= 1);
            for action in &decided.due {
                prop_assert!(!in_flight, "acted while in flight");
                prop_assert_eq!(failing_now, Some(Remedy::Restart), "acted on a non-restartable failure");
                if let Some(last) = last {
                    prop_assert!(now - last >= policy.schedule.delay(action.attempt - 1));
                }
                in_flight = true;
                last = Some(now);
            }
            let escalations = decided.events.iter().filter(|e| e.step == "escalate").count();
            prop_assert!(escalations <= 1);
            prop_assert!(ledger.get("c").is_none_or(|r| r.attempts <= cap));
            if finishes && in_flight {
                ledger.finished("c", "accepted");
                in_flight = false;
            }
        }
    }
}
