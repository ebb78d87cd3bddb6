//! connect-sim: a faithful Kafka Connect REST API simulator.
//!
//! It behaves like a distributed Kafka Connect cluster as described in the project's
//! spec (`shared/docs/kafka-connect-rest-api.md`; section numbers are cited as `§N`):
//! status codes, bodies and error wordings, asynchronous lifecycles, rebalance windows
//! and version differences. A control API under `/_sim` lets tests put the cluster in
//! any state and inject faults.
//!
//! # Layout
//! - [`config`]: settings and the version type used for feature gates (§19).
//! - [`sim`]: the shared handle ([`Sim`]): cluster, faults, counters, shutdown.
//! - [`cluster`]: the state machine and scheduled lifecycle events (§17, §18).
//! - [`ops`]: the REST operations on the cluster, with Connect's checks and messages.
//! - [`model`]: connectors, instances, states and their JSON views.
//! - [`validate`], [`plugins`] and [`catalogue`]: config validation, plugin types and the
//!   catalogue data (§12, §14).
//! - [`filestream`]: FileStream tasks that cannot create their file fail, as real ones do.
//! - [`plugin_version`]: KIP-891 plugin versions (4.1+).
//! - [`masking`]: secrets masked on read, as vendors do (`--mask-secrets`).
//! - [`body`]: Jersey/Jackson body handling (415s, 500s for bad JSON).
//! - `routes`: the per-version router, the count → fault → auth middleware, handlers.
//! - [`control`], [`seed`] and [`faults`]: the `/_sim` control API.

pub mod body;
pub mod catalogue;
pub mod cluster;
pub mod config;
pub mod control;
pub mod control_client;
pub mod error;
pub mod faults;
pub mod filestream;
pub mod masking;
pub mod model;
pub mod ops;
pub mod plugin_version;
pub mod plugins;
mod routes;
pub mod seed;
pub mod sim;
pub mod validate;

use std::{future::Future, io, net::SocketAddr};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use config::{SimConfig, Version};
pub use control_client::{ControlClient, ControlError};
pub use routes::router;
pub use sim::Sim;

/// Serves `sim` on an already-bound listener until `shutdown` resolves; hung requests
/// are released at shutdown so it never waits on them.
pub async fn serve(
    listener: TcpListener,
    sim: Sim,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = router(sim.clone());
    let on_shutdown = async move {
        shutdown.await;
        sim.shut_down();
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(on_shutdown)
        .await
}

/// A simulator running in the background on a loopback port (tests, benchmarks, demo).
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub sim: Sim,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl Running {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client for its control API, each call bounded by 30 s.
    pub fn control(&self) -> Result<ControlClient, ControlError> {
        ControlClient::new(&self.url(), std::time::Duration::from_secs(30))
    }

    /// Shuts the server down and waits for it.
    pub async fn stop(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e)))
    }
}

/// Binds `addr` (port 0 for any) and serves a new simulator in a background task.
pub async fn spawn_on(addr: SocketAddr, config: SimConfig) -> io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let sim = Sim::new(config);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, sim.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        addr,
        sim,
        stop: Some(stop),
        task,
    })
}

/// [`spawn_on`] `127.0.0.1:0`.
pub async fn spawn(config: SimConfig) -> io::Result<Running> {
    spawn_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
}
