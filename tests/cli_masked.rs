//! Masked secrets are not drift, and a rotated secret is still seen: `diff` and `apply`
//! through the binary against connect-sim masking secrets on read (as a vendor does).
//! The fingerprint stored with each config decides; it never shows in a diff, and the
//! canary secret never shows anywhere.

mod common;

use std::path::Path;

use common::declaring;
use connect_sim::{Running, SimConfig};
use serde_json::{Value, json};

/// A simulator that shows secrets as `****`.
async fn masking_sim() -> Running {
    common::sim_with(SimConfig {
        mask_secrets: Some("****".into()),
        ..SimConfig::synchronous()
    })
    .await
}

/// `connect-sentinel VERB --connect-url SIM -f DIR --vars VARS EXTRA`: exit code,
/// stdout, stderr.
async fn declare(verb: &str, sim: &Running, dirs: &Dirs, extra: &[&str]) -> (i32, String, String) {
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let (manifests, vars) = (path(dirs.manifests.path()), path(dirs.vars.path()));
    let mut args = vec!["-f", &manifests, "--vars", &vars];
    args.extend(extra);
    declaring::run_text(verb, sim, &args).await
}

/// A manifest directory with a JDBC source whose password is `{{ vars.pw }}`, and the
/// `--vars` directory holding it.
struct Dirs {
    manifests: tempfile::TempDir,
    vars: tempfile::TempDir,
}

impl Dirs {
    fn new(password: &str) -> Self {
        let dirs = Self {
            manifests: tempfile::tempdir().unwrap(),
            vars: tempfile::tempdir().unwrap(),
        };
        let manifest = json!({"name": "orders", "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            "connection.url": "jdbc:postgresql://db:5432/orders", "topic.prefix": "orders-",
            "tasks.max": "1", "connection.password": "{{ vars.pw }}"}});
        let file = dirs.manifests.path().join("orders.json");
        std::fs::write(file, manifest.to_string()).unwrap();
        dirs.rotate(password);
        dirs
    }

    fn rotate(&self, password: &str) {
        std::fs::write(self.vars.path().join("pw"), format!("{password}\n")).unwrap();
    }
}

/// The stored config, read with masking off for a moment.
async fn stored(sim: &Running) -> Value {
    let control = common::control(sim);
    control.masking(None).await.unwrap();
    let config = common::get_json(&format!("{}/connectors/orders/config", sim.url())).await;
    control.masking(Some("****")).await.unwrap();
    config
}

/// `orders` as made by hand: owned, with the manifests' config, but no fingerprint.
async fn seed_by_hand(sim: &Running) {
    let config = json!({"connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": "jdbc:postgresql://db:5432/orders", "topic.prefix": "orders-",
        "tasks.max": "1", "connection.password": "CANARY-pw-1",
        "connect-sentinel.owner": "connect-sentinel"});
    let seed = json!({"connectors": [{"name": "orders", "type": "source", "config": config}]});
    common::seed(sim, seed).await;
}

fn assert_clean(texts: &[&str]) {
    for text in texts {
        assert!(!text.contains("CANARY"), "a secret leaked: {text}");
        assert!(!text.contains("connect-sentinel.fingerprint"), "{text}");
    }
}

/// Without a rotation, the masked password is unknown, not a change: diff exits 0 and
/// apply writes nothing, pass after pass.
#[tokio::test]
async fn a_masked_secret_is_not_drift() {
    let sim = masking_sim().await;
    let dirs = Dirs::new("CANARY-pw-1");
    let (code, out, err) = declare("apply", &sim, &dirs, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_clean(&[&out, &err]);
    let fingerprint = stored(&sim).await["connect-sentinel.fingerprint"].clone();
    assert!(
        fingerprint.as_str().unwrap().starts_with("v1:"),
        "{fingerprint}"
    );

    common::take_requests(&sim).await;
    for _ in 0..2 {
        let (code, out, err) = declare("diff", &sim, &dirs, &[]).await;
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.contains("No changes: 1 connector(s) up to date."),
            "{out}"
        );
        let (code, out, err) = declare("apply", &sim, &dirs, &["-o", "json"]).await;
        assert_eq!(code, 0, "{out}{err}");
        assert_clean(&[&out, &err]);
    }
    let counts = common::take_requests(&sim).await;
    let writes: u64 = counts["by_route"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| !route.starts_with("GET"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert_eq!(writes, 0, "{counts}");
}

/// A rotated secret is seen through the mask (the fingerprint differs): diff shows the
/// masked key, redacted; apply writes the new value; then nothing is left to do.
#[tokio::test]
async fn a_rotated_secret_is_seen_through_the_mask() {
    let sim = masking_sim().await;
    let dirs = Dirs::new("CANARY-pw-1");
    let (code, out, err) = declare("apply", &sim, &dirs, &[]).await;
    assert_eq!(code, 0, "{out}{err}");

    dirs.rotate("CANARY-pw-2");
    let (code, out, err) = declare("diff", &sim, &dirs, &[]).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("~ update orders\n    ~ connection.password: (redacted) → (redacted)\n"),
        "{out}"
    );
    assert!(out.contains("Plan: 0 to create, 1 to update"), "{out}");
    let (code, json_out, err) = declare("diff", &sim, &dirs, &["-o", "json"]).await;
    assert_eq!(code, 1, "{json_out}{err}");
    assert_clean(&[&out, &json_out, &err]);

    let (code, out, err) = declare("apply", &sim, &dirs, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_clean(&[&out, &err]);
    assert_eq!(stored(&sim).await["connection.password"], "CANARY-pw-2");
    let (code, out, err) = declare("diff", &sim, &dirs, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
}

/// A connector with masked secrets and no fingerprint (made by hand, or written by an
/// older version) is updated once, which stores one; a different --fingerprint-key
/// does the same, and a key under 16 bytes is refused without being shown.
#[tokio::test]
async fn a_missing_or_foreign_fingerprint_is_written_once() {
    let sim = masking_sim().await;
    let dirs = Dirs::new("CANARY-pw-1");
    seed_by_hand(&sim).await;
    let (code, out, err) = declare("diff", &sim, &dirs, &[]).await;
    assert_eq!(
        code, 1,
        "no fingerprint: the mask may hide a rotation: {out}{err}"
    );
    let (code, out, err) = declare("apply", &sim, &dirs, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = declare("diff", &sim, &dirs, &[]).await;
    assert_eq!(code, 0, "{out}{err}");

    let key = ["--fingerprint-key", "CANARY-key-0123456789"];
    let (code, out, err) = declare("diff", &sim, &dirs, &key).await;
    assert_eq!(code, 1, "another key, another fingerprint: {out}{err}");
    let (code, out, err) = declare("apply", &sim, &dirs, &key).await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = declare("diff", &sim, &dirs, &key).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_clean(&[&out, &err]);

    let (code, out, err) =
        declare("diff", &sim, &dirs, &["--fingerprint-key", "CANARY-short"]).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("invalid --fingerprint-key: must be at least 16 bytes (got 12)"),
        "{err}"
    );
    assert_clean(&[&out, &err]);
}

/// Without masking nothing changes for users: a create never lists the fingerprint,
/// and a live connector without one is not rewritten to add it.
#[tokio::test]
async fn the_fingerprint_never_shows_and_costs_no_write() {
    let sim = common::sim("3.9.0").await;
    let dirs = Dirs::new("CANARY-pw-1");
    for output in ["text", "json"] {
        let (code, out, err) = declare("diff", &sim, &dirs, &["-o", output]).await;
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("connection.url"), "{out}");
        assert_clean(&[&out, &err]);
    }
    seed_by_hand(&sim).await;
    let (code, out, err) = declare("diff", &sim, &dirs, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
}
