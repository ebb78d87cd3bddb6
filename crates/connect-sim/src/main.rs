//! `connect-sim`: run the simulator. The bound address is the first line on stdout.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use connect_sim::{SimConfig, Version, seed::SeedBody};
use tokio::net::TcpListener;

/// A faithful Kafka Connect REST API simulator, scriptable through /_sim.
#[derive(Debug, Parser)]
#[command(name = "connect-sim", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8083")]
    listen: SocketAddr,
    /// Kafka Connect version to imitate: features newer than it are absent.
    #[arg(long, default_value = "3.9.0")]
    kafka_version: Version,
    /// Milliseconds each asynchronous lifecycle step takes (0 = due by the next request).
    #[arg(long, default_value_t = 300)]
    lifecycle_delay_ms: u64,
    /// Milliseconds the rebalance window stays open after a change [default: lifecycle delay].
    #[arg(long)]
    rebalance_ms: Option<u64>,
    /// Milliseconds a herder-queued request waits under the `timeout` fault.
    #[arg(long, default_value_t = 2000)]
    request_timeout_ms: u64,
    /// Number of workers connectors and tasks are spread over.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    workers: u16,
    /// Explicit comma-separated worker ids (`host:port`), overriding --workers.
    #[arg(long, value_delimiter = ',')]
    worker_ids: Vec<String>,
    /// Require HTTP basic auth `user:password` on every Connect endpoint.
    #[arg(long, value_parser = parse_basic_auth)]
    basic_auth: Option<(String, String)>,
    /// Seed connectors at start-up from a JSON file (the body of POST /_sim/connectors).
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Answer 403 on the topics endpoints (topic.tracking.enable=false).
    #[arg(long)]
    no_topic_tracking: bool,
    /// Answer 403 on topics/reset (topic.tracking.allow.reset=false).
    #[arg(long)]
    no_topic_tracking_reset: bool,
    /// Show secret config values as MASK on read, as a vendor does (Confluent Cloud's
    /// `****************` without a value); real Connect shows them as stored.
    #[arg(long, value_name = "MASK", num_args = 0..=1,
          default_missing_value = connect_sim::masking::DEFAULT_MASK)]
    mask_secrets: Option<String>,
    /// Log filter, e.g. `info` or `connect_sim=debug` (logs go to stderr).
    #[arg(long, default_value = "warn")]
    log_level: String,
}

fn parse_basic_auth(s: &str) -> Result<(String, String), String> {
    s.split_once(':')
        .map(|(u, p)| (u.to_string(), p.to_string()))
        .ok_or_else(|| "expected user:password".to_string())
}

impl Args {
    fn config(&self) -> SimConfig {
        let worker_ids = match self.worker_ids.is_empty() {
            true => SimConfig::default_worker_ids(self.workers.into()),
            false => self.worker_ids.clone(),
        };
        let delay = Duration::from_millis(self.lifecycle_delay_ms);
        SimConfig {
            version: self.kafka_version,
            lifecycle_delay: delay,
            rebalance_window: self.rebalance_ms.map_or(delay, Duration::from_millis),
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            worker_ids,
            basic_auth: self.basic_auth.clone(),
            topic_tracking: !self.no_topic_tracking,
            topic_tracking_reset: !self.no_topic_tracking_reset,
            mask_secrets: self.mask_secrets.clone(),
        }
    }
}

fn read_seed(path: &PathBuf) -> Result<SeedBody, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read seed file {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("invalid seed file {}: {e}", path.display()))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term = async move {
            match term.as_mut() {
                Some(t) => t.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn run(args: Args) -> Result<(), String> {
    let sim = connect_sim::Sim::new(args.config());
    if let Some(path) = &args.seed {
        let body = read_seed(path)?;
        sim.with(|c, _| connect_sim::seed::seed(c, body))
            .map_err(|e| format!("invalid seed file {}: {}", path.display(), e.message))?;
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("{addr}");
    eprintln!(
        "connect-sim {} listening; try: curl 'http://{addr}/connectors?expand=status'",
        args.kafka_version
    );
    tracing::info!(%addr, version = %args.kafka_version, "connect-sim listening");
    connect_sim::serve(listener, sim, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_new(&args.log_level).unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("connect-sim: {message}");
            ExitCode::from(2)
        }
    }
}
