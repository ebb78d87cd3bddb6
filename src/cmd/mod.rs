//! One file per subcommand: each turns parsed flags into settings and runs.

pub mod apply;
#[cfg(feature = "demo")]
pub mod demo;
pub mod diff;
pub mod docs;
pub mod out;
pub mod probe;
pub mod reconcile;
pub mod restart;
pub mod serve;
pub mod status;
