//! Every real-tier scenario, grouped by what it exercises. Each group exports a
//! `SCENARIOS` list; scenarios that damage the cluster and restore it
//! (`Needs::Destructive`) run after the others of their version.

mod conformance;
#[cfg(feature = "jq")]
mod connect_operator;
mod declare;
mod declare_reconcile;
mod faults;
mod health;
mod liveness;
mod reconcile_recreate;
mod reconcile_restarts;
mod silent;
mod strimzi;
mod strimzi_masked;
pub mod support;

use crate::{Needs, Scenario};

/// Shared scenarios first, destructive ones (which restore what they break) last.
pub fn all() -> Vec<&'static Scenario> {
    let mut all: Vec<&'static Scenario> = [
        health::SCENARIOS,
        faults::SCENARIOS,
        conformance::SCENARIOS,
        declare::SCENARIOS,
        declare_reconcile::SCENARIOS,
        reconcile_restarts::SCENARIOS,
        reconcile_recreate::SCENARIOS,
        strimzi::SCENARIOS,
        strimzi_masked::SCENARIOS,
        silent::SCENARIOS,
        #[cfg(feature = "jq")]
        connect_operator::SCENARIOS,
    ]
    .into_iter()
    .flatten()
    .collect();
    all.sort_by_key(|s| s.needs == Needs::Destructive);
    all
}

/// `Scenario { name, needs, run }` for an `async fn NAME(&Cluster)`.
#[macro_export]
macro_rules! scenario {
    ($f:ident, $needs:expr) => {
        $crate::Scenario {
            name: stringify!($f),
            needs: $needs,
            run: |cluster| Box::pin($f(cluster)),
        }
    };
}
