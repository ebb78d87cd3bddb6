//! `connect-sentinel`: parse the command line, dispatch, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;
use connect_sentinel::{cli::Cli, cmd::out, manifest::jq::worker};

fn main() -> ExitCode {
    // Not a command: the jq worker this binary runs as a child (no flags, no env).
    if std::env::args_os().nth(1).is_some_and(|a| a == worker::ARG) {
        return worker::main();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(usage) => return usage_error(&usage),
    };
    match connect_sentinel::run(cli) {
        Ok(code) => code,
        Err(error) => {
            out::error(format_args!("{error:#}"));
            ExitCode::from(2)
        }
    }
}

/// `--help` and `--version` on stdout (exit 0); a usage error on stderr with the
/// common prefix (exit 2).
fn usage_error(usage: &clap::Error) -> ExitCode {
    let text = usage.render().to_string();
    if !usage.use_stderr() {
        out::text(text);
        return ExitCode::SUCCESS;
    }
    out::note(format_args!("connect-sentinel: {}", text.trim_end()));
    ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(2))
}
