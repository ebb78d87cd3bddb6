//! The `connect-sim` binary: flags, the bound address on stdout, seeding from a file.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and reads the bound address from its first stdout line.
fn start(args: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_connect-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("connect-sim starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Server(child), line.trim().to_string())
}

/// The first stdout line is the bound address; flags shape what the API reports.
#[tokio::test]
async fn prints_the_bound_address_and_honours_flags() {
    let seed = tempfile_with(r#"{"connectors":[{"name":"seeded","type":"sink"}]}"#);
    let (_server, addr) = start(&[
        "--kafka-version",
        "3.4.1",
        "--worker-ids",
        "a:1,b:2",
        "--seed",
        &seed,
    ]);
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    let root: serde_json::Value = common::get_json(&format!("http://{addr}/")).await;
    assert_eq!(root["version"], "3.4.1");
    let status: serde_json::Value =
        common::get_json(&format!("http://{addr}/connectors/seeded/status")).await;
    assert_eq!(status["connector"]["worker_id"], "a:1");
    let stop = common::client()
        .put(format!("http://{addr}/connectors/seeded/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(stop.status(), 404, "stop does not exist before 3.5");
}

/// Invalid flags are refused with a clear message and a non-zero exit.
#[test]
fn invalid_flags_are_refused() {
    for (flag, value, expected) in [
        ("--kafka-version", "three", "invalid Kafka version"),
        ("--basic-auth", "nocolon", "expected user:password"),
        ("--workers", "0", "0 is not in 1.."),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_connect-sim"))
            .args([flag, value])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{flag} {value}: {stderr}");
    }
}

/// A seed file that is not valid is refused at start-up, naming the file.
#[test]
fn invalid_seed_file_is_refused() {
    let seed = tempfile_with(r#"{"connectors":[{"name":"a","state":"WEIRD"}]}"#);
    let out = Command::new(env!("CARGO_BIN_EXE_connect-sim"))
        .args(["--listen", "127.0.0.1:0", "--seed", &seed])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&seed) && stderr.contains("invalid connector state"),
        "{stderr}"
    );
}

fn tempfile_with(content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("connect-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("seed-{}.json", content.len()));
    std::fs::write(&path, content).unwrap();
    path.to_string_lossy().into_owned()
}

/// The README's main command seeds `examples/sim-seed.json`: it loads, and every
/// seeded config passes the simulator's own validation (spec §14).
#[tokio::test]
async fn example_seed_loads_and_validates() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sim-seed.json");
    let (_server, addr) = start(&["--seed", seed]);
    let client = common::client();
    let all: serde_json::Value = client
        .get(format!(
            "http://{addr}/connectors?expand=info&expand=status"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = all.as_object().unwrap();
    assert_eq!(all.len(), 6);
    for (name, entry) in all {
        let config = &entry["info"]["config"];
        let class = config["connector.class"].as_str().unwrap();
        let url = format!("http://{addr}/connector-plugins/{class}/config/validate");
        let report: serde_json::Value = client
            .put(url)
            .json(config)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(report["error_count"], 0, "{name}: {report}");
    }
    assert_eq!(
        all["s3-archive-sink"]["status"]["tasks"][1]["state"],
        "FAILED"
    );
}

/// `--mask-secrets` without a value shows secrets as Confluent Cloud's mask; with one,
/// as that.
#[tokio::test]
async fn mask_secrets_flag_masks_config_reads() {
    let seed = tempfile_with(
        r#"{"connectors":[{"name":"m","type":"source","config":{"connector.class":"io.confluent.connect.jdbc.JdbcSourceConnector","connection.url":"jdbc:x","topic.prefix":"t","connection.password":"pw-seeded"}}]}"#,
    );
    for (flags, mask) in [
        (vec!["--mask-secrets"], "****************"),
        (vec!["--mask-secrets", "[hidden]"], "[hidden]"),
    ] {
        let mut args = vec!["--seed", seed.as_str()];
        args.extend(flags);
        let (_server, addr) = start(&args);
        let config: serde_json::Value =
            common::get_json(&format!("http://{addr}/connectors/m/config")).await;
        assert_eq!(config["connection.password"], mask, "{config}");
        assert_eq!(config["topic.prefix"], "t");
    }
}
