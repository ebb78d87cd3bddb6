//! Planning: which [`Step`] each connector needs. How Connect carries a plan out is
//! checked against connect-sim (`tests/plan_properties.rs`), not a model of it here.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Config, Desired, Live, Op, Options, Plan, PlanError, Step, Transition, comparable, key_changes,
    masked::{self, FINGERPRINT_KEY},
    owned, written,
};

/// Plans the changes that turn `live` into `desired`.
pub fn plan(desired: &[Desired], live: &[Live], options: &Options) -> Result<Plan, PlanError> {
    plan_retiring(desired, &BTreeSet::new(), live, options)
}

/// [`plan`], where `retired` names connectors declared absent (a disabled ConfigMap's):
/// they are not declared, so pruned like any other; deleting them is never "pruning
/// everything by accident", so they do not count towards that refusal.
pub fn plan_retiring(
    desired: &[Desired],
    retired: &BTreeSet<String>,
    live: &[Live],
    options: &Options,
) -> Result<Plan, PlanError> {
    let wanted = by_name(desired, |d| &d.name)?;
    let present = by_name(live, |l| &l.name)?;
    let mut steps: Vec<Step> = wanted
        .values()
        .map(|d| step_for(d, present.get(d.name.as_str()).copied(), options))
        .collect();
    if options.prune {
        let doomed: Vec<&Live> = present
            .values()
            .filter(|l| !wanted.contains_key(l.name.as_str()) && owned(l, &options.owner))
            .copied()
            .collect();
        let unasked = doomed.iter().filter(|l| !retired.contains(&l.name)).count();
        refuse_prune_all(desired.is_empty(), unasked, options)?;
        steps.extend(doomed.iter().map(|l| Step {
            name: l.name.clone(),
            op: Op::Delete,
        }));
    }
    steps.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Plan { steps })
}

fn refuse_prune_all(empty: bool, doomed: usize, options: &Options) -> Result<(), PlanError> {
    match empty && doomed > 0 && !options.force {
        true => Err(PlanError::PruneEverything {
            owner: options.owner.clone(),
            count: doomed,
        }),
        false => Ok(()),
    }
}

fn by_name<T>(items: &[T], name: impl Fn(&T) -> &String) -> Result<BTreeMap<&str, &T>, PlanError> {
    let mut map = BTreeMap::new();
    for item in items {
        if map.insert(name(item).as_str(), item).is_some() {
            return Err(PlanError::Duplicate(name(item).clone()));
        }
    }
    Ok(map)
}

fn step_for(desired: &Desired, live: Option<&Live>, options: &Options) -> Step {
    let config = written(desired, options);
    let op = match live {
        None => Op::Create {
            config,
            state: desired.state,
        },
        Some(live) => update_or_transition(desired, live, config, options),
    };
    Step {
        name: desired.name.clone(),
        op,
    }
}

/// Masked live values count as changes only when the stored fingerprint differs from
/// the desired config's ([`masked::counted`]).
fn update_or_transition(desired: &Desired, live: &Live, config: Config, options: &Options) -> Op {
    let all = key_changes(
        &comparable(&live.config, options),
        &comparable(&config, options),
    );
    let expected = fingerprint_of(&config).unwrap_or_default();
    let changes = masked::counted(all, fingerprint_of(&live.config), expected);
    let then = Transition::between(live.state, desired.state);
    match (changes.is_empty(), then) {
        (true, None) => Op::Unchanged,
        // A FAILED connector ignores pause: asking again every pass changes nothing.
        (true, Some(Transition::Pause)) if live.failed => Op::Unchanged,
        (true, Some(t)) => Op::Transition(t),
        (false, then) => Op::Update {
            config,
            changes,
            then,
            adopt: !owned(live, &options.owner),
        },
    }
}

fn fingerprint_of(config: &Config) -> Option<&str> {
    config.get(FINGERPRINT_KEY).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{OWNER_KEY, TargetState, glob, to_write};

    fn options() -> Options {
        Options {
            owner: "me".into(),
            ignore: vec!["x.*.server".into()],
            prune: true,
            force: false,
            fingerprint: Default::default(),
        }
    }

    #[test]
    fn glob_matches_runs() {
        assert!(glob("__internal.*", "__internal.config.version"));
        assert!(glob("x.*.server", "x.a.b.server"));
        assert!(!glob("x.*.server", "x.a.b.serverz"));
        assert!(glob("a", "a") && !glob("a", "ab"));
    }

    #[test]
    fn ignored_and_injected_keys_do_not_count() {
        let desired = Desired {
            name: "a".into(),
            config: [("k".to_string(), "1".to_string())].into(),
            state: TargetState::Running,
        };
        let mut live_config = to_write(&desired, "me");
        live_config.insert("__internal.config.version".into(), "7".into());
        live_config.insert("x.y.server".into(), "z".into());
        let live = Live {
            name: "a".into(),
            config: live_config,
            state: TargetState::Running,
            failed: false,
        };
        let plan = plan(&[desired], &[live], &options()).unwrap();
        assert!(plan.is_empty(), "{plan:?}");
    }

    /// A FAILED connector ignores pause (spec §17), so none is planned, pass after
    /// pass; stop does change it, and a config change restarts it.
    #[test]
    fn a_failed_connector_is_not_paused_again_and_again() {
        let desired = |state, k: &str| Desired {
            name: "a".into(),
            config: [("k".to_string(), k.to_string())].into(),
            state,
        };
        let live = Live {
            name: "a".into(),
            config: to_write(&desired(TargetState::Paused, "1"), "me"),
            state: TargetState::Running,
            failed: true,
        };
        let op = |d: Desired| plan(&[d], std::slice::from_ref(&live), &options()).unwrap();
        assert!(op(desired(TargetState::Paused, "1")).is_empty());
        let stop = op(desired(TargetState::Stopped, "1"));
        assert_eq!(stop.steps[0].op, Op::Transition(Transition::Stop));
        let changed = op(desired(TargetState::Paused, "2"));
        assert!(matches!(
            changed.steps[0].op,
            Op::Update {
                then: Some(Transition::Pause),
                ..
            }
        ));
    }

    #[test]
    fn empty_declared_set_refuses_to_prune_everything() {
        let live = Live {
            name: "a".into(),
            config: [(OWNER_KEY.to_string(), "me".to_string())].into(),
            state: TargetState::Running,
            failed: false,
        };
        let err = plan(&[], std::slice::from_ref(&live), &options()).unwrap_err();
        assert!(matches!(err, PlanError::PruneEverything { count: 1, .. }));
        let forced = Options {
            force: true,
            ..options()
        };
        let plan = plan(&[], &[live], &forced).unwrap();
        assert_eq!(plan.steps[0].op, Op::Delete);
    }
}
