//! Property tests of the pure plan core: applying a plan yields the declared state
//! (a FAILED connector, which ignores pause, excepted), equal sides plan nothing, nothing unchanged is written, and prune only ever
//! targets owned connectors.

use std::collections::BTreeMap;

use connect_sentinel::plan::{
    Config, Desired, Live, OWNER_KEY, Op, Options, TargetState, comparable, owned, plan, simulate,
    to_write,
};
use proptest::prelude::*;

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

fn name() -> impl Strategy<Value = String> {
    "c[0-5]"
}

fn desired_set() -> impl Strategy<Value = Vec<Desired>> {
    prop::collection::btree_map(name(), (config(), state()), 0..5).prop_map(|map| {
        map.into_iter()
            .map(|(name, (config, state))| Desired {
                name,
                config,
                state,
            })
            .collect()
    })
}

/// Live connectors: owned by us, by someone else, or by nobody.
fn live_set() -> impl Strategy<Value = Vec<Live>> {
    let owner = prop_oneof![Just(None), Just(Some(OWNER)), Just(Some("other"))];
    let entry = (config(), state(), owner, any::<bool>());
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
    }
}

fn by_name(live: &[Live]) -> BTreeMap<&str, &Live> {
    live.iter().map(|l| (l.name.as_str(), l)).collect()
}

proptest! {
    /// Applying the plan to the live set gives every declared connector its config and
    /// state, deletes only what prune targets, and leaves the rest untouched.
    #[test]
    fn applying_the_plan_yields_the_desired_state(
        desired in desired_set(), live in live_set(), prune in any::<bool>()
    ) {
        let options = options(prune);
        let plan = plan(&desired, &live, &options).unwrap();
        let after = simulate(&plan, &live);
        let after_by_name = by_name(&after);
        for d in &desired {
            let got = after_by_name[d.name.as_str()];
            prop_assert_eq!(comparable(&got.config, &options), comparable(&to_write(d, OWNER), &options));
            // A connector still FAILED ignores pause (spec §17): nothing is asked.
            let ignored_pause = got.failed && d.state == TargetState::Paused;
            prop_assert!(got.state == d.state || ignored_pause, "{:?} vs {:?}", got, d);
        }
        for l in &live {
            let declared = desired.iter().any(|d| d.name == l.name);
            let pruned = prune && owned(l, OWNER) && !declared;
            match after_by_name.get(l.name.as_str()) {
                None => prop_assert!(pruned, "{} deleted without prune", l.name),
                Some(kept) if !declared => prop_assert_eq!(*kept, l),
                Some(_) => {}
            }
        }
        let again = plan_again(&desired, &after, &options);
        prop_assert!(again, "a second plan is not empty");
    }

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

fn plan_again(desired: &[Desired], after: &[Live], options: &Options) -> bool {
    plan(desired, after, options).unwrap().is_empty()
}
