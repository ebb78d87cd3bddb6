//! `GET /ui` (the status page) through `serve` against connect-sim: triage order,
//! chips with counts, search by name, class or topic, a root-cause line with the trace
//! one click away, the copy-paste command instead of a button, escaping, a canary secret
//! that never reaches the page, paging, and staleness when Connect hangs. The page in a
//! real browser (live updates, the script) is `tests/browser`.

mod common;

use serde_json::json;

use common::triage;

async fn seeded() -> connect_sim::Running {
    let markup = triage::sink(
        "<script>alert(1)</script>",
        "x",
        json!([{"state": "RUNNING"}]),
    );
    triage::seeded(&[markup]).await
}

/// The page's HTML at `path`, once it answers 200 with a table.
async fn html(served: &common::Served, path: &str) -> String {
    let (code, body) = served.get(path).await;
    assert_eq!(code, 200, "{body}");
    body.as_str().expect("HTML, not JSON").to_string()
}

/// Where each row's `data-name` appears, in page order.
fn row_names(page: &str) -> Vec<String> {
    page.split("data-name=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(String::from)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_connectors_come_first_with_their_cause_and_the_command() {
    let sim = seeded().await;
    let served = common::serve(&sim, &[]).await;
    let page = html(&served, "/ui").await;
    assert_eq!(
        row_names(&page),
        [
            "zz-failed",
            "mm-degraded",
            "pp-paused",
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;",
            "aa-healthy"
        ],
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "escaped");
    assert!(page.contains("DEGRADED (1 of 2 tasks FAILED)"), "{page}");
    assert!(
        page.contains(
            r#"<p class="cause">java.net.ConnectException: Connection refused; password="#
        ),
        "{page}"
    );
    assert!(
        page.contains("<summary>Trace of task 0</summary>"),
        "{page}"
    );
    assert!(page.contains("--failed zz-failed</code>"), "{page}");
    assert!(
        page.contains(r#"Failed <span class="n">1</span>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"Healthy <span class="n">2</span>"#),
        "{page}"
    );
    assert!(page.contains("<title>2 need attention"), "{page}");
    assert!(
        page.contains("Worker healthy") && page.contains("Data is "),
        "{page}"
    );
    assert!(!page.contains("CANARY"), "no secret on the page");
    assert_eq!(page.matches("<button").count(), 1, "no button but Search");
    assert!(
        page.contains("for 0 s") || page.contains("for 1 s"),
        "time in state"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chips_and_search_narrow_the_table_without_javascript() {
    let sim = seeded().await;
    let served = common::serve(&sim, &[]).await;
    let failed = html(&served, "/ui?state=failed").await;
    assert_eq!(row_names(&failed), ["zz-failed"]);
    assert!(failed.contains(r#"aria-current="page">Failed"#), "{failed}");
    let by_topic = html(&served, "/ui?q=AUDIT").await;
    assert_eq!(row_names(&by_topic), ["mm-degraded"]);
    let by_class = html(&served, "/ui?q=filestreamsink").await;
    assert_eq!(row_names(&by_class).len(), 4, "{by_class}");
    let none = html(&served, "/ui?state=healthy&q=payments").await;
    assert!(
        row_names(&none).is_empty() && none.contains("No connector matches."),
        "{none}"
    );
    let odd = html(&served, "/ui?state=nonsense&page=zero&q=&q=again").await;
    assert_eq!(
        row_names(&odd).len(),
        5,
        "unreadable parameters are ignored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_cluster_is_paged() {
    let sim = common::sim("3.9.0").await;
    common::seed(&sim, json!({"generate": {"count": 450}})).await;
    let served = common::serve(&sim, &[]).await;
    let first = html(&served, "/ui").await;
    assert_eq!(row_names(&first).len(), 200);
    assert!(
        first.contains("450 connectors, page 1 of 3"),
        "{}",
        &first[..2000]
    );
    assert!(first.contains(r#"<a rel="next" href="?page=2">"#));
    let last = html(&served, "/ui?page=3").await;
    assert_eq!(row_names(&last).len(), 50);
    let beyond = html(&served, "/ui?page=99").await;
    assert!(beyond.contains("page 3 of 3"), "clamped");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_connect_shows_as_stale_data() {
    let sim = seeded().await;
    let served = common::serve(&sim, &["--max-age", "1s", "--connect-timeout", "30s"]).await;
    assert!(!html(&served, "/ui").await.contains(r#"class="age stale""#));
    common::faults(&sim, json!({"hang": true})).await;
    let stale = common::eventually("the page says the data is stale", || async {
        let page = html(&served, "/ui").await;
        page.contains(r#"class="age stale""#).then_some(page)
    })
    .await;
    assert!(
        stale.contains(": stale, Connect has not answered since"),
        "{stale}"
    );
    assert_eq!(row_names(&stale).len(), 5, "the last data is still shown");
    common::control(&sim).clear_faults().await.unwrap();
}
