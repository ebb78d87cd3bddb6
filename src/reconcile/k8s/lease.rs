//! Leader election on a `coordination.k8s.io/v1` Lease, so that of several reconciler
//! replicas only one writes. The decision is pure ([`decide`]); [`run`] is the IO loop:
//! it renews every third of the lease duration, steps down when it cannot renew in
//! time, and releases the lease on shutdown so a standby takes over at once.

use std::time::Duration;

use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta},
    jiff::{SignedDuration, Timestamp},
};
use kube::{Api, api::PostParams};
use tokio::sync::watch;

/// What to do with the lease as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// No lease yet: create it, held by us.
    Create,
    /// We hold it: renew.
    Renew,
    /// Nobody holds it, or the holder let it expire: take it over.
    TakeOver,
    /// Someone else holds it.
    Follow { holder: String },
}

/// Decides from the lease's spec (`None`: no lease) at `now`.
pub fn decide(spec: Option<&LeaseSpec>, me: &str, now: Timestamp) -> Step {
    let Some(spec) = spec else {
        return Step::Create;
    };
    let holder = spec.holder_identity.as_deref().filter(|h| !h.is_empty());
    match holder {
        Some(h) if h == me => Step::Renew,
        Some(h) if !expired(spec, now) => Step::Follow {
            holder: h.to_string(),
        },
        _ => Step::TakeOver,
    }
}

fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let seconds = i64::from(spec.lease_duration_seconds.unwrap_or(15));
    let renewed = spec.renew_time.as_ref().or(spec.acquire_time.as_ref());
    renewed.is_none_or(|t| t.0 + SignedDuration::from_secs(seconds) <= now)
}

/// The lease spec we write when holding it.
pub fn held_by(
    me: &str,
    previous: Option<&LeaseSpec>,
    duration: Duration,
    now: Timestamp,
) -> LeaseSpec {
    let ours = previous.is_some_and(|p| p.holder_identity.as_deref() == Some(me));
    let transitions = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
    LeaseSpec {
        holder_identity: Some(me.to_string()),
        lease_duration_seconds: Some(duration.as_secs().max(1) as i32),
        acquire_time: match ours {
            true => previous.and_then(|p| p.acquire_time.clone()),
            false => Some(MicroTime(now)),
        },
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(if ours { transitions } else { transitions + 1 }),
        ..LeaseSpec::default()
    }
}

/// Who we are, which lease, and for how long a holder keeps it.
#[derive(Clone, Debug)]
pub struct Election {
    pub api: Api<Lease>,
    pub name: String,
    pub identity: String,
    pub duration: Duration,
}

impl Election {
    /// One round: read the lease and act; true when we hold it afterwards.
    pub async fn round(&self) -> Result<bool, kube::Error> {
        let lease = self.api.get_opt(&self.name).await?;
        let spec = lease.as_ref().and_then(|l| l.spec.as_ref());
        let now = Timestamp::now();
        let next = held_by(&self.identity, spec, self.duration, now);
        match decide(spec, &self.identity, now) {
            Step::Follow { .. } => Ok(false),
            Step::Create => {
                let lease = Lease {
                    metadata: self.meta(None),
                    spec: Some(next),
                };
                self.api
                    .create(&PostParams::default(), &lease)
                    .await
                    .map(|_| true)
            }
            Step::Renew | Step::TakeOver => {
                let version = lease.and_then(|l| l.metadata.resource_version);
                let lease = Lease {
                    metadata: self.meta(version),
                    spec: Some(next),
                };
                self.api
                    .replace(&self.name, &PostParams::default(), &lease)
                    .await
                    .map(|_| true)
            }
        }
    }

    /// Gives the lease up (on shutdown), so a standby need not wait for it to expire.
    pub async fn release(&self) {
        let Ok(Some(lease)) = self.api.get_opt(&self.name).await else {
            return;
        };
        let spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        let released = LeaseSpec {
            holder_identity: None,
            ..spec
        };
        let lease = Lease {
            metadata: self.meta(lease.metadata.resource_version),
            spec: Some(released),
        };
        let _ = self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await;
    }

    fn meta(&self, resource_version: Option<String>) -> ObjectMeta {
        ObjectMeta {
            name: Some(self.name.clone()),
            resource_version,
            ..ObjectMeta::default()
        }
    }
}

/// Campaigns until `shutdown`, publishing whether we lead. A 409 (another replica
/// won the race) or an API error counts as not leading once the lease would have run
/// out.
pub async fn run(
    election: Election,
    leading: watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut last_held = None::<tokio::time::Instant>;
    // A leader that cannot renew steps down after two thirds of the duration, counted
    // from before its last successful round, so it stops writing before anyone else may
    // take the lease over (renew time + duration on the server).
    let deadline = election.duration * 2 / 3;
    loop {
        let started = tokio::time::Instant::now();
        // A hung API call must not keep a stale leader leading: bound each round.
        let still = || last_held.is_some_and(|at: tokio::time::Instant| at.elapsed() < deadline);
        let held = match tokio::time::timeout(election.duration / 3, election.round()).await {
            Ok(Ok(held)) => held,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, lease = %election.name, "leader election round failed");
                still()
            }
            Err(_) => {
                tracing::warn!(lease = %election.name, "leader election round timed out");
                still()
            }
        };
        if held {
            last_held = Some(started);
        }
        if leading.send_replace(held) != held {
            tracing::info!(identity = %election.identity, leader = held, "leadership changed");
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(election.duration / 3) => {}
        }
    }
    if *leading.borrow() {
        election.release().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, renewed_secs_ago: i64) -> LeaseSpec {
        let now = Timestamp::now();
        LeaseSpec {
            holder_identity: holder.map(String::from),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(now - SignedDuration::from_secs(renewed_secs_ago))),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn create_renew_follow_take_over() {
        let now = Timestamp::now();
        assert_eq!(decide(None, "a", now), Step::Create);
        assert_eq!(decide(Some(&spec(Some("a"), 1)), "a", now), Step::Renew);
        assert_eq!(
            decide(Some(&spec(Some("b"), 1)), "a", now),
            Step::Follow { holder: "b".into() }
        );
        assert_eq!(
            decide(Some(&spec(Some("b"), 16)), "a", now),
            Step::TakeOver,
            "expired"
        );
        assert_eq!(
            decide(Some(&spec(None, 1)), "a", now),
            Step::TakeOver,
            "released"
        );
    }

    #[test]
    fn taking_over_counts_a_transition_and_renewing_does_not() {
        let now = Timestamp::now();
        let theirs = LeaseSpec {
            lease_transitions: Some(3),
            ..spec(Some("b"), 20)
        };
        let taken = held_by("a", Some(&theirs), Duration::from_secs(15), now);
        assert_eq!(
            (taken.holder_identity.as_deref(), taken.lease_transitions),
            (Some("a"), Some(4))
        );
        let renewed = held_by("a", Some(&taken), Duration::from_secs(15), now);
        assert_eq!(renewed.lease_transitions, Some(4));
        assert_eq!(renewed.acquire_time, taken.acquire_time);
    }

    proptest::proptest! {
        /// An unexpired lease held by someone else is never taken.
        #[test]
        fn never_steals_a_live_lease(ago in 0i64..15, duration in 1i32..60) {
            let live = LeaseSpec { lease_duration_seconds: Some(duration.max(ago as i32 + 1)), ..spec(Some("b"), ago) };
            let step = decide(Some(&live), "a", Timestamp::now());
            proptest::prop_assert_eq!(step, Step::Follow { holder: "b".into() });
        }
    }
}
