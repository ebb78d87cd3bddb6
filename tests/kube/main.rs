//! The Kubernetes tier: `reconcile --source configmaps` against a real kube-apiserver
//! (with etcd; no controller manager) started by `scripts/real-kube`, which builds both
//! from source with Go on first use, and connect-sim in process for the Connect side.
//!
//! One API server serves every scenario of a run (each works in its own namespace) and is
//! stopped when the run ends, also on failure (and by `--owner-pid` if the run dies).
//! Scenarios run one at a time: one restarts the API server. Names are `kube::…`:
//! `cargo test -- --skip kube::` runs the rest without Go. A failing scenario prints the
//! reconciler's log lines and the tail of etcd's and kube-apiserver's logs.

#[path = "../common/mod.rs"]
mod common;
mod logs;
mod proxy;
mod scenarios;
mod server;

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
};

use libtest_mimic::{Arguments, Failed, Trial};
use server::ApiServer;

/// One scenario: a name and its body.
pub struct Scenario {
    pub name: &'static str,
    pub run: fn(&ApiServer) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>,
}

/// The API server, started by the first scenario that runs (a `--skip kube::` run
/// starts none); `Err` once it failed to start, so later scenarios fail at once.
type Shared = Arc<Mutex<Option<Result<ApiServer, String>>>>;

fn trial(shared: Shared, scenario: &'static Scenario) -> Trial {
    Trial::test(format!("kube::{}", scenario.name), move || {
        let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
        let server = match guard.get_or_insert_with(ApiServer::start) {
            Ok(server) => &*server,
            Err(e) => return Err(Failed::from(e.clone())),
        };
        let mark = logs::mark();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on((scenario.run)(server))
        }));
        drop(runtime);
        outcome.map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panicked".into());
            Failed::from(format!(
                "{message}\n---- reconciler log\n{}\n{}",
                logs::since(mark),
                server.logs_tail()
            ))
        })
    })
}

fn main() {
    logs::install();
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let shared = Shared::default();
    let trials = scenarios::all()
        .iter()
        .map(|s| trial(shared.clone(), s))
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    drop(shared.lock().unwrap_or_else(|p| p.into_inner()).take()); // stops it
    conclusion.exit();
}
