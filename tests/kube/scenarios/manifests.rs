//! Server-side dry-run of every rendered kustomization under deploy/: `kubectl kustomize
//! DIR | kubectl apply --dry-run=server --validate=strict` against the real API server,
//! so admission, defaulting and strict field validation see the manifests as a cluster
//! would. Without kubectl, each resource file of deploy/ unrendered, through the API
//! with dryRun=All.

use std::path::Path;

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, Client,
    api::{DynamicObject, GroupVersionKind, PostParams},
    discovery,
};
use serde_json::{Value, json};

use super::rbac::{kubectl, rendered};
use crate::{Scenario, server::ApiServer};

pub const SERVER_DRY_RUN: Scenario = Scenario {
    name: "manifests::deploy_passes_a_server_side_dry_run",
    run: |s| Box::pin(server_dry_run(s)),
};

const KUSTOMIZATIONS: [&str; 4] = [
    "deploy",
    "deploy/sidecar",
    "deploy/sidecar-exec",
    "deploy/reconciler",
];

async fn ensure_namespace(kube: &Client, name: &str) {
    let namespace: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    match Api::<Namespace>::all(kube.clone())
        .create(&PostParams::default(), &namespace)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => panic!("namespace {name}: {e}"),
    }
}

async fn server_dry_run(server: &ApiServer) {
    let kube = server.admin().await;
    match kubectl() {
        Some(kubectl) => {
            for dir in KUSTOMIZATIONS {
                let documents = rendered(&kubectl, dir);
                for ns in documents
                    .iter()
                    .filter_map(|d| d["metadata"]["namespace"].as_str())
                {
                    ensure_namespace(&kube, ns).await;
                }
                let list = json!({"apiVersion": "v1", "kind": "List", "items": documents});
                let mut child = std::process::Command::new(&kubectl)
                    .args([
                        "apply",
                        "--dry-run=server",
                        "--validate=strict",
                        "-f",
                        "-",
                        "--kubeconfig",
                    ])
                    .arg(server.kubeconfig_path())
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(list.to_string().as_bytes())
                    .unwrap();
                let out = child.wait_with_output().unwrap();
                let (stdout, stderr) = (
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr),
                );
                assert!(out.status.success(), "{dir}: {stdout}{stderr}");
                let accepted = stdout
                    .lines()
                    .filter(|l| l.ends_with("(server dry run)"))
                    .count();
                assert_eq!(
                    accepted,
                    documents.len(),
                    "{dir}: every object: {stdout}{stderr}"
                );
            }
        }
        None => {
            ensure_namespace(&kube, "kafka").await;
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
            for dir in KUSTOMIZATIONS {
                for entry in std::fs::read_dir(root.parent().unwrap().join(dir)).unwrap() {
                    let path = entry.unwrap().path();
                    let yaml = path.extension().is_some_and(|e| e == "yaml");
                    if !yaml || path.ends_with("kustomization.yaml") {
                        continue;
                    }
                    let text = std::fs::read_to_string(&path).unwrap();
                    for document in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
                        dry_run(&kube, document).await;
                    }
                }
            }
        }
    }
}

/// `POST …?dryRun=All` of one object, in namespace kafka when namespaced.
async fn dry_run(kube: &Client, document: Value) {
    let object: DynamicObject = serde_json::from_value(document).unwrap();
    let types = object.types.clone().unwrap();
    let (group, version) = types
        .api_version
        .split_once('/')
        .unwrap_or(("", &types.api_version));
    let gvk = GroupVersionKind::gvk(group, version, &types.kind);
    let (resource, capabilities) = discovery::pinned_kind(kube, &gvk).await.unwrap();
    let api: Api<DynamicObject> = match capabilities.scope {
        discovery::Scope::Namespaced => Api::namespaced_with(kube.clone(), "kafka", &resource),
        discovery::Scope::Cluster => Api::all_with(kube.clone(), &resource),
    };
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    if let Err(e) = api.create(&params, &object).await {
        panic!("{} {:?}: {e}", types.kind, object.metadata.name);
    }
}
