//! [`Sim`]: the cheap-to-clone handle shared by every handler: the cluster, the active
//! faults, the request counters, and the shutdown signal that releases hung requests.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
};

use serde_json::{Value, json};
use tokio::{
    sync::watch,
    time::{Duration, Instant},
};

use crate::{
    cluster::Cluster,
    config::SimConfig,
    error::{ApiError, ApiResult},
    faults::Faults,
};

/// A handle on one simulated cluster.
#[derive(Clone, Debug)]
pub struct Sim {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: SimConfig,
    /// A std mutex: no `.await` ever happens while it is held.
    cluster: Mutex<Cluster>,
    faults: Mutex<Faults>,
    requests: Mutex<Counters>,
    /// Flips to true when the server shuts down, releasing `hang`ed requests.
    shutdown: watch::Sender<bool>,
    /// How far `POST /_sim/advance` moved the simulated clock ahead of the real one.
    skew: Mutex<Duration>,
}

#[derive(Debug, Default)]
struct Counters {
    total: u64,
    by_route: BTreeMap<String, u64>,
}

/// Locks a mutex, recovering the data if a previous holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sim {
    /// A new, empty cluster. An empty worker list is replaced by one default worker.
    pub fn new(mut config: SimConfig) -> Self {
        if config.worker_ids.is_empty() {
            config.worker_ids = SimConfig::default_worker_ids(1);
        }
        let inner = Inner {
            cluster: Mutex::new(Cluster::new(config.clone())),
            config,
            faults: Mutex::new(Faults::default()),
            requests: Mutex::new(Counters::default()),
            shutdown: watch::channel(false).0,
            skew: Mutex::new(Duration::ZERO),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// The simulated clock: the real one plus whatever [`Sim::advance`] added.
    pub fn now(&self) -> Instant {
        Instant::now() + *lock(&self.inner.skew)
    }

    /// Moves the simulated clock forward, so lifecycle steps come due without waiting.
    pub fn advance(&self, by: Duration) {
        *lock(&self.inner.skew) += by;
    }

    /// Runs `f` on the cluster after applying every lifecycle event due by now.
    pub fn with<R>(&self, f: impl FnOnce(&mut Cluster, Instant) -> R) -> R {
        let now = self.now();
        let mut cluster = lock(&self.inner.cluster);
        cluster.advance(now);
        f(&mut cluster, now)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.inner.faults)
    }

    /// Installs new faults (replacing the old ones).
    pub(crate) fn set_faults(&self, faults: Faults) {
        let rebalancing = faults.spec.rebalancing;
        *self.faults() = faults;
        self.with(|c, _| c.forced_rebalance = rebalancing);
    }

    /// Empty cluster, no faults, zeroed counters.
    pub fn reset(&self) {
        self.set_faults(Faults::default());
        self.with(|c, _| c.reset());
        self.clear_requests();
    }

    /// A herder-queued request (spec §0.3): with the `timeout` fault it waits for the
    /// configured request timeout, then fails with `Request timed out`.
    pub async fn herder(&self) -> ApiResult<()> {
        if !self.faults().spec.timeout {
            return Ok(());
        }
        let began = std::time::SystemTime::now();
        tokio::time::sleep(self.inner.config.request_timeout).await;
        Err(ApiError::internal(format!(
            "Request timed out. The worker is currently ensuring membership in the cluster, which began at {}",
            iso8601(began)
        )))
    }

    /// Counts one Connect API request under its route template.
    pub(crate) fn count(&self, route: String) {
        let mut counters = lock(&self.inner.requests);
        counters.total += 1;
        *counters.by_route.entry(route).or_default() += 1;
    }

    /// `{"total":N,"by_route":{"GET /connectors":n,…}}`.
    pub fn requests_json(&self) -> Value {
        let counters = lock(&self.inner.requests);
        json!({"total": counters.total, "by_route": counters.by_route})
    }

    /// Zeroes the request counters.
    pub fn clear_requests(&self) {
        *lock(&self.inner.requests) = Counters::default();
    }

    /// Signals shutdown: hung requests are released.
    pub fn shut_down(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Resolves once [`Sim::shut_down`] was called.
    pub async fn until_shutdown(&self) {
        let mut rx = self.inner.shutdown.subscribe();
        let _ = rx.wait_for(|down| *down).await;
    }
}

/// An ISO-8601 UTC instant with milliseconds, as Java's `Instant.toString` prints it.
pub fn iso8601(at: std::time::SystemTime) -> String {
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let (secs, millis) = (since.as_secs() as i64, since.subsec_millis());
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_730_800_801_123);
        assert_eq!(iso8601(at), "2024-11-05T10:00:01.123Z");
        assert_eq!(iso8601(std::time::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
