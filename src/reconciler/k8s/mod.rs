//! The Kubernetes side of `reconcile` (the `k8s` feature): ConfigMaps as the manifest
//! source, Events on them, and [`lease`] leader election.
//!
//! Every key of every ConfigMap matching `--selector` (in `--namespace`, or all) is a
//! manifest, named `configmap/<namespace>/<name>/<key>` in errors, read by the same
//! load step as ConfigMap files ([`crate::manifest::configmap`]: the dialect per key,
//! the `enabled` label). A reflector keeps them in memory; every added, modified
//! or deleted ConfigMap (each event of a batch) signals the `configmaps` trigger (a pass
//! runs if a document changed), and watch errors are retried with kube's default
//! backoff, so the watch never stops; a refusal (403: a missing RBAC rule) is logged as
//! an error that names the rules needed.

pub mod lease;
pub mod remediation;

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference};
use kube::{
    Api, Client, Resource,
    runtime::{
        WatchStreamExt,
        events::{Event, EventType, Recorder, Reporter},
        reflector::{self, Store},
        watcher,
    },
};
use tokio::sync::mpsc;

use crate::manifest::ConfigMapDoc;

/// The ConfigMaps watched, kept in memory.
#[derive(Clone)]
pub struct ConfigMaps {
    store: Store<ConfigMap>,
    recorder: Arc<Recorder>,
}

impl std::fmt::Debug for ConfigMaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigMaps")
            .field("count", &self.store.len())
            .finish()
    }
}

/// True when the API server refused the list or watch (403: a missing RBAC rule).
fn forbidden(error: &watcher::Error) -> bool {
    match error {
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status))
        | watcher::Error::WatchError(status) => status.is_forbidden(),
        _ => false,
    }
}

/// Prefix of the document names of ConfigMap keys.
const PREFIX: &str = "configmap/";

/// Starts watching; `changes` gets a message after each applied or deleted ConfigMap
/// (the [`super::Trigger::ConfigMaps`] channel).
pub fn watch(
    client: Client,
    namespace: Option<&str>,
    selector: &str,
    changes: mpsc::Sender<()>,
) -> ConfigMaps {
    let api: Api<ConfigMap> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (store, writer) = reflector::store();
    let config = watcher::Config::default().labels(selector);
    let stream = reflector::reflector(writer, watcher(api, config)).default_backoff();
    tokio::spawn(stream.for_each(move |event| {
        match event {
            Ok(watcher::Event::InitDone | watcher::Event::Apply(_) | watcher::Event::Delete(_)) => {
                let _ = changes.try_send(());
            }
            Ok(_) => {}
            Err(e) if forbidden(&e) => tracing::error!(
                error = %e,
                "ConfigMap watch forbidden: the reconciler's RBAC Role must grant get, list and \
                 watch on configmaps (deploy/reconciler/rbac.yaml); retrying with backoff"
            ),
            Err(e) => tracing::warn!(error = %e, "ConfigMap watch failed; retrying with backoff"),
        }
        std::future::ready(())
    }));
    let reporter = Reporter {
        controller: "connect-sentinel".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    ConfigMaps {
        store,
        recorder: Arc::new(Recorder::new(client, reporter)),
    }
}

impl ConfigMaps {
    /// False until the first list has completed (an empty store then must not prune).
    pub fn ready(&self) -> bool {
        futures::FutureExt::now_or_never(self.store.wait_until_ready()).is_some_and(|r| r.is_ok())
    }

    /// Feeds whether the first list completed and every ConfigMap's name, labels and
    /// data to `hasher`.
    pub fn hash_documents(&self, hasher: &mut impl std::hash::Hasher) {
        std::hash::Hash::hash(&(self.ready(), self.configmaps()), hasher);
    }

    /// Every watched ConfigMap (name, labels, data), in a stable order.
    pub fn configmaps(&self) -> Vec<ConfigMapDoc> {
        let mut maps: Vec<ConfigMapDoc> = self
            .store
            .state()
            .iter()
            .map(|map| ConfigMapDoc {
                namespace: map.metadata.namespace.clone(),
                name: map.metadata.name.clone().unwrap_or_default(),
                labels: map.metadata.labels.clone().unwrap_or_default(),
                data: map.data.clone().unwrap_or_default(),
            })
            .collect();
        maps.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        maps
    }

    /// Posts a Warning Event on the ConfigMap a refusal names (`configmap/ns/name/…`),
    /// so `kubectl describe configmap` shows why nothing was applied.
    pub async fn invalid(&self, message: &str) {
        let Some(reference) = self.referenced(message) else {
            return;
        };
        let event = Event {
            type_: EventType::Warning,
            reason: "Invalid".into(),
            note: Some(message.chars().take(1000).collect()),
            action: "Reconcile".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, &reference).await {
            tracing::warn!(error = %e, "cannot publish an Event");
        }
    }

    /// The first watched ConfigMap whose document name appears in `message`.
    fn referenced(&self, message: &str) -> Option<ObjectReference> {
        self.find(|id| {
            [format!("{id}/"), format!("{id}:")]
                .iter()
                .any(|named| message.contains(named.as_str()))
        })
    }

    /// The first watched ConfigMap whose id (`configmap/<namespace>/<name>`) `matches`.
    fn find(&self, matches: impl Fn(&str) -> bool) -> Option<ObjectReference> {
        self.store.state().into_iter().find_map(|map| {
            let (ns, name) = (
                map.metadata.namespace.as_deref()?,
                map.metadata.name.as_deref()?,
            );
            matches(&format!("{PREFIX}{ns}/{name}")).then(|| map.object_ref(&()))
        })
    }

    /// Posts `event` on the watched ConfigMap a connector was declared in (its document
    /// is `configmap/<namespace>/<name>/<key>`); nothing for a file or a ConfigMap no
    /// longer watched.
    pub async fn publish_on(&self, document: &std::path::Path, event: &Event) {
        let document = document.to_string_lossy();
        let Some(reference) = self.find(|id| document.starts_with(&format!("{id}/"))) else {
            return;
        };
        if let Err(e) = self.recorder.publish(event, &reference).await {
            tracing::warn!(error = %e, "cannot publish an Event");
        }
    }

    /// Every watched ConfigMap's reference.
    pub fn references(&self) -> Vec<ObjectReference> {
        self.store
            .state()
            .iter()
            .map(|m| m.object_ref(&()))
            .collect()
    }

    /// Posts an `Applied` Event on every watched ConfigMap.
    pub async fn applied(&self, note: &str) {
        let event = Event {
            type_: EventType::Normal,
            reason: "Applied".into(),
            note: Some(note.to_string()),
            action: "Reconcile".into(),
            secondary: None,
        };
        for reference in self.references() {
            if let Err(e) = self.recorder.publish(&event, &reference).await {
                tracing::warn!(error = %e, "cannot publish an Event");
            }
        }
    }
}
