//! Every real-tier scenario, grouped by what it exercises. Each group exports a
//! `SCENARIOS` list; scenarios that damage the cluster (`Needs::Destructive`) run after
//! the others of their version.

mod conformance;
mod declare;
mod declare_reconcile;
mod health;

use crate::{Needs, Scenario};

/// Shared scenarios first, destructive ones last (each of those gets the cluster last
/// and discards it).
pub fn all() -> Vec<&'static Scenario> {
    let mut all: Vec<&'static Scenario> = [
        health::SCENARIOS,
        conformance::SCENARIOS,
        declare::SCENARIOS,
        declare_reconcile::SCENARIOS,
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
