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
