//! [`Running`]: a started server (`serve`'s, `reconcile`'s, the demo's) with its
//! background loops, as a handle: its bound address, a stop method, and a join that
//! returns how it ended. Dropping the handle stops the server too.

use std::{future::Future, net::SocketAddr};

use anyhow::Context;
use tokio::{
    sync::watch,
    task::{JoinError, JoinHandle},
};

use super::Stopping;

/// A server running on its own task.
#[derive(Debug)]
pub struct Running {
    name: &'static str,
    addr: SocketAddr,
    stop: StopOnDrop,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Stops the server when the handle goes away.
#[derive(Debug)]
struct StopOnDrop(watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

impl Running {
    /// Spawns `run`, which serves on `addr` until the [`Stopping`] it is given
    /// resolves; `name` names it in errors.
    pub fn spawn<F>(name: &'static str, addr: SocketAddr, run: impl FnOnce(Stopping) -> F) -> Self
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(run(Stopping(stopping)));
        Self {
            name,
            addr,
            stop: StopOnDrop(stop),
            task,
        }
    }

    /// The address it is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` and the bound address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Begins shutting down: the listener closes, the loops stop, in-flight requests
    /// finish (see [`super::DRAIN`]). [`Running::join`] waits for the end.
    pub fn stop(&self) {
        self.stop.0.send_replace(true);
    }

    /// Waits until it has stopped (after [`Running::stop`], or on its own when it
    /// fails); its result, a panic included.
    pub async fn join(self) -> anyhow::Result<()> {
        let Self {
            name, task, stop, ..
        } = self;
        let ended = task.await;
        drop(stop);
        outcome(name, ended)
    }

    /// Runs until `shutdown` resolves (then stops and joins), or until it ends first.
    pub async fn until(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::select! {
            () = shutdown => self.stop(),
            ended = &mut self.task => return outcome(self.name, ended),
        }
        self.join().await
    }
}

/// How the server's task ended, its panic as an error.
fn outcome(name: &str, ended: Result<anyhow::Result<()>, JoinError>) -> anyhow::Result<()> {
    ended
        .with_context(|| format!("the {name} panicked"))?
        .with_context(|| format!("the {name} failed"))
}
