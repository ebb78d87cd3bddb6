//! `connect-sentinel diff`: the plan between the manifests and Connect as a key-level
//! diff (or `-o json`), secrets redacted. Exit 0 no changes, 1 changes, 2 error, like
//! `kubectl diff`.

use std::{path::PathBuf, process::ExitCode};

use super::out;
use crate::{
    cli::{DeclareArgs, DiffArgs, PlanOutput},
    declare::{Declare, Mode, Run},
    manifest::{Inputs, Warning},
    plan::{
        Plan,
        redact::Redactor,
        render::{self, Colour},
    },
    settings::{self, SettingsError},
};

/// `diff` from the command line.
pub async fn main(args: DiffArgs) -> ExitCode {
    let args = &args.declare;
    let (declare, files) = match setup(args) {
        Ok(built) => built,
        Err(e) => return fail(&e, &Redactor::default()),
    };
    let run = declare.run(Inputs::Files(&files), Mode::Plan, |_| {}).await;
    let warnings = warnings_of(&run);
    warnings.iter().for_each(out::warning);
    match run.result {
        Ok(finished) => {
            print_plan(finished.plan(), &run.redactor, args.output, &warnings);
            ExitCode::from(u8::from(!finished.plan().is_empty()))
        }
        Err(e) => fail(&e, &run.redactor),
    }
}

/// The pipeline and the manifest files, from the flags `diff` and `apply` share.
pub fn setup(args: &DeclareArgs) -> Result<(Declare, Vec<PathBuf>), SettingsError> {
    Ok((settings::declare(args)?, settings::manifest_files(args)?))
}

/// Prints what the manifests do that was accepted but ignored, on stderr.
pub fn print_warnings(warnings: &[Warning]) {
    warnings.iter().for_each(out::warning);
}

/// Prints the plan as text or JSON on stdout.
/// With JSON, `warnings` (see [`warnings_of`]) go into the document too.
pub fn print_plan(plan: &Plan, redactor: &Redactor, output: PlanOutput, warnings: &[String]) {
    match output {
        PlanOutput::Text => out::text(render::text(plan, redactor, colour())),
        PlanOutput::Json => print_json(render::json(plan, redactor), warnings),
    }
}

/// Every warning of a run, as stderr shows it and redacted: the manifests' (what
/// Strimzi's leniency ignored) and the notes on connectors left alone.
pub fn warnings_of(run: &Run) -> Vec<String> {
    let manifest = run.warnings.iter().map(ToString::to_string);
    let notes = run.notes.iter().cloned();
    manifest
        .chain(notes)
        .map(|w| run.redactor.text(&w))
        .collect()
}

/// Prints a JSON document on stdout, with `"warnings"` added when there are some, so a
/// script reading only stdout sees them too.
pub fn print_json(mut document: serde_json::Value, warnings: &[String]) {
    if !warnings.is_empty() {
        document["warnings"] = serde_json::json!(warnings);
    }
    out::line(format_args!("{document:#}"));
}

/// Colour only on a terminal, and never with `NO_COLOR` set (no-color.org).
pub fn colour() -> Colour {
    match out::colour(&std::io::stdout()) {
        true => Colour::Always,
        false => Colour::Never,
    }
}

/// Prints what the run leaves alone as warnings on stderr.
pub fn warn_notes(notes: &[String], redactor: &Redactor) {
    for note in notes {
        out::warning(redactor.text(note));
    }
}

/// Prints an error (redacted) on stderr; exit 2.
pub fn fail(error: &dyn std::fmt::Display, redactor: &Redactor) -> ExitCode {
    out::error(redactor.text(&error.to_string()));
    ExitCode::from(2)
}
