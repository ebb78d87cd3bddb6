//! connect-sentinel: health checks, probes, auto-remediation and declarative connector
//! configs for Kafka Connect on Kubernetes.
//!
//! # Layout
//! - [`cli`]: the command-line surface (clap derive).
//! - [`connect`]: the Connect REST client (timeouts, auth, TLS, typed errors).
//! - [`snapshot`]: one poll of Connect (≤ 3 calls) as a [`snapshot::Snapshot`].
//! - [`verdict`]: the pure health core, snapshot + policy → verdict.
//!
//! The subcommands (`serve`, `probe`, `status`, `diff`, `apply`, `reconcile`, `demo`)
//! arrive issue by issue; see the README's roadmap.

pub mod cli;
pub mod connect;
pub mod snapshot;
pub mod verdict;

use std::process::ExitCode;

/// Runs a parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => {
            use clap::CommandFactory;
            cli::Cli::command().print_help()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
