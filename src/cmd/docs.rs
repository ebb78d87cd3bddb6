//! `completions` and `man`: shell completion scripts and man pages generated from the
//! command-line definition itself (clap_complete, clap_mangen), so they never drift.

use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use super::out;
use crate::cli::{Cli, CompletionsArgs, ManArgs};

/// `completions SHELL`: the script on stdout.
pub fn completions(args: &CompletionsArgs) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "connect-sentinel",
        &mut script,
    );
    out::text(String::from_utf8_lossy(&script));
    ExitCode::SUCCESS
}

/// `man`: the main page on stdout, or every page written to `--dir`.
pub fn man(args: &ManArgs) -> anyhow::Result<ExitCode> {
    let command = Cli::command();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(command, dir))
            .with_context(|| format!("cannot write man pages to --dir {}", dir.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    out::text(String::from_utf8_lossy(&page));
    Ok(ExitCode::SUCCESS)
}
