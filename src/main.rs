//! `connect-sentinel`: parse the command line, dispatch, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;
use connect_sentinel::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match connect_sentinel::run(cli) {
        Ok(code) => code,
        Err(error) => {
            connect_sentinel::cmd::out::error(format_args!("{error:#}"));
            ExitCode::from(2)
        }
    }
}
