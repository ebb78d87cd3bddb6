//! The status page in a real browser: Debian's chromium driven by playwright-core from
//! npm (tests/browser/ui.mjs), against `serve` on connect-sim. Prerequisites fail
//! loudly with what to install: chromium (`apt-get install chromium`), Node.js and npm.
//! playwright-core is installed once with `npm ci` into target/browser (npm's own cache
//! keeps the download). Screenshots go to target/browser/screenshots. The test is named
//! `browser::the_status_page_in_chromium`: `-- --skip browser::` leaves it out.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use common::triage;

/// How long the browser script may run.
const SCRIPT_LIMIT: Duration = Duration::from_secs(180);

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "the browser tier needs Debian's chromium at {}: apt-get install chromium (or set CHROMIUM)",
        path.display()
    );
    path
}

fn run(command: &mut Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e} (the browser tier needs Node.js and npm)"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// target/browser with playwright-core installed from tests/browser's lock file.
fn playwright() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/browser");
    std::fs::create_dir_all(dir.join("screenshots")).unwrap();
    let lock = std::fs::read(root.join("tests/browser/package-lock.json")).unwrap();
    let installed = std::fs::read(dir.join("package-lock.json")).ok();
    if installed.as_deref() != Some(&lock[..]) || !dir.join("node_modules/playwright-core").exists()
    {
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(root.join("tests/browser").join(file), dir.join(file)).unwrap();
        }
        let mut npm = Command::new("npm");
        npm.args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(&dir);
        run(&mut npm, "npm ci (playwright-core)");
    }
    dir
}

/// Runs tests/browser/SCRIPT with `env`, the browser's path and playwright-core's;
/// its stdout once it succeeded.
async fn node(script: &str, chromium: &Path, from: &Path, env: &[(&str, String)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(script);
    let mut node = tokio::process::Command::new("node");
    node.arg(&path)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("CHROMIUM", chromium)
        .env("PLAYWRIGHT_FROM", from.join("node_modules/playwright-core"))
        .env("SHOTS", from.join("screenshots"))
        .kill_on_drop(true);
    let out = tokio::time::timeout(SCRIPT_LIMIT, node.output())
        .await
        .expect("the browser script finishes within its limit")
        .expect("node runs (the browser tier needs Node.js)");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    stdout
}

/// Named `browser::…`, so `--skip browser::` leaves the tier out.
mod browser {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn the_status_page_in_chromium() {
        let chromium = chromium();
        let from = playwright();
        let sim = triage::seeded(&[]).await;
        let served = common::serve(&sim, &["--max-age", "2s"]).await;
        let env = [
            ("UI_URL", format!("{}/ui", served.url)),
            ("SIM_URL", sim.url()),
        ];
        let stdout = node("ui.mjs", &chromium, &from, &env).await;
        assert!(stdout.contains("every check passed"), "{stdout}");
    }

    /// reconcile's page: declared connectors, drift, a refusal, live.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_reconcilers_page_in_chromium() {
        let (chromium, from) = (chromium(), playwright());
        let sim = common::sim("3.9.0").await;
        let dir = tempfile::tempdir().unwrap();
        for (name, topics) in [("orders", "orders"), ("audit", "audit")] {
            let config = serde_json::json!({"name": name, "config": {
                "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                "topics": topics, "file": "/tmp/browser.txt", "tasks.max": "1",
                "connection.password": "CANARY-browser-5150"}});
            std::fs::write(dir.path().join(format!("{name}.json")), config.to_string()).unwrap();
        }
        let (dir_arg, url) = (dir.path().to_str().unwrap(), sim.url());
        let argv = [
            "-f",
            dir_arg,
            "--connect-url",
            &url,
            "--interval",
            "200ms",
            "--debounce",
            "50ms",
        ];
        let r = common::reconciling::start(&argv, None).await;
        let env = [
            ("UI_URL", format!("{}/ui", r.url)),
            ("SIM_URL", sim.url()),
            ("DIR", dir_arg.to_string()),
        ];
        let stdout = node("reconcile.mjs", &chromium, &from, &env).await;
        assert!(stdout.contains("every reconcile check passed"), "{stdout}");
        r.stop().await;
    }

    /// The demo's page with its two failures, light and dark, and the reconciler's with
    /// the hand edit put back: the README's screenshots
    /// (target/browser/screenshots/demo-*.png).
    #[cfg(feature = "demo")]
    #[tokio::test(flavor = "multi_thread")]
    async fn the_demo_page_photographed() {
        let (chromium, from) = (chromium(), playwright());
        let command =
            common::process::demo_command(&["--fail-every", "1s", "--restart-after", "1h"]);
        let mut demo = common::process::Spawned::spawn(command, common::process::Stream::Stdout);
        let line = demo
            .line("the status page's URL", |l| {
                l.starts_with("Open the status page:")
            })
            .await;
        let url = line.rsplit(' ').next().unwrap().to_string();
        let line = demo
            .line("the reconciler's URL", |l| l.starts_with("Reconciler:"))
            .await;
        let reconciler = line.split_whitespace().nth(1).unwrap();
        let env = [
            ("UI_URL", url),
            ("RECONCILE_URL", format!("{reconciler}/ui")),
        ];
        let stdout = node("demo.mjs", &chromium, &from, &env).await;
        assert!(stdout.contains("demo photographed"), "{stdout}");
        demo.terminate();
    }
}
