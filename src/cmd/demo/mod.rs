//! `connect-sentinel demo`: an embedded connect-sim with a few realistic connectors
//! (one of which fails now and then, one for good) and the health server in front of
//! it, with auto-restart on, and a reconcile loop over the example manifests, so anyone
//! can try everything with one command ([`story`] is what then happens). Loopback only.

mod story;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use anyhow::Context;
use connect_sim::{SimConfig, seed::SeedBody};

use super::out;
use crate::{
    cli::DemoArgs,
    cmd::{reconcile, serve, status},
    connect::{ClientOptions, ConnectClient, retry::Backoff},
    declare::{Declare, WriteSettings},
    plan,
    poll::Poller,
    remediate::RestartPolicy,
    server::{Limits, Running},
    settings::{ReconcileRestarts, ReconcileSettings, ServeSettings, SourceSettings},
    verdict::Policy,
};

/// The connectors the demo starts with (also the README's simulator seed).
const SEED: &str = include_str!("../../../examples/sim-seed.json");
/// The connector whose task fails now and then.
const FLAKY: &str = "s3-archive-sink";

/// `demo` from the command line.
pub async fn main(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let sim_addr = SocketAddr::from(([127, 0, 0, 1], args.sim_port));
    let sim = connect_sim::spawn_on(sim_addr, SimConfig::default())
        .await
        .with_context(|| format!("cannot start the simulator on {sim_addr}"))?;
    let body: SeedBody = serde_json::from_str(SEED).context("the demo seed is invalid")?;
    sim.sim
        .with(|c, _| connect_sim::seed::seed(c, body))
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let restarts = (args.restart_after, args.fail_every / 2);
    let server = serve::build(serve_settings(&sim.url(), args.port, restarts)?);
    tokio::spawn(story::announce_phases(server.state.observed.clone()));
    let listener = crate::server::listen(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    let health = format!("http://{}", listener.local_addr()?);
    print_intro(&sim.url(), &health).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scratch = manifests_dir()?;
    let root = scratch.0.clone();
    let reconciler = start_reconcile(&sim.url(), &root, args.reconcile_port).await;
    let passes = match &reconciler {
        Ok((running, passes)) => {
            print_reconcile(&running.url(), &root);
            tokio::spawn(story::announce_passes(passes.clone()));
            Some(passes.clone())
        }
        Err(e) => {
            out::line(format_args!("demo: reconcile not started: {e:#}"));
            None
        }
    };
    out::line(format_args!(
        "Task {FLAKY}-1 fails now and then; auto-restart brings it back after --restart-after. \
         crm-jdbc-sink's database login fails for good: no restart helps, so it is persistent. \
         Ctrl-C stops the demo."
    ));
    let story = story::Story {
        control: sim.control()?,
        connect: ConnectClient::new(ClientOptions::new(sim.url()))?,
        passes,
        fail_every: args.fail_every,
    };
    tokio::spawn(story.run(stop_rx));
    let served = serve::start(server, listener)?
        .until(until(args.duration))
        .await;
    let _ = stop_tx.send(true);
    if let Ok((running, _)) = reconciler {
        running.stop();
        running.join().await?;
    }
    served?;
    sim.stop().await?;
    drop(scratch);
    Ok(ExitCode::SUCCESS)
}

/// The example manifests (and their `--vars`), written to a fresh directory the user
/// may edit while the demo runs.
const MANIFESTS: [(&str, &str); 4] = [
    (
        "connectors/orders-jdbc-source.yaml",
        include_str!("../../../examples/connectors/orders-jdbc-source.yaml"),
    ),
    (
        "connectors/platform.yaml",
        include_str!("../../../examples/connectors/platform.yaml"),
    ),
    (
        "connectors/s3-archive-sink.json",
        include_str!("../../../examples/connectors/s3-archive-sink.json"),
    ),
    (
        "vars/orders_db_password",
        include_str!("../../../examples/vars/orders_db_password"),
    ),
];

/// The demo's directory, removed however the demo ends: returning, failing, or exiting
/// on a closed stdout ([`out`]).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        out::forget(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn manifests_dir() -> anyhow::Result<Scratch> {
    let root = std::env::temp_dir().join(format!("connect-sentinel-demo-{}", std::process::id()));
    out::remove_on_exit(&root);
    let scratch = Scratch(root.clone());
    for (path, text) in MANIFESTS {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(&root))?;
        std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    }
    Ok(scratch)
}

/// `reconcile` over the demo's manifests (resync every 10 s), running, and its passes.
async fn start_reconcile(
    connect: &str,
    root: &Path,
    port: u16,
) -> anyhow::Result<(Running, Passes)> {
    let settings = reconcile_settings(connect, root, port)?;
    let listener = reconcile::bind(&settings).await?;
    let built = reconcile::build(settings)?;
    let passes = built.state.declared.clone();
    Ok((reconcile::start(built, listener)?, passes))
}

/// Each reconcile pass's declared connectors.
type Passes = tokio::sync::watch::Receiver<std::sync::Arc<crate::reconciler::view::Pass>>;

/// The demo's reconciler: the example manifests and `--vars`, resynced every 10 s,
/// written as `apply` writes by default.
fn reconcile_settings(connect: &str, root: &Path, port: u16) -> anyhow::Result<ReconcileSettings> {
    let declare = Declare {
        client: ConnectClient::new(ClientOptions::new(connect))?,
        vars: Some(root.join("vars")),
        env: std::env::vars().collect(),
        manifests: crate::manifest::Options {
            jq: crate::manifest::jq::JqRunner::this_binary(),
            ..Default::default()
        },
        options: plan::Options {
            owner: "connect-sentinel".into(),
            ignore: vec![],
            prune: false,
            force: false,
            fingerprint: Default::default(),
        },
    };
    let write = WriteSettings {
        concurrency: 16,
        timeout: Duration::from_secs(120),
        backoff: Backoff {
            retries: 6,
            base: Duration::from_millis(200),
        },
    };
    Ok(ReconcileSettings {
        declare,
        source: SourceSettings::Files(vec![root.join("connectors")]),
        write,
        interval: Duration::from_secs(10),
        debounce: Duration::from_millis(500),
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        http: Limits::default(),
        election: None,
        restarts: ReconcileRestarts {
            interval: Duration::from_secs(2),
            ..ReconcileRestarts::default()
        },
        program: this_binary().into(),
    })
}

fn print_reconcile(url: &str, root: &Path) {
    out::line(format_args!(
        "Reconciler:                 {url}  (/, /readyz, /metrics, /ui)"
    ));
    out::line(format_args!(
        "  It adopts the four connectors declared in {}",
        root.join("connectors").display()
    ));
    out::line(format_args!(
        "  (secrets from {}); edit a file and watch it apply.",
        root.join("vars").display()
    ));
}

/// `serve` for the demo: poll every 500 ms, forgive transitions for 10 s, restart a
/// failure after `after` (then every 5 s), escalating after 3 restarts; a connector
/// healthy for `reset` starts again.
fn serve_settings(
    connect: &str,
    port: u16,
    (after, reset): (Duration, Duration),
) -> anyhow::Result<ServeSettings> {
    let schedule = format!("{},5s", humantime::format_duration(after));
    let restart = RestartPolicy {
        schedule: schedule.parse()?,
        escalate_after: Some(3),
        reset_after: reset,
        ..RestartPolicy::default()
    };
    let poll_interval = Duration::from_millis(500);
    Ok(ServeSettings {
        client: ConnectClient::new(ClientOptions::new(connect))?,
        policy: Policy {
            grace: Duration::from_secs(10),
            ..Policy::default()
        },
        restart: Some(restart),
        remediation_history: crate::remediate::history::DEFAULT_LEN,
        notify: None,
        poll_interval,
        max_age: ServeSettings::default_max_age(poll_interval),
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        http: Limits::default(),
        metrics_compat: None,
        connector_info: true,
        program: this_binary().into(),
    })
}

async fn print_intro(connect: &str, health: &str) {
    out::line("connect-sentinel demo: a simulated Kafka Connect 3.9 cluster with 3 workers");
    out::line(format_args!("Open the status page:       {health}/ui"));
    if let Ok(client) = ConnectClient::new(ClientOptions::new(connect))
        && let Ok(snapshot) = Poller::new(client).poll().await
    {
        out::line(format_args!(
            "{}",
            status::table(
                &status::rows(&snapshot, &Default::default()),
                out::colour(&std::io::stdout())
            )
        ));
    }
    out::line(format_args!("Simulated Connect REST API: {connect}"));
    out::line(format_args!("Health server:              {health}"));
    out::line("Try:");
    for path in [
        "/",
        &format!("/connectors/{FLAKY}"),
        &format!("/connectors/{FLAKY}/tasks/1"),
        "/remediation",
        "/metrics",
    ] {
        out::line(format_args!("  curl -s {health}{path}"));
    }
    let me = this_binary();
    out::line(format_args!("  {me} status --connect-url {connect}"));
    out::line(format_args!(
        "  {me} probe --connect-url {connect} --connector customers-cdc; echo \"exit $?\""
    ));
    out::line(format_args!(
        "  {me} restart --connect-url {connect} {FLAKY} --failed"
    ));
}

/// This binary's path as a shell word, so the printed commands run as printed (the
/// binary is rarely on PATH under `cargo run`).
fn this_binary() -> String {
    let path = std::env::current_exe().ok();
    let text = path
        .as_deref()
        .and_then(Path::to_str)
        .unwrap_or("connect-sentinel");
    shlex::try_quote(text).map_or_else(|_| "connect-sentinel".into(), |q| q.into_owned())
}

/// Resolves after `duration`, or on SIGTERM / Ctrl-C.
async fn until(duration: Option<Duration>) {
    match duration {
        Some(d) => {
            tokio::select! { _ = tokio::time::sleep(d) => {}, _ = crate::shutdown::signal() => {} }
        }
        None => crate::shutdown::signal().await,
    }
}
