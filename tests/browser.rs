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

/// Named `browser::…`, so `--skip browser::` leaves the tier out.
mod browser {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn the_status_page_in_chromium() {
        let chromium = chromium();
        let from = playwright();
        let sim = triage::seeded(&[]).await;
        let served = common::serve(&sim, &["--max-age", "2s"]).await;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/ui.mjs");
        let mut node = tokio::process::Command::new("node");
        node.arg(&script)
            .env("UI_URL", format!("{}/ui", served.url))
            .env("SIM_URL", sim.url())
            .env("CHROMIUM", &chromium)
            .env("PLAYWRIGHT_FROM", from.join("node_modules/playwright-core"))
            .env("SHOTS", from.join("screenshots"))
            .kill_on_drop(true);
        let out = tokio::time::timeout(SCRIPT_LIMIT, node.output())
            .await
            .expect("the browser script finishes within its limit")
            .expect("node runs (the browser tier needs Node.js)");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "browser checks failed:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("every check passed"), "{stdout}");
    }
}
