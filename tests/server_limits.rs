//! The HTTP server's limits, from a client's side: a half-sent request and an idle
//! keep-alive connection are closed after the header timeout, connections over the
//! cap wait until one closes, and held-open connections over the cap cost the process
//! no memory.

mod common;

use std::time::Duration;

use common::process::{self, Spawned, Stream};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A request head cut off before its blank line.
const HALF: &[u8] = b"GET / HTTP/1.1\r\nHost: sentinel\r\n";
/// A whole request on a keep-alive connection.
const WHOLE: &[u8] = b"GET /livez HTTP/1.1\r\nHost: sentinel\r\n\r\n";
/// A whole request after which the server closes the connection.
const LAST: &[u8] = b"GET /livez HTTP/1.1\r\nHost: sentinel\r\nConnection: close\r\n\r\n";

async fn sending(addr: impl tokio::net::ToSocketAddrs, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// Everything the server sends until it closes the connection (a reset counts as
/// closed); panics naming `what` if it never does.
async fn until_closed(mut stream: TcpStream, what: &str) -> String {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(common::PATIENCE, stream.read_to_end(&mut seen)).await;
    assert!(read.is_ok(), "the server never closed {what}");
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_half_sent_request_and_an_idle_connection_are_closed() {
    let sim = common::sim("3.9.0").await;
    let served = common::serve(&sim, &["--header-timeout", "200ms"]).await;
    let addr = served.running.addr();
    until_closed(sending(addr, HALF).await, "a half-sent request").await;
    let answered = until_closed(sending(addr, WHOLE).await, "an idle connection").await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_cap_wait_until_one_closes() {
    let sim = common::sim("3.9.0").await;
    let flags = ["--max-connections", "2", "--header-timeout", "1h"];
    let served = common::serve(&sim, &flags).await;
    let addr = served.running.addr();
    let (first, _second) = (sending(addr, HALF).await, sending(addr, HALF).await);
    let mut third = sending(addr, LAST).await;
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut byte)).await;
    assert!(early.is_err(), "answered over the cap: {early:?}");
    drop(first);
    let answered = until_closed(third, "the connection over the cap").await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

/// 900 half-sent requests over a cap of 32 grow the process by less than 4 MiB
/// (without the cap each held about 26 KiB).
#[tokio::test(flavor = "multi_thread")]
async fn held_connections_over_the_cap_cost_no_memory() {
    let sim = common::sim("3.9.0").await;
    let mut command = process::serve_json(&sim.url());
    command.args(["--poll-interval", "1h"]).args([
        "--max-connections",
        "32",
        "--header-timeout",
        "1h",
    ]);
    let mut child = Spawned::spawn(command, Stream::Stderr);
    let addr = child.logged_addr().await;
    let mut held = Vec::new();
    for _ in 0..32 {
        held.push(sending(&addr, HALF).await);
    }
    let before = peak_rss(child.id()).await;
    for _ in 0..900 {
        held.push(sending(&addr, HALF).await);
    }
    let after = peak_rss(child.id()).await;
    println!("RSS with 32 held: {before} KiB; with 932 held: {after} KiB");
    assert!(after < before + 4096, "{before} KiB → {after} KiB");
}

/// The `addr` field of the first JSON log line that has one.
/// The highest resident set size of `pid` (KiB) over 20 samples 25 ms apart, so that
/// connections still being accepted are counted.
async fn peak_rss(pid: u32) -> u64 {
    let mut peak = 0;
    for _ in 0..20 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        peak = peak.max(rss);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    peak
}

/// Limits that would serve nobody are refused at start-up, naming the flag.
#[tokio::test]
async fn zero_limits_are_refused_naming_the_flag() {
    let connect = ["--connect-url", "http://127.0.0.1:1", "--port", "0"];
    let cases = [
        (vec!["serve", "--header-timeout", "0s"], "--header-timeout"),
        (
            vec!["reconcile", "-f", ".", "--max-connections", "0"],
            "--max-connections",
        ),
    ];
    for (mut args, flag) in cases {
        args.extend(connect);
        let output = common::run(args.iter().map(|a| a.to_string()).collect()).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("invalid {flag}")), "{stderr}");
    }
}
