//! Hostile manifest input through the real binary against connect-sim: template bombs,
//! files that are not files, symlink loops, dot-segment names, Java `.properties` as
//! `Properties.store` writes them, duplicates, and the same `-f` twice. Every case ends
//! in a clear error naming the file (and connector and key), bounded in time by
//! [`common::run`] (through `declaring::run`), or in the right config on the simulator.

mod common;

use std::{fs, path::Path};

use common::{declaring::run, text};
use connect_sim::Running;
use serde_json::Value;

/// `diff` fails with exit 2 and a message holding every one of `expected`.
async fn assert_refused(sim: &Running, extra: &[&str], expected: &[&str]) {
    let out = run("diff", sim, extra).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{part:?} missing from:\n{stderr}");
    }
}

fn sink(name: &str, extra: &str) -> String {
    format!(
        "name: {name}\nconfig:\n  connector.class: FileStreamSink\n  topics: t\n  file: /tmp/{name}\n{extra}"
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Loops, repetition, unbounded joins and lookups that would build gigabytes end in an
/// error naming file, connector and key, within the runner's patience.
#[tokio::test]
async fn template_bombs_are_refused_naming_file_connector_and_key() {
    let sim = common::sim("3.9.0").await;
    let vars = tempfile::tempdir().unwrap();
    fs::write(vars.path().join("big"), "x".repeat(100_000)).unwrap();
    fs::write(vars.path().join("s"), "ab").unwrap();
    let deep = format!("'{{{{ {} 1 }}}}'", "vars.s ~ ".repeat(2_000));
    let long = format!(
        "'{}'",
        format!("{{{{ {} 1 }}}}", "vars.s ~ ".repeat(100)).repeat(20)
    );
    let big_ref = "vars.big ~ ".repeat(20);
    let cases = [
        (
            "'{% for i in range(10000) %}{% for j in range(10000) %}{{ j }}{% endfor %}{% endfor %}'",
            "statements ({% … %}) are not supported",
        ),
        (
            "'{{ range(10000)|join(range(10000)|join) }}'",
            "template error",
        ),
        (
            "\"{{ 'x' * 1000000000 }}\"",
            "`*` (repetition or multiplication)",
        ),
        (
            "'{{ vars.big|list|join(vars.big) }}'",
            "join would exceed the 1 MiB limit",
        ),
        (
            &format!("'{{{{ {big_ref} 1 }}}}'"),
            "exceeds the 1 MiB limit",
        ),
        // Nests 2,000 deep: minijinja's compiler overflowed the stack (an abort).
        (&deep, "longer than 1000 characters"),
        (&long, "more than 2000 steps"),
    ];
    for (template, reason) in cases {
        let dir = tempfile::tempdir().unwrap();
        let manifest = sink("bomb", &format!("  bomb.key: {template}\n"));
        fs::write(dir.path().join("bomb.yaml"), manifest).unwrap();
        let flags = ["-f", path(dir.path()), "--vars", path(vars.path())];
        assert_refused(
            &sim,
            &flags,
            &["bomb.yaml", "connector \"bomb\", key \"bomb.key\"", reason],
        )
        .await;
    }
}

/// A FIFO, a symlink to `/dev/zero`, and a `--vars` file that is not `.properties` are
/// refused naming the path; nothing blocks or reads forever.
#[cfg(unix)]
#[tokio::test]
async fn files_that_are_not_files_are_refused_naming_the_path() {
    let sim = common::sim("3.9.0").await;
    let fifo_dir = tempfile::tempdir().unwrap();
    let fifo = fifo_dir.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let reason = "not a regular file (a FIFO)";
    assert_refused(&sim, &["-f", path(fifo_dir.path())], &[path(&fifo), reason]).await;
    let zero_dir = tempfile::tempdir().unwrap();
    let zero = zero_dir.path().join("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let reason = "not a regular file (a character device)";
    assert_refused(&sim, &["-f", path(zero_dir.path())], &[path(&zero), reason]).await;
    let ok = tempfile::tempdir().unwrap();
    fs::write(ok.path().join("a.yaml"), sink("a", "")).unwrap();
    let flags = ["-f", path(ok.path()), "--vars", "/etc/passwd"];
    assert_refused(&sim, &flags, &["--vars /etc/passwd", ".properties file"]).await;
    let flags = ["-f", path(ok.path()), "--vars", path(&zero)];
    assert_refused(&sim, &flags, &["--vars", ".properties file"]).await;
    let secret = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", secret.path().join("key")).unwrap();
    let flags = ["-f", path(ok.path()), "--vars", path(secret.path())];
    assert_refused(
        &sim,
        &flags,
        &["key: not a regular file (a character device)"],
    )
    .await;
    let large = ok.path().join("large.yaml");
    fs::write(&large, " ".repeat(4 * 1024 * 1024 + 1)).unwrap();
    let reason = "larger than the 4 MiB limit";
    assert_refused(&sim, &["-f", path(&large)], &[path(&large), reason]).await;
}

/// A directory symlinked into itself is a loop error, not a walk to the depth limit.
#[cfg(unix)]
#[tokio::test]
async fn a_symlink_loop_is_refused_naming_it() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.yaml"), sink("a", "")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("again")).unwrap();
    let again = dir.path().join("again");
    assert_refused(
        &sim,
        &["-f", path(dir.path())],
        &[path(&again), "a symlink loop"],
    )
    .await;
}

/// `.` and `..` are refused in manifests (file and name), and by `restart` and `probe`
/// before any request: the URL would address another resource.
#[tokio::test]
async fn dot_segment_names_are_refused() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    for name in [".", ".."] {
        let manifest = sink(&format!("\"{name}\""), "");
        fs::write(dir.path().join("dots.yaml"), manifest).unwrap();
        let expected = format!("connector name {name:?} is refused");
        assert_refused(&sim, &["-f", path(dir.path())], &["dots.yaml", &expected]).await;
    }
    common::take_requests(&sim).await;
    let out = run("restart", &sim, &[".."]).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("connector name \"..\" cannot be addressed"),
        "{stdout}"
    );
    let out = run("probe", &sim, &["--connector", "."]).await;
    let (stdout, stderr) = text(&out);
    assert!(
        format!("{stdout}{stderr}").contains("connector name \".\" cannot be addressed"),
        "{stdout}\n{stderr}"
    );
    let requests = common::take_requests(&sim).await;
    assert_eq!(requests["total"], 0, "{requests}");
}

/// The same directory twice (or a file inside it again) loads once; a real duplicate
/// still names both places.
#[tokio::test]
async fn the_same_path_twice_loads_once_and_duplicates_name_both_places() {
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.yaml"), sink("a", "")).unwrap();
    let d = path(dir.path());
    let a = dir.path().join("a.yaml");
    let dotted = format!("{d}/./");
    for flags in [
        vec!["-f", d, "-f", d],
        vec!["-f", d, "-f", path(&a), "-f", &dotted],
    ] {
        let out = run("diff", &sim, &flags).await;
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
        assert!(stdout.contains("Plan: 1 to create"), "{stdout}");
    }
    fs::write(dir.path().join("b.yaml"), sink("x", "")).unwrap();
    fs::write(dir.path().join("c.yaml"), sink("a", "")).unwrap();
    let expected = "connector \"a\" is declared twice: in ";
    assert_refused(
        &sim,
        &["-f", d],
        &[expected, "a.yaml (document 1, line 1) and in ", "c.yaml"],
    )
    .await;
}

/// A `--vars` file as Java's `Properties.store` writes it: escaped `=`, `:`, `\`,
/// spaces in keys, `\uXXXX`, plus a continuation line; applied values are decoded.
#[tokio::test]
async fn java_properties_vars_are_decoded_as_java_does() {
    let sim = common::sim("3.9.0").await;
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/java-store.properties");
    let dir = tempfile::tempdir().unwrap();
    let templated = "  eq: \"{{ vars['abc=def'] }}\"\n  path: \"{{ vars.path }}\"\n  display: \"{{ vars.name }}\"\n  spaced: \"{{ vars['a b'] }}\"\n  list: \"{{ vars.list }}\"\n";
    fs::write(dir.path().join("p.yaml"), sink("props", templated)).unwrap();
    let flags = ["-f", path(dir.path()), "--vars", path(&fixture)];
    let out = run("apply", &sim, &flags).await;
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let config: Value = common::http()
        .get(format!("{}/connectors/props/config", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["eq"], "x=y:z");
    assert_eq!(config["path"], "C:\\kafka\\config");
    assert_eq!(config["display"], "café ünïcode");
    assert_eq!(config["spaced"], " leading space");
    assert_eq!(config["list"], "a,b,c");
}

/// Under `reconcile`, a template bomb is rejected with the error in the log, `/livez`
/// keeps answering, and SIGTERM still stops the process.
#[tokio::test(flavor = "multi_thread")]
async fn reconcile_rejects_a_template_bomb_and_keeps_answering() {
    use common::process::{Spawned, Stream, bin};
    let sim = common::sim("3.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let bomb = "  bomb.key: '{% for i in range(10000) %}{% for j in range(10000) %}{{ j }}{% endfor %}{% endfor %}'\n";
    fs::write(dir.path().join("bomb.yaml"), sink("bomb", bomb)).unwrap();
    let mut command = bin();
    command
        .args(["reconcile", "--bind", "127.0.0.1", "--port", "0"])
        .args(["--log-format", "json", "--connect-url", &sim.url()])
        .args(["-f", path(dir.path())]);
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let started = child
        .line("the `reconciling` line", |l| l.contains("\"reconciling\""))
        .await;
    let line: Value = serde_json::from_str(&started).unwrap();
    let addr = line["fields"]["addr"]
        .as_str()
        .or(line["addr"].as_str())
        .unwrap()
        .to_string();
    let refused = child
        .line("the refused pass", |l| l.contains("pass did not converge"))
        .await;
    for part in [
        "bomb.yaml",
        "bomb.key",
        "statements ({% … %}) are not supported",
    ] {
        assert!(refused.contains(part), "{part:?} missing from {refused}");
    }
    let livez = common::http()
        .get(format!("http://{addr}/livez"))
        .send()
        .await
        .unwrap();
    assert_eq!(livez.status().as_u16(), 200);
    child.terminate();
    assert!(child.exit("SIGTERM").await.success());
}
