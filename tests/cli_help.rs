//! The product binary's command-line surface.

use assert_cmd::Command;

/// `--help` describes the tool and exits 0; an unknown subcommand is a usage error (2).
#[test]
fn help_and_usage_errors() {
    let help = Command::cargo_bin("connect-sentinel")
        .unwrap()
        .arg("--help")
        .assert()
        .success();
    let out = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    assert!(out.contains("Kafka Connect"), "{out}");
    Command::cargo_bin("connect-sentinel")
        .unwrap()
        .arg("no-such-command")
        .assert()
        .code(2);
}

fn stdout(args: &[&str]) -> String {
    let done = Command::cargo_bin("connect-sentinel")
        .unwrap()
        .args(args)
        .assert()
        .success();
    String::from_utf8(done.get_output().stdout.clone()).unwrap()
}

/// `--help` groups flags by purpose, and never shows an empty or doubled default.
#[test]
fn help_groups_flags_and_shows_each_default_once() {
    let groups: [(&str, &[&str]); 4] = [
        (
            "serve",
            &[
                "Server:",
                "Connection:",
                "Scope:",
                "Auto-restart:",
                "Logging:",
            ],
        ),
        (
            "apply",
            &["Manifests:", "Writing:", "Output:", "Connection:"],
        ),
        ("reconcile", &["Reconcile:", "Server:", "Kubernetes:"]),
        ("status", &["Output:", "Scope:", "Connection:"]),
    ];
    for (command, headings) in groups {
        let help = stdout(&[command, "--help"]);
        for heading in headings {
            assert!(
                help.contains(&format!("\n{heading}\n")),
                "{command}: {heading}\n{help}"
            );
        }
        assert!(!help.contains(r#"[default: ""]"#), "{command}:\n{help}");
        for line in help.lines() {
            assert!(line.matches("[default:").count() <= 1, "{command}: {line}");
        }
    }
}

/// Completion scripts and man pages come from the CLI definition.
#[test]
fn completions_and_man_pages_are_generated() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout(&["completions", shell]);
        assert!(script.contains("reconcile"), "{shell}: {script}");
        assert!(script.contains("poll-interval"), "{shell}: {script}");
    }
    let page = stdout(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH connect-sentinel"),
        "{page}"
    );
    assert!(page.contains("reconcile"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    stdout(&["man", "--dir", dir.path().to_str().unwrap()]);
    let serve = std::fs::read_to_string(dir.path().join("connect-sentinel-serve.1")).unwrap();
    assert!(serve.contains("poll\\-interval"), "{serve}");
}
