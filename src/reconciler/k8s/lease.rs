//! Leader election on a `coordination.k8s.io/v1` Lease, so that of several reconciler
//! replicas only one writes. The decision is pure ([`decide`]); [`run`] is the IO loop:
//! it renews every third of the lease duration, steps down when it cannot renew in
//! time, and releases the lease on shutdown (bounded by [`RELEASE_TIMEOUT`]) so a
//! standby takes over at once.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta},
    jiff::Timestamp,
};
use kube::{Api, api::PostParams};
use tokio::{sync::watch, time::Instant};

/// What to do with the lease as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseAction {
    /// No lease yet: create it, held by us.
    Create,
    /// We hold it: renew.
    Renew,
    /// Nobody holds it, or the holder let it expire: take it over.
    TakeOver,
    /// Someone else holds it.
    Follow { holder: String },
}

/// Decides from the lease's spec (`None`: no lease); `expired` says whether its
/// record has stayed unchanged for a whole lease duration as *we* observed it (our own
/// clock only, as client-go does, so clock skew between replicas does not matter).
pub fn decide(spec: Option<&LeaseSpec>, me: &str, expired: bool) -> LeaseAction {
    let Some(spec) = spec else {
        return LeaseAction::Create;
    };
    let holder = spec.holder_identity.as_deref().filter(|h| !h.is_empty());
    match holder {
        Some(h) if h == me => LeaseAction::Renew,
        Some(h) if !expired => LeaseAction::Follow {
            holder: h.to_string(),
        },
        _ => LeaseAction::TakeOver,
    }
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
    /// The lease record last seen (its resourceVersion) and when we first saw it.
    pub seen: Arc<Mutex<Option<(String, Instant)>>>,
}

impl Election {
    /// One round: read the lease and act; true when we hold it afterwards.
    pub async fn round(&self) -> Result<bool, kube::Error> {
        let lease = self.api.get_opt(&self.name).await?;
        let spec = lease.as_ref().and_then(|l| l.spec.as_ref());
        let next = held_by(&self.identity, spec, self.duration, Timestamp::now());
        let expired = self.expired(lease.as_ref());
        match decide(spec, &self.identity, expired) {
            LeaseAction::Follow { .. } => Ok(false),
            LeaseAction::Create => {
                let lease = Lease {
                    metadata: self.meta(None),
                    spec: Some(next),
                };
                self.api
                    .create(&PostParams::default(), &lease)
                    .await
                    .map(|_| true)
            }
            LeaseAction::Renew | LeaseAction::TakeOver => {
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

    /// True when the lease record has not changed for its whole duration since we
    /// first saw this version of it.
    fn expired(&self, lease: Option<&Lease>) -> bool {
        let Some(lease) = lease else { return false };
        let version = lease.metadata.resource_version.clone().unwrap_or_default();
        let seconds = lease
            .spec
            .as_ref()
            .and_then(|s| s.lease_duration_seconds)
            .unwrap_or(15);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match &*seen {
            Some((v, at)) if *v == version => {
                at.elapsed() >= Duration::from_secs(seconds.max(1) as u64)
            }
            _ => {
                *seen = Some((version, Instant::now()));
                false
            }
        }
    }

    fn meta(&self, resource_version: Option<String>) -> ObjectMeta {
        ObjectMeta {
            name: Some(self.name.clone()),
            resource_version,
            ..ObjectMeta::default()
        }
    }
}

/// Campaigns until `shutdown` (which also cuts a round short), publishing whether we
/// lead; then releases the lease if held, within [`RELEASE_TIMEOUT`]. A 409 (another replica
/// won the race) or an API error counts as not leading once the lease would have run
/// out.
pub async fn run(
    election: Election,
    leading: watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut last_held = None::<Instant>;
    // A leader that cannot renew steps down two thirds of the duration after its last
    // good round began, before anyone else may take the lease over; rounds and pauses
    // are cut short so that moment is never overslept, and a hung API call cannot keep
    // a stale leader leading.
    let (deadline, period) = (election.duration * 2 / 3, election.duration / 3);
    loop {
        let started = Instant::now();
        let left = |from: Option<Instant>| {
            from.map_or(period, |at| {
                (at + deadline)
                    .saturating_duration_since(Instant::now())
                    .min(period)
            })
        };
        let budget = if *leading.borrow() {
            left(last_held)
        } else {
            period
        };
        let still = || last_held.is_some_and(|at| at.elapsed() < deadline);
        let round = tokio::select! {
            _ = &mut shutdown => break,
            round = tokio::time::timeout(budget, election.round()) => round,
        };
        let (held, renewed) = match round {
            Ok(Ok(held)) => (held, held),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, lease = %election.name, "leader election round failed");
                (still(), false)
            }
            Err(_) => {
                tracing::warn!(lease = %election.name, "leader election round timed out");
                (still(), false)
            }
        };
        if renewed {
            last_held = Some(started);
        }
        if leading.send_replace(held) != held {
            tracing::info!(identity = %election.identity, leader = held, "leadership changed");
        }
        let pause = if held { left(last_held) } else { period };
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
    if *leading.borrow() {
        leading.send_replace(false);
        if tokio::time::timeout(RELEASE_TIMEOUT, election.release())
            .await
            .is_err()
        {
            tracing::warn!(lease = %election.name, "releasing the lease timed out: a standby takes over once it expires");
        }
    }
}

/// How long releasing the lease on shutdown may take, so that the process exits well
/// within Kubernetes' termination grace period even when the API server hangs.
pub const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::SignedDuration;

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

    /// Concrete leases and what replica "a" must do with each: the renew time never
    /// decides (clock skew), only whether the record stayed unchanged as we saw it.
    #[test]
    fn what_a_replica_does_with_each_lease() {
        let follow = || LeaseAction::Follow { holder: "b".into() };
        let cases = [
            (Some(spec(Some("a"), 1)), false, LeaseAction::Renew),
            (Some(spec(Some("a"), 3600)), true, LeaseAction::Renew),
            (Some(spec(Some("b"), 1)), false, follow()),
            (Some(spec(Some("b"), 3600)), false, follow()),
            (Some(spec(Some("b"), -3600)), false, follow()),
            (Some(spec(Some("b"), -3600)), true, LeaseAction::TakeOver),
            (Some(spec(Some("b"), 1)), true, LeaseAction::TakeOver),
            (Some(spec(Some(""), 1)), false, LeaseAction::TakeOver),
            (Some(spec(None, 3600)), false, LeaseAction::TakeOver),
            (Some(LeaseSpec::default()), false, LeaseAction::TakeOver),
            (None, false, LeaseAction::Create),
            (None, true, LeaseAction::Create),
        ];
        for (lease, expired, want) in cases {
            assert_eq!(
                decide(lease.as_ref(), "a", expired),
                want,
                "{lease:?} {expired}"
            );
        }
    }

    proptest::proptest! {
        /// Two replicas looking at a lease one of them holds, before it expired: exactly
        /// one writes it, and that is the holder, whatever the record's times say.
        #[test]
        fn only_the_holder_of_a_live_lease_writes(ago in -3600i64..3600, holder_is_a: bool) {
            let (holder, other) = if holder_is_a { ("a", "b") } else { ("b", "a") };
            let lease = spec(Some(holder), ago);
            let writes = |me: &str| decide(Some(&lease), me, false) != LeaseAction::Follow {
                holder: holder.into(),
            };
            proptest::prop_assert!(writes(holder));
            proptest::prop_assert!(!writes(other));
        }
    }
}
