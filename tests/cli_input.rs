//! Bad input through the binary: every value that used to panic or be accepted and
//! then fail forever is refused at start-up, exit 2, with a message naming the flag
//! (and never the secret it carried).

mod common;

use assert_cmd::Command;

const HUGE: &str = "18446744073709551615s";

/// The binary with `args`, run to its exit (bounded); exit code and stderr.
fn refused(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command = Command::cargo_bin("connect-sentinel").unwrap();
    command.args(args).timeout(common::PATIENCE);
    command.env_remove("HEALTHCHECK_BASIC_AUTH");
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().unwrap();
    let (stdout, stderr) = common::text(&out);
    (out.status.code(), stdout, stderr)
}

fn assert_refused(args: &[&str], flag: &str) -> String {
    let (code, stdout, stderr) = refused(args, &[]);
    assert_eq!(code, Some(2), "{args:?}: {stdout}{stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(stderr.contains(flag), "{args:?} names {flag}: {stderr}");
    assert!(stderr.starts_with("connect-sentinel: error: "), "{stderr}");
    stderr
}

/// Every duration and schedule flag: a value past the clock is a clear error naming
/// the flag, never a panic (each of these panicked at start-up or later at run time).
#[test]
fn overflowing_durations_are_refused_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["serve", "--poll-interval", "4000000000000000000s"],
            "--poll-interval",
        ),
        (&["serve", "--max-age", HUGE], "--max-age"),
        (&["serve", "--grace-period", HUGE], "--grace-period"),
        (&["serve", "--connect-timeout", HUGE], "--connect-timeout"),
        (
            &["serve", "--restart-reset-after", HUGE],
            "--restart-reset-after",
        ),
        (&["reconcile", "-f", ".", "--interval", HUGE], "--interval"),
        (&["reconcile", "-f", ".", "--debounce", HUGE], "--debounce"),
        (
            &["reconcile", "-f", ".", "--lease-duration", HUGE],
            "--lease-duration",
        ),
        (&["apply", "-f", ".", "--timeout", HUGE], "--timeout"),
        (
            &["apply", "-f", ".", "--retry-backoff", HUGE],
            "--retry-backoff",
        ),
        (&["probe", "--timeout", HUGE], "--timeout"),
        (&["restart", "a", "--timeout", HUGE], "--timeout"),
        #[cfg(feature = "demo")]
        (&["demo", "--duration", HUGE], "--duration"),
    ];
    for (args, flag) in cases {
        let stderr = assert_refused(args, flag);
        assert!(stderr.contains("at most 10 years"), "{stderr}");
    }
}

/// `demo --fail-every <huge>` names the flag the user typed, once, and nothing internal.
#[cfg(feature = "demo")]
#[test]
fn demo_fail_every_names_only_its_own_flag() {
    let stderr = assert_refused(&["demo", "--fail-every", HUGE], "--fail-every");
    assert_eq!(stderr.matches("--fail-every").count(), 1, "{stderr}");
    assert!(!stderr.contains("restart"), "{stderr}");
}

/// A restart schedule entry past the clock panicked at the first restart; now it is
/// refused before serving.
#[test]
fn a_restart_backoff_past_the_clock_is_refused() {
    let args = [
        "serve",
        "--auto-restart",
        "--restart-backoff",
        "0s,300000000000years",
    ];
    let stderr = assert_refused(&args, "--restart-backoff");
    assert!(stderr.contains("too long"), "{stderr}");
}

/// A `--max-age` at or below the poll interval made `/` answer 503 forever.
#[test]
fn max_age_at_or_below_the_poll_interval_is_refused() {
    for max_age in ["2s", "1s"] {
        let args = ["serve", "--poll-interval", "2s", "--max-age", max_age];
        let stderr = assert_refused(&args, "--max-age");
        assert!(stderr.contains("more than --poll-interval 2s"), "{stderr}");
    }
}

/// A token with a control character (a trailing newline from `$(cat token)`) failed
/// every poll as "Connect unreachable"; now each command refuses it, naming the flag
/// and never showing the token.
#[test]
fn a_bearer_token_no_header_can_carry_is_refused_unshown() {
    let env = [("HEALTHCHECK_BEARER_TOKEN", "CANARY-t0ken-4242\n")];
    for command in [&["serve", "--port", "0"][..], &["status"], &["probe"]] {
        let (code, stdout, stderr) = refused(command, &env);
        assert_eq!(code, Some(2), "{command:?}: {stdout}{stderr}");
        let all = format!("{stdout}{stderr}");
        assert!(all.contains("--bearer-token"), "{command:?}: {all}");
        assert!(
            !all.contains("CANARY"),
            "{command:?} leaks the token: {all}"
        );
    }
}

/// TLS files that cannot be used say which file and what failed to parse (reqwest's
/// own text was only "builder error").
#[test]
fn tls_errors_name_the_file_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let text = dir.path().join("text.pem");
    std::fs::write(&text, "not a certificate\n").unwrap();
    let (garbage, text) = (garbage.to_str().unwrap(), text.to_str().unwrap());
    let url = ["status", "--connect-url", "https://127.0.0.1:1"];
    let cases: [(&[&str], String); 3] = [
        (
            &["--tls-ca-file", garbage],
            format!("invalid CA file {garbage}: certificate 1 cannot be parsed"),
        ),
        (
            &["--tls-client-cert", text, "--tls-client-key", text],
            format!("client certificate {text} holds no PEM certificate"),
        ),
        (
            &["--tls-client-cert", garbage, "--tls-client-key", garbage],
            format!("client key {garbage} holds no usable PEM private key"),
        ),
    ];
    for (flags, expected) in cases {
        let args: Vec<&str> = url.iter().chain(flags).copied().collect();
        let (code, _, stderr) = refused(&args, &[]);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("builder error"), "{stderr}");
    }
}

/// A YAML file past the parser's safety limits reads as a sentence, not a Rust debug
/// form (`budget breached: Documents { documents: 1025 }`).
#[test]
fn a_yaml_budget_breach_reads_as_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.yaml");
    std::fs::write(&file, "---\nname: a\n".repeat(1100)).unwrap();
    let (code, _, stderr) = refused(&["diff", "-f", file.to_str().unwrap()], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the file holds more than 1024 documents (1025)"),
        "{stderr}"
    );
    assert!(!stderr.contains("Documents {"), "{stderr}");
}

/// Durations at the limit run: a failure is scheduled ten years out without
/// overflowing the clock, and the server keeps answering.
#[tokio::test(flavor = "multi_thread")]
async fn durations_at_the_limit_run() {
    use common::process::{Spawned, Stream, bin};
    let sim = common::sim("3.9.0").await;
    let failed = serde_json::json!({"state": "FAILED", "trace": "boom"});
    let seed = serde_json::json!({"connectors": [{"name": "a", "tasks": [failed]}]});
    common::seed(&sim, seed).await;
    let ten_years = "3650days";
    let mut command = bin();
    command
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--auto-restart",
        ])
        .args(["--connect-url", &sim.url(), "--poll-interval", "20ms"])
        .args(["--restart-backoff", &format!("{ten_years},{ten_years}")])
        .args(["--grace-period", ten_years, "--max-age", ten_years])
        .args(["--restart-reset-after", ten_years]);
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let start = child
        .line("the start line", |l| l.contains("serving"))
        .await;
    let addr = start
        .split("addr=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let url = format!("http://{addr}/remediation");
    let entry = common::eventually("a scheduled restart", || async {
        let body = common::json_at(&url).await?;
        body["connectors"].get(0).cloned()
    })
    .await;
    assert_eq!(entry["attempts"], 0, "{entry}");
    child.terminate();
    assert!(child.exit("SIGTERM").await.success(), "{:?}", child.seen);
}
