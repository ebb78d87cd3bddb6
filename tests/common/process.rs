//! The binary as a child process: its output read line by line as it comes, every
//! wait bounded by [`super::PATIENCE`] with a message naming what never happened and
//! the output so far, and the child killed when the test ends or fails.

use std::process::{ExitStatus, Stdio};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader, Lines},
    process::{Child, Command},
    time::Instant,
};

use super::PATIENCE;

/// `connect-sentinel` with no arguments yet.
pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
}

/// `demo` on free ports, quiet logs, and `extra` flags.
pub fn demo_command(extra: &[&str]) -> std::process::Command {
    let mut command = bin();
    let ports = ["--port", "0", "--sim-port", "0", "--reconcile-port", "0"];
    command
        .arg("demo")
        .args(ports)
        .args(["--log-level", "warning"])
        .args(extra);
    command
}

/// `serve` on 127.0.0.1:0 with JSON logs, polling `connect_url`; more flags follow.
#[allow(dead_code)]
pub fn serve_json(connect_url: &str) -> std::process::Command {
    let mut command = bin();
    command
        .args(["serve", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--log-format", "json", "--connect-url", connect_url]);
    command
}

/// The output stream a test reads; the other one is discarded.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A running child and the lines of one of its streams.
pub struct Spawned {
    child: Child,
    lines: Lines<BufReader<Box<dyn AsyncRead + Unpin + Send>>>,
    /// Every line read so far, in order.
    pub seen: Vec<String>,
}

impl Spawned {
    /// Starts `command`, reading `stream`; the child is killed when this is dropped.
    pub fn spawn(command: std::process::Command, stream: Stream) -> Self {
        let mut command = Command::from(command);
        let (out, err) = match stream {
            Stream::Stdout => (Stdio::piped(), Stdio::null()),
            Stream::Stderr => (Stdio::null(), Stdio::piped()),
        };
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let mut child = command
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let reader: Box<dyn AsyncRead + Unpin + Send> = match stream {
            Stream::Stdout => Box::new(child.stdout.take().unwrap()),
            Stream::Stderr => Box::new(child.stderr.take().unwrap()),
        };
        let lines = BufReader::new(reader).lines();
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The child's process id.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the child is running")
    }

    /// The address a JSON-logging server logs when it listens.
    #[allow(dead_code)]
    pub async fn logged_addr(&mut self) -> String {
        let line = self
            .line("the listening address", |l| l.contains("\"addr\""))
            .await;
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        event["addr"].as_str().unwrap().to_string()
    }

    /// Reads until a line satisfies `f` and returns it; panics naming `what` when the
    /// output ends first or nothing matched within [`PATIENCE`].
    pub async fn line(&mut self, what: &str, mut f: impl FnMut(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let line = match tokio::time::timeout_at(deadline, self.lines.next_line()).await {
                Ok(Ok(Some(line))) => line,
                Ok(_) => self.fail(&format!("the output ended before {what}")),
                Err(_) => self.fail(&format!("no {what} within {PATIENCE:?}")),
            };
            self.seen.push(line.clone());
            if f(&line) {
                return line;
            }
        }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id().expect("the child still runs")
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid} failed");
    }

    /// Reads the rest of the output into [`Spawned::seen`] and waits for the exit;
    /// panics naming `what` (why it should exit) after [`PATIENCE`].
    pub async fn exit(&mut self, what: &str) -> ExitStatus {
        let rest = async {
            while let Ok(Some(line)) = self.lines.next_line().await {
                self.seen.push(line);
            }
            self.child.wait().await.expect("waiting for the child")
        };
        match tokio::time::timeout(PATIENCE, rest).await {
            Ok(status) => status,
            Err(_) => self.fail(&format!("no exit within {PATIENCE:?} ({what})")),
        }
    }

    fn fail(&self, why: &str) -> ! {
        panic!("{why}; the output so far:\n{}", self.seen.join("\n"))
    }
}
