//! connect-sentinel as a user runs it: the binary as a process (`serve`, `reconcile`)
//! with JSON logs collected, and one-shot commands (`probe`, `status`, `apply`, …).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use serde_json::Value;

/// A long-running subcommand on 127.0.0.1:0; killed on drop.
pub struct Running {
    pub url: String,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// Starts `connect-sentinel SUBCOMMAND --bind 127.0.0.1 --port 0 --log-format json ARGS`
    /// and waits (bounded) for the address it logs.
    pub fn start(subcommand: &str, args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
            .args([subcommand, "--bind", "127.0.0.1", "--port", "0"])
            .args(["--log-format", "json"])
            .args(args)
            .env_remove("HEALTHCHECK_BASIC_AUTH")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the connect-sentinel binary runs");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && let Some(addr) = event["addr"].as_str()
                {
                    let _ = addr_tx.send(addr.to_string());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(30));
        let mut running = Running {
            url: String::new(),
            child,
            logs,
        };
        let addr = addr.unwrap_or_else(|_| {
            panic!(
                "{subcommand} logged no address within 30 s; its log:\n{}",
                running.logs()
            )
        });
        running.url = format!("http://{addr}");
        running
    }

    /// `connect-sentinel serve` against `connect` (polling every 500 ms) with `extra`.
    pub fn serve(connect: &str, extra: &[&str]) -> Running {
        let mut args = vec!["--connect-url", connect, "--poll-interval", "500ms"];
        args.extend(extra);
        Running::start("serve", &args)
    }

    /// Everything it logged so far, one line each.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Log events (parsed JSON lines) whose `message` is `message`.
    pub fn events(&self, message: &str) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["message"] == message)
            .collect()
    }

    /// SIGTERM, then the exit status (bounded: SIGKILL after 10 s).
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{pid} did not exit within 10 s of SIGTERM");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `connect-sentinel ARGS` to completion, off the async runtime.
pub async fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
            .args(&args)
            .env_remove("HEALTHCHECK_BASIC_AUTH")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
