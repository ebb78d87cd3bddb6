//! The worker process, `connect-sentinel __jq-worker` (not a command: `main` checks
//! for [`ARG`] before parsing the command line): limits its own memory
//! (`RLIMIT_DATA`) before anything else, reads one line of [`Header`] (the bindings
//! and how many programs follow; it then limits its CPU time to that many deadlines),
//! then answers each [`Request`] line with one [`Response`] line, until stdin ends.
//! Stdout carries only the protocol; the parent reads stderr when the worker dies.

use std::{
    io::{BufRead, Read, Write},
    process::ExitCode,
};

use serde::{Deserialize, Serialize};

use super::{
    eval::{self, Bindings, Failure},
    limits,
};

/// The first argument that makes the binary the jq worker.
pub const ARG: &str = "__jq-worker";

/// The first line: what every program sees, and how many programs follow.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub bindings: Bindings,
    pub programs: usize,
}

/// One program to run.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub code: String,
}

/// One program's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Response {
    Values(Vec<serde_json::Value>),
    Failure(Failure),
}

/// The subcommand: exit 0 after answering every request, 2 on a protocol error.
pub fn main() -> ExitCode {
    if let Err(e) = limit(rlimit_data(), limits::JQ_MEMORY_BYTES) {
        eprintln!("cannot limit the worker's memory: {e}");
        return ExitCode::from(2);
    }
    let evaluating = std::thread::Builder::new()
        .name("jq".into())
        .stack_size(limits::JQ_STACK_BYTES)
        .spawn(serve);
    match evaluating.map(|t| t.join()) {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        Ok(Ok(Err(e))) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        _ => ExitCode::from(2),
    }
}

/// Reads the header and answers requests until stdin ends.
fn serve() -> Result<(), String> {
    let mut stdin = std::io::stdin().lock();
    let header: Header = match read_line(&mut stdin)? {
        Some(line) => serde_json::from_slice(&line).map_err(|e| format!("bad header: {e}"))?,
        None => return Ok(()),
    };
    let seconds = limits::JQ_DEADLINE.as_secs().max(1) * (header.programs as u64 + 1);
    limit(rlimit_cpu(), seconds).map_err(|e| format!("cannot limit CPU time: {e}"))?;
    let mut stdout = std::io::stdout().lock();
    while let Some(line) = read_line(&mut stdin)? {
        let request: Request =
            serde_json::from_slice(&line).map_err(|e| format!("bad request: {e}"))?;
        let response = match eval::evaluate(&request.code, &header.bindings) {
            Ok(values) => Response::Values(values),
            Err(failure) => Response::Failure(failure),
        };
        serde_json::to_writer(&mut stdout, &response).map_err(|e| e.to_string())?;
        stdout
            .write_all(b"\n")
            .and_then(|()| stdout.flush())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// One line of at most [`limits::JQ_LINE_BYTES`]; `None` at the end.
pub fn read_line(reader: &mut impl BufRead) -> Result<Option<Vec<u8>>, String> {
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(limits::JQ_LINE_BYTES + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| e.to_string())?;
    match line.len() {
        0 => Ok(None),
        n if n as u64 > limits::JQ_LINE_BYTES => Err("a line is too long".into()),
        _ => Ok(Some(line)),
    }
}

#[cfg(unix)]
fn rlimit_data() -> rlimit::Resource {
    rlimit::Resource::DATA
}

#[cfg(unix)]
fn rlimit_cpu() -> rlimit::Resource {
    rlimit::Resource::CPU
}

/// Lowers both the soft and the hard limit (never raises one already lower).
#[cfg(unix)]
fn limit(resource: rlimit::Resource, value: u64) -> std::io::Result<()> {
    let (soft, hard) = rlimit::getrlimit(resource)?;
    rlimit::setrlimit(resource, soft.min(value), hard.min(value))
}

#[cfg(not(unix))]
fn rlimit_data() {}

#[cfg(not(unix))]
fn rlimit_cpu() {}

/// Without rlimits only the parent's deadline bounds a program.
#[cfg(not(unix))]
fn limit(_: (), _: u64) -> std::io::Result<()> {
    Ok(())
}
