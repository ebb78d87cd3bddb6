//! `connect-sentinel apply`: validate every changed config, then write with bounded
//! concurrency, one line per change. Exit 0 all applied, 1 some failed, 2 bad input,
//! invalid configs (nothing written) or Connect unreachable.

use std::process::ExitCode;

use serde_json::json;

use super::{
    diff::{fail, print_json, print_plan, print_warnings, setup, warn_notes, warnings_of},
    out,
};
use crate::{
    cli::{ApplyArgs, PlanOutput},
    declare::{ChangeResult, Event, Finished, InvalidConfig, Mode},
    manifest::Inputs,
    plan::redact::Redactor,
    settings,
};

/// `apply` from the command line.
pub async fn main(args: ApplyArgs) -> ExitCode {
    let output = args.declare.output;
    let (declare, files) = match setup(&args.declare) {
        Ok(built) => built,
        Err(e) => return fail(&e, &Redactor::default()),
    };
    let settings = settings::write(&args.write);
    let mode = match args.dry_run {
        true => Mode::Plan,
        false => Mode::Apply(&settings),
    };
    let text = output == PlanOutput::Text;
    let run = declare
        .run(Inputs::Files(&files), mode, |event| progress(event, text))
        .await;
    let redactor = &run.redactor;
    warn_notes(&run.notes, redactor);
    let warnings = warnings_of(&run);
    match run.result {
        Ok(Finished::Planned(plan)) => {
            print_plan(&plan, redactor, output, &warnings);
            ExitCode::SUCCESS
        }
        Ok(Finished::Invalid { invalid, .. }) => {
            print_invalid(&invalid, output, redactor, &warnings);
            ExitCode::from(2)
        }
        Ok(Finished::Written { reports, .. }) => summarise(&reports, output, redactor, &warnings),
        Err(e) => fail(&e, redactor),
    }
}

/// The last line (or the JSON document); exit 1 when a change failed.
fn summarise(
    reports: &[ChangeResult],
    output: PlanOutput,
    redactor: &Redactor,
    warnings: &[String],
) -> ExitCode {
    let failed = reports.iter().filter(|r| r.result.is_err()).count();
    match output {
        PlanOutput::Text => out::line(format_args!(
            "{} of {} change(s) applied, {failed} failed.",
            reports.len() - failed,
            reports.len(),
        )),
        PlanOutput::Json => print_json(reports_json(reports, redactor), warnings),
    }
    ExitCode::from(u8::from(failed > 0))
}

/// Progress on stderr as plain lines (validating, writing), and each change's line
/// as it finishes (text output only).
fn progress(event: Event<'_>, text: bool) {
    match event {
        Event::Warnings(warnings) => print_warnings(warnings),
        Event::Validating { configs: 0 } => {}
        Event::Validating { configs } => out::note(format_args!(
            "connect-sentinel: validating {configs} config(s) with Connect…"
        )),
        Event::Writing {
            changes,
            concurrency,
        } => out::note(format_args!(
            "connect-sentinel: writing {changes} change(s), up to {concurrency} at a time…"
        )),
        Event::Done(report, redactor) if text => print_report(report, redactor),
        Event::Done(..) => {}
    }
}

fn print_report(report: &ChangeResult, redactor: &Redactor) {
    match &report.result {
        Ok(()) => out::line(format_args!("{}: {}", report.name, report.action)),
        Err(e) => out::note(format_args!(
            "{}: failed to {}: {}",
            report.name,
            report.verb,
            redactor.text(&e.to_string())
        )),
    }
}

fn print_invalid(
    invalid: &[InvalidConfig],
    output: PlanOutput,
    redactor: &Redactor,
    warnings: &[String],
) {
    if output == PlanOutput::Json {
        let items: Vec<_> = invalid
            .iter()
            .map(|i| json!({"name": i.name, "problems": i.problems.iter().map(|p| redactor.text(p)).collect::<Vec<_>>()}))
            .collect();
        print_json(json!({"applied": false, "invalid": items}), warnings);
        return;
    }
    for i in invalid {
        out::note(format_args!("{}: invalid config:", i.name));
        for problem in &i.problems {
            out::note(format_args!("    {}", redactor.text(problem)));
        }
    }
    out::note(format_args!(
        "nothing applied: {} connector(s) failed validation",
        invalid.len()
    ));
}

fn reports_json(reports: &[ChangeResult], redactor: &Redactor) -> serde_json::Value {
    let items: Vec<_> = reports
        .iter()
        .map(|r| match &r.result {
            Ok(()) => json!({"name": r.name, "action": r.verb, "ok": true}),
            Err(e) => json!({"name": r.name, "action": r.verb, "ok": false, "error": redactor.text(&e.to_string())}),
        })
        .collect();
    json!({"applied": true, "results": items})
}
