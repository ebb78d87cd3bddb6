//! The restart backoff schedule: a list of delays, the last one repeating.

use std::{fmt, str::FromStr, time::Duration};

/// Delays between restarts: entry `n` is the wait before restart `n + 1`, counted from
/// the failure (n = 0) or from restart `n`. The last entry repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule(Vec<Duration>);

/// A schedule that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} (expected comma-separated durations, e.g. 0s,2m,6m,12m)")]
pub struct ScheduleError(String);

impl Schedule {
    /// The wait before restart `attempts + 1`.
    pub fn delay(&self, attempts: u32) -> Duration {
        let last = self.0.len() - 1;
        self.0[(attempts as usize).min(last)]
    }

    /// The delays as written.
    pub fn delays(&self) -> &[Duration] {
        &self.0
    }
}

/// Strimzi's: immediately, then 2, 6, 12, 20, 30, 42, 56 minutes, then every 60.
impl Default for Schedule {
    fn default() -> Self {
        let minutes = [0, 2, 6, 12, 20, 30, 42, 56, 60];
        Self(
            minutes
                .iter()
                .map(|m| Duration::from_secs(m * 60))
                .collect(),
        )
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let delays = s
            .split(',')
            .map(str::trim)
            .map(|part| {
                humantime::parse_duration(part).map_err(|e| ScheduleError(format!("{part:?}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() {
            return Err(ScheduleError("empty schedule".into()));
        }
        Ok(Self(delays))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|d| humantime::format_duration(*d).to_string())
            .collect();
        f.write_str(&parts.join(","))
    }
}
