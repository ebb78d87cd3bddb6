//! One file per subcommand: each turns parsed flags into settings and runs.

pub mod serve;
