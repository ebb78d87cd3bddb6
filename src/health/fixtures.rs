//! Test builders for [`Observed`]: what the poll loop publishes after a poll.

use std::{collections::BTreeMap, time::Duration, time::SystemTime};

use tokio::time::Instant;

use super::Observed;
use crate::{
    connect::{ConnectError, ConnectorStatus, InstanceStatus, WorkerHealth},
    snapshot::{PollFailure, Snapshot},
    verdict::{Policy, Transitions, evaluate},
};

/// A snapshot of connectors (no tasks) in the given states.
pub fn snapshot(connectors: &[(&str, &str)]) -> Snapshot {
    let status = |name: &str, state: &str| ConnectorStatus {
        name: name.into(),
        connector: InstanceStatus {
            state: state.into(),
            worker_id: "w:8083".into(),
            trace: None,
        },
        tasks: Vec::new(),
        kind: None,
    };
    Snapshot {
        taken_at: SystemTime::now(),
        duration: Duration::ZERO,
        connectors: connectors
            .iter()
            .map(|(n, s)| (n.to_string(), Some(status(n, s))))
            .collect::<BTreeMap<_, _>>(),
        facts: Default::default(),
        worker: Ok(WorkerHealth::Healthy),
    }
}

/// A successful poll of `connectors`, evaluated with the default policy, just now.
pub fn polled(connectors: &[(&str, &str)]) -> Observed {
    let snapshot = snapshot(connectors);
    let verdict = evaluate(&snapshot, &Policy::default(), &Transitions::default());
    Observed {
        poll: Some(Ok(snapshot)),
        verdict: Some(verdict),
        ok_at: Some(Instant::now()),
        seq: 1,
        ..Observed::new(Instant::now())
    }
}

/// `previous`, after a poll that failed with `error`.
pub fn failed(previous: Observed, error: ConnectError) -> Observed {
    let failure = PollFailure {
        taken_at: SystemTime::now(),
        duration: Duration::ZERO,
        error,
    };
    Observed {
        poll: Some(Err(failure)),
        verdict: None,
        ..previous
    }
}

/// Connect refusing connections.
pub fn refused() -> ConnectError {
    ConnectError::Unreachable {
        url: "http://connect:8083".into(),
        reason: "connection refused".into(),
    }
}
