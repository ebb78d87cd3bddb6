//! A mocked Kubernetes API server on 127.0.0.1:0, just enough for what the real one in
//! the Kubernetes tier (tests/kube) cannot do on demand: ConfigMaps (list with a label
//! selector, and watch as a stream of JSON lines) whose next watch requests fail with
//! 500, and coordination.k8s.io Leases (get, create, replace with a resourceVersion
//! check) for leader election where the real tier is too heavy. events.k8s.io Events
//! are accepted and dropped. Tests change ConfigMaps directly.

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
    /// Every ConfigMap watch event, for watches resuming from a resourceVersion.
    history: Vec<Value>,
    failing_watches: u32,
    requests: Vec<String>,
    leases: BTreeMap<(String, String), Value>,
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
                "/apis/events.k8s.io/v1/namespaces/{ns}/events",
                axum::routing::post(event),
            )
            .route(
                "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
                axum::routing::post(create_lease),
            )
            .route(
                "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}",
                get(get_lease).put(replace_lease),
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

    /// Ends every open watch and answers the next `n` watch requests with 500.
    pub fn break_watches(&self, n: u32) {
        self.lock().failing_watches = n;
        let _ = self.changes.send(json!({"type": "_CLOSE"}));
    }

    /// The Lease `ns/name`, as last written.
    pub fn lease(&self, ns: &str, name: &str) -> Option<Value> {
        let key = (ns.to_string(), name.to_string());
        self.lock().leases.get(&key).cloned()
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

async fn event(Json(event): Json<Value>) -> Response {
    (StatusCode::CREATED, Json(event)).into_response()
}

fn status(code: StatusCode, reason: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": reason, "reason": reason, "code": code.as_u16()});
    (code, Json(body)).into_response()
}

async fn get_lease(
    State(api): State<KubeApi>,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    match api.lease(&ns, &name) {
        Some(lease) => Json(lease).into_response(),
        None => status(StatusCode::NOT_FOUND, "NotFound"),
    }
}

async fn create_lease(
    State(api): State<KubeApi>,
    Path(ns): Path<String>,
    Json(lease): Json<Value>,
) -> Response {
    let name = lease["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if api.lease(&ns, &name).is_some() {
        return status(StatusCode::CONFLICT, "AlreadyExists");
    }
    (StatusCode::CREATED, Json(api.store_lease(ns, name, lease))).into_response()
}

async fn replace_lease(
    State(api): State<KubeApi>,
    Path((ns, name)): Path<(String, String)>,
    Json(lease): Json<Value>,
) -> Response {
    let current = api.lease(&ns, &name);
    let version = |l: &Value| l["metadata"]["resourceVersion"].clone();
    match current {
        None => status(StatusCode::NOT_FOUND, "NotFound"),
        Some(c) if version(&c) != version(&lease) => status(StatusCode::CONFLICT, "Conflict"),
        Some(_) => Json(api.store_lease(ns, name, lease)).into_response(),
    }
}

impl KubeApi {
    /// Stores a Lease under a new resourceVersion; the stored object.
    fn store_lease(&self, ns: String, name: String, mut lease: Value) -> Value {
        let mut store = self.lock();
        store.version += 1;
        lease["metadata"]["namespace"] = json!(ns);
        lease["metadata"]["resourceVersion"] = json!(store.version.to_string());
        store.leases.insert((ns, name), lease.clone());
        lease
    }
}
