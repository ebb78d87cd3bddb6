//! The silent-failure series of `/metrics`, derived from the latest [`Observed`] at
//! scrape time as [`super::scrape`] derives the others:
//!
//! | series | value |
//! |---|---|
//! | `silent_failures{check}` | connectors failing each check (every check, 0 when stale) |
//! | `connector_silent_failure{connector,check}` | 1 per connector and check it fails |
//! | `connector_running_tasks{connector}` | its RUNNING tasks |
//! | `connector_expected_tasks{connector}` | its expected RUNNING tasks, when known |
//!
//! Only the usable snapshot's findings count, so they never outlive `connect_up` 1.

use std::{collections::BTreeSet, fmt};

use prometheus_client::{
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, gauge::ConstGauge},
};

use crate::silent::{Check, Report};

/// Encodes the series of `report` (`None`: not usable, every count 0).
pub fn encode(encoder: &mut DescriptorEncoder, report: Option<&Report>) -> Result<(), fmt::Error> {
    let failing: BTreeSet<(&str, Check)> = report
        .into_iter()
        .flat_map(|r| &r.findings)
        .map(|f| (f.connector.as_str(), f.check))
        .collect();
    let help = "Connectors failing each silent-failure check (past the grace period)";
    let mut family = encoder.encode_descriptor("silent_failures", help, None, MetricType::Gauge)?;
    for check in Check::ALL {
        let n = failing.iter().filter(|(_, c)| *c == check).count() as i64;
        ConstGauge::new(n).encode(family.encode_family(&[("check", check.name())])?)?;
    }
    let Some(report) = report else {
        return Ok(());
    };
    let help = "1 for each silent-failure check the connector fails (past the grace period)";
    let name = "connector_silent_failure";
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (connector, check) in &failing {
        let labels = [("connector", *connector), ("check", check.name())];
        ConstGauge::new(1i64).encode(family.encode_family(&labels)?)?;
    }
    encode_tasks(encoder, report)
}

/// The running and expected task counts per connector.
fn encode_tasks(encoder: &mut DescriptorEncoder, report: &Report) -> Result<(), fmt::Error> {
    let help = "RUNNING tasks of the connector";
    let name = "connector_running_tasks";
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (connector, tasks) in &report.tasks {
        let value = i64::from(tasks.running);
        ConstGauge::new(value)
            .encode(family.encode_family(&[("connector", connector.as_str())])?)?;
    }
    let help = "Expected RUNNING tasks of the connector (connect-sentinel.expected-tasks or --expected-tasks)";
    let name = "connector_expected_tasks";
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (connector, tasks) in &report.tasks {
        if let Some(expected) = tasks.expected {
            let labels = [("connector", connector.as_str())];
            ConstGauge::new(i64::from(expected)).encode(family.encode_family(&labels)?)?;
        }
    }
    Ok(())
}
