//! `scripts/real-connect` without its prerequisites: the real tier must fail saying what
//! to install, never skip silently.

use std::{os::unix::fs::symlink, process::Command};

/// A PATH with only bash and the coreutils the script needs before its check.
fn bare_path() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for tool in ["bash", "dirname"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        let path = String::from_utf8(found.stdout).unwrap();
        symlink(path.trim(), dir.path().join(tool)).unwrap();
    }
    dir
}

#[test]
fn missing_java_and_maven_are_named_with_what_to_install() {
    let bin = bare_path();
    let cluster = tempfile::tempdir().unwrap();
    let out = Command::new(bin.path().join("bash"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/real-connect"))
        .args(["start", cluster.path().to_str().unwrap()])
        .env("PATH", bin.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for needed in [
        "java",
        "openjdk-17-jdk-headless",
        "mvn",
        "apt-get install maven",
    ] {
        assert!(stderr.contains(needed), "{needed} not named: {stderr}");
    }
}

#[test]
fn unknown_commands_print_the_usage() {
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/real-connect"))
        .arg("frobnicate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("start DIR") && stderr.contains("kill-worker"),
        "{stderr}"
    );
}
