//! What a pass hands to the restart loop: the declared connectors whose manifest
//! enables `autoRestart` (with where each is declared) and, for the ladder's recreate
//! step, the config a create would write for each. Published only when they change.

use std::{collections::BTreeMap, fmt, sync::Arc};

use tokio::sync::watch as channel;

use crate::{
    health::poller::AutoRestartedSet,
    manifest::AutoRestarted,
    plan::{self, Config, Desired, redact::Redactor},
    remediate::execute::{ConfigMap, Declared},
};

/// The configs a recreate PUTs back, by connector name (they may hold rendered secrets:
/// never logged).
pub type DeclaredConfigs = BTreeMap<String, Config>;

/// The configs, and the redactor that knows their secrets.
#[derive(Default)]
struct Written {
    configs: DeclaredConfigs,
    redactor: Redactor,
}

/// Both channels' senders, owned by the reconciler.
pub struct HandOver {
    auto_restarted: channel::Sender<Arc<AutoRestartedSet>>,
    configs: channel::Sender<Arc<Written>>,
}

impl Default for HandOver {
    fn default() -> Self {
        Self {
            auto_restarted: channel::Sender::new(Arc::default()),
            configs: channel::Sender::new(Arc::default()),
        }
    }
}

impl HandOver {
    /// Readers of the connectors whose manifest enables `autoRestart`.
    pub fn auto_restarted(&self) -> channel::Receiver<Arc<AutoRestartedSet>> {
        self.auto_restarted.subscribe()
    }

    /// The declared configs of those connectors, for the recreate step.
    pub fn recreatable(&self) -> Recreatable {
        Recreatable(self.configs.subscribe())
    }

    /// Publishes the pass's `autoRestart` connectors, their written configs and the
    /// pass's redactor.
    pub fn publish(
        &self,
        auto: &[AutoRestarted],
        desired: &[Desired],
        options: &plan::Options,
        redactor: &Redactor,
    ) {
        let by_name: AutoRestartedSet = auto.iter().map(|a| (a.name.clone(), a.clone())).collect();
        let configs: DeclaredConfigs = desired
            .iter()
            .filter(|d| by_name.contains_key(&d.name))
            .map(|d| (d.name.clone(), plan::written(d, options)))
            .collect();
        replace_if_changed(&self.auto_restarted, by_name);
        let redactor = redactor.clone();
        self.configs
            .send_replace(Arc::new(Written { configs, redactor }));
    }
}

fn replace_if_changed<T: PartialEq>(sender: &channel::Sender<Arc<T>>, new: T) {
    sender.send_if_modified(|now| {
        let changed = **now != new;
        if changed {
            *now = Arc::new(new);
        }
        changed
    });
}

/// The recreate step's source of declared configs: the last pass's.
#[derive(Clone)]
pub struct Recreatable(channel::Receiver<Arc<Written>>);

impl fmt::Debug for Recreatable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.borrow().configs.keys().cloned().collect();
        f.debug_tuple("Recreatable").field(&names).finish()
    }
}

impl Declared for Recreatable {
    fn config(&self, connector: &str) -> Option<ConfigMap> {
        self.0.borrow().configs.get(connector).cloned()
    }

    fn redact(&self, text: &str) -> String {
        self.0.borrow().redactor.text(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        manifest::Location,
        plan::{OWNER_KEY, TargetState},
    };

    fn options() -> plan::Options {
        plan::Options {
            owner: "me".into(),
            ignore: Vec::new(),
            prune: false,
            force: false,
            fingerprint: Default::default(),
        }
    }

    fn desired(name: &str) -> Desired {
        Desired {
            name: name.into(),
            config: [("password".to_string(), "canary-s3cret".to_string())].into(),
            state: TargetState::Running,
        }
    }

    #[test]
    fn only_auto_restarted_connectors_are_recreatable_with_the_written_config() {
        let hand_over = HandOver::default();
        let recreatable = hand_over.recreatable();
        let auto = AutoRestarted {
            name: "a".into(),
            max_restarts: Some(2),
            location: Location {
                file: "a.yaml".into(),
                document: 1,
                line: None,
            },
        };
        let redactor = Redactor::default();
        hand_over.publish(
            &[auto],
            &[desired("a"), desired("b")],
            &options(),
            &redactor,
        );
        let written = recreatable.config("a").expect("declared");
        assert_eq!(written[OWNER_KEY], "me");
        assert_eq!(written["name"], "a");
        assert_eq!(recreatable.config("b"), None, "no autoRestart: not ours");
        assert_eq!(hand_over.auto_restarted().borrow().len(), 1);
        let shown = format!("{recreatable:?}");
        assert!(
            shown.contains("\"a\"") && !shown.contains("canary"),
            "{shown}"
        );
    }
}
