#!/usr/bin/env bash
# The cost a health checker puts on a REAL Kafka Connect worker, connect-sentinel `serve`
# vs kafka-connect-healthcheck 0.3.0 (from PyPI, in a venv), in one run:
#
#  (a) Connect JVM CPU seconds per minute (utime+stime of every worker JVM from
#      /proc/PID/stat, before and after each window, over clock ticks) with no checker
#      (a baseline, measured before and after the checkers) and with each checker probed
#      at a fixed 1 and 10 probes/s, at 100 and 500 connectors; plus the Connect REST
#      requests the probed worker logged, the checker's own CPU and the probe latencies.
#  (c) probe latency of `/` with wrk (one keep-alive connection) while connect-sentinel
#      polls the 500-connector cluster, and the peer's over a few sequential probes.
#
# The cluster is scripts/real-connect's (a KRaft broker and WORKERS distributed workers
# from Apache Kafka's jars, loopback only). The connectors are FileStreamSource
# connectors (tasks.max 1) reading empty files, so their one task is RUNNING and idle;
# CONNECTOR_KIND=sink makes them FileStreamSink connectors writing into a directory, and
# mixed alternates. Both checkers watch worker 0 with their worker id set to it, as a
# sidecar next to that worker would (`--connect-worker-id 127.0.0.1:PORT`,
# HEALTHCHECK_CONNECT_WORKER_ID): the peer still reads every connector's status on each
# probe, and ours still polls the cluster-wide `?expand=status` list, so the id changes
# what is reported, not what Connect is asked.
#
# Probes come from a fixed-rate generator (Python, open loop: one new connection per
# probe like the kubelet's, PROBE_TIMEOUT each, at most 64 in flight, a bounded count).
# The peer's server is single-threaded, so probes it cannot keep up with queue in its
# accept backlog and it runs back to back: its cost is then its maximum rate.
#
# Usage: bench/real-healthcheck.sh   (needs java 17+, mvn, curl, python3, wrk, cargo)
#   WINDOW=60        seconds per measuring window (WINDOW=15 for a quick run)
#   COUNTS="100 500" connector counts, ascending
#   WORKERS=2  KAFKA=3.9.1  CONNECTOR_KIND=source|sink|mixed  PROBE_TIMEOUT=1
#   SETTLE=20        seconds of quiet after the connectors are RUNNING
#   PEER_LAT_PROBES=10  LAT_SECONDS=10
#   NO_BUILD=1       skip `cargo build --release` and measure the copy the last run made
# About 17 minutes with WINDOW=60 (12 windows), 7 with WINDOW=15.
# Raw results: bench/out/real-healthcheck/ (results.jsonl, table.txt, wrk and logs).
set -euo pipefail
cd "$(dirname "$0")/.."

WINDOW=${WINDOW:-60}
COUNTS=${COUNTS:-100 500}
WORKERS=${WORKERS:-2}
KAFKA=${KAFKA:-3.9.1}
CONNECTOR_KIND=${CONNECTOR_KIND:-source}
PROBE_TIMEOUT=${PROBE_TIMEOUT:-1}
SETTLE=${SETTLE:-20}
PEER_LAT_PROBES=${PEER_LAT_PROBES:-10}
LAT_SECONDS=${LAT_SECONDS:-10}
RATES=(1 10)

missing=()
for tool in java mvn curl python3 wrk cargo; do
  command -v $tool >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "missing: ${missing[*]} (apt-get install openjdk-17-jdk-headless maven curl python3 python3-venv wrk; cargo from rustup)" >&2
  exit 2
fi
[[ $WINDOW =~ ^[0-9]+$ ]] && ((WINDOW >= 5 && WINDOW <= 600)) || { echo "WINDOW must be 5..600 seconds" >&2; exit 2; }
case $CONNECTOR_KIND in source | sink | mixed) ;; *) echo "CONNECTOR_KIND must be source, sink or mixed" >&2; exit 2 ;; esac
for n in $COUNTS; do [[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 2000)) || { echo "COUNTS: 1..2000 each" >&2; exit 2; }; done

VENV=bench/.venv
if [ ! -x "$VENV/bin/kafka-connect-healthcheck" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q kafka-connect-healthcheck==0.3.0
fi
mkdir -p bench/.bin
if [ -n "${NO_BUILD:-}" ] && [ -x bench/.bin/real-sentinel ]; then
  echo "NO_BUILD: measuring the binary built before, bench/.bin/real-sentinel" >&2
else
  cargo build --release --locked -q -p connect-sentinel
  # A copy: others may rebuild target/release with other features during the run.
  cp target/release/connect-sentinel bench/.bin/real-sentinel
fi

OUT=bench/out/real-healthcheck
CLUSTER=$OUT/cluster
rm -rf "$OUT"; mkdir -p "$OUT/data" "$OUT/logs"
RESULTS=$OUT/results.jsonl; : >"$RESULTS"

CHECKER_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$CHECKER_PID" ]; then stop_checker; fi
  scripts/real-connect stop "$CLUSTER" >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "starting a real Connect cluster: Kafka $KAFKA, $WORKERS workers (bench/out/real-healthcheck/cluster)" >&2
mapfile -t URLS < <(scripts/real-connect start "$CLUSTER" --workers "$WORKERS" --kafka "$KAFKA" --owner-pid $$)
((${#URLS[@]} == WORKERS)) || { echo "the cluster did not start" >&2; exit 1; }
URL=${URLS[0]}
WORKER_ID=${URL#http://}
WORKER_PIDS=()
for ((i = 0; i < WORKERS; i++)); do WORKER_PIDS+=("$(cat "$CLUSTER/pids/worker-$i.pid")"); done
WORKER0_LOG=$CLUSTER/logs/worker-0.log
BROKER_PID=$(cat "$CLUSTER/pids/broker.pid")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# create_connectors FROM TO: PUT /connectors/bench-NNNN/config for FROM..TO-1, 8 at once,
# retrying while the group rebalances; then waits (bounded) until all are RUNNING.
create_connectors() {
  python3 - "$URL" "$1" "$2" "$CONNECTOR_KIND" "$(cd "$OUT/data" && pwd)" <<'PY'
import concurrent.futures, json, sys, time, urllib.error, urllib.request
url, first, end, kind, data = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]

def config(i):
    name = "bench-%04d" % i
    if kind == "source" or (kind == "mixed" and i % 2 == 0):
        path = "%s/%s.in" % (data, name)
        open(path, "a").close()
        return name, {"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
                      "tasks.max": "1", "file": path, "topic": "bench-source"}
    return name, {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                  "tasks.max": "1", "file": "%s/%s.out" % (data, name), "topics": "bench-sink"}

def put(i):
    name, cfg = config(i)
    body = json.dumps(cfg).encode()
    for attempt in range(40):
        req = urllib.request.Request("%s/connectors/%s/config" % (url, name), data=body, method="PUT",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                r.read()
                return
        except urllib.error.HTTPError as e:
            if e.code not in (409, 500, 503):
                raise SystemExit("PUT %s: %s %s" % (name, e.code, e.read()[:300]))
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            pass
        time.sleep(min(0.25 * (attempt + 1), 3))
    raise SystemExit("PUT %s: still refused after 40 attempts" % name)

t0 = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    list(ex.map(put, range(first, end)))
print("created %d connectors in %.0f s" % (end - first, time.monotonic() - t0), file=sys.stderr)

deadline = time.monotonic() + 600
while True:
    try:
        with urllib.request.urlopen(url + "/connectors?expand=status", timeout=30) as r:
            st = json.load(r)
        running = sum(1 for c in st.values()
                      if c["status"]["connector"]["state"] == "RUNNING" and c["status"]["tasks"]
                      and all(t["state"] == "RUNNING" for t in c["status"]["tasks"]))
    except Exception as e:
        st, running = {}, 0
    if len(st) == end and running == end:
        break
    if time.monotonic() > deadline:
        raise SystemExit("only %d of %d connectors RUNNING after 600 s" % (running, end))
    time.sleep(2)
print("all %d connectors RUNNING after %.0f s" % (end, time.monotonic() - t0), file=sys.stderr)
PY
}

# window LABEL COUNT RATE [PORT]: one measuring window. A Python generator probes
# 127.0.0.1:PORT/ at RATE per second (RATE 0: no probes) and samples, at the window's
# start and end, the CPU ticks of the workers, the broker and the checker, and the
# probed worker's log (to count the REST requests it served). Appends one JSON line.
window() {
  local label=$1 count=$2 rate=$3 port=${4:-0}
  echo "  window: $label, $count connectors, $rate probes/s, ${WINDOW}s" >&2
  python3 - "$label" "$count" "$rate" "$port" "$WINDOW" "$PROBE_TIMEOUT" "$WORKER0_LOG" \
    "${CHECKER_PID:-0}" "$BROKER_PID" "${WORKER_PIDS[@]}" >>"$RESULTS" <<'PY'
import http.client, json, os, re, sys, threading, time
label, count, rate, port, window, timeout, log = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
    int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
checker, broker, workers = int(sys.argv[8]), int(sys.argv[9]), [int(p) for p in sys.argv[10:]]
tck = os.sysconf("SC_CLK_TCK")

def ticks(pid):
    if pid <= 0:
        return 0
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)

def sample():
    return [ticks(p) for p in workers], ticks(broker), ticks(checker), os.path.getsize(log), time.monotonic()

lock = threading.Lock()
slots = threading.BoundedSemaphore(64)
done = []  # (status or error name, seconds)

def probe():
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        status = resp.status
    except Exception as e:
        status = type(e).__name__
    finally:
        conn.close()
    with lock:
        done.append((status, time.monotonic() - t0))
    slots.release()

before = sample()
start = before[4]
sent = skipped = 0
if rate > 0:
    for i in range(int(rate * window)):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if not slots.acquire(blocking=False):
            skipped += 1
            continue
        threading.Thread(target=probe, daemon=True).start()
        sent += 1
delay = start + window - time.monotonic()
if delay > 0:
    time.sleep(delay)
after = sample()
# Let the probes in flight finish or time out (bounded: PROBE_TIMEOUT + 2 s).
drain = time.monotonic() + timeout + 2
while time.monotonic() < drain:
    with lock:
        if len(done) >= sent:
            break
    time.sleep(0.05)

elapsed = after[4] - before[4]
per_min = lambda d: d / tck * 60 / elapsed
with open(log, "rb") as f:
    f.seek(before[3])
    chunk = f.read(after[3] - before[3]).decode("utf-8", "replace")
rest = len(re.findall(r'"(?:GET|PUT|POST|DELETE|HEAD) /[^"]*" \d{3} ', chunk))
with lock:
    answered = sorted(s for st, s in done if isinstance(st, int))
    failed = [st for st, s in done if not isinstance(st, int)]
def pct(p):
    return answered[min(len(answered) - 1, int(p / 100 * len(answered)))] * 1000 if answered else None
print(json.dumps({
    "label": label, "connectors": count, "rate": rate, "window_s": round(elapsed, 3),
    "workers_cpu_s_per_min": per_min(sum(a - b for a, b in zip(after[0], before[0]))),
    "worker0_cpu_s_per_min": per_min(after[0][0] - before[0][0]),
    "broker_cpu_s_per_min": per_min(after[1] - before[1]),
    "checker_cpu_s_per_min": per_min(after[2] - before[2]) if checker else None,
    "worker0_rest_requests_per_min": rest * 60 / elapsed,
    "probes_sent": sent, "probes_skipped": skipped, "probes_answered": len(answered),
    "probes_failed": len(failed), "failures": sorted(set(failed)),
    "probe_p50_ms": pct(50), "probe_p99_ms": pct(99),
    "loadavg_1m_at_end": float(open("/proc/loadavg").read().split()[0]),
}))
PY
}

wait_http() {  # wait_http URL SECONDS
  local deadline=$((SECONDS + $2))
  until curl -s -o /dev/null --max-time 30 "$1"; do
    ((SECONDS < deadline)) || { echo "no answer from $1 within $2 s" >&2; exit 1; }
    sleep 0.2
  done
}

start_ours() {
  OURS_PORT=$(free_port)
  bench/.bin/real-sentinel serve --connect-url "$URL" --connect-worker-id "$WORKER_ID" \
    --bind 127.0.0.1 --port "$OURS_PORT" --log-level error 2>>"$OUT/logs/sentinel.log" &
  CHECKER_PID=$!
  wait_http "http://127.0.0.1:$OURS_PORT/" 30
  sleep 3  # a few polls before the window
}
start_peer() {
  PEER_PORT=$(free_port)
  HEALTHCHECK_CONNECT_URL="$URL" HEALTHCHECK_PORT="$PEER_PORT" HEALTHCHECK_CONNECT_WORKER_ID="$WORKER_ID" \
    HEALTHCHECK_LOG_LEVEL=ERROR "$VENV/bin/kafka-connect-healthcheck" 2>>"$OUT/logs/peer.log" &
  CHECKER_PID=$!
  wait_http "http://127.0.0.1:$PEER_PORT/ping" 30
  sleep 1
}
# SIGTERM, then SIGKILL after 10 s: the peer, busy with the probes queued in its backlog,
# went on working for over ten minutes after SIGTERM in one run.
stop_checker() {
  local deadline=$((SECONDS + 10))
  kill "$CHECKER_PID" 2>/dev/null || true
  while kill -0 "$CHECKER_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$CHECKER_PID" 2>/dev/null; then
    echo "  pid $CHECKER_PID still running 10 s after SIGTERM: SIGKILL" >&2
    kill -KILL "$CHECKER_PID" 2>/dev/null || true
  fi
  wait "$CHECKER_PID" 2>/dev/null || true
  CHECKER_PID=""
  sleep 2  # let the last requests settle before the next window
}

have=0
LAST=""
for n in $COUNTS; do
  ((n > have)) || continue
  echo "connectors: $have -> $n ($CONNECTOR_KIND)" >&2
  create_connectors "$have" "$n"
  have=$n
  LAST=$n
  sleep "$SETTLE"
  window baseline "$n" 0
  for rate in "${RATES[@]}"; do
    start_ours; window connect-sentinel "$n" "$rate" "$OURS_PORT"
    curl -s "http://127.0.0.1:$OURS_PORT/metrics" >"$OUT/sentinel-metrics-$n-$rate.txt" || true
    stop_checker
  done
  for rate in "${RATES[@]}"; do
    start_peer; window kafka-connect-healthcheck "$n" "$rate" "$PEER_PORT"; stop_checker
  done
  window baseline "$n" 0
done

# (c) Latency at the largest count: ours under wrk, the peer over a few sequential probes.
echo "latency at $LAST connectors" >&2
start_ours
curl -s "http://127.0.0.1:$OURS_PORT/metrics" >"$OUT/sentinel-metrics-before-wrk.txt"
wrk -t1 -c1 -d"${LAT_SECONDS}s" --latency "http://127.0.0.1:$OURS_PORT/" >"$OUT/wrk-sentinel.txt"
curl -s "http://127.0.0.1:$OURS_PORT/metrics" >"$OUT/sentinel-metrics.txt"
curl -s "http://127.0.0.1:$OURS_PORT/" >"$OUT/sentinel-answer.json"
stop_checker
start_peer
: >"$OUT/peer-latency.txt"
for _ in $(seq "$PEER_LAT_PROBES"); do
  curl -s -o "$OUT/peer-answer.json" --max-time 120 -w '%{time_total}\n' "http://127.0.0.1:$PEER_PORT/" >>"$OUT/peer-latency.txt" || echo fail >>"$OUT/peer-latency.txt"
done
stop_checker

python3 - "$RESULTS" "$OUT/wrk-sentinel.txt" "$OUT/peer-latency.txt" "$LAST" "$KAFKA" "$WORKERS" "$CONNECTOR_KIND" \
  "$WINDOW" "$PROBE_TIMEOUT" "$LAT_SECONDS" <<'PY' | tee "$OUT/table.txt"
import json, re, statistics, sys
results, wrkf, peerf, last, kafka, workers, kind, window, timeout, lat_s = sys.argv[1:11]
rows = [json.loads(l) for l in open(results)]
def f(v, fmt="%.2f"):
    return "-" if v is None else fmt % v
print("Real Kafka Connect %s, %s workers, FileStream%s connectors (tasks.max 1, all RUNNING); both checkers"
      " watch worker 0 (worker id set); %s s windows; probes: new connection each, %s s timeout"
      % (kafka, workers, {"source": "Source", "sink": "Sink", "mixed": "Source/Sink"}[kind], window, timeout))
print("CPU: utime+stime of all worker JVMs, seconds per minute; 'extra' = over the mean of the two baselines")
for n in sorted({r["connectors"] for r in rows}):
    rs = [r for r in rows if r["connectors"] == n]
    base = [r for r in rs if r["label"] == "baseline"]
    b = statistics.mean(r["workers_cpu_s_per_min"] for r in base)
    noise = max(r["workers_cpu_s_per_min"] for r in base) - min(r["workers_cpu_s_per_min"] for r in base)
    print()
    print("%d connectors: baseline %s CPU s/min (two baselines %s apart); machine load average %s..%s"
          % (n, f(b), f(noise), f(min(r.get("loadavg_1m_at_end", 0) for r in rs), "%.1f"),
             f(max(r.get("loadavg_1m_at_end", 0) for r in rs), "%.1f")))
    print("%-29s %5s %9s %7s %10s %10s %11s %9s %9s" % ("", "rate", "CPU s/min", "extra", "REST req/m",
          "own CPU", "answered", "p50 ms", "p99 ms"))
    for r in rs:
        print("%-29s %5s %9s %7s %10s %10s %11s %9s %9s" % (
            r["label"], "%g/s" % r["rate"] if r["rate"] else "-", f(r["workers_cpu_s_per_min"]),
            f(r["workers_cpu_s_per_min"] - b) if r["rate"] else "", "%.0f" % r["worker0_rest_requests_per_min"],
            f(r["checker_cpu_s_per_min"]), "%d/%d" % (r["probes_answered"], r["probes_sent"]) if r["rate"] else "",
            f(r["probe_p50_ms"], "%.3g"), f(r["probe_p99_ms"], "%.3g")))
    for rate in sorted({r["rate"] for r in rs if r["rate"]}):
        o = next(r for r in rs if r["label"] == "connect-sentinel" and r["rate"] == rate)
        p = next(r for r in rs if r["label"] == "kafka-connect-healthcheck" and r["rate"] == rate)
        oe, pe = o["workers_cpu_s_per_min"] - b, p["workers_cpu_s_per_min"] - b
        if oe > noise:
            extra = "%.1fx" % (pe / oe)
        else:
            extra = "> %.1fx (ours within the baseline noise)" % (pe / max(noise, 0.01))
        print("  ratio at %g/s (peer / ours): Connect CPU %.2fx, extra Connect CPU %s, REST requests %.0fx"
              % (rate, p["workers_cpu_s_per_min"] / o["workers_cpu_s_per_min"], extra,
                 p["worker0_rest_requests_per_min"] / max(o["worker0_rest_requests_per_min"], 1e-9)))

def ms(v):
    m = re.match(r"([0-9.]+)([a-z]+)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[m.group(2)]
w = {l.split()[0]: l.split()[1] for l in open(wrkf) if re.match(r"\s+(50|99)%", l)}
rps = next(l.split()[1] for l in open(wrkf) if l.startswith("Requests/sec"))
peer = [float(x) * 1000 for x in open(peerf) if x.strip() != "fail"]
fails = sum(1 for x in open(peerf) if x.strip() == "fail")
print()
print("Probe latency of / at %s connectors (ours: wrk -t1 -c1 -d%ss, keep-alive; the peer: %d sequential curl probes)"
      % (last, lat_s, len(peer) + fails))
if peer:
    ps = sorted(peer)
    o50, o99 = ms(w["50%"]), ms(w["99%"])
    print("%-14s %17s %26s %12s" % ("", "connect-sentinel", "kafka-connect-healthcheck", "ratio"))
    print("%-14s %17.3f %26.1f %11.0fx" % ("p50 (ms)", o50, statistics.median(ps), statistics.median(ps) / o50))
    print("%-14s %17.3f %26.1f %11.0fx" % ("p99 (ms)", o99, ps[-1], ps[-1] / o99))
    print("(the peer's p99 is the max of its %d probes%s; wrk: %s req/s on one connection)"
          % (len(ps), ", %d failed" % fails if fails else "", rps))
else:
    print("the peer answered none of its probes")
PY
echo "raw results: $OUT/ (results.jsonl, table.txt, wrk-sentinel.txt, peer-latency.txt)" >&2
