//! What commands print. Stdout is for results; a closed stdout (`status | head -1`)
//! ends the process quietly, with exit code 141 as a shell reports for a tool ended by
//! SIGPIPE, after removing the temporary directories registered here (`demo`'s).
//! Stderr is for errors and progress; one prefix, `connect-sentinel: error: `, marks
//! every error.

use std::{
    fmt::Display,
    io::{ErrorKind, IsTerminal, Write},
    path::{Path, PathBuf},
    sync::Mutex,
};

/// The exit code after stdout was closed: 128 + SIGPIPE, what `$?` shows for tools
/// the signal ends.
pub const CLOSED: i32 = 141;

/// The prefix of every error message on stderr.
pub const ERROR: &str = "connect-sentinel: error:";

/// Directories removed before the process exits on a closed stdout.
static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Prints `text` and a newline on stdout (see the module docs for a closed stdout).
pub fn line(text: impl Display) {
    write_out(format_args!("{text}\n"));
}

/// Prints `text` on stdout as it is.
pub fn text(text: impl Display) {
    write_out(format_args!("{text}"));
}

fn write_out(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        drop(stdout);
        gone(&e);
    }
}

/// Stdout cannot be written: exit now (quietly when the reader went away).
fn gone(e: &std::io::Error) -> ! {
    if e.kind() != ErrorKind::BrokenPipe {
        note(format_args!("{ERROR} cannot write to stdout: {e}"));
    }
    // The lock is held until the exit, so a second thread finding stdout closed
    // waits here instead of exiting while the first is still removing.
    let dirs = CLEANUP.lock().unwrap_or_else(|e| e.into_inner());
    for dir in dirs.iter() {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::process::exit(CLOSED)
}

/// Prints a line on stderr (a failed write is ignored: nowhere is left to say so).
pub fn note(text: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Prints an error on stderr with the common prefix.
pub fn error(error: impl Display) {
    note(format_args!("{ERROR} {error}"));
}

/// The prefix of every warning on stderr.
pub const WARNING: &str = "connect-sentinel: warning:";

/// Prints a warning on stderr with the common prefix.
pub fn warning(warning: impl Display) {
    note(format_args!("{WARNING} {warning}"));
}

/// Removes `dir` should the process exit on a closed stdout.
pub fn remove_on_exit(dir: &Path) {
    CLEANUP
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.to_path_buf());
}

/// Forgets `dir` (removed by its owner).
pub fn forget(dir: &Path) {
    CLEANUP
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|d| d != dir);
}

/// Colour on this stream: only on a terminal, and never with `NO_COLOR` set
/// (no-color.org).
pub fn colour(stream: &impl IsTerminal) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    stream.is_terminal() && !no_color
}

/// Runs `work`; while it takes longer than a second, says on stderr what it waits
/// for (after 1 s, then every 10 s), so a hung Connect is never silent.
pub async fn waiting<F: std::future::Future>(what: &str, work: F) -> F::Output {
    let started = tokio::time::Instant::now();
    let mut next = started + std::time::Duration::from_secs(1);
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            () = tokio::time::sleep_until(next) => {
                let waited = humantime::format_duration(std::time::Duration::from_secs(started.elapsed().as_secs()));
                note(format_args!("connect-sentinel: {what}: still waiting for Connect ({waited})"));
                next += std::time::Duration::from_secs(10);
            }
        }
    }
}
