//! Connectors declared absent (a ConfigMap labelled `enabled: "false"`, as
//! connect-operator reads it): our ownership rule still decides. They are not declared,
//! so an owned one is deleted under `--prune`; what happens to each of the others is
//! said in a note: an owned one without `--prune` stays, an unowned one is never
//! touched. Pure.

use std::collections::BTreeSet;

use super::{Live, Options, owned};

/// One sentence per disabled connector that stays in Connect, in name order.
pub fn notes(retired: &BTreeSet<String>, live: &[Live], options: &Options) -> Vec<String> {
    let mut notes: Vec<String> = live
        .iter()
        .filter(|l| retired.contains(&l.name))
        .filter_map(|l| match (owned(l, &options.owner), options.prune) {
            (true, true) => None,
            (true, false) => Some(format!(
                "connector {:?} is disabled (enabled: \"false\") but stays: deleting it needs --prune",
                l.name
            )),
            (false, _) => Some(format!(
                "connector {:?} is disabled (enabled: \"false\") but not owned by {:?}: left alone (delete it by hand)",
                l.name, options.owner
            )),
        })
        .collect();
    notes.sort();
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{OWNER_KEY, Op, TargetState, plan_retiring};

    fn live(name: &str, owner: Option<&str>) -> Live {
        Live {
            name: name.into(),
            config: owner
                .map(|o| (OWNER_KEY.to_string(), o.to_string()))
                .into_iter()
                .collect(),
            state: TargetState::Running,
            failed: false,
        }
    }

    fn options(prune: bool) -> Options {
        Options {
            owner: "me".into(),
            ignore: vec![],
            prune,
            force: false,
            fingerprint: Default::default(),
        }
    }

    #[test]
    fn owned_ones_go_with_prune_others_stay_with_a_note() {
        let retired = BTreeSet::from(["a".to_string(), "b".to_string(), "gone".to_string()]);
        let present = [
            live("a", Some("me")),
            live("b", Some("them")),
            live("c", None),
        ];
        let plan = plan_retiring(&[], &retired, &present, &options(true)).unwrap();
        assert_eq!(plan.steps.len(), 1, "{plan:?}");
        assert_eq!(
            (plan.steps[0].name.as_str(), &plan.steps[0].op),
            ("a", &Op::Delete)
        );
        let notes = notes(&retired, &present, &options(true));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("\"b\" is disabled") && notes[0].contains("not owned by \"me\""));
        let notes = super::notes(&retired, &present, &options(false));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("needs --prune"), "{notes:?}");
    }

    /// Disabling every declared connector is not an accidental prune of everything;
    /// an owned connector no ConfigMap mentions still is.
    #[test]
    fn disabling_everything_is_not_refused() {
        let retired = BTreeSet::from(["a".to_string()]);
        let plan = plan_retiring(&[], &retired, &[live("a", Some("me"))], &options(true));
        assert!(plan.is_ok(), "{plan:?}");
        let both = [live("a", Some("me")), live("x", Some("me"))];
        let refused = plan_retiring(&[], &retired, &both, &options(true));
        assert!(refused.is_err());
    }
}
