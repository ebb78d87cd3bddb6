//! A mocked Kubernetes API server on 127.0.0.1:0, just enough for `reconcile`:
//! ConfigMaps (list with a label selector, and watch as a stream of JSON lines),
//! coordination.k8s.io Leases (get, create, replace with resourceVersion conflicts) and
//! events.k8s.io Events (recorded for assertions). Tests change ConfigMaps directly and
//! can make the next watch requests fail.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Body,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

#[derive(Default)]
struct Store {
    version: u64,
    configmaps: BTreeMap<(String, String), Value>,
    leases: BTreeMap<(String, String), Value>,
    events: Vec<Value>,
    /// Every ConfigMap watch event, for watches resuming from a resourceVersion.
    history: Vec<Value>,
    failing_watches: u32,
    requests: Vec<String>,
}

/// The mocked API; cheap to clone.
#[derive(Clone)]
pub struct KubeApi {
    store: Arc<Mutex<Store>>,
    changes: broadcast::Sender<Value>,
    pub url: String,
}

impl KubeApi {
    /// Starts the server.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let api = Self {
            store: Arc::default(),
            changes: broadcast::channel(256).0,
            url,
        };
        let app = Router::new()
            .route("/api/v1/namespaces/{ns}/configmaps", get(configmaps))
            .route(
                "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
                axum::routing::post(create_lease),
            )
            .route(
                "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}",
                get(get_lease).put(put_lease),
            )
            .route(
                "/apis/events.k8s.io/v1/namespaces/{ns}/events",
                axum::routing::post(event),
            )
            .route(
                "/apis/events.k8s.io/v1/namespaces/{ns}/events/{name}",
                axum::routing::patch(event_patch),
            )
            .with_state(api.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        api
    }

    /// A kube client for this server.
    pub fn client(&self) -> kube::Client {
        let config = kube::Config::new(self.url.parse().unwrap());
        kube::Client::try_from(config).unwrap()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap()
    }

    /// Creates or replaces a ConfigMap, and tells the watchers.
    pub fn apply(&self, ns: &str, name: &str, labels: Value, data: Value) {
        let mut store = self.lock();
        store.version += 1;
        let key = (ns.to_string(), name.to_string());
        let kind = if store.configmaps.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns,
            "uid": format!("uid-{ns}-{name}"), "resourceVersion": store.version.to_string(), "labels": labels}, "data": data});
        store.configmaps.insert(key, object.clone());
        let event = json!({"type": kind, "object": object});
        store.history.push(event.clone());
        let _ = self.changes.send(event);
    }

    /// Deletes a ConfigMap, and tells the watchers.
    pub fn delete(&self, ns: &str, name: &str) {
        let mut store = self.lock();
        store.version += 1;
        if let Some(mut object) = store.configmaps.remove(&(ns.to_string(), name.to_string())) {
            object["metadata"]["resourceVersion"] = json!(store.version.to_string());
            let event = json!({"type": "DELETED", "object": object});
            store.history.push(event.clone());
            let _ = self.changes.send(event);
        }
    }

    /// Ends every open watch and answers the next `n` watch requests with 500.
    pub fn break_watches(&self, n: u32) {
        self.lock().failing_watches = n;
        let _ = self.changes.send(json!({"type": "_CLOSE"}));
    }

    /// The Events posted so far.
    pub fn events(&self) -> Vec<Value> {
        self.lock().events.clone()
    }

    /// The lease, if any.
    pub fn lease(&self, ns: &str, name: &str) -> Option<Value> {
        self.lock()
            .leases
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    /// Requests seen, as `METHOD path?query` (watch requests marked).
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }
}

fn matches(labels: &Value, selector: Option<&String>) -> bool {
    selector.is_none_or(|s| {
        s.split(',')
            .filter(|p| !p.is_empty())
            .all(|pair| match pair.split_once('=') {
                Some((k, v)) => labels[k.trim()] == v.trim(),
                None => false,
            })
    })
}

async fn configmaps(
    State(api): State<KubeApi>,
    Path(ns): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let selector = q.get("labelSelector").cloned();
    let watching = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    api.lock()
        .requests
        .push(format!("GET configmaps watch={watching}"));
    if !watching {
        let store = api.lock();
        let items: Vec<Value> = store
            .configmaps
            .iter()
            .filter(|((n, _), cm)| {
                *n == ns && matches(&cm["metadata"]["labels"], selector.as_ref())
            })
            .map(|(_, cm)| cm.clone())
            .collect();
        let list = json!({"apiVersion": "v1", "kind": "ConfigMapList",
            "metadata": {"resourceVersion": store.version.to_string()}, "items": items});
        return Json(list).into_response();
    }
    let since: u64 = q
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let live = api.changes.subscribe();
    let missed: Vec<Value> = {
        let mut store = api.lock();
        if store.failing_watches > 0 {
            store.failing_watches -= 1;
            return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"kind": "Status", "apiVersion": "v1",
                "status": "Failure", "message": "etcd is sad", "reason": "InternalError", "code": 500}))).into_response();
        }
        let rv = |e: &Value| {
            e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|v| v.parse::<u64>().ok())
        };
        store
            .history
            .iter()
            .filter(|e| rv(e).is_some_and(|v| v > since))
            .cloned()
            .collect()
    };
    let events = futures::stream::iter(missed)
        .chain(BroadcastStream::new(live).filter_map(|e| std::future::ready(e.ok())))
        .take_while(|e| std::future::ready(e["type"] != "_CLOSE"))
        .filter(move |e| {
            let object = &e["object"];
            let keep = object["metadata"]["namespace"] == ns.as_str()
                && matches(&object["metadata"]["labels"], selector.as_ref());
            std::future::ready(keep)
        })
        .map(|e| Ok::<_, std::convert::Infallible>(format!("{e}\n")));
    Response::new(Body::from_stream(events))
}

async fn get_lease(
    State(api): State<KubeApi>,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    match api.lease(&ns, &name) {
        Some(lease) => Json(lease).into_response(),
        None => not_found(&name),
    }
}

fn not_found(name: &str) -> Response {
    let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
        "message": format!("leases.coordination.k8s.io \"{name}\" not found")});
    (StatusCode::NOT_FOUND, Json(status)).into_response()
}

fn conflict(name: &str) -> Response {
    let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Conflict", "code": 409,
        "message": format!("Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\"")});
    (StatusCode::CONFLICT, Json(status)).into_response()
}

async fn create_lease(
    State(api): State<KubeApi>,
    Path(ns): Path<String>,
    Json(mut lease): Json<Value>,
) -> Response {
    let name = lease["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut store = api.lock();
    if store.leases.contains_key(&(ns.clone(), name.clone())) {
        return conflict(&name);
    }
    store.version += 1;
    lease["metadata"]["resourceVersion"] = json!(store.version.to_string());
    lease["metadata"]["namespace"] = json!(ns);
    store.leases.insert((ns, name), lease.clone());
    (StatusCode::CREATED, Json(lease)).into_response()
}

async fn put_lease(
    State(api): State<KubeApi>,
    Path((ns, name)): Path<(String, String)>,
    Json(mut lease): Json<Value>,
) -> Response {
    let mut store = api.lock();
    let key = (ns.clone(), name.clone());
    let Some(current) = store.leases.get(&key) else {
        return not_found(&name);
    };
    if current["metadata"]["resourceVersion"] != lease["metadata"]["resourceVersion"] {
        return conflict(&name);
    }
    store.version += 1;
    lease["metadata"]["resourceVersion"] = json!(store.version.to_string());
    lease["metadata"]["namespace"] = json!(ns);
    store.leases.insert(key, lease.clone());
    Json(lease).into_response()
}

async fn event(
    State(api): State<KubeApi>,
    Path(ns): Path<String>,
    Json(mut event): Json<Value>,
) -> Response {
    if event["metadata"]["name"].is_null() {
        let n = api.lock().events.len();
        event["metadata"]["name"] = json!(format!("event-{n}"));
    }
    event["metadata"]["namespace"] = json!(ns);
    api.lock().events.push(event.clone());
    (StatusCode::CREATED, Json(event)).into_response()
}

async fn event_patch(
    State(api): State<KubeApi>,
    Path((_, name)): Path<(String, String)>,
    Json(patch): Json<Value>,
) -> Response {
    let mut store = api.lock();
    let found = store
        .events
        .iter()
        .rposition(|e| e["metadata"]["name"] == name.as_str());
    let Some(i) = found else {
        return not_found(&name);
    };
    if let (Some(target), Some(changes)) = (store.events[i].as_object_mut(), patch.as_object()) {
        for (k, v) in changes {
            target.insert(k.clone(), v.clone());
        }
    }
    Json(store.events[i].clone()).into_response()
}
