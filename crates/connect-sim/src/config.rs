//! Simulator settings: the Kafka version being imitated, lifecycle timing,
//! the worker ids, and optional basic auth.

use std::{fmt, str::FromStr, time::Duration};

/// A Kafka Connect worker version (`major.minor.patch`), used to gate features (spec §19).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    /// Builds a version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// True when this version is `major.minor` or newer.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Why a `--kafka-version` value was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid Kafka version {0:?}: expected MAJOR.MINOR[.PATCH], e.g. 3.9.0")]
pub struct VersionError(String);

impl FromStr for Version {
    type Err = VersionError;

    /// Accepts `3.9`, `3.9.0` and vendor strings such as `7.7.1-ccs` (the numeric prefix counts).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let numeric = s.split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<&str> = numeric.split('.').collect();
        let parse = |i: usize| -> Option<u32> { parts.get(i).map_or(Some(0), |p| p.parse().ok()) };
        match (parts.len(), parse(0), parse(1), parse(2)) {
            (2..=3, Some(major), Some(minor), Some(patch)) => Ok(Self::new(major, minor, patch)),
            _ => Err(VersionError(s.to_string())),
        }
    }
}

/// Everything the simulator needs to know at start-up.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The version whose features and quirks are imitated.
    pub version: Version,
    /// How long each asynchronous lifecycle step takes (create → status → tasks); zero makes
    /// every step due by the next request.
    pub lifecycle_delay: Duration,
    /// How long the rebalance window stays open after a config or task change (spec §18).
    pub rebalance_window: Duration,
    /// How long a herder-queued request waits before failing with `Request timed out`
    /// while the `timeout` fault is set (90 s in a real worker, spec §0.3).
    pub request_timeout: Duration,
    /// The `host:port` worker ids connectors and tasks are spread over.
    pub worker_ids: Vec<String>,
    /// `user`/`password` that every Connect endpoint then requires.
    pub basic_auth: Option<(String, String)>,
    /// `topic.tracking.enable` (spec §11).
    pub topic_tracking: bool,
    /// `topic.tracking.allow.reset` (spec §11).
    pub topic_tracking_reset: bool,
    /// Show secrets as this mask on read, as a vendor does (`None`: as stored, like
    /// real Connect).
    pub mask_secrets: Option<String>,
}

impl SimConfig {
    /// `n` worker ids of the form `connect-<i>:8083`.
    pub fn default_worker_ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("connect-{i}:8083")).collect()
    }

    /// The default configuration with no lifecycle delay: handy for tests that do not care
    /// about asynchronous timing.
    pub fn synchronous() -> Self {
        Self {
            lifecycle_delay: Duration::ZERO,
            rebalance_window: Duration::ZERO,
            ..Self::default()
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            version: Version::new(3, 9, 0),
            lifecycle_delay: Duration::from_millis(300),
            rebalance_window: Duration::from_millis(300),
            request_timeout: Duration::from_millis(2000),
            worker_ids: Self::default_worker_ids(3),
            basic_auth: None,
            topic_tracking: true,
            topic_tracking_reset: true,
            mask_secrets: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_short_and_vendor_versions() {
        assert_eq!("3.9.0".parse::<Version>().unwrap(), Version::new(3, 9, 0));
        assert_eq!("2.3".parse::<Version>().unwrap(), Version::new(2, 3, 0));
        assert_eq!(
            "7.7.1-ccs".parse::<Version>().unwrap(),
            Version::new(7, 7, 1)
        );
    }

    #[test]
    fn rejects_garbage_versions() {
        for bad in ["", "3", "three.nine", "3.9.0.1", "3.x"] {
            assert!(bad.parse::<Version>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn at_least_compares_major_then_minor() {
        let v = Version::new(3, 5, 2);
        assert!(v.at_least(3, 5) && v.at_least(2, 9) && !v.at_least(3, 6) && !v.at_least(4, 0));
    }
}
