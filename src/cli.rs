//! The command-line surface. Subcommands are added as they are built.

use clap::{Parser, Subcommand};

/// Make Kafka Connect on Kubernetes trustworthy: health server, exec probe, status,
/// auto-restart and declarative connector configs in one binary.
#[derive(Debug, Parser)]
#[command(name = "connect-sentinel", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands (none yet: this is the foundation).
#[derive(Debug, Subcommand)]
pub enum Command {}
