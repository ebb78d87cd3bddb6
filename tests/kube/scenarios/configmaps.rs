//! ConfigMaps as the source against the real API server: list and watch with a label
//! selector, updates, additions, deletes with --prune, `Applied` and `Invalid` Events,
//! and a watch that resumes after kube-apiserver restarts, also after etcd compacted
//! away every resourceVersion the reconciler held.

use serde_json::json;

use super::{declare, delete, events, eventually, file_of, put, reconciler, sink, until_within};
use crate::{Scenario, common, common::reconciling::outcome, logs, server::ApiServer};

pub const LISTED_WATCHED_APPLIED: Scenario = Scenario {
    name: "configmaps::listed_watched_and_applied",
    run: |s| Box::pin(listed_watched_and_applied(s)),
};

pub const MALFORMED: Scenario = Scenario {
    name: "configmaps::a_malformed_one_gets_a_warning_event",
    run: |s| Box::pin(malformed(s)),
};

pub const RESUMES_AFTER_RESTART: Scenario = Scenario {
    name: "configmaps::the_watch_resumes_after_the_api_server_restarts",
    run: |s| Box::pin(resumes_after_restart(s)),
};

/// Listed at start-up, modified, added, deleted (with --prune): each reaches Connect,
/// other labels and other namespaces are ignored, and applied passes post Events.
async fn listed_watched_and_applied(server: &ApiServer) {
    let (kube, sim) = (server.admin().await, common::sim("3.9.0").await);
    let (ns, other) = (
        server.namespace("cm").await,
        server.namespace("cm-other").await,
    );
    declare(&kube, &ns, "sinks", json!({"a.json": sink("a", "/tmp/a1")})).await;
    declare(&kube, &ns, "keep", json!({"k.json": sink("k", "/tmp/k")})).await;
    let elsewhere = [("destination", "elsewhere")];
    put(
        &kube,
        &ns,
        "ignored",
        &elsewhere,
        json!({"x.json": sink("x", "/tmp/x")}),
    )
    .await;
    declare(
        &kube,
        &other,
        "theirs",
        json!({"y.json": sink("y", "/tmp/y")}),
    )
    .await;
    let r = reconciler(kube.clone(), &ns, &sim, &["--prune"]).await;
    r.until("created", |s| outcome(s) == "applied").await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/a1"));
    assert_eq!(file_of(&sim, "x").await, None, "not selected");
    assert_eq!(file_of(&sim, "y").await, None, "another namespace");

    declare(&kube, &ns, "sinks", json!({"a.json": sink("a", "/tmp/a2")})).await;
    let yaml = "apiVersion: kafka.strimzi.io/v1\nkind: KafkaConnector\nmetadata: {name: b}\nspec:\n  class: org.apache.kafka.connect.file.FileStreamSinkConnector\n  tasksMax: 1\n  config: {topics: audit, file: /tmp/b}\n";
    declare(&kube, &ns, "more", json!({"b.yaml": yaml})).await;
    r.until("updated and added", |s| {
        s.declared == 3 && outcome(s) == "applied"
    })
    .await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/a2"));
    assert_eq!(file_of(&sim, "b").await.as_deref(), Some("/tmp/b"));

    // Relabelled out of the selector: a deletion for the watch.
    put(&kube, &ns, "more", &elsewhere, json!({"b.yaml": yaml})).await;
    r.until("unselected", |s| s.declared == 2 && outcome(s) == "applied")
        .await;
    assert_eq!(file_of(&sim, "b").await, None, "pruned once unselected");
    delete(&kube, &ns, "sinks").await;
    r.until("pruned", |s| s.declared == 1 && outcome(s) == "applied")
        .await;
    assert_eq!(file_of(&sim, "a").await, None, "deleted with its ConfigMap");
    assert_eq!(file_of(&sim, "k").await.as_deref(), Some("/tmp/k"));

    let applied = eventually("an Applied Event on sinks", || async {
        let events = events(&kube, &ns).await;
        events.into_iter().find(|e| {
            e.reason.as_deref() == Some("Applied")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("sinks")
        })
    })
    .await;
    assert_eq!(applied.type_.as_deref(), Some("Normal"));
    assert_eq!(
        applied.reporting_controller.as_deref(),
        Some("connect-sentinel")
    );
    let regarding = applied.regarding.unwrap();
    assert_eq!(regarding.kind.as_deref(), Some("ConfigMap"));
    assert!(regarding.uid.is_some_and(|u| !u.is_empty()), "a real uid");
    r.stop().await;
}

/// A malformed ConfigMap: nothing is written, a Warning Event on it names the key, the
/// watch goes on, and fixing it applies everything.
async fn malformed(server: &ApiServer) {
    let (kube, sim) = (server.admin().await, common::sim("3.9.0").await);
    let ns = server.namespace("bad").await;
    declare(&kube, &ns, "sinks", json!({"a.json": sink("a", "/tmp/a1")})).await;
    let r = reconciler(kube.clone(), &ns, &sim, &[]).await;
    r.until("created", |s| outcome(s) == "applied").await;
    declare(&kube, &ns, "bad", json!({"b.yaml": "name: [unclosed\n"})).await;
    declare(&kube, &ns, "sinks", json!({"a.json": sink("a", "/tmp/a2")})).await;
    r.until("refused", |s| outcome(s) == "invalid").await;
    assert_eq!(
        file_of(&sim, "a").await.as_deref(),
        Some("/tmp/a1"),
        "nothing written"
    );
    let warning = eventually("a Warning Event on bad", || async {
        let events = events(&kube, &ns).await;
        events
            .into_iter()
            .find(|e| e.type_.as_deref() == Some("Warning"))
    })
    .await;
    let regarding = warning.regarding.as_ref().unwrap();
    assert_eq!(regarding.name.as_deref(), Some("bad"), "{warning:?}");
    assert_eq!(warning.reason.as_deref(), Some("Invalid"));
    let note = warning.note.clone().unwrap_or_default();
    assert!(
        note.contains(&format!("configmap/{ns}/bad/b.yaml")),
        "{note}"
    );

    declare(&kube, &ns, "bad", json!({"b.json": sink("b", "/tmp/b")})).await;
    r.until("fixed", |s| outcome(s) == "applied").await;
    assert_eq!(file_of(&sim, "a").await.as_deref(), Some("/tmp/a2"));
    assert_eq!(file_of(&sim, "b").await.as_deref(), Some("/tmp/b"));
    r.stop().await;
}

/// kube-apiserver restarts under a running reconciler: its watch breaks and resumes, and
/// a later change is applied. Then again, with etcd compacted while the server is down,
/// so the resumed watch's resourceVersion is gone (410 Gone) and the reflector re-lists.
async fn resumes_after_restart(server: &ApiServer) {
    let (kube, sim) = (server.admin().await, common::sim("3.9.0").await);
    let ns = server.namespace("restart").await;
    declare(&kube, &ns, "sinks", json!({"a.json": sink("a", "/tmp/a1")})).await;
    let r = reconciler(kube.clone(), &ns, &sim, &["--prune"]).await;
    r.until("created", |s| outcome(s) == "applied").await;
    for (round, compact) in [(2, false), (3, true)] {
        let mark = logs::mark();
        server.restart_apiserver(compact).await;
        let file = format!("/tmp/a{round}");
        declare(&kube, &ns, "sinks", json!({"a.json": sink("a", &file)})).await;
        declare(
            &kube,
            &ns,
            &format!("extra-{round}"),
            json!({"e.json": sink(&format!("e{round}"), "/tmp/e")}),
        )
        .await;
        let what = format!("applied after restart {round}");
        until_within(&r, 90, &what, |s| {
            s.declared == 2 && outcome(s) == "applied"
        })
        .await;
        eventually("the change reached Connect", || async {
            (file_of(&sim, "a").await.as_deref() == Some(file.as_str())).then_some(())
        })
        .await;
        if compact {
            // The resumed watch's resourceVersion was compacted away: 410, then a re-list.
            let log = logs::since(mark);
            assert!(log.contains("too old resource version"), "{log}");
        }
        delete(&kube, &ns, &format!("extra-{round}")).await;
        r.until("pruned", |s| s.declared == 1 && outcome(s) == "applied")
            .await;
    }
    assert_eq!(file_of(&sim, "e3").await, None, "pruned after the re-list");
    r.stop().await;
}
