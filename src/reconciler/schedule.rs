//! When passes run: one at start-up, one every `--interval` (level-triggered resync),
//! one on becoming leader, and one per settled burst of file or ConfigMap changes that
//! changed an input. A burst settles once `debounce` passes without a signal (at most
//! [`SETTLE_LIMIT`] debounces, so a file rewritten without pause cannot hold passes
//! off); the inputs' fingerprint is then compared with the one
//! taken before the last pass, and an unchanged one runs no pass.

use std::time::Duration;

use tokio::sync::{mpsc, watch as channel};

use super::Reconciler;

/// What started a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The first pass, a periodic resync, or a change of leadership.
    Resync,
    /// A manifest or `--vars` file changed.
    Files,
    /// A watched ConfigMap was added, changed or deleted (or listed).
    ConfigMaps,
}

impl Trigger {
    pub fn label(self) -> &'static str {
        match self {
            Self::Resync => "resync",
            Self::Files => "files",
            Self::ConfigMaps => "configmaps",
        }
    }
}

/// A burst settles within this many debounces, however long it goes on.
pub const SETTLE_LIMIT: u32 = 10;

/// The senders of change signals; each channel holds at most one pending signal.
#[derive(Clone, Debug)]
pub struct Signals {
    /// File changes (the watcher).
    pub files: mpsc::Sender<()>,
    /// ConfigMap changes (the reflector).
    pub configmaps: mpsc::Sender<()>,
}

/// The receiving end of [`Signals`].
#[derive(Debug)]
pub struct Changes {
    files: mpsc::Receiver<()>,
    configmaps: mpsc::Receiver<()>,
}

/// A connected pair of [`Signals`] and [`Changes`].
pub fn changes() -> (Signals, Changes) {
    let (files_tx, files) = mpsc::channel(1);
    let (configmaps_tx, configmaps) = mpsc::channel(1);
    let signals = Signals {
        files: files_tx,
        configmaps: configmaps_tx,
    };
    (signals, Changes { files, configmaps })
}

impl Changes {
    /// The next signal's trigger; `None` (at once) when every sender is gone.
    pub async fn next(&mut self) -> Option<Trigger> {
        tokio::select! {
            Some(()) = self.files.recv() => Some(Trigger::Files),
            Some(()) = self.configmaps.recv() => Some(Trigger::ConfigMaps),
            else => None,
        }
    }

    /// Waits until no signal came for `debounce`, or [`SETTLE_LIMIT`] debounces passed.
    pub async fn settle(&mut self, debounce: Duration) {
        let limit = tokio::time::sleep(debounce * SETTLE_LIMIT);
        tokio::pin!(limit);
        loop {
            tokio::select! {
                () = &mut limit => return,
                () = tokio::time::sleep(debounce) => return,
                Some(_) = self.next() => {}
            }
        }
    }
}

/// Runs passes until `shutdown`, which also ends a pass at once (see the module doc).
pub async fn run(
    mut reconciler: Reconciler,
    mut changes: Changes,
    (interval, debounce): (Duration, Duration),
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut leader = reconciler.leader.clone();
    let mut seen = None;
    loop {
        let trigger = tokio::select! {
            () = &mut shutdown => return,
            _ = ticker.tick() => Trigger::Resync,
            Some(trigger) = changes.next() => trigger,
            true = leadership_changed(&mut leader) => Trigger::Resync,
        };
        if trigger != Trigger::Resync {
            tokio::select! {
                () = &mut shutdown => return,
                () = changes.settle(debounce) => {}
            }
        }
        let now = reconciler
            .source
            .fingerprint(reconciler.declare.vars.as_deref());
        if trigger != Trigger::Resync && seen == Some(now) {
            reconciler.unchanged(trigger);
            continue;
        }
        seen = Some(now);
        // Shutdown cuts a pass short: its in-flight Connect calls are dropped.
        tokio::select! {
            () = &mut shutdown => return,
            _ = reconciler.pass(trigger) => {}
        }
    }
}

impl Reconciler {
    /// Counts a settled burst that changed no input (no pass ran).
    fn unchanged(&self, trigger: Trigger) {
        tracing::debug!(trigger = trigger.label(), "no input changed: no pass");
        self.beat();
        self.status.send_modify(|s| s.unchanged += 1);
    }
}

/// Resolves when leadership changes; never without leader election.
async fn leadership_changed(leader: &mut Option<channel::Receiver<bool>>) -> bool {
    match leader {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;

    const DEBOUNCE: Duration = Duration::from_millis(100);

    #[tokio::test(start_paused = true)]
    async fn a_burst_settles_after_a_quiet_debounce() {
        let (signals, mut changes) = changes();
        let start = Instant::now();
        let burst = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(60)).await;
                let _ = signals.files.try_send(());
            }
            signals
        });
        changes.settle(DEBOUNCE).await;
        assert_eq!(start.elapsed(), Duration::from_millis(280));
        drop(burst.await.unwrap());
        assert_eq!(changes.next().await, None, "every signal was absorbed");
    }

    #[tokio::test(start_paused = true)]
    async fn an_endless_burst_settles_at_the_limit() {
        let (signals, mut changes) = changes();
        let start = Instant::now();
        let _burst = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = signals.configmaps.try_send(());
            }
        });
        changes.settle(DEBOUNCE).await;
        assert_eq!(start.elapsed(), DEBOUNCE * SETTLE_LIMIT);
    }

    #[tokio::test(start_paused = true)]
    async fn each_source_has_its_own_trigger() {
        let (signals, mut changes) = changes();
        signals.configmaps.try_send(()).unwrap();
        assert_eq!(changes.next().await, Some(Trigger::ConfigMaps));
        signals.files.try_send(()).unwrap();
        assert!(signals.files.try_send(()).is_err(), "one pending at most");
        signals.configmaps.try_send(()).unwrap();
        let mut seen = [changes.next().await, changes.next().await];
        seen.sort_by_key(|t| t.map(Trigger::label));
        assert_eq!(seen, [Some(Trigger::ConfigMaps), Some(Trigger::Files)]);
    }
}
