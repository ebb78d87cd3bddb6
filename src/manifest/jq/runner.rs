//! The parent side of the worker: one worker process per load evaluates every jq
//! program in turn; each answer must come within [`limits::JQ_DEADLINE`] or the worker
//! is killed. A worker that dies (its memory limit, a stack overflow) is explained
//! from its exit status and the first line of its stderr. Blocking: runs on the load's
//! blocking thread, never on the async runtime.

use std::{
    io::{BufReader, Read, Write},
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread,
};

use serde_json::Value;

use super::{
    JqRunner,
    eval::{Bindings, Failure, FailureKind},
    limits,
    worker::{self, Header, Request, Response},
};
use crate::manifest::files;

/// Every program's output values, in order; or the index of the first program that
/// failed, and why. A program over [`limits::JQ_PROGRAM_BYTES`] fails unrun.
pub fn run(
    runner: &JqRunner,
    bindings: &Bindings,
    programs: &[&str],
) -> Result<Vec<Vec<Value>>, (usize, Failure)> {
    if let Some(i) = programs
        .iter()
        .position(|p| p.len() > limits::JQ_PROGRAM_BYTES)
    {
        let limit = files::bytes(limits::JQ_PROGRAM_BYTES as u64);
        return Err((
            i,
            Failure::stopped(format!("the program is larger than the {limit} limit")),
        ));
    }
    if programs.is_empty() {
        return Ok(Vec::new());
    }
    let mut worker = Worker::start(runner).map_err(|f| (0, f))?;
    let header = Header {
        bindings: bindings.clone(),
        programs: programs.len(),
    };
    worker.send(&header).map_err(|f| (0, f))?;
    let mut outputs = Vec::with_capacity(programs.len());
    for (i, code) in programs.iter().enumerate() {
        let request = Request {
            code: code.to_string(),
        };
        let answer = worker.send(&request).and_then(|()| worker.answer());
        match answer {
            Ok(Response::Values(values)) => outputs.push(values),
            Ok(Response::Failure(failure)) => return Err((i, failure)),
            Err(failure) => return Err((i, failure)),
        }
    }
    Ok(outputs)
}

/// A running worker: killed (and reaped) when dropped.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Lines of its stdout, read on a thread of their own so waits can time out.
    lines: mpsc::Receiver<Result<Vec<u8>, String>>,
    /// The start of its stderr, read to the end on another thread.
    stderr: Option<thread::JoinHandle<String>>,
}

impl Worker {
    fn start(runner: &JqRunner) -> Result<Self, Failure> {
        let program = runner.program.as_ref().ok_or_else(|| Failure {
            kind: FailureKind::NoWorker,
            at: None,
            message: "jq programs are run by the connect-sentinel binary (`__jq-worker`), and this caller gave none".into(),
        })?;
        let mut child = Command::new(program)
            .arg(worker::ARG)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                let shown = program.display();
                Failure::stopped(format!("cannot start the jq worker {shown}: {e}"))
            })?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (tx, lines) = mpsc::channel();
        if let Some(stdout) = stdout {
            thread::spawn(move || forward_lines(stdout, &tx));
        }
        Ok(Self {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr: stderr.map(|s| thread::spawn(move || head(s))),
        })
    }

    /// Writes one line; a worker gone already is explained.
    fn send(&mut self, message: &impl serde::Serialize) -> Result<(), Failure> {
        let mut line = serde_json::to_vec(message).map_err(|e| Failure::stopped(e.to_string()))?;
        line.push(b'\n');
        let written = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(&line).and_then(|()| stdin.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        written.map_err(|_| self.died())
    }

    /// The next answer, within the deadline.
    fn answer(&mut self) -> Result<Response, Failure> {
        match self.lines.recv_timeout(limits::JQ_DEADLINE) {
            Ok(Ok(line)) => serde_json::from_slice(&line)
                .map_err(|e| Failure::stopped(format!("the jq worker answered nonsense: {e}"))),
            Ok(Err(e)) => Err(Failure::stopped(format!("reading the jq worker: {e}"))),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let deadline = humantime::format_duration(limits::JQ_DEADLINE);
                Err(Failure::stopped(format!(
                    "it ran longer than {deadline} (the deadline of a jq program) and was stopped: an endless loop or recursion?"
                )))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(self.died()),
        }
    }

    /// Why the worker is gone, from its exit status and its stderr.
    fn died(&mut self) -> Failure {
        self.stdin = None;
        let status = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        match status {
            Ok(status) => Failure::stopped(explain(status, &stderr)),
            Err(e) => Failure::stopped(format!("the jq worker is gone: {e}")),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a dead worker's status and stderr say, as a sentence.
fn explain(status: ExitStatus, stderr: &str) -> String {
    let memory = files::bytes(limits::JQ_MEMORY_BYTES);
    let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    match () {
        () if stderr.contains("memory allocation") => {
            format!(
                "it needed more than the {memory} of memory a jq program may use, and was stopped"
            )
        }
        () if stderr.contains("overflowed its stack") => {
            "it recursed too deeply (the jq worker's stack overflowed) and was stopped".into()
        }
        () if signal(status) == Some(24) => {
            "it used more CPU time than the jq worker allows, and was stopped".into()
        }
        () if signal(status) == Some(9) => format!(
            "the jq worker was killed (SIGKILL), most likely by the out-of-memory killer: give the container more than {memory} of memory"
        ),
        () if first.is_empty() => format!("the jq worker stopped unexpectedly ({status})"),
        () => format!("the jq worker stopped unexpectedly ({status}): {first}"),
    }
}

#[cfg(unix)]
fn signal(status: ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(&status)
}

#[cfg(not(unix))]
fn signal(_: ExitStatus) -> Option<i32> {
    None
}

/// Sends each stdout line (at most [`limits::JQ_LINE_BYTES`]) until the end.
fn forward_lines(stdout: impl Read, tx: &mpsc::Sender<Result<Vec<u8>, String>>) {
    let mut reader = BufReader::new(stdout);
    loop {
        match worker::read_line(&mut reader) {
            Ok(Some(line)) => {
                if tx.send(Ok(line)).is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

/// The first 4 KiB of stderr (the rest is read and dropped, so the worker never
/// blocks on a full pipe).
fn head(stderr: impl Read) -> String {
    let mut reader = BufReader::new(stderr);
    let mut kept = Vec::new();
    let _ = (&mut reader).take(4096).read_to_end(&mut kept);
    let _ = std::io::copy(&mut reader, &mut std::io::sink());
    String::from_utf8_lossy(&kept).into_owned()
}
