//! `connect-sentinel apply`: validate every changed config, then write with bounded
//! concurrency, one line per change. Exit 0 all applied, 1 some failed, 2 bad input,
//! invalid configs (nothing written) or Connect unreachable.

use std::process::ExitCode;

use serde_json::json;

use super::diff::{fail, print_plan};
use crate::{
    cli::{ApplyArgs, PlanOutput},
    declare::{
        self, Loaded,
        apply::{self, Invalid, Report, Settings, supports_initial_state},
    },
    plan::Plan,
};

/// `apply` from the command line.
pub async fn main(args: ApplyArgs) -> ExitCode {
    let output = args.declare.output;
    let loaded = match declare::load(&args.declare) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e, &Default::default()),
    };
    let plan = match loaded.plan().await {
        Ok(plan) => plan,
        Err(e) => return fail(&e, &loaded.redactor),
    };
    if args.dry_run || plan.is_empty() {
        print_plan(&plan, &loaded.redactor, output);
        return ExitCode::SUCCESS;
    }
    let settings = match settings(&args, &loaded).await {
        Ok(settings) => settings,
        Err(e) => return fail(&e, &loaded.redactor),
    };
    write(&loaded, &plan, &settings, output).await
}

/// Apply settings; asks Connect its version (for `initial_state`, 3.7+).
async fn settings(
    args: &ApplyArgs,
    loaded: &Loaded,
) -> Result<Settings, crate::connect::ConnectError> {
    let version = loaded.client.version().await?;
    Ok(Settings::new(&args.write, supports_initial_state(&version)))
}

/// Validates, then writes; prints one line per change (or one JSON document).
async fn write(loaded: &Loaded, plan: &Plan, settings: &Settings, output: PlanOutput) -> ExitCode {
    let redactor = &loaded.redactor;
    let invalid = apply::validate(&loaded.client, plan, settings).await;
    if !invalid.is_empty() {
        print_invalid(&invalid, output, &|t| redactor.text(t));
        return ExitCode::from(2);
    }
    let text = output == PlanOutput::Text;
    let reports = apply::execute(&loaded.client, plan, settings, |r| {
        if text {
            print_report(r, &|t| redactor.text(t));
        }
    })
    .await;
    let failed = reports.iter().filter(|r| r.result.is_err()).count();
    match output {
        PlanOutput::Text => println!(
            "{} of {} change(s) applied, {failed} failed.",
            reports.len() - failed,
            reports.len(),
        ),
        PlanOutput::Json => println!("{:#}", reports_json(&reports, &|t| redactor.text(t))),
    }
    ExitCode::from(u8::from(failed > 0))
}

type Scrub<'a> = &'a dyn Fn(&str) -> String;

fn print_report(report: &Report, scrub: Scrub) {
    match &report.result {
        Ok(()) => println!("{}: {}", report.name, report.action),
        Err(e) => eprintln!(
            "{}: failed to {}: {}",
            report.name,
            report.verb,
            scrub(&e.to_string())
        ),
    }
}

fn print_invalid(invalid: &[Invalid], output: PlanOutput, scrub: Scrub) {
    if output == PlanOutput::Json {
        let items: Vec<_> = invalid
            .iter()
            .map(|i| json!({"name": i.name, "problems": i.problems.iter().map(|p| scrub(p)).collect::<Vec<_>>()}))
            .collect();
        println!("{:#}", json!({"applied": false, "invalid": items}));
        return;
    }
    for i in invalid {
        eprintln!("{}: invalid config:", i.name);
        for problem in &i.problems {
            eprintln!("    {}", scrub(problem));
        }
    }
    eprintln!(
        "nothing applied: {} connector(s) failed validation",
        invalid.len()
    );
}

fn reports_json(reports: &[Report], scrub: Scrub) -> serde_json::Value {
    let items: Vec<_> = reports
        .iter()
        .map(|r| match &r.result {
            Ok(()) => json!({"name": r.name, "action": r.verb, "ok": true}),
            Err(e) => json!({"name": r.name, "action": r.verb, "ok": false, "error": scrub(&e.to_string())}),
        })
        .collect();
    json!({"applied": true, "results": items})
}
