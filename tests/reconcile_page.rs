//! `reconcile`'s status page, desired against live, against connect-sim: each declared
//! connector with where it is declared, its owner in Connect, its state declared and
//! live, what the last pass planned and what became of it; drift made by hand shown
//! once the resync puts it back, with a `diff` command that runs as printed; a config
//! Connect refuses shown with its problems, the others pending. Never a secret. Waits
//! are on the page itself, never on the clock.

mod common;

use std::path::Path;

use common::reconciling::{self, Reconciling, outcome};
use connect_sim::Running;
use serde_json::{Value, json};

const CANARY: &str = "CANARY-page-9182";
const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

fn sink(topics: &str) -> Value {
    json!({"connector.class": SINK, "topics": topics, "file": "/tmp/page.txt",
        "tasks.max": "1", "connection.password": CANARY})
}

fn write(dir: &Path, name: &str, body: &Value) {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(body).unwrap()).unwrap();
}

async fn start(sim: &Running, dir: &Path) -> Reconciling {
    let (dir, url) = (dir.to_str().unwrap(), sim.url());
    let argv = ["-f", dir, "--connect-url", &url, "--interval", "100ms"];
    reconciling::start(&argv, None).await
}

/// `PUT /connectors/NAME/config` with `config`, as a person with curl would.
async fn put(sim: &Running, name: &str, config: &Value) {
    let url = format!("{}/connectors/{name}/config", sim.url());
    let answer = common::http().put(url).json(config).send().await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
}

/// The page's `<tr>` of the declared connector `name`, once `f` holds for it.
async fn declared_row(r: &Reconciling, name: &str, what: &str, f: impl Fn(&str) -> bool) -> String {
    let marker = r#"<tr class="drow"#;
    let named = format!(r#"data-name="{name}" data-fate"#);
    common::eventually(what, || async {
        let (code, page) = r.get("/ui").await;
        assert_eq!(code, 200, "{page}");
        assert!(!page.contains(CANARY), "{page}");
        let row = page
            .split(marker)
            .find(|row| row.contains(named.as_str()))?;
        let row = row.split("</tr>").next()?.to_string();
        f(&row).then_some(row)
    })
    .await
}

/// The text of the first `<code class="cmd">` in `html`, unescaped.
fn command(html: &str) -> String {
    let start = html.find(r#"<code class="cmd">"#).expect("a command") + 18;
    let text = &html[start..];
    let text = &text[..text.find("</code>").unwrap()];
    [
        ("&#x2f;", "/"),
        ("&#x27;", "'"),
        ("&quot;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
}

/// An unowned live connector is adopted, a new one created; both are then in sync and
/// ours. A hand edit is drift: the resync puts it back and the row says so, with a
/// `diff` command that, run as printed, finds nothing left to change.
#[tokio::test(flavor = "multi_thread")]
async fn declared_connectors_show_desired_against_live_and_drift() {
    let sim = common::sim("3.9.0").await;
    put(&sim, "legacy", &sink("old")).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "legacy.json",
        &json!({"name": "legacy", "config": sink("orders")}),
    );
    write(
        dir.path(),
        "fresh.json",
        &json!({"name": "fresh", "config": sink("audit")}),
    );
    let r = start(&sim, dir.path()).await;
    r.until("applied", |s| outcome(s) == "applied").await;
    let synced = |row: &str| row.contains("in sync") && row.contains(r#"<td class="owner">ours"#);
    let fresh = declared_row(&r, "fresh", "fresh in sync and ours", synced).await;
    assert!(fresh.contains("running / running"), "{fresh}");
    assert!(fresh.contains("fresh.json (document 1, line 1)"), "{fresh}");
    declared_row(&r, "legacy", "legacy adopted", synced).await;

    let mut live = common::get_json(&format!("{}/connectors/legacy/config", sim.url())).await;
    live["topics"] = json!("by-hand");
    put(&sim, "legacy", &live).await;
    let drifted = declared_row(&r, "legacy", "the drift put back", |row| {
        row.contains("drift corrected") && row.contains("update topics")
    })
    .await;
    let (_, page) = r.get("/ui").await;
    assert!(page.contains("1 with drift"), "{page}");
    let printed = command(&drifted);
    let words = shlex::split(&printed).expect("a shell command");
    assert_eq!(words[..2], ["connect-sentinel", "diff"], "{printed}");
    assert!(
        words.ends_with(&[
            "-f".into(),
            dir.path().join("legacy.json").display().to_string()
        ]),
        "{printed}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_connect-sentinel"))
        .args(&words[1..])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "no change left: {stdout}");
    assert!(!stdout.contains(CANARY), "{stdout}");
    r.stop().await;
}

/// Connect refuses one config: that row is refused with its problems, the other is
/// pending (nothing of the pass was written), and the page counts both.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_config_is_shown_with_its_problems_and_the_rest_pending() {
    let (sim, dir) = with_good_manifest().await;
    let bad = json!({"connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": "jdbc:postgresql://db/x", "tasks.max": "many",
        "connection.password": CANARY});
    write(
        dir.path(),
        "bad.json",
        &json!({"name": "bad", "config": bad}),
    );
    let r = start(&sim, dir.path()).await;
    r.until("refused", |s| outcome(s) == "invalid").await;
    let refused = declared_row(&r, "bad", "bad refused", |row| row.contains("refused:")).await;
    assert!(
        refused.contains("tasks.max: Invalid value many"),
        "{refused}"
    );
    assert!(refused.contains("not in Connect"), "{refused}");
    let pending = declared_row(&r, "good", "good pending", |row| row.contains("pending:")).await;
    assert!(pending.contains("create (running)"), "{pending}");
    assert!(pending.contains("running / absent"), "{pending}");
    let (_, page) = r.get("/ui").await;
    assert!(
        page.contains("1 failed or refused</span> · 1 pending"),
        "{page}"
    );
    assert!(page.contains("<title>1 need attention"), "{page}");
    let rows: Vec<&str> = page
        .match_indices(r#"<tr class="drow"#)
        .map(|(i, _)| &page[i..i + 40])
        .collect();
    assert!(rows[0].contains("refused"), "the refusal first: {rows:?}");
    assert!(
        page.contains("No declared connector enables autoRestart"),
        "{page}"
    );
    r.stop().await;
}

/// A manifest that cannot be read leaves no plan: the page says why, naming the file,
/// and shows no secret of the manifests that could be read.
#[tokio::test(flavor = "multi_thread")]
async fn unreadable_manifests_are_named_on_the_page() {
    let (sim, dir) = with_good_manifest().await;
    std::fs::write(dir.path().join("broken.json"), "{\"name\": \"broken\", ").unwrap();
    let r = start(&sim, dir.path()).await;
    let page = common::eventually("the reason on the page", || async {
        let (_, page) = r.get("/ui").await;
        page.contains("No plan: the manifests cannot be used")
            .then_some(page)
    })
    .await;
    assert!(page.contains("broken.json"), "{page}");
    assert!(!page.contains(CANARY), "{page}");
    assert!(!page.contains("No declared connectors as of"), "{page}");
    r.stop().await;
}

/// A 3.9 simulator and a directory declaring one valid sink, `good`.
async fn with_good_manifest() -> (Running, tempfile::TempDir) {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "good.json",
        &json!({"name": "good", "config": sink("orders")}),
    );
    (sim, dir)
}
