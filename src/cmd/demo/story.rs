//! What happens in the demo once it runs, and the lines it prints about it: once the
//! reconciler's first pass has adopted the declared connectors, the flaky task fails
//! (auto-restart brings it back after `--restart-after`, and again every
//! `--fail-every`), and someone edits a declared connector by hand (the reconciler's
//! next resync puts it back: drift). The demo logs only errors; these lines tell the
//! story instead.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use tokio::sync::watch;

use super::FLAKY;
use crate::{
    cmd::out,
    connect::{
        ConnectClient,
        retry::{Backoff, retry},
    },
    health::Observed,
    reconciler::view::{Fate, Pass},
};

/// The declared connector someone edits by hand, and the key and value they set.
const EDITED: (&str, &str, &str) = ("orders-jdbc-source", "tasks.max", "4");

/// How the hand edit is retried while Connect rebalances after the first pass.
const RETRY: Backoff = Backoff {
    retries: 6,
    base: Duration::from_millis(200),
};

/// How long the story waits for the reconciler's first pass before going on without.
const FIRST_PASS: Duration = Duration::from_secs(30);

/// How long it then waits for the flaky connector's tasks to run again.
const SETTLE: Duration = Duration::from_secs(10);

/// What the story needs: the simulator's control API, a client of its REST API, and
/// the reconciler's passes (`None`: it did not start).
pub struct Story {
    pub control: connect_sim::ControlClient,
    pub connect: ConnectClient,
    pub passes: Option<watch::Receiver<Arc<Pass>>>,
    pub fail_every: Duration,
}

impl Story {
    /// Runs until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => {}
            _ = self.tell() => {}
        }
    }

    /// After the first pass, once the flaky connector runs: a failure, a hand edit,
    /// then a failure every `fail_every`.
    async fn tell(&self) {
        if let Some(mut passes) = self.passes.clone() {
            let first = passes.wait_for(|p| p.at.is_some());
            let _ = tokio::time::timeout(FIRST_PASS, first).await;
        }
        let _ = tokio::time::timeout(SETTLE, self.settled()).await;
        self.fail().await;
        self.edit_by_hand().await;
        loop {
            tokio::time::sleep(self.fail_every).await;
            self.fail().await;
        }
    }

    /// Resolves once every task of the flaky connector runs: the first pass's write
    /// restarts them, and a failure made before that would be undone by it.
    async fn settled(&self) {
        loop {
            let status = self.connect.status(FLAKY).await.ok().flatten();
            let tasks = status.map(|s| s.tasks).unwrap_or_default();
            if !tasks.is_empty() && tasks.iter().all(|t| t.state == "RUNNING") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Fails the flaky task through the simulator's control API.
    async fn fail(&self) {
        let body = serde_json::json!({"state": "FAILED", "trace": TRACE});
        if self.control.task_state(FLAKY, 1, &body).await.is_ok() {
            out::line(format_args!("demo: task {FLAKY}-1 FAILED"));
        }
    }

    /// Changes one key of a declared connector through Connect's REST API, as a person
    /// with `curl` would.
    async fn edit_by_hand(&self) {
        let (name, key, value) = EDITED;
        let edit = || async {
            let mut config = self.connect.config(name).await?;
            config.insert(key.into(), value.into());
            self.connect.put_config(name, &config).await
        };
        match retry(RETRY, edit).await {
            Ok(_) => out::line(format_args!(
                "demo: someone set {name}'s {key} to {value} by hand; the reconciler's next resync puts it back (drift)"
            )),
            Err(e) => out::line(format_args!("demo: cannot edit {name} by hand: {e}")),
        }
    }
}

/// Prints what each reconcile pass changed, and the drift it found.
pub async fn announce_passes(mut passes: watch::Receiver<Arc<Pass>>) {
    while passes.changed().await.is_ok() {
        let pass = passes.borrow_and_update().clone();
        for row in pass.rows.iter().filter(|r| r.fate != Fate::InSync) {
            let name = &row.name;
            let fate = match &row.fate {
                Fate::Applied if row.drift => "drift, put back".to_string(),
                fate => fate.text(),
            };
            out::line(format_args!(
                "demo: reconcile {name}: {} ({fate})",
                row.plan
            ));
        }
    }
}

/// Prints each change of a connector's auto-restart phase.
pub async fn announce_phases(mut observed: watch::Receiver<Arc<Observed>>) {
    let mut phases = BTreeMap::<String, &str>::new();
    while observed.changed().await.is_ok() {
        let latest = observed.borrow_and_update().clone();
        for entry in &latest.remediation {
            let phase = entry.phase.as_str();
            if phases.insert(entry.connector.clone(), phase) != Some(phase) {
                out::line(format_args!("demo: {}", phase_line(entry)));
            }
        }
        phases.retain(|name, _| latest.remediation.iter().any(|e| &e.connector == name));
    }
}

fn phase_line(entry: &crate::remediate::Entry) -> String {
    let (name, attempts) = (&entry.connector, entry.attempts);
    match entry.phase.as_str() {
        "recovered" => format!("{name} recovered after {attempts} restart(s)"),
        "persistent" if attempts == 0 => format!(
            "{name} persistent: a restart would not help ({})",
            entry.rule
        ),
        phase => match entry.next_attempt_in_seconds {
            Some(next) => {
                format!("{name} {phase}: {attempts} restart(s) so far, the next in {next:.0} s")
            }
            None => format!("{name} {phase}: {attempts} restart(s) so far"),
        },
    }
}

const TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:632)\nCaused by: java.net.SocketTimeoutException: connect timed out";
