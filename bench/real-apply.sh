#!/usr/bin/env bash
# Declared connectors against REAL Kafka Connect (scripts/real-connect: a KRaft broker and
# 3 distributed workers on loopback): the wall time of `apply` creating 200 FileStream sink
# connectors with the default concurrency (16) vs `--concurrency 1`, timed with hyperfine
# (or /usr/bin/time when it is missing), and the 409 / rebalance-500 answers Connect gave
# (each one retried by apply), counted by a small forwarding proxy in front of worker 0.
# Every run starts from no connectors (deleted with `apply --prune --force` of an empty
# set). Starts and stops its own cluster; loopback only; every wait is bounded.
#
# Usage: bench/real-apply.sh [--kafka 3.9.1|4.3.1] [--runs N]   (java, mvn, curl, python3)
#   BIN=target/debug/connect-sentinel bench/real-apply.sh   skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
KAFKA=3.9.1 RUNS=2 COUNT=200
while (($#)); do
  case $1 in
    --kafka) KAFKA=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: $0 [--kafka X.Y.Z] [--runs N]" >&2; exit 2 ;;
  esac
done
for tool in curl python3; do command -v $tool >/dev/null || { echo "$tool is required" >&2; exit 2; }; done
if [ -z "${BIN:-}" ]; then
  cargo build --release -q --bin connect-sentinel
  BIN=./target/release/connect-sentinel
fi

work=$(mktemp -d /tmp/decl-bench-XXXXXX)
proxy_pid=""
cleanup() {
  [ -s "$work/apply.err" ] && { echo "apply's errors:" >&2; tail -5 "$work/apply.err" >&2; }
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  scripts/real-connect stop "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "starting a 3-worker Kafka $KAFKA cluster…" >&2
URLS=$(scripts/real-connect start "$work/cluster" --workers 3 --kafka "$KAFKA" --owner-pid $$)
WORKER=${URLS%%$'\n'*}

# The proxy: forwards every request to worker 0 and appends "METHOD PATH STATUS" to a log.
cat >"$work/proxy.py" <<'PY'
import http.client, sys, threading, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
target, log_path, port_file = urllib.parse.urlparse(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
class Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
        upstream.request(self.command, self.path, body or None, headers)
        answer = upstream.getresponse()
        data = answer.read()
        with lock, open(log_path, "a") as log:
            log.write(f"{self.command} {self.path} {answer.status}\n")
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type") or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_PUT = do_POST = do_DELETE = forward
    def log_message(self, *args): pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
open(port_file, "w").write(str(server.server_address[1]))
server.serve_forever()
PY
python3 "$work/proxy.py" "$WORKER" "$work/requests.log" "$work/proxy.port" &
proxy_pid=$!
for _ in $(seq 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
PROXY="http://127.0.0.1:$(cat "$work/proxy.port")"

mkdir "$work/manifests" "$work/empty"
echo '[]' >"$work/empty/connectors.json"
python3 - "$work/manifests/connectors.json" "$work" "$COUNT" <<'PY'
import json, sys
path, work, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
json.dump([{"name": f"bench-{i:03d}", "config": {
    "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "tasks.max": 1,
    "topics": f"bench-{i:03d}", "file": f"{work}/sink-{i:03d}.txt"}} for i in range(count)], open(path, "w"))
PY

# Deletes every connector (our own prune) and waits, bounded, until Connect lists none.
cat >"$work/reset.sh" <<EOF
#!/usr/bin/env bash
set -e
[ "\$(curl -sf $WORKER/connectors)" = "[]" ] && exit 0
$BIN apply -f $work/empty --prune --force --connect-url $WORKER >/dev/null
for _ in \$(seq 300); do [ "\$(curl -sf $WORKER/connectors)" = "[]" ] && exit 0; sleep 0.2; done
echo "connectors still listed after 60 s" >&2; exit 1
EOF
chmod +x "$work/reset.sh"

APPLY="$BIN apply -f $work/manifests --connect-url $PROXY"
declare -A MEAN CONFLICTS
for variant in default one; do
  flags=""; [ $variant = one ] && flags="--concurrency 1"
  : >"$work/requests.log"
  if command -v hyperfine >/dev/null; then
    hyperfine --style basic --runs "$RUNS" --prepare "$work/reset.sh" \
      --export-json "$work/$variant.json" -n "$variant" "$APPLY $flags >/dev/null 2>>$work/apply.err"
    MEAN[$variant]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$work/$variant.json")
  else
    total=0
    for _ in $(seq "$RUNS"); do
      "$work/reset.sh"
      start=$(date +%s.%N); $APPLY $flags >/dev/null 2>>"$work/apply.err"; end=$(date +%s.%N)
      total=$(python3 -c "print($total + $end - $start)")
    done
    MEAN[$variant]=$(python3 -c "print($total / $RUNS)")
  fi
  CONFLICTS[$variant]=$(awk '$1 != "GET" && ($3 == 409 || $3 == 500) {n++} END {print n+0}' "$work/requests.log")
done
# A final check that the last run left every connector in place.
LISTED=$(curl -sf "$WORKER/connectors" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

python3 - "${MEAN[default]}" "${MEAN[one]}" "${CONFLICTS[default]}" "${CONFLICTS[one]}" "$RUNS" "$LISTED" "$KAFKA" <<'PY'
import sys
default, one, c_default, c_one, runs, listed, kafka = sys.argv[1:]
default, one, runs = float(default), float(one), int(runs)
print(f"\napply of 200 new FileStream sinks, real Kafka {kafka} Connect (3 workers, loopback, 2 cores)")
print(f"  --concurrency 16 (default)  {default:7.2f} s mean of {runs}   409/500 answers retried: {int(c_default) / runs:.1f} per run")
print(f"  --concurrency 1             {one:7.2f} s mean of {runs}   409/500 answers retried: {int(c_one) / runs:.1f} per run")
print(f"  ratio (one at a time / default): {one / default:.1f}x   connectors listed after the last run: {listed}")
PY
