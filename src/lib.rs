//! connect-sentinel: health checks, probes, auto-remediation and declarative connector
//! configs for Kafka Connect on Kubernetes.
//!
//! # Layout
//! - [`cli`] and [`settings`]: the command-line surface and its validation.
//! - [`cmd`]: one module per subcommand (glue; `anyhow` lives here).
//! - [`connect`]: the Connect REST client (timeouts, auth, TLS, typed errors).
//! - [`poll`]: one poll of Connect (≤ 3 calls) as a [`snapshot::Snapshot`].
//! - [`snapshot`]: the read model, free of IO: snapshot, instance keys, the one walk.
//! - [`verdict`]: the pure health core, snapshot + policy → verdict.
//! - [`silent`]: the pure silent-failure checks (no tasks, missing tasks, stuck, no status).
//! - [`manifest`]: declared connectors: manifest files and ConfigMaps (in files or from the API),
//!   templating, jq programs in a bounded worker, `--vars`.
//! - [`declare`]: the IO side of `diff`/`apply`: read Connect, validate, write.
//! - [`plan`]: the pure diff core, desired + live → plan, with redaction and rendering.
//! - [`health`]: the poller, shared state, HTTP router and metrics of `serve`.
//! - [`reconciler`]: the `reconcile` loop, its triggers and file watcher, server and metrics.
//! - [`remediate`]: the pure auto-restart core (schedule, ledger) and its executor.
//! - [`notify`]: webhook notifications of persistent failures, escalations and recoveries.
//! - [`server`]: what the health and reconcile servers share: bind, serve until shutdown, `/livez`, `/metrics`.
//! - [`shutdown`] and [`telemetry`]: SIGTERM and logging.

pub mod cli;
pub mod cmd;
pub mod connect;
pub mod declare;
pub mod health;
pub mod manifest;
pub mod notify;
pub mod plan;
pub mod poll;
pub mod reconciler;
pub mod remediate;
pub mod server;
pub mod settings;
pub mod shutdown;
pub mod silent;
pub mod snapshot;
pub mod telemetry;
pub mod ui;
pub mod verdict;

use std::process::ExitCode;

/// Runs a parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    let Some(command) = cli.command else {
        use clap::CommandFactory;
        cmd::out::text(cli::Cli::command().render_help());
        return Ok(ExitCode::SUCCESS);
    };
    let level = cli.log_level.as_deref().unwrap_or(match command {
        #[cfg(feature = "demo")]
        cli::Command::Demo(_) => "error",
        _ => "info",
    });
    telemetry::init(level, cli.log_format).map_err(anyhow::Error::msg)?;
    match command {
        cli::Command::Completions(args) => Ok(cmd::docs::completions(&args)),
        cli::Command::Man(args) => cmd::docs::man(&args),
        cli::Command::Serve(args) => one_shot()?
            .block_on(cmd::serve::main(args))
            .map(|()| ExitCode::SUCCESS),
        cli::Command::Probe(args) => Ok(one_shot()?.block_on(cmd::probe::main(args))),
        cli::Command::Status(args) => one_shot()?.block_on(cmd::status::main(args)),
        cli::Command::Restart(args) => Ok(one_shot()?.block_on(cmd::restart::main(args))),
        #[cfg(feature = "demo")]
        cli::Command::Demo(args) => tokio::runtime::Runtime::new()?.block_on(cmd::demo::main(args)),
        cli::Command::Diff(args) => Ok(one_shot()?.block_on(cmd::diff::main(args))),
        cli::Command::Apply(args) => Ok(one_shot()?.block_on(cmd::apply::main(args))),
        cli::Command::Reconcile(args) => one_shot()?
            .block_on(cmd::reconcile::main(args))
            .map(|()| ExitCode::SUCCESS),
    }
}

/// A current-thread runtime: one-shot subcommands start faster, and `serve` answers
/// probes from memory, so one thread serves tens of thousands of probes a second (its
/// poll loop has a thread and runtime of its own, so a large poll never delays them).
fn one_shot() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
