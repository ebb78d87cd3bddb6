//! deploy/reconciler's ServiceAccount, Role and RoleBinding on the real API server (as
//! `kubectl kustomize` renders them, or the raw rbac.yaml without kubectl), and the
//! reconciler running with that ServiceAccount's token (TokenRequest API): the least-
//! privilege rules suffice for ConfigMaps, Events and the Lease, and a missing rule is
//! reported in the log with the API server's reason.

use std::path::Path;

use k8s_openapi::api::{
    authentication::v1::{TokenRequest, TokenRequestSpec},
    core::v1::ServiceAccount,
    rbac::v1::{Role, RoleBinding},
};
use kube::{Api, Client, api::PostParams};
use serde_json::{Value, json};

use super::{declare, events, eventually, file_of, reconciler, sink};
use crate::{Scenario, common, common::reconciling::outcome, logs, server::ApiServer};

pub const LEAST_PRIVILEGE: Scenario = Scenario {
    name: "rbac::the_deployed_role_suffices",
    run: |s| Box::pin(least_privilege(s)),
};

pub const MISSING_RULE: Scenario = Scenario {
    name: "rbac::a_missing_rule_is_reported",
    run: |s| Box::pin(missing_rule(s)),
};

const ACCOUNT: &str = "connect-sentinel-reconciler";

/// kubectl on PATH, else the one .ci/validate-manifests installs under target/.
pub fn kubectl() -> Option<String> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci/manifests-venv/bin/kubectl");
    let candidates = ["kubectl".to_string(), venv.to_string_lossy().into_owned()];
    candidates.into_iter().find(|k| {
        std::process::Command::new(k)
            .args(["kustomize", "--help"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// `kubectl kustomize DIR` (relative to the repository), parsed.
pub fn rendered(kubectl: &str, dir: &str) -> Vec<Value> {
    let out = std::process::Command::new(kubectl)
        .arg("kustomize")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_saphyr::from_multiple(&String::from_utf8(out.stdout).unwrap()).unwrap()
}

/// The reconciler's RBAC documents, rendered when kubectl exists.
fn rbac_documents() -> Vec<Value> {
    let documents: Vec<Value> = match kubectl() {
        Some(kubectl) => rendered(&kubectl, "deploy/reconciler"),
        None => {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/reconciler/rbac.yaml");
            serde_saphyr::from_multiple(&std::fs::read_to_string(path).unwrap()).unwrap()
        }
    };
    let rbac: Vec<Value> = documents
        .into_iter()
        .filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some("ServiceAccount" | "Role" | "RoleBinding")
            )
        })
        .collect();
    assert_eq!(rbac.len(), 3, "ServiceAccount, Role, RoleBinding: {rbac:?}");
    rbac
}

/// Creates the RBAC documents in `ns` (after `edit` on the Role's rules) and returns a
/// client authenticated as the ServiceAccount.
async fn as_service_account(server: &ApiServer, ns: &str, edit: impl Fn(&mut Value)) -> Client {
    let admin = server.admin().await;
    let post = PostParams::default();
    for mut document in rbac_documents() {
        document["metadata"]["namespace"] = json!(ns);
        match document["kind"].as_str().unwrap() {
            "ServiceAccount" => {
                let account: ServiceAccount = serde_json::from_value(document).unwrap();
                Api::namespaced(admin.clone(), ns)
                    .create(&post, &account)
                    .await
                    .unwrap();
            }
            "Role" => {
                edit(&mut document["rules"]);
                let role: Role = serde_json::from_value(document).unwrap();
                Api::namespaced(admin.clone(), ns)
                    .create(&post, &role)
                    .await
                    .unwrap();
            }
            _ => {
                for subject in document["subjects"].as_array_mut().unwrap() {
                    subject["namespace"] = json!(ns);
                }
                let binding: RoleBinding = serde_json::from_value(document).unwrap();
                Api::namespaced(admin.clone(), ns)
                    .create(&post, &binding)
                    .await
                    .unwrap();
            }
        }
    }
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    let issued = Api::<ServiceAccount>::namespaced(admin, ns)
        .create_token_request(ACCOUNT, &post, &request)
        .await
        .unwrap();
    let token = issued.status.and_then(|s| s.token).expect("a token");
    server.client_as(&token).await
}

/// The deployment's flags (--prune --leader-election) with the ServiceAccount's token:
/// list, watch, Events (created, then patched as a series) and the Lease all work.
async fn least_privilege(server: &ApiServer) {
    let (admin, sim) = (server.admin().await, common::sim("3.9.0").await);
    let ns = server.namespace("rbac").await;
    let mark = logs::mark();
    let account = as_service_account(server, &ns, |_| {}).await;
    declare(
        &admin,
        &ns,
        "sinks",
        json!({"a.json": sink("a", "/tmp/a1")}),
    )
    .await;
    let flags = ["--prune", "--leader-election", "--identity", "pod-0"];
    let r = reconciler(account, &ns, &sim, &flags).await;
    r.until("applied as the ServiceAccount", |s| outcome(s) == "applied")
        .await;
    for round in 2..4 {
        let file = format!("/tmp/a{round}");
        declare(&admin, &ns, "sinks", json!({"a.json": sink("a", &file)})).await;
        eventually("the change reached Connect", || async {
            (file_of(&sim, "a").await == Some(file.clone())).then_some(())
        })
        .await;
    }
    declare(&admin, &ns, "bad", json!({"b.yaml": "name: [unclosed\n"})).await;
    r.until("refused", |s| outcome(s) == "invalid").await;
    eventually(
        "Applied and Invalid Events, posted as the ServiceAccount",
        || async {
            let events = events(&admin, &ns).await;
            let has = |reason: &str| events.iter().any(|e| e.reason.as_deref() == Some(reason));
            (has("Applied") && has("Invalid")).then_some(())
        },
    )
    .await;
    let log = logs::since(mark);
    assert!(!log.contains("forbidden"), "a rule is missing:\n{log}");
    r.stop().await;
}

/// Without `watch` on configmaps the first list still works, and the log says what the
/// API server refused: the verb, the resource and the ServiceAccount.
async fn missing_rule(server: &ApiServer) {
    let (admin, sim) = (server.admin().await, common::sim("3.9.0").await);
    let ns = server.namespace("norbac").await;
    let no_watch = |rules: &mut Value| {
        for rule in rules.as_array_mut().unwrap() {
            if rule["resources"] == json!(["configmaps"]) {
                rule["verbs"] = json!(["get", "list"]);
            }
        }
    };
    let account = as_service_account(server, &ns, no_watch).await;
    declare(
        &admin,
        &ns,
        "sinks",
        json!({"a.json": sink("a", "/tmp/a1")}),
    )
    .await;
    let mark = logs::mark();
    let r = reconciler(account, &ns, &sim, &[]).await;
    let wanted = format!(
        "User \"system:serviceaccount:{ns}:{ACCOUNT}\" cannot watch resource \"configmaps\""
    );
    let line = eventually("the forbidden watch is logged", || async {
        logs::since(mark)
            .lines()
            .find(|l| l.contains(&wanted))
            .map(String::from)
    })
    .await;
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("rbac"), "{line}");
    r.stop().await;
}
