//! Property tests of the plan core. Applying a plan is checked against connect-sim
//! through the real `apply` path: seed a cluster, plan, validate and execute, read it
//! back; every declared connector then has its config and state (a FAILED connector,
//! which ignores pause, excepted), undeclared ones are untouched or pruned, and a second
//! plan is empty. Equal sides plan nothing; prune only ever targets owned connectors.

mod common;

use std::{collections::BTreeMap, time::Duration};

use connect_sentinel::{
    connect::retry::Backoff,
    declare::{WriteSettings, change, read::live},
    plan::{
        Config, Desired, Live, OWNER_KEY, Op, Options, Plan, TargetState, comparable, masked,
        owned, plan,
        redact::Redactor,
        render::{self, Colour},
        to_write,
    },
};
use proptest::{prelude::*, test_runner::TestCaseError};
use serde_json::{Value, json};

const OWNER: &str = "me";

fn state() -> impl Strategy<Value = TargetState> {
    prop_oneof![
        Just(TargetState::Running),
        Just(TargetState::Paused),
        Just(TargetState::Stopped)
    ]
}

/// Small key and value sets, so desired and live configs overlap often.
fn config() -> impl Strategy<Value = Config> {
    let key = prop_oneof![
        Just("tasks.max"),
        Just("topics"),
        Just("connection.password"),
        Just("x.ignored.y"),
        Just("__internal.config.version"),
    ];
    prop::collection::btree_map(key.prop_map(String::from), "[ab1]{0,2}", 0..5)
}

/// Configs a JDBC sink in connect-sim accepts: its required keys, with a varying
/// task count, topic, password and an ignored key.
fn sink_config() -> impl Strategy<Value = Config> {
    let optional = prop_oneof![Just("connection.password"), Just("x.ignored.y")];
    let extra = prop::collection::btree_map(optional.prop_map(String::from), "[ab1]{1,2}", 0..3);
    (extra, "[12]", "[ab]").prop_map(|(mut config, tasks, topic)| {
        let class = "io.confluent.connect.jdbc.JdbcSinkConnector";
        config.insert("connector.class".into(), class.into());
        config.insert(
            "connection.url".into(),
            "jdbc:postgresql://db:5432/x".into(),
        );
        config.insert("tasks.max".into(), tasks);
        config.insert("topics".into(), topic);
        config
    })
}

fn name() -> impl Strategy<Value = String> {
    "c[0-5]"
}

fn desired_from(config: impl Strategy<Value = Config>) -> impl Strategy<Value = Vec<Desired>> {
    prop::collection::btree_map(name(), (config, state()), 0..5).prop_map(|map| {
        map.into_iter()
            .map(|(name, (config, state))| Desired {
                name,
                config,
                state,
            })
            .collect()
    })
}

fn desired_set() -> impl Strategy<Value = Vec<Desired>> {
    desired_from(config())
}

/// Live connectors: owned by us, by someone else, or by nobody.
fn live_set() -> impl Strategy<Value = Vec<Live>> {
    live_from(config())
}

fn live_from(config: impl Strategy<Value = Config>) -> impl Strategy<Value = Vec<Live>> {
    let owner = prop_oneof![Just(None), Just(Some(OWNER)), Just(Some("other"))];
    let entry = (config, state(), owner, any::<bool>());
    prop::collection::btree_map(name(), entry, 0..5).prop_map(|map| {
        map.into_iter()
            .map(|(name, (mut config, state, owner, failed))| {
                config.insert("name".into(), name.clone());
                if let Some(owner) = owner {
                    config.insert(OWNER_KEY.into(), owner.into());
                }
                // Connect infers a FAILED connector's target state as started.
                let state = if failed { TargetState::Running } else { state };
                Live {
                    name,
                    config,
                    state,
                    failed,
                }
            })
            .collect()
    })
}

fn options(prune: bool) -> Options {
    Options {
        owner: OWNER.into(),
        ignore: vec!["x.*".into()],
        prune,
        force: true,
        fingerprint: Default::default(),
    }
}

fn by_name(live: &[Live]) -> BTreeMap<&str, &Live> {
    live.iter().map(|l| (l.name.as_str(), l)).collect()
}

proptest! {
    // Each case talks to its own simulator: few cases keep the fast tier fast.
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Applying the plan to a connect-sim cluster through `apply` gives every declared
    /// connector its config and state, deletes only what prune targets, leaves the rest
    /// untouched, and a second plan is empty.
    #[test]
    fn applying_the_plan_yields_the_desired_state(
        desired in desired_from(sink_config()), live in live_from(sink_config()),
        prune in any::<bool>(), initial_state in any::<bool>()
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(apply_on_a_sim(&desired, &live, prune, initial_state))?;
    }
}

proptest! {
    /// A live set equal to the declared one (whatever ignored keys the server added)
    /// plans nothing.
    #[test]
    fn equal_sides_plan_nothing(desired in desired_set(), extra in "[a-z]{1,3}") {
        let options = options(true);
        let live: Vec<Live> = desired.iter().map(|d| {
            let mut config = to_write(d, OWNER);
            config.insert("__internal.config.version".into(), extra.clone());
            config.insert("x.server.added".into(), extra.clone());
            Live { name: d.name.clone(), config, state: d.state, failed: false }
        }).collect();
        let plan = plan(&desired, &live, &options).unwrap();
        prop_assert!(plan.is_empty(), "{:?}", plan);
    }

    /// Live configs as written (fingerprint included) whose secrets a vendor masks plan
    /// nothing; a secret rotated in the manifests plans an update of exactly the
    /// connectors holding one, and the rendered plan never shows the new secret.
    #[test]
    fn masked_secrets_plan_nothing_until_rotated(
        desired in desired_set(),
        mask in prop_oneof![Just("****"), Just("****************"), Just("[hidden]")]
    ) {
        let options = options(true);
        let live: Vec<Live> = desired.iter().map(|d| {
            let mut config = masked::fingerprinted(to_write(d, OWNER), &options.fingerprint);
            if let Some(pw) = config.get_mut("connection.password") {
                *pw = mask.to_string();
            }
            Live { name: d.name.clone(), config, state: d.state, failed: false }
        }).collect();
        let unrotated = plan(&desired, &live, &options).unwrap();
        prop_assert!(unrotated.is_empty(), "{:?}", unrotated);
        let rotated: Vec<Desired> = desired.iter().cloned().map(|mut d| {
            if let Some(pw) = d.config.get_mut("connection.password") {
                *pw = format!("CANARY-{pw}-rotated");
            }
            d
        }).collect();
        let planned = plan(&rotated, &live, &options).unwrap();
        let holders = desired.iter().filter(|d| d.config.contains_key("connection.password"));
        prop_assert_eq!(planned.changes().count(), holders.count());
        let text = render::text(&planned, &Redactor::default(), Colour::Never);
        prop_assert!(!text.contains("CANARY"), "{}", text);
    }

    /// Prune only deletes owned, undeclared connectors; no update is without changes.
    #[test]
    fn prune_never_targets_unowned_names(desired in desired_set(), live in live_set()) {
        let plan = plan(&desired, &live, &options(true)).unwrap();
        let live_by_name = by_name(&live);
        for step in &plan.steps {
            match &step.op {
                Op::Delete => {
                    let l = live_by_name[step.name.as_str()];
                    prop_assert!(owned(l, OWNER));
                    prop_assert!(desired.iter().all(|d| d.name != step.name));
                }
                Op::Update { changes, .. } => prop_assert!(!changes.is_empty()),
                _ => {}
            }
        }
    }
}

/// Seeds `live` into a fresh simulator, applies the plan of `desired` with the real
/// `apply` code, and checks what the simulator holds afterwards.
async fn apply_on_a_sim(
    desired: &[Desired],
    live: &[Live],
    prune: bool,
    initial_state: bool,
) -> Result<(), TestCaseError> {
    // `initial_state` (3.7+) is learned from the worker's version.
    let sim = common::sim(if initial_state { "3.9.0" } else { "3.6.0" }).await;
    let seeds: Vec<Value> = live.iter().map(seed).collect();
    common::seed(&sim, json!({"connectors": seeds})).await;
    let client = common::client(&sim);
    let options = options(prune);
    let before = live_now(&client).await;
    let planned = plan(desired, &before, &options).unwrap();
    write(&client, &planned).await;
    let after = live_now(&client).await;
    declared_as_written(desired, &after, &options)?;
    others_untouched_or_pruned(desired, &before, &after, prune)?;
    let again = plan(desired, &after, &options).unwrap();
    prop_assert!(again.is_empty(), "a second plan: {:?}", again);
    Ok(())
}

/// A seed of the simulator's control API for `live`.
fn seed(live: &Live) -> Value {
    let state = match live.failed {
        true => "FAILED".to_string(),
        false => live.state.as_str().to_ascii_uppercase(),
    };
    json!({"name": live.name, "type": "sink", "config": live.config, "state": state})
}

async fn live_now(client: &connect_sentinel::connect::ConnectClient) -> Vec<Live> {
    let backoff = Backoff {
        retries: 3,
        base: Duration::from_millis(10),
    };
    live(client, backoff, Duration::from_secs(10))
        .await
        .expect("the simulator is read")
}

/// `apply`'s validate-then-execute, asserting every write succeeded.
async fn write(client: &connect_sentinel::connect::ConnectClient, plan: &Plan) {
    let settings = WriteSettings {
        concurrency: 4,
        timeout: Duration::from_secs(10),
        backoff: Backoff {
            retries: 3,
            base: Duration::from_millis(10),
        },
    };
    let invalid = change::validate(client, plan, &settings).await;
    assert!(invalid.is_empty(), "{invalid:?}");
    for report in change::execute(client, plan, &settings, |_| {}).await {
        assert!(
            report.result.is_ok(),
            "{}: {:?}",
            report.name,
            report.result
        );
    }
}

/// Every declared connector has its config and state (a FAILED one ignores pause).
fn declared_as_written(
    desired: &[Desired],
    after: &[Live],
    options: &Options,
) -> Result<(), TestCaseError> {
    let after = by_name(after);
    for d in desired {
        let got = after[d.name.as_str()];
        prop_assert_eq!(
            comparable(&got.config, options),
            comparable(&to_write(d, OWNER), options)
        );
        let ignored_pause = got.failed && d.state == TargetState::Paused;
        prop_assert!(
            got.state == d.state || ignored_pause,
            "{:?} vs {:?}",
            got,
            d
        );
    }
    Ok(())
}

/// An undeclared connector is deleted only when prune targets it, else left as it was.
fn others_untouched_or_pruned(
    desired: &[Desired],
    before: &[Live],
    after: &[Live],
    prune: bool,
) -> Result<(), TestCaseError> {
    let after = by_name(after);
    for l in before
        .iter()
        .filter(|l| desired.iter().all(|d| d.name != l.name))
    {
        let pruned = prune && owned(l, OWNER);
        match after.get(l.name.as_str()) {
            None => prop_assert!(pruned, "{} deleted without prune", l.name),
            Some(kept) => prop_assert!(!pruned && *kept == l, "{:?} became {:?}", l, kept),
        }
    }
    Ok(())
}
