//! `connect-sentinel diff`: the plan between the manifests and Connect as a key-level
//! diff (or `-o json`), secrets redacted. Exit 0 no changes, 1 changes, 2 error, like
//! `kubectl diff`.

use std::{io::IsTerminal, process::ExitCode};

use crate::{
    cli::{DiffArgs, PlanOutput},
    declare,
    plan::{
        Plan,
        redact::Redactor,
        render::{self, Colour},
    },
};

/// `diff` from the command line.
pub async fn main(args: DiffArgs) -> ExitCode {
    let loaded = match declare::load(&args.declare) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e, &Redactor::default()),
    };
    match loaded.plan().await {
        Ok(plan) => {
            print_plan(&plan, &loaded.redactor, args.declare.output);
            ExitCode::from(u8::from(!plan.is_empty()))
        }
        Err(e) => fail(&e, &loaded.redactor),
    }
}

/// Prints the plan as text or JSON on stdout.
pub fn print_plan(plan: &Plan, redactor: &Redactor, output: PlanOutput) {
    match output {
        PlanOutput::Text => print!("{}", render::text(plan, redactor, colour())),
        PlanOutput::Json => println!("{:#}", render::json(plan, redactor)),
    }
}

/// Colour only on a terminal, and never with `NO_COLOR` set (no-color.org).
pub fn colour() -> Colour {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    match std::io::stdout().is_terminal() && !no_color {
        true => Colour::Always,
        false => Colour::Never,
    }
}

/// Prints an error (redacted) on stderr; exit 2.
pub fn fail(error: &dyn std::fmt::Display, redactor: &Redactor) -> ExitCode {
    eprintln!("connect-sentinel: {}", redactor.text(&error.to_string()));
    ExitCode::from(2)
}
