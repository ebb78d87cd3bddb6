//! What the fault matrix checks of `serve` while a fault lasts: `/ping` and `/livez`
//! answer 200 every time within a kubelet-like 1 s client deadline (a new connection
//! per probe), and every 503 of `/` or `/readyz` says why. The highest `/ping` and
//! `/livez` latency seen is printed (the target is under 50 ms; the scenario does not
//! depend on it: the machine is shared).

use std::time::Duration;

use serde_json::Value;
use tokio::{sync::watch, task::JoinHandle, time::Instant};

/// How long one probe may take before it counts as unanswered.
const PROBE_DEADLINE: Duration = Duration::from_secs(1);

/// Time between two rounds of probes.
const EVERY: Duration = Duration::from_millis(100);

/// Probes running in the background until [`Sampler::finish`].
pub struct Sampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<Seen>,
}

/// What the probes saw.
#[derive(Default)]
struct Seen {
    rounds: usize,
    max_ping: Duration,
    max_livez: Duration,
    /// Probes that failed, with what they got.
    problems: Vec<String>,
    /// 503s of `/` and `/readyz` (each with a reason).
    unavailable: usize,
}

impl Sampler {
    /// Starts probing `base` (serve's URL).
    pub fn start(base: &str) -> Sampler {
        let (stop, stopped) = watch::channel(false);
        let base = base.to_string();
        let task = tokio::spawn(async move { sample(&base, stopped).await });
        Sampler { stop, task }
    }

    /// Stops probing; prints the latencies and fails naming every probe that was not
    /// answered in time or a 503 without a reason. `fault` names the fault.
    pub async fn finish(self, fault: &str) {
        let _ = self.stop.send(true);
        let seen = self.task.await.expect("the sampler runs to its end");
        eprintln!(
            "fault matrix, {fault}: {} rounds, max /ping {:.1} ms, max /livez {:.1} ms \
             (target < 50 ms), {} 503s of / or /readyz, each with a reason",
            seen.rounds,
            ms(seen.max_ping),
            ms(seen.max_livez),
            seen.unavailable
        );
        assert!(seen.rounds > 0, "{fault}: no probe round ran");
        assert!(
            seen.problems.is_empty(),
            "{fault}: {} probe(s) failed:\n{}",
            seen.problems.len(),
            seen.problems.join("\n")
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One round every [`EVERY`] until told to stop.
async fn sample(base: &str, mut stopped: watch::Receiver<bool>) -> Seen {
    let _ = crate::http::client(); // installs the crypto provider
    let client = reqwest::Client::builder()
        .timeout(PROBE_DEADLINE)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut seen = Seen::default();
    while !*stopped.borrow() {
        round(&client, base, &mut seen).await;
        let _ = tokio::time::timeout(EVERY, stopped.changed()).await;
    }
    seen
}

async fn round(client: &reqwest::Client, base: &str, seen: &mut Seen) {
    seen.rounds += 1;
    for path in ["/ping", "/livez"] {
        let started = Instant::now();
        let (status, body) = probe(client, &format!("{base}{path}")).await;
        let took = started.elapsed();
        let max = if path == "/ping" {
            &mut seen.max_ping
        } else {
            &mut seen.max_livez
        };
        *max = (*max).max(took);
        if status != 200 {
            seen.problems
                .push(format!("{path}: {status} after {took:?}: {body}"));
        }
    }
    for path in ["/", "/readyz"] {
        let (status, body) = probe(client, &format!("{base}{path}")).await;
        match status {
            200 => {}
            503 if has_reason(&body) => seen.unavailable += 1,
            _ => seen.problems.push(format!("{path}: {status} {body}")),
        }
    }
}

/// A 503 body that says why: `reason` (`/readyz`), `error` or failures (`/`).
fn has_reason(body: &Value) -> bool {
    let text = |key: &str| body[key].as_str().is_some_and(|s| !s.is_empty());
    let failures = body["failures"].as_array().is_some_and(|f| !f.is_empty());
    text("reason") || text("error") || failures
}

/// (status, body); status 0 and the error when unanswered within the deadline.
async fn probe(client: &reqwest::Client, url: &str) -> (u16, Value) {
    match client.get(url).send().await {
        Ok(answer) => {
            let status = answer.status().as_u16();
            let text = answer.text().await.unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// Fails when the sidecar's stderr holds a panic.
pub fn no_panics(logs: &str) {
    let panics = logs.lines().filter(|l| l.contains("panicked")).count();
    assert_eq!(panics, 0, "the sidecar panicked:\n{logs}");
}
