//! `reconcile` in process on 127.0.0.1:0.

use connect_sentinel::server::Running;
use connect_sentinel::{
    cli::{Cli, Command},
    cmd::reconcile,
    reconciler::Status,
};
use tokio::sync::watch;

/// A running reconciler: its URL and published status; it stops when dropped.
pub struct Reconciling {
    pub url: String,
    pub status: watch::Receiver<Status>,
    /// The restart loop's observations (declared connectors with `autoRestart`).
    pub restarts: watch::Receiver<std::sync::Arc<connect_sentinel::health::Observed>>,
    pub running: Running,
}

/// Parses `reconcile` + `argv` (bound to 127.0.0.1:0), builds with `kube`, and runs it.
pub async fn start(argv: &[&str], kube: reconcile::Kube) -> Reconciling {
    let mut full = vec![
        "connect-sentinel",
        "reconcile",
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
    ];
    full.extend(argv);
    let Some(Command::Reconcile(args)) =
        <Cli as clap::Parser>::try_parse_from(full).unwrap().command
    else {
        unreachable!()
    };
    let mut settings = connect_sentinel::settings::reconcile(&args).unwrap();
    // In process, this test binary is no jq worker: the product binary is.
    settings.declare.manifests.jq =
        connect_sentinel::manifest::jq::JqRunner::worker(env!("CARGO_BIN_EXE_connect-sentinel"));
    let listener = reconcile::bind(&settings).await.unwrap();
    let built = reconcile::build_with(settings, kube).unwrap();
    let status = built.reconciler.subscribe();
    let restarts = built.state.remediation.health.observed.clone();
    let running = reconcile::start(built, listener).unwrap();
    Reconciling {
        url: running.url(),
        status,
        restarts,
        running,
    }
}

impl Reconciling {
    /// Waits until a published status satisfies `f`.
    pub async fn until(&self, what: &str, f: impl Fn(&Status) -> bool) -> Status {
        super::until(&self.status, what, f).await
    }

    /// `GET path`: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = super::http()
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Stops it and waits for a clean exit.
    pub async fn stop(self) {
        self.running.stop();
        self.running.join().await.unwrap();
    }
}

/// The last pass's outcome label (`applied`, `in_sync`, …), or "" before the first.
pub fn outcome(s: &Status) -> &str {
    s.last.as_ref().map_or("", |o| o.label())
}
